"""Zoom's REST API (``/v2``) for what Roomlink uses: users, user settings, meetings.

Bodies follow Zoom's Users API and Meetings API documents (``zoom-reference/``); the tests
validate them against those documents.
"""

from __future__ import annotations

import bisect
import math
import secrets
from datetime import timedelta
from typing import Annotated, TypeVar

import anyio
import msgspec
from litestar import Request, Response, Router, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, QueryParameter

from server.zoom_sandbox.access import (
    Caller,
    accessible_meeting,
    authenticate,
    bearer_token,
    require_account_scope,
    target_user,
)
from server.zoom_sandbox.errors import (
    PMI_NOT_DELETABLE,
    VALIDATION_FAILED,
    FieldError,
    ZoomApiError,
    meeting_not_found,
    validation_failed,
)
from server.zoom_sandbox.grants import grant_of_access_token
from server.zoom_sandbox.meetings import (
    CreatedMeeting,
    MeetingCreate,
    MeetingDetail,
    MeetingPage,
    MeetingUpdate,
    create_meeting,
    created_meeting_body,
    listed,
    meeting_detail_body,
    meeting_list_item,
    update_meeting,
)
from server.zoom_sandbox.state import (
    LICENSED,
    ROLE_IDS,
    ROLE_NAMES,
    PageCursor,
    Sandbox,
    ZoomUser,
    zoom_timestamp,
)
from server.zoom_sandbox.traffic import CATEGORY_OPT, current_call
from server.zoom_sandbox.webhooks import deliver_all, meeting_event, meeting_event_recipients

LIGHT = {CATEGORY_OPT: "Light"}
MEDIUM = {CATEGORY_OPT: "Medium"}

DEFAULT_PAGE_SIZE = 30
#: Zoom serves at most 300 users per page and quietly clamps a larger ``page_size``.
MAX_PAGE_SIZE = 300
PAGE_TOKEN_TTL = timedelta(minutes=15)
USER_STATUSES = ("active", "inactive", "pending")
MEETING_LIST_TYPES = ("scheduled", "live", "upcoming", "upcoming_meetings", "previous_meetings")

Body = TypeVar("Body", bound=msgspec.Struct)


class UserListItem(msgspec.Struct, kw_only=True):
    id: str
    first_name: str
    last_name: str
    display_name: str
    email: str
    type: int
    pmi: int
    timezone: str
    verified: int
    dept: str
    created_at: str
    user_created_at: str
    status: str
    role_id: str


class UserPage(msgspec.Struct, kw_only=True):
    page_count: int
    page_number: int
    page_size: int
    total_records: int
    #: Empty on the last page, as Zoom sends it.
    next_page_token: str
    users: list[UserListItem]


class UserDetail(UserListItem, kw_only=True):
    role_name: str
    account_id: str
    use_pmi: bool
    personal_meeting_url: str
    language: str
    login_types: list[int]


class ScheduleMeetingSettings(msgspec.Struct, kw_only=True):
    host_video: bool
    participants_video: bool
    audio_type: str
    join_before_host: bool
    personal_meeting: bool
    pmi_password: str
    require_password_for_scheduled_meetings: bool
    require_password_for_instant_meetings: bool
    require_password_for_pmi_meetings: str
    use_pmi_for_scheduled_meetings: bool
    use_pmi_for_instant_meetings: bool


class FeatureSettings(msgspec.Struct, kw_only=True):
    meeting_capacity: int


class UserSettings(msgspec.Struct, kw_only=True):
    schedule_meeting: ScheduleMeetingSettings
    feature: FeatureSettings


async def provide_caller(request: Request, sandbox: NamedDependency[Sandbox]) -> Caller:
    access_token = bearer_token(request.headers.get("authorization"))
    if grant := grant_of_access_token(sandbox, access_token):
        call = current_call(request)
        call.client_id = grant.client_id
        call.token_family = grant.id
        call.account_id = approver.account_id if (approver := sandbox.users.get(grant.user_id)) else None
    return authenticate(sandbox, access_token)


def decode_body(raw: bytes, body_type: type[Body]) -> Body:
    try:
        return msgspec.json.decode(raw or b"{}", type=body_type)
    except msgspec.ValidationError as exc:
        message, _, location = str(exc).partition(" - at `$.")
        raise validation_failed(FieldError(field=location.rstrip("`") or "body", message=message)) from exc
    except msgspec.DecodeError as exc:
        raise ZoomApiError(400, VALIDATION_FAILED, "Request Body should be a valid JSON object.") from exc


def user_list_item(user: ZoomUser) -> UserListItem:
    return UserListItem(**list_fields(user))


def list_fields(user: ZoomUser) -> dict[str, object]:
    created_at = zoom_timestamp(user.created_at)
    return {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "display_name": f"{user.first_name} {user.last_name}".strip(),
        "email": user.email,
        "type": LICENSED,
        "pmi": user.pmi,
        "timezone": user.timezone,
        "verified": 1,
        "dept": "",
        "created_at": created_at,
        "user_created_at": created_at,
        "status": user.status,
        "role_id": ROLE_IDS[user.role],
    }


def user_detail(user: ZoomUser, base_url: str) -> UserDetail:
    return UserDetail(
        **list_fields(user),
        role_name=ROLE_NAMES[user.role],
        account_id=user.account_id,
        use_pmi=user.use_pmi_for_instant_meetings,
        personal_meeting_url=f"{base_url}j/{user.pmi}",
        language="en-US",
        login_types=[100],
    )


def user_settings(user: ZoomUser) -> UserSettings:
    return UserSettings(
        schedule_meeting=ScheduleMeetingSettings(
            host_video=False,
            participants_video=False,
            audio_type="voip",
            join_before_host=False,
            personal_meeting=True,
            pmi_password=user.pmi_password,
            require_password_for_scheduled_meetings=True,
            require_password_for_instant_meetings=True,
            require_password_for_pmi_meetings="all",
            use_pmi_for_scheduled_meetings=user.use_pmi_for_scheduled_meetings,
            use_pmi_for_instant_meetings=user.use_pmi_for_instant_meetings,
        ),
        feature=FeatureSettings(meeting_capacity=100),
    )


def page_size_of(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not raw.isdigit() or int(raw) < 1:
        raise validation_failed(FieldError(field="page_size", message="Invalid field."))
    return min(int(raw), MAX_PAGE_SIZE)


def page_cursor(
    sandbox: Sandbox, caller: Caller, status: str, role_id: str | None, next_page_token: str | None
) -> PageCursor:
    if next_page_token:
        cursor = sandbox.page_cursors.get(next_page_token)
        if cursor is None or cursor.expires_at <= sandbox.now() or cursor.account_id != caller.user.account_id:
            raise ZoomApiError(400, VALIDATION_FAILED, "The next page token is invalid or expired.")
        return cursor
    if status not in USER_STATUSES:
        raise validation_failed(FieldError(field="status", message="Invalid field."))
    return PageCursor(
        account_id=caller.user.account_id,
        status=status,
        role_id=role_id,
        after_seq=0,
        expires_at=sandbox.now() + PAGE_TOKEN_TTL,
    )


def users_page(sandbox: Sandbox, cursor: PageCursor, page_size: int) -> UserPage:
    # Users are kept in creation order, so continuing after a sequence number never skips one.
    users = list(sandbox.users_of_account(cursor.account_id))
    start = bisect.bisect_right(users, cursor.after_seq, key=lambda user: user.seq)

    def matches(user: ZoomUser) -> bool:
        return user.status == cursor.status and cursor.role_id in (None, ROLE_IDS[user.role])

    total = cursor.total_records if cursor.total_records is not None else sum(1 for user in users if matches(user))
    page: list[ZoomUser] = []
    more = False
    for user in users[start:]:
        if not matches(user):
            continue
        if len(page) == page_size:
            more = True
            break
        page.append(user)
    next_page_token = ""
    if more:
        next_page_token = secrets.token_urlsafe(24)
        sandbox.page_cursors[next_page_token] = msgspec.structs.replace(
            cursor, after_seq=page[-1].seq, expires_at=sandbox.now() + PAGE_TOKEN_TTL, total_records=total
        )
    return UserPage(
        page_count=math.ceil(total / page_size),
        page_number=1,
        page_size=page_size,
        total_records=total,
        next_page_token=next_page_token,
        users=[user_list_item(user) for user in page],
    )


def meeting_id_of(raw: str) -> int:
    if not raw.isdigit():
        raise meeting_not_found(raw)
    return int(raw)


@get("/users", opt=MEDIUM)
async def list_users(
    sandbox: NamedDependency[Sandbox],
    caller: NamedDependency[Caller],
    status: FromQuery[str] = "active",
    page_size: FromQuery[str | None] = None,
    next_page_token: FromQuery[str | None] = None,
    role_id: FromQuery[str | None] = None,
) -> UserPage:
    require_account_scope(caller, "user:read:admin")
    cursor = page_cursor(sandbox, caller, status, role_id, next_page_token)
    return users_page(sandbox, cursor, page_size_of(page_size))


@get("/users/{user_id:str}", opt=LIGHT)
async def get_user(
    request: Request, sandbox: NamedDependency[Sandbox], caller: NamedDependency[Caller], user_id: FromPath[str]
) -> UserDetail:
    user = target_user(sandbox, caller, user_id, "user:read:admin")
    return user_detail(user, str(request.base_url))


@get("/users/{user_id:str}/settings", opt=MEDIUM)
async def get_user_settings(
    sandbox: NamedDependency[Sandbox], caller: NamedDependency[Caller], user_id: FromPath[str]
) -> UserSettings:
    return user_settings(target_user(sandbox, caller, user_id, "user:read:admin"))


def remaining_header(remaining: int | None) -> dict[str, str]:
    """Successful meeting writes count the host's daily limit down, as Zoom's answers say."""
    return {} if remaining is None else {"X-RateLimit-Remaining": str(remaining)}


@post("/users/{user_id:str}/meetings", opt=MEDIUM)
async def post_meeting(
    request: Request, sandbox: NamedDependency[Sandbox], caller: NamedDependency[Caller], user_id: FromPath[str]
) -> Response[CreatedMeeting]:
    host = target_user(sandbox, caller, user_id, "meeting:write:admin")
    body = decode_body(await request.body(), MeetingCreate)
    meeting, remaining = create_meeting(sandbox, host, body)
    if sandbox.settings.meeting_answer_delay_s:
        await anyio.sleep(sandbox.settings.meeting_answer_delay_s)
    answer = created_meeting_body(sandbox, meeting, host, str(request.base_url))
    return Response(answer, status_code=201, headers=remaining_header(remaining))


@get("/users/{user_id:str}/meetings", opt=MEDIUM)
async def list_meetings(
    request: Request,
    sandbox: NamedDependency[Sandbox],
    caller: NamedDependency[Caller],
    user_id: FromPath[str],
    meeting_type: Annotated[str, QueryParameter(name="type")] = "scheduled",
    page_size: FromQuery[str | None] = None,
    next_page_token: FromQuery[str | None] = None,
) -> MeetingPage:
    """A host's meetings, 30 a page by default (300 at most), continued with ``next_page_token``."""
    host = target_user(sandbox, caller, user_id, "meeting:read:admin")
    if meeting_type not in MEETING_LIST_TYPES:
        raise validation_failed(FieldError(field="type", message="Invalid field."))
    size = page_size_of(page_size)
    meetings = listed(sandbox, host, meeting_type)
    start = 0
    if next_page_token:
        cursor = sandbox.meeting_page_cursors.get(next_page_token)
        if cursor is None or cursor[0] != host.id or cursor[2] <= sandbox.now():
            raise ZoomApiError(400, VALIDATION_FAILED, "The next page token is invalid or expired.")
        # Continue after the last meeting of the previous page, even if meetings came or went since.
        after_uuid = cursor[1]
        start = next((n + 1 for n, m in enumerate(meetings) if m.uuid == after_uuid), len(meetings))
    page = meetings[start : start + size]
    token = ""
    if start + size < len(meetings):
        token = secrets.token_urlsafe(24)
        sandbox.meeting_page_cursors[token] = (host.id, page[-1].uuid, sandbox.now() + PAGE_TOKEN_TTL)
    return MeetingPage(
        page_size=size,
        total_records=len(meetings),
        next_page_token=token,
        meetings=[meeting_list_item(meeting, host, str(request.base_url)) for meeting in page],
    )


@get("/meetings/{meeting_id:str}", opt=LIGHT)
async def get_meeting(
    request: Request, sandbox: NamedDependency[Sandbox], caller: NamedDependency[Caller], meeting_id: FromPath[str]
) -> MeetingDetail:
    meeting = accessible_meeting(sandbox, caller, meeting_id_of(meeting_id), "meeting:read:admin")
    return meeting_detail_body(sandbox, meeting, sandbox.users[meeting.host_id], str(request.base_url))


@patch("/meetings/{meeting_id:str}", status_code=204, opt=LIGHT)
async def patch_meeting(
    request: Request, sandbox: NamedDependency[Sandbox], caller: NamedDependency[Caller], meeting_id: FromPath[str]
) -> Response[None]:
    meeting = accessible_meeting(sandbox, caller, meeting_id_of(meeting_id), "meeting:write:admin")
    body = decode_body(await request.body(), MeetingUpdate)
    host = sandbox.users[meeting.host_id]
    before = msgspec.structs.replace(meeting)
    remaining = update_meeting(sandbox, meeting, body)
    await deliver_all(sandbox, meeting_event_recipients(sandbox, host), [meeting_event(sandbox, "meeting.updated", meeting, host, before)])
    return Response(None, status_code=204, headers=remaining_header(remaining))


@delete("/meetings/{meeting_id:str}", opt=LIGHT)
async def delete_meeting(
    sandbox: NamedDependency[Sandbox], caller: NamedDependency[Caller], meeting_id: FromPath[str]
) -> None:
    number = meeting_id_of(meeting_id)
    if sandbox.meeting_by_id(number) is None and any(
        user.pmi == number and user.account_id == caller.user.account_id for user in sandbox.users.values()
    ):
        # The PMI room itself; a meeting held in it is deleted by its own id.
        raise ZoomApiError(400, PMI_NOT_DELETABLE, "Not allowed to delete PMI.")
    meeting = accessible_meeting(sandbox, caller, number, "meeting:write:admin")
    host = sandbox.users[meeting.host_id]
    sandbox.remove_meeting(meeting)
    await deliver_all(sandbox, meeting_event_recipients(sandbox, host), [meeting_event(sandbox, "meeting.deleted", meeting, host)])


def api_router() -> Router:
    return Router(
        path="/v2",
        route_handlers=[
            list_users,
            get_user,
            get_user_settings,
            post_meeting,
            list_meetings,
            get_meeting,
            patch_meeting,
            delete_meeting,
        ],
        dependencies={"caller": Provide(provide_caller)},
    )
