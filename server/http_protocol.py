"""HTTP/1.1 for `roomlink serve`: uvicorn's httptools protocol, with the request head bounded in size and time.

uvicorn bounds neither: httptools buffers an unfinished header however long it grows (five unfinished 50 MB
headers cost 225 MB), a complete 10 MB header reaches the app, and a connection that sends its head a byte at
a time stays open forever (uvicorn's keep-alive timeout only runs between requests). Here, per connection:

- the request line and headers together may be ROOMLINK_MAX_HEADER_BYTES (64 KiB by default, as nginx's
  large_client_header_buffers is 4 × 8 KiB): beyond it, 431 and the connection closed, so httptools never
  holds more than that plus one read;
- a request head must be complete within ROOMLINK_HEADER_TIMEOUT_S (10 s by default) of the connection, or
  of its request's first byte: otherwise 408 and the connection closed.

Bodies are not this module's: the app bounds them (server/api/bodies.py). Kept on httptools rather than
switching to h11 (whose h11_max_incomplete_event_size bounds size but not time): httptools parses several
times faster, and the time bound needed a protocol of our own anyway.
"""

from __future__ import annotations

import os
from asyncio import TimerHandle, Transport

import msgspec
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from server.config import header_limits_from_env

MAX_HEADER_BYTES, HEADER_TIMEOUT_S = header_limits_from_env(os.environ)


def _answer(status_line: bytes, code: str, detail: str) -> bytes:
    body = msgspec.json.encode({"status": int(status_line.split()[0]), "code": code, "detail": detail})
    return b"".join(
        [
            b"HTTP/1.1 ", status_line, b"\r\n",
            b"content-type: application/problem+json\r\n",
            b"content-length: ", str(len(body)).encode(), b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
    )


HEADERS_TOO_LARGE = _answer(
    b"431 Request Header Fields Too Large",
    "headers_too_large",
    f"The request line and headers exceed {MAX_HEADER_BYTES} bytes; nothing was done.",
)
HEADERS_TOO_SLOW = _answer(
    b"408 Request Timeout",
    "headers_too_slow",
    f"The request line and headers did not arrive within {HEADER_TIMEOUT_S:g} s; nothing was done.",
)


class _HeadTooLarge(Exception):
    """Raised from a parser callback: httptools stops there, and uvicorn answers through send_400_response."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    max_header_bytes = MAX_HEADER_BYTES
    header_timeout_s = HEADER_TIMEOUT_S

    def connection_made(self, transport: Transport) -> None:
        super().connection_made(transport)
        self._reading_head = True
        self._head_bytes = 0
        self._parsed_head_bytes = 0
        self._head_too_large = False
        self._head_deadline: TimerHandle | None = None
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        reading_head = self._reading_head
        super().data_received(data)
        # Still reading the head after this read: all of it was head (a read that completed the head is not
        # counted, it is at most one read).
        if reading_head and self._reading_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header_bytes:
                self._refuse(HEADERS_TOO_LARGE)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head = True
        self._head_bytes = 0
        self._parsed_head_bytes = 0
        self._arm_head_deadline()

    # What the parser read of the head, however the reads fell: a head that arrives in one read is counted too.
    def on_url(self, url: bytes) -> None:
        self._count_parsed(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_parsed(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def _count_parsed(self, size: int) -> None:
        self._parsed_head_bytes += size
        if self._parsed_head_bytes > self.max_header_bytes:
            self._head_too_large = True
            raise _HeadTooLarge

    def send_400_response(self, msg: str) -> None:
        if self._head_too_large:
            self._refuse(HEADERS_TOO_LARGE)
        else:
            super().send_400_response(msg)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._disarm_head_deadline()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        # What follows is the next request's head; the keep-alive timeout covers the wait for its first byte.
        self._reading_head = True
        self._head_bytes = 0

    def _arm_head_deadline(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(self.header_timeout_s, self._head_too_slow)

    def _disarm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if self._reading_head and not self.transport.is_closing():
            self._refuse(HEADERS_TOO_SLOW)

    def _refuse(self, answer: bytes) -> None:
        self._disarm_head_deadline()
        self.transport.write(answer)
        self.transport.close()
