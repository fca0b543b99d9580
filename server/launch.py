"""A one-time launch link from the host product opens a member's session."""

from __future__ import annotations

import secrets
from datetime import timedelta

from litestar import MediaType, Response, get
from litestar.datastructures import Cookie, State
from litestar.openapi import ResponseSpec
from litestar.params import FromPath
from litestar.response import Redirect

from domain import browser_sessions
from persistence.database import unit_of_work
from server.api.bodies import LaunchLinkOut
from server.api.openapi import answers
from server.auth import CSRF_COOKIE, SESSION_COOKIE, new_secret
from server.clock import utcnow
from server.config import Settings
from server.ui.layout import message_page


async def issue_launch_link(
    settings: Settings, org_id: str, user_id: str, next_path: str, *, require_member: bool = True
) -> LaunchLinkOut:
    """A new link for the member (domain.browser_sessions.issue_launch_link), as the API answers it."""
    token = new_secret()
    cmd = browser_sessions.IssueLaunchLink(
        org_id=org_id,
        user_id=user_id,
        next_path=next_path,
        token=token,
        ttl=timedelta(seconds=settings.launch_link_ttl_s),
        require_member=require_member,
    )
    expires_at = await browser_sessions.issue_launch_link(cmd, unit_of_work, utcnow())
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
    session_token = new_secret()
    csrf_token = secrets.token_urlsafe(24)
    ttl = state.settings.session_ttl_s
    cmd = browser_sessions.OpenLaunchLink(
        token=token, session_token=session_token, csrf_token=csrf_token, session_ttl=timedelta(seconds=ttl)
    )
    opened = await browser_sessions.open_launch_link(cmd, unit_of_work, utcnow())
    if opened is None:
        return message_page(
            "This link no longer works",
            "Launch links work once and for a few minutes. Open Roomlink again from your product.",
            status_code=410,
        )
    secure = state.settings.secure_cookies
    return Redirect(
        opened.next_path,
        status_code=303,
        cookies=[
            Cookie(key=SESSION_COOKIE, value=session_token, httponly=True, samesite="lax", secure=secure, max_age=ttl, path="/"),
            Cookie(key=CSRF_COOKIE, value=csrf_token, httponly=False, samesite="strict", secure=secure, max_age=ttl, path="/"),
        ],
    )
