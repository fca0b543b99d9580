"""domain.ports.ConnectionRepository (`tx.connections`): the connection rows and their claims on Zoom identities."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import (
    ConnectionChangedConcurrently,
    ZoomAccountServesAnotherOrganization,
    ZoomUserAlreadyConnected,
)
from domain.model import ConnectionStatus, ConnectionType, ZoomUser
from tests.contract.conftest import (
    connected,
    new_connection,
    now,
    organization,
    ours,
    person,
    token_set,
)


async def test_a_personal_connection_is_found_by_organization_and_member(backend):
    org = await organization(backend, person("ada"), person("bob"))
    ada = await connected(backend, new_connection(org, ConnectionType.PERSONAL, ours(org, "ada")))
    async with backend.uow(read_only=True) as tx:
        assert await tx.connections.personal(org, ours(org, "ada")) == ada
        assert await tx.connections.personal(org, ours(org, "bob")) is None
        assert await tx.connections.organization(org) is None
        assert await tx.connections.by_id(org, ada.id) == ada


async def test_the_organization_connection_is_found_by_organization_only(backend):
    org = await organization(backend, person("ada"))
    other = await organization(backend)
    live = await connected(backend, new_connection(org, ConnectionType.ORGANIZATION))
    async with backend.uow(read_only=True) as tx:
        assert await tx.connections.organization(org) == live
        assert await tx.connections.organization(other) is None
        assert await tx.connections.by_id(other, live.id) is None
        assert await tx.connections.personal(org, ours(org, "ada")) is None


async def test_a_connection_added_without_commit_is_not_kept(backend):
    org = await organization(backend)
    async with backend.uow() as tx:
        await tx.connections.add(new_connection(org, ConnectionType.ORGANIZATION))
    async with backend.uow(read_only=True) as tx:
        assert await tx.connections.organization(org) is None


async def test_a_second_connection_in_the_same_place_is_refused_as_changed_concurrently(backend):
    org = await organization(backend, person("ada"))
    first = await connected(backend, new_connection(org, ConnectionType.PERSONAL, ours(org, "ada")))
    async with backend.uow() as tx:
        with pytest.raises(ConnectionChangedConcurrently):
            await tx.connections.add(new_connection(org, ConnectionType.PERSONAL, ours(org, "ada")))
    async with backend.uow(read_only=True) as tx:
        assert await tx.connections.personal(org, ours(org, "ada")) == first


async def test_r13_a_zoom_user_connected_by_one_member_is_refused_to_another(backend):
    org = await organization(backend, person("ada"), person("bob"))
    ada = await connected(backend, new_connection(org, ConnectionType.PERSONAL, ours(org, "ada")))
    async with backend.uow() as tx:
        with pytest.raises(ZoomUserAlreadyConnected):
            await tx.connections.add(
                new_connection(org, ConnectionType.PERSONAL, ours(org, "bob"), zoom_user_id=ada.zoom_user_id)
            )
    async with backend.uow(read_only=True) as tx:
        assert await tx.connections.claimed(f"user:{ada.zoom_user_id}") == ada


async def test_r13_a_zoom_account_serves_one_organization(backend):
    acme = await organization(backend)
    globex = await organization(backend)
    first = await connected(backend, new_connection(acme, ConnectionType.ORGANIZATION))
    async with backend.uow() as tx:
        with pytest.raises(ZoomAccountServesAnotherOrganization):
            await tx.connections.add(
                new_connection(globex, ConnectionType.ORGANIZATION, zoom_account_id=first.zoom_account_id)
            )
    async with backend.uow(read_only=True) as tx:
        assert await tx.connections.claimed(f"account:{first.zoom_account_id}") == first
        assert await tx.connections.organization(globex) is None


async def test_locked_reads_the_connection_as_it_is_now_and_none_once_deleted(backend):
    org = await organization(backend)
    live = await connected(backend, new_connection(org, ConnectionType.ORGANIZATION))
    async with backend.uow() as tx:
        await tx.connections.set_status(live, ConnectionStatus.ADMIN_LOST, "demoted", now())
        await tx.commit()
    async with backend.uow() as tx:
        current = await tx.connections.locked(live)
        assert (current.id, current.status, current.status_reason) == (live.id, ConnectionStatus.ADMIN_LOST, "demoted")
        await tx.connections.delete(live)
        await tx.commit()
    async with backend.uow() as tx:
        assert await tx.connections.locked(live) is None


async def test_set_status_and_mark_verified_change_only_what_they_say(backend):
    org = await organization(backend)
    live = await connected(backend, new_connection(org, ConnectionType.ORGANIZATION))
    changed_at, verified_at = now() + timedelta(minutes=1), now() + timedelta(minutes=2)
    async with backend.uow() as tx:
        await tx.connections.set_status(live, ConnectionStatus.NEEDS_RECONNECT, "invalid_grant", changed_at)
        await tx.connections.mark_verified(live, verified_at)
        await tx.commit()
    async with backend.uow(read_only=True) as tx:
        current = await tx.connections.by_id(org, live.id)
    assert current.status is ConnectionStatus.NEEDS_RECONNECT
    assert (current.status_reason, current.status_changed_at, current.last_verified_at) == (
        "invalid_grant",
        changed_at,
        verified_at,
    )
    assert (current.zoom_user_id, current.zoom_email, current.connected_at) == (
        live.zoom_user_id,
        live.zoom_email,
        live.connected_at,
    )


async def test_r4_regrant_keeps_the_connection_with_its_new_admin_active_again(backend):
    org = await organization(backend)
    live = await connected(backend, new_connection(org, ConnectionType.ORGANIZATION))
    async with backend.uow() as tx:
        await tx.connections.set_status(live, ConnectionStatus.ADMIN_LOST, "demoted", now())
        await tx.commit()
    at = now() + timedelta(minutes=5)
    async with backend.uow() as tx:
        regranted = await tx.connections.regrant(live, "zu-new-admin", "new.admin@example.test", at)
        await tx.commit()
    async with backend.uow(read_only=True) as tx:
        assert await tx.connections.organization(org) == regranted
    assert (regranted.id, regranted.zoom_account_id) == (live.id, live.zoom_account_id)
    assert (regranted.zoom_user_id, regranted.zoom_email) == ("zu-new-admin", "new.admin@example.test")
    assert (regranted.status, regranted.status_reason) == (ConnectionStatus.ACTIVE, None)
    assert regranted.status_changed_at == regranted.connected_at == regranted.last_verified_at == at


async def test_live_organization_connections_are_the_active_and_admin_lost_ones(backend):
    active, lost, broken = await organization(backend), await organization(backend), await organization(backend)
    personal_org = await organization(backend, person("ada"))
    wanted = [
        await connected(backend, new_connection(active, ConnectionType.ORGANIZATION)),
        await connected(backend, new_connection(lost, ConnectionType.ORGANIZATION, status=ConnectionStatus.ADMIN_LOST)),
    ]
    await connected(backend, new_connection(broken, ConnectionType.ORGANIZATION, status=ConnectionStatus.NEEDS_RECONNECT))
    await connected(backend, new_connection(personal_org, ConnectionType.PERSONAL, ours(personal_org, "ada")))
    async with backend.uow(read_only=True) as tx:
        live = await tx.connections.live_organization_connections()
    ours_live = [c for c in live if c.org_id in (active, lost, broken, personal_org)]
    assert sorted(ours_live, key=lambda c: c.org_id) == sorted(wanted, key=lambda c: c.org_id)


async def test_r14_deleting_a_connection_takes_its_tokens_zoom_users_and_claim(backend):
    org = await organization(backend, person("ada", email="ada@example.test"))
    live = await connected(backend, new_connection(org, ConnectionType.ORGANIZATION), token_set())
    async with backend.uow() as tx:
        await tx.zoom_users.sync(live, [ZoomUser(zoom_user_id="z-ada", email=ours(org, "ada@example.test"))])
        await tx.commit()
    async with backend.uow() as tx:
        await tx.connections.delete(live)
        await tx.commit()
    async with backend.uow(read_only=True) as tx:
        assert await tx.connections.organization(org) is None
        assert await tx.tokens.read(live) is None
        assert await tx.zoom_users.seat(org, ours(org, "ada@example.test")) is None
        assert await tx.connections.claimed(f"account:{live.zoom_account_id}") is None
    # The claim went with it: the same Zoom account may serve the organization again.
    again = await connected(backend, new_connection(org, ConnectionType.ORGANIZATION, zoom_account_id=live.zoom_account_id))
    async with backend.uow(read_only=True) as tx:
        assert await tx.connections.claimed(f"account:{live.zoom_account_id}") == again
