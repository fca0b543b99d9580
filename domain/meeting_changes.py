"""A member's meetings once made: listed, read fresh from Zoom (R21), changed (R20), cancelled, started (R22);
each through the connection and Zoom user that made it (R19).

The same shape as making one (domain.meetings): a short transaction decides, Zoom is called outside
any, a second short one records what Zoom said. A change or a cancellation holds the meeting's lease
while Zoom answers: callers changing it at once make one Zoom update, and Zoom's meeting.deleted for
a cancellation under way is known to be Roomlink's own.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from domain.access import Principal, require_manager
from domain.budget import budget_day, next_reset, over_budget_reason
from domain.errors import (
    ConnectionBroken,
    DailyBudgetSpent,
    MeetingBeingChanged,
    MeetingBeingCreated,
    MeetingConnectionGone,
    MeetingNotChangeable,
    MeetingNotFound,
    MemberNotConnected,
)
from domain.meeting_hosts import CONNECTION_GONE
from domain.meeting_in_zoom import (
    GONE_FROM_ZOOM,
    HOST_GONE,
    NOT_THE_HOST,
    as_in_zoom,
    zoom_error_for,
)
from domain.meeting_input import ChangeMeeting, changes_of
from domain.meeting_model import Meeting, MeetingHost, MeetingStatus, with_marker
from domain.meeting_ports import (
    Clock,
    MeetingsZoom,
    ZoomDayLimitReached,
    ZoomHostGone,
    ZoomMeetingError,
    ZoomMeetingGone,
    ZoomNotTheHost,
    ZoomPersonalRoom,
)
from domain.meetings import meeting_host, own_meeting, save_meeting
from domain.ports import UnitOfWork, UnitOfWorkFactory

PERSONAL_ROOM_LEFT_ALONE = (
    "Cancelled here. It was in your Personal Meeting ID room, which Roomlink leaves as it is in Zoom."
)


class MeetingsPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Meeting]
    next_after: tuple[datetime, str] | None


class FreshMeeting(msgspec.Struct, frozen=True, kw_only=True):
    meeting: Meeting
    #: When Zoom was read; None when there was nothing in Zoom to read.
    fetched_at: datetime | None


async def _host_or_attention(uow: UnitOfWorkFactory, meeting: Meeting, now: datetime) -> MeetingHost:
    """The meeting's host; when its connection is gone, the meeting is marked (R19) and the error raised."""
    async with uow() as tx:
        try:
            host, _ = await meeting_host(tx, await tx.meetings.locked(meeting.org_id, meeting.id) or meeting, now)
            await tx.commit()
            return host
        except MeetingConnectionGone:
            await _mark(tx, meeting, MeetingStatus.NEEDS_ATTENTION, CONNECTION_GONE, now)
            await tx.commit()
            raise


async def _gone_from_zoom(
    uow: UnitOfWorkFactory, meeting: Meeting, host: MeetingHost, gone: Exception, now: datetime
) -> Exception:
    """Zoom says the meeting or its host is gone: the meeting needs attention, and the caller hears why."""
    error = zoom_error_for(gone, host)
    async with uow() as tx:
        await _mark(tx, meeting, MeetingStatus.NEEDS_ATTENTION, str(error), now)
        await tx.commit()
    return error


async def _mark(tx: UnitOfWork, meeting: Meeting, status: MeetingStatus, reason: str | None, now: datetime) -> Meeting:
    current = await tx.meetings.locked(meeting.org_id, meeting.id) or meeting
    marked = msgspec.structs.replace(current, status=status, status_reason=reason, lease_until=None, updated_at=now)
    if marked != current:
        await save_meeting(tx, current, marked, now)
    return marked


async def list_meetings(
    uow: UnitOfWorkFactory,
    principal: Principal,
    *,
    start_from: datetime | None,
    start_to: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> MeetingsPage:
    async with uow() as tx:
        items = await tx.meetings.of_member(
            principal.org_id, principal.user_id, start_from=start_from, start_to=start_to, after=after, limit=limit + 1
        )
    more = len(items) > limit
    items = items[:limit]
    return MeetingsPage(items=items, next_after=(items[-1].start_time, items[-1].id) if more else None)


async def meeting_record(uow: UnitOfWorkFactory, principal: Principal, meeting_id: str) -> Meeting:
    """Roomlink's record of one of the member's meetings, found by its id (no Zoom call); MeetingNotFound
    when it is not theirs."""
    async with uow(read_only=True) as tx:
        return await own_meeting(tx, principal, meeting_id)


#: At most this many meetings left in Zoom are listed; more than that is a Zoom account to clean up in Zoom.
LEFT_IN_ZOOM_LISTED = 500


async def left_in_zoom(uow: UnitOfWorkFactory, principal: Principal, org_id: str, now: datetime) -> list[Meeting]:
    """R1: for owners and admins, the meetings not over that Roomlink could no longer cancel in Zoom (their
    connection gone, the host's Zoom now another Zoom user): still there with working links, to cancel in Zoom."""
    require_manager(principal, org_id)
    async with uow(read_only=True) as tx:
        return await tx.meetings.left_in_zoom(org_id, now, LEFT_IN_ZOOM_LISTED)


async def get_meeting(
    uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, principal: Principal, meeting_id: str
) -> FreshMeeting:
    """The meeting as Zoom has it now (R21); what changed in Zoom is recorded."""
    async with uow() as tx:
        meeting = await own_meeting(tx, principal, meeting_id)
    if meeting.zoom_meeting_id is None or meeting.status is MeetingStatus.CANCELLED:
        return FreshMeeting(meeting=meeting, fetched_at=None)
    try:
        host = await _host_or_attention(uow, meeting, clock.now())
    except MeetingConnectionGone:
        async with uow() as tx:
            return FreshMeeting(meeting=await own_meeting(tx, principal, meeting_id), fetched_at=None)
    except MemberNotConnected:
        return FreshMeeting(meeting=meeting, fetched_at=None)
    try:
        in_zoom = await zoom.get(host, meeting.zoom_meeting_id)
    except (ZoomMeetingGone, ZoomHostGone, ZoomNotTheHost) as gone:
        reason = {ZoomHostGone: HOST_GONE, ZoomNotTheHost: NOT_THE_HOST}.get(type(gone), GONE_FROM_ZOOM)
        async with uow() as tx:
            marked = await _mark(tx, meeting, MeetingStatus.NEEDS_ATTENTION, reason, clock.now())
            await tx.commit()
        return FreshMeeting(meeting=marked, fetched_at=clock.now())
    except (ZoomMeetingError, ConnectionBroken) as refused:
        raise zoom_error_for(refused, host) from None
    fresh = as_in_zoom(meeting, in_zoom, clock.now())
    if fresh != meeting:
        async with uow() as tx:
            current = await tx.meetings.locked(meeting.org_id, meeting.id)
            if current is not None:
                fresh = as_in_zoom(current, in_zoom, clock.now())
                await save_meeting(tx, current, fresh, clock.now())
                await tx.commit()
    return FreshMeeting(meeting=fresh, fetched_at=clock.now())






async def update_meeting(
    uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, principal: Principal, meeting_id: str, change: ChangeMeeting
) -> Meeting:
    async with uow() as tx:
        meeting = await own_meeting(tx, principal, meeting_id)
    _not_a_session_meeting(meeting, "changed")
    changes = changes_of(meeting, change, clock.now())
    if not changes:
        return meeting
    return await change_meeting(uow, zoom, clock, meeting.org_id, meeting.id, changes)


def _not_a_session_meeting(meeting: Meeting, done: str) -> None:
    """A session's meeting follows its session (domain.sessions): it is changed or cancelled through the session."""
    if meeting.session_id is not None:
        raise MeetingNotChangeable(
            f"This meeting belongs to the session {meeting.session_id!r}; it is {done} through the session "
            "(PUT or DELETE /api/v1/orgs/{org_id}/sessions/{session_id}), not here."
        )


async def change_meeting(
    uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, org_id: str, meeting_id: str, wanted: dict[str, object]
) -> Meeting:
    """Zoom is sent only what differs from the meeting now (R20), through the connection that made it (R19)."""
    now = clock.now()
    async with uow() as tx:
        meeting = await tx.meetings.locked(org_id, meeting_id)
        if meeting is None:
            raise MeetingNotFound(f"Meeting {meeting_id!r} was not found.")
        changes = {name: value for name, value in wanted.items() if getattr(meeting, name) != value}
        if not changes:
            return meeting
        if meeting.status is MeetingStatus.PENDING:
            return await _change_intent(tx, meeting, changes, now)
        if meeting.status is not MeetingStatus.SCHEDULED or meeting.zoom_meeting_id is None:
            raise MeetingNotChangeable(f"A {meeting.status.value} meeting cannot be changed; {meeting.status_reason or ''}".strip())
        if meeting.lease_until is not None and meeting.lease_until > now:
            # Two callers at once would each send the same change: one Zoom update, the other looks again later.
            raise MeetingBeingChanged("The meeting is being changed in Zoom; try again in a moment.")
        host, meeting = await meeting_host(tx, meeting, now)
        if not await tx.meeting_budget.spend(meeting.org_id, meeting.zoom_user_id, budget_day(now)):
            raise DailyBudgetSpent(over_budget_reason(now).replace("it will be made", "it can be changed"), retry_at=next_reset(now))
        meeting = msgspec.structs.replace(meeting, lease_until=now + CHANGE_LEASE)
        await save_meeting(tx, meeting, meeting, now)
        await tx.commit()
    sent = {**changes, "agenda": with_marker(changes["agenda"], meeting.marker)} if "agenda" in changes else changes
    try:
        await zoom.update(host, meeting.zoom_meeting_id, sent)
    except ZoomDayLimitReached as limited:
        async with uow() as tx:
            await tx.meeting_budget.close_day(meeting.org_id, meeting.zoom_user_id, budget_day(now))
            await _end_change_lease(tx, meeting, clock.now())
            await tx.commit()
        raise DailyBudgetSpent(over_budget_reason(now), retry_at=limited.retry_at or next_reset(now)) from None
    except (ZoomMeetingGone, ZoomHostGone, ZoomNotTheHost) as gone:
        raise await _gone_from_zoom(uow, meeting, host, gone, clock.now()) from None
    except BaseException as failed:
        # Not sent, or not known to be (a timeout): the next caller may send it again at once.
        async with uow() as tx:
            await _end_change_lease(tx, meeting, clock.now())
            await tx.commit()
        if isinstance(failed, ZoomMeetingError | ConnectionBroken):
            raise zoom_error_for(failed, host) from None
        raise
    async with uow() as tx:
        current = await tx.meetings.locked(meeting.org_id, meeting.id) or meeting
        ours = current.lease_until == meeting.lease_until
        updated = msgspec.structs.replace(
            current, **changes, lease_until=None if ours else current.lease_until, updated_at=clock.now()
        )
        await save_meeting(tx, current, updated, clock.now())
        await tx.commit()
    return updated


async def _end_change_lease(tx: UnitOfWork, leased: Meeting, now: datetime) -> None:
    """The lease change_meeting took, given back unless someone else's replaced it since (a cancellation's)."""
    current = await tx.meetings.locked(leased.org_id, leased.id)
    if current is not None and current.lease_until == leased.lease_until:
        released = msgspec.structs.replace(current, lease_until=None)
        await save_meeting(tx, released, released, now)


async def _change_intent(tx: UnitOfWork, meeting: Meeting, changes: dict[str, object], now: datetime) -> Meeting:
    """Not in Zoom yet: the intent itself changes, and Zoom gets the new values when it is made."""
    if meeting.lease_until is not None and meeting.lease_until > now:
        raise MeetingBeingCreated("The meeting is being created in Zoom; change it in a moment.")
    updated = msgspec.structs.replace(meeting, **changes, updated_at=now)
    await save_meeting(tx, meeting, updated, now)
    await tx.commit()
    return updated


#: How long a cancellation's Zoom call may take before a meeting.deleted from Zoom is read as someone else's.
CANCEL_LEASE = timedelta(minutes=2)
#: How long one change of a meeting may be under way in Zoom before another caller may send it again.
CHANGE_LEASE = timedelta(minutes=2)


async def cancel_meeting(
    uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, principal: Principal, meeting_id: str
) -> Meeting:
    """Cancelled in Zoom through the connection that made it; the PMI room itself is never deleted (R17)."""
    async with uow() as tx:
        meeting = await own_meeting(tx, principal, meeting_id)
    _not_a_session_meeting(meeting, "cancelled")
    return await end_meeting(uow, zoom, clock, meeting.org_id, meeting.id)


async def end_meeting(uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, org_id: str, meeting_id: str) -> Meeting:
    """cancel_meeting's work, for any meeting of the organization (a session's too)."""
    now = clock.now()
    async with uow() as tx:
        meeting = await tx.meetings.locked(org_id, meeting_id)
        if meeting is None:
            raise MeetingNotFound(f"Meeting {meeting_id!r} was not found.")
        if meeting.status is MeetingStatus.CANCELLED:
            return meeting
        if meeting.zoom_meeting_id is None:
            if meeting.lease_until is not None and meeting.lease_until > now:
                raise MeetingBeingCreated("The meeting is being created in Zoom; cancel it in a moment.")
            cancelled = await _mark(tx, meeting, MeetingStatus.CANCELLED, None, now)
            await tx.commit()
            return cancelled
        # Zoom tells of the deletion (meeting.deleted) while it is under way: the lease says it is ours.
        meeting = msgspec.structs.replace(meeting, lease_until=now + CANCEL_LEASE)
        await save_meeting(tx, meeting, meeting, now)
        await tx.commit()
    reason = None
    # A meeting Zoom holds in the PMI room has an id of its own and is deleted by it, or it would stay scheduled
    # there; only a record whose id is the PMI room itself (3018) is left alone.
    host = await _host_or_attention(uow, meeting, now)
    try:
        await zoom.delete(host, meeting.zoom_meeting_id)
    except ZoomMeetingGone:
        pass
    except ZoomPersonalRoom:
        reason = PERSONAL_ROOM_LEFT_ALONE
    except (ZoomMeetingError, ConnectionBroken) as refused:
        raise zoom_error_for(refused, host) from None
    async with uow() as tx:
        cancelled = await _mark(tx, meeting, MeetingStatus.CANCELLED, reason, clock.now())
        await tx.commit()
    return cancelled


async def start_url(uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, principal: Principal, meeting_id: str) -> str:
    """R22: only the host (a member sees only their own meetings), a start URL fetched from Zoom now."""
    async with uow() as tx:
        meeting = await own_meeting(tx, principal, meeting_id)
    if meeting.zoom_meeting_id is None or meeting.status is MeetingStatus.CANCELLED:
        raise MeetingNotChangeable(f"A {meeting.status.value} meeting cannot be started.")
    host = await _host_or_attention(uow, meeting, clock.now())
    try:
        return await zoom.start_url(host, meeting.zoom_meeting_id)
    except (ZoomMeetingGone, ZoomHostGone, ZoomNotTheHost) as gone:
        raise await _gone_from_zoom(uow, meeting, host, gone, clock.now()) from None
    except (ZoomMeetingError, ConnectionBroken) as refused:
        raise zoom_error_for(refused, host) from None


