"""The reads the members page and the owner's page make under load, each one statement, against
PostgreSQL: they must say what the separate reads they replace say, whatever the organization's state."""

from __future__ import annotations

from domain.model import (
    ConnectionCounts,
    ConnectionStatus,
    ConnectionType,
    Policy,
    ZoomUser,
)
from domain.ports import MembersQuery
from persistence.database import unit_of_work
from server.clock import utcnow
from tests.support.builders import (
    add_connection,
    connection,
    create_organization,
    member,
    unique,
)


async def overview_and_separate_reads(org_id: str):
    async with unit_of_work(read_only=True) as uow:
        overview = await uow.members_table.overview(org_id)
        organization = await uow.organizations.get(org_id)
        org_connection = await uow.connections.organization(org_id)
        counts = await uow.members_table.counts(org_id)
    return overview, organization, org_connection, counts


async def test_the_owner_s_overview_is_the_organization_its_connection_and_its_counts_as_they_change(db):
    org_id = unique("org")
    async with unit_of_work(read_only=True) as uow:
        assert await uow.members_table.overview(org_id) is None
        assert await uow.members_table.counts(org_id) == ConnectionCounts(
            organization=0, personal=0, not_connected=0, total=0
        )

    await create_organization(org_id, [])
    overview, organization, _, _ = await overview_and_separate_reads(org_id)
    assert overview.organization == organization
    assert overview.connection is None
    assert overview.counts == ConnectionCounts(organization=0, personal=0, not_connected=0, total=0)

    people = [member(f"{org_id}-m{n}", email=f"m{n}.{org_id}@acme.test") for n in range(5)]
    await create_organization(org_id, people)
    organization_connection = connection(org_id, ConnectionType.ORGANIZATION)
    await add_connection(organization_connection, [ZoomUser(zoom_user_id=unique("zu"), email=p.email) for p in people[:3]])
    await add_connection(connection(org_id, ConnectionType.PERSONAL, user_id=people[3].user_id))
    overview, organization, org_connection, counts = await overview_and_separate_reads(org_id)
    assert (overview.organization, overview.connection, overview.counts) == (organization, org_connection, counts)
    assert overview.connection.id == organization_connection.id
    assert (counts.organization, counts.personal, counts.not_connected, counts.total) == (3, 1, 1, 5)

    async with unit_of_work() as uow:  # the policy lets a seated member remove it; the connection breaks
        await uow.organizations.set_policy(org_id, Policy(allow_members_to_remove=True), utcnow())
        await uow.members.set_organization_removed(org_id, people[0].user_id, True, utcnow())
        await uow.connections.set_status(organization_connection, ConnectionStatus.NEEDS_RECONNECT, "test", utcnow())
        await uow.commit()
    overview, organization, org_connection, counts = await overview_and_separate_reads(org_id)
    assert (overview.organization, overview.connection, overview.counts) == (organization, org_connection, counts)
    assert overview.organization.policy.allow_members_to_remove
    assert overview.connection.status is ConnectionStatus.NEEDS_RECONNECT
    assert (counts.organization, counts.personal, counts.not_connected, counts.total) == (0, 1, 4, 5)


async def test_a_page_s_rows_follow_the_organization_s_state_read_with_its_counts(db):
    org_id = unique("org")
    people = [member(f"{org_id}-m{n}", name=f"Person {n}", email=f"m{n}.{org_id}@acme.test") for n in range(4)]
    await create_organization(org_id, people)
    organization_connection = connection(org_id, ConnectionType.ORGANIZATION)
    await add_connection(organization_connection, [ZoomUser(zoom_user_id=unique("zu"), email=p.email) for p in people[:2]])
    personal = connection(org_id, ConnectionType.PERSONAL, user_id=people[2].user_id, zoom_email="own@zoom.test")

    async def page(**filters):
        async with unit_of_work(read_only=True) as uow:
            return await uow.members_table.page(MembersQuery(org_id=org_id, limit=10, **filters))

    listed = await page()
    assert [(row.connected, row.type, row.status) for row in listed.items] == [
        (True, ConnectionType.ORGANIZATION, ConnectionStatus.ACTIVE),
        (True, ConnectionType.ORGANIZATION, ConnectionStatus.ACTIVE),
        (False, None, None),
        (False, None, None),
    ]
    assert listed.total == 4

    await add_connection(personal)
    async with unit_of_work() as uow:
        await uow.connections.set_status(organization_connection, ConnectionStatus.DEAUTHORIZED, "test", utcnow())
        await uow.commit()
    listed = await page()
    assert [(row.connected, row.type, row.status, row.zoom_user_email) for row in listed.items] == [
        (False, None, ConnectionStatus.DEAUTHORIZED, people[0].email),
        (False, None, ConnectionStatus.DEAUTHORIZED, people[1].email),
        (True, ConnectionType.PERSONAL, ConnectionStatus.ACTIVE, "own@zoom.test"),
        (False, None, None, None),
    ]
    assert (await page(connected=False)).total == 3
    assert [row.user_id for row in (await page(type="personal")).items] == [people[2].user_id]
