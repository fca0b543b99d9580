"""Remote sessions and their bookings (R16, R21): what they are, and what state a session is in.

A session is the host product's class, appointment or demo. While it is remote, not cancelled, not
over, and has at least one booking, it wants one Zoom meeting, made through its host's effective
connection; the meeting is an ordinary Meeting (domain.meeting_model) that names the session.
Everything about a session's state is decided here from its facts, by pure functions.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Protocol

import msgspec

from domain.impact_model import UpcomingAffected
from domain.meeting_model import Meeting, MeetingStatus


class SessionStatus(enum.StrEnum):
    NO_BOOKINGS = "no_bookings"
    LINK_PENDING = "link_pending"
    READY = "ready"
    NEEDS_ATTENTION = "needs_attention"
    CANCELLED = "cancelled"


class RemoteSession(msgspec.Struct, frozen=True, kw_only=True):
    org_id: str
    #: The host product's id.
    id: str
    host_user_id: str
    title: str
    start_time: datetime
    duration_minutes: int
    timezone: str
    remote: bool
    #: Seats; None is unlimited. An appointment is a session of one.
    capacity: int | None
    status: SessionStatus
    status_reason: str | None
    #: Why the host cannot have a meeting made now (no effective connection), in words; None when they can.
    host_problem: str | None
    #: Counts the times the session became ready: a participant is emailed once per time (R16).
    link_generation: int
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime
    #: Members Zoom should take as alternative hosts, where it allows it: seated in the Zoom account the
    #: meeting is made in (the organization's). Elsewhere they are listed and left out of Zoom.
    co_host_user_ids: list[str] = msgspec.field(default_factory=list)
    #: The join link participants were last emailed: ready again with the same link, nobody is emailed again.
    announced_join_url: str | None = None

    @property
    def ends_at(self) -> datetime:
        return self.start_time + timedelta(minutes=self.duration_minutes)


class Booking(msgspec.Struct, frozen=True, kw_only=True):
    org_id: str
    session_id: str
    #: The host product's id.
    id: str
    name: str
    email: str
    user_id: str | None
    #: The link_generation this participant was last emailed the join link for (0: never).
    notified_generation: int
    created_at: datetime


class SessionFacts(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a session's state is decided from."""

    session: RemoteSession
    bookings: int
    #: The session's latest meeting, if any (a cancelled one counts as none).
    meeting: Meeting | None
    #: The co-hosts Zoom can take as alternative hosts, by user id: their Zoom user's email.
    co_host_emails: dict[str, str] = msgspec.field(default_factory=dict)

    @property
    def alternative_hosts(self) -> str:
        """Zoom's `settings.alternative_hosts` for the session's meeting."""
        return ";".join(sorted(self.co_host_emails.values()))


def wants_meeting(session: RemoteSession, bookings: int, now: datetime) -> bool:
    return session.remote and session.cancelled_at is None and bookings > 0 and session.ends_at > now


def live_meeting(meeting: Meeting | None) -> Meeting | None:
    return meeting if meeting is not None and meeting.status is not MeetingStatus.CANCELLED else None


def hosts_meeting(session: RemoteSession, meeting: Meeting | None) -> Meeting | None:
    """The live meeting, if it is the session's host's: after a change of host the old one is on its way out."""
    live = live_meeting(meeting)
    return live if live is not None and live.user_id == session.host_user_id else None


NOT_REMOTE = "Not remote: it has no Zoom meeting."
MEETING_BEING_MADE = "The Zoom meeting is being made."


def session_state(facts: SessionFacts) -> tuple[SessionStatus, str | None]:
    """The one place a session's status and its reason are decided."""
    session, meeting = facts.session, hosts_meeting(facts.session, facts.meeting)
    if session.cancelled_at is not None:
        return SessionStatus.CANCELLED, None
    if not session.remote:
        return (SessionStatus.READY if facts.bookings else SessionStatus.NO_BOOKINGS), NOT_REMOTE
    if session.host_problem is not None:
        return SessionStatus.NEEDS_ATTENTION, session.host_problem
    if meeting is not None and meeting.status is MeetingStatus.NEEDS_ATTENTION:
        return SessionStatus.NEEDS_ATTENTION, meeting.status_reason
    if facts.bookings == 0:
        return SessionStatus.NO_BOOKINGS, None
    if meeting is not None and meeting.status is MeetingStatus.SCHEDULED and meeting.join_url:
        return SessionStatus.READY, meeting.status_reason if meeting.in_personal_room else None
    if meeting is None:
        return SessionStatus.LINK_PENDING, MEETING_BEING_MADE
    return SessionStatus.LINK_PENDING, meeting.status_reason or MEETING_BEING_MADE


class Step(enum.Enum):
    """What a session's meeting needs next to match the session (domain.sessions.reconcile_session)."""

    NOTHING = "nothing"
    CREATE = "create"
    MAKE = "make"
    UPDATE = "update"
    CANCEL = "cancel"
    #: The meeting's connection is gone (R19) and none of the host's reaches its Zoom user: it is closed in
    #: Roomlink and listed as left in Zoom; a session that still wants a meeting gets one through the host's
    #: current Zoom.
    CLOSE_HERE = "close_here"


def changes_for_session(facts: SessionFacts, meeting: Meeting) -> dict[str, object]:
    """What the meeting must change to match the session; only what differs (R20)."""
    session = facts.session
    wanted = {
        "topic": session.title,
        "start_time": session.start_time,
        "duration_minutes": session.duration_minutes,
        "timezone": session.timezone,
        "alternative_hosts": facts.alternative_hosts,
    }
    return {name: value for name, value in wanted.items() if getattr(meeting, name) != value}


def next_step(facts: SessionFacts, reachable: bool, now: datetime) -> Step:
    """`reachable`: Zoom can be asked about the live meeting, through the connection that made it or one of the
    host's that reaches the same Zoom user (False once neither is there)."""
    session, meeting = facts.session, live_meeting(facts.meeting)
    over = session.ends_at <= now
    if meeting is not None and not over and not reachable:
        if session.host_problem is not None and wants_meeting(session, facts.bookings, now):
            # The host has no Zoom now: the meeting stays, its link still works, and the same Zoom connected
            # again takes it over. Another Zoom would mean a second meeting, made only once the host has one.
            return Step.NOTHING
        return Step.CLOSE_HERE
    if not wants_meeting(session, facts.bookings, now):
        return Step.CANCEL if meeting is not None and not over else Step.NOTHING
    if meeting is None:
        return Step.CREATE
    if meeting.user_id != session.host_user_id:
        return Step.CANCEL  # a new host: the old host's meeting goes first, then one is made for the new host
    if meeting.status is MeetingStatus.PENDING:
        waiting = meeting.not_before is not None and meeting.not_before > now
        return Step.NOTHING if waiting else Step.MAKE
    if meeting.status is MeetingStatus.SCHEDULED and changes_for_session(facts, meeting):
        return Step.UPDATE
    return Step.NOTHING


class RemoteSessionRepository(Protocol):
    async def get(self, org_id: str, session_id: str) -> RemoteSession | None: ...

    async def upcoming_without_personal_host(self, org_id: str, now: datetime, first: int) -> UpcomingAffected:
        """Remote sessions still to come whose host has no working Zoom of their own: how many, and the soonest."""

    async def locked(self, org_id: str, session_id: str) -> RemoteSession | None:
        """The session, its row locked until the transaction ends: one change of it at a time."""

    async def add(self, session: RemoteSession) -> bool:
        """False when a session with this id exists already (a concurrent PUT created it)."""

    async def save(self, session: RemoteSession) -> None: ...

    async def current_meeting(self, org_id: str, session_id: str) -> Meeting | None:
        """The session's latest meeting (by when it was asked for), cancelled or not."""

    async def hosted_by(self, org_id: str, host_user_id: str, start_from: datetime, start_to: datetime) -> list[RemoteSession]:
        """The host's sessions starting in [start_from, start_to), by start time."""

    async def future_of_host(self, org_id: str, host_user_id: str, now: datetime) -> list[RemoteSession]:
        """The host's remote sessions not over and not cancelled."""

    async def page(
        self,
        org_id: str,
        *,
        status: SessionStatus | None,
        start_from: datetime | None,
        start_to: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[RemoteSession]:
        """By start time then id, from `after` (exclusive)."""


class BookingRepository(Protocol):
    """Who is booked into a session, and the one link email each is sent per meeting (R16)."""

    async def get(self, org_id: str, session_id: str, booking_id: str) -> Booking | None: ...

    async def add(self, booking: Booking) -> None: ...

    async def remove(self, org_id: str, session_id: str, booking_id: str) -> bool: ...

    async def of_session(self, org_id: str, session_id: str) -> list[Booking]: ...

    async def count(self, org_id: str, session_id: str) -> int: ...

    async def mark_notified(self, org_id: str, session_id: str, booking_ids: list[str], generation: int) -> None: ...

    async def claim_email(self, org_id: str, session_id: str, booking_id: str, generation: int) -> int | None:
        """Claims the participant's link email of this time for sending; None when it is claimed already."""

    async def release_email(self, org_id: str, session_id: str, booking_id: str, generation: int, before: int) -> None:
        """Sending failed: the claim goes back to what it was."""


class SessionMeetingView(msgspec.Struct, frozen=True, kw_only=True):
    """What everyone booked may see of the meeting: never the host's start URL (R15, R22)."""

    join_url: str | None
    passcode: str | None
    zoom_meeting_id: int | None
    in_personal_room: bool


class CoHostView(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    #: Zoom has them as an alternative host of the meeting (they are seated in the host's Zoom account).
    alternative_host: bool


class SessionView(msgspec.Struct, frozen=True, kw_only=True):
    """A session as the host product sees it, in answers and in events."""

    id: str
    host_user_id: str
    title: str
    start_time: datetime
    duration_minutes: int
    timezone: str
    remote: bool
    capacity: int | None
    bookings: int
    status: SessionStatus
    status_reason: str | None
    meeting: SessionMeetingView | None
    co_hosts: list[CoHostView]


def session_view(facts: SessionFacts) -> SessionView:
    session = facts.session
    # Not remote, or cancelled: the meeting is on its way out of Zoom, and nobody should join it.
    shown = hosts_meeting(session, facts.meeting) if session.remote and session.cancelled_at is None else None
    return SessionView(
        id=session.id,
        host_user_id=session.host_user_id,
        title=session.title,
        start_time=session.start_time,
        duration_minutes=session.duration_minutes,
        timezone=session.timezone,
        remote=session.remote,
        capacity=session.capacity,
        bookings=facts.bookings,
        status=session.status,
        status_reason=session.status_reason,
        meeting=SessionMeetingView(
            join_url=shown.join_url,
            passcode=shown.passcode,
            zoom_meeting_id=shown.zoom_meeting_id,
            in_personal_room=shown.in_personal_room,
        )
        if shown is not None and shown.join_url is not None
        else None,
        co_hosts=[
            CoHostView(
                user_id=user_id,
                alternative_host=shown is not None and user_id in facts.co_host_emails
                and facts.co_host_emails[user_id] in shown.alternative_hosts.split(";"),
            )
            for user_id in session.co_host_user_ids
        ],
    )
