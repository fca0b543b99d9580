"""Meetings: create, read, update, delete, with Zoom's PMI behaviour and daily per-host limit.

PMI: when the host's "use PMI for scheduled meetings" (or, for instant meetings, "for
instant meetings") setting is on and the request does not set ``settings.use_pmi`` to
false, the meeting takes the host's PMI as its id and the PMI's one passcode, as Zoom does.
When an admin locked the setting on, ``use_pmi: false`` is ignored. Several meetings then
share one id; ``/meetings/{id}`` acts on the latest of them, and deleting it is refused
(3018: the PMI room is not deleted).

The daily limit counts creates and updates per host per UTC day; successful writes say
what is left in ``X-RateLimit-Remaining``; the one past it answers 429 with an ISO 8601
``Retry-After`` naming 00:00 UTC.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import UNSET, Meta, UnsetType

from server.zoom_sandbox.errors import FieldError, ZoomApiError, validation_failed
from server.zoom_sandbox.state import (
    Meeting,
    MeetingSettings,
    Sandbox,
    ZoomUser,
    zoom_timestamp,
)

INSTANT, SCHEDULED, RECURRING_NO_FIXED_TIME, RECURRING_FIXED_TIME = 1, 2, 3, 8
MEETING_ID_RANGE = (10**9, 10**11 - 1)  # 10 to 11 digits, as Zoom's meeting ids
DAILY_LIMIT_MESSAGE = (
    "You have exceeded the daily rate limit ({limit}) of Meeting Create/Update API requests permitted "
    "for this particular user. You may resume these requests at GMT 00:00:00."
)

Topic = Annotated[str, Meta(max_length=200)]
Agenda = Annotated[str, Meta(max_length=2000)]
Passcode = Annotated[str, Meta(max_length=10)]
Minutes = Annotated[int, Meta(ge=0)]
MeetingType = Literal[1, 2, 3, 8]


class MeetingSettingsPatch(msgspec.Struct, kw_only=True):
    host_video: bool | UnsetType = UNSET
    participant_video: bool | UnsetType = UNSET
    join_before_host: bool | UnsetType = UNSET
    mute_upon_entry: bool | UnsetType = UNSET
    waiting_room: bool | UnsetType = UNSET
    use_pmi: bool | UnsetType = UNSET
    approval_type: Literal[0, 1, 2] | UnsetType = UNSET
    audio: Literal["both", "telephony", "voip", "thirdParty"] | UnsetType = UNSET
    auto_recording: Literal["local", "cloud", "none"] | UnsetType = UNSET
    #: Emails or ids, `;`-separated: users of the host's account (checked by check_alternative_hosts).
    alternative_hosts: str | UnsetType = UNSET


class MeetingCreate(msgspec.Struct, kw_only=True):
    """The part of Zoom's create-meeting body the sandbox honours; other fields are ignored, as Zoom does."""

    topic: Topic = "Zoom Meeting"
    type: MeetingType = SCHEDULED
    start_time: str | None = None
    duration: Minutes = 60
    timezone: str | None = None
    agenda: Agenda = ""
    password: Passcode | None = None
    settings: MeetingSettingsPatch = msgspec.field(default_factory=MeetingSettingsPatch)


class MeetingUpdate(msgspec.Struct, kw_only=True):
    topic: Topic | UnsetType = UNSET
    start_time: str | UnsetType = UNSET
    duration: Minutes | UnsetType = UNSET
    timezone: str | UnsetType = UNSET
    agenda: Agenda | UnsetType = UNSET
    password: Passcode | UnsetType = UNSET
    settings: MeetingSettingsPatch | UnsetType = UNSET


class MeetingBody(msgspec.Struct, kw_only=True):
    id: int
    uuid: str
    host_id: str
    host_email: str
    topic: str
    type: int
    start_time: str
    duration: int
    timezone: str
    agenda: str
    created_at: str
    start_url: str
    join_url: str
    password: str
    settings: MeetingSettings


class CreatedMeeting(MeetingBody, kw_only=True):
    #: An integer here but a string in "Get a meeting": that is how Zoom's documents have it.
    pmi: int | UnsetType = UNSET


class MeetingDetail(MeetingBody, kw_only=True):
    status: str
    encrypted_password: str
    pmi: str | UnsetType = UNSET


#: A start URL carries the host's sign-in and works this long (custCreate users aside).
START_URL_TTL = timedelta(hours=2)


def create_meeting(sandbox: Sandbox, host: ZoomUser, request: MeetingCreate) -> tuple[Meeting, int]:
    """The meeting, and the host's meeting writes left today."""
    start_time = parse_start_time(request.start_time, request.timezone or host.timezone) or sandbox.now()
    check_alternative_hosts(sandbox, host, request.settings.alternative_hosts)
    use_pmi = uses_pmi(host, request)
    remaining = count_meeting_write(sandbox, host)
    settings = patched_settings(MeetingSettings(), request.settings)
    settings.use_pmi = use_pmi
    meeting = Meeting(
        id=host.pmi if use_pmi else sandbox.new_number(*MEETING_ID_RANGE),
        uuid=base64.b64encode(secrets.token_bytes(16)).decode(),
        host_id=host.id,
        topic=request.topic,
        type=request.type,
        start_time=start_time,
        duration=request.duration,
        timezone=request.timezone or host.timezone,
        agenda=request.agenda,
        password=host.pmi_password if use_pmi else request.password or new_passcode(),
        created_at=sandbox.now(),
        settings=settings,
    )
    sandbox.add_meeting(meeting)
    return meeting, remaining


def update_meeting(sandbox: Sandbox, meeting: Meeting, request: MeetingUpdate, *, counted: bool = True) -> int | None:
    """Apply a change; an API call counts against the host's daily limit (a change made in Zoom's own
    pages does not). Returns the writes left today when counted."""
    host = sandbox.users[meeting.host_id]
    timezone = meeting.timezone if request.timezone is UNSET else request.timezone
    start_time = None if request.start_time is UNSET else parse_start_time(request.start_time, timezone)
    if request.settings is not UNSET:
        check_alternative_hosts(sandbox, host, request.settings.alternative_hosts)
    remaining = count_meeting_write(sandbox, host) if counted else None
    if request.topic is not UNSET:
        meeting.topic = request.topic
    if start_time is not None:
        meeting.start_time = start_time
    if request.duration is not UNSET:
        meeting.duration = request.duration
    meeting.timezone = timezone
    if request.agenda is not UNSET:
        meeting.agenda = request.agenda
    if request.password is not UNSET and not meeting.settings.use_pmi:
        meeting.password = request.password
    if request.settings is not UNSET:
        # A meeting's room (PMI or its own id) is fixed at creation in the sandbox.
        meeting.settings = patched_settings(meeting.settings, request.settings, keep_use_pmi=True)
    return remaining


def check_alternative_hosts(sandbox: Sandbox, host: ZoomUser, value: str | UnsetType) -> None:
    """Zoom takes as alternative hosts only (licensed) users of the host's own account, never the host. The
    exact error Zoom gives is not in its documents; the sandbox answers 400 with the generic code 3000."""
    if value is UNSET or not value:
        return
    for entry in filter(None, (part.strip() for part in value.split(";"))):
        user = next(
            (u for u in sandbox.users.values() if entry.lower() in (u.id.lower(), u.email.lower())), None
        )
        if user is None or user.account_id != host.account_id or user.status != "active" or user.id == host.id:
            raise ZoomApiError(400, 3000, f"Invalid alternative host: {entry}. Alternative hosts must be users of the same account.")


def uses_pmi(host: ZoomUser, request: MeetingCreate) -> bool:
    if host.pmi_setting_locked and host.use_pmi_for_scheduled_meetings and request.type in (SCHEDULED, RECURRING_NO_FIXED_TIME):
        return True
    if request.settings.use_pmi is not UNSET:
        return request.settings.use_pmi and request.type != RECURRING_FIXED_TIME
    if request.type == INSTANT:
        return host.use_pmi_for_instant_meetings
    if request.type in (SCHEDULED, RECURRING_NO_FIXED_TIME):
        return host.use_pmi_for_scheduled_meetings
    return False


def patched_settings(
    settings: MeetingSettings, patch: MeetingSettingsPatch, *, keep_use_pmi: bool = False
) -> MeetingSettings:
    changes = {name: value for name, value in msgspec.structs.asdict(patch).items() if value is not UNSET}
    if keep_use_pmi:
        changes.pop("use_pmi", None)
    return msgspec.structs.replace(settings, **changes)


def parse_start_time(value: str | None, timezone: str) -> datetime | None:
    """Zoom takes ``...Z`` as UTC and a local time as being in the meeting's (or host's) timezone."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
        zone = ZoneInfo(timezone)
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise validation_failed(FieldError(field="start_time", message=str(exc))) from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)


def count_meeting_write(sandbox: Sandbox, host: ZoomUser) -> int:
    """Count a create or update against the host's daily limit, or refuse it with Zoom's 429.

    Returns what is left today, for ``X-RateLimit-Remaining``."""
    now = sandbox.now().astimezone(UTC)
    key = (host.id, now.date())
    limit = sandbox.settings.daily_meeting_limit
    used = sandbox.meeting_writes.get(key, 0)
    if used >= limit:
        next_midnight = datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=UTC)
        raise ZoomApiError(
            429,
            429,
            DAILY_LIMIT_MESSAGE.format(limit=limit),
            headers={
                # Zoom's daily limits name the reset as ISO 8601 (e.g. 2020-05-31T00:00:00Z).
                "Retry-After": zoom_timestamp(next_midnight),
                "X-RateLimit-Type": "Daily-limit",
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": "0",
            },
        )
    sandbox.meeting_writes[key] = used + 1
    return limit - used - 1


def new_passcode() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(6))


def encrypted_password(meeting: Meeting) -> str:
    """The ``pwd`` of join links: derived from id and passcode, so PMI meetings share it as Zoom's do."""
    digest = hashlib.sha256(f"{meeting.id}:{meeting.password}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def new_start_key(sandbox: Sandbox, meeting: Meeting) -> str:
    """Every read hands out a fresh host key that expires, as Zoom's start URLs do."""
    key = secrets.token_urlsafe(24)
    sandbox.start_keys[key] = (meeting.id, sandbox.now() + START_URL_TTL)
    return key


def start_key_works(sandbox: Sandbox, key: str, meeting_id: int) -> bool:
    issued = sandbox.start_keys.get(key)
    return issued is not None and issued[0] == meeting_id and issued[1] > sandbox.now()


def in_personal_room(meeting: Meeting, host: ZoomUser) -> bool:
    return meeting.id == host.pmi


def meeting_fields(sandbox: Sandbox, meeting: Meeting, host: ZoomUser, base_url: str) -> dict[str, object]:
    return {
        "id": meeting.id,
        "uuid": meeting.uuid,
        "host_id": host.id,
        "host_email": host.email,
        "topic": meeting.topic,
        "type": meeting.type,
        "start_time": zoom_timestamp(meeting.start_time),
        "duration": meeting.duration,
        "timezone": meeting.timezone,
        "agenda": meeting.agenda,
        "created_at": zoom_timestamp(meeting.created_at),
        "start_url": f"{base_url}s/{meeting.id}?zak={new_start_key(sandbox, meeting)}",
        "join_url": f"{base_url}j/{meeting.id}?pwd={encrypted_password(meeting)}",
        "password": meeting.password,
        "settings": meeting.settings,
    }


def created_meeting_body(sandbox: Sandbox, meeting: Meeting, host: ZoomUser, base_url: str) -> CreatedMeeting:
    pmi = meeting.id if meeting.settings.use_pmi else UNSET
    return CreatedMeeting(**meeting_fields(sandbox, meeting, host, base_url), pmi=pmi)


def meeting_detail_body(sandbox: Sandbox, meeting: Meeting, host: ZoomUser, base_url: str) -> MeetingDetail:
    pmi = str(meeting.id) if meeting.settings.use_pmi else UNSET
    return MeetingDetail(
        **meeting_fields(sandbox, meeting, host, base_url),
        status="waiting",
        encrypted_password=encrypted_password(meeting),
        pmi=pmi,
    )


class MeetingListItem(msgspec.Struct, kw_only=True):
    """One meeting of "List meetings": fewer fields than "Get a meeting", no passcode, no start URL."""

    uuid: str
    id: int
    host_id: str
    topic: str
    type: int
    start_time: str
    duration: int
    timezone: str
    agenda: str
    created_at: str
    join_url: str
    pmi: str | UnsetType = UNSET


class MeetingPage(msgspec.Struct, kw_only=True):
    page_size: int
    total_records: int
    #: Empty on the last page, as Zoom sends it.
    next_page_token: str
    meetings: list[MeetingListItem]


MeetingListType = Literal["scheduled", "live", "upcoming", "upcoming_meetings", "previous_meetings"]


def listed(sandbox: Sandbox, host: ZoomUser, list_type: str) -> list[Meeting]:
    """Zoom's list types the sandbox knows: upcoming ones start from now on; scheduled ones are all
    the host's scheduled meetings."""
    now = sandbox.now()
    meetings = [m for m in sandbox.meetings_of(host.id) if m.type != INSTANT]
    if list_type in ("upcoming", "upcoming_meetings"):
        return [m for m in meetings if m.start_time + timedelta(minutes=m.duration) > now]
    if list_type == "previous_meetings":
        return [m for m in meetings if m.start_time + timedelta(minutes=m.duration) <= now]
    if list_type == "live":
        return []
    return meetings


def meeting_list_item(meeting: Meeting, base_url: str) -> MeetingListItem:
    return MeetingListItem(
        uuid=meeting.uuid,
        id=meeting.id,
        host_id=meeting.host_id,
        topic=meeting.topic,
        type=meeting.type,
        start_time=zoom_timestamp(meeting.start_time),
        duration=meeting.duration,
        timezone=meeting.timezone,
        agenda=meeting.agenda,
        created_at=zoom_timestamp(meeting.created_at),
        join_url=f"{base_url}j/{meeting.id}?pwd={encrypted_password(meeting)}",
        pmi=str(meeting.id) if meeting.settings.use_pmi else UNSET,
    )
