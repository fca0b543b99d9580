"""domain.ports.Outbox (`tx.outbox`): events to the host product, and an organization event's fan-out to its members
(R24). Every check here leaves without committing: nothing reaches the endpoints other tests registered."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from domain.events import (
    MEMBER_CONNECTION_CHANGED,
    ORGANIZATION_CONNECTION_CHANGED,
    member_subject,
)
from domain.model import ConnectionStatus, ConnectionType
from domain.ports import MemberFacts, OrganizationFacts, OutboxEvent
from tests.contract.conftest import (
    connected,
    new_connection,
    now,
    organization,
    ours,
    person,
)
from tests.unit.event_fakes import EventFakeStore

BEFORE = OrganizationFacts(connection_id=None, status=None, members_may_remove=False)
NOBODY_CONNECTED = MemberFacts(personal=None, has_seat=False, removed_organization=False)


@pytest.fixture
def fake_store() -> EventFakeStore:
    return EventFakeStore()


def organization_event(org_id: str, occurred_at, after: OrganizationFacts | None = None) -> OutboxEvent:
    return OutboxEvent(
        id=str(uuid.uuid4()),
        type=ORGANIZATION_CONNECTION_CHANGED,
        org_id=org_id,
        subject=f"organization:{org_id}",
        occurred_at=occurred_at,
        data={"type": "organization", "connected": True},
        fan_out=(BEFORE, after or OrganizationFacts(connection_id=str(uuid.uuid4()), status=ConnectionStatus.ACTIVE, members_may_remove=False)),
    )


async def test_r24_an_organization_event_is_fanned_out_from_the_first_member_until_done(backend):
    org = await organization(backend, person("ada"))
    event = organization_event(org, now())
    async with backend.uow() as tx:
        await tx.outbox.add(event)
        fan_out = await tx.outbox.fan_out(event.id)
        assert (fan_out.event_id, fan_out.org_id, fan_out.occurred_at, fan_out.cursor) == (event.id, org, event.occurred_at, None)
        assert (fan_out.before, fan_out.after) == event.fan_out
        await tx.outbox.count_affected(fan_out, 1)
        await tx.outbox.advance(fan_out, ours(org, "ada"), done=False)
        assert (await tx.outbox.fan_out(event.id)).cursor == ours(org, "ada")
        await tx.outbox.advance(fan_out, ours(org, "ada"), done=True)
        assert await tx.outbox.fan_out(event.id) is None


async def test_r24_an_event_of_no_fan_out_or_unknown_has_none(backend):
    org = await organization(backend)
    plain = OutboxEvent(
        id=str(uuid.uuid4()), type="meeting.created", org_id=org, subject="meeting:m1", occurred_at=now(), data={}
    )
    async with backend.uow() as tx:
        await tx.outbox.add(plain)
        assert await tx.outbox.fan_out(plain.id) is None
        assert await tx.outbox.fan_out(str(uuid.uuid4())) is None


async def test_r24_an_event_added_in_a_transaction_that_does_not_commit_is_not_kept(backend):
    org = await organization(backend)
    event = organization_event(org, now())
    async with backend.uow() as tx:
        await tx.outbox.add(event)
    async with backend.uow() as tx:
        assert await tx.outbox.fan_out(event.id) is None


async def test_r24_members_after_the_cursor_by_user_id_as_they_were_at_the_event_without_later_members(backend):
    start = now()
    org = await organization(backend, person("cy"), person("ada"), person("bob"), person("dee"), at=start)
    await connected(backend, new_connection(org, ConnectionType.PERSONAL, ours(org, "bob")))
    event = organization_event(org, start + timedelta(minutes=1))
    async with backend.uow() as tx:
        await tx.members.save_many(org, [person(ours(org, "eve"))], start + timedelta(minutes=2))
        await tx.outbox.add(event)
        fan_out = await tx.outbox.fan_out(event.id)
        first = await tx.outbox.members_after(fan_out, 2)
        await tx.outbox.advance(fan_out, first[-1][0], done=False)
        rest = await tx.outbox.members_after(await tx.outbox.fan_out(event.id), 10)
        states = await tx.outbox.member_states(fan_out)
    bob = MemberFacts(personal=ConnectionStatus.ACTIVE, has_seat=False, removed_organization=False)
    assert first == [(ours(org, "ada"), NOBODY_CONNECTED), (ours(org, "bob"), bob)]
    assert rest == [(ours(org, "cy"), NOBODY_CONNECTED), (ours(org, "dee"), NOBODY_CONNECTED)]
    assert dict(states) == {NOBODY_CONNECTED: 3, bob: 1}


async def test_r24_a_member_whose_own_change_came_later_is_fanned_out_as_they_were_before_it(backend):
    start = now()
    org = await organization(backend, person("ada"), person("bob"), at=start)
    event = organization_event(org, start + timedelta(minutes=1))
    personal = MemberFacts(personal=ConnectionStatus.ACTIVE, has_seat=False, removed_organization=False)
    async with backend.uow() as tx:
        await tx.outbox.add(event)
        await tx.connections.add(new_connection(org, ConnectionType.PERSONAL, ours(org, "ada")))
        await tx.outbox.add(
            OutboxEvent(
                id=str(uuid.uuid4()),
                type=MEMBER_CONNECTION_CHANGED,
                org_id=org,
                subject=member_subject(ours(org, "ada")),
                occurred_at=start + timedelta(minutes=2),
                data={"user_id": ours(org, "ada")},
                facts_before=NOBODY_CONNECTED,
            )
        )
        fan_out = await tx.outbox.fan_out(event.id)
        members = await tx.outbox.members_after(fan_out, 10)
        states = await tx.outbox.member_states(fan_out)
    assert members == [(ours(org, "ada"), NOBODY_CONNECTED), (ours(org, "bob"), NOBODY_CONNECTED)]
    assert dict(states) == {NOBODY_CONNECTED: 2}
    assert personal not in dict(states)
