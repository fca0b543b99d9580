"""A real SMTP server on 127.0.0.1 that keeps what it receives: the demo outbox and the tests' inbox."""

from __future__ import annotations

import asyncio
import email.policy
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType

import msgspec
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"
POLL_SECONDS = 0.02


class ReceivedEmail(msgspec.Struct, frozen=True, kw_only=True):
    to: str
    sender: str
    subject: str
    text: str
    html: str | None
    received_at: datetime


class LocalSmtpServer:
    """Listens on `port` (0 picks a free one); `url` is ready for `parse_smtp_url`."""

    def __init__(self, port: int = 0) -> None:
        self._requested_port = port
        self._received: list[ReceivedEmail] = []
        # aiosmtpd delivers on its own thread; readers are on the caller's.
        self._lock = threading.Lock()
        self._controller: _BoundPortController | None = None

    @property
    def port(self) -> int:
        return self._running().port

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"

    def start(self) -> None:
        if self._controller is not None:
            raise RuntimeError("the local SMTP server is already running")
        # A fixed greeting name spares aiosmtpd a DNS lookup of this machine's name.
        controller = _BoundPortController(
            _Keeper(self._keep), hostname=HOST, port=self._requested_port, server_hostname="localhost"
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        self._running().stop()
        self._controller = None

    def messages(self) -> tuple[ReceivedEmail, ...]:
        """Everything received so far, newest last."""
        with self._lock:
            return tuple(self._received)

    def clear(self) -> None:
        with self._lock:
            self._received.clear()

    async def wait_for(
        self, predicate: Callable[[ReceivedEmail], bool], timeout: float = 5.0
    ) -> ReceivedEmail:
        """The first received message matching `predicate`; TimeoutError if none arrives in time."""
        deadline = time.monotonic() + timeout
        while True:
            match = next((message for message in self.messages() if predicate(message)), None)
            if match is not None:
                return match
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no matching email arrived within {timeout} seconds")
            await asyncio.sleep(POLL_SECONDS)

    def __enter__(self) -> LocalSmtpServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _keep(self, message: ReceivedEmail) -> None:
        with self._lock:
            self._received.append(message)

    def _running(self) -> _BoundPortController:
        if self._controller is None:
            raise RuntimeError("the local SMTP server is not running")
        return self._controller


class _BoundPortController(Controller):
    """A Controller that learns the port the system chose when asked for port 0."""

    def _trigger_server(self) -> None:
        # aiosmtpd connects to `self.port` to finish starting; port 0 must become the real one first.
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class _Keeper:
    """aiosmtpd handler: parses each delivered message and hands it on."""

    def __init__(self, keep: Callable[[ReceivedEmail], None]) -> None:
        self._keep = keep

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self._keep(parse_received(envelope.original_content or b""))
        return "250 Message accepted for delivery"


def parse_received(raw: bytes) -> ReceivedEmail:
    message = BytesParser(policy=email.policy.default).parsebytes(raw)
    return ReceivedEmail(
        to=str(message.get("To", "")),
        sender=str(message.get("From", "")),
        subject=str(message.get("Subject", "")),
        text=_body(message, "plain") or "",
        html=_body(message, "html"),
        received_at=datetime.now(UTC),
    )


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    # SMTP carries CRLF line ends; readers expect the text as it was written.
    return part.get_content().replace("\r\n", "\n")
