"""What a caller asks a meeting to be, checked before anything is recorded or Zoom is called: the commands,
Zoom's limits on each field, and the digest an Idempotency-Key promises (R23)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import UNSET, UnsetType

from domain.access import Principal
from domain.errors import InvalidInput
from domain.identifiers import has_control_characters
from domain.meeting_model import Meeting

TOPIC_MAX = 200
#: Zoom's agenda holds 2,000 characters; the intent's marker takes some.
AGENDA_MAX = 1900
DURATION_MAX = 24 * 60
PASSCODE = re.compile(r"^[A-Za-z0-9@\-_*]{1,10}$")


class CreateMeeting(msgspec.Struct, frozen=True, kw_only=True):
    principal: Principal
    topic: str
    #: RFC 3339; a time without an offset is read in `timezone`.
    start_time: str
    duration_minutes: int
    timezone: str | None = None
    agenda: str | None = None
    passcode: str | None = None
    idempotency_key: str | None = None


class ChangeMeeting(msgspec.Struct, frozen=True, kw_only=True):
    """A PATCH: UNSET fields are left as they are."""

    topic: str | UnsetType = UNSET
    start_time: str | UnsetType = UNSET
    duration_minutes: int | UnsetType = UNSET
    timezone: str | UnsetType = UNSET
    agenda: str | UnsetType = UNSET


def parse_start_time(
    value: str, timezone: str, now: datetime, errors: dict[str, str], *, unchanged: datetime | None = None
) -> datetime | None:
    """UTC; a time without an offset is read in `timezone`. A past time is refused, except `unchanged` (what is
    stored already, sent again)."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        errors["start_time"] = "must be an RFC 3339 date-time, e.g. 2026-12-24T15:00:00Z"
        return None
    if moment.tzinfo is None:
        try:
            moment = moment.replace(tzinfo=ZoneInfo(timezone))
        except (ZoneInfoNotFoundError, ValueError):
            return None
    moment = moment.astimezone(UTC)
    if moment <= now and moment != unchanged:
        errors["start_time"] = "is in the past"
        return None
    return moment


#: Days and instants Roomlink can compute a day around and store: a day inside what a datetime can hold, so
#: a day's midnight in any time zone, and the day after, still convert to UTC.
EARLIEST_DAY = date(1, 1, 2)
LATEST_DAY = date(9999, 12, 30)
_RANGE_WORDS = f"must be between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}"


def check_day(value: date | None, field: str = "day") -> date | None:
    if value is not None and not EARLIEST_DAY <= value <= LATEST_DAY:
        raise InvalidInput(f"`{field}` {_RANGE_WORDS}; nothing was changed.", errors={field: _RANGE_WORDS})
    return value


def check_window(**moments: datetime | None) -> None:
    """A list's `from` and `to`, each a moment that converts to UTC within the days above."""
    errors: dict[str, str] = {}
    for field, moment in moments.items():
        if moment is None:
            continue
        try:
            in_utc = moment.astimezone(UTC)
        except (OverflowError, ValueError):
            in_utc = None
        if in_utc is None or not EARLIEST_DAY <= in_utc.date() <= LATEST_DAY:
            errors[field] = _RANGE_WORDS + " (UTC)"
    if errors:
        raise InvalidInput("A time of the list is out of range; nothing was changed.", errors=errors)


def check_timezone(value: str, errors: dict[str, str]) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = "is not a known IANA time zone, e.g. Europe/Paris"
    return value


def check_topic(value: str, errors: dict[str, str]) -> str:
    topic = value.strip()
    if not topic:
        errors["topic"] = "must not be empty"
    elif len(topic) > TOPIC_MAX:
        errors["topic"] = f"must be at most {TOPIC_MAX} characters (Zoom's limit)"
    elif has_control_characters(topic):
        # A topic is one line, shown in calendars and Zoom's clients: no NUL, tab, line break or C1 control.
        errors["topic"] = "must not contain control characters (line breaks, tabs, NUL…)"
    return topic


def check_duration(value: int, errors: dict[str, str]) -> int:
    if value <= 0 or value > DURATION_MAX:
        errors["duration_minutes"] = f"must be between 1 and {DURATION_MAX} minutes"
    return value


def check_agenda(value: str, errors: dict[str, str]) -> str:
    if len(value) > AGENDA_MAX:
        errors["agenda"] = f"must be at most {AGENDA_MAX} characters"
    elif has_control_characters(value.replace("\t", "").replace("\n", "").replace("\r", "")):
        # An agenda may have lines and tabs; nothing else of C0/C1 (NUL cannot even be stored).
        errors["agenda"] = "must not contain control characters other than line breaks and tabs"
    return value


def _invalid(errors: dict[str, str]) -> InvalidInput:
    return InvalidInput("The meeting is invalid; nothing was changed and Zoom was not called.", errors=errors)


class MeetingRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What a meeting is asked to be, checked."""

    topic: str
    start_time: datetime
    duration_minutes: int
    timezone: str
    agenda: str
    passcode: str | None


def checked(cmd: CreateMeeting, now: datetime) -> MeetingRequest:
    errors: dict[str, str] = {}
    timezone = check_timezone(cmd.timezone or "UTC", errors)
    topic = check_topic(cmd.topic, errors)
    start_time = parse_start_time(cmd.start_time, timezone, now, errors)
    duration = check_duration(cmd.duration_minutes, errors)
    agenda = check_agenda(cmd.agenda or "", errors)
    if cmd.passcode is not None and not PASSCODE.fullmatch(cmd.passcode):
        errors["passcode"] = "must be 1–10 characters of letters, digits and @ - _ *"
    if cmd.idempotency_key is not None and not 1 <= len(cmd.idempotency_key) <= 255:
        errors["Idempotency-Key"] = "must be 1–255 characters"
    if errors or start_time is None:
        raise _invalid(errors)
    return MeetingRequest(
        topic=topic, start_time=start_time, duration_minutes=duration, timezone=timezone, agenda=agenda, passcode=cmd.passcode
    )


def request_hash(request: MeetingRequest) -> str:
    """What an Idempotency-Key promises: the same key comes with the same request."""
    text = "\x1f".join(
        [request.topic, request.start_time.isoformat(), str(request.duration_minutes), request.timezone, request.agenda,
         request.passcode or ""]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def changes_of(meeting: Meeting, change: ChangeMeeting, now: datetime) -> dict[str, object]:
    """Only what differs from the meeting (R20: Zoom is asked for nothing it doesn't need)."""
    errors: dict[str, str] = {}
    changes: dict[str, object] = {}
    timezone = meeting.timezone if change.timezone is UNSET else check_timezone(change.timezone, errors)
    if change.topic is not UNSET:
        changes["topic"] = check_topic(change.topic, errors)
    if change.start_time is not UNSET:
        start = parse_start_time(change.start_time, timezone, now, errors)
        if start is not None:
            changes["start_time"] = start
    if change.duration_minutes is not UNSET:
        changes["duration_minutes"] = check_duration(change.duration_minutes, errors)
    if change.timezone is not UNSET:
        changes["timezone"] = timezone
    if change.agenda is not UNSET:
        changes["agenda"] = check_agenda(change.agenda, errors)
    if errors:
        raise _invalid(errors)
    return {name: value for name, value in changes.items() if getattr(meeting, name) != value}
