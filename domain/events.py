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

import uuid
from collections.abc import Iterable
from datetime import datetime

import msgspec

from domain.errors import InvalidInput
from domain.meeting_model import Meeting, MeetingStatus, view_of
from domain.model import ConnectionStatus, EffectiveConnection
from domain.ports import FanOut, MemberFacts, OrganizationFacts, OutboxEvent, UnitOfWork
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
