"""The sandbox's HTML: its own page (accounts, users, meetings, calls, scenario buttons), Zoom's
sign-in-and-approve page, its error page, and meeting rooms.

Every value is escaped; every link and form action is built from the request's ASGI
``root_path``, so the pages work whether the sandbox runs alone or mounted under a prefix.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlencode

import msgspec
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType, RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect

from server.zoom_sandbox.config import ZoomAppConfig
from server.zoom_sandbox.control import (
    REMOVAL_EVENTS,
    UserPatch,
    apply_patch,
    check_patch,
    delete_in_zoom,
    delete_user,
    existing_meeting,
    existing_user,
)
from server.zoom_sandbox.meetings import room_meeting, start_key_works
from server.zoom_sandbox.state import (
    ROLE_NAMES,
    Account,
    Sandbox,
    ZoomUser,
    zoom_timestamp,
)
from server.zoom_sandbox.webhooks import (
    app_deauthorized_event,
    deliver,
    deliver_all,
    user_event,
    user_event_recipients,
    user_summary,
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
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
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
    starting = request.scope["path"].startswith("/s/")
    meeting = room_meeting(sandbox, meeting_id, request.query_params.get("zak", "") if starting else None)
    if meeting is None:
        return html_response(error_page("Meeting not found", f"There is no sandbox meeting {meeting_id}."), 404)
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


# The sandbox's own page: what it holds, and a button for each scenario a demo or a person tries.

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
#: The newest accounts, and the first users of each (an account may hold 100,000); the control API lists all.
ACCOUNTS_SHOWN = 20
USERS_SHOWN = 50
CALLS_SHOWN = 30
MEETINGS_SHOWN = 30

Change = Literal["make_member", "make_admin", "deactivate", "reactivate", "pmi_on", "pmi_off", "delete"]

#: Each scenario: its button, the change it makes, and what the page says afterwards.
SCENARIOS: dict[str, tuple[str, UserPatch | None, str]] = {
    "make_member": ("Demote to member", UserPatch(role="member"), "{email} is now a member of its Zoom account."),
    "make_admin": ("Make admin", UserPatch(role="admin"), "{email} is now an admin of its Zoom account."),
    "deactivate": ("Deactivate", UserPatch(status="inactive"), "{email} is deactivated."),
    "reactivate": ("Reactivate", UserPatch(status="active"), "{email} is active again."),
    "pmi_on": (
        "Turn on PMI for scheduled meetings",
        UserPatch(use_pmi_for_scheduled_meetings=True),
        "{email} now schedules meetings in their PMI room.",
    ),
    "pmi_off": (
        "Turn off PMI for scheduled meetings",
        UserPatch(use_pmi_for_scheduled_meetings=False),
        "{email} no longer schedules meetings in their PMI room.",
    ),
    "delete": ("Delete user", None, "{email} is deleted."),
}
DEAUTHORIZED = "The app {client_id} was removed for {email}."


class ChangeForm(msgspec.Struct, kw_only=True):
    change: Change


class DeauthorizeForm(msgspec.Struct, kw_only=True):
    client_id: str
    user_id: str


def _scenarios_for(user: ZoomUser) -> list[str]:
    changes = []
    if user.role == "admin":
        changes.append("make_member")
    elif user.role == "member":
        changes.append("make_admin")
    changes.append("deactivate" if user.status == "active" else "reactivate")
    changes.append("pmi_off" if user.use_pmi_for_scheduled_meetings else "pmi_on")
    changes.append("delete")
    return changes


def _user_view(sandbox: Sandbox, user: ZoomUser) -> dict[str, object]:
    apps = {grant.client_id for grant in sandbox.live_grants(user_id=user.id)}
    return {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role_name": ROLE_NAMES[user.role],
        "status": user.status,
        "pmi": user.pmi,
        "use_pmi_for_scheduled_meetings": user.use_pmi_for_scheduled_meetings,
        "changes": [(change, SCENARIOS[change][0]) for change in _scenarios_for(user)],
        "apps": [
            {"client_id": client_id, "kind": "admin-managed" if sandbox.apps[client_id].kind == "admin_managed" else "user-managed"}
            for client_id in sorted(apps)
        ],
    }


def _account_view(sandbox: Sandbox, account: Account) -> dict[str, object]:
    users = list(sandbox.users_of_account(account.id))
    return {
        "id": account.id,
        "name": account.name,
        "user_count": len(users),
        "hidden": len(users) > USERS_SHOWN,
        "users": [_user_view(sandbox, user) for user in users[:USERS_SHOWN]],
    }


def _done_message(done: str | None, who: str | None, app: str | None) -> str | None:
    if done == "meeting_deleted":
        return f"Meeting {who or ''} is deleted in Zoom; Zoom sent meeting.deleted to the apps of its account."
    if done == "deauthorized":
        return DEAUTHORIZED.format(client_id=app or "", email=who or "")
    if done in SCENARIOS:
        return SCENARIOS[done][2].format(email=who or "")
    return None


@get(["/", "/sandbox"], include_in_schema=False)
async def sandbox_page(request: Request, sandbox: NamedDependency[Sandbox]) -> Response[str]:
    """Accounts, users, roles, PMI settings, meetings and recent calls, with the scenario buttons."""
    params = request.query_params
    meetings = sorted(sandbox.meetings.values(), key=lambda meeting: meeting.created_at, reverse=True)
    hosts = {user_id: user.email for user_id, user in sandbox.users.items()}
    body = _TEMPLATES.get_template("sandbox.html").render(
        root=request.scope.get("root_path", ""),
        settings=sandbox.settings,
        done=_done_message(params.get("done"), params.get("who"), params.get("app")),
        accounts=[_account_view(sandbox, account) for account in list(sandbox.accounts.values())[::-1][:ACCOUNTS_SHOWN]],
        account_count=len(sandbox.accounts),
        meetings=[
            {
                "topic": meeting.topic,
                "host": hosts.get(meeting.host_id, meeting.host_id),
                "start": zoom_timestamp(meeting.start_time),
                "id": meeting.id,
                "in_pmi": meeting.host_id in sandbox.users and meeting.id == sandbox.users[meeting.host_id].pmi,
            }
            for meeting in meetings[:MEETINGS_SHOWN]
        ],
        calls=[
            {**msgspec.structs.asdict(call), "time": zoom_timestamp(call.time)}
            for call in reversed(sandbox.calls[-CALLS_SHOWN:])
        ],
        call_count=len(sandbox.calls),
    )
    return html_response(body)


def _back_to_page(request: Request, **done: str) -> Redirect:
    return Redirect(f"{request.scope.get('root_path', '')}/sandbox/?{urlencode(done)}", status_code=303)


@post("/sandbox/page/users/{user_id:str}", include_in_schema=False)
async def change_user_on_page(
    request: Request,
    sandbox: NamedDependency[Sandbox],
    user_id: FromPath[str],
    data: Annotated[ChangeForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect:
    """The same change as the control API's PATCH or DELETE of the user, with the same webhooks."""
    user = existing_user(sandbox, user_id)
    email = user.email
    recipients = user_event_recipients(sandbox, user.account_id)
    _, patch, _ = SCENARIOS[data.change]
    if patch is None:
        event = user_event(sandbox, REMOVAL_EVENTS["delete"], user, user_summary(user))
        delete_user(sandbox, user)
        await deliver_all(sandbox, recipients, [event])
    else:
        check_patch(sandbox, user, patch)
        await deliver_all(sandbox, recipients, apply_patch(sandbox, user, patch))
    return _back_to_page(request, done=data.change, who=email)


@post("/sandbox/page/meetings/{meeting_id:int}/delete", include_in_schema=False)
async def delete_meeting_on_page(request: Request, sandbox: NamedDependency[Sandbox], meeting_id: FromPath[int]) -> Redirect:
    """The same as the control API's DELETE of the meeting: as if its host deleted it in Zoom."""
    await delete_in_zoom(sandbox, existing_meeting(sandbox, meeting_id))
    return _back_to_page(request, done="meeting_deleted", who=str(meeting_id))


@post("/sandbox/page/deauthorize", include_in_schema=False)
async def deauthorize_on_page(
    request: Request,
    sandbox: NamedDependency[Sandbox],
    data: Annotated[DeauthorizeForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect:
    """Removing the app in Zoom, as the control API's /sandbox/deauthorize does."""
    user = existing_user(sandbox, data.user_id)
    app = sandbox.apps.get(data.client_id)
    grants = sandbox.live_grants(client_id=data.client_id, user_id=user.id) if app else []
    for grant in grants:
        grant.revoked = True
    if app is not None and grants:
        await deliver(sandbox, app, app_deauthorized_event(sandbox, app, user))
    return _back_to_page(request, done="deauthorized", who=user.email, app=data.client_id)


#: For create_sandbox_app's route handlers.
PAGE_HANDLERS = [sandbox_page, change_user_on_page, deauthorize_on_page, delete_meeting_on_page]
