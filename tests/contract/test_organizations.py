"""domain.ports.OrganizationRepository (`tx.organizations`) and WebhookLog (`tx.webhooks`)."""

from __future__ import annotations

from datetime import timedelta

from domain.model import Policy
from tests.contract.conftest import now
from tests.support.builders import unique


async def test_save_creates_then_renames_keeping_when_it_was_created_and_its_policy(backend):
    org_id, first, later = unique("org"), now(), now() + timedelta(minutes=1)
    async with backend.uow() as tx:
        created, was_created = await tx.organizations.save(org_id, "First", first)
        await tx.organizations.set_policy(org_id, Policy(allow_members_to_remove=True), first)
        renamed, again = await tx.organizations.save(org_id, "Second", later)
        await tx.commit()
    assert (was_created, again) == (True, False)
    assert created.policy == Policy(allow_members_to_remove=False)
    assert (renamed.name, renamed.created_at, renamed.updated_at) == ("Second", first, later)
    assert renamed.policy == Policy(allow_members_to_remove=True)
    async with backend.uow(read_only=True) as tx:
        assert await tx.organizations.get(org_id) == renamed
        assert await tx.organizations.get(unique("org")) is None


async def test_set_policy_returns_the_organization_as_it_now_is(backend):
    org_id, later = unique("org"), now() + timedelta(minutes=1)
    async with backend.uow() as tx:
        await tx.organizations.save(org_id, "Acme", now())
        changed = await tx.organizations.set_policy(org_id, Policy(allow_members_to_remove=True), later)
        await tx.commit()
    assert (changed.policy, changed.updated_at) == (Policy(allow_members_to_remove=True), later)
    async with backend.uow(read_only=True) as tx:
        assert await tx.organizations.get(org_id) == changed


async def test_an_organization_saved_without_commit_is_not_kept(backend):
    org_id = unique("org")
    async with backend.uow() as tx:
        await tx.organizations.save(org_id, "Gone", now())
    async with backend.uow(read_only=True) as tx:
        assert await tx.organizations.get(org_id) is None


async def test_a_webhook_delivery_is_accepted_once(backend):
    key = unique("event")
    async with backend.uow() as tx:
        assert await tx.webhooks.accept(key, "user.updated", now()) is True
        assert await tx.webhooks.accept(key, "user.updated", now()) is False
        await tx.commit()
    async with backend.uow() as tx:
        assert await tx.webhooks.accept(key, "user.updated", now()) is False
        assert await tx.webhooks.accept(unique("event"), "user.updated", now()) is True
