"""Connecting and disconnecting Zoom, personal and organization (R1–R4, R6, R12–R14, R18)."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest

from domain import connecting, integration
from domain.connecting import secret_hash
from domain.errors import (
    ActivationLinkExpired,
    ActivationLinkNotFound,
    ActivationLinkRevoked,
    ActivationLinkUnknown,
    ActivationLinkUsed,
    EmailUnavailable,
    LinkToZoomSpent,
    NotAZoomAdmin,
    NotConnected,
    OAuthStateInvalid,
    OAuthStateOfAnotherBrowser,
    OrganizationNotFound,
    RoleRequired,
    ZoomAccountServesAnotherOrganization,
    ZoomRefused,
    ZoomUserAlreadyConnected,
)
from domain.model import ConnectionStatus, ConnectionType, Reason, Role
from domain.zoom import ZoomApp
from tests.unit.fakes import (
    NOW,
    FakeInvitations,
    FakeStore,
    FakeZoom,
    Invitation,
    activate,
    activation_url,
    connect_personal,
    finish,
    new_activation_link,
    organization_with,
    pending_activation,
    person,
    principal,
    profile_of,
    zoom_user,
)
from tests.unit.meeting_fakes import FakeClock

OWNER = principal("acme", "olga", Role.OWNER)
ADMIN = principal("acme", "adam", Role.ADMIN)
ADA = principal("acme", "ada")
BOB = principal("acme", "bob")
GLOBEX_OWNER = principal("globex", "gina", Role.OWNER)

TOKEN = "a" * 43
ZOOM_ADMIN = zoom_user("zu-admin", "it@acme.example", role_id="1")
ZOOM_OWNER = zoom_user("zu-owner", "boss@acme.example", role_id="0")
ZOOM_MEMBER = zoom_user("zu-member", "ada@acme.example", role_id="2")
ACME_ACCOUNT = [ZOOM_ADMIN, ZOOM_OWNER, ZOOM_MEMBER, zoom_user("zu-bob", "bob@acme.example")]
NEW_ACCOUNT = [zoom_user("zu-new-admin", "admin@new.example", role_id="0"), zoom_user("zu-new-bob", "bob@acme.example")]

ADMIN_PROFILE = profile_of(ZOOM_ADMIN, "acct-acme")
ADA_AT_HOME = profile_of(zoom_user("zu-ada-home", "ada@home.example"), "acct-ada-home")
SHARED_DESK = profile_of(zoom_user("zu-desk", "desk@acme.example"), "acct-desk")


@pytest.fixture
def zoom() -> FakeZoom:
    zoom = FakeZoom()
    zoom.accounts["acct-acme"] = ACME_ACCOUNT
    zoom.accounts["acct-new"] = NEW_ACCOUNT
    return zoom


@pytest.fixture
async def store() -> FakeStore:
    store = FakeStore()
    await organization_with(
        store, "acme", person("olga", Role.OWNER), person("adam", Role.ADMIN), person("ada"), person("bob"), person("cy")
    )
    await organization_with(store, "globex", person("gina", Role.OWNER))
    return store


def actions(store: FakeStore) -> list[str]:
    return [event.action for event in store.audit]


async def stored_tokens(store: FakeStore, connection):
    return await store.uow().tokens.read(connection)


# Personal connections


async def start(store, who=ADA, state="state-1", session_token=None, now=NOW):
    await connecting.start_personal_connection(store.uow, who, state, "verifier-1", session_token, now)


async def test_a_personal_connection_goes_to_zoom_from_the_browser_that_opens_its_link_first(store, zoom):
    await start(store)

    url = await connecting.send_browser_to_zoom(store.uow, zoom, "state-1", "browser-1", None, NOW)

    assert url == zoom.authorize_url(ZoomApp.USER, "state-1", "verifier-1")
    pending = await connecting.take_oauth_state(store.uow, "state-1", "browser-1", NOW)
    assert (pending.connection_type, pending.org_id, pending.user_id, pending.code_verifier) == (
        ConnectionType.PERSONAL,
        "acme",
        "ada",
        "verifier-1",
    )
    assert pending.expires_at == NOW + timedelta(minutes=10)


async def test_an_oauth_state_and_its_bindings_are_kept_only_as_hashes(store, zoom):
    await start(store, state="state-secret", session_token="session-secret")
    await connecting.send_browser_to_zoom(store.uow, zoom, "state-secret", "browser-secret", "session-secret", NOW)

    assert list(store.tables.oauth_states) == [secret_hash("state-secret")]
    kept = store.tables.oauth_states[secret_hash("state-secret")]
    assert (kept.browser_hash, kept.session_hash) == (secret_hash("browser-secret"), secret_hash("session-secret"))


async def test_the_link_to_zoom_works_once(store, zoom):
    await start(store)
    await connecting.send_browser_to_zoom(store.uow, zoom, "state-1", "browser-1", None, NOW)

    with pytest.raises(OAuthStateInvalid) as again:
        await connecting.send_browser_to_zoom(store.uow, zoom, "state-1", "browser-2", None, NOW)

    assert type(again.value) is LinkToZoomSpent  # gone, not "of another browser"
    assert store.tables.oauth_states[secret_hash("state-1")].browser_hash == secret_hash("browser-1")


async def test_a_link_to_zoom_started_in_a_session_is_followed_only_in_that_sessions_browser(store, zoom):
    await start(store, session_token="adas-session")

    for other in (None, "someone-elses-session"):
        with pytest.raises(OAuthStateOfAnotherBrowser):
            await connecting.send_browser_to_zoom(store.uow, zoom, "state-1", "browser-2", other, NOW)
    url = await connecting.send_browser_to_zoom(store.uow, zoom, "state-1", "browser-1", "adas-session", NOW)

    assert url == zoom.authorize_url(ZoomApp.USER, "state-1", "verifier-1")


async def test_a_callback_in_another_browser_is_refused_and_spends_the_state(store, zoom):
    """Its URL carries Zoom's code for the sign-in: refused in one browser, it must finish in none."""
    for other in (None, "browser-2"):
        await start(store)
        await connecting.send_browser_to_zoom(store.uow, zoom, "state-1", "browser-1", None, NOW)

        with pytest.raises(OAuthStateOfAnotherBrowser):
            await connecting.take_oauth_state(store.uow, "state-1", other, NOW)

        assert store.tables.oauth_states == {}
        with pytest.raises(OAuthStateInvalid):
            await connecting.take_oauth_state(store.uow, "state-1", "browser-1", NOW)


async def test_a_state_no_browser_was_sent_to_zoom_with_cannot_be_finished(store):
    await start(store)

    with pytest.raises(OAuthStateOfAnotherBrowser):
        await connecting.take_oauth_state(store.uow, "state-1", "browser-1", NOW)


async def test_an_oauth_state_works_once(store, zoom):
    await start(store)
    await connecting.send_browser_to_zoom(store.uow, zoom, "state-1", "browser-1", None, NOW)
    await connecting.take_oauth_state(store.uow, "state-1", "browser-1", NOW)

    with pytest.raises(OAuthStateInvalid):
        await connecting.take_oauth_state(store.uow, "state-1", "browser-1", NOW)


async def test_an_oauth_state_stops_working_after_ten_minutes(store, zoom):
    await start(store)
    with pytest.raises(OAuthStateInvalid):
        await connecting.send_browser_to_zoom(store.uow, zoom, "state-1", "browser-1", None, NOW + timedelta(minutes=10))
    await connecting.send_browser_to_zoom(store.uow, zoom, "state-1", "browser-1", None, NOW)

    with pytest.raises(OAuthStateInvalid) as late:
        await connecting.take_oauth_state(store.uow, "state-1", "browser-1", NOW + timedelta(minutes=10))
    assert type(late.value) is OAuthStateInvalid


async def test_an_unknown_oauth_state_is_refused(store, zoom):
    with pytest.raises(OAuthStateInvalid):
        await connecting.take_oauth_state(store.uow, "never-issued", "browser-1", NOW)
    with pytest.raises(OAuthStateInvalid):
        await connecting.send_browser_to_zoom(store.uow, zoom, "never-issued", "browser-1", None, NOW)


async def test_finishing_a_personal_connection_stores_its_tokens_and_records_it(store, zoom):
    connection = await connect_personal(store, zoom, ADA, ADA_AT_HOME)

    kept = await store.uow().connections.personal("acme", "ada")
    assert kept == connection
    assert (kept.type, kept.user_id, kept.zoom_user_id, kept.zoom_email, kept.status) == (
        ConnectionType.PERSONAL,
        "ada",
        "zu-ada-home",
        "ada@home.example",
        ConnectionStatus.ACTIVE,
    )
    assert await stored_tokens(store, kept) == zoom.issued[-1]
    (event,) = store.audit
    assert (event.action, event.actor, event.connection_id, event.connection_type, event.user_id) == (
        "connected",
        "user:ada",
        kept.id,
        ConnectionType.PERSONAL,
        "ada",
    )


async def test_a_code_zoom_refuses_connects_nothing(store, zoom):
    zoom.refusing = True

    with pytest.raises(ZoomRefused):
        await connect_personal(store, zoom, ADA, ADA_AT_HOME)

    assert await store.uow().connections.personal("acme", "ada") is None
    assert store.audit == []


async def test_r13_a_zoom_user_connected_by_one_member_is_refused_to_another_whose_approval_keeps_the_first_alive(
    store, zoom
):
    """Zoom honours only the newest grant of a Zoom user for our app: bob's approval ended ada's tokens, so
    ada's connection keeps bob's new ones, and nothing is revoked (that would end ada's connection)."""
    first = await connect_personal(store, zoom, ADA, SHARED_DESK)
    first_tokens = await stored_tokens(store, first)

    with pytest.raises(ZoomUserAlreadyConnected):
        await connect_personal(store, zoom, BOB, SHARED_DESK, NOW + timedelta(minutes=1))

    assert zoom.revoked == []
    assert zoom.issued[-1] != first_tokens
    uow = store.uow()
    assert await uow.connections.personal("acme", "bob") is None
    assert await uow.connections.personal("acme", "ada") == first
    assert await uow.tokens.read(first) == zoom.issued[-1]
    assert actions(store) == ["connected", "reauthorized"]
    event = store.audit[-1]
    assert (event.connection_id, event.user_id, event.actor, event.at) == (first.id, "ada", "user:bob", NOW + timedelta(minutes=1))
    assert "another person approved the same Zoom user" in event.reason


async def test_r13_two_user_ids_with_the_same_email_are_two_people(store, zoom):
    await organization_with(store, "acme", person("ada-2", email="ada@acme.example"))
    await connect_personal(store, zoom, ADA, SHARED_DESK)

    with pytest.raises(ZoomUserAlreadyConnected):
        await connect_personal(store, zoom, principal("acme", "ada-2"), SHARED_DESK)


async def test_r13_a_zoom_user_of_another_organizations_member_is_refused_too(store, zoom):
    await organization_with(store, "globex", person("gus"))
    await connect_personal(store, zoom, ADA, SHARED_DESK)

    with pytest.raises(ZoomUserAlreadyConnected):
        await connect_personal(store, zoom, principal("globex", "gus"), SHARED_DESK)


async def test_r13_a_refused_reconnect_keeps_the_members_own_connection(store, zoom):
    own = await connect_personal(store, zoom, ADA, ADA_AT_HOME)
    bobs = await connect_personal(store, zoom, BOB, SHARED_DESK)
    own_tokens = await stored_tokens(store, own)

    with pytest.raises(ZoomUserAlreadyConnected):
        await connect_personal(store, zoom, ADA, SHARED_DESK)

    assert await store.uow().connections.personal("acme", "ada") == own
    assert await stored_tokens(store, own) == own_tokens
    assert await stored_tokens(store, bobs) == zoom.issued[-1]
    assert "replaced" not in actions(store)
    assert (ZoomApp.USER, own_tokens) not in zoom.revoked


async def test_reconnecting_the_same_zoom_user_replaces_the_members_own_connection(store, zoom):
    first = await connect_personal(store, zoom, ADA, ADA_AT_HOME)

    second = await connect_personal(store, zoom, ADA, ADA_AT_HOME, NOW + timedelta(days=1))

    assert second.id != first.id
    assert await store.uow().connections.personal("acme", "ada") == second
    assert await stored_tokens(store, second) == zoom.issued[-1]
    assert actions(store) == ["connected", "replaced", "connected"]
    assert store.audit[1].connection_id == first.id
    # Both token sets are the same Zoom user's authorization of the same app; revoking the old could end the new.
    assert zoom.revoked == []


async def test_reconnecting_another_zoom_user_revokes_the_old_tokens_and_frees_the_old_zoom_user(store, zoom):
    first = await connect_personal(store, zoom, ADA, SHARED_DESK)
    first_tokens = await stored_tokens(store, first)

    await connect_personal(store, zoom, ADA, ADA_AT_HOME)

    assert zoom.revoked == [(ZoomApp.USER, first_tokens)]
    taken_over = await connect_personal(store, zoom, BOB, SHARED_DESK)
    assert taken_over.user_id == "bob"


async def test_r14_disconnecting_personal_zoom_revokes_and_forgets_its_tokens(store, zoom):
    connection = await connect_personal(store, zoom, ADA, ADA_AT_HOME)
    tokens = await stored_tokens(store, connection)

    await connecting.disconnect_personal(store.uow, zoom, ADA, NOW)

    assert await store.uow().connections.personal("acme", "ada") is None
    assert await stored_tokens(store, connection) is None
    assert zoom.revoked == [(ZoomApp.USER, tokens)]
    assert (store.audit[-1].action, store.audit[-1].actor) == ("disconnected", "user:ada")


async def test_disconnecting_personal_zoom_one_does_not_have_is_refused(store, zoom):
    with pytest.raises(NotConnected):
        await connecting.disconnect_personal(store.uow, zoom, ADA, NOW)


# Activation links


@pytest.mark.parametrize("manager", [OWNER, ADMIN], ids=["owner", "admin"])
async def test_r1_r3_owners_and_admins_create_activation_links_that_expire(store, manager):
    link = await new_activation_link(store, manager, TOKEN, ttl=timedelta(days=7))

    assert (link.org_id, link.created_by, link.expires_at) == ("acme", manager.user_id, NOW + timedelta(days=7))
    assert await store.uow().activation_links.find(secret_hash(TOKEN)) == link
    assert actions(store) == ["activation_link_created"]


async def test_r3_only_the_hash_of_an_activation_token_is_kept(store):
    await new_activation_link(store, OWNER, TOKEN)

    assert TOKEN not in repr(store.tables)
    assert await connecting.usable_activation_link(store.uow, TOKEN, NOW)


async def create_link(store: FakeStore, by, invitations: FakeInvitations | None = None, email: str | None = None):
    return await connecting.create_activation_link(store.uow, invitations, by, "acme", TOKEN, activation_url(TOKEN), email, NOW, timedelta(days=7)
    )


async def test_r1_a_member_cannot_create_an_activation_link(store):
    with pytest.raises(RoleRequired):
        await create_link(store, ADA)

    assert await store.uow().activation_links.find(secret_hash(TOKEN)) is None
    assert store.audit == []


async def test_r1_another_organizations_owner_cannot_create_an_activation_link(store):
    with pytest.raises(OrganizationNotFound):
        await create_link(store, GLOBEX_OWNER)

    assert await store.uow().activation_links.find(secret_hash(TOKEN)) is None


async def test_an_activation_link_can_be_emailed_to_the_zoom_admin(store):
    invitations = FakeInvitations()

    link = await create_link(store, OWNER, invitations, "it@acme.example")

    assert invitations.sent == [Invitation("it@acme.example", "acme", "olga", activation_url(TOKEN), link.id)]
    assert (await store.uow().activation_links.find(secret_hash(TOKEN))).emailed_to == "it@acme.example"
    assert store.audit[-1].details == {"activation_link_id": link.id, "emailed": True}


async def test_an_activation_link_whose_email_did_not_go_out_is_not_kept(store):
    invitations = FakeInvitations()
    invitations.failing = True

    with pytest.raises(OSError):
        await create_link(store, OWNER, invitations, "it@acme.example")

    assert await store.uow().activation_links.find(secret_hash(TOKEN)) is None
    assert store.audit == []


async def test_an_activation_link_cannot_be_emailed_without_a_mail_server(store):
    with pytest.raises(EmailUnavailable):
        await create_link(store, OWNER, None, "it@acme.example")

    assert await store.uow().activation_links.find(secret_hash(TOKEN)) is None


async def test_r1_a_member_cannot_revoke_an_activation_link(store):
    link = await new_activation_link(store, OWNER, TOKEN)

    with pytest.raises(RoleRequired):
        await connecting.revoke_activation_link(store.uow, ADA, "acme", link.id, NOW)

    assert await connecting.usable_activation_link(store.uow, TOKEN, NOW) == link


async def test_r3_a_revoked_activation_link_says_so(store):
    link = await new_activation_link(store, OWNER, TOKEN)

    await connecting.revoke_activation_link(store.uow, ADMIN, "acme", link.id, NOW)

    with pytest.raises(ActivationLinkRevoked):
        await connecting.usable_activation_link(store.uow, TOKEN, NOW)
    assert actions(store)[-1] == "activation_link_revoked"


async def test_another_organizations_activation_link_cannot_be_revoked(store):
    link = await new_activation_link(store, OWNER, TOKEN)

    with pytest.raises(ActivationLinkNotFound):
        await connecting.revoke_activation_link(store.uow, GLOBEX_OWNER, "globex", link.id, NOW)

    assert await connecting.usable_activation_link(store.uow, TOKEN, NOW) == link


async def test_r3_an_unknown_activation_link_says_so(store):
    with pytest.raises(ActivationLinkUnknown):
        await connecting.usable_activation_link(store.uow, "no-such-token", NOW)


async def test_r3_an_expired_activation_link_says_so(store):
    await new_activation_link(store, OWNER, TOKEN, ttl=timedelta(days=7))

    assert await connecting.usable_activation_link(store.uow, TOKEN, NOW + timedelta(days=7) - timedelta(seconds=1))
    with pytest.raises(ActivationLinkExpired):
        await connecting.usable_activation_link(store.uow, TOKEN, NOW + timedelta(days=7))


async def test_r3_a_used_activation_link_says_so(store, zoom):
    await new_activation_link(store, OWNER, TOKEN)
    await activate(store, zoom, TOKEN, ADMIN_PROFILE)

    with pytest.raises(ActivationLinkUsed):
        await connecting.usable_activation_link(store.uow, TOKEN, NOW)
    with pytest.raises(ActivationLinkUsed):
        await pending_activation(store, zoom, TOKEN)


async def test_r3_an_expired_link_starts_no_activation(store, zoom):
    await new_activation_link(store, OWNER, TOKEN, ttl=timedelta(days=7))

    with pytest.raises(ActivationLinkExpired):
        await connecting.start_activation(store.uow, zoom, TOKEN, "state-1", "verifier", "browser-1", NOW + timedelta(days=8))

    assert store.tables.oauth_states == {}


async def test_starting_an_activation_sends_the_zoom_admin_to_the_admin_app_bound_to_their_browser(store, zoom):
    link = await new_activation_link(store, OWNER, TOKEN)

    url = await connecting.start_activation(store.uow, zoom, TOKEN, "state-1", "verifier", "admins-browser", NOW)

    assert url == zoom.authorize_url(ZoomApp.ADMIN, "state-1", "verifier")
    with pytest.raises(OAuthStateInvalid):  # already bound: no second browser can bind to it
        await connecting.send_browser_to_zoom(store.uow, zoom, "state-1", "another-browser", None, NOW)
    pending = await connecting.take_oauth_state(store.uow, "state-1", "admins-browser", NOW)
    assert (pending.connection_type, pending.org_id, pending.activation_link_id, pending.user_id) == (
        ConnectionType.ORGANIZATION,
        "acme",
        link.id,
        None,
    )


# Finishing an activation


@pytest.mark.parametrize("zoom_admin", [ZOOM_ADMIN, ZOOM_OWNER], ids=["admin", "owner"])
async def test_r2_a_zoom_owner_or_admin_connects_the_organization(store, zoom, zoom_admin):
    link = await new_activation_link(store, OWNER, TOKEN)

    connection = await activate(store, zoom, TOKEN, profile_of(zoom_admin, "acct-acme"))

    uow = store.uow()
    assert await uow.connections.organization("acme") == connection
    assert (connection.type, connection.user_id, connection.zoom_account_id, connection.zoom_user_id) == (
        ConnectionType.ORGANIZATION,
        None,
        "acct-acme",
        zoom_admin.zoom_user_id,
    )
    assert await uow.tokens.read(connection) == zoom.issued[-1]
    assert (await uow.activation_links.get("acme", link.id)).used_at == NOW
    (event,) = [e for e in store.audit if e.action == "connected"]
    assert (event.actor, event.connection_id, event.details["activation_link_id"], event.details["zoom_users"]) == (
        f"zoom:{zoom_admin.zoom_user_id}",
        connection.id,
        link.id,
        len(ACME_ACCOUNT),
    )


async def test_r5_activation_seats_members_by_email(store, zoom):
    await new_activation_link(store, OWNER, TOKEN)

    await activate(store, zoom, TOKEN, ADMIN_PROFILE)

    uow = store.uow()
    assert (await uow.zoom_users.seat("acme", "Ada@Acme.example")).zoom_user_id == "zu-member"
    assert (await uow.zoom_users.seat("acme", "bob@acme.example")).zoom_user_id == "zu-bob"
    assert await uow.zoom_users.seat("acme", "cy@acme.example") is None


async def test_r2_a_zoom_member_cannot_finish_an_activation_and_the_link_still_works(store, zoom):
    link = await new_activation_link(store, OWNER, TOKEN)

    with pytest.raises(NotAZoomAdmin) as refused:
        await activate(store, zoom, TOKEN, profile_of(ZOOM_MEMBER, "acct-acme"))

    assert "ada@acme.example" in refused.value.detail
    assert zoom.revoked == [(ZoomApp.ADMIN, zoom.issued[-1])]
    assert await store.uow().connections.organization("acme") is None
    assert await connecting.usable_activation_link(store.uow, TOKEN, NOW) == link
    assert "connected" not in actions(store)

    connection = await activate(store, zoom, TOKEN, ADMIN_PROFILE)
    assert connection.zoom_user_id == "zu-admin"


async def test_r2_a_deactivated_zoom_admin_cannot_finish_an_activation(store, zoom):
    await new_activation_link(store, OWNER, TOKEN)
    deactivated = profile_of(zoom_user("zu-admin", "it@acme.example", role_id="1", status="inactive"), "acct-acme")

    with pytest.raises(NotAZoomAdmin):
        await activate(store, zoom, TOKEN, deactivated)

    assert await store.uow().connections.organization("acme") is None


async def test_r3_a_link_revoked_while_the_admin_was_at_zoom_connects_nothing(store, zoom):
    link = await new_activation_link(store, OWNER, TOKEN)
    pending, url = await pending_activation(store, zoom, TOKEN)
    code = zoom.approve(ADMIN_PROFILE, url)
    await connecting.revoke_activation_link(store.uow, OWNER, "acme", link.id, NOW)

    with pytest.raises(ActivationLinkRevoked):
        await finish(store, zoom, pending, code, NOW)

    assert await store.uow().connections.organization("acme") is None
    assert zoom.issued == []


async def test_r3_a_link_that_expired_while_the_admin_was_at_zoom_connects_nothing(store, zoom):
    await new_activation_link(store, OWNER, TOKEN, ttl=timedelta(minutes=5))
    pending, url = await pending_activation(store, zoom, TOKEN)

    with pytest.raises(ActivationLinkExpired):
        await finish(store, zoom, pending, zoom.approve(ADMIN_PROFILE, url), NOW + timedelta(minutes=6))

    assert await store.uow().connections.organization("acme") is None


async def test_r4_a_second_activation_replaces_the_organization_connection(store, zoom):
    await new_activation_link(store, OWNER, TOKEN)
    first = await activate(store, zoom, TOKEN, ADMIN_PROFILE)
    first_tokens = await stored_tokens(store, first)
    await new_activation_link(store, ADMIN, "b" * 43)

    second = await activate(store, zoom, "b" * 43, profile_of(NEW_ACCOUNT[0], "acct-new"))

    uow = store.uow()
    assert await uow.connections.organization("acme") == second
    assert await uow.tokens.read(first) is None
    assert zoom.revoked == [(ZoomApp.ADMIN, first_tokens)]
    (replaced,) = [e for e in store.audit if e.action == "replaced"]
    assert (replaced.connection_id, replaced.actor) == (first.id, "zoom:zu-new-admin")
    assert await uow.zoom_users.seat("acme", "ada@acme.example") is None
    assert (await uow.zoom_users.seat("acme", "bob@acme.example")).zoom_user_id == "zu-new-bob"


async def test_r4_reconnecting_with_another_admin_of_the_same_account_replaces_the_connection(store, zoom):
    """Same account: the connection keeps its row (and every seat); the new admin and tokens take over."""
    await new_activation_link(store, OWNER, TOKEN)
    first = await activate(store, zoom, TOKEN, ADMIN_PROFILE)
    first_tokens = await stored_tokens(store, first)
    await new_activation_link(store, OWNER, "b" * 43)

    second = await activate(store, zoom, "b" * 43, profile_of(ZOOM_OWNER, "acct-acme"))

    uow = store.uow()
    assert await uow.connections.organization("acme") == second
    assert (second.id, second.zoom_user_id) == (first.id, "zu-owner")
    assert await uow.tokens.read(second) not in (None, first_tokens)
    assert [e.action for e in store.audit if e.connection_id == first.id][-2:] == ["replaced", "connected"]
    # Both are authorizations of the admin app on the same account; revoking the old could remove the new.
    assert zoom.revoked == []


async def test_r6_connecting_and_reconnecting_the_organization_never_touches_personal_connections(store, zoom):
    personal = await connect_personal(store, zoom, ADA, ADA_AT_HOME)
    personal_tokens = await stored_tokens(store, personal)
    await new_activation_link(store, OWNER, TOKEN)
    await activate(store, zoom, TOKEN, ADMIN_PROFILE)
    await new_activation_link(store, OWNER, "b" * 43)

    await activate(store, zoom, "b" * 43, profile_of(NEW_ACCOUNT[0], "acct-new"))

    assert await store.uow().connections.personal("acme", "ada") == personal
    assert await stored_tokens(store, personal) == personal_tokens
    assert all(app is ZoomApp.ADMIN for app, _ in zoom.revoked)
    mine = await integration.my_integration(store.uow, ADA)
    assert (mine.connected, mine.type) == (True, ConnectionType.PERSONAL)


async def test_r13_a_zoom_account_serving_another_organization_is_refused(store, zoom):
    await new_activation_link(store, GLOBEX_OWNER, "g" * 43)
    globex = await activate(store, zoom, "g" * 43, ADMIN_PROFILE)
    globex_tokens = await stored_tokens(store, globex)
    link = await new_activation_link(store, OWNER, TOKEN)

    with pytest.raises(ZoomAccountServesAnotherOrganization):
        await activate(store, zoom, TOKEN, profile_of(ZOOM_OWNER, "acct-acme"))

    uow = store.uow()
    assert await uow.connections.organization("acme") is None
    assert await uow.connections.organization("globex") == globex
    assert await uow.tokens.read(globex) == globex_tokens
    assert zoom.revoked == []  # another admin's approval is dropped, not revoked: see finish_activation
    assert await connecting.usable_activation_link(store.uow, TOKEN, NOW) == link


async def test_r13_the_admin_serving_another_organization_approving_again_keeps_that_organization_alive(store, zoom):
    """Zoom ended globex's tokens when its admin approved the admin app again (for acme): globex keeps the new ones."""
    await new_activation_link(store, GLOBEX_OWNER, "g" * 43)
    globex = await activate(store, zoom, "g" * 43, ADMIN_PROFILE)
    link = await new_activation_link(store, OWNER, TOKEN)

    with pytest.raises(ZoomAccountServesAnotherOrganization):
        await activate(store, zoom, TOKEN, ADMIN_PROFILE)

    uow = store.uow()
    assert await uow.connections.organization("acme") is None
    assert await uow.connections.organization("globex") == globex
    assert await uow.tokens.read(globex) == zoom.issued[-1]
    assert zoom.revoked == []
    event = store.audit[-1]
    assert (event.org_id, event.action, event.connection_id, event.actor) == ("globex", "reauthorized", globex.id, "zoom:zu-admin")
    assert await connecting.usable_activation_link(store.uow, TOKEN, NOW) == link


async def test_r3_the_organizations_admin_approving_in_a_second_tab_after_the_first_used_the_link_keeps_the_new_tokens(
    store, zoom
):
    """The link was used while Zoom was asked (so the check before Zoom passed); the approval still ended the
    connection's tokens at Zoom, so it keeps the new ones rather than revoking them."""
    await new_activation_link(store, OWNER, TOKEN)
    first, first_url = await pending_activation(store, zoom, TOKEN)
    second, second_url = await pending_activation(store, zoom, TOKEN, NOW + timedelta(seconds=1))
    connection = await finish(store, zoom, first, zoom.approve(ADMIN_PROFILE, first_url), NOW)
    grant = await connecting.collect_grant(zoom, second, zoom.approve(ADMIN_PROFILE, second_url))

    with pytest.raises(ActivationLinkUsed):
        await connecting.finish_activation(store.uow, zoom, second, grant, NOW)

    assert await store.uow().tokens.read(connection) == zoom.issued[-1]
    assert zoom.revoked == []
    assert actions(store)[-1] == "reauthorized"


# Disconnecting the organization


async def test_r12_r14_disconnecting_the_organization_counts_who_relied_on_it_and_revokes_its_tokens(store, zoom):
    await connect_personal(store, zoom, ADA, ADA_AT_HOME)
    await new_activation_link(store, OWNER, TOKEN)
    connection = await activate(store, zoom, TOKEN, ADMIN_PROFILE)
    tokens = await stored_tokens(store, connection)

    affected = await connecting.disconnect_organization(store.uow, zoom, ADMIN, "acme", NOW)

    # bob is seated; ada is served personally; olga, adam and cy have no Zoom user in the account.
    assert affected == 1
    uow = store.uow()
    assert await uow.connections.organization("acme") is None
    assert await uow.tokens.read(connection) is None
    assert zoom.revoked == [(ZoomApp.ADMIN, tokens)]
    event = store.audit[-1]
    assert (event.action, event.actor, event.connection_id, event.details["affected_members"]) == (
        "disconnected",
        "user:adam",
        connection.id,
        1,
    )
    bob = await integration.my_integration(store.uow, BOB)
    assert (bob.connected, bob.reason) == (False, Reason.ORGANIZATION_NOT_CONNECTED)
    ada = await integration.my_integration(store.uow, ADA)
    assert (ada.connected, ada.type) == (True, ConnectionType.PERSONAL)


async def test_r12_after_disconnecting_the_organization_its_account_can_be_connected_elsewhere(store, zoom):
    await new_activation_link(store, OWNER, TOKEN)
    await activate(store, zoom, TOKEN, ADMIN_PROFILE)
    await connecting.disconnect_organization(store.uow, zoom, OWNER, "acme", NOW)
    await new_activation_link(store, GLOBEX_OWNER, "g" * 43)

    connection = await activate(store, zoom, "g" * 43, ADMIN_PROFILE)

    assert connection.org_id == "globex"


async def test_r1_a_member_cannot_disconnect_the_organization(store, zoom):
    await new_activation_link(store, OWNER, TOKEN)
    connection = await activate(store, zoom, TOKEN, ADMIN_PROFILE)

    with pytest.raises(RoleRequired):
        await connecting.disconnect_organization(store.uow, zoom, ADA, "acme", NOW)

    assert await store.uow().connections.organization("acme") == connection
    assert zoom.revoked == []


async def test_r1_another_organizations_owner_cannot_disconnect_the_organization(store, zoom):
    await new_activation_link(store, OWNER, TOKEN)
    connection = await activate(store, zoom, TOKEN, ADMIN_PROFILE)

    with pytest.raises(OrganizationNotFound):
        await connecting.disconnect_organization(store.uow, zoom, GLOBEX_OWNER, "acme", NOW)

    assert await store.uow().connections.organization("acme") == connection


async def test_disconnecting_an_organization_without_zoom_is_refused(store, zoom):
    with pytest.raises(NotConnected):
        await connecting.disconnect_organization(store.uow, zoom, OWNER, "acme", NOW)


# The OAuth callback as one use case (domain.connecting.complete_zoom_callback)


class Transactions:
    """store.uow, counting the transactions begun and how many are open when Zoom is called."""

    def __init__(self, store: FakeStore) -> None:
        self.store, self.begun, self.open = store, 0, 0

    @contextlib.asynccontextmanager
    async def __call__(self, read_only: bool = False):
        self.begun += 1
        self.open += 1
        try:
            async with self.store.uow(read_only) as tx:
                yield tx
        finally:
            self.open -= 1


class ZoomWatched:
    """FakeZoom, noting for every call how many transactions were open."""

    def __init__(self, zoom: FakeZoom, transactions: Transactions) -> None:
        self.zoom, self.transactions, self.calls = zoom, transactions, []

    def __getattr__(self, name):
        method = getattr(self.zoom, name)

        async def watched(*args):
            self.calls.append((name, self.transactions.open))
            return await method(*args)

        return watched


async def callback_of(store, zoom, token=TOKEN, browser="admin-browser"):
    url = await connecting.start_activation(store.uow, zoom, token, "state-cb", "verifier-cb", browser, NOW)
    return url


async def test_the_activation_callback_takes_the_state_and_link_then_asks_zoom_outside_any_transaction_then_writes_once(
    store, zoom
):
    link = await new_activation_link(store, OWNER, TOKEN)
    code = zoom.approve(ADMIN_PROFILE, await callback_of(store, zoom))
    transactions = Transactions(store)
    watched = ZoomWatched(zoom, transactions)
    cmd = connecting.ZoomCallback(state="state-cb", browser_secret="admin-browser", code=code)

    done = await connecting.complete_zoom_callback(cmd, transactions, watched, FakeClock())

    assert (done.connection_type, done.declined, done.organization_name) == (ConnectionType.ORGANIZATION, False, "Acme")
    assert done.connection == await store.uow().connections.organization("acme")
    assert (await store.uow().activation_links.get("acme", link.id)).used_at == NOW
    assert transactions.begun == 2
    assert [name for name, _ in watched.calls] == ["exchange_code", "me", "account_users"]
    assert all(open_ == 0 for _, open_ in watched.calls)
    with pytest.raises(OAuthStateInvalid):  # the state worked once
        await connecting.complete_zoom_callback(cmd, store.uow, zoom, FakeClock())


async def test_an_activation_callback_for_a_link_revoked_meanwhile_asks_zoom_nothing_and_uses_the_state_up(store, zoom):
    link = await new_activation_link(store, OWNER, TOKEN)
    code = zoom.approve(ADMIN_PROFILE, await callback_of(store, zoom))
    await connecting.revoke_activation_link(store.uow, OWNER, "acme", link.id, NOW)
    cmd = connecting.ZoomCallback(state="state-cb", browser_secret="admin-browser", code=code)

    with pytest.raises(ActivationLinkRevoked):
        await connecting.complete_zoom_callback(cmd, store.uow, zoom, FakeClock())

    assert zoom.issued == []
    assert store.tables.oauth_states == {}


async def test_a_callback_declined_in_zoom_asks_zoom_nothing_and_the_link_still_works(store, zoom):
    link = await new_activation_link(store, OWNER, TOKEN)
    await callback_of(store, zoom)
    cmd = connecting.ZoomCallback(state="state-cb", browser_secret="admin-browser", code=None, declined=True)

    done = await connecting.complete_zoom_callback(cmd, store.uow, zoom, FakeClock())

    assert (done.connection_type, done.declined) == (ConnectionType.ORGANIZATION, True)
    assert zoom.issued == []
    assert await connecting.usable_activation_link(store.uow, TOKEN, NOW) == link


async def test_zoom_failing_a_callback_says_what_the_callback_was_for(store, zoom):
    await new_activation_link(store, OWNER, TOKEN)
    code = zoom.approve(ADMIN_PROFILE, await callback_of(store, zoom))
    zoom.refusing = True
    cmd = connecting.ZoomCallback(state="state-cb", browser_secret="admin-browser", code=code)

    with pytest.raises(connecting.CallbackZoomFailed) as failed:
        await connecting.complete_zoom_callback(cmd, store.uow, zoom, FakeClock())

    assert failed.value.connection_type is ConnectionType.ORGANIZATION and isinstance(failed.value.cause, ZoomRefused)
    assert await store.uow().connections.organization("acme") is None


async def test_the_personal_callback_revokes_the_replaced_tokens_after_its_transaction(store, zoom):
    first = await connect_personal(store, zoom, ADA, ADA_AT_HOME)
    first_tokens = await stored_tokens(store, first)
    await start(store, state="state-again")
    url = await connecting.send_browser_to_zoom(store.uow, zoom, "state-again", "adas-browser", None, NOW)
    transactions = Transactions(store)
    watched = ZoomWatched(zoom, transactions)
    cmd = connecting.ZoomCallback(state="state-again", browser_secret="adas-browser", code=zoom.approve(SHARED_DESK, url))

    done = await connecting.complete_zoom_callback(cmd, transactions, watched, FakeClock())

    assert (done.connection_type, done.connection.zoom_user_id) == (ConnectionType.PERSONAL, "zu-desk")
    assert zoom.revoked == [(ZoomApp.USER, first_tokens)]
    assert [name for name, _ in watched.calls] == ["exchange_code", "me", "revoke"]
    assert all(open_ == 0 for _, open_ in watched.calls)
    assert transactions.begun == 2


# Telling whoever asked for the activation


def told(person, organization, connection, counts) -> dict[str, object]:
    return {"to": person.email, "organization": organization.name, "zoom": connection.zoom_email, "counts": counts}


async def activated_by(store, zoom, profile, requester=OWNER):
    link = await new_activation_link(store, requester, TOKEN)
    code = zoom.approve(profile, await callback_of(store, zoom))
    cmd = connecting.ZoomCallback(state="state-cb", browser_secret="admin-browser", code=code)
    done = await connecting.complete_zoom_callback(cmd, store.uow, zoom, FakeClock())
    [job] = [job for job in store.jobs if job.kind == connecting.TELL_ACTIVATION_DONE]
    assert job.dedupe_key == f"activation-done:{link.id}"
    return done.connection, connecting.ActivationDone(job_id="job-1", **job.payload)


async def test_r3_whoever_asked_for_the_activation_is_told_once_that_zoom_is_connected_and_for_whom(store, zoom):
    connection, notice = await activated_by(store, zoom, ADMIN_PROFILE)

    assert await connecting.tell_activation_done(store.uow, notice, told)
    assert await connecting.tell_activation_done(store.uow, notice, told)  # the job ran again

    [sent] = [job for job in store.jobs if job.kind == "send_email"]
    assert (sent.payload["to"], sent.payload["organization"], sent.payload["zoom"]) == (
        "olga@acme.example", "Acme", "it@acme.example"
    )
    counts = sent.payload["counts"]
    assert (counts.organization, counts.total) == (2, 5)  # ada and bob have a Zoom user with their email
    assert sent.dedupe_key == "job-1:olga"


async def test_r3_the_requester_who_approved_in_zoom_themselves_gets_no_email(store, zoom):
    myself = profile_of(zoom_user("zu-olga", "Olga@acme.example", role_id="0"), "acct-olga")
    zoom.accounts["acct-olga"] = [zoom_user("zu-olga", "olga@acme.example", role_id="0")]
    _, notice = await activated_by(store, zoom, myself)

    assert not await connecting.tell_activation_done(store.uow, notice, told)
    assert [job for job in store.jobs if job.kind == "send_email"] == []


async def test_r3_no_email_once_the_connection_has_moved_on(store, zoom):
    connection, notice = await activated_by(store, zoom, ADMIN_PROFILE)
    async with store.uow() as tx:
        await tx.connections.set_status(connection, ConnectionStatus.ADMIN_LOST, "demoted", NOW)
        await tx.commit()

    assert not await connecting.tell_activation_done(store.uow, notice, told)
    assert [job for job in store.jobs if job.kind == "send_email"] == []
