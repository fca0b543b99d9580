"""Demo mode only: a receiver of the events Roomlink sends to the host product (R24), and a page of what it got.

The demo registers an event endpoint pointing here (server/demo.py), so the events of everything done in
the demo arrive signed, as a host product's endpoint would receive them. Each delivery's signature is
checked with the Standard Webhooks library, independently of how Roomlink signed it, against the
endpoint's secrets as they are now.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from datetime import UTC, datetime

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from domain import events
from persistence.database import unit_of_work
from server.ui.demo_pages import demo_only
from server.ui.layout import render

EVENTS_PAGE_PATH = "/demo/events"
RECEIVER_PATH = "/demo/receiver"
#: The demo keeps the latest deliveries only.
KEPT = 300


class ReceivedEvent(msgspec.Struct, frozen=True, kw_only=True):
    endpoint_id: str
    webhook_id: str
    received_at: datetime
    verified: bool
    type: str
    org_id: str
    summary: str
    body: str


class DemoReceiver:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: deque[ReceivedEvent] = deque(maxlen=KEPT)

    def keep(self, event: ReceivedEvent) -> None:
        with self._lock:
            self._received.append(event)

    def newest_first(self) -> list[ReceivedEvent]:
        with self._lock:
            return list(self._received)[::-1]


RECEIVER = DemoReceiver()


@post(f"{RECEIVER_PATH}/{{endpoint_id:str}}", name="demo_receiver", guards=[demo_only], include_in_schema=False, status_code=204)
async def demo_receiver(request: Request, endpoint_id: FromPath[str]) -> Response[None]:
    body = await request.body()
    secrets = await events.signing_secrets(unit_of_work, endpoint_id, datetime.now(UTC))
    if secrets is None:
        return Response(None, status_code=410)  # no such endpoint (any more): Roomlink stops sending here
    headers = {name.lower(): value for name, value in request.headers.items()}
    RECEIVER.keep(_received(endpoint_id, body, headers, [secrets.current, *filter(None, [secrets.previous])]))
    return Response(None, status_code=204)


@get(EVENTS_PAGE_PATH, name="demo_events", guards=[demo_only], include_in_schema=False)
async def demo_events() -> Template:
    return render("demo_events.html", "Events heard", events=RECEIVER.newest_first())


def _received(endpoint_id: str, body: bytes, headers: dict[str, str], secrets: list[str]) -> ReceivedEvent:
    verified = False
    for secret in secrets:
        try:
            Webhook(secret).verify(body, headers)
            verified = True
            break
        except WebhookVerificationError:
            continue
    try:
        event = json.loads(body)
    except ValueError:
        event = {}
    event = event if isinstance(event, dict) else {}
    return ReceivedEvent(
        endpoint_id=endpoint_id,
        webhook_id=headers.get("webhook-id", ""),
        received_at=datetime.now(UTC),
        verified=verified,
        type=str(event.get("type", "?")),
        org_id=str(event.get("org_id", "")),
        summary=summary(event),
        body=json.dumps(event, indent=2, sort_keys=True)[:4000],
    )


def summary(event: dict) -> str:
    """One line a person reads: who or what changed, and how."""
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    kind = str(event.get("type", ""))
    if kind == "member.connection.changed":
        before = data.get("before") or {}
        return (
            f"{data.get('user_id')}: {_connection(before)} → {_connection(data)}"
        )
    if kind == "organization.connection.changed":
        return f"organization connection {data.get('status')}; {data.get('affected_members')} members affected"
    if kind.startswith("meeting."):
        return f"{data.get('user_id')}: “{data.get('topic')}” {data.get('status')}"
    if kind.startswith("session."):
        return f"session {data.get('id')} “{data.get('title')}” {data.get('status')}"
    return kind


def _connection(facts: dict) -> str:
    if facts.get("connected"):
        return f"connected ({facts.get('type')})"
    return f"not connected ({facts.get('reason') or 'no Zoom'})"
