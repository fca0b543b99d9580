"""Making meetings in Zoom through each member's effective connection: create, make exactly once, recreate.

Every flow that calls Zoom has the same shape (docs/design.md#architecture): a short transaction decides and records
the intent, Zoom is called outside any transaction, a second short one records the answer.

Exactly once (R23): the intent row exists before Zoom is called (an Idempotency-Key is unique per
member in the database). One caller at a time holds the intent's lease while it calls Zoom;
others wait for the answer. Any attempt after the first — a retry after a timeout, a 5xx, a caller
or worker that died holding the lease — first searches the host's upcoming meetings in Zoom for the
intent's marker and creates only if it is not there.

Every change of a meeting, in any flow, is stored through save_meeting. What is asked is checked in
domain.meeting_input; who hosts a meeting, domain.meeting_hosts; what is sent to Zoom and how its
answers are recorded, domain.meeting_in_zoom; a meeting once made is read, changed, cancelled and
started in domain.meeting_changes; Zoom's meeting events, domain.meeting_events.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import msgspec

from domain.access import Principal
from domain.budget import budget_day, next_reset, over_budget_reason
from domain.errors import (
    ConnectionBroken,
    DailyBudgetSpent,
    IdempotencyKeyReused,
    MeetingBeingCreated,
    MeetingConnectionGone,
    MeetingNotChangeable,
    MeetingNotFound,
    ZoomNotReached,
)
from domain.events import meeting_event
from domain.keeping import mark_broken
from domain.meeting_hosts import CONNECTION_GONE, effective_host, host_of, successor_host
from domain.meeting_in_zoom import recorded_in_zoom, zoom_error_for, zoom_request
from domain.meeting_input import CreateMeeting, MeetingRequest, checked, request_hash
from domain.meeting_model import Meeting, MeetingHost, MeetingStatus
from domain.meeting_ports import (
    Clock,
    MeetingsZoom,
    ZoomDayLimitReached,
    ZoomMeetingError,
    ZoomScopeMissing,
)
from domain.model import ConnectionStatus
from domain.pmi import HostPmiSettings
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.session_refresh import follow_meeting

#: The job that makes a pending meeting in Zoom (after Zoom was unreachable, or after 00:00 UTC).
MAKE_MEETING = "make_meeting"
#: How long one caller may hold an intent while it calls Zoom, unless told otherwise.
DEFAULT_LEASE = timedelta(seconds=60)
#: How often a caller waiting on another's lease looks again.
WAIT_STEP_S = 0.05
BEING_CREATED = "Being created in Zoom."
ZOOM_UNREACHABLE = "Zoom could not be reached; Roomlink tries again shortly."


class Created(msgspec.Struct, frozen=True, kw_only=True):
    meeting: Meeting
    #: False when the Idempotency-Key named a meeting made before: the same answer again.
    new: bool


async def create_meeting(
    cmd: CreateMeeting, uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, *, lease: timedelta = DEFAULT_LEASE
) -> Created:
    request = checked(cmd, clock.now())
    async with uow() as tx:
        intent, new = await plan_meeting(tx, cmd, request, clock.now())
        await tx.commit()
    meeting = await bring_to_zoom(intent.org_id, intent.id, uow, zoom, clock, lease=lease)
    return Created(meeting=meeting, new=new)


async def plan_meeting(
    tx: UnitOfWork, cmd: CreateMeeting, request: MeetingRequest, now: datetime
) -> tuple[Meeting, bool]:
    """The intent, recorded; or the meeting its Idempotency-Key already names (False)."""
    digest = request_hash(request)
    principal = cmd.principal
    if cmd.idempotency_key is not None:
        earlier = await tx.meetings.by_idempotency_key(principal.org_id, principal.user_id, cmd.idempotency_key)
        if earlier is not None:
            return _same_request(earlier, digest), False
    intent = new_intent(
        principal.org_id, principal.user_id, await effective_host(tx, principal), request, now,
        idempotency_key=cmd.idempotency_key, request_hash=digest,
    )
    stored = await tx.meetings.add(intent)
    if stored.id == intent.id:
        return stored, True
    return _same_request(stored, digest), False


def new_intent(
    org_id: str,
    user_id: str,
    host: MeetingHost,
    request: MeetingRequest,
    now: datetime,
    *,
    idempotency_key: str | None,
    request_hash: str,
    session_id: str | None = None,
    alternative_hosts: str = "",
) -> Meeting:
    """A meeting asked for and not in Zoom yet: recorded before Zoom is called (R23)."""
    return Meeting(
        id=str(uuid.uuid4()),
        org_id=org_id,
        user_id=user_id,
        connection_id=host.connection.id,
        connection_type=host.connection.type,
        zoom_user_id=host.zoom_user_id,
        zoom_user_email=host.zoom_user_email,
        topic=request.topic,
        start_time=request.start_time,
        duration_minutes=request.duration_minutes,
        timezone=request.timezone,
        agenda=request.agenda,
        passcode=request.passcode,
        zoom_meeting_id=None,
        join_url=None,
        status=MeetingStatus.PENDING,
        status_reason=BEING_CREATED,
        in_personal_room=False,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        attempts=0,
        lease_until=None,
        not_before=None,
        created_at=now,
        updated_at=now,
        session_id=session_id,
        alternative_hosts=alternative_hosts,
    )


def _same_request(earlier: Meeting, digest: str) -> Meeting:
    if earlier.request_hash != digest:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for another request; use a new key for a new meeting.",
            errors={"Idempotency-Key": "already used with a different body"},
        )
    return earlier




async def bring_to_zoom(
    org_id: str, meeting_id: str, uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, *, lease: timedelta = DEFAULT_LEASE
) -> Meeting:
    """Make a pending meeting in Zoom, exactly once, or say why it waits."""
    while True:
        async with uow() as tx:
            meeting = await tx.meetings.locked(org_id, meeting_id)
            if meeting is None:
                raise MeetingNotFound("The meeting was not found.")
            now = clock.now()
            if meeting.status is not MeetingStatus.PENDING:
                return meeting
            if meeting.lease_until is None or meeting.lease_until <= now:
                claimed = await _claim(tx, meeting, now, lease)
                await tx.commit()
                break
        if meeting.lease_until > now + lease:
            raise MeetingBeingCreated("The meeting is being created in Zoom; try again in a moment.")
        await clock.sleep(WAIT_STEP_S)
    host, look_first = claimed
    return await _make_in_zoom(meeting, host, look_first, uow, zoom, clock)


async def _claim(
    tx: UnitOfWork, meeting: Meeting, now: datetime, lease: timedelta
) -> tuple[MeetingHost, bool]:
    if meeting.not_before is not None and meeting.not_before > now:
        raise DailyBudgetSpent(meeting.status_reason or over_budget_reason(now), retry_at=meeting.not_before)
    host, meeting = await meeting_host(tx, meeting, now)
    if not await tx.meeting_budget.spend(meeting.org_id, meeting.zoom_user_id, budget_day(now)):
        await _wait_for_reset(tx, meeting, next_reset(now), now)
        await tx.commit()
        raise DailyBudgetSpent(over_budget_reason(now), retry_at=next_reset(now))
    await save_meeting(
        tx, meeting, msgspec.structs.replace(meeting, attempts=meeting.attempts + 1, lease_until=now + lease, updated_at=now), now
    )
    return host, meeting.attempts > 0


async def meeting_host(tx: UnitOfWork, meeting: Meeting, now: datetime) -> tuple[MeetingHost, Meeting]:
    """R19: who acts on the meeting in Zoom, and the meeting as it is now. `meeting` is locked by the caller.

    When the connection that made it is gone but the member's connection now reaches the same Zoom user, that
    connection takes the meeting over: it stays one meeting in Zoom with the link its participants hold (R23),
    instead of a second one beside an orphan."""
    try:
        return await host_of(tx, meeting, now), meeting
    except MeetingConnectionGone:
        successor = await successor_host(tx, meeting)
        if successor is None:
            raise
    taken = msgspec.structs.replace(
        meeting, connection_id=successor.connection.id, connection_type=successor.connection.type, updated_at=now
    )
    if taken.status is MeetingStatus.NEEDS_ATTENTION and taken.status_reason == CONNECTION_GONE:
        taken = msgspec.structs.replace(taken, status=MeetingStatus.SCHEDULED, status_reason=None)
    await save_meeting(tx, meeting, taken, now)
    return successor, taken


async def save_meeting(tx: UnitOfWork, before: Meeting, after: Meeting, now: datetime) -> None:
    """Every change of a meeting is stored here, and the host product hears what it can see of it (R24),
    in the same transaction."""
    await tx.meetings.save(after)
    if (event := meeting_event(before, after, now)) is not None:
        await tx.outbox.add(event)
    if after.session_id is not None:
        await follow_meeting(tx, after, now)


async def _wait_for_reset(tx: UnitOfWork, meeting: Meeting, retry_at: datetime, now: datetime) -> None:
    await save_meeting(
        tx,
        meeting,
        msgspec.structs.replace(
            meeting, status_reason=over_budget_reason(now), not_before=retry_at, lease_until=None, updated_at=now
        ),
        now,
    )
    await tx.jobs.enqueue(MAKE_MEETING, {"org_id": meeting.org_id, "meeting_id": meeting.id}, dedupe_key=f"make:{meeting.id}")


async def _make_in_zoom(
    meeting: Meeting, host: MeetingHost, look_first: bool, uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock
) -> Meeting:
    try:
        pmi = await _host_pmi(zoom, host)
        found = await zoom.find_upcoming(host, meeting.marker) if look_first else None
        made = found or await zoom.create(host, zoom_request(meeting, pmi))
    except ZoomDayLimitReached as limited:
        retry_at = limited.retry_at or next_reset(clock.now())
        async with uow() as tx:
            await tx.meeting_budget.close_day(meeting.org_id, meeting.zoom_user_id, budget_day(clock.now()))
            current = await tx.meetings.locked(meeting.org_id, meeting.id)
            if current is not None:
                await _wait_for_reset(tx, current, retry_at, clock.now())
            await tx.commit()
        raise DailyBudgetSpent(over_budget_reason(clock.now()), retry_at=retry_at) from None
    except ZoomNotReached:
        await _release(uow, meeting, ZOOM_UNREACHABLE, clock.now(), retry=True)
        raise
    except (ZoomMeetingError, ConnectionBroken) as refused:
        raise await _refused(uow, meeting, host, refused, clock.now()) from None
    async with uow() as tx:
        current = await tx.meetings.locked(meeting.org_id, meeting.id)
        duplicate = current is None or current.status is not MeetingStatus.PENDING
        if not duplicate:
            recorded = recorded_in_zoom(current, made, pmi, clock.now())
            await save_meeting(tx, current, recorded, clock.now())
            await tx.commit()
            return recorded
    # Our lease ran out and another attempt recorded its own answer: ours must not stay in Zoom.
    if not found and current is not None and current.zoom_meeting_id != made.zoom_meeting_id:
        try:
            await zoom.delete(host, made.zoom_meeting_id)
        except (ZoomMeetingError, ZoomNotReached, ConnectionBroken):
            pass
    if current is None:
        raise MeetingNotFound("The meeting was not found.")
    return current


async def _host_pmi(zoom: MeetingsZoom, host: MeetingHost) -> HostPmiSettings:
    """Read before creating; a Zoom that will not show the settings does not stop the meeting."""
    try:
        return await zoom.host_pmi(host)
    except (ZoomMeetingError, ZoomNotReached):
        return HostPmiSettings()


async def _release(uow: UnitOfWorkFactory, meeting: Meeting, reason: str, now: datetime, *, retry: bool) -> None:
    async with uow() as tx:
        current = await tx.meetings.locked(meeting.org_id, meeting.id)
        if current is not None and current.status is MeetingStatus.PENDING:
            await save_meeting(
                tx, current, msgspec.structs.replace(current, status_reason=reason, lease_until=None, updated_at=now), now
            )
            if retry:
                await tx.jobs.enqueue(MAKE_MEETING, {"org_id": current.org_id, "meeting_id": current.id}, dedupe_key=f"make:{current.id}")
        await tx.commit()


async def _refused(
    uow: UnitOfWorkFactory, meeting: Meeting, host: MeetingHost, refused: Exception, now: datetime
) -> Exception:
    """Zoom will not make it through this connection: the meeting needs a person; the error says why."""
    error = zoom_error_for(refused, host)
    async with uow() as tx:
        current = await tx.meetings.locked(meeting.org_id, meeting.id)
        if current is not None:
            await save_meeting(
                tx,
                current,
                msgspec.structs.replace(
                    current, status=MeetingStatus.NEEDS_ATTENTION, status_reason=str(error), lease_until=None, updated_at=now
                ),
                now,
            )
        if isinstance(refused, ZoomScopeMissing):
            await mark_broken(tx, host.connection, ConnectionStatus.NEEDS_RECONNECT, str(error), "zoom:meetings", now)
        await tx.commit()
    return error







async def recreate_meeting(
    uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, principal: Principal, meeting_id: str,
    *, lease: timedelta = DEFAULT_LEASE,
) -> Created:
    """R19's offer: a meeting that needs attention, made again through the member's current effective
    connection; the old one is cancelled here. Asking twice recreates once (the new intent's key is the old id)."""
    now = clock.now()
    async with uow() as tx:
        old = await own_meeting(tx, principal, meeting_id, lock=True)
        again = await tx.meetings.by_idempotency_key(principal.org_id, principal.user_id, f"recreate:{old.id}")
        if again is None:
            if old.status is not MeetingStatus.NEEDS_ATTENTION:
                raise MeetingNotChangeable("Only a meeting that needs attention is recreated.")
            if old.start_time <= now:
                raise MeetingNotChangeable("The meeting's time has passed; create a new one.")
            if old.status_reason == CONNECTION_GONE and await successor_host(tx, old) is not None:
                # The member's Zoom now reaches the meeting's Zoom user: it is taken over, not made twice.
                _, taken = await meeting_host(tx, old, now)
                await tx.commit()
                return Created(meeting=taken, new=False)
            host = await effective_host(tx, principal)
            again = await tx.meetings.add(
                msgspec.structs.replace(
                    old,
                    id=str(uuid.uuid4()),
                    connection_id=host.connection.id,
                    connection_type=host.connection.type,
                    zoom_user_id=host.zoom_user_id,
                    zoom_user_email=host.zoom_user_email,
                    zoom_meeting_id=None,
                    join_url=None,
                    status=MeetingStatus.PENDING,
                    status_reason=BEING_CREATED,
                    in_personal_room=False,
                    idempotency_key=f"recreate:{old.id}",
                    attempts=0,
                    lease_until=None,
                    not_before=None,
                    created_at=now,
                    updated_at=now,
                )
            )
            await save_meeting(
                tx,
                old,
                msgspec.structs.replace(
                    old, status=MeetingStatus.CANCELLED, status_reason=f"Recreated through your current Zoom as {again.id}.",
                    updated_at=now, left_in_zoom=old.status_reason == CONNECTION_GONE and old.zoom_meeting_id is not None,
                ),
                now,
            )
            await tx.commit()
            new = True
        else:
            new = False
    meeting = await bring_to_zoom(again.org_id, again.id, uow, zoom, clock, lease=lease)
    return Created(meeting=meeting, new=new)


async def own_meeting(tx: UnitOfWork, principal: Principal, meeting_id: str, *, lock: bool = False) -> Meeting:
    """A member's meetings are theirs alone: anyone else's is not found."""
    read = tx.meetings.locked if lock else tx.meetings.get
    meeting = await read(principal.org_id, meeting_id)
    if meeting is None or meeting.user_id != principal.user_id:
        raise MeetingNotFound(f"Meeting {meeting_id!r} was not found.")
    return meeting
