"""Meetings Roomlink made in Zoom for members, and what Zoom says about them."""

from __future__ import annotations

import enum
from datetime import datetime

import msgspec

from domain.model import Connection, ConnectionType


class MeetingStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    #: Asked for, not in Zoom yet: being created, waiting for the daily limit, or for Zoom to answer.
    PENDING = "pending"
    CANCELLED = "cancelled"
    #: Gone from Zoom, or its connection is gone (R19, R21): a person must decide.
    NEEDS_ATTENTION = "needs_attention"


class Meeting(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    org_id: str
    #: The member the meeting is for: its host.
    user_id: str
    #: R19: the connection and Zoom user that made it; updates and cancellation go through them.
    connection_id: str
    connection_type: ConnectionType
    zoom_user_id: str
    zoom_user_email: str
    topic: str
    start_time: datetime
    duration_minutes: int
    timezone: str
    agenda: str
    #: The passcode asked for until Zoom answers, then Zoom's.
    passcode: str | None
    zoom_meeting_id: int | None
    join_url: str | None
    status: MeetingStatus
    status_reason: str | None
    #: R17: Zoom put it in the host's Personal Meeting ID room.
    in_personal_room: bool
    #: R23: the caller's Idempotency-Key and a digest of what it asked.
    idempotency_key: str | None
    request_hash: str
    #: Times Roomlink set out to make it in Zoom; after the first, Zoom is searched before creating.
    attempts: int
    #: While set and ahead, one request or job is making it in Zoom; others wait.
    lease_until: datetime | None
    #: A pending meeting waits until then (the daily limit resets at 00:00 UTC).
    not_before: datetime | None
    created_at: datetime
    updated_at: datetime
    #: The remote session (the host product's id) this meeting is for, if any (R16).
    session_id: str | None = None
    #: Zoom's `settings.alternative_hosts`: the co-hosts' Zoom emails, `;`-separated, as Roomlink set them.
    alternative_hosts: str = ""
    #: Cancelled here but still in Zoom: its connection is gone and no connection of the host's reaches its
    #: Zoom user, so only someone in Zoom can cancel it (listed for owners and admins with its link).
    left_in_zoom: bool = False
    #: Zoom's uuid of it: its events name a meeting held in the PMI room by the PMI, but by this uuid too.
    zoom_uuid: str | None = None

    @property
    def marker(self) -> str:
        """What identifies this intent among the host's meetings in Zoom (see `with_marker`)."""
        return f"roomlink:{self.id}"


class MeetingHost(msgspec.Struct, frozen=True, kw_only=True):
    """The Zoom user a meeting belongs to and the connection that acts for them (R5)."""

    connection: Connection
    zoom_user_id: str
    zoom_user_email: str

    @property
    def user_ref(self) -> str:
        """`{userId}` of Zoom's paths: a personal token acts as `me`; the organization's names the seat."""
        return "me" if self.connection.type is ConnectionType.PERSONAL else self.zoom_user_id


class ZoomMeetingRequest(msgspec.Struct, frozen=True, kw_only=True):
    topic: str
    start_time: datetime
    duration_minutes: int
    timezone: str
    #: The member's agenda with the intent's marker.
    agenda: str
    passcode: str | None = None
    alternative_hosts: str = ""


class ZoomMeeting(msgspec.Struct, frozen=True, kw_only=True):
    """A meeting as Zoom has it."""

    zoom_meeting_id: int
    topic: str
    start_time: datetime | None
    duration_minutes: int
    timezone: str
    agenda: str
    join_url: str
    passcode: str | None
    #: Zoom's `pmi` field, present when the meeting is held in the host's PMI room.
    pmi: str | None = None
    use_pmi: bool = False
    uuid: str | None = None


MARKER_PREFIX = "\n\nroomlink:"


def with_marker(agenda: str, marker: str) -> str:
    """The intent's marker rides at the end of the agenda.

    Zoom's list of a host's upcoming meetings returns only a few fields; the agenda is the one of
    them Roomlink may write freely (the topic is the member's; tracking fields need an account admin
    to define them first). A marker there survives edits made in Zoom to the other fields.
    """
    return f"{agenda}\n\n{marker}" if agenda else marker


def without_marker(agenda: str) -> str:
    if agenda.startswith("roomlink:"):
        return ""
    head, found, _ = agenda.rpartition(MARKER_PREFIX)
    return head if found else agenda


def has_marker(agenda: str | None, marker: str) -> bool:
    return bool(agenda) and agenda.rstrip().endswith(marker)


class MeetingConnectionView(msgspec.Struct, frozen=True, kw_only=True):
    type: ConnectionType
    zoom_user_email: str


class MeetingView(msgspec.Struct, frozen=True, kw_only=True):
    """A meeting as the host product sees it, in answers and in events. Never the start URL (R15, R22)."""

    id: str
    topic: str
    start_time: datetime
    duration_minutes: int
    timezone: str
    agenda: str
    join_url: str | None
    passcode: str | None
    zoom_meeting_id: int | None
    connection: MeetingConnectionView
    status: MeetingStatus
    status_reason: str | None
    in_personal_room: bool
    #: Cancelled in Roomlink, still in Zoom with a working link: cancel it in Zoom.
    left_in_zoom: bool
    created_at: datetime


def view_of(meeting: Meeting) -> MeetingView:
    return MeetingView(
        id=meeting.id,
        topic=meeting.topic,
        start_time=meeting.start_time,
        duration_minutes=meeting.duration_minutes,
        timezone=meeting.timezone,
        agenda=meeting.agenda,
        join_url=meeting.join_url,
        passcode=meeting.passcode,
        zoom_meeting_id=meeting.zoom_meeting_id,
        connection=MeetingConnectionView(type=meeting.connection_type, zoom_user_email=meeting.zoom_user_email),
        status=meeting.status,
        status_reason=meeting.status_reason,
        in_personal_room=meeting.in_personal_room,
        left_in_zoom=meeting.left_in_zoom,
        created_at=meeting.created_at,
    )
