"""Everything one sandbox remembers, in memory: accounts, users, grants, meetings, traffic.

One `Sandbox` per app instance, so tests can run independent sandboxes side by side.
The records are mutable Structs because the sandbox changes them in place (a user's role,
a grant's rotation), as Zoom's own database would.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Literal

import httpx
import msgspec

from server.zoom_sandbox.config import SandboxConfig, ZoomAppConfig

Clock = Callable[[], datetime]
Role = Literal["owner", "admin", "member"]
UserStatus = Literal["active", "inactive", "pending"]

#: Zoom's built-in roles: role_id "0" is the account Owner.
ROLE_IDS: dict[Role, str] = {"owner": "0", "admin": "1", "member": "2"}
ROLE_NAMES: dict[Role, str] = {"owner": "Owner", "admin": "Admin", "member": "Member"}

RateLimitCategory = Literal["Light", "Medium", "Heavy"]
RateLimitType = Literal["QPS", "Daily-limit"]

#: Zoom's Business-plan per-second limits by rate-limit label.
QPS_LIMITS: dict[RateLimitCategory, int] = {"Light": 80, "Medium": 60, "Heavy": 40}

#: Zoom user licence type "Licensed"; the sandbox has no basic users, so every user may host.
LICENSED = 2


def utc_now() -> datetime:
    return datetime.now(UTC)


def zoom_timestamp(moment: datetime) -> str:
    """Zoom's timestamp form: UTC, whole seconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_zoom_id() -> str:
    """An id shaped like Zoom's user and account ids (22 URL-safe characters)."""
    return secrets.token_urlsafe(16)


class Account(msgspec.Struct, kw_only=True):
    id: str
    name: str
    created_at: datetime


class ZoomUser(msgspec.Struct, kw_only=True):
    id: str
    account_id: str
    email: str
    first_name: str
    last_name: str
    role: Role
    pmi: int
    #: The one passcode of the personal room; every PMI meeting shares it.
    pmi_password: str
    created_at: datetime
    #: Creation order; list pagination continues after it, so deletions never skip users.
    seq: int
    status: UserStatus = "active"
    timezone: str = "UTC"
    use_pmi_for_scheduled_meetings: bool = False
    use_pmi_for_instant_meetings: bool = False
    #: The account admin locked "Use PMI when scheduling a meeting": `use_pmi: false` is then ignored.
    pmi_setting_locked: bool = False

    @property
    def is_owner_or_admin(self) -> bool:
        return self.role in ("owner", "admin")


class AuthorizationCode(msgspec.Struct, kw_only=True):
    client_id: str
    user_id: str
    redirect_uri: str
    code_challenge: str | None
    expires_at: datetime
    used: bool = False


class Grant(msgspec.Struct, kw_only=True):
    """One approval of one app by one user: the family every rotated token belongs to."""

    id: str
    client_id: str
    user_id: str
    scope: str
    #: Whether the approver was Owner/Admin at approval; see `access.Caller`.
    admin_scopes: bool
    refresh_token: str
    refresh_expires_at: datetime
    revoked: bool = False
    #: Revoked because the same user approved the same app again: Zoom honours only the newest grant.
    superseded: bool = False


class AccessToken(msgspec.Struct, kw_only=True):
    grant_id: str
    expires_at: datetime


class MeetingSettings(msgspec.Struct, kw_only=True):
    host_video: bool = False
    participant_video: bool = False
    join_before_host: bool = False
    mute_upon_entry: bool = False
    waiting_room: bool = False
    use_pmi: bool = False
    approval_type: int = 2
    audio: str = "voip"
    auto_recording: str = "none"
    alternative_hosts: str = ""


class Meeting(msgspec.Struct, kw_only=True):
    id: int
    uuid: str
    host_id: str
    topic: str
    type: int
    start_time: datetime
    duration: int
    timezone: str
    agenda: str
    password: str
    created_at: datetime
    settings: MeetingSettings


class PageCursor(msgspec.Struct, kw_only=True, frozen=True):
    account_id: str
    status: str
    role_id: str | None
    after_seq: int
    expires_at: datetime
    #: Counted when the listing starts, as Zoom reports it on every page of one listing.
    total_records: int | None = None


class Fault(msgspec.Struct, kw_only=True):
    id: str
    method: str
    path_prefix: str
    status: int | None
    code: int | None
    times: int
    retry_after: int | None
    delay_s: float | None
    rate_limit_type: RateLimitType = "QPS"

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method.upper()) and path.startswith(self.path_prefix)


class CallRecord(msgspec.Struct, kw_only=True):
    method: str
    path: str
    time: datetime
    status: int | None = None
    client_id: str | None = None
    grant_type: str | None = None
    #: The grant id: stable across refresh rotations, so a test can count refreshes per grant.
    token_family: str | None = None
    #: The caller's Zoom account, which per-account rate limits are counted against.
    account_id: str | None = None
    fault: bool = False


class WebhookDelivery(msgspec.Struct, kw_only=True):
    event: str
    target: str
    client_id: str
    time: datetime
    status: int | None = None
    error: str | None = None


class SandboxSettings(msgspec.Struct, kw_only=True):
    auto_approve: bool
    webhook_url: str | None
    access_token_ttl_s: int
    daily_meeting_limit: int
    #: Answer Zoom's QPS 429 past `qps_limits` calls per second per account and label; off by default,
    #: so that tests on a frozen clock never trip it.
    enforce_qps: bool = False
    qps_limits: dict[RateLimitCategory, int] = msgspec.field(default_factory=lambda: dict(QPS_LIMITS))
    #: Seconds a meeting create waits after making the meeting, before answering (a caller dying in between).
    meeting_answer_delay_s: float = 0.0
    #: How a meeting write past the daily limit is refused: 429 with Retry-After, or HTTP 300 with the limit's
    #: message (both are in Zoom's documents).
    daily_limit_status: int = 429


class Sandbox:
    """The state of one sandbox, with the lookups every part of it needs."""

    def __init__(
        self,
        config: SandboxConfig,
        *,
        clock: Clock = utc_now,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.apps: dict[str, ZoomAppConfig] = {app.client_id: app for app in config.apps}
        self.settings = SandboxSettings(
            auto_approve=config.auto_approve,
            webhook_url=config.webhook_url,
            access_token_ttl_s=config.access_token_ttl_s,
            daily_meeting_limit=config.daily_meeting_limit,
            enforce_qps=config.enforce_qps,
        )
        self.clock = clock
        self.webhook_transport = webhook_transport
        self.accounts: dict[str, Account] = {}
        self.users: dict[str, ZoomUser] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.grants: dict[str, Grant] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        #: Every refresh token ever issued, so a replayed old one is still traced to its family.
        self.refresh_tokens: dict[str, str] = {}
        self.meetings: dict[str, Meeting] = {}
        #: Meetings the host deleted in Zoom, recoverable (by meeting id).
        self.deleted_meetings: dict[int, Meeting] = {}
        self.meeting_writes: dict[tuple[str, date], int] = {}
        #: The host key of each start URL handed out → (meeting id, when it stops working).
        self.start_keys: dict[str, tuple[int, datetime]] = {}
        self.page_cursors: dict[str, PageCursor] = {}
        #: A meeting list's next_page_token → (host id, uuid of the page's last meeting, expiry).
        self.meeting_page_cursors: dict[str, tuple[str, str, datetime]] = {}
        self.faults: list[Fault] = []
        self.calls: list[CallRecord] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self._user_ids_by_email: dict[str, str] = {}
        self._users_by_account: dict[str, dict[str, ZoomUser]] = {}
        self._meeting_uuids_by_id: dict[int, list[str]] = {}
        self._numbers_in_use: set[int] = set()
        self._next_seq = 0
        self._qps_second: int | None = None
        self._qps_counts: dict[tuple[str, str], int] = {}

    def now(self) -> datetime:
        return self.clock()

    # Users

    def email_taken(self, email: str) -> bool:
        return email.lower() in self._user_ids_by_email

    def add_user(self, user: ZoomUser) -> None:
        self.users[user.id] = user
        self._user_ids_by_email[user.email.lower()] = user.id
        self._users_by_account.setdefault(user.account_id, {})[user.id] = user

    def move_user(self, user: ZoomUser, account_id: str) -> None:
        del self._users_by_account[user.account_id][user.id]
        user.account_id = account_id
        self._users_by_account.setdefault(account_id, {})[user.id] = user

    def next_seq(self) -> int:
        self._next_seq += 1
        return self._next_seq

    def change_email(self, user: ZoomUser, email: str) -> None:
        del self._user_ids_by_email[user.email.lower()]
        user.email = email
        self._user_ids_by_email[email.lower()] = user.id

    def remove_user(self, user: ZoomUser) -> None:
        del self.users[user.id]
        del self._user_ids_by_email[user.email.lower()]
        del self._users_by_account[user.account_id][user.id]

    def user_by_ref(self, user_ref: str) -> ZoomUser | None:
        """Find a user by id or by email (case-insensitive), as Zoom's ``{userId}`` accepts both."""
        if user := self.users.get(user_ref):
            return user
        user_id = self._user_ids_by_email.get(user_ref.lower())
        return self.users.get(user_id) if user_id else None

    def users_of_account(self, account_id: str) -> Iterator[ZoomUser]:
        """In creation order (dicts keep insertion order), without walking other accounts' users."""
        return iter(list(self._users_by_account.get(account_id, {}).values()))

    # Grants

    def live_grants(self, *, client_id: str | None = None, user_id: str | None = None) -> list[Grant]:
        return [
            grant
            for grant in self.grants.values()
            if not grant.revoked
            and (client_id is None or grant.client_id == client_id)
            and (user_id is None or grant.user_id == user_id)
        ]

    # Meetings

    def new_number(self, low: int, high: int) -> int:
        """A PMI or meeting id not yet used in this sandbox."""
        while True:
            number = low + secrets.randbelow(high - low + 1)
            if number not in self._numbers_in_use:
                self._numbers_in_use.add(number)
                return number

    def add_meeting(self, meeting: Meeting) -> None:
        self.meetings[meeting.uuid] = meeting
        self._meeting_uuids_by_id.setdefault(meeting.id, []).append(meeting.uuid)

    def meeting_by_id(self, meeting_id: int) -> Meeting | None:
        """The meeting with this id (the latest, should two ever share one)."""
        uuids = self._meeting_uuids_by_id.get(meeting_id)
        return self.meetings[uuids[-1]] if uuids else None

    def meetings_of(self, host_id: str) -> list[Meeting]:
        """A host's meetings in the order they were made."""
        return sorted((m for m in self.meetings.values() if m.host_id == host_id), key=lambda m: m.created_at)

    def remove_meeting(self, meeting: Meeting) -> None:
        del self.meetings[meeting.uuid]
        uuids = self._meeting_uuids_by_id[meeting.id]
        uuids.remove(meeting.uuid)
        if not uuids:
            del self._meeting_uuids_by_id[meeting.id]

    # Traffic

    def count_qps(self, account_id: str, category: str) -> int:
        """Count one call in the current second; returns the calls so far in that second."""
        second = int(self.now().timestamp())
        if second != self._qps_second:
            self._qps_second = second
            self._qps_counts = {}
        key = (account_id, category)
        self._qps_counts[key] = self._qps_counts.get(key, 0) + 1
        return self._qps_counts[key]

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The first fault matching this call, counted down and dropped when used up."""
        for fault in self.faults:
            if fault.matches(method, path):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None
