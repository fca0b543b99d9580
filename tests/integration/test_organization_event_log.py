"""The events page's reading (R24) on real PostgreSQL: an organization's owners see the deliveries of their own
organization's events only, to the endpoints that hear it, newest first, and send one again."""

from __future__ import annotations

import uuid

import pytest

from domain import event_log
from domain.access import Principal
from domain.errors import DeliveryNotFound, EndpointDisabled, InvalidInput, RoleRequired
from domain.model import Role
from domain.ports import OutboxEvent
from persistence.database import unit_of_work
from server.clock import utcnow
from tests.support.builders import create_organization, member, unique
from tests.support.sql import raw_sql


def owner_of(org_id: str, role: Role = Role.OWNER) -> Principal:
    return Principal(org_id=org_id, user_id=f"{org_id}-owner", role=role, actor=f"user:{org_id}-owner")


async def told(org_id: str, subject: str, type_: str = "session.link_ready") -> None:
    async with unit_of_work() as uow:
        await uow.outbox.add(
            OutboxEvent(id=str(uuid.uuid4()), type=type_, org_id=org_id, subject=subject, occurred_at=utcnow(), data={})
        )
        await uow.commit()


@pytest.fixture
async def two_organizations(db):
    """Org A heard by its own endpoint and by one for every organization; org B by its own."""
    a, b = unique("log-a"), unique("log-b")
    for org_id in (a, b):
        await create_organization(org_id, [member(f"{org_id}-owner", Role.OWNER)])
    own_a, own_b, everyone = unique("a-hook"), unique("b-hook"), unique("all-hook")
    async with unit_of_work() as uow:
        for endpoint_id, org_id in ((own_a, a), (own_b, b), (everyone, None)):
            await uow.event_endpoints.save(endpoint_id, "https://hooks.example/x?token=s3cret", [], org_id, "whsec_dGVzdA==", utcnow())
        await uow.commit()
    yield a, b, own_a, own_b, everyone
    async with unit_of_work() as uow:
        for endpoint_id in (own_a, own_b, everyone):
            await uow.event_endpoints.delete(endpoint_id)
        await uow.commit()


async def test_an_organization_sees_its_own_deliveries_newest_first_to_the_endpoints_hearing_it(two_organizations):
    a, b, own_a, own_b, everyone = two_organizations
    for n in range(3):
        await told(a, f"session:a{n}")
    await told(b, "session:b0")

    log = await event_log.organization_event_log(unit_of_work, owner_of(a), None, None, 50)

    assert [endpoint.id for endpoint in log.endpoints if endpoint.id in (own_a, own_b, everyone)] == sorted([own_a, everyone])
    assert all(endpoint.org_id in (None, a) for endpoint in log.endpoints)
    # Endpoints other tests registered for every organization hear A too; these are the ones this test knows.
    ours = [(d.subject, d.endpoint_id) for d in log.deliveries if d.endpoint_id in (own_a, own_b, everyone)]
    # Newest first: each event's deliveries to the two endpoints hearing A, none of B's.
    assert {subject for subject, _ in ours} == {"session:a0", "session:a1", "session:a2"}
    assert sorted(ours) == sorted((f"session:a{n}", endpoint) for n in range(3) for endpoint in (own_a, everyone))
    assert all(d.endpoint_id != own_b for d in log.deliveries)
    assert [d.id for d in log.deliveries] == sorted((d.id for d in log.deliveries), reverse=True)


async def test_pages_of_deliveries_follow_on_and_a_status_selects(two_organizations):
    a, _, own_a, _, everyone = two_organizations
    for n in range(5):
        await told(a, f"session:p{n}")
    owner = owner_of(a)
    whole = await event_log.organization_event_log(unit_of_work, owner, None, None, 500)
    assert whole.before_id is None
    paged, before = [], None
    while True:
        page = await event_log.organization_event_log(unit_of_work, owner, None, before, 4)
        assert len(page.deliveries) <= 4
        paged += [d.id for d in page.deliveries]
        if page.before_id is None:
            break
        before = page.before_id
    assert paged == [d.id for d in whole.deliveries] and len(paged) == len(set(paged))
    mine = [d for d in whole.deliveries if d.endpoint_id in (own_a, everyone)]
    assert len(mine) == 10
    failed = await event_log.organization_event_log(unit_of_work, owner, "failed", None, 500)
    assert all(d.status == "failed" for d in failed.deliveries) and not {d.id for d in mine} & {d.id for d in failed.deliveries}
    pending = await event_log.organization_event_log(unit_of_work, owner, "pending", None, 500)
    assert {d.id for d in mine} <= {d.id for d in pending.deliveries}


async def test_sending_again_only_a_delivery_of_ones_own_organization_by_an_owner_or_admin(two_organizations):
    a, b, own_a, own_b, _ = two_organizations
    await told(a, "session:mine")
    await told(b, "session:theirs")
    mine = (await event_log.organization_event_log(unit_of_work, owner_of(a), None, None, 50)).deliveries
    theirs = (await event_log.organization_event_log(unit_of_work, owner_of(b), None, None, 50)).deliveries
    delivery = next(d for d in mine if d.endpoint_id == own_a)
    async with raw_sql() as sql:
        await sql.execute(
            "UPDATE event_deliveries SET status = 'failed', attempts = 9, first_attempt_at = now() WHERE id = $1", delivery.id
        )

    with pytest.raises(RoleRequired):
        await event_log.redeliver_for_organization(unit_of_work, owner_of(a, Role.MEMBER), delivery.id)
    with pytest.raises(DeliveryNotFound):
        await event_log.redeliver_for_organization(unit_of_work, owner_of(a), theirs[0].id)
    with pytest.raises(DeliveryNotFound):
        await event_log.redeliver_for_organization(unit_of_work, owner_of(a), 2**63)

    await event_log.redeliver_for_organization(unit_of_work, owner_of(a), delivery.id)
    again = (await event_log.organization_event_log(unit_of_work, owner_of(a), "pending", None, 50)).deliveries
    assert delivery.id in [d.id for d in again]
    assert next(d for d in again if d.id == delivery.id).first_attempt_at is None  # a fresh retry window

    async with unit_of_work() as uow:
        await uow.event_endpoints.disable(own_a, "answered 410 Gone", utcnow())
        await uow.commit()
    with pytest.raises(EndpointDisabled):
        await event_log.redeliver_for_organization(unit_of_work, owner_of(a), delivery.id)


async def test_members_and_unknown_statuses_are_refused(two_organizations):
    a, *_ = two_organizations
    with pytest.raises(RoleRequired):
        await event_log.organization_event_log(unit_of_work, owner_of(a, Role.MEMBER), None, None, 50)
    with pytest.raises(InvalidInput):
        await event_log.organization_event_log(unit_of_work, owner_of(a), "lost", None, 50)
    with pytest.raises(InvalidInput):
        await event_log.organization_event_log(unit_of_work, owner_of(a), None, 0, 50)
