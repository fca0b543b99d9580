"""Repositories and the database's own constraints, on real PostgreSQL."""

from __future__ import annotations

import asyncpg
import pytest

from domain.errors import (
    ConnectionChangedConcurrently,
    MemberOfAnotherOrganization,
    ZoomAccountServesAnotherOrganization,
    ZoomUserAlreadyConnected,
)
from domain.model import ConnectionStatus, ConnectionType, Policy, Role, ZoomUser
from persistence.database import unit_of_work
from server.clock import utcnow
from tests.support.builders import (
    add_connection,
    connection,
    create_organization,
    member,
    unique,
)
from tests.support.sql import raw_sql


@pytest.fixture
async def org(db) -> str:
    org_id = unique("org")
    await create_organization(org_id, [member(f"{org_id}-a", Role.OWNER), member(f"{org_id}-b")])
    return org_id


async def test_organization_save_creates_then_renames(db):
    org_id = unique("org")
    async with unit_of_work() as uow:
        created, was_created = await uow.organizations.save(org_id, "First", utcnow())
        renamed, again = await uow.organizations.save(org_id, "Second", utcnow())
        await uow.commit()
    assert (was_created, again) == (True, False)
    assert renamed.name == "Second" and renamed.created_at == created.created_at
    assert renamed.policy == Policy(allow_members_to_remove=False)


async def test_unit_of_work_keeps_nothing_without_commit(db):
    org_id = unique("org")
    async with unit_of_work() as uow:
        await uow.organizations.save(org_id, "Gone", utcnow())
    async with unit_of_work() as uow:
        assert await uow.organizations.get(org_id) is None


async def test_members_save_many_counts_created_and_updated(org):
    async with unit_of_work() as uow:
        result = await uow.members.save_many(
            org, [member(f"{org}-a", Role.ADMIN, name="Renamed"), member(f"{org}-c")], utcnow()
        )
        await uow.commit()
        renamed = await uow.members.get(org, f"{org}-a")
    assert result == (1, 1)
    assert (renamed.name, renamed.role) == ("Renamed", Role.ADMIN)


async def test_a_user_belongs_to_one_organization(org):
    other = unique("org")
    await create_organization(other, [])
    async with unit_of_work() as uow:
        with pytest.raises(MemberOfAnotherOrganization):
            await uow.members.save_many(other, [member(f"{org}-a")], utcnow())


async def test_database_refuses_a_second_live_organization_connection(org):
    await add_connection(connection(org, ConnectionType.ORGANIZATION))
    with pytest.raises(ConnectionChangedConcurrently):
        await add_connection(connection(org, ConnectionType.ORGANIZATION))


async def test_database_refuses_a_second_personal_connection_for_one_member(org):
    await add_connection(connection(org, ConnectionType.PERSONAL, user_id=f"{org}-a"))
    with pytest.raises(ConnectionChangedConcurrently):
        await add_connection(connection(org, ConnectionType.PERSONAL, user_id=f"{org}-a"))


async def test_r13_a_zoom_user_is_one_persons_personal_connection(org):
    await add_connection(connection(org, ConnectionType.PERSONAL, user_id=f"{org}-a", zoom_user_id="zu-shared-" + org))
    with pytest.raises(ZoomUserAlreadyConnected):
        await add_connection(
            connection(org, ConnectionType.PERSONAL, user_id=f"{org}-b", zoom_user_id="zu-shared-" + org)
        )


async def test_r13_a_zoom_account_serves_one_organization(org):
    other = unique("org")
    await create_organization(other, [])
    await add_connection(connection(org, ConnectionType.ORGANIZATION, zoom_account_id="acct-" + org))
    with pytest.raises(ZoomAccountServesAnotherOrganization):
        await add_connection(connection(other, ConnectionType.ORGANIZATION, zoom_account_id="acct-" + org))


async def test_r13_claim_is_released_when_the_connection_ends(org):
    first = connection(org, ConnectionType.PERSONAL, user_id=f"{org}-a", zoom_user_id="zu-free-" + org)
    await add_connection(first)
    async with unit_of_work() as uow:
        await uow.connections.delete(first)
        await uow.commit()
    await add_connection(connection(org, ConnectionType.PERSONAL, user_id=f"{org}-b", zoom_user_id="zu-free-" + org))


async def test_personal_connection_needs_a_member_of_the_organization(org):
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await add_connection(connection(org, ConnectionType.PERSONAL, user_id="nobody-" + org))


async def test_only_the_organization_connection_can_lose_its_admin(org):
    with pytest.raises(asyncpg.CheckViolationError):
        await add_connection(
            connection(org, ConnectionType.PERSONAL, ConnectionStatus.ADMIN_LOST, user_id=f"{org}-a")
        )


async def test_r5_seat_matches_email_case_insensitively_and_only_active_users(org):
    live = connection(org, ConnectionType.ORGANIZATION)
    await add_connection(
        live,
        [
            ZoomUser(zoom_user_id="z-a", email=f"{org}-A@EXAMPLE.test"),
            ZoomUser(zoom_user_id="z-b", email=f"{org}-b@example.test", status="inactive"),
        ],
    )
    async with unit_of_work() as uow:
        seat_a = await uow.zoom_users.seat(org, f"{org}-a@example.test")
        seat_b = await uow.zoom_users.seat(org, f"{org}-b@example.test")
    assert seat_a is not None and seat_a.zoom_user_id == "z-a" and seat_a.user_id == f"{org}-a"
    assert seat_b is None


async def test_deleting_a_member_deletes_their_personal_connection(org):
    await add_connection(connection(org, ConnectionType.PERSONAL, user_id=f"{org}-b"))
    async with unit_of_work() as uow:
        assert await uow.members.delete(org, f"{org}-b")
        await uow.commit()
        assert await uow.connections.personal(org, f"{org}-b") is None


async def member_state(org_id: str, user_id: str) -> tuple[str, bool]:
    async with raw_sql() as sql:
        record = await sql.fetchrow(
            "SELECT personal_status, seated FROM members WHERE org_id = $1 AND user_id = $2", org_id, user_id
        )
    return record["personal_status"], record["seated"]


async def test_member_state_follows_the_personal_connection(org):
    personal = connection(org, ConnectionType.PERSONAL, user_id=f"{org}-a")
    await add_connection(personal)
    assert await member_state(org, f"{org}-a") == ("active", False)
    async with raw_sql() as sql:
        await sql.execute("UPDATE connections SET status = 'deauthorized' WHERE id = $1", personal.id)
    assert await member_state(org, f"{org}-a") == ("deauthorized", False)
    async with unit_of_work() as uow:
        await uow.connections.delete(personal)
        await uow.commit()
    assert await member_state(org, f"{org}-a") == ("none", False)


async def test_r5_seats_follow_zoom_users_and_member_emails(org):
    live = connection(org, ConnectionType.ORGANIZATION)
    await add_connection(live, [ZoomUser(zoom_user_id="z-a", email=f"{org}-a@example.test")])
    assert await member_state(org, f"{org}-a") == ("none", True)
    assert await member_state(org, f"{org}-b") == ("none", False)

    async with unit_of_work() as uow:
        await uow.members.save_many(org, [member(f"{org}-a", email="moved@example.test")], utcnow())
        await uow.members.save_many(org, [member(f"{org}-b", email=f"{org}-a@example.test")], utcnow())
        await uow.commit()
    assert await member_state(org, f"{org}-a") == ("none", False)
    assert await member_state(org, f"{org}-b") == ("none", True)

    async with raw_sql() as sql:
        await sql.execute("UPDATE zoom_users SET status = 'inactive' WHERE org_id = $1", org)
    assert await member_state(org, f"{org}-b") == ("none", False)

    async with raw_sql() as sql:
        await sql.execute("UPDATE zoom_users SET status = 'active' WHERE org_id = $1", org)
    assert await member_state(org, f"{org}-b") == ("none", True)

    async with unit_of_work() as uow:
        await uow.connections.delete(live)
        await uow.commit()
    assert await member_state(org, f"{org}-b") == ("none", False)


async def seated_members(org_id: str) -> set[str]:
    async with raw_sql() as sql:
        rows = await sql.fetch("SELECT user_id FROM members WHERE org_id = $1 AND seated", org_id)
    return {row["user_id"] for row in rows}


async def test_r5_seat_resync_is_a_diff(org):
    live = connection(org, ConnectionType.ORGANIZATION)
    a, b = f"{org}-a@example.test", f"{org}-b@example.test"
    await add_connection(live, [ZoomUser(zoom_user_id="z-a", email=a), ZoomUser(zoom_user_id="z-gone", email="gone@x.test")])
    async with raw_sql() as sql:
        unchanged_id = await sql.fetchval("SELECT id FROM zoom_users WHERE org_id = $1 AND zoom_user_id = 'z-a'", org)
    async with unit_of_work() as uow:
        changed = await uow.zoom_users.sync(
            live, [ZoomUser(zoom_user_id="z-a", email=a.upper()), ZoomUser(zoom_user_id="z-b", email=b)]
        )
        await uow.commit()
    async with raw_sql() as sql:
        rows = {r["zoom_user_id"]: r["id"] for r in await sql.fetch("SELECT zoom_user_id, id FROM zoom_users WHERE org_id = $1", org)}
    assert changed == 2  # z-gone removed, z-b added; z-a untouched
    assert rows == {"z-a": unchanged_id, "z-b": rows["z-b"]}
    assert await seated_members(org) == {f"{org}-a", f"{org}-b"}

    async with unit_of_work() as uow:
        assert await uow.zoom_users.sync(
            live, [ZoomUser(zoom_user_id="z-a", email=a), ZoomUser(zoom_user_id="z-b", email=b, status="inactive")]
        ) == 2
        await uow.commit()
    assert await seated_members(org) == {f"{org}-a"}


async def test_r5_a_resync_larger_than_one_statement_writes_every_slice(org, monkeypatch):
    """A large account is written in statements of SYNC_ROWS (the statement timeout); here, of two."""
    from persistence import zoom_directory

    monkeypatch.setattr(zoom_directory, "SYNC_ROWS", 2)
    people = [member(f"{org}-s{i}") for i in range(7)]
    async with unit_of_work() as uow:
        await uow.members.save_many(org, people, utcnow())
        await uow.commit()
    live = connection(org, ConnectionType.ORGANIZATION)
    await add_connection(live, [ZoomUser(zoom_user_id=f"z-s{i}", email=people[i].email) for i in range(5)])
    assert await seated_members(org) >= {p.user_id for p in people[:5]}
    async with unit_of_work() as uow:
        changed = await uow.zoom_users.sync(
            live, [ZoomUser(zoom_user_id=f"z-s{i}", email=people[i].email) for i in range(2, 7)]
        )
        await uow.commit()
    assert changed == 4  # z-s0 and z-s1 gone, z-s5 and z-s6 new
    assert {m for m in await seated_members(org) if "-s" in m} == {p.user_id for p in people[2:]}


async def test_r5_resync_survives_two_zoom_users_swapping_emails(org):
    live = connection(org, ConnectionType.ORGANIZATION)
    a, b = f"{org}-a@example.test", f"{org}-b@example.test"
    await add_connection(live, [ZoomUser(zoom_user_id="z1", email=a), ZoomUser(zoom_user_id="z2", email=b)])
    async with unit_of_work() as uow:
        await uow.zoom_users.sync(live, [ZoomUser(zoom_user_id="z1", email=b), ZoomUser(zoom_user_id="z2", email=a)])
        await uow.commit()
        seat = await uow.zoom_users.seat(org, a)
    assert seat.zoom_user_id == "z2"


async def test_an_oauth_state_binds_to_one_browser_once_and_is_taken_only_by_it(org):
    from datetime import timedelta

    from domain.ports import OAuthState

    now = utcnow()
    state_hash = unique("state").ljust(64, "0")[:64]
    pending = OAuthState(connection_type=ConnectionType.PERSONAL, org_id=org, user_id=f"{org}-b", code_verifier="v" * 64,
                         expires_at=now + timedelta(minutes=10), session_hash="s" * 64)
    async with unit_of_work() as uow:
        await uow.oauth_states.add(state_hash, pending)
        first = await uow.oauth_states.bind(state_hash, "a" * 64, now)
        second = await uow.oauth_states.bind(state_hash, "b" * 64, now)
        elsewhere = await uow.oauth_states.take(state_hash, "b" * 64, now)
        nowhere = await uow.oauth_states.take(state_hash, None, now)
        still = await uow.oauth_states.pending(state_hash, now)
        taken = await uow.oauth_states.take(state_hash, "a" * 64, now)
        gone = await uow.oauth_states.pending(state_hash, now)
        await uow.commit()
    assert (first.browser_hash, first.session_hash, first.code_verifier) == ("a" * 64, "s" * 64, "v" * 64)
    assert (second, elsewhere, nowhere, gone) == (None, None, None, None)
    assert still == first and taken == first
