"""A Roomlink meeting and Zoom's: what Zoom is asked to make (with the intent's marker), what its answers
are recorded as (R15; R17, whether it landed in the PMI room), what a read or an event from Zoom
changes (R21), and its refusals in Roomlink's words."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from domain.errors import (
    ConnectionBroken,
    MeetingNotChangeable,
    MemberNotConnected,
    ZoomPermissionMissing,
)
from domain.meeting_hosts import reconnect_reason
from domain.meeting_model import (
    Meeting,
    MeetingHost,
    MeetingStatus,
    ZoomMeeting,
    ZoomMeetingRequest,
    with_marker,
    without_marker,
)
from domain.meeting_ports import (
    ZoomHostGone,
    ZoomMeetingGone,
    ZoomNotTheHost,
    ZoomScopeMissing,
)
from domain.pmi import (
    CreatedInZoom,
    HostPmiSettings,
    personal_room_fix,
    personal_room_signals,
)

GONE_FROM_ZOOM = "The meeting was deleted in Zoom; recreate it or cancel it here."
NOT_THE_HOST = "Zoom says this Zoom user is no longer the meeting's host."
HOST_GONE = "The Zoom user that hosts this meeting is no longer in the Zoom account."


def zoom_request(meeting: Meeting, pmi: HostPmiSettings) -> ZoomMeetingRequest:
    """What Zoom is asked to make; the agenda carries the intent's marker (R23). R17: when the host's settings may
    put it in their PMI room, no passcode is sent, since Zoom would make it the PMI's passcode for every meeting."""
    return ZoomMeetingRequest(
        topic=meeting.topic,
        start_time=meeting.start_time,
        duration_minutes=meeting.duration_minutes,
        timezone=meeting.timezone,
        agenda=with_marker(meeting.agenda, meeting.marker),
        passcode=None if pmi.use_pmi_for_scheduled_meetings else meeting.passcode,
        alternative_hosts=meeting.alternative_hosts,
    )


def recorded_in_zoom(meeting: Meeting, made: ZoomMeeting, pmi: HostPmiSettings, now: datetime) -> Meeting:
    """R15: what Zoom answered that the features need; R17: whether it landed in the PMI room."""
    signals = personal_room_signals(
        CreatedInZoom(zoom_meeting_id=made.zoom_meeting_id, join_url=made.join_url, pmi=made.pmi, use_pmi=made.use_pmi),
        pmi,
    )
    in_room = bool(signals)
    return msgspec.structs.replace(
        meeting,
        zoom_meeting_id=made.zoom_meeting_id,
        zoom_uuid=made.uuid,
        join_url=made.join_url,
        passcode=made.passcode,
        start_time=made.start_time or meeting.start_time,
        status=MeetingStatus.SCHEDULED,
        # Roomlink sent use_pmi: false; a meeting in the PMI room anyway means the setting is locked on.
        status_reason=personal_room_fix(pmi, locked=True) if in_room else None,
        in_personal_room=in_room,
        lease_until=None,
        not_before=None,
        updated_at=now,
    )


def as_in_zoom(meeting: Meeting, in_zoom: ZoomMeeting, now: datetime) -> Meeting:
    """The meeting as a read from Zoom has it (R21): found again in Zoom, it no longer needs attention."""
    status, reason = meeting.status, meeting.status_reason
    if status is MeetingStatus.NEEDS_ATTENTION and reason in (GONE_FROM_ZOOM, HOST_GONE, NOT_THE_HOST):
        status, reason = MeetingStatus.SCHEDULED, None
    fresh = msgspec.structs.replace(
        meeting,
        topic=in_zoom.topic,
        start_time=in_zoom.start_time or meeting.start_time,
        duration_minutes=in_zoom.duration_minutes,
        timezone=in_zoom.timezone or meeting.timezone,
        agenda=without_marker(in_zoom.agenda),
        join_url=in_zoom.join_url,
        passcode=in_zoom.passcode,
        status=status,
        status_reason=reason,
    )
    return fresh if fresh == meeting else msgspec.structs.replace(fresh, updated_at=now)


def with_zoom_fields(meeting: Meeting, fields: dict[str, object], now: datetime) -> Meeting:
    """A meeting.updated event's fields, in Zoom's names; a field the event leaves out stays as it is."""
    changes: dict[str, object] = {}
    if isinstance(fields.get("topic"), str):
        changes["topic"] = fields["topic"]
    if isinstance(fields.get("duration"), int):
        changes["duration_minutes"] = fields["duration"]
    if isinstance(fields.get("timezone"), str) and fields["timezone"]:
        changes["timezone"] = fields["timezone"]
    if isinstance(fields.get("agenda"), str):
        changes["agenda"] = without_marker(str(fields["agenda"]))
    if isinstance(fields.get("start_time"), str):
        try:
            changes["start_time"] = datetime.fromisoformat(str(fields["start_time"])).astimezone(UTC)
        except ValueError:
            pass
    if isinstance(fields.get("join_url"), str):
        changes["join_url"] = fields["join_url"]
    if isinstance(fields.get("password"), str):
        changes["passcode"] = fields["password"]
    updated = msgspec.structs.replace(meeting, **changes)
    return updated if updated == meeting else msgspec.structs.replace(updated, updated_at=now)


def zoom_error_for(refused: Exception, host: MeetingHost) -> Exception:
    """Zoom's refusal, as the domain error the caller is answered with."""
    reconnect = reconnect_reason(host.connection)
    if isinstance(refused, ZoomScopeMissing):
        return ZoomPermissionMissing(
            f"Zoom refused: the connection lacks the permission {refused.scope}; reconnect Zoom to grant it.",
            errors={"permission": refused.scope},
        )
    if isinstance(refused, ConnectionBroken):
        return MemberNotConnected("Zoom no longer accepts this connection; it needs reconnecting.", reason=reconnect)
    if isinstance(refused, ZoomHostGone):
        return MeetingNotChangeable(HOST_GONE)
    if isinstance(refused, ZoomNotTheHost):
        return MeetingNotChangeable(NOT_THE_HOST)
    if isinstance(refused, ZoomMeetingGone):
        return MeetingNotChangeable(GONE_FROM_ZOOM)
    return MeetingNotChangeable(f"Zoom refused: {refused}")
