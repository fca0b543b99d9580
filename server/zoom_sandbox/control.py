"""The control API (``/sandbox/...``): script accounts, users, faults and settings; read the logs.

It has no Zoom equivalent and no authentication: it exists to drive scenarios in tests and
in the demo. Every check runs before anything changes, so a refused call changes nothing.
"""

from __future__ import annotations

import secrets
import string
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Router, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import UNSET, Meta, UnsetType

from server.zoom_sandbox.meetings import MeetingUpdate, in_personal_room, update_meeting
from server.zoom_sandbox.state import (
    ROLE_IDS,
    ROLE_NAMES,
    Account,
    CallRecord,
    Fault,
    Meeting,
    RateLimitCategory,
    RateLimitType,
    Role,
    Sandbox,
    SandboxSettings,
    WebhookDelivery,
    ZoomUser,
    new_zoom_id,
)
from server.zoom_sandbox.webhooks import (
    UserEvent,
    app_deauthorized_event,
    deliver,
    deliver_all,
    meeting_event,
    meeting_event_recipients,
    user_event,
    user_event_recipients,
    user_summary,
)

Email = Annotated[str, Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=128)]
Name = Annotated[str, Meta(max_length=64)]
PMI_RANGE = (2_000_000_000, 9_999_999_999)  # 10 digits, as Zoom's PMIs
MAX_BATCH = 10_000
REMOVAL_EVENTS = {"delete": "user.deleted", "disassociate": "user.disassociated"}


class AccountIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=128)]
    id: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None


class UserIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Email
    first_name: Name
    last_name: Name
    role: Role
    use_pmi_for_scheduled_meetings: bool = False
    use_pmi_for_instant_meetings: bool = False
    pmi_setting_locked: bool = False
    timezone: str = "UTC"


class UserBatchIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    users: Annotated[list[UserIn], Meta(max_length=MAX_BATCH)]


class UserPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    role: Role | UnsetType = UNSET
    status: Literal["active", "inactive"] | UnsetType = UNSET
    email: Email | UnsetType = UNSET
    use_pmi_for_scheduled_meetings: bool | UnsetType = UNSET
    use_pmi_for_instant_meetings: bool | UnsetType = UNSET
    #: The account admin locks (or unlocks) "Use PMI when scheduling a meeting" for this user.
    pmi_setting_locked: bool | UnsetType = UNSET


class DeauthorizeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    client_id: str
    user_id: str


class FaultIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The next ``times`` calls matching ``method`` (``*`` for any) and ``path_prefix`` fail.

    ``path_prefix`` is relative to the sandbox root (``/oauth/token``, ``/v2/users``), so a
    scenario works whether the sandbox is mounted or not.

    ``status`` answers with Zoom's error shape for that path; ``delay_s`` waits first (alone,
    it only delays, to simulate a slow Zoom or a client timeout). A 429 is a per-second limit
    (``rate_limit_type`` ``QPS``: no ``Retry-After`` unless ``retry_after`` seconds are given) or a
    daily one (``Daily-limit``: ``Retry-After`` is the ISO time it resets, the next 00:00 UTC or
    ``retry_after`` seconds from now).
    """

    method: str
    path_prefix: str
    status: Annotated[int, Meta(ge=400, le=599)] | None = None
    code: int | None = None
    times: Annotated[int, Meta(ge=1)] = 1
    retry_after: Annotated[int, Meta(ge=0)] | None = None
    delay_s: Annotated[float, Meta(ge=0, le=120)] | None = None
    rate_limit_type: RateLimitType = "QPS"

    def __post_init__(self) -> None:
        if self.status is None and self.delay_s is None:
            raise ValueError("a fault needs a status, a delay_s, or both")


class SettingsPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    auto_approve: bool | UnsetType = UNSET
    webhook_url: str | None | UnsetType = UNSET
    access_token_ttl_s: Annotated[int, Meta(ge=1)] | UnsetType = UNSET
    daily_meeting_limit: Annotated[int, Meta(ge=0)] | UnsetType = UNSET
    enforce_qps: bool | UnsetType = UNSET
    #: Merged into the current limits: ``{"Medium": 2}`` changes that label only.
    qps_limits: dict[RateLimitCategory, Annotated[int, Meta(ge=1)]] | UnsetType = UNSET
    meeting_answer_delay_s: Annotated[float, Meta(ge=0, le=60)] | UnsetType = UNSET
    daily_limit_status: Literal[300, 429] | UnsetType = UNSET


class MeetingChangeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a host changes in Zoom's own pages; it does not count against the API's daily limit."""

    topic: Annotated[str, Meta(max_length=200)] | UnsetType = UNSET
    start_time: str | UnsetType = UNSET
    duration: Annotated[int, Meta(ge=0)] | UnsetType = UNSET
    timezone: str | UnsetType = UNSET
    agenda: Annotated[str, Meta(max_length=2000)] | UnsetType = UNSET


class SandboxMeeting(msgspec.Struct, kw_only=True):
    """A meeting as the control API shows it, for asserting what Zoom holds."""

    id: int
    uuid: str
    host_id: str
    topic: str
    start_time: datetime
    duration: int
    timezone: str
    agenda: str
    password: str
    in_personal_room: bool
    created_at: datetime
    alternative_hosts: str = ""


class BatchCreated(msgspec.Struct, kw_only=True, frozen=True):
    created: int


class Deauthorized(msgspec.Struct, kw_only=True, frozen=True):
    revoked_grants: int


class SandboxUser(msgspec.Struct, kw_only=True):
    """A sandbox user as the control API shows it: Zoom's ids plus the sandbox's own knobs."""

    id: str
    account_id: str
    email: str
    first_name: str
    last_name: str
    role: Role
    role_id: str
    status: str
    pmi: int
    use_pmi_for_scheduled_meetings: bool
    use_pmi_for_instant_meetings: bool
    pmi_setting_locked: bool
    timezone: str
    created_at: datetime


def sandbox_user(user: ZoomUser) -> SandboxUser:
    return SandboxUser(
        id=user.id,
        account_id=user.account_id,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        role=user.role,
        role_id=ROLE_IDS[user.role],
        status=user.status,
        pmi=user.pmi,
        use_pmi_for_scheduled_meetings=user.use_pmi_for_scheduled_meetings,
        use_pmi_for_instant_meetings=user.use_pmi_for_instant_meetings,
        pmi_setting_locked=user.pmi_setting_locked,
        timezone=user.timezone,
        created_at=user.created_at,
    )


def sandbox_meeting(meeting: Meeting, host: ZoomUser) -> SandboxMeeting:
    return SandboxMeeting(
        id=meeting.id,
        uuid=meeting.uuid,
        host_id=meeting.host_id,
        topic=meeting.topic,
        start_time=meeting.start_time,
        duration=meeting.duration,
        timezone=meeting.timezone,
        agenda=meeting.agenda,
        password=meeting.password,
        in_personal_room=in_personal_room(meeting),
        created_at=meeting.created_at,
        alternative_hosts=meeting.settings.alternative_hosts,
    )


def existing_meeting(sandbox: Sandbox, meeting_id: int) -> Meeting:
    if meeting := sandbox.meeting_by_id(meeting_id):
        return meeting
    raise NotFoundException(f"no sandbox meeting {meeting_id}")


def conflict(detail: str) -> HTTPException:
    return HTTPException(status_code=409, detail=detail)


def existing_account(sandbox: Sandbox, account_id: str) -> Account:
    if account := sandbox.accounts.get(account_id):
        return account
    raise NotFoundException(f"no sandbox account {account_id}")


def existing_user(sandbox: Sandbox, user_ref: str) -> ZoomUser:
    if user := sandbox.user_by_ref(user_ref):
        return user
    raise NotFoundException(f"no sandbox user {user_ref}")


def check_new_users(sandbox: Sandbox, account: Account, specs: list[UserIn]) -> None:
    emails = [spec.email.lower() for spec in specs]
    if taken := next((email for email in emails if sandbox.email_taken(email)), None):
        raise conflict(f"{taken} is already a sandbox user")
    if len(set(emails)) != len(emails):
        raise conflict("the same email appears twice")
    new_owners = sum(spec.role == "owner" for spec in specs)
    has_owner = any(user.role == "owner" for user in sandbox.users_of_account(account.id))
    if new_owners + has_owner > 1:
        raise conflict(f"account {account.id} can have only one owner")


def new_user(sandbox: Sandbox, account: Account, spec: UserIn) -> ZoomUser:
    user = ZoomUser(
        id=new_zoom_id(),
        account_id=account.id,
        email=spec.email,
        first_name=spec.first_name,
        last_name=spec.last_name,
        role=spec.role,
        pmi=sandbox.new_number(*PMI_RANGE),
        pmi_password="".join(secrets.choice(string.digits) for _ in range(6)),
        pmi_setting_locked=spec.pmi_setting_locked,
        created_at=sandbox.now(),
        seq=sandbox.next_seq(),
        timezone=spec.timezone,
        use_pmi_for_scheduled_meetings=spec.use_pmi_for_scheduled_meetings,
        use_pmi_for_instant_meetings=spec.use_pmi_for_instant_meetings,
    )
    sandbox.add_user(user)
    return user


def check_patch(sandbox: Sandbox, user: ZoomUser, change: UserPatch) -> None:
    if change.email is not UNSET and (other := sandbox.user_by_ref(change.email)) and other.id != user.id:
        raise conflict(f"{change.email} is already a sandbox user")
    if change.role == "owner" and any(
        other.role == "owner" and other.id != user.id for other in sandbox.users_of_account(user.account_id)
    ):
        raise conflict(f"account {user.account_id} already has an owner")


def apply_patch(sandbox: Sandbox, user: ZoomUser, change: UserPatch) -> list[UserEvent]:
    """Change the user and return the events Zoom would send about it, in the order it would."""
    if change.pmi_setting_locked is not UNSET:
        user.pmi_setting_locked = change.pmi_setting_locked
    events = [
        change_profile(sandbox, user, change),
        change_pmi_settings(sandbox, user, change),
        change_status(sandbox, user, change),
    ]
    return [event for event in events if event is not None]


def change_profile(sandbox: Sandbox, user: ZoomUser, change: UserPatch) -> UserEvent | None:
    new: dict[str, Any] = {}
    old: dict[str, Any] = {}
    if change.email is not UNSET and change.email != user.email:
        old["email"], new["email"] = user.email, change.email
        sandbox.change_email(user, change.email)
    if change.role is not UNSET and change.role != user.role:
        # user.updated names the role, as Zoom's document has it; it has no role_id field.
        old["role"], new["role"] = ROLE_NAMES[user.role], ROLE_NAMES[change.role]
        user.role = change.role
    if not new:
        return None
    return user_event(sandbox, "user.updated", user, {"id": user.id, **new}, {"id": user.id, **old})


def change_pmi_settings(sandbox: Sandbox, user: ZoomUser, change: UserPatch) -> UserEvent | None:
    new: dict[str, Any] = {}
    old: dict[str, Any] = {}
    for name in ("use_pmi_for_scheduled_meetings", "use_pmi_for_instant_meetings"):
        value = getattr(change, name)
        if value is not UNSET and value != getattr(user, name):
            old[name], new[name] = getattr(user, name), value
            setattr(user, name, value)
    if not new:
        return None
    return user_event(
        sandbox,
        "user.settings_updated",
        user,
        {"id": user.id, "settings": {"schedule_meeting": new}},
        {"id": user.id, "settings": {"schedule_meeting": old}},
    )


def change_status(sandbox: Sandbox, user: ZoomUser, change: UserPatch) -> UserEvent | None:
    if change.status is UNSET or change.status == user.status:
        return None
    user.status = change.status
    name = "user.deactivated" if change.status == "inactive" else "user.activated"
    return user_event(sandbox, name, user, user_summary(user))


def delete_user(sandbox: Sandbox, user: ZoomUser) -> None:
    for grant in sandbox.live_grants(user_id=user.id):
        grant.revoked = True
    for meeting in [meeting for meeting in sandbox.meetings.values() if meeting.host_id == user.id]:
        sandbox.remove_meeting(meeting)
    sandbox.remove_user(user)


def disassociate_user(sandbox: Sandbox, user: ZoomUser) -> None:
    """The user leaves the account and keeps a Zoom account of their own, as Zoom does.

    Admin-managed grants belonged to the account they left, so they end; a user-managed
    grant follows the person and keeps working.
    """
    for grant in sandbox.live_grants(user_id=user.id):
        if sandbox.apps[grant.client_id].kind == "admin_managed":
            grant.revoked = True
    own = Account(id=new_zoom_id(), name=f"{user.first_name} {user.last_name}".strip(), created_at=sandbox.now())
    sandbox.accounts[own.id] = own
    sandbox.move_user(user, own.id)
    user.role = "owner"


@post("/accounts")
async def create_account(sandbox: NamedDependency[Sandbox], data: JSONBody[AccountIn]) -> Account:
    account_id = data.id or new_zoom_id()
    if account_id in sandbox.accounts:
        raise conflict(f"account {account_id} exists")
    account = Account(id=account_id, name=data.name, created_at=sandbox.now())
    sandbox.accounts[account.id] = account
    return account


@post("/accounts/{account_id:str}/users")
async def create_user(
    sandbox: NamedDependency[Sandbox], account_id: FromPath[str], data: JSONBody[UserIn]
) -> SandboxUser:
    account = existing_account(sandbox, account_id)
    check_new_users(sandbox, account, [data])
    return sandbox_user(new_user(sandbox, account, data))


@post("/accounts/{account_id:str}/users/batch")
async def create_users(
    sandbox: NamedDependency[Sandbox], account_id: FromPath[str], data: JSONBody[UserBatchIn]
) -> BatchCreated:
    account = existing_account(sandbox, account_id)
    check_new_users(sandbox, account, data.users)
    for spec in data.users:
        new_user(sandbox, account, spec)
    return BatchCreated(created=len(data.users))


@patch("/users/{user_id:str}")
async def change_user(
    sandbox: NamedDependency[Sandbox], user_id: FromPath[str], data: JSONBody[UserPatch]
) -> SandboxUser:
    user = existing_user(sandbox, user_id)
    check_patch(sandbox, user, data)
    recipients = user_event_recipients(sandbox, user.account_id)
    events = apply_patch(sandbox, user, data)
    await deliver_all(sandbox, recipients, events)
    return sandbox_user(user)


@delete("/users/{user_id:str}")
async def remove_user(
    sandbox: NamedDependency[Sandbox],
    user_id: FromPath[str],
    action: FromQuery[Literal["delete", "disassociate"]] = "delete",
) -> None:
    user = existing_user(sandbox, user_id)
    recipients = user_event_recipients(sandbox, user.account_id)
    event = user_event(sandbox, REMOVAL_EVENTS[action], user, user_summary(user))
    if action == "delete":
        delete_user(sandbox, user)
    else:
        disassociate_user(sandbox, user)
    await deliver_all(sandbox, recipients, [event])


@get("/users/{user_id:str}/meetings")
async def list_user_meetings(sandbox: NamedDependency[Sandbox], user_id: FromPath[str]) -> list[SandboxMeeting]:
    """Every meeting Zoom holds for the user, past ones included (for asserting exactly-once)."""
    user = existing_user(sandbox, user_id)
    return [sandbox_meeting(meeting, user) for meeting in sandbox.meetings_of(user.id)]


@patch("/meetings/{meeting_id:int}")
async def change_meeting(
    sandbox: NamedDependency[Sandbox], meeting_id: FromPath[int], data: JSONBody[MeetingChangeIn]
) -> SandboxMeeting:
    """The host changes the meeting in Zoom: Zoom sends meeting.updated."""
    meeting = existing_meeting(sandbox, meeting_id)
    host = sandbox.users[meeting.host_id]
    before = msgspec.structs.replace(meeting)
    update_meeting(sandbox, meeting, MeetingUpdate(**msgspec.structs.asdict(data)), counted=False)
    await deliver_all(sandbox, meeting_event_recipients(sandbox, host), [meeting_event(sandbox, "meeting.updated", meeting, host, before)])
    return sandbox_meeting(meeting, host)


@delete("/meetings/{meeting_id:int}")
async def remove_meeting(sandbox: NamedDependency[Sandbox], meeting_id: FromPath[int]) -> None:
    """The host deletes the meeting in Zoom (it can be recovered): Zoom sends meeting.deleted."""
    await delete_in_zoom(sandbox, existing_meeting(sandbox, meeting_id))


async def delete_in_zoom(sandbox: Sandbox, meeting: Meeting) -> None:
    """As a host deleting it in Zoom's own pages: gone, recoverable, and Zoom sends meeting.deleted."""
    host = sandbox.users[meeting.host_id]
    sandbox.remove_meeting(meeting)
    sandbox.deleted_meetings[meeting.id] = meeting
    await deliver_all(sandbox, meeting_event_recipients(sandbox, host), [meeting_event(sandbox, "meeting.deleted", meeting, host)])


@put("/meetings/{meeting_id:int}/recover")
async def recover_meeting(sandbox: NamedDependency[Sandbox], meeting_id: FromPath[int]) -> SandboxMeeting:
    """The host recovers a deleted meeting from Zoom's trash: Zoom sends meeting.recovered."""
    meeting = sandbox.deleted_meetings.pop(meeting_id, None)
    if meeting is None or meeting.host_id not in sandbox.users:
        raise NotFoundException(f"no deleted sandbox meeting {meeting_id}")
    host = sandbox.users[meeting.host_id]
    sandbox.add_meeting(meeting)
    await deliver_all(sandbox, meeting_event_recipients(sandbox, host), [meeting_event(sandbox, "meeting.recovered", meeting, host)])
    return sandbox_meeting(meeting, host)


@post("/deauthorize", status_code=200)
async def deauthorize(sandbox: NamedDependency[Sandbox], data: JSONBody[DeauthorizeIn]) -> Deauthorized:
    app = sandbox.apps.get(data.client_id)
    if app is None:
        raise NotFoundException(f"no sandbox app {data.client_id}")
    user = existing_user(sandbox, data.user_id)
    grants = sandbox.live_grants(client_id=app.client_id, user_id=user.id)
    for grant in grants:
        grant.revoked = True
    # Zoom tells an app it was removed only if it was installed.
    if grants:
        await deliver(sandbox, app, app_deauthorized_event(sandbox, app, user))
    return Deauthorized(revoked_grants=len(grants))


@post("/faults")
async def add_fault(sandbox: NamedDependency[Sandbox], data: JSONBody[FaultIn]) -> Fault:
    fields = msgspec.structs.asdict(data) | {"method": data.method.upper()}
    fault = Fault(id=secrets.token_hex(6), **fields)
    sandbox.faults.append(fault)
    return fault


@get("/faults")
async def list_faults(sandbox: NamedDependency[Sandbox]) -> list[Fault]:
    return sandbox.faults


@delete("/faults")
async def clear_faults(sandbox: NamedDependency[Sandbox]) -> None:
    sandbox.faults.clear()


@get("/calls")
async def list_calls(sandbox: NamedDependency[Sandbox]) -> list[CallRecord]:
    return sandbox.calls


@delete("/calls")
async def clear_calls(sandbox: NamedDependency[Sandbox]) -> None:
    sandbox.calls.clear()


@get("/webhooks")
async def list_webhook_deliveries(sandbox: NamedDependency[Sandbox]) -> list[WebhookDelivery]:
    return sandbox.webhook_deliveries


@delete("/webhooks")
async def clear_webhook_deliveries(sandbox: NamedDependency[Sandbox]) -> None:
    sandbox.webhook_deliveries.clear()


@get("/settings")
async def show_settings(sandbox: NamedDependency[Sandbox]) -> SandboxSettings:
    return sandbox.settings


@put("/settings")
async def change_settings(sandbox: NamedDependency[Sandbox], data: JSONBody[SettingsPatch]) -> SandboxSettings:
    changes = {name: value for name, value in msgspec.structs.asdict(data).items() if value is not UNSET}
    if "qps_limits" in changes:
        changes["qps_limits"] = sandbox.settings.qps_limits | changes["qps_limits"]
    sandbox.settings = msgspec.structs.replace(sandbox.settings, **changes)
    return sandbox.settings


def control_router() -> Router:
    return Router(
        path="/sandbox",
        route_handlers=[
            create_account,
            create_user,
            create_users,
            change_user,
            remove_user,
            list_user_meetings,
            change_meeting,
            remove_meeting,
            recover_meeting,
            deauthorize,
            add_fault,
            list_faults,
            clear_faults,
            list_calls,
            clear_calls,
            list_webhook_deliveries,
            clear_webhook_deliveries,
            show_settings,
            change_settings,
        ],
    )
