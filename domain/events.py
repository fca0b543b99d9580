"""R24: what the host product hears. Which changes are events, and what each says.

A member's effective connection is decided by domain.precedence from the member's own facts
(personal connection, seat, removal) and the organization's (its connection, the policy). A
transaction that changes only members' facts tells of each member whose effective connection
moved. A transaction that changes the organization's facts is one `organization.connection.changed`
event, however many members it affects; the worker fans it out to `member.connection.changed`
events in batches, each member's before and after decided from their own facts and the
organization's before and after.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

import msgspec

from domain.errors import InvalidInput
from domain.meeting_model import Meeting, MeetingStatus, view_of
from domain.model import ConnectionStatus, EffectiveConnection
from domain.ports import (
    FanOut,
    LeasedDelivery,
    MemberFacts,
    OrganizationFacts,
    OutboxEvent,
    SigningSecrets,
    UnitOfWork,
    UnitOfWorkFactory,
)
from domain.precedence import effective_connection

MEMBER_CONNECTION_CHANGED = "member.connection.changed"
ORGANIZATION_CONNECTION_CHANGED = "organization.connection.changed"
MEETING_CREATED = "meeting.created"
MEETING_UPDATED = "meeting.updated"
MEETING_CANCELLED = "meeting.cancelled"

#: Every type an endpoint may ask for; meeting.* and session.* are written by their own use cases.
EVENT_TYPES = (
    MEMBER_CONNECTION_CHANGED,
    ORGANIZATION_CONNECTION_CHANGED,
    MEETING_CREATED,
    MEETING_UPDATED,
    MEETING_CANCELLED,
    "session.link_ready",
    "session.needs_attention",
)

ORGANIZATION_SUBJECT = "organization"

#: The job that fans an organization event out to its members' events, batch by batch.
FAN_OUT = "fan_out_event"

#: Members read per transaction of a fan-out.
FAN_OUT_BATCH = 1000
#: A fan-out of this many batches refreshes the outbox's statistics.
ANALYZE_AFTER_BATCHES = 5
#: Deliveries leased and sent at once per round; at most one per (endpoint, subject), so order holds.
DELIVERY_BATCH = 50


class MemberChange(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    before: MemberFacts
    after: MemberFacts


def member_subject(user_id: str) -> str:
    return f"member:{user_id}"


def meeting_event(before: Meeting | None, after: Meeting, now: datetime) -> OutboxEvent | None:
    """What the host product hears of a meeting's change: `meeting.created` once it exists in Zoom (its join
    link), `meeting.cancelled`, otherwise `meeting.updated` for any change it can see. A meeting not in
    Zoom yet is the host product's own request, already answered: its waiting is not news."""
    seen_before = view_of(before) if before is not None else None
    seen_after = view_of(after)
    if seen_before == seen_after:
        return None
    if after.status is MeetingStatus.CANCELLED:
        kind = MEETING_CANCELLED
    elif after.join_url is not None and (before is None or before.join_url is None):
        kind = MEETING_CREATED
    elif after.status is MeetingStatus.PENDING and (before is None or before.status is MeetingStatus.PENDING):
        return None
    else:
        kind = MEETING_UPDATED
    return OutboxEvent(
        id=str(uuid.uuid4()),
        type=kind,
        org_id=after.org_id,
        subject=f"meeting:{after.id}",
        occurred_at=now,
        data={"user_id": after.user_id, **msgspec.to_builtins(seen_after)},
    )


def check_event_types(types: Iterable[str]) -> list[str]:
    """An endpoint's filter: known types only, each once, in a stable order."""
    wanted = list(dict.fromkeys(types))
    unknown = [t for t in wanted if t not in EVENT_TYPES]
    if unknown:
        raise InvalidInput(
            f"Unknown event types: {', '.join(unknown)}; nothing was stored.",
            errors={"event_types": f"unknown: {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}"},
        )
    return wanted


def effective(member: MemberFacts, organization: OrganizationFacts) -> EffectiveConnection:
    return effective_connection(
        personal=member.personal,
        organization=organization.status,
        has_seat=member.has_seat,
        removed_organization=member.removed_organization,
        members_may_remove=organization.members_may_remove,
    )


def organization_changed(before: OrganizationFacts, after: OrganizationFacts) -> bool:
    """Another connection, another status, or another policy: what members' connections follow."""
    return (before.connection_id, before.status, before.members_may_remove) != (
        after.connection_id,
        after.status,
        after.members_may_remove,
    )


def transaction_events(
    org_id: str,
    organization_before: OrganizationFacts,
    organization_after: OrganizationFacts,
    members: list[MemberChange],
    now: datetime,
) -> list[OutboxEvent]:
    """The events of one committed transaction in one organization, in the order they are written.

    When the organization changed too, members' own changes are told against the organization as
    it was, and the organization event comes last: its fan-out then starts from where they ended.
    """
    changed = organization_changed(organization_before, organization_after)
    organization = organization_before if changed else organization_after
    events = [
        msgspec.structs.replace(event, facts_before=change.before)
        for change in members
        if (
            event := member_event(
                org_id, change.user_id, effective(change.before, organization), effective(change.after, organization), now
            )
        )
    ]
    if changed:
        events.append(organization_event(org_id, organization_before, organization_after, now))
    return events


def member_event(
    org_id: str, user_id: str, before: EffectiveConnection, after: EffectiveConnection, now: datetime
) -> OutboxEvent | None:
    if before == after:
        return None
    return OutboxEvent(
        id=str(uuid.uuid4()),
        type=MEMBER_CONNECTION_CHANGED,
        org_id=org_id,
        subject=member_subject(user_id),
        occurred_at=now,
        data={"user_id": user_id, **_effective_data(after), "before": _effective_data(before)},
    )


def organization_event(
    org_id: str, before: OrganizationFacts, after: OrganizationFacts, now: datetime
) -> OutboxEvent:
    """`affected_members` is counted by the worker before the event goes out (the request writes one row)."""
    return OutboxEvent(
        id=str(uuid.uuid4()),
        type=ORGANIZATION_CONNECTION_CHANGED,
        org_id=org_id,
        subject=ORGANIZATION_SUBJECT,
        occurred_at=now,
        data={
            **_organization_data(after),
            "affected_members": None,
            "before": {key: value for key, value in _organization_data(before).items() if key != "status_reason"},
        },
        fan_out=(before, after),
    )


def fan_out_events(fan_out: FanOut, members: list[tuple[str, MemberFacts]]) -> list[OutboxEvent]:
    """The member events of one batch of an organization's change."""
    return [
        event
        for user_id, facts in members
        if (
            event := member_event(
                fan_out.org_id,
                user_id,
                effective(facts, fan_out.before),
                effective(facts, fan_out.after),
                fan_out.occurred_at,
            )
        )
    ]


def affected_members(fan_out: FanOut, states: list[tuple[MemberFacts, int]]) -> int:
    """How many members the organization's change moves: counted by member state, not by member."""
    return sum(count for facts, count in states if effective(facts, fan_out.before) != effective(facts, fan_out.after))


async def fan_out_batch(uow: UnitOfWork, event_id: str, batch: int = FAN_OUT_BATCH) -> bool:
    """One batch of an organization event's fan-out, committed with its cursor; True while more remain.

    The first batch also counts the affected members into the organization event, which is held
    back until then. A worker that dies mid-way leaves the last committed cursor, and the next
    one resumes after it: no member is told twice or skipped.
    """
    fan_out = await uow.outbox.fan_out(event_id)
    if fan_out is None:
        return False
    if fan_out.cursor is None:
        await uow.outbox.count_affected(fan_out, affected_members(fan_out, await uow.outbox.member_states(fan_out)))
    members = await uow.outbox.members_after(fan_out, batch)
    await uow.outbox.add_fanned_out(fan_out, fan_out_events(fan_out, members))
    more = len(members) == batch
    await uow.outbox.advance(fan_out, members[-1][0] if members else fan_out.cursor, done=not more)
    await uow.commit()
    return more


def _effective_data(connection: EffectiveConnection) -> dict[str, object]:
    return {
        "connected": connection.connected,
        "type": connection.type.value if connection.type else None,
        "reason": connection.reason.value if connection.reason else None,
    }


def _organization_data(facts: OrganizationFacts) -> dict[str, object]:
    return {
        "status": facts.status.value if facts.status else "not_connected",
        "status_reason": facts.status_reason,
        "policy": {"allow_members_to_remove": facts.members_may_remove},
    }


def facts_of(personal_status: str, seated: bool, organization_removed: bool) -> MemberFacts:
    """A member's facts as the members table keeps them (`personal_status` 'none' when there is no personal connection)."""
    return MemberFacts(
        personal=None if personal_status == "none" else ConnectionStatus(personal_status),
        has_seat=seated,
        removed_organization=organization_removed,
    )


async def fan_out_event(uow: UnitOfWorkFactory, event_id: str, analyze_after: int = ANALYZE_AFTER_BATCHES) -> int:
    """The FAN_OUT job: an organization event becomes its members' events, one committed batch at a time
    (fan_out_batch); a large one then lets the planner know the outbox grew. Returns how many batches ran."""
    more, batches = True, 0
    while more:
        async with uow() as tx:
            more = await fan_out_batch(tx, event_id)
        batches += 1
    if batches >= analyze_after:
        async with uow() as tx:
            await tx.outbox.refresh_statistics()
            await tx.commit()
    return batches


# Delivery to the host product's endpoints (server/event_delivery.py sends; the steps around it are here).


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    first_delay_s: float = 10.0
    max_delay_s: float = 6 * 3600.0
    #: Attempts go on until this long after the first one.
    retry_for_s: float = 3 * 24 * 3600.0

    def next_attempt(self, attempts: int, first_attempt_at: datetime, now: datetime) -> datetime | None:
        """After `attempts` failed attempts: when to try again (full jitter over the upper half), or None to give up."""
        if now - first_attempt_at >= timedelta(seconds=self.retry_for_s):
            return None
        ceiling = min(self.max_delay_s, self.first_delay_s * 2 ** max(0, attempts - 1))
        return now + timedelta(seconds=random.uniform(ceiling / 2, ceiling))


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """What one attempt to deliver got: the endpoint's status code, or why there was none."""

    status_code: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def deliver_once(
    uow: UnitOfWorkFactory,
    send: Callable[[LeasedDelivery], Awaitable[Outcome]],
    policy: RetryPolicy,
    lease_s: float,
    now: Callable[[], datetime],
    batch: int = DELIVERY_BATCH,
) -> int:
    """One round: lease, send, record (R24). Returns how many were sent.

    The lease is taken without holding a transaction, the deliveries are sent concurrently outside any, and
    each outcome is recorded as soon as it is known (record_outcome), so a slow endpoint holds back only
    its own deliveries' records.
    """
    claimed = await claim_deliveries(uow, batch, lease_s)

    async def send_and_record(delivery: LeasedDelivery) -> None:
        await record_outcome(uow, delivery, await send(delivery), policy, now())

    await asyncio.gather(*(send_and_record(delivery) for delivery in claimed))
    return len(claimed)


async def claim_deliveries(uow: UnitOfWorkFactory, limit: int, lease_s: float) -> list[LeasedDelivery]:
    """Due deliveries leased to the caller: the heads of their (endpoint, subject) queues, and no more of one
    endpoint than ENDPOINT_IN_FLIGHT in flight anywhere (persistence/events.py)."""
    async with uow(read_only=True) as tx:
        return await tx.deliveries.claim(limit, lease_s)


async def record_outcome(
    uow: UnitOfWorkFactory, delivery: LeasedDelivery, outcome: Outcome, policy: RetryPolicy, at: datetime
) -> None:
    """A 2xx is delivered; 410 Gone fails it and disables the endpoint; any other answer is retried by
    `policy` until it gives up, and then the delivery fails for good."""
    async with uow() as tx:
        if outcome.delivered:
            await tx.deliveries.delivered(delivery.id, outcome.status_code or 200)
        elif outcome.status_code == 410:
            await tx.deliveries.failed(delivery.id, 410, "410 Gone: the endpoint is disabled", None)
            await tx.event_endpoints.disable(delivery.endpoint_id, "answered 410 Gone", at)
        else:
            retry_at = policy.next_attempt(delivery.attempts, delivery.first_attempt_at, at)
            await tx.deliveries.failed(delivery.id, outcome.status_code, outcome.error or "failed", retry_at)
        await tx.commit()


async def requeue_fan_outs(uow: UnitOfWorkFactory) -> int:
    """A fan-out whose job was lost (failed for good, or dropped) would hold its members' events back: its job
    is queued again. Returns how many were."""
    async with uow() as tx:
        unfinished = await tx.outbox.unfinished_fan_outs()
        for event_id in unfinished:
            await tx.jobs.enqueue(FAN_OUT, {"event_id": event_id}, dedupe_key=f"fan_out:{event_id}")
        await tx.commit()
    return len(unfinished)


async def signing_secrets(uow: UnitOfWorkFactory, endpoint_id: str, now: datetime) -> SigningSecrets | None:
    """The secrets an endpoint's deliveries are signed with now (None: no such endpoint), as its receiver
    checks them."""
    async with uow(read_only=True) as tx:
        return await tx.event_endpoints.signing_secrets(endpoint_id, now)
