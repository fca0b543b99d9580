"""Request and response bodies of the meetings API (API.md "Meetings")."""

from __future__ import annotations

from datetime import datetime

import msgspec
from msgspec import UNSET, UnsetType

from domain.meeting_model import Meeting, MeetingStatus
from domain.model import ConnectionType


class MeetingIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    topic: str
    #: RFC 3339; without an offset it is read in `timezone`.
    start_time: str
    duration_minutes: int
    timezone: str | None = None
    agenda: str | None = None
    passcode: str | None = None


class MeetingPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    topic: str | UnsetType = UNSET
    start_time: str | UnsetType = UNSET
    duration_minutes: int | UnsetType = UNSET
    timezone: str | UnsetType = UNSET
    agenda: str | UnsetType = UNSET


class MeetingConnectionOut(msgspec.Struct, frozen=True, kw_only=True):
    type: ConnectionType
    zoom_user_email: str


class MeetingOut(msgspec.Struct, frozen=True, kw_only=True):
    """Never the start URL (R15, R22): the host reaches it through `…/start`."""

    id: str
    topic: str
    start_time: datetime
    duration_minutes: int
    timezone: str
    agenda: str
    join_url: str | None
    passcode: str | None
    zoom_meeting_id: int | None
    connection: MeetingConnectionOut
    status: MeetingStatus
    status_reason: str | None
    in_personal_room: bool
    created_at: datetime
    #: When Zoom was read for this answer (GET of one meeting); null when it was not.
    fetched_at: datetime | None = None


class MeetingsPageOut(msgspec.Struct, frozen=True, kw_only=True):
    items: list[MeetingOut]
    next_cursor: str | None


def meeting_out(meeting: Meeting, fetched_at: datetime | None = None) -> MeetingOut:
    return MeetingOut(
        id=meeting.id,
        topic=meeting.topic,
        start_time=meeting.start_time,
        duration_minutes=meeting.duration_minutes,
        timezone=meeting.timezone,
        agenda=meeting.agenda,
        join_url=meeting.join_url,
        passcode=meeting.passcode,
        zoom_meeting_id=meeting.zoom_meeting_id,
        connection=MeetingConnectionOut(type=meeting.connection_type, zoom_user_email=meeting.zoom_user_email),
        status=meeting.status,
        status_reason=meeting.status_reason,
        in_personal_room=meeting.in_personal_room,
        created_at=meeting.created_at,
        fetched_at=fetched_at,
    )
