"""domain.ports.ZoomDirectory (`tx.zoom_users`): the organization account's Zoom users, and the seats they give (R5)."""

from __future__ import annotations

from domain.model import ConnectionType, ZoomUser
from tests.contract.conftest import (
    connected,
    new_connection,
    organization,
    ours,
    person,
)


async def seated_organization(backend, *users: tuple[str, str, str]):
    """An organization of ada and bob, connected; its account's users are (zoom user id, email, status), the
    organization's id put before each email as before its members' (and spaces around, as Zoom may send)."""
    org = await organization(backend, person("ada", email="Ada@Example.test"), person("bob", email="bob@example.test"))
    live = await connected(backend, new_connection(org, ConnectionType.ORGANIZATION))
    async with backend.uow() as tx:
        await tx.zoom_users.sync(live, [ZoomUser(zoom_user_id=z, email=f" {ours(org, e)} ", status=s) for z, e, s in users])
        await tx.commit()
    return org, live


async def seat_of(backend, org: str, email: str):
    async with backend.uow(read_only=True) as tx:
        return await tx.zoom_users.seat(org, ours(org, email))


async def test_r5_a_seat_is_the_active_zoom_user_with_the_members_email_case_and_spaces_aside(backend):
    org, _ = await seated_organization(backend, ("z-ada", "ADA@example.TEST", "active"), ("z-bob", "bob@example.test", "inactive"))
    seat = await seat_of(backend, org, "ada@EXAMPLE.test")
    assert (seat.user_id, seat.zoom_user_id, seat.zoom_email) == (ours(org, "ada"), "z-ada", ours(org, "ada@example.test").lower())
    assert await seat_of(backend, org, "bob@example.test") is None, "an inactive Zoom user is no seat"
    assert await seat_of(backend, org, "cy@example.test") is None, "no such member"


async def test_r5_no_seat_without_the_organization_connection(backend):
    org = await organization(backend, person("ada", email="ada@example.test"))
    assert await seat_of(backend, org, "ada@example.test") is None
    ada = await connected(backend, new_connection(org, ConnectionType.PERSONAL, ours(org, "ada")))
    async with backend.uow() as tx:
        await tx.zoom_users.upsert(ada, ZoomUser(zoom_user_id="z-ada", email=ours(org, "ada@example.test")))
        await tx.commit()
    assert await seat_of(backend, org, "ada@example.test") is None, "a personal connection's Zoom users seat no one"


async def test_a_sync_writes_only_what_changed_and_counts_each_row_written(backend):
    org, live = await seated_organization(
        backend, ("z-ada", "ada@example.test", "active"), ("z-bob", "bob@example.test", "active"), ("z-old", "old@example.test", "active")
    )
    now_listed = [
        ZoomUser(zoom_user_id="z-ada", email=ours(org, "ada@example.test")),
        ZoomUser(zoom_user_id="z-bob", email=ours(org, "bob@example.test"), status="inactive"),
        ZoomUser(zoom_user_id="z-cy", email=ours(org, "cy@example.test")),
    ]
    async with backend.uow() as tx:
        # z-old removed, z-cy added, z-bob changed (one row removed and one written): 4; z-ada stays.
        assert await tx.zoom_users.sync(live, now_listed) == 4
        assert await tx.zoom_users.sync(live, now_listed) == 0
        await tx.commit()
    assert (await seat_of(backend, org, "ada@example.test")).zoom_user_id == "z-ada"
    assert await seat_of(backend, org, "bob@example.test") is None


async def test_a_sync_compares_emails_as_it_stores_them(backend):
    org, live = await seated_organization(backend, ("z-ada", "ada@example.test", "active"))
    async with backend.uow() as tx:
        assert await tx.zoom_users.sync(live, [ZoomUser(zoom_user_id="z-ada", email=f" {ours(org, 'ADA@example.test')} ")]) == 0


async def test_upsert_adds_a_user_or_changes_its_email_and_status_but_keeps_its_role(backend):
    org, live = await seated_organization(backend, ("z-bob", "bob@example.test", "active"))
    async with backend.uow() as tx:
        await tx.zoom_users.upsert(live, ZoomUser(zoom_user_id="z-ada", email=ours(org, "ADA@example.test"), role_id="2"))
        await tx.zoom_users.upsert(live, ZoomUser(zoom_user_id="z-bob", email=ours(org, "bob@example.test"), role_id="1", status="inactive"))
        await tx.commit()
    assert (await seat_of(backend, org, "ada@example.test")).zoom_user_id == "z-ada"
    assert await seat_of(backend, org, "bob@example.test") is None
    async with backend.uow() as tx:
        # As Zoom lists them now: bob active again with role 1. Only bob's role (still 2) differs: 2 rows.
        listed = [
            ZoomUser(zoom_user_id="z-ada", email=ours(org, "ada@example.test"), role_id="2"),
            ZoomUser(zoom_user_id="z-bob", email=ours(org, "bob@example.test"), role_id="1", status="inactive"),
        ]
        assert await tx.zoom_users.sync(live, listed) == 2


async def test_update_changes_what_it_is_given_of_a_known_user_only(backend):
    org, live = await seated_organization(backend, ("z-ada", "ada@example.test", "active"), ("z-bob", "bob@example.test", "active"))
    async with backend.uow() as tx:
        await tx.zoom_users.update(live, "z-ada", None, "inactive")
        await tx.zoom_users.update(live, "z-bob", f" {ours(org, 'Cy@Example.test')}", None)
        await tx.zoom_users.update(live, "z-unknown", ours(org, "ada@example.test"), "active")
        await tx.commit()
    assert await seat_of(backend, org, "ada@example.test") is None
    assert await seat_of(backend, org, "bob@example.test") is None
    async with backend.uow() as tx:
        await tx.zoom_users.update(live, "z-ada", None, "active")
        await tx.commit()
    assert (await seat_of(backend, org, "ada@example.test")).zoom_user_id == "z-ada"
    async with backend.uow() as tx:
        # z-bob is now cy's email, active; nothing else is known: only the unknown user's absence, 0 changes.
        listed = [
            ZoomUser(zoom_user_id="z-ada", email=ours(org, "ada@example.test")),
            ZoomUser(zoom_user_id="z-bob", email=ours(org, "cy@example.test")),
        ]
        assert await tx.zoom_users.sync(live, listed) == 0


async def test_delete_removes_the_user_and_its_seat(backend):
    org, live = await seated_organization(backend, ("z-ada", "ada@example.test", "active"))
    async with backend.uow() as tx:
        await tx.zoom_users.delete(live, "z-ada")
        await tx.zoom_users.delete(live, "z-unknown")
        await tx.commit()
    assert await seat_of(backend, org, "ada@example.test") is None
    async with backend.uow() as tx:
        assert await tx.zoom_users.sync(live, []) == 0
