from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from litestar.types import Receive, Scope, Send

from server.zoom_sandbox import SandboxConfig, create_sandbox_app
from tests.sandbox.flows import ADMIN_APP, USER_APP, WEBHOOK_URL


class FakeClock:
    """The sandbox's clock, moved by the test; frozen otherwise, so per-second counts are stable."""

    def __init__(self) -> None:
        self.now = datetime(2030, 3, 14, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """A tiny ASGI app standing in for Roomlink's webhook endpoint."""

    received: list[Received] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {name.decode(): value.decode() for name, value in scope["headers"]}
        self.received.append(Received(path=scope["path"], headers=headers, body=body))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def receiver() -> WebhookReceiver:
    return WebhookReceiver()


@pytest.fixture
def config() -> SandboxConfig:
    return SandboxConfig(apps=(USER_APP, ADMIN_APP), webhook_url=WEBHOOK_URL)


@pytest.fixture
def sandbox_app(config: SandboxConfig, clock: FakeClock, receiver: WebhookReceiver) -> Litestar:
    return create_sandbox_app(config, clock=clock, webhook_transport=httpx.ASGITransport(app=receiver))


@pytest.fixture
def client(sandbox_app: Litestar):
    with TestClient(sandbox_app) as test_client:
        yield test_client
