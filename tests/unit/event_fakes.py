"""The outbox of events to the host product (R24) over the in-memory fakes.

`EventFakeStore` is a FakeStore whose units of work do at commit what persistence/ does: the
facts of members and of the organization that the transaction changed (here: compared between
the committed tables and the transaction's copy) become events through
domain.events.transaction_events. The outbox keeps positions and ordinals as PostgreSQL does,
and reads members' facts as of an organization event for its fan-out.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import msgspec

from domain import events as rules
from domain.events import MemberChange
from domain.ports import FanOut, MemberFacts, OrganizationFacts, OutboxEvent
from tests.unit.fakes import (
    NOW,
    FakeStore,
    FakeUnitOfWork,
    Tables,
    _organization_connection,
    _personal_connection,
    _seat_user,
)


@dataclass
class Written:
    position: int
    ordinal: int
    event: OutboxEvent
    fan_out_state: str | None = None
    cursor: str | None = None


@dataclass
class Outbox:
    written: list[Written] = field(default_factory=list)

    def of_type(self, type_: str) -> list[OutboxEvent]:
        return [w.event for w in self.written if w.event.type == type_]

    def in_delivery_order(self, subject: str) -> list[OutboxEvent]:
        """As an endpoint receives one subject's events: by ordinal, then position."""
        return [w.event for w in sorted(self.written, key=lambda w: (w.ordinal, w.position)) if w.event.subject == subject]


class EventFakeStore(FakeStore):
    def __init__(self) -> None:
        super().__init__()
        self.outbox = Outbox()

    def uow(self, read_only: bool = False) -> EventFakeUnitOfWork:
        return EventFakeUnitOfWork(self)


class EventFakeUnitOfWork(FakeUnitOfWork):
    def __init__(self, store: EventFakeStore) -> None:
        super().__init__(store)
        self.outbox = FakeOutbox(store.outbox, self._tables)
        #: The written list as it would be if this transaction commits.
        self._outbox_store = store.outbox

    async def commit(self) -> None:
        committed = self._store.tables
        for org_id in sorted(set(committed.organizations) | set(self._tables.organizations)):
            if org_id not in self._tables.organizations or org_id not in committed.organizations:
                continue
            changes = [
                MemberChange(user_id=user_id, before=facts_of(committed, org_id, user_id), after=facts_of(self._tables, org_id, user_id))
                for (org, user_id) in sorted(self._tables.members)
                if org == org_id and (org, user_id) in committed.members
                and facts_of(committed, org_id, user_id) != facts_of(self._tables, org_id, user_id)
            ]
            for event in rules.transaction_events(
                org_id, organization_facts(committed, org_id), organization_facts(self._tables, org_id), changes, NOW
            ):
                await self.outbox.add(event)
        self._outbox_store.written[:] = self.outbox.pending
        await super().commit()


class FakeOutbox:
    """domain.ports.Outbox over a list; what a transaction writes is kept only if it commits."""

    def __init__(self, committed: Outbox, tables: Tables) -> None:
        self.pending = copy.deepcopy(committed.written)
        self._t = tables

    async def refresh_statistics(self) -> None:
        """Nothing to plan in memory."""

    async def add(self, event: OutboxEvent) -> None:
        self._append([event], None)

    def _append(self, events: list[OutboxEvent], ordinal: int | None) -> None:
        for event in events:
            position = len(self.pending) + 1
            self.pending.append(
                Written(
                    position=position,
                    ordinal=ordinal or position,
                    event=event,
                    fan_out_state="pending" if event.fan_out else None,
                )
            )

    def _written(self, event_id: str) -> Written | None:
        return next((w for w in self.pending if w.event.id == event_id), None)

    async def fan_out(self, event_id: str) -> FanOut | None:
        written = self._written(event_id)
        if written is None or written.fan_out_state not in ("pending", "running"):
            return None
        before, after = written.event.fan_out
        return FanOut(
            event_id=event_id,
            ordinal=written.position,
            org_id=written.event.org_id,
            occurred_at=written.event.occurred_at,
            before=before,
            after=after,
            cursor=written.cursor,
        )

    async def member_states(self, fan_out: FanOut) -> list[tuple[MemberFacts, int]]:
        counts: dict[MemberFacts, int] = {}
        for _, facts in self._members_then(fan_out):
            counts[facts] = counts.get(facts, 0) + 1
        return list(counts.items())

    async def members_after(self, fan_out: FanOut, limit: int) -> list[tuple[str, MemberFacts]]:
        return [(user_id, facts) for user_id, facts in self._members_then(fan_out) if user_id > (fan_out.cursor or "")][:limit]

    def _members_then(self, fan_out: FanOut) -> list[tuple[str, MemberFacts]]:
        later = {}
        for written in self.pending:
            if written.position > fan_out.ordinal and written.event.facts_before is not None:
                later.setdefault(written.event.subject, written.event.facts_before)
        return [
            (user_id, later.get(rules.member_subject(user_id), facts_of(self._t, org_id, user_id)))
            for (org_id, user_id), member in sorted(self._t.members.items())
            if org_id == fan_out.org_id and member.created_at <= fan_out.occurred_at
        ]

    async def count_affected(self, fan_out: FanOut, affected: int) -> None:
        written = self._written(fan_out.event_id)
        written.event = msgspec.structs.replace(written.event, data={**written.event.data, "affected_members": affected})
        written.fan_out_state = "running"

    async def add_fanned_out(self, fan_out: FanOut, events: list[OutboxEvent]) -> None:
        self._append(events, fan_out.ordinal)

    async def advance(self, fan_out: FanOut, cursor: str | None, done: bool) -> None:
        written = self._written(fan_out.event_id)
        written.cursor, written.fan_out_state = cursor, "done" if done else "running"


def facts_of(tables: Tables, org_id: str, user_id: str) -> MemberFacts:
    member = tables.members[(org_id, user_id)]
    personal = _personal_connection(tables, org_id, user_id)
    return MemberFacts(
        personal=personal.status if personal else None,
        has_seat=_seat_user(tables, member) is not None,
        removed_organization=member.organization_removed,
    )


def organization_facts(tables: Tables, org_id: str) -> OrganizationFacts:
    connection = _organization_connection(tables, org_id)
    return OrganizationFacts(
        connection_id=connection.id if connection else None,
        status=connection.status if connection else None,
        status_reason=connection.status_reason if connection else None,
        members_may_remove=tables.organizations[org_id].policy.allow_members_to_remove,
    )
