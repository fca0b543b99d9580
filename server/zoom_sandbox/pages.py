"""The sandbox's HTML: Zoom's sign-in-and-approve page, its error page, and meeting rooms.

Every value is escaped; every link and form action is built from the request's ASGI
``root_path``, so the pages work whether the sandbox runs alone or mounted under a prefix.
"""

from __future__ import annotations

from html import escape

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath

from server.zoom_sandbox.config import ZoomAppConfig
from server.zoom_sandbox.meetings import start_key_works
from server.zoom_sandbox.state import (
    ROLE_NAMES,
    Account,
    Sandbox,
    ZoomUser,
    zoom_timestamp,
)

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; color: #1f2933; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.5rem; }
.sandbox { background: #fff4ce; padding: .5rem .75rem; border-radius: .4rem; }
.notice { background: #fde2e1; padding: .5rem .75rem; border-radius: .4rem; }
ul { list-style: none; padding-left: 0; } li { margin: .35rem 0; }
.role { color: #52606d; font-size: .9rem; }
button { font-size: 1rem; padding: .45rem 1.1rem; margin-right: .5rem; }
"""


class AuthorizeRequest(msgspec.Struct, kw_only=True, frozen=True):
    """The parameters of Zoom's authorize URL, carried unchanged through the approval form."""

    client_id: str = ""
    redirect_uri: str = ""
    response_type: str = ""
    state: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    login_hint: str | None = None


def html_response(body: str, status_code: int = 200) -> Response[str]:
    return Response(body, status_code=status_code, media_type=MediaType.HTML)


def document(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>"
        f'<p class="sandbox">Zoom sandbox — nothing here talks to the real Zoom.</p>{body}</body></html>'
    )


def error_page(title: str, detail: str) -> str:
    return document(title, f"<h1>{escape(title)}</h1><p>{escape(detail)}</p>")


def authorize_page(
    *,
    action: str,
    app: ZoomAppConfig,
    request: AuthorizeRequest,
    accounts: list[tuple[Account, list[ZoomUser]]],
    notice: str | None = None,
) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(value)}">'
        for name, value in msgspec.structs.asdict(request).items()
        if value is not None
    )
    chosen = (request.login_hint or "").lower()
    groups = "".join(account_group(account, users, chosen) for account, users in accounts)
    kind = "admin-managed" if app.kind == "admin_managed" else "user-managed"
    return document(
        "Sign in to Zoom sandbox",
        f"<h1>Authorize {escape(app.client_id)}</h1>"
        f"<p>This {kind} app asks to use your Zoom account. Choose the Zoom user you sign in as.</p>"
        + (f'<p class="notice">{escape(notice)}</p>' if notice else "")
        + f'<form method="post" action="{escape(action)}">{hidden}'
        + (groups or "<p>There are no active sandbox Zoom users yet.</p>")
        + '<button type="submit" name="decision" value="approve">Approve</button>'
        '<button type="submit" name="decision" value="deny">Deny</button></form>',
    )


def account_group(account: Account, users: list[ZoomUser], chosen_email: str) -> str:
    items = "".join(
        f'<li><label><input type="radio" name="zoom_user_id" value="{escape(user.id)}"'
        f'{" checked" if user.email.lower() == chosen_email else ""}> '
        f"{escape(user.first_name)} {escape(user.last_name)} &lt;{escape(user.email)}&gt; "
        f'<span class="role">{ROLE_NAMES[user.role]}</span></label></li>'
        for user in users
    )
    return f"<h2>{escape(account.name)} <small>({escape(account.id)})</small></h2><ul>{items}</ul>"


@get(["/j/{meeting_id:str}", "/s/{meeting_id:str}"])
async def meeting_room(request: Request, sandbox: NamedDependency[Sandbox], meeting_id: FromPath[str]) -> Response[str]:
    """Where join and start URLs lead: the sandbox has no video, only the meeting's facts."""
    meeting = sandbox.meeting_by_id(int(meeting_id)) if meeting_id.isdigit() else None
    if meeting is None:
        return html_response(error_page("Meeting not found", f"There is no sandbox meeting {meeting_id}."), 404)
    starting = request.scope["path"].startswith("/s/")
    if starting and not start_key_works(sandbox, request.query_params.get("zak", ""), meeting.id):
        return html_response(
            error_page("Start link expired", "This start link has expired or is not valid; get a new one from Zoom."), 410
        )
    host = sandbox.users[meeting.host_id]
    return html_response(
        document(
            meeting.topic,
            f"<h1>{escape(meeting.topic)}</h1>"
            f"<p>{'Starting as host' if starting else 'Joining'} meeting {meeting.id}, "
            f"hosted by {escape(host.email)}, at {zoom_timestamp(meeting.start_time)} "
            f"for {meeting.duration} minutes.</p>",
        )
    )
