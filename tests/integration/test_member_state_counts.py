"""The per-state counts the triggers keep (migration m0008) equal a GROUP BY over the members, after every kind of change."""

from __future__ import annotations

from domain.model import ConnectionType, Policy, Role, ZoomUser
from persistence.database import unit_of_work
from server.clock import utcnow
from tests.support.builders import (
    add_connection,
    connection,
    create_organization,
    member,
    unique,
)
from tests.support.sql import raw_sql, unit_of_work_with_sql


async def kept_and_actual(org_id: str) -> tuple[dict, dict]:
    async with raw_sql() as sql:
        kept = await sql.fetch(
            "SELECT personal_status, seated, organization_removed, members FROM member_state_counts"
            " WHERE org_id = $1 AND members <> 0",
            org_id,
        )
        actual = await sql.fetch(
            "SELECT personal_status, seated, organization_removed, count(*) AS members FROM members"
            " WHERE org_id = $1 GROUP BY 1, 2, 3",
            org_id,
        )
    as_dict = lambda records: {tuple(r.values())[:3]: r["members"] for r in records}  # noqa: E731
    return as_dict(kept), as_dict(actual)


async def assert_counts_kept(org_id: str, total: int) -> None:
    kept, actual = await kept_and_actual(org_id)
    assert kept == actual
    assert sum(kept.values()) == total


async def test_r9_state_counts_follow_provisioning_connections_seats_removals_and_deletions(db):
    org_id = unique("org")
    people = [member(f"{org_id}-m{n}", email=f"m{n}.{org_id}@acme.test") for n in range(6)]
    await create_organization(org_id, [member(f"{org_id}-owner", Role.OWNER), *people])
    await assert_counts_kept(org_id, 7)

    async with unit_of_work() as uow:  # a batch that creates some and renames others
        await uow.members.save_many(
            org_id, [member(f"{org_id}-m0", name="Renamed"), member(f"{org_id}-new", email=people[1].email)], utcnow()
        )
        await uow.commit()
    await assert_counts_kept(org_id, 8)

    organization = connection(org_id, ConnectionType.ORGANIZATION)
    await add_connection(organization, [ZoomUser(zoom_user_id=unique("zu"), email=p.email) for p in people[:3]])
    personal = connection(org_id, ConnectionType.PERSONAL, user_id=people[4].user_id)
    await add_connection(personal)
    await assert_counts_kept(org_id, 8)

    async with unit_of_work_with_sql() as (uow, sql):
        await uow.organizations.set_policy(org_id, Policy(allow_members_to_remove=True), utcnow())
        await uow.members.set_organization_removed(org_id, people[2].user_id, True, utcnow())
        await sql.execute("UPDATE connections SET status = 'deauthorized' WHERE id = $1", personal.id)
        await sql.execute("UPDATE zoom_users SET status = 'inactive' WHERE org_id = $1 AND email_normalized = $2",
                          org_id, people[0].email)
        await uow.commit()
    await assert_counts_kept(org_id, 8)

    async with unit_of_work() as uow:
        await uow.members.delete(org_id, people[1].user_id)
        await uow.connections.delete(organization)
        await uow.commit()
    await assert_counts_kept(org_id, 7)


async def test_r9_counts_read_from_the_kept_states_agree_with_the_members_table(db):
    org_id = unique("org")
    people = [member(f"{org_id}-m{n}", email=f"m{n}.{org_id}@acme.test") for n in range(5)]
    await create_organization(org_id, people)
    await add_connection(connection(org_id, ConnectionType.ORGANIZATION), [ZoomUser(zoom_user_id=unique("zu"), email=people[0].email)])
    await add_connection(connection(org_id, ConnectionType.PERSONAL, user_id=people[1].user_id))

    async with unit_of_work() as uow:
        counts = await uow.members_table.counts(org_id)
    assert (counts.organization, counts.personal, counts.not_connected, counts.total) == (1, 1, 3, 5)


async def test_deleting_an_organization_deletes_its_counts(db):
    org_id = unique("org")
    await create_organization(org_id, [member(f"{org_id}-a"), member(f"{org_id}-b")])
    async with unit_of_work() as uow:
        await uow.organizations.delete(org_id)
        await uow.commit()
    async with raw_sql() as sql:
        assert await sql.fetchval("SELECT count(*) FROM member_state_counts WHERE org_id = $1", org_id) == 0
