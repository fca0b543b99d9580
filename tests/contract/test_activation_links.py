"""domain.ports.ActivationLinkRepository (`tx.activation_links`): R3's links, found by their token's hash only."""

from __future__ import annotations

import uuid
from datetime import timedelta

from domain.ports import ActivationLink
from tests.contract.conftest import now, organization, ours, person
from tests.support.builders import unique


def link(org_id: str, created_at, ttl: timedelta = timedelta(days=7), email: str | None = "it@example.test") -> ActivationLink:
    return ActivationLink(
        id=str(uuid.uuid4()),
        org_id=org_id,
        created_by=ours(org_id, "olga"),
        emailed_to=email,
        created_at=created_at,
        expires_at=created_at + ttl,
    )


async def added(backend, *links: ActivationLink) -> dict[str, str]:
    """The links stored; the token hash of each, by link id."""
    hashes = {}
    async with backend.uow() as tx:
        for each in links:
            hashes[each.id] = unique("hash")
            await tx.activation_links.add(each, hashes[each.id])
        await tx.commit()
    return hashes


async def test_a_link_is_found_by_its_token_hash_and_by_id_in_its_organization(backend):
    org = await organization(backend, person("olga"))
    other = await organization(backend)
    first = link(org, now(), email=None)
    hashes = await added(backend, first)
    async with backend.uow(read_only=True) as tx:
        assert await tx.activation_links.find(hashes[first.id]) == first
        assert await tx.activation_links.find(unique("hash")) is None
        assert await tx.activation_links.get(org, first.id) == first
        assert await tx.activation_links.get(other, first.id) is None
        assert await tx.activation_links.get(org, str(uuid.uuid4())) is None


async def test_r3_pending_links_are_newest_first_without_used_revoked_or_expired_ones(backend):
    org = await organization(backend, person("olga"))
    start = now()
    older, newer, used, revoked = (link(org, start + timedelta(minutes=i)) for i in range(4))
    expired = link(org, start - timedelta(days=8))
    await added(backend, older, newer, used, revoked, expired)
    async with backend.uow() as tx:
        await tx.activation_links.mark_used(used, start + timedelta(minutes=10))
        await tx.activation_links.revoke(revoked, start + timedelta(minutes=10))
        await tx.commit()
    async with backend.uow(read_only=True) as tx:
        pending = await tx.activation_links.pending(org, start + timedelta(minutes=11))
        used_now = await tx.activation_links.get(org, used.id)
        revoked_now = await tx.activation_links.get(org, revoked.id)
    assert [each.id for each in pending] == [newer.id, older.id]
    assert (used_now.used_at, used_now.revoked_at) == (start + timedelta(minutes=10), None)
    assert (revoked_now.used_at, revoked_now.revoked_at) == (None, start + timedelta(minutes=10))


async def test_r3_a_link_stops_being_pending_when_it_expires(backend):
    org = await organization(backend, person("olga"))
    start = now()
    short = link(org, start, ttl=timedelta(minutes=5))
    await added(backend, short)
    async with backend.uow(read_only=True) as tx:
        assert [each.id for each in await tx.activation_links.pending(org, start + timedelta(minutes=4))] == [short.id]
        assert await tx.activation_links.pending(org, start + timedelta(minutes=5)) == []


async def test_r3_revoke_pending_revokes_only_the_pending_links_and_counts_them(backend):
    org = await organization(backend, person("olga"))
    other = await organization(backend, person("olga"))
    start = now()
    one, two, used, elsewhere = link(org, start), link(org, start + timedelta(minutes=1)), link(org, start), link(other, start)
    await added(backend, one, two, used, elsewhere)
    async with backend.uow() as tx:
        await tx.activation_links.mark_used(used, start + timedelta(minutes=2))
        assert await tx.activation_links.revoke_pending(org, start + timedelta(minutes=3)) == 2
        assert await tx.activation_links.revoke_pending(org, start + timedelta(minutes=3)) == 0
        await tx.commit()
    async with backend.uow(read_only=True) as tx:
        assert await tx.activation_links.pending(org, start + timedelta(minutes=4)) == []
        assert (await tx.activation_links.get(org, one.id)).revoked_at == start + timedelta(minutes=3)
        assert (await tx.activation_links.get(org, used.id)).revoked_at is None
        assert [each.id for each in await tx.activation_links.pending(other, start + timedelta(minutes=4))] == [elsewhere.id]
