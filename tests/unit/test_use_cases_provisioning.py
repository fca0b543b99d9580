"""The host product provisions organizations and members; a member's leaving ends their personal Zoom (R14)."""

from __future__ import annotations

import pytest

from domain import provisioning
from domain.errors import (
    BatchTooLarge,
    InvalidIdentifier,
    InvalidInput,
    MemberNotFound,
    MemberOfAnotherOrganization,
    OrganizationNotFound,
)
from domain.model import ConnectionType, Role
from domain.zoom import ZoomApp
from tests.unit.fakes import (
    NOW,
    FakeStore,
    FakeZoom,
    connect_personal,
    organization_with,
    person,
    principal,
    profile_of,
    zoom_user,
)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def zoom() -> FakeZoom:
    return FakeZoom()


async def members_of(store: FakeStore, org_id: str, *user_ids: str) -> list[str]:
    uow = store.uow()
    return [user_id for user_id in user_ids if await uow.members.get(org_id, user_id) is not None]


async def test_an_organization_is_created_then_renamed(store):
    _, created = await provisioning.provision_organization(store.uow, "acme", "Acme", NOW)
    renamed, created_again = await provisioning.provision_organization(store.uow, "acme", "Acme Inc", NOW)

    assert (created, created_again) == (True, False)
    assert renamed.name == "Acme Inc"
    assert (await store.uow().organizations.get("acme")).name == "Acme Inc"


async def test_an_organization_id_outside_the_identifier_alphabet_is_refused(store):
    with pytest.raises(InvalidIdentifier):
        await provisioning.provision_organization(store.uow, "acme corp", "Acme", NOW)

    assert await store.uow().organizations.get("acme corp") is None


async def test_a_member_is_created_then_updated(store):
    await organization_with(store, "acme")

    _, created = await provisioning.provision_member(store.uow, "acme", person("ada"), NOW)
    updated, created_again = await provisioning.provision_member(store.uow, "acme", person("ada", Role.ADMIN, name="Ada L."), NOW
    )

    assert (created, created_again) == (True, False)
    assert (updated.name, updated.role) == ("Ada L.", Role.ADMIN)


async def test_a_batch_creates_and_updates_members(store):
    await organization_with(store, "acme", person("ada"))

    result = await provisioning.provision_members(store.uow, "acme", [person("ada"), person("bob"), person("cy")], NOW)

    assert (result.created, result.updated) == (2, 1)
    assert await members_of(store, "acme", "ada", "bob", "cy") == ["ada", "bob", "cy"]


async def test_a_batch_over_1000_members_is_refused_and_nothing_is_saved(store):
    await organization_with(store, "acme")
    batch = [person(f"user-{n}") for n in range(provisioning.MAX_BATCH + 1)]

    with pytest.raises(BatchTooLarge) as refused:
        await provisioning.provision_members(store.uow, "acme", batch, NOW)

    assert "members" in refused.value.errors
    assert await members_of(store, "acme", "user-0", "user-1000") == []


async def test_a_batch_of_exactly_1000_members_is_accepted(store):
    await organization_with(store, "acme")
    batch = [person(f"user-{n}") for n in range(provisioning.MAX_BATCH)]

    result = await provisioning.provision_members(store.uow, "acme", batch, NOW)

    assert result.created == provisioning.MAX_BATCH


async def test_a_batch_naming_a_member_twice_is_refused_and_nothing_is_saved(store):
    await organization_with(store, "acme")

    with pytest.raises(InvalidInput) as refused:
        await provisioning.provision_members(store.uow, "acme", [person("ada"), person("bob"), person("ada")], NOW)

    assert refused.value.errors == {"members[2].user_id": "appears more than once in the batch"}
    assert await members_of(store, "acme", "ada", "bob") == []


async def test_a_batch_with_an_invalid_user_id_names_it_and_saves_nothing(store):
    await organization_with(store, "acme")

    with pytest.raises(InvalidInput) as refused:
        await provisioning.provision_members(store.uow, "acme", [person("ada"), person("b o b", email="bob@acme.example")], NOW)

    assert list(refused.value.errors) == ["members[1].user_id"]
    assert await members_of(store, "acme", "ada") == []


async def test_a_batch_with_what_cannot_be_an_email_names_it_and_saves_nothing(store):
    await organization_with(store, "acme")

    with pytest.raises(InvalidInput) as refused:
        await provisioning.provision_members(
            store.uow, "acme", [person("ada"), person("kim", email="\u212aim@acme.example")], NOW
        )

    assert list(refused.value.errors) == ["members[1].email"]
    assert "compatibility character" in refused.value.errors["members[1].email"]
    assert await members_of(store, "acme", "ada") == []


async def test_a_batch_for_an_unknown_organization_is_refused(store):
    with pytest.raises(OrganizationNotFound):
        await provisioning.provision_members(store.uow, "nowhere", [person("ada")], NOW)

    assert await store.uow().members.find("ada") is None


async def test_a_single_member_for_an_unknown_organization_is_refused(store):
    with pytest.raises(OrganizationNotFound):
        await provisioning.provision_member(store.uow, "nowhere", person("ada"), NOW)


async def test_a_user_already_in_another_organization_fails_the_whole_batch(store):
    await organization_with(store, "acme", person("ada"))
    await organization_with(store, "globex")

    with pytest.raises(MemberOfAnotherOrganization):
        await provisioning.provision_members(store.uow, "globex", [person("bob"), person("ada")], NOW)

    assert await members_of(store, "globex", "bob", "ada") == []
    assert await members_of(store, "acme", "ada") == ["ada"]


async def test_r14_deleting_a_member_ends_their_personal_connection_and_revokes_its_tokens(store, zoom):
    await organization_with(store, "acme", person("ada"))
    connection = await connect_personal(
        store, zoom, principal("acme", "ada"), profile_of(zoom_user("zu-ada", "ada@home.example"), "acct-home")
    )
    tokens = await store.uow().tokens.read(connection)

    await provisioning.delete_member(store.uow, zoom, "acme", "ada", "api_key:host", NOW)

    uow = store.uow()
    assert await uow.members.get("acme", "ada") is None
    assert await uow.connections.personal("acme", "ada") is None
    assert await uow.tokens.read(connection) is None
    assert zoom.revoked == [(ZoomApp.USER, tokens)]
    (event,) = [e for e in store.audit if e.action == "disconnected"]
    assert (event.connection_id, event.connection_type, event.user_id, event.actor) == (
        connection.id,
        ConnectionType.PERSONAL,
        "ada",
        "api_key:host",
    )
    assert "deleted" in event.reason


async def test_r13_a_deleted_members_zoom_user_can_be_connected_by_someone_else(store, zoom):
    await organization_with(store, "acme", person("ada"), person("bob"))
    shared = profile_of(zoom_user("zu-shared", "desk@acme.example"), "acct-desk")
    await connect_personal(store, zoom, principal("acme", "ada"), shared)

    await provisioning.delete_member(store.uow, zoom, "acme", "ada", "api_key:host", NOW)
    connection = await connect_personal(store, zoom, principal("acme", "bob"), shared)

    assert connection.user_id == "bob"


async def test_deleting_a_member_without_personal_zoom_revokes_nothing(store, zoom):
    await organization_with(store, "acme", person("ada"))

    await provisioning.delete_member(store.uow, zoom, "acme", "ada", "api_key:host", NOW)

    assert await store.uow().members.get("acme", "ada") is None
    assert zoom.revoked == []
    assert store.audit == []


async def test_deleting_an_unknown_member_is_refused(store, zoom):
    await organization_with(store, "acme")

    with pytest.raises(MemberNotFound):
        await provisioning.delete_member(store.uow, zoom, "acme", "ghost", "api_key:host", NOW)


async def test_deleting_a_member_of_an_unknown_organization_is_refused(store, zoom):
    with pytest.raises(OrganizationNotFound):
        await provisioning.delete_member(store.uow, zoom, "nowhere", "ada", "api_key:host", NOW)
