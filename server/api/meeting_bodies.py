"""Request and response bodies of the meetings API (docs/api.md#meetings)."""

from __future__ import annotations

from datetime import datetime

import msgspec
from msgspec import UNSET, UnsetType

from domain.meeting_model import Meeting, MeetingView, view_of


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


class MeetingOut(MeetingView, frozen=True, kw_only=True):
    #: When Zoom was read for this answer (GET of one meeting); null when it was not.
    fetched_at: datetime | None = None


class MeetingsPageOut(msgspec.Struct, frozen=True, kw_only=True):
    items: list[MeetingOut]
    next_cursor: str | None


def meeting_out(meeting: Meeting, fetched_at: datetime | None = None) -> MeetingOut:
    return MeetingOut(**msgspec.structs.asdict(view_of(meeting)), fetched_at=fetched_at)


class LeftInZoomItem(msgspec.Struct, frozen=True, kw_only=True):
    #: The member the meeting was made for.
    host_user_id: str
    #: The remote session it was made for, if any.
    session_id: str | None
    meeting: MeetingView


class LeftInZoomOut(msgspec.Struct, frozen=True, kw_only=True):
    items: list[LeftInZoomItem]


def left_in_zoom_out(meetings: list[Meeting]) -> LeftInZoomOut:
    return LeftInZoomOut(
        items=[LeftInZoomItem(host_user_id=m.user_id, session_id=m.session_id, meeting=view_of(m)) for m in meetings]
    )
