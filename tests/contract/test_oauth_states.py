"""domain.ports.OAuthStateRepository (`tx.oauth_states`): a pending OAuth round trip, bound to one browser, used once."""

from __future__ import annotations

from datetime import timedelta

from domain.model import ConnectionType
from domain.ports import OAuthState
from tests.contract.conftest import now, organization, ours, person
from tests.support.builders import unique


async def waiting(backend, ttl: timedelta = timedelta(minutes=10)) -> tuple[str, OAuthState]:
    org = await organization(backend, person("ada"))
    state = OAuthState(
        connection_type=ConnectionType.PERSONAL, org_id=org, user_id=ours(org, "ada"), code_verifier=unique("verifier"), expires_at=now() + ttl
    )
    state_hash = unique("state")
    async with backend.uow() as tx:
        await tx.oauth_states.add(state_hash, state)
        await tx.commit()
    return state_hash, state


async def test_a_waiting_state_reads_back_as_it_was_added_and_is_left_as_it_is(backend):
    state_hash, state = await waiting(backend)
    async with backend.uow() as tx:
        assert await tx.oauth_states.pending(state_hash, now()) == state
        assert await tx.oauth_states.pending(state_hash, now()) == state
        assert await tx.oauth_states.pending(unique("state"), now()) is None
        assert await tx.oauth_states.pending(state_hash, state.expires_at) is None, "expired"


async def test_a_state_is_bound_to_one_browser_once(backend):
    state_hash, state = await waiting(backend)
    async with backend.uow() as tx:
        bound = await tx.oauth_states.bind(state_hash, "browser-1", now())
        assert await tx.oauth_states.bind(state_hash, "browser-2", now()) is None
        assert await tx.oauth_states.bind(unique("state"), "browser-1", now()) is None
        await tx.commit()
    assert bound.browser_hash == "browser-1" and bound.code_verifier == state.code_verifier
    async with backend.uow(read_only=True) as tx:
        assert (await tx.oauth_states.pending(state_hash, now())).browser_hash == "browser-1"


async def test_an_expired_state_cannot_be_bound(backend):
    state_hash, state = await waiting(backend)
    async with backend.uow() as tx:
        assert await tx.oauth_states.bind(state_hash, "browser-1", state.expires_at) is None


async def test_a_state_is_taken_once_and_only_by_its_browser(backend):
    state_hash, _ = await waiting(backend)
    async with backend.uow() as tx:
        await tx.oauth_states.bind(state_hash, "browser-1", now())
        await tx.commit()
    async with backend.uow() as tx:
        assert await tx.oauth_states.take(state_hash, "browser-2", now()) is None
        assert await tx.oauth_states.take(state_hash, None, now()) is None
        taken = await tx.oauth_states.take(state_hash, "browser-1", now())
        assert await tx.oauth_states.take(state_hash, "browser-1", now()) is None
        await tx.commit()
    assert taken.browser_hash == "browser-1"
    async with backend.uow(read_only=True) as tx:
        assert await tx.oauth_states.pending(state_hash, now()) is None


async def test_a_state_no_browser_was_bound_to_cannot_be_taken_and_stays(backend):
    state_hash, state = await waiting(backend)
    async with backend.uow() as tx:
        assert await tx.oauth_states.take(state_hash, None, now()) is None
        await tx.commit()
    async with backend.uow(read_only=True) as tx:
        assert await tx.oauth_states.pending(state_hash, now()) == state


async def test_an_expired_state_taken_by_its_browser_is_spent_and_refused(backend):
    state_hash, _ = await waiting(backend, ttl=timedelta(minutes=1))
    async with backend.uow() as tx:
        await tx.oauth_states.bind(state_hash, "browser-1", now())
        await tx.commit()
    later = now() + timedelta(minutes=2)
    async with backend.uow() as tx:
        assert await tx.oauth_states.take(state_hash, "browser-1", later) is None
        await tx.commit()
    async with backend.uow() as tx:
        assert await tx.oauth_states.take(state_hash, "browser-1", now()) is None, "it was spent, expired or not"
