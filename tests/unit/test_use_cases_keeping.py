"""Keeping connections true: Zoom's events, periodic verification, one incident per cause (R5, R7, R11, R12, R14, R18)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import connecting, integration, keeping
from domain.errors import ZoomRefused, ZoomScopesMissing, ZoomUserNotFound
from domain.model import ConnectionStatus, ConnectionType, Reason, Role
from domain.zoom import ZoomApp, ZoomEvent
from tests.unit.fakes import (
    NOW,
    FakeStore,
    FakeZoom,
    activate,
    connect_personal,
    new_activation_link,
    organization_with,
    person,
    principal,
    profile_of,
    zoom_user,
)

LATER = NOW + timedelta(hours=1)
OWNER = principal("acme", "olga", Role.OWNER)
ADA = principal("acme", "ada")
BOB = principal("acme", "bob")
CY = principal("acme", "cy")
ZOOM_ADMIN = zoom_user("zu-admin", "it@acme.example", role_id="1")
ACME_ACCOUNT = [
    ZOOM_ADMIN,
    zoom_user("zu-owner", "boss@acme.example", role_id="0"),
    zoom_user("zu-ada", "ada@acme.example"),
    zoom_user("zu-bob", "bob@acme.example"),
]
ADMIN_PROFILE = profile_of(ZOOM_ADMIN, "acct-acme")
CY_AT_HOME = profile_of(zoom_user("zu-cy-home", "cy@home.example"), "acct-cy-home")


@pytest.fixture
def zoom() -> FakeZoom:
    zoom = FakeZoom()
    zoom.accounts["acct-acme"] = ACME_ACCOUNT
    return zoom


@pytest.fixture
async def store(zoom) -> FakeStore:
    """Acme's Zoom connected by its Zoom admin (ada and bob seated); cy is connected personally."""
    store = FakeStore()
    await organization_with(store, "acme", person("olga", Role.OWNER), person("ada"), person("bob"), person("cy"))
    await new_activation_link(store, OWNER, "t" * 43)
    await activate(store, zoom, "t" * 43, ADMIN_PROFILE)
    await connect_personal(store, zoom, CY, CY_AT_HOME)
    return store


def admin_event(event: str, zoom_user_id: str = "zu-admin", account_id: str = "acct-acme", **object_) -> ZoomEvent:
    return ZoomEvent(
        event=event,
        app=ZoomApp.ADMIN,
        account_id=account_id,
        zoom_user_id=zoom_user_id,
        object={"id": zoom_user_id, **object_},
    )


async def organization(store: FakeStore):
    return await store.uow().connections.organization("acme")


async def personal(store: FakeStore, who):
    return await store.uow().connections.personal(who.org_id, who.user_id)


async def handle(store: FakeStore, event: ZoomEvent, now=LATER) -> None:
    await keeping.handle_zoom_event(store.uow(), event, now)


async def seated(store: FakeStore, who) -> bool:
    mine = await integration.my_integration(store.uow, who)
    return mine.reason is not Reason.NO_SEAT


def incidents(store: FakeStore) -> list[tuple[str, str | None]]:
    """The audit trail after the fixture's connections were made: (action, actor)."""
    return [(e.action, e.actor) for e in store.audit if e.at >= LATER]


def notifications(store: FakeStore) -> list[dict[str, object]]:
    return [job.payload for job in store.jobs if job.kind == keeping.NOTIFY_INCIDENT]


async def mark(store: FakeStore, connection, status: ConnectionStatus, now=LATER) -> bool:
    uow = store.uow()
    news = await keeping.mark_broken(uow, connection, status, f"because {status.value}", "test", now)
    await uow.commit()
    return news


# R11 through Zoom's events


async def test_r11_the_activating_admin_made_a_member_loses_the_organization_connection(store):
    connection = await organization(store)

    await handle(store, admin_event("user.updated", role="Member"))

    after = await organization(store)
    assert (after.status, after.status_changed_at) == (ConnectionStatus.ADMIN_LOST, LATER)
    assert "Member" in after.status_reason
    assert incidents(store) == [("admin_lost", "zoom:webhook")]
    assert notifications(store) == [
        {"org_id": "acme", "connection_id": connection.id, "status": "admin_lost", "reason": after.status_reason}
    ]
    ada = await integration.my_integration(store.uow, ADA)
    assert (ada.connected, ada.type, ada.reason) == (False, ConnectionType.ORGANIZATION, Reason.ORGANIZATION_ADMIN_LOST)


async def test_r11_the_same_admin_lost_event_twice_is_one_incident(store):
    event = admin_event("user.updated", role="Member")

    await handle(store, event)
    await handle(store, event, LATER + timedelta(minutes=1))

    assert (await organization(store)).status_changed_at == LATER
    assert incidents(store) == [("admin_lost", "zoom:webhook")]
    assert len(notifications(store)) == 1


@pytest.mark.parametrize("event", ["user.deactivated", "user.deleted", "user.disassociated"])
async def test_r11_the_activating_admin_gone_from_zoom_loses_the_organization_connection(store, event):
    await handle(store, admin_event(event))

    assert (await organization(store)).status is ConnectionStatus.ADMIN_LOST
    assert incidents(store) == [("admin_lost", "zoom:webhook")]
    assert len(notifications(store)) == 1


async def test_r11_personal_connections_are_unaffected_when_the_admin_is_lost(store):
    before = await personal(store, CY)

    await handle(store, admin_event("user.deactivated"))

    assert await personal(store, CY) == before
    cy = await integration.my_integration(store.uow, CY)
    assert (cy.connected, cy.type) == (True, ConnectionType.PERSONAL)


@pytest.mark.parametrize("role", ["Admin", "Owner"])
async def test_r11_the_activating_admin_keeping_an_admin_role_changes_nothing(store, role):
    await handle(store, admin_event("user.updated", role=role))

    assert (await organization(store)).status is ConnectionStatus.ACTIVE
    assert (incidents(store), notifications(store)) == ([], [])


async def test_r11_the_activating_admin_changing_only_their_email_changes_nothing(store):
    await handle(store, admin_event("user.updated", email="helpdesk@acme.example"))

    assert (await organization(store)).status is ConnectionStatus.ACTIVE
    assert incidents(store) == []


async def test_r11_a_new_activation_by_another_zoom_admin_restores_the_organization_connection(store, zoom):
    await handle(store, admin_event("user.deactivated"))
    await new_activation_link(store, OWNER, "u" * 43, LATER)

    await activate(store, zoom, "u" * 43, profile_of(ACME_ACCOUNT[1], "acct-acme"), LATER)

    after = await organization(store)
    assert (after.status, after.zoom_user_id) == (ConnectionStatus.ACTIVE, "zu-owner")
    ada = await integration.my_integration(store.uow, ADA)
    assert (ada.connected, ada.type) == (True, ConnectionType.ORGANIZATION)


# R5 through Zoom's events: only the seat of the user the event is about changes


@pytest.mark.parametrize("event", ["user.deactivated", "user.deleted", "user.disassociated"])
async def test_r5_another_zoom_user_leaving_only_takes_their_seat(store, event):
    await handle(store, admin_event(event, "zu-ada"))

    assert not await seated(store, ADA)
    assert await seated(store, BOB)
    assert (await organization(store)).status is ConnectionStatus.ACTIVE
    assert (incidents(store), notifications(store)) == ([], [])


async def test_r5_a_reactivated_zoom_user_gets_their_seat_back(store):
    await handle(store, admin_event("user.deactivated", "zu-ada"))

    await handle(store, admin_event("user.activated", "zu-ada"))

    assert await seated(store, ADA)


async def test_r5_a_new_zoom_user_seats_the_member_with_their_email(store):
    await organization_with(store, "acme", person("dee"))
    dee = principal("acme", "dee")
    assert not await seated(store, dee)

    await handle(store, admin_event("user.created", "zu-dee", email="Dee@Acme.example"))

    assert await seated(store, dee)


async def test_r5_a_zoom_user_changing_email_moves_the_seat(store):
    await organization_with(store, "acme", person("dee"))

    await handle(store, admin_event("user.updated", "zu-ada", email="dee@acme.example"))

    assert not await seated(store, ADA)
    assert await seated(store, principal("acme", "dee"))
    assert (await organization(store)).status is ConnectionStatus.ACTIVE


async def test_events_about_an_account_no_organization_connected_are_ignored(store):
    before = await organization(store)

    await handle(store, admin_event("user.deactivated", "zu-admin", account_id="acct-elsewhere"))
    await handle(store, admin_event("user.deleted", "zu-ada", account_id="acct-elsewhere"))
    await handle(
        store, ZoomEvent(event="app_deauthorized", app=ZoomApp.ADMIN, account_id="acct-elsewhere", zoom_user_id="zu-x")
    )

    assert await organization(store) == before
    assert await seated(store, ADA)
    assert (incidents(store), notifications(store)) == ([], [])


async def test_user_events_sent_to_the_personal_app_are_not_about_the_organization(store):
    event = ZoomEvent(event="user.deactivated", app=ZoomApp.USER, account_id="acct-acme", zoom_user_id="zu-admin")

    await handle(store, event)

    assert (await organization(store)).status is ConnectionStatus.ACTIVE
    assert incidents(store) == []


# R12, R14: the app removed in Zoom


async def test_r12_r14_the_admin_app_removed_in_zoom_deauthorizes_the_organization_and_forgets_its_tokens(store):
    connection = await organization(store)
    cy_tokens = await store.uow().tokens.read(await personal(store, CY))

    await handle(
        store, ZoomEvent(event="app_deauthorized", app=ZoomApp.ADMIN, account_id="acct-acme", zoom_user_id="zu-admin")
    )

    after = await organization(store)
    assert after.status is ConnectionStatus.DEAUTHORIZED
    assert await store.uow().tokens.read(connection) is None
    assert await store.uow().tokens.read(await personal(store, CY)) == cy_tokens
    assert incidents(store) == [("deauthorized", "zoom:webhook")]
    assert [n["status"] for n in notifications(store)] == ["deauthorized"]
    bob = await integration.my_integration(store.uow, BOB)
    assert (bob.connected, bob.reason) == (False, Reason.ORGANIZATION_DEAUTHORIZED)


async def test_r7_r14_the_personal_app_removed_in_zoom_deauthorizes_only_that_members_connection(store):
    connection = await personal(store, CY)

    await handle(
        store, ZoomEvent(event="app_deauthorized", app=ZoomApp.USER, account_id="acct-cy-home", zoom_user_id="zu-cy-home")
    )

    assert (await personal(store, CY)).status is ConnectionStatus.DEAUTHORIZED
    assert await store.uow().tokens.read(connection) is None
    assert (await organization(store)).status is ConnectionStatus.ACTIVE
    (event,) = [e for e in store.audit if e.action == "deauthorized"]
    assert (event.connection_id, event.user_id) == (connection.id, "cy")
    cy = await integration.my_integration(store.uow, CY)
    assert (cy.connected, cy.type, cy.reason) == (False, ConnectionType.PERSONAL, Reason.PERSONAL_NEEDS_RECONNECT)


async def test_r12_the_same_deauthorization_twice_is_one_incident(store):
    event = ZoomEvent(event="app_deauthorized", app=ZoomApp.ADMIN, account_id="acct-acme", zoom_user_id="zu-admin")

    await handle(store, event)
    await handle(store, event, LATER + timedelta(minutes=1))

    assert (await organization(store)).status_changed_at == LATER
    assert incidents(store) == [("deauthorized", "zoom:webhook")]
    assert len(notifications(store)) == 1


async def test_r12_the_app_removed_after_the_admin_was_lost_is_a_new_incident(store):
    connection = await organization(store)
    await handle(store, admin_event("user.deactivated"))

    await handle(
        store, ZoomEvent(event="app_deauthorized", app=ZoomApp.ADMIN, account_id="acct-acme", zoom_user_id="zu-admin")
    )

    assert (await organization(store)).status is ConnectionStatus.DEAUTHORIZED
    assert await store.uow().tokens.read(connection) is None
    assert [action for action, _ in incidents(store)] == ["admin_lost", "deauthorized"]
    assert [n["status"] for n in notifications(store)] == ["admin_lost", "deauthorized"]


# R11 by periodic verification


async def test_r11_verification_finding_the_admin_no_longer_admin_loses_the_organization_connection(store, zoom):
    connection = await organization(store)
    demoted = profile_of(zoom_user("zu-admin", "it@acme.example", role_id="2"), "acct-acme")

    await keeping.apply_verification(store.uow(), connection, demoted, None, LATER)

    after = await organization(store)
    assert (after.status, after.last_verified_at) == (ConnectionStatus.ADMIN_LOST, LATER)
    assert "it@acme.example" in after.status_reason
    assert incidents(store) == [("admin_lost", "system:verification")]
    assert len(notifications(store)) == 1


async def test_r11_verification_finding_the_admin_deactivated_says_so(store):
    connection = await organization(store)
    deactivated = profile_of(zoom_user("zu-admin", "it@acme.example", role_id="1", status="inactive"), "acct-acme")

    await keeping.apply_verification(store.uow(), connection, deactivated, None, LATER)

    after = await organization(store)
    assert after.status is ConnectionStatus.ADMIN_LOST
    assert "inactive" in after.status_reason


async def test_r11_verification_finding_the_admin_admin_again_recovers_the_connection(store):
    await handle(store, admin_event("user.updated", role="Member"))
    lost = await organization(store)

    await keeping.apply_verification(store.uow(), lost, ADMIN_PROFILE, ACME_ACCOUNT, LATER + timedelta(hours=1))

    after = await organization(store)
    assert (after.status, after.status_reason) == (ConnectionStatus.ACTIVE, None)
    assert [action for action, _ in incidents(store)] == ["admin_lost", "recovered"]
    assert store.audit[-1].actor == "system:verification"
    ada = await integration.my_integration(store.uow, ADA)
    assert (ada.connected, ada.type) == (True, ConnectionType.ORGANIZATION)


async def test_r11_verification_of_a_healthy_connection_records_only_that_it_was_verified(store):
    connection = await organization(store)

    await keeping.apply_verification(store.uow(), connection, ADMIN_PROFILE, ACME_ACCOUNT, LATER)

    after = await organization(store)
    assert (after.status, after.last_verified_at) == (ConnectionStatus.ACTIVE, LATER)
    assert (incidents(store), notifications(store)) == ([], [])


async def test_r5_verification_resyncs_the_accounts_users_and_seats_follow(store, zoom):
    await organization_with(store, "acme", person("dee"))
    connection = await organization(store)
    now_listed = [ZOOM_ADMIN, zoom_user("zu-bob", "bob@acme.example"), zoom_user("zu-dee", "dee@acme.example")]

    await keeping.apply_verification(store.uow(), connection, ADMIN_PROFILE, now_listed, LATER)

    assert not await seated(store, ADA)
    assert await seated(store, BOB)
    assert await seated(store, principal("acme", "dee"))


async def test_r11_verification_of_a_deauthorized_connection_does_not_recover_it(store):
    await handle(
        store, ZoomEvent(event="app_deauthorized", app=ZoomApp.ADMIN, account_id="acct-acme", zoom_user_id="zu-admin")
    )

    await keeping.apply_verification(store.uow(), await organization(store), ADMIN_PROFILE, None, LATER)

    assert (await organization(store)).status is ConnectionStatus.DEAUTHORIZED
    assert "recovered" not in [action for action, _ in incidents(store)]


# One incident per cause


async def test_r18_marking_a_connection_broken_is_one_recorded_incident(store):
    connection = await organization(store)

    news = await mark(store, connection, ConnectionStatus.NEEDS_RECONNECT)

    assert news
    assert (await organization(store)).status is ConnectionStatus.NEEDS_RECONNECT
    assert await store.uow().tokens.read(connection) is None
    assert incidents(store) == [("needs_reconnect", "test")]
    assert len(notifications(store)) == 1


async def test_marking_a_connection_broken_the_same_way_twice_is_no_new_incident(store):
    connection = await organization(store)
    await mark(store, connection, ConnectionStatus.ADMIN_LOST)

    news = await mark(store, connection, ConnectionStatus.ADMIN_LOST, LATER + timedelta(minutes=5))

    assert not news
    assert (await organization(store)).status_changed_at == LATER
    assert len(incidents(store)) == len(notifications(store)) == 1


async def test_an_already_broken_connection_breaking_for_another_reason_is_no_new_incident(store):
    connection = await organization(store)
    await mark(store, connection, ConnectionStatus.ADMIN_LOST)

    news = await mark(store, connection, ConnectionStatus.NEEDS_RECONNECT)

    assert not news
    assert (await organization(store)).status is ConnectionStatus.ADMIN_LOST
    assert [action for action, _ in incidents(store)] == ["admin_lost"]
    assert len(notifications(store)) == 1


async def test_r12_deauthorization_of_an_already_broken_connection_is_a_new_incident(store):
    connection = await organization(store)
    await mark(store, connection, ConnectionStatus.NEEDS_RECONNECT)

    news = await mark(store, connection, ConnectionStatus.DEAUTHORIZED)

    assert news
    assert (await organization(store)).status is ConnectionStatus.DEAUTHORIZED
    assert [action for action, _ in incidents(store)] == ["needs_reconnect", "deauthorized"]
    assert len(notifications(store)) == 2


async def test_marking_a_connection_that_has_ended_broken_does_nothing(store, zoom):
    connection = await personal(store, CY)
    await connecting.disconnect_personal(store.uow, zoom, CY, NOW)

    news = await mark(store, connection, ConnectionStatus.NEEDS_RECONNECT)

    assert not news
    assert (incidents(store), notifications(store)) == ([], [])



async def test_r5_a_zoom_user_invited_by_email_has_no_seat_until_they_accept(store):
    """Zoom's `creation_type` "create" invites by email: the user stays pending until they accept."""
    await organization_with(store, "acme", person("dee"))
    dee = principal("acme", "dee")

    await handle(store, admin_event("user.created", "zu-dee", email="dee@acme.example", creation_type="create"))
    assert not await seated(store, dee)

    await handle(store, admin_event("user.invitation_accepted", "zu-dee"))
    assert await seated(store, dee)


async def test_r11_the_lost_admin_made_admin_again_asks_for_a_verification_not_a_blind_restore(store):
    lost = await organization(store)
    await mark(store, lost, ConnectionStatus.ADMIN_LOST)

    await handle(store, admin_event("user.updated", role="Admin"))

    assert (await organization(store)).status is ConnectionStatus.ADMIN_LOST
    assert [job.payload for job in store.jobs if job.kind == keeping.VERIFY_ORGANIZATION] == [
        {"org_id": "acme", "connection_id": lost.id}
    ]


# What Zoom's refusals of verification mean (its error code decides the fix)


async def test_missing_scopes_need_a_reconnect_that_approves_them(store):
    connection = await organization(store)
    refused = ZoomScopesMissing("Zoom refused /users: the connection lacks a permission (user:read:admin).", zoom_code=4711)

    assert await keeping.apply_refusal(store.uow(), connection, refused, LATER)

    after = await organization(store)
    assert (after.status, after.status_reason) == (ConnectionStatus.NEEDS_RECONNECT, refused.detail)
    assert store.audit[-1].action == "needs_reconnect"


async def test_r11_a_zoom_admin_who_no_longer_exists_is_an_admin_lost(store):
    connection = await organization(store)

    assert await keeping.apply_refusal(store.uow(), connection, ZoomUserNotFound("gone", zoom_code=1001), LATER)

    after = await organization(store)
    assert after.status is ConnectionStatus.ADMIN_LOST
    assert "no longer exists" in after.status_reason
    assert await store.uow().tokens.read(after) is not None  # another admin's activation restores it


async def test_other_refusals_change_nothing(store):
    connection = await organization(store)

    assert not await keeping.apply_refusal(store.uow(), connection, ZoomRefused("odd", zoom_code=300), LATER)

    assert await organization(store) == connection


# R11 by periodic verification, the whole flow (domain.keeping.verify_organization)


class ConnectedAcme:
    """Zoom as the organization's connection reaches it: who its token belongs to, and the account's users."""

    def __init__(self, admin=ADMIN_PROFILE, users=ACME_ACCOUNT, refusal: Exception | None = None) -> None:
        self.admin, self.users, self.refusal = admin, list(users), refusal
        self.listed = 0

    async def me(self, connection):
        if self.refusal is not None:
            raise self.refusal
        return self.admin

    async def account_users(self, connection, on_page=None):
        self.listed += 1
        if on_page is not None:
            on_page(len(self.users), len(self.users))
        return self.users


async def test_r11_verifying_finds_the_admin_demoted_and_lists_no_seats(store):
    zoom = ConnectedAcme(admin=profile_of(zoom_user("zu-admin", "it@acme.example", role_id="2"), "acct-acme"))

    await keeping.verify_organization(store.uow, zoom, "acme", lambda: LATER)

    after = await organization(store)
    assert (after.status, after.last_verified_at) == (ConnectionStatus.ADMIN_LOST, LATER)
    assert zoom.listed == 0, "an admin no more: the account's users are not read with their token"
    assert incidents(store) == [("admin_lost", "system:verification")]


async def test_r5_verifying_resyncs_the_seats_and_reports_its_pages(store):
    pages: list[tuple[int, int]] = []
    zoom = ConnectedAcme(users=[u for u in ACME_ACCOUNT if u.zoom_user_id != "zu-bob"])

    await keeping.verify_organization(store.uow, zoom, "acme", lambda: LATER, lambda listed, total: pages.append((listed, total)))

    assert await seated(store, ADA) and not await seated(store, BOB)
    assert pages == [(3, 3)] and (await organization(store)).last_verified_at == LATER


@pytest.mark.parametrize(
    ("refusal", "status"),
    [
        (ZoomUserNotFound("User does not exist", zoom_code=1001), ConnectionStatus.ADMIN_LOST),
        (ZoomScopesMissing("Zoom refused: the grant lacks user:read:admin", zoom_code=4711), ConnectionStatus.NEEDS_RECONNECT),
    ],
)
async def test_r11_a_refusal_that_says_what_is_wrong_breaks_the_connection_with_it(store, refusal, status):
    await keeping.verify_organization(store.uow, ConnectedAcme(refusal=refusal), "acme", lambda: LATER)

    assert (await organization(store)).status is status


async def test_a_refusal_that_is_not_the_connections_fault_changes_nothing_and_is_raised_for_a_retry(store):
    with pytest.raises(ZoomRefused):
        await keeping.verify_organization(store.uow, ConnectedAcme(refusal=ZoomRefused("Internal error", zoom_code=5000)), "acme", lambda: LATER)

    after = await organization(store)
    assert after.status is ConnectionStatus.ACTIVE and after.last_verified_at != LATER
    assert incidents(store) == []


async def test_who_is_told_of_an_incident_the_member_for_their_own_the_managers_for_the_organizations(store):
    organization_connection = await organization(store)
    cy_connection = await personal(store, CY)

    async with store.uow() as tx:
        managers = await keeping.incident_recipients(tx, organization_connection)
        cy = await keeping.incident_recipients(tx, cy_connection)

    assert [m.user_id for m in managers] == ["olga"]
    assert [m.user_id for m in cy] == ["cy"]


# The worker's periodic verification (domain.keeping.ask_for_verification, verify_all)


async def test_each_tick_asks_for_one_verification_round_however_many_workers_tick(store):
    await keeping.ask_for_verification(store.uow)
    await keeping.ask_for_verification(store.uow)

    assert [job.kind for job in store.jobs if job.kind == keeping.VERIFY_ALL] == [keeping.VERIFY_ALL]


async def test_a_verification_round_verifies_each_live_organization_and_keeps_tokens_alive(store):
    connection = await organization(store)

    assert await keeping.verify_all(store.uow) == 1

    queued = [(job.kind, job.payload) for job in store.jobs if job.kind != keeping.NOTIFY_INCIDENT]
    assert (keeping.VERIFY_ORGANIZATION, {"org_id": "acme", "connection_id": connection.id}) in queued
    assert (keeping.KEEP_TOKENS_ALIVE, {}) in queued and (keeping.PURGE_EXPIRED, {}) in queued


async def test_a_verification_round_leaves_out_an_organization_whose_app_was_removed(store):
    await handle(store, ZoomEvent(event="app_deauthorized", app=ZoomApp.ADMIN, account_id="acct-acme", zoom_user_id="zu-admin"))

    assert await keeping.verify_all(store.uow) == 0
    assert [job for job in store.jobs if job.kind == keeping.VERIFY_ORGANIZATION] == []


class DemotedMidway(ConnectedAcme):
    """The admin demoted between `me` and the user list: Zoom refuses a member the list (missing admin scopes)."""

    def __init__(self, still_admin_when_asked_again: bool = False) -> None:
        super().__init__()
        self.answers = [ADMIN_PROFILE, ADMIN_PROFILE if still_admin_when_asked_again else profile_of(
            zoom_user("zu-admin", "it@acme.example", role_id="2"), "acct-acme"
        )]

    async def me(self, connection):
        return self.answers.pop(0)

    async def account_users(self, connection, on_page=None):
        raise ZoomScopesMissing("Zoom refused: the grant lacks user:read:admin", zoom_code=4711)


async def test_r11_an_admin_demoted_between_the_two_calls_is_admin_lost_not_a_reconnect(store):
    await keeping.verify_organization(store.uow, DemotedMidway(), "acme", lambda: LATER)

    after = await organization(store)
    assert after.status is ConnectionStatus.ADMIN_LOST
    assert incidents(store) == [("admin_lost", "system:verification")]


async def test_r11_scopes_missing_while_still_an_admin_is_a_reconnect(store):
    await keeping.verify_organization(store.uow, DemotedMidway(still_admin_when_asked_again=True), "acme", lambda: LATER)

    assert (await organization(store)).status is ConnectionStatus.NEEDS_RECONNECT
