"""domain.ports.MemberRepository (`tx.members`): the members of organizations, one organization per user ID."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import MemberOfAnotherOrganization
from domain.model import ConnectionType, Role
from domain.ports import MemberInput
from tests.contract.conftest import (
    connected,
    new_connection,
    now,
    organization,
    ours,
    person,
)


async def test_save_many_creates_then_updates_and_counts_each(backend):
    org = await organization(backend, person("ada"))
    at = now() + timedelta(minutes=1)
    async with backend.uow() as tx:
        counts = await tx.members.save_many(
            org,
            [
                MemberInput(user_id=ours(org, "ada"), email="  renamed@example.test ", name="Ada Renamed", role=Role.ADMIN),
                MemberInput(user_id=ours(org, "bob"), email="bob@example.test", name="Bob", role=Role.MEMBER),
            ],
            at,
        )
        await tx.commit()
    assert counts == (1, 1)
    async with backend.uow(read_only=True) as tx:
        ada = await tx.members.get(org, ours(org, "ada"))
        bob = await tx.members.get(org, ours(org, "bob"))
    assert (ada.email, ada.name, ada.role, ada.updated_at) == ("renamed@example.test", "Ada Renamed", Role.ADMIN, at)
    assert ada.created_at < at
    assert (bob.org_id, bob.email, bob.created_at, bob.organization_removed) == (org, "bob@example.test", at, False)


async def test_a_member_is_found_by_user_id_in_whichever_organization_holds_it(backend):
    acme = await organization(backend, person("ada"))
    globex = await organization(backend)
    async with backend.uow(read_only=True) as tx:
        found = await tx.members.find(ours(acme, "ada"))
        assert await tx.members.get(globex, ours(acme, "ada")) is None
        assert await tx.members.find(ours(acme, "nobody")) is None
    assert (found.org_id, found.user_id) == (acme, ours(acme, "ada"))


async def test_a_user_of_another_organization_fails_the_whole_batch(backend):
    acme = await organization(backend, person("ada"))
    globex = await organization(backend)
    async with backend.uow() as tx:
        with pytest.raises(MemberOfAnotherOrganization):
            await tx.members.save_many(
                globex,
                [
                    MemberInput(user_id=ours(globex, "new"), email="new@example.test", name="New", role=Role.MEMBER),
                    MemberInput(user_id=ours(acme, "ada"), email="ada@example.test", name="Ada", role=Role.MEMBER),
                ],
                now(),
            )
    async with backend.uow(read_only=True) as tx:
        assert await tx.members.get(globex, ours(globex, "new")) is None
        assert (await tx.members.find(ours(acme, "ada"))).org_id == acme


async def test_managers_are_the_owners_and_admins_by_name(backend):
    org = await organization(
        backend,
        person("zed", Role.OWNER, name="Zed"),
        person("amy", Role.ADMIN, name="Amy"),
        person("bob", Role.MEMBER, name="Bob"),
        person("kim", Role.OWNER, name="Kim"),
    )
    async with backend.uow(read_only=True) as tx:
        managers = await tx.members.managers(org)
    assert [m.name for m in managers] == ["Amy", "Kim", "Zed"]


async def test_r10_a_member_removing_the_organization_connection_for_themselves_is_kept(backend):
    org = await organization(backend, person("ada"), person("bob"))
    at = now() + timedelta(minutes=1)
    async with backend.uow() as tx:
        await tx.members.set_organization_removed(org, ours(org, "ada"), True, at)
        await tx.members.set_organization_removed(org, ours(org, "nobody"), True, at)
        await tx.commit()
    async with backend.uow(read_only=True) as tx:
        ada = await tx.members.get(org, ours(org, "ada"))
        bob = await tx.members.get(org, ours(org, "bob"))
    assert (ada.organization_removed, ada.updated_at) == (True, at)
    assert bob.organization_removed is False


async def test_r14_deleting_a_member_ends_their_personal_connection_and_frees_its_zoom_user(backend):
    org = await organization(backend, person("ada"), person("bob"))
    ada = await connected(backend, new_connection(org, ConnectionType.PERSONAL, ours(org, "ada")))
    async with backend.uow() as tx:
        assert await tx.members.delete(org, ours(org, "ada")) is True
        assert await tx.members.delete(org, ours(org, "ada")) is False
        await tx.commit()
    async with backend.uow(read_only=True) as tx:
        assert await tx.members.get(org, ours(org, "ada")) is None
        assert await tx.connections.personal(org, ours(org, "ada")) is None
        assert await tx.connections.claimed(f"user:{ada.zoom_user_id}") is None
    bob = await connected(
        backend, new_connection(org, ConnectionType.PERSONAL, ours(org, "bob"), zoom_user_id=ada.zoom_user_id)
    )
    async with backend.uow(read_only=True) as tx:
        assert await tx.connections.claimed(f"user:{ada.zoom_user_id}") == bob
