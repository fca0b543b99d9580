"""A session follows its facts: after any change of its bookings, its host or its meeting, its status is
decided again (domain.session_model.session_state), in the same transaction as the change.

Becoming ready is what participants and the host product wait for: each participant booked so far is
emailed the join link once for that time (a later booking is emailed when it is made), and
`session.link_ready` goes out. Needing attention is told as `session.needs_attention`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

import msgspec

from domain.meeting_model import Meeting
from domain.model import Organization
from domain.ports import OutboxEvent, UnitOfWork, UnitOfWorkFactory
from domain.session_model import (
    Booking,
    RemoteSession,
    SessionFacts,
    SessionStatus,
    session_state,
    session_view,
)

SESSION_LINK_READY = "session.link_ready"
SESSION_NEEDS_ATTENTION = "session.needs_attention"

#: The job that emails one participant the join link of one time the session became ready.
EMAIL_SESSION_LINK = "email_session_link"


async def refresh_session(
    tx: UnitOfWork, session: RemoteSession, now: datetime, *, meeting: Meeting | None = None
) -> SessionFacts:
    """`session` must be locked by the caller's transaction; `meeting`, when given, is the session's current one
    as the caller just wrote it. Returns the facts it decided from, with the session as it is now."""
    sessions = tx.remote_sessions
    current = meeting if meeting is not None else await sessions.current_meeting(session.org_id, session.id)
    facts = SessionFacts(session=session, bookings=await tx.bookings.count(session.org_id, session.id), meeting=current)
    status, reason = session_state(facts)
    if (status, reason) == (session.status, session.status_reason):
        return facts
    became_ready = status is SessionStatus.READY and session.status is not SessionStatus.READY and session.remote
    join_url = current.join_url if became_ready and current is not None else None
    # Ready again with the link participants hold (the meeting was kept through a reconnect): nobody is emailed.
    new_link = became_ready and join_url != session.announced_join_url
    updated = msgspec.structs.replace(
        session,
        status=status,
        status_reason=reason,
        link_generation=session.link_generation + (1 if new_link else 0),
        announced_join_url=join_url if new_link else session.announced_join_url,
        updated_at=now,
    )
    await sessions.save(updated)
    facts = msgspec.structs.replace(facts, session=updated)
    if became_ready:
        if new_link:
            await email_link(tx, updated, await tx.bookings.of_session(session.org_id, session.id))
        await tx.outbox.add(session_event(SESSION_LINK_READY, facts, now))
    elif status is SessionStatus.NEEDS_ATTENTION and session.status is not SessionStatus.NEEDS_ATTENTION:
        await tx.outbox.add(session_event(SESSION_NEEDS_ATTENTION, facts, now))
    return facts


async def email_link(tx: UnitOfWork, session: RemoteSession, bookings: list[Booking]) -> None:
    """Those of `bookings` not yet emailed for this time the session became ready: one email each, never twice."""
    due = [booking.id for booking in bookings if booking.notified_generation < session.link_generation]
    for each in due:
        await tx.jobs.enqueue(
            EMAIL_SESSION_LINK,
            {"org_id": session.org_id, "session_id": session.id, "booking_id": each, "generation": session.link_generation},
            dedupe_key=f"session_link:{session.org_id}:{session.id}:{each}:{session.link_generation}",
        )
    await tx.bookings.mark_notified(session.org_id, session.id, due, session.link_generation)


def session_event(kind: str, facts: SessionFacts, now: datetime) -> OutboxEvent:
    return OutboxEvent(
        id=str(uuid.uuid4()),
        type=kind,
        org_id=facts.session.org_id,
        subject=f"session:{facts.session.id}",
        occurred_at=now,
        data=msgspec.to_builtins(session_view(facts)),
    )


async def follow_meeting(tx: UnitOfWork, meeting: Meeting, now: datetime) -> None:
    """A session's meeting changed (made, refused, deleted in Zoom...): its session follows, if it is the current one."""
    assert meeting.session_id is not None
    session = await tx.remote_sessions.locked(meeting.org_id, meeting.session_id)
    if session is None:
        return
    current = await tx.remote_sessions.current_meeting(meeting.org_id, meeting.session_id)
    if current is not None and current.id == meeting.id:
        await refresh_session(tx, session, now, meeting=meeting)


class SessionLinkEmail(msgspec.Struct, frozen=True, kw_only=True):
    """An EMAIL_SESSION_LINK job: one participant, one time the session became ready."""

    org_id: str
    session_id: str
    booking_id: str
    generation: int


#: Sends the join link email to the booking's participant; raises when it could not be sent.
SendSessionLink = Callable[[Booking, RemoteSession, Meeting, Organization], Awaitable[None]]


async def email_session_link(uow: UnitOfWorkFactory, cmd: SessionLinkEmail, send: SendSessionLink) -> bool:
    """The link as it is now (a later time the session becomes ready has its own email); True when sent.

    Never twice (R16): the email is claimed in the database before it is sent (outside any transaction), and
    released only if sending failed, so a job run again — after a retry, or by a second worker — finds it sent
    and does nothing. Nothing is sent for a session cancelled, or whose link changed since.
    """
    async with uow() as tx:
        session = await tx.remote_sessions.get(cmd.org_id, cmd.session_id)
        booking = await tx.bookings.get(cmd.org_id, cmd.session_id, cmd.booking_id)
        meeting = await tx.remote_sessions.current_meeting(cmd.org_id, cmd.session_id)
        organization = await tx.organizations.get(cmd.org_id)
        if (
            session is None or booking is None or meeting is None or organization is None or meeting.join_url is None
            or session.link_generation != cmd.generation or session.status is not SessionStatus.READY
        ):
            return False
        before = await tx.bookings.claim_email(cmd.org_id, cmd.session_id, cmd.booking_id, cmd.generation)
        if before is None:
            return False
        await tx.commit()
    try:
        await send(booking, session, meeting, organization)
    except Exception:
        async with uow() as tx:
            await tx.bookings.release_email(cmd.org_id, cmd.session_id, cmd.booking_id, cmd.generation, before)
            await tx.commit()
        raise
    return True
