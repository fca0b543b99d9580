"""Roomlink as the demo serves it: the production app (server/app.py) with the demo's own pages added, and
its outbox, a local SMTP server whose mail a page shows."""

from __future__ import annotations

from collections.abc import Sequence

from litestar import Litestar
from litestar.types import ControllerRouterHandler

from server.app import create_app
from server.config import Settings
from server.northwind import PEOPLE
from server.outbox import LocalSmtpServer
from server.ui.demo_pages import OUTBOX_PATH, SANDBOX_PATH, demo_outbox, demo_sign_in, demo_sign_in_page
from server.ui.demo_receiver import EVENTS_PAGE_PATH, demo_events, demo_receiver

#: The demo's pages (each refuses outside demo mode, settings.demo).
DEMO_ROUTES = [demo_sign_in_page, demo_sign_in, demo_outbox, demo_receiver, demo_events]

#: What each seeded demo person shows, in the words of the pages (server/northwind.py's states).
_DEMO_STATES = {
    "seat": "Zoom through the organization",
    "personal": "their own Zoom",
    "personal_broken": "their own Zoom, which needs reconnecting",
    "none": "not connected: no user with their email in the organization's Zoom account",
    "removed": "not connected: they stopped using the organization's Zoom",
}


def create_demo_app(
    settings: Settings | None = None,
    *,
    outbox: LocalSmtpServer | None = None,
    extra_routes: Sequence[ControllerRouterHandler] = (),
) -> Litestar:
    """`roomlink demo` passes its outbox and the mounted Zoom sandbox; the browser tests pass an outbox."""
    state: dict[str, object] = {"demo_front_door": _front_door(with_outbox=outbox is not None)}
    if outbox is not None:
        state["outbox"] = outbox
    return create_app(settings, extra_routes=[*DEMO_ROUTES, *extra_routes], extra_state=state)


def _front_door(*, with_outbox: bool) -> dict[str, object]:
    """Where the front door says to start in the demo: the people to sign in as, the Zoom sandbox, the outbox,
    the events heard."""
    people = [
        {"user_id": person.user_id, "name": person.name, "role": person.role, "zoom": _DEMO_STATES[person.state]}
        for person in PEOPLE
    ]
    return {
        "people": people,
        "sandbox_path": SANDBOX_PATH,
        "outbox_path": OUTBOX_PATH if with_outbox else None,
        "events_path": EVENTS_PAGE_PATH,
    }
