"""Pending activation links: listed for owners and admins, resent, ended by a completed activation (R1, R3)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import activation_links, connecting
from domain.errors import (
    ActivationLinkNotEmailed,
    ActivationLinkNotFound,
    ActivationLinkRevoked,
    OrganizationNotFound,
    RoleRequired,
)
from domain.model import Role
from tests.unit.fakes import (
    NOW,
    FakeInvitations,
    FakeStore,
    FakeZoom,
    activate,
    activation_url,
    new_activation_link,
    organization_with,
    person,
    principal,
    profile_of,
    zoom_user,
)

OWNER = principal("acme", "olga", Role.OWNER)
ADMIN = principal("acme", "adam", Role.ADMIN)
ADA = principal("acme", "ada")
GLOBEX_OWNER = principal("globex", "gina", Role.OWNER)
ZOOM_ADMIN = zoom_user("zu-admin", "it@acme.example", role_id="1")
TTL = timedelta(days=7)


@pytest.fixture
async def store() -> FakeStore:
    store = FakeStore()
    await organization_with(store, "acme", person("olga", Role.OWNER), person("adam", Role.ADMIN), person("ada"))
    await organization_with(store, "globex", person("gina", Role.OWNER))
    return store


@pytest.fixture
def zoom() -> FakeZoom:
    zoom = FakeZoom()
    zoom.accounts["acct-acme"] = [ZOOM_ADMIN]
    return zoom


async def emailed_link(store, invitations, token, now=NOW):
    return await connecting.create_activation_link(store.uow, invitations, OWNER, "acme", token, activation_url(token), "it@acme.example", now, TTL
    )


async def pending_ids(store, now=NOW):
    return [link.id for link in await activation_links.pending_activation_links(store.uow, ADMIN, "acme", now)]


async def test_r3_pending_links_are_listed_newest_first_without_used_revoked_or_expired_ones(store, zoom):
    older = await new_activation_link(store, OWNER, "t-older", now=NOW - timedelta(days=1))
    newer = await new_activation_link(store, OWNER, "t-newer")
    revoked = await new_activation_link(store, OWNER, "t-revoked")
    await connecting.revoke_activation_link(store.uow, OWNER, "acme", revoked.id, NOW)
    await new_activation_link(store, OWNER, "t-expired", now=NOW - TTL - timedelta(days=1))
    await new_activation_link(store, GLOBEX_OWNER, "t-globex")

    assert await pending_ids(store) == [newer.id, older.id]


async def test_r1_members_cannot_list_activation_links(store):
    with pytest.raises(RoleRequired):
        await activation_links.pending_activation_links(store.uow, ADA, "acme", NOW)
    with pytest.raises(OrganizationNotFound):
        await activation_links.pending_activation_links(store.uow, GLOBEX_OWNER, "acme", NOW)


async def test_r3_completing_an_activation_revokes_the_organizations_other_pending_links(store, zoom):
    other = await new_activation_link(store, OWNER, "t-other")
    await new_activation_link(store, OWNER, "t-used")

    await activate(store, zoom, "t-used", profile_of(ZOOM_ADMIN, "acct-acme"))

    assert await pending_ids(store) == []
    with pytest.raises(ActivationLinkRevoked):
        await connecting.usable_activation_link(store.uow, "t-other", NOW)
    assert (await store.uow().activation_links.get("acme", other.id)).revoked_at == NOW


async def test_r3_resending_emails_a_fresh_link_and_revokes_the_old_one(store):
    invitations = FakeInvitations()
    old = await emailed_link(store, invitations, "t-old")

    new = await activation_links.resend_activation_link(store.uow, invitations, ADMIN, "acme", old.id, "t-new", activation_url("t-new"), NOW, TTL
    )

    assert (new.emailed_to, new.expires_at) == ("it@acme.example", NOW + TTL)
    assert [sent.url for sent in invitations.sent] == [activation_url("t-old"), activation_url("t-new")]
    assert await pending_ids(store) == [new.id]
    with pytest.raises(ActivationLinkRevoked):
        await connecting.usable_activation_link(store.uow, "t-old", NOW)


async def test_a_resend_whose_email_did_not_go_out_keeps_the_old_link(store):
    invitations = FakeInvitations()
    old = await emailed_link(store, invitations, "t-old")
    invitations.failing = True

    with pytest.raises(OSError):
        await activation_links.resend_activation_link(store.uow, invitations, OWNER, "acme", old.id, "t-new", activation_url("t-new"), NOW, TTL
        )

    assert await pending_ids(store) == [old.id]


async def test_only_an_emailed_pending_link_can_be_resent(store):
    invitations = FakeInvitations()
    copied = await new_activation_link(store, OWNER, "t-copied")
    with pytest.raises(ActivationLinkNotEmailed):
        await activation_links.resend_activation_link(store.uow, invitations, OWNER, "acme", copied.id, "t-new", activation_url("t-new"), NOW, TTL
        )
    emailed = await emailed_link(store, invitations, "t-emailed")
    await connecting.revoke_activation_link(store.uow, OWNER, "acme", emailed.id, NOW)
    with pytest.raises(ActivationLinkNotFound):
        await activation_links.resend_activation_link(store.uow, invitations, OWNER, "acme", emailed.id, "t-new", activation_url("t-new"), NOW, TTL
        )
    with pytest.raises(RoleRequired):
        await activation_links.resend_activation_link(store.uow, invitations, ADA, "acme", copied.id, "t-new", activation_url("t-new"), NOW, TTL
        )
    assert await pending_ids(store) == [copied.id]
