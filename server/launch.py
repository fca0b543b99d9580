"""A one-time launch link from the host product opens a member's session."""

from __future__ import annotations

import secrets
from datetime import timedelta

from litestar import MediaType, Response, get
from litestar.datastructures import Cookie, State
from litestar.openapi import ResponseSpec
from litestar.params import FromPath
from litestar.response import Redirect

from persistence.database import PostgresUnitOfWork, unit_of_work
from server.api.bodies import LaunchLinkOut
from server.api.openapi import answers
from server.auth import CSRF_COOKIE, SESSION_COOKIE, hash_secret, new_secret
from server.clock import utcnow
from server.config import Settings
from server.ui.layout import message_page


async def issue_launch_link(
    uow: PostgresUnitOfWork, settings: Settings, org_id: str, user_id: str, next_path: str
) -> LaunchLinkOut:
    """Stores only the token's hash and commits, so the link works as soon as it is handed out."""
    token = new_secret()
    now = utcnow()
    expires_at = now + timedelta(seconds=settings.launch_link_ttl_s)
    await uow.sessions.add_launch_link(org_id, user_id, hash_secret(token), next_path, now, expires_at)
    await uow.commit()
    return LaunchLinkOut(url=f"{settings.base_url}/launch/{token}", expires_at=expires_at)


@get(
    "/launch/{token:str}",
    operation_id="OpenLaunchLink",
    tags=["browser"],
    status_code=303,
    summary="Open a launch link (in the member's browser)",
    response_description="The member's session cookie is set; redirects to their page (or the link's `next`).",
    responses={
        410: ResponseSpec(str, media_type=MediaType.HTML, description="A page: the link was used, expired or never existed."),
        **answers({429: ("too_many_failed_attempts",), 503: ("database_unavailable", "database_busy")}),
    },
)
async def launch(token: FromPath[str], state: State) -> Response:
    async with unit_of_work() as uow:
        return await _open_session(uow, token, state)


async def _open_session(uow: PostgresUnitOfWork, token: str, state: State) -> Response:
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
