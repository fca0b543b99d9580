"""Demo mode only: sign in as any seeded person, and read the emails Roomlink sent."""

from __future__ import annotations

import re
from html import escape
from typing import Annotated

import msgspec
from litestar import Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.params import Body
from litestar.response import Redirect

from domain.model import ConnectionType, MemberRow
from domain.ports import MembersQuery
from persistence.database import PostgresUnitOfWork, unit_of_work
from server.demo import DEMO_ORG, PEOPLE, DemoPerson
from server.launch import issue_launch_link
from server.outbox import LocalSmtpServer, ReceivedEmail
from server.ui.layout import message_page, page
from server.ui.words import REASON_SHORT
from server.ui.zoom_page import ZOOM_PAGE_PATH

SANDBOX_PATH = "/zoom-sandbox/"
OUTBOX_PATH = "/demo/outbox"
#: A link in an email's text; trailing punctuation belongs to the sentence, not the link.
_LINK = re.compile(r"https?://[^\s<>\"']*[^\s<>\"'.,;:!?)]")


class SignInForm(msgspec.Struct, kw_only=True):
    user_id: str


def demo_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Outside demo mode these pages do not exist, even if registered by mistake."""
    if not connection.app.state.settings.demo:
        raise NotFoundException()


@get("/demo", name="demo_sign_in_page", guards=[demo_only], include_in_schema=False)
async def demo_sign_in_page(state: State) -> Response[str]:
    async with unit_of_work(read_only=True) as uow:
        organization = await uow.organizations.get(DEMO_ORG)
        if organization is None:
            return message_page(
                "The demo is not seeded", "Restart `roomlink demo` to seed Northwind again.", status_code=503
            )
        rows = await _member_rows(uow)
    people = "".join(_person_row(person, rows[person.user_id]) for person in PEOPLE if person.user_id in rows)
    body = f"""
<h1>Roomlink demo</h1>
<p class="lead">Sign in as anyone at {escape(organization.name)}: each person is in a different Zoom state.
Signing in opens their Zoom page, as their own product would.</p>
<section class="card" aria-labelledby="people-title">
  <h2 id="people-title">People</h2>
  <table>
    <caption class="visually-hidden">Seeded people and their Zoom connection</caption>
    <thead><tr><th scope="col">Person</th><th scope="col">Role</th><th scope="col">Zoom now</th>
      <th scope="col"><span class="visually-hidden">Sign in</span></th></tr></thead>
    <tbody>{people}</tbody>
  </table>
</section>
<section class="card" aria-labelledby="around-title">
  <h2 id="around-title">Around the demo</h2>
  <ul>{_around_links(state)}</ul>
</section>"""
    return page("Demo sign-in", body)


@post("/demo/sign-in", name="demo_sign_in", guards=[demo_only], include_in_schema=False)
async def demo_sign_in(
    data: Annotated[SignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    state: State,
) -> Response:
    if data.user_id not in {person.user_id for person in PEOPLE}:
        return message_page("Nobody by that name", "Pick a person from the demo sign-in page.", status_code=400)
    async with unit_of_work() as uow:
        link = await issue_launch_link(uow, state.settings, DEMO_ORG, data.user_id, ZOOM_PAGE_PATH)
    return Redirect(link.url, status_code=303)


@get(OUTBOX_PATH, name="demo_outbox", guards=[demo_only], include_in_schema=False)
async def demo_outbox(state: State) -> Response[str]:
    outbox: LocalSmtpServer | None = state.get("outbox")
    if outbox is None:
        raise NotFoundException()
    messages = outbox.messages()[::-1]
    listing = "".join(_email_card(message) for message in messages) or '<p class="muted">No emails yet.</p>'
    body = f"""
<h1>Outbox</h1>
<p class="lead">Every email Roomlink sent in this demo, newest first. <a href="/demo">Back to sign-in</a></p>
{listing}"""
    return page("Outbox", body)


async def _member_rows(uow: PostgresUnitOfWork) -> dict[str, MemberRow]:
    # The members table's own query, so the demo shows what owners see.
    members = await uow.members_table.page(MembersQuery(org_id=DEMO_ORG, limit=200))
    return {row.user_id: row for row in members.items}


def _person_row(person: DemoPerson, row: MemberRow) -> str:
    return f"""
<tr>
  <td>{escape(person.name)}<br><span class="muted">{escape(row.email)}</span></td>
  <td>{escape(row.role.value.title())}</td>
  <td>{_connection_words(row)}</td>
  <td><form class="sign-in" method="post" action="/demo/sign-in">
    <input type="hidden" name="user_id" value="{escape(person.user_id)}">
    <button type="submit">Sign in as {escape(person.name)}</button>
  </form></td>
</tr>"""


def _connection_words(row: MemberRow) -> str:
    if row.connected:
        through = "their own Zoom" if row.type is ConnectionType.PERSONAL else "the organization"
        return f'<span class="ok">Connected</span> — through {through}'
    reason = REASON_SHORT[row.reason] if row.reason else ""
    return f'<span class="bad">Not connected</span> — {escape(reason)}'


def _around_links(state: State) -> str:
    links = [f'<li><a href="{SANDBOX_PATH}">Zoom sandbox</a>: the pretend Zoom that Roomlink talks to.</li>']
    if state.get("outbox") is not None:
        links.append(f'<li><a href="{OUTBOX_PATH}">Outbox</a>: the emails Roomlink sent, such as activation links.</li>')
    return "".join(links)


def _email_card(message: ReceivedEmail) -> str:
    received = message.received_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"""
<article class="card">
  <h2>{escape(message.subject)}</h2>
  <p class="muted">To {escape(message.to)} · {received}</p>
  <div class="message-body">{_linked(message.text)}</div>
</article>"""


def _linked(text: str) -> str:
    """Escapes the text and makes its links clickable."""
    parts = []
    position = 0
    for match in _LINK.finditer(text):
        url = match.group(0)
        parts.append(escape(text[position : match.start()]))
        parts.append(f'<a href="{escape(url)}">{escape(url)}</a>')
        position = match.end()
    parts.append(escape(text[position:]))
    return "".join(parts)
