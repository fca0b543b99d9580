"""A one-time launch link from the host product opens a member's session."""

from __future__ import annotations

import secrets
from datetime import timedelta

from litestar import MediaType, Response, get
from litestar.datastructures import Cookie, State
from litestar.response import Redirect

from persistence.database import PostgresUnitOfWork
from server.auth import CSRF_COOKIE, SESSION_COOKIE, hash_secret, new_secret
from server.clock import utcnow
from server.pages import message_page


@get("/launch/{token:str}", operation_id="OpenLaunchLink", tags=["browser"], include_in_schema=True)
async def launch(token: str, uow: PostgresUnitOfWork, state: State) -> Response:
    now = utcnow()
    link = await uow.sessions.consume_launch_link(hash_secret(token), now)
    if link is None:
        return message_page(
            "This link no longer works",
            "Launch links work once and for a few minutes. Open Roomlink again from your product.",
            status_code=410,
        )
    session_token = new_secret()
    csrf_token = secrets.token_urlsafe(24)
    ttl = state.settings.session_ttl_s
    await uow.sessions.add_session(
        link.org_id, link.user_id, hash_secret(session_token), csrf_token, now, now + timedelta(seconds=ttl)
    )
    await uow.commit()
    secure = state.settings.secure_cookies
    return Redirect(
        link.next_path,
        status_code=303,
        cookies=[
            Cookie(key=SESSION_COOKIE, value=session_token, httponly=True, samesite="lax", secure=secure, max_age=ttl, path="/"),
            Cookie(key=CSRF_COOKIE, value=csrf_token, httponly=False, samesite="strict", secure=secure, max_age=ttl, path="/"),
        ],
    )
