"""Demo mode only: sign in as any seeded person, and read the emails Roomlink sent."""

from __future__ import annotations

import re
from typing import Annotated

import msgspec
from litestar import Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.params import Body
from litestar.response import Redirect, Template

from domain import integration
from domain.model import ConnectionType, MemberRow
from persistence.database import unit_of_work
from server.launch import issue_launch_link
from server.northwind import DEMO_ORG, PEOPLE, DemoPerson
from server.outbox import LocalSmtpServer, ReceivedEmail
from server.ui.layout import message_page, render
from server.ui.words import REASON_SHORT
from server.ui.zoom_page import ZOOM_PAGE_PATH

SANDBOX_PATH = "/zoom-sandbox/"
OUTBOX_PATH = "/demo/outbox"
#: A link in an email's text; trailing punctuation belongs to the sentence, not the link.
_LINK = re.compile(r"https?://[^\s<>\"']*[^\s<>\"'.,;:!?)]")


class SignInForm(msgspec.Struct, kw_only=True):
    user_id: str
    #: Which of the person's pages to land on (one of PAGES_TO_OPEN); their Zoom page when left out.
    next: str = ZOOM_PAGE_PATH


#: Shortcuts on the demo's sign-in page to the seeded meetings and sessions: (who, page, what it shows).
SHORTCUTS = (
    ("olivia", "/meetings", "Olivia's meetings: one was deleted in Zoom and needs attention"),
    ("arjun", "/meetings", "Arjun's meetings: his Zoom admin locked “Use PMI” on, so Roomlink warns him"),
    ("li", "/sessions", "Li's day: the remote sessions Li hosts, who is booked, and the start link"),
    ("olivia", "/organization/sessions", "The sessions needing attention, as the owner sees them"),
)
PAGES_TO_OPEN = {ZOOM_PAGE_PATH, *(path for _, path, _ in SHORTCUTS)}


async def demo_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Outside demo mode these pages do not exist, even if registered by mistake."""
    if not connection.app.state.settings.demo:
        raise NotFoundException()


@get("/demo", name="demo_sign_in_page", guards=[demo_only], include_in_schema=False)
async def demo_sign_in_page(state: State) -> Template:
    # The members table's own query, so the demo shows what owners see.
    organization, members = await integration.organization_and_members(unit_of_work, DEMO_ORG, 200)
    if organization is None:
        return message_page(
            "The demo is not seeded", "Restart `roomlink demo` to seed Northwind again.", status_code=503
        )
    rows = {row.user_id: row for row in members}
    return render(
        "demo_sign_in.html",
        "Demo sign-in",
        organization_name=organization.name,
        people=[_person(person, rows[person.user_id]) for person in PEOPLE if person.user_id in rows],
        shortcuts=[
            {"user_id": user_id, "next": path, "label": label} for user_id, path, label in SHORTCUTS if user_id in rows
        ],
        sandbox_path=SANDBOX_PATH,
        outbox_path=OUTBOX_PATH if state.get("outbox") is not None else None,
    )


@post("/demo/sign-in", name="demo_sign_in", guards=[demo_only], include_in_schema=False)
async def demo_sign_in(
    data: Annotated[SignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    state: State,
) -> Response:
    if data.user_id not in {person.user_id for person in PEOPLE} or data.next not in PAGES_TO_OPEN:
        return message_page("Nobody by that name", "Pick a person from the demo sign-in page.", status_code=400)
    link = await issue_launch_link(state.settings, DEMO_ORG, data.user_id, data.next, require_member=False)
    return Redirect(link.url, status_code=303)


@get(OUTBOX_PATH, name="demo_outbox", guards=[demo_only], include_in_schema=False)
async def demo_outbox(state: State) -> Template:
    outbox: LocalSmtpServer | None = state.get("outbox")
    if outbox is None:
        raise NotFoundException()
    return render("demo_outbox.html", "Outbox", messages=[_email(message) for message in outbox.messages()[::-1]])


def _person(person: DemoPerson, row: MemberRow) -> dict[str, object]:
    return {
        "user_id": person.user_id,
        "name": person.name,
        "email": row.email,
        "role": row.role.value.title(),
        "connected": row.connected,
        "through": "their own Zoom" if row.type is ConnectionType.PERSONAL else "the organization",
        "reason": REASON_SHORT[row.reason] if row.reason else "",
    }


def _email(message: ReceivedEmail) -> dict[str, object]:
    return {
        "subject": message.subject,
        "to": message.to,
        "received": message.received_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "parts": _with_links(message.text),
    }


def _with_links(text: str) -> list[tuple[str, str | None]]:
    """The text cut into (text, None) and (url, url) parts, so the template can make the links clickable."""
    parts: list[tuple[str, str | None]] = []
    position = 0
    for match in _LINK.finditer(text):
        parts.append((text[position : match.start()], None))
        parts.append((match.group(0), match.group(0)))
        position = match.end()
    parts.append((text[position:], None))
    return parts
