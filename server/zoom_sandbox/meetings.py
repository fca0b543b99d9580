"""Meetings: create, read, update, delete, with Zoom's PMI behaviour and daily per-host limit.

PMI, as Zoom's "Understanding PMI" (Using Zoom APIs) describes it: when the host's "use PMI for
scheduled meetings" (or, for instant meetings, "for instant meetings") setting is on and the request
does not set ``settings.use_pmi`` to false, the meeting is held in the host's PMI room. It still gets
a unique meeting id, which the create answer carries together with ``pmi``; "Get a meeting" shows it
as type 4 (a personal meeting room); its join link is the PMI room's, with the PMI's one passcode; and
its webhook events show the PMI as the meeting's ``id`` (its uuid and host stay its own). A passcode
sent with it becomes the PMI's passcode. When an admin locked the setting on, ``use_pmi: false`` is
ignored. Such a meeting is deleted by its own id (204); only the PMI room itself (``DELETE
/meetings/{pmi}``) is refused with 3018.

The daily limit counts creates and updates per host per UTC day; successful writes say what is left
in ``X-RateLimit-Remaining``; the one past it answers 429 with an ISO 8601 ``Retry-After`` naming
00:00 UTC, or, as Zoom's Meetings document also has it for create and update, HTTP 300 with the
limit's message (the sandbox setting ``daily_limit_status``).
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
#: The Meetings document's HTTP 300 for create and update (code 300).
DAILY_LIMIT_300_MESSAGE = "A maximum of {limit} meetings can be created/updated for a single user in one day."
#: "Get a meeting" and meeting events: a meeting held in the host's personal meeting room.
PERSONAL_ROOM_TYPE = 4

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
    if use_pmi and request.password:
        host.pmi_password = request.password  # Zoom: a passcode sent for a PMI meeting is the PMI's from now on
    meeting = Meeting(
        id=sandbox.new_number(*MEETING_ID_RANGE),
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
    if request.password is not UNSET:
        if meeting.settings.use_pmi:
            host.pmi_password = request.password
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
        if sandbox.settings.daily_limit_status == 300:
            raise ZoomApiError(300, 300, DAILY_LIMIT_300_MESSAGE.format(limit=limit))
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


def room_id(meeting: Meeting, host: ZoomUser) -> int:
    """The meeting number participants join: the PMI for a meeting held in the PMI room, else its own id."""
    return host.pmi if meeting.settings.use_pmi else meeting.id


def passcode_of(meeting: Meeting, host: ZoomUser) -> str:
    """A meeting in the PMI room has the PMI's one passcode, whatever it was when the meeting was made."""
    return host.pmi_password if meeting.settings.use_pmi else meeting.password


def encrypted_password(meeting: Meeting, host: ZoomUser) -> str:
    """The ``pwd`` of join links: derived from room and passcode, so PMI meetings share it as Zoom's do."""
    digest = hashlib.sha256(f"{room_id(meeting, host)}:{passcode_of(meeting, host)}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def join_url(meeting: Meeting, host: ZoomUser, base_url: str) -> str:
    return f"{base_url}j/{room_id(meeting, host)}?pwd={encrypted_password(meeting, host)}"


def new_start_key(sandbox: Sandbox, meeting: Meeting) -> str:
    """Every read hands out a fresh host key that expires, as Zoom's start URLs do."""
    key = secrets.token_urlsafe(24)
    sandbox.start_keys[key] = (meeting.id, sandbox.now() + START_URL_TTL)
    return key


def room_meeting(sandbox: Sandbox, number: str, start_key: str | None) -> Meeting | None:
    """The meeting a join or start link's number leads to: a meeting's own id, or a host's PMI room, where the
    start key names the meeting and a join goes to the room's latest meeting."""
    if not number.isdigit():
        return None
    if (meeting := sandbox.meeting_by_id(int(number))) is not None:
        return meeting
    host = next((user for user in sandbox.users.values() if user.pmi == int(number)), None)
    if host is None:
        return None
    in_room = [m for m in sandbox.meetings_of(host.id) if in_personal_room(m)]
    if start_key is not None:
        issued = sandbox.start_keys.get(start_key)
        return next((m for m in in_room if issued and m.id == issued[0]), None)
    return in_room[-1] if in_room else None


def start_key_works(sandbox: Sandbox, key: str, meeting_id: int) -> bool:
    issued = sandbox.start_keys.get(key)
    return issued is not None and issued[0] == meeting_id and issued[1] > sandbox.now()


def in_personal_room(meeting: Meeting) -> bool:
    return meeting.settings.use_pmi


def shown_type(meeting: Meeting) -> int:
    """"Get a meeting", lists and events show a meeting held in the PMI room as type 4."""
    return PERSONAL_ROOM_TYPE if in_personal_room(meeting) else meeting.type


def meeting_fields(sandbox: Sandbox, meeting: Meeting, host: ZoomUser, base_url: str) -> dict[str, object]:
    return {
        "id": meeting.id,
        "uuid": meeting.uuid,
        "host_id": host.id,
        "host_email": host.email,
        "topic": meeting.topic,
        "type": shown_type(meeting),
        "start_time": zoom_timestamp(meeting.start_time),
        "duration": meeting.duration,
        "timezone": meeting.timezone,
        "agenda": meeting.agenda,
        "created_at": zoom_timestamp(meeting.created_at),
        "start_url": f"{base_url}s/{room_id(meeting, host)}?zak={new_start_key(sandbox, meeting)}",
        "join_url": join_url(meeting, host, base_url),
        "password": passcode_of(meeting, host),
        "settings": meeting.settings,
    }


def created_meeting_body(sandbox: Sandbox, meeting: Meeting, host: ZoomUser, base_url: str) -> CreatedMeeting:
    fields = meeting_fields(sandbox, meeting, host, base_url)
    # The create answer has the type asked for; "Get a meeting" shows the room's (4).
    fields["type"] = meeting.type
    return CreatedMeeting(**fields, pmi=host.pmi if in_personal_room(meeting) else UNSET)


def meeting_detail_body(sandbox: Sandbox, meeting: Meeting, host: ZoomUser, base_url: str) -> MeetingDetail:
    return MeetingDetail(
        **meeting_fields(sandbox, meeting, host, base_url),
        status="waiting",
        encrypted_password=encrypted_password(meeting, host),
        pmi=str(host.pmi) if in_personal_room(meeting) else UNSET,
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


def meeting_list_item(meeting: Meeting, host: ZoomUser, base_url: str) -> MeetingListItem:
    return MeetingListItem(
        uuid=meeting.uuid,
        id=meeting.id,
        host_id=meeting.host_id,
        topic=meeting.topic,
        type=shown_type(meeting),
        start_time=zoom_timestamp(meeting.start_time),
        duration=meeting.duration,
        timezone=meeting.timezone,
        agenda=meeting.agenda,
        created_at=zoom_timestamp(meeting.created_at),
        join_url=join_url(meeting, host, base_url),
        pmi=str(host.pmi) if in_personal_room(meeting) else UNSET,
    )
