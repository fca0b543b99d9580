"""domain.ports.TokenVault (`tx.tokens`): a connection's Zoom tokens, sealed at rest."""

from __future__ import annotations

from domain.model import ConnectionStatus, ConnectionType
from tests.contract.conftest import (
    connected,
    new_connection,
    now,
    organization,
    ours,
    person,
    token_set,
)


async def test_tokens_stored_then_read_are_the_same_token_set(backend):
    org = await organization(backend)
    live = await connected(backend, new_connection(org, ConnectionType.ORGANIZATION))
    tokens = token_set()
    async with backend.uow() as tx:
        await tx.tokens.store(live, tokens)
        assert await tx.tokens.read(live) == tokens
        await tx.commit()
    async with backend.uow(read_only=True) as tx:
        assert await tx.tokens.read(live) == tokens


async def test_a_connection_given_no_tokens_reads_none(backend):
    org = await organization(backend)
    live = await connected(backend, new_connection(org, ConnectionType.ORGANIZATION))
    async with backend.uow(read_only=True) as tx:
        assert await tx.tokens.read(live) is None


async def test_storing_again_replaces_the_tokens(backend):
    org = await organization(backend)
    live = await connected(backend, new_connection(org, ConnectionType.ORGANIZATION), token_set(1))
    rotated = token_set(2)
    async with backend.uow() as tx:
        await tx.tokens.store(live, rotated)
        await tx.commit()
    async with backend.uow(read_only=True) as tx:
        assert await tx.tokens.read(live) == rotated


async def test_tokens_stored_without_commit_are_not_kept(backend):
    org = await organization(backend)
    first = token_set(1)
    live = await connected(backend, new_connection(org, ConnectionType.ORGANIZATION), first)
    async with backend.uow() as tx:
        await tx.tokens.store(live, token_set(2))
    async with backend.uow(read_only=True) as tx:
        assert await tx.tokens.read(live) == first


async def test_forgotten_tokens_read_none_and_the_connection_stays(backend):
    org = await organization(backend)
    live = await connected(backend, new_connection(org, ConnectionType.ORGANIZATION), token_set())
    async with backend.uow() as tx:
        await tx.tokens.forget(live)
        await tx.commit()
    async with backend.uow(read_only=True) as tx:
        assert await tx.tokens.read(live) is None
        assert await tx.connections.organization(org) == live


async def test_each_connection_has_its_own_tokens(backend):
    org = await organization(backend, person("ada"))
    organization_tokens, ada_tokens = token_set(1), token_set(2)
    live = await connected(backend, new_connection(org, ConnectionType.ORGANIZATION), organization_tokens)
    ada = await connected(backend, new_connection(org, ConnectionType.PERSONAL, ours(org, "ada")), ada_tokens)
    async with backend.uow() as tx:
        await tx.tokens.forget(ada)
        await tx.commit()
    async with backend.uow(read_only=True) as tx:
        assert await tx.tokens.read(live) == organization_tokens
        assert await tx.tokens.read(ada) is None


async def test_nothing_is_stored_for_a_connection_that_has_ended(backend):
    org = await organization(backend)
    live = await connected(backend, new_connection(org, ConnectionType.ORGANIZATION))
    async with backend.uow() as tx:
        await tx.connections.delete(live)
        await tx.tokens.store(live, token_set())
        await tx.commit()
    async with backend.uow(read_only=True) as tx:
        assert await tx.tokens.read(live) is None
        assert live.id not in {c.id for c in await tx.tokens.holders()}


async def test_the_holders_are_the_connections_holding_tokens_whatever_their_status(backend):
    org = await organization(backend, person("ada"), person("bob"))
    live = await connected(backend, new_connection(org, ConnectionType.ORGANIZATION), token_set(1))
    ada = await connected(backend, new_connection(org, ConnectionType.PERSONAL, ours(org, "ada")), token_set(2))
    bob = await connected(backend, new_connection(org, ConnectionType.PERSONAL, ours(org, "bob")))
    async with backend.uow() as tx:
        await tx.connections.set_status(live, ConnectionStatus.ADMIN_LOST, "demoted", now())
        await tx.tokens.forget(ada)
        await tx.commit()
    async with backend.uow(read_only=True) as tx:
        holders = {c.id: c for c in await tx.tokens.holders() if c.org_id == org}
    assert list(holders) == [live.id]
    assert holders[live.id].status is ConnectionStatus.ADMIN_LOST
    assert bob.id not in holders
