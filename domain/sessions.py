"""Remote sessions and bookings (R16, R21, R23): provisioning, booking, and one job that keeps a session's
meeting matched to the session.

No request calls Zoom. A request changes the session or its bookings in one short transaction, with
the session's row locked (so concurrent bookings in any number of processes line up), and when the
change alters what the session needs from Zoom — its first booking, its last cancellation, a new
time, title or host, remote turned off, the session deleted — it enqueues RECONCILE_SESSION in the
same transaction. That job (reconcile_session) compares the session with its meeting, takes one step
(create, make, update, cancel, recreate), and looks again until nothing is left to do; each step is a
meeting flow of domain.meetings or domain.meeting_changes, so the meeting is made exactly once (R23),
through the budget (R20), the PMI checks (R17) and the connection that made it (R19). Booking or
cancelling a seat never spends a Zoom call (R16).

The session's status follows its facts in the same transactions (domain.session_refresh).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import TypedDict
from zoneinfo import ZoneInfo

import msgspec

from domain.access import Principal
from domain.emails import email_key
from domain.errors import (
    BookingConflict,
    BookingNotFound,
    DailyBudgetSpent,
    DomainError,
    InvalidInput,
    MeetingBeingCreated,
    MeetingConnectionGone,
    MeetingNotChangeable,
    MemberNotConnected,
    OrganizationNotFound,
    SessionCancelled,
    SessionFull,
    SessionNotFound,
    SessionNotRemote,
    SessionStarted,
    UnknownHost,
    UnknownParticipant,
    ZoomNotReached,
    ZoomPermissionMissing,
)
from domain.integration import member_zoom
from domain.meeting_changes import change_meeting, end_meeting
from domain.meeting_hosts import effective_host
from domain.meeting_input import (
    MeetingRequest,
    check_duration,
    check_timezone,
    check_topic,
    parse_start_time,
)
from domain.meeting_model import Meeting, MeetingHost, MeetingStatus
from domain.meeting_ports import Clock, MeetingsZoom
from domain.meetings import DEFAULT_LEASE, bring_to_zoom, meeting_host, new_intent, save_meeting
from domain.model import Connection, ConnectionType, Reason, Role
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.precedence import effective_connection
from domain.session_model import (
    Booking,
    RemoteSession,
    SessionFacts,
    SessionStatus,
    Step,
    changes_for_session,
    hosts_meeting,
    live_meeting,
    next_step,
)
from domain.session_refresh import email_link, refresh_session

#: The job that brings a session's meeting in line with the session.
RECONCILE_SESSION = "reconcile_session"
#: The job that looks again at a host's future sessions after their effective connection changed (R21).
REVIEW_HOST_SESSIONS = "review_host_sessions"

CAPACITY_MAX = 10_000
CO_HOSTS_MAX = 20
#: More steps than any session needs (cancel an old host's meeting, create, make, update).
MAX_STEPS = 6

#: Why a host cannot have their session's meeting made, for whoever reads the session (R21): the owner, the
#: host product. Keyed by domain.model.Reason values.
HOST_NOT_CONNECTED: dict[str, str] = {
    Reason.PERSONAL_NEEDS_RECONNECT: "The host has no Zoom: their personal Zoom connection needs reconnecting.",
    Reason.ORGANIZATION_NOT_CONNECTED: "The host has no Zoom: neither they nor the organization has connected Zoom.",
    Reason.ORGANIZATION_REMOVED: "The host has no Zoom: they removed the organization's Zoom for themselves.",
    Reason.NO_SEAT: "The host has no Zoom: the organization's Zoom account has no active user with the host's email.",
    Reason.ORGANIZATION_ADMIN_LOST: (
        "The host has no Zoom: the organization's Zoom connection needs a new activation, its Zoom admin lost the role."
    ),
    Reason.ORGANIZATION_NEEDS_RECONNECT: "The host has no Zoom: the organization's Zoom connection needs reconnecting.",
    Reason.ORGANIZATION_DEAUTHORIZED: "The host has no Zoom: Roomlink's app was removed from the organization's Zoom.",
}

LEFT_IN_ZOOM = (
    "Still in Zoom: the connection that made it is gone and the host's Zoom now is another Zoom user, so Roomlink "
    "cannot cancel it. Cancel it in Zoom; the session gets a meeting through the host's current Zoom."
)


class PutSession(msgspec.Struct, frozen=True, kw_only=True):
    org_id: str
    session_id: str
    host_user_id: str
    title: str
    #: RFC 3339; without an offset it is read in `timezone`.
    start_time: str
    duration_minutes: int
    timezone: str | None = None
    remote: bool
    capacity: int | None = None
    co_host_user_ids: list[str] = msgspec.field(default_factory=list)


class PutBooking(msgspec.Struct, frozen=True, kw_only=True):
    org_id: str
    session_id: str
    booking_id: str
    name: str
    email: str
    user_id: str | None = None


class BookingAnswer(msgspec.Struct, frozen=True, kw_only=True):
    booking: Booking
    join_url: str | None
    #: "ready" once the session's meeting exists in Zoom, else "pending".
    link_status: str
    new: bool


class HostedSession(msgspec.Struct, frozen=True, kw_only=True):
    facts: SessionFacts
    participants: list[Booking]
    #: The R22 link for the host: set when the meeting exists in Zoom and is the host's.
    start_meeting_id: str | None


# Provisioning


class _SessionFields(TypedDict):
    """A PutSession's fields, checked: what a new or changed RemoteSession takes from the request."""

    host_user_id: str
    title: str
    start_time: datetime
    duration_minutes: int
    timezone: str
    remote: bool
    capacity: int | None
    co_host_user_ids: list[str]


def _checked_session(cmd: PutSession, existing: RemoteSession | None, now: datetime) -> _SessionFields:
    errors: dict[str, str] = {}
    timezone = check_timezone(cmd.timezone or (existing.timezone if existing else "UTC"), errors)
    title_errors: dict[str, str] = {}
    title = check_topic(cmd.title, title_errors)
    if title_errors:
        errors["title"] = title_errors["topic"]
    # An unchanged start time that has passed is the same request again, not a new past time.
    start = parse_start_time(cmd.start_time, timezone, now, errors, unchanged=existing.start_time if existing else None)
    check_duration(cmd.duration_minutes, errors)
    if cmd.capacity is not None and not 1 <= cmd.capacity <= CAPACITY_MAX:
        errors["capacity"] = f"must be between 1 and {CAPACITY_MAX:,} seats, or left out for no limit"
    co_hosts = [user_id for user_id in dict.fromkeys(cmd.co_host_user_ids) if user_id != cmd.host_user_id]
    if len(co_hosts) > CO_HOSTS_MAX:
        errors["co_host_user_ids"] = f"at most {CO_HOSTS_MAX} co-hosts"
    if errors or start is None:
        raise InvalidInput("The session is invalid; nothing was changed and Zoom was not called.", errors=errors)
    return {
        "host_user_id": cmd.host_user_id,
        "title": title,
        "start_time": start,
        "duration_minutes": cmd.duration_minutes,
        "timezone": timezone,
        "remote": cmd.remote,
        "capacity": cmd.capacity,
        "co_host_user_ids": co_hosts,
    }


def _needs_reconcile(before: RemoteSession, after: RemoteSession) -> bool:
    """Changes that alter what the session needs from Zoom (a new capacity alone does not)."""
    fields = (
        "host_user_id", "title", "start_time", "duration_minutes", "timezone", "remote", "cancelled_at", "co_host_user_ids"
    )
    return any(getattr(before, name) != getattr(after, name) for name in fields)


async def put_session(uow: UnitOfWorkFactory, cmd: PutSession, now: datetime) -> tuple[SessionFacts, bool]:
    """Idempotent by the host product's id: True when the session is new."""
    async with uow() as tx:
        if await tx.organizations.get(cmd.org_id) is None:
            raise OrganizationNotFound(f"Organization {cmd.org_id!r} was not found.")
        existing = await tx.remote_sessions.locked(cmd.org_id, cmd.session_id)
        if existing is not None and existing.cancelled_at is not None:
            raise SessionCancelled(
                f"Session {cmd.session_id!r} was cancelled; a cancelled session stays cancelled. Use a new id."
            )
        fields = _checked_session(cmd, existing, now)
        if await tx.members.get(cmd.org_id, cmd.host_user_id) is None:
            raise UnknownHost(
                f"The host {cmd.host_user_id!r} is not a member of this organization; nothing was changed.",
                errors={"host_user_id": "is not a member of this organization"},
            )
        strangers = [u for u in fields["co_host_user_ids"] if await tx.members.get(cmd.org_id, u) is None]
        if strangers:
            raise UnknownHost(
                f"Co-hosts must be members of this organization; {', '.join(strangers)} are not. Nothing was changed.",
                errors={"co_host_user_ids": f"not members of this organization: {', '.join(strangers)}"},
            )
        if existing is None:
            session = RemoteSession(
                org_id=cmd.org_id,
                id=cmd.session_id,
                status=SessionStatus.NO_BOOKINGS,
                status_reason=None,
                host_problem=None,
                link_generation=0,
                cancelled_at=None,
                created_at=now,
                updated_at=now,
                **fields,
            )
            if not await tx.remote_sessions.add(session):
                # Another PUT of the same id committed first: this one is its repetition.
                await tx.commit()
                return await put_session(uow, cmd, now)
            created = True
        else:
            session = msgspec.structs.replace(existing, **fields)
            if session == existing:
                facts = await _facts(tx, existing)
                return facts, False
            session = msgspec.structs.replace(session, updated_at=now)
            await tx.remote_sessions.save(session)
            created = False
        session = await _with_host_problem(tx, session, now)
        session = (await refresh_session(tx, session, now)).session
        if existing is not None and _needs_reconcile(existing, session):
            await _reconcile_later(tx, session)
        facts = await _facts(tx, session)
        await tx.commit()
    return facts, created


async def cancel_session(uow: UnitOfWorkFactory, org_id: str, session_id: str, now: datetime) -> None:
    """The session is kept, cancelled; its meeting is cancelled in Zoom by the job. Cancelling again does nothing."""
    async with uow() as tx:
        session = await _session(tx, org_id, session_id)
        if session.cancelled_at is not None:
            return
        session = msgspec.structs.replace(session, cancelled_at=now, updated_at=now)
        await tx.remote_sessions.save(session)
        await refresh_session(tx, session, now)
        await _reconcile_later(tx, session)
        await tx.commit()


async def get_session(uow: UnitOfWorkFactory, org_id: str, session_id: str) -> SessionFacts:
    async with uow() as tx:
        return await _facts(tx, await _session(tx, org_id, session_id, lock=False))


async def list_sessions(
    uow: UnitOfWorkFactory,
    org_id: str,
    *,
    status: SessionStatus | None,
    start_from: datetime | None,
    start_to: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> tuple[list[SessionFacts], tuple[datetime, str] | None]:
    async with uow() as tx:
        items = await tx.remote_sessions.page(
            org_id, status=status, start_from=start_from, start_to=start_to, after=after, limit=limit + 1
        )
        more = len(items) > limit
        items = items[:limit]
        facts = [await _facts(tx, session) for session in items]
    return facts, ((items[-1].start_time, items[-1].id) if more else None)


# Bookings


async def put_booking(uow: UnitOfWorkFactory, cmd: PutBooking, now: datetime) -> BookingAnswer:
    """Never calls Zoom (R16). The first booking of a session asks the job for its meeting; later ones get
    the link already made, or `pending` until it is."""
    async with uow() as tx:
        session = await _session(tx, cmd.org_id, cmd.session_id)
        earlier = await tx.bookings.get(cmd.org_id, cmd.session_id, cmd.booking_id)
        if earlier is not None:
            if (earlier.name, email_key(earlier.email), earlier.user_id) != (cmd.name, email_key(cmd.email), cmd.user_id):
                raise BookingConflict(
                    f"Booking {cmd.booking_id!r} exists with another name, email or user_id; nothing was changed. "
                    "A booking id names one booking.",
                    errors={"booking_id": "already used for another booking"},
                )
            return _answer(await _facts(tx, session), earlier, new=False)
        if cmd.user_id is not None and await tx.members.get(cmd.org_id, cmd.user_id) is None:
            raise UnknownParticipant(
                f"The participant {cmd.user_id!r} is not a member of this organization; nothing was booked. "
                "Leave `user_id` out for someone who is not a member.",
                errors={"user_id": "is not a member of this organization"},
            )
        if session.cancelled_at is not None:
            raise SessionCancelled(f"Session {session.id!r} was cancelled; it takes no bookings.")
        if not session.remote:
            raise SessionNotRemote(f"Session {session.id!r} is not remote; Roomlink books only remote sessions.")
        if session.start_time <= now:
            raise SessionStarted(f"Session {session.id!r} has already started; it takes no more bookings.")
        booked = await tx.bookings.count(session.org_id, session.id)
        if session.capacity is not None and booked >= session.capacity:
            raise SessionFull(
                f"Session {session.id!r} is full: {booked} of {session.capacity} seats are booked.",
                errors={"capacity": f"{session.capacity} seats, all booked"},
            )
        booking = Booking(
            org_id=cmd.org_id,
            session_id=cmd.session_id,
            id=cmd.booking_id,
            name=cmd.name,
            email=cmd.email,
            user_id=cmd.user_id,
            notified_generation=0,
            created_at=now,
        )
        await tx.bookings.add(booking)
        if booked == 0:
            session = await _with_host_problem(tx, session, now)
            await _reconcile_later(tx, session)
        facts = await refresh_session(tx, session, now)
        if session.status is SessionStatus.READY and facts.session.status is SessionStatus.READY:
            # Already ready: only this participant is new to the link (becoming ready emails everyone).
            await email_link(tx, facts.session, [booking])
        answer = _answer(facts, booking, new=True)
        await tx.commit()
    return answer


async def cancel_booking(uow: UnitOfWorkFactory, org_id: str, session_id: str, booking_id: str, now: datetime) -> None:
    """Never calls Zoom; the last cancellation asks the job to cancel the meeting (R16)."""
    async with uow() as tx:
        session = await _session(tx, org_id, session_id)
        if not await tx.bookings.remove(org_id, session_id, booking_id):
            raise BookingNotFound(f"Booking {booking_id!r} of session {session_id!r} was not found.")
        if await tx.bookings.count(org_id, session_id) == 0:
            await _reconcile_later(tx, session)
        await refresh_session(tx, session, now)
        await tx.commit()


def _answer(facts: SessionFacts, booking: Booking, *, new: bool) -> BookingAnswer:
    meeting = hosts_meeting(facts.session, facts.meeting)
    ready = facts.session.status is SessionStatus.READY and meeting is not None and meeting.join_url is not None
    return BookingAnswer(
        booking=booking, join_url=meeting.join_url if ready and meeting else None,
        link_status="ready" if ready else "pending", new=new,
    )


# The host's day


async def hosted_on(
    uow: UnitOfWorkFactory, principal: Principal, day: date, timezone: str
) -> list[HostedSession]:
    """The sessions the caller hosts that start on `day` in `timezone`, each with who is booked."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    async with uow() as tx:
        hosted = []
        for session in await tx.remote_sessions.hosted_by(principal.org_id, principal.user_id, start, end):
            facts = await _facts(tx, session)
            meeting = hosts_meeting(session, facts.meeting)
            startable = meeting is not None and meeting.zoom_meeting_id is not None and session.cancelled_at is None
            hosted.append(
                HostedSession(
                    facts=facts,
                    participants=await tx.bookings.of_session(session.org_id, session.id),
                    start_meeting_id=meeting.id if startable and meeting else None,
                )
            )
    return hosted


# Keeping a session's meeting matched to it


async def reconcile_session(
    org_id: str, session_id: str, uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock,
    *, lease: timedelta = DEFAULT_LEASE,
) -> None:
    """One step at a time until the meeting matches the session. Safe to run twice at once and after a crash:
    every step is decided with the session locked, and every Zoom call is a meetings flow that is itself
    exactly once.

    Raises what a retry may cure (ZoomNotReached, MeetingBeingCreated, DailyBudgetSpent for an update);
    a meeting waiting for the daily budget or for Zoom is left to its own make_meeting job.
    """
    for _ in range(MAX_STEPS):
        now = clock.now()
        async with uow() as tx:
            step, meeting, facts = await _decide(tx, org_id, session_id, now)
            await tx.commit()
        if step is Step.NOTHING or meeting is None or facts is None:
            return
        try:
            if step is Step.UPDATE:
                await change_meeting(uow, zoom, clock, org_id, meeting.id, changes_for_session(facts, meeting))
            elif step is Step.CANCEL:
                await end_meeting(uow, zoom, clock, org_id, meeting.id)
            else:
                await bring_to_zoom(org_id, meeting.id, uow, zoom, clock, lease=lease)
        except DailyBudgetSpent:
            if step is Step.UPDATE:
                raise
            return  # waits for 00:00 UTC in its make_meeting job; the session says so
        except (MemberNotConnected, ZoomPermissionMissing, MeetingNotChangeable):
            continue  # recorded on the meeting or the connection; the next look sees it
        except ZoomNotReached:
            if step in (Step.UPDATE, Step.CANCEL):
                raise
            return  # bring_to_zoom left it pending with its retry queued
        except MeetingBeingCreated:
            raise


async def _decide(
    tx: UnitOfWork, org_id: str, session_id: str, now: datetime
) -> tuple[Step, Meeting | None, SessionFacts | None]:
    """The next step that calls Zoom, with the session locked; what needs no Zoom is done here and now."""
    session = await tx.remote_sessions.locked(org_id, session_id)
    if session is None:
        return Step.NOTHING, None, None
    session = await _with_host_problem(tx, session, now)
    bookings = await tx.bookings.count(org_id, session_id)
    while True:
        meeting = await tx.remote_sessions.current_meeting(org_id, session_id)
        live = live_meeting(meeting)
        reachable = live is None or await tx.connections.by_id(org_id, live.connection_id) is not None
        if not reachable:
            reachable = await _taken_over(tx, live, now)
            meeting = await tx.remote_sessions.current_meeting(org_id, session_id)  # as the takeover left it
            live = live_meeting(meeting)
        facts = SessionFacts(
            session=session, bookings=bookings, meeting=meeting,
            co_host_emails=await _co_host_emails(tx, session, live.connection_type if live else None),
        )
        step = next_step(facts, reachable, now)
        if step is not Step.CLOSE_HERE or live is None:
            break
        await _close_here(tx, live, LEFT_IN_ZOOM, now)
    if step is Step.CREATE:
        if session.host_problem is None:
            host = await effective_host(tx, _acting_as_host(session))
            facts = msgspec.structs.replace(facts, co_host_emails=await _co_host_emails(tx, session, host.connection.type))
            live = await tx.meetings.add(_intent(session, host, facts.alternative_hosts, now))
        else:
            step = Step.NOTHING
    # As stored now: closing a meeting above refreshed the session already, and a stale copy would undo it.
    await refresh_session(tx, await tx.remote_sessions.locked(org_id, session_id) or session, now)
    return step, live, facts


async def _co_host_emails(
    tx: UnitOfWork, session: RemoteSession, connection_type: ConnectionType | None
) -> dict[str, str]:
    """Co-hosts Zoom takes as alternative hosts: users of the same Zoom account as the host's meeting, so only
    through the organization's connection, and only those seated in it (R5). Others are left out of Zoom."""
    if connection_type is not ConnectionType.ORGANIZATION:
        return {}
    emails = {}
    for user_id in session.co_host_user_ids:
        member = await tx.members.get(session.org_id, user_id)
        seat = await tx.zoom_users.seat(session.org_id, member.email) if member else None
        if seat is not None:
            emails[user_id] = seat.zoom_email
    return emails


async def _taken_over(tx: UnitOfWork, meeting: Meeting, now: datetime) -> bool:
    """The connection that made the meeting is gone: the host's connection now takes it over when it reaches the
    same Zoom user (R19, R23); False when none does. The meeting is locked only here, where no flow can be using
    the gone connection: it is otherwise locked before its session (domain.meetings.save_meeting), never after."""
    try:
        await meeting_host(tx, await tx.meetings.locked(meeting.org_id, meeting.id) or meeting, now)
    except MeetingConnectionGone:
        return False
    return True


async def _close_here(tx: UnitOfWork, meeting: Meeting, reason: str, now: datetime) -> None:
    """A meeting whose connection is gone cannot be reached in Zoom; it is closed in Roomlink only, and one that
    is in Zoom is listed as left there, for someone in Zoom to cancel."""
    current = await tx.meetings.locked(meeting.org_id, meeting.id) or meeting
    await save_meeting(
        tx, current,
        msgspec.structs.replace(
            current, status=MeetingStatus.CANCELLED, status_reason=reason, lease_until=None, updated_at=now,
            left_in_zoom=current.zoom_meeting_id is not None,
        ),
        now,
    )


def _intent(session: RemoteSession, host: MeetingHost, alternative_hosts: str, now: datetime) -> Meeting:
    request = MeetingRequest(
        topic=session.title, start_time=session.start_time, duration_minutes=session.duration_minutes,
        timezone=session.timezone, agenda="", passcode=None,
    )
    return new_intent(
        session.org_id, session.host_user_id, host, request, now,
        # Unique per host; the session's row lock already makes one intent at a time.
        idempotency_key=f"session:{session.id}:{uuid.uuid4()}",
        request_hash=hashlib.sha256(f"session:{session.id}".encode()).hexdigest(),
        session_id=session.id,
        alternative_hosts=alternative_hosts,
    )


async def review_host_sessions(uow: UnitOfWorkFactory, org_id: str, user_id: str, now: datetime) -> int:
    """R21: the host's effective connection changed; each future session is looked at again. Returns how many."""
    async with uow() as tx:
        sessions = await tx.remote_sessions.future_of_host(org_id, user_id, now)
        for session in sessions:
            await _reconcile_later(tx, session)
        await tx.commit()
    return len(sessions)


async def cancel_before_another_zoom(
    uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, principal: Principal, connection: Connection
) -> int:
    """Before the member's personal connection is ended: when their Zoom afterwards is the organization's, as
    another Zoom user, their future sessions' meetings made through it are cancelled in Zoom now, while its
    tokens still work, rather than left there beside the ones the sessions then get (R23). Kept when nothing
    would follow (the same Zoom connected again takes them over) or the same Zoom user follows. Returns how many."""
    now = clock.now()
    async with uow() as tx:
        zoom_after = await member_zoom(tx, principal)
        after = effective_connection(
            personal=None,
            organization=zoom_after.organization_connection.status if zoom_after.organization_connection else None,
            has_seat=zoom_after.seat is not None,
            removed_organization=zoom_after.member.organization_removed,
            members_may_remove=zoom_after.organization.policy.allow_members_to_remove,
        )
        if not after.connected or zoom_after.seat is None or zoom_after.seat.zoom_user_id == connection.zoom_user_id:
            return 0
        doomed = []
        for session in await tx.remote_sessions.future_of_host(principal.org_id, principal.user_id, now):
            meeting = live_meeting(await tx.remote_sessions.current_meeting(session.org_id, session.id))
            if meeting is not None and meeting.connection_id == connection.id and meeting.zoom_meeting_id is not None:
                doomed.append(meeting)
    cancelled = 0
    for meeting in doomed:
        try:
            await end_meeting(uow, zoom, clock, meeting.org_id, meeting.id)
            cancelled += 1
        except (DomainError, ZoomNotReached):
            pass  # left as it is: the session's next look lists it as left in Zoom
    return cancelled


async def _with_host_problem(tx: UnitOfWork, session: RemoteSession, now: datetime) -> RemoteSession:
    """Whether the host can have a meeting made now (R7), in words; stored on the locked session."""
    problem = None
    if session.remote and session.cancelled_at is None and session.ends_at > now:
        try:
            await effective_host(tx, _acting_as_host(session))
        except MemberNotConnected as not_connected:
            problem = HOST_NOT_CONNECTED.get(not_connected.reason, "The host has no Zoom connection that can make the meeting.")
    if problem == session.host_problem:
        return session
    updated = msgspec.structs.replace(session, host_problem=problem, updated_at=now)
    await tx.remote_sessions.save(updated)
    return updated


def _acting_as_host(session: RemoteSession) -> Principal:
    return Principal(
        org_id=session.org_id, user_id=session.host_user_id, role=Role.MEMBER, actor=f"session:{session.id}"
    )


async def _reconcile_later(tx: UnitOfWork, session: RemoteSession) -> None:
    # No dedupe key: a job already running must not swallow a change made after it looked.
    await tx.jobs.enqueue(RECONCILE_SESSION, {"org_id": session.org_id, "session_id": session.id})


async def _session(tx: UnitOfWork, org_id: str, session_id: str, *, lock: bool = True) -> RemoteSession:
    read = tx.remote_sessions.locked if lock else tx.remote_sessions.get
    session = await read(org_id, session_id)
    if session is None:
        raise SessionNotFound(f"Session {session_id!r} was not found.")
    return session


async def _facts(tx: UnitOfWork, session: RemoteSession) -> SessionFacts:
    meeting = await tx.remote_sessions.current_meeting(session.org_id, session.id)
    live = live_meeting(meeting)
    return SessionFacts(
        session=session,
        bookings=await tx.bookings.count(session.org_id, session.id),
        meeting=meeting,
        co_host_emails=await _co_host_emails(tx, session, live.connection_type if live else None) if session.co_host_user_ids else {},
    )

