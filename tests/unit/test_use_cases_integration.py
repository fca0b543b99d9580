"""What owners, admins and members see and decide (R1, R7–R10)."""

from __future__ import annotations

import pytest

from domain import connecting, integration
from domain.errors import (
    MemberNotFound,
    OrganizationNotFound,
    RemovalNotAllowed,
    RoleRequired,
)
from domain.model import (
    ConnectionCounts,
    ConnectionStatus,
    ConnectionType,
    Policy,
    Reason,
    Role,
)
from domain.ports import MembersQuery
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

OWNER = principal("acme", "olga", Role.OWNER)
ADMIN = principal("acme", "adam", Role.ADMIN)
ADA = principal("acme", "ada")
BOB = principal("acme", "bob")
ZOOM_ADMIN = zoom_user("zu-admin", "it@acme.example", role_id="1")
ACCOUNT_USERS = [
    ZOOM_ADMIN,
    zoom_user("zu-olga", "olga@acme.example"),
    zoom_user("zu-ada", "ADA@acme.example"),
    zoom_user("zu-bob", "bob@acme.example"),
]
ADA_AT_HOME = profile_of(zoom_user("zu-ada-home", "ada@home.example"), "acct-ada-home")


@pytest.fixture
def zoom() -> FakeZoom:
    zoom = FakeZoom()
    zoom.accounts["acct-acme"] = ACCOUNT_USERS
    return zoom


@pytest.fixture
async def store() -> FakeStore:
    store = FakeStore()
    await organization_with(
        store, "acme", person("olga", Role.OWNER), person("adam", Role.ADMIN), person("ada"), person("bob"), person("cy")
    )
    await organization_with(store, "globex", person("gina", Role.OWNER))
    return store


@pytest.fixture
async def connected(store, zoom) -> FakeStore:
    """Acme's Zoom connected by its Zoom admin: olga, ada and bob hold seats; adam and cy do not."""
    await new_activation_link(store, OWNER, "token")
    await activate(store, zoom, "token", profile_of(ZOOM_ADMIN, "acct-acme"))
    return store


async def allow_removal(store: FakeStore, allowed: bool = True) -> None:
    await integration.set_policy(store.uow, OWNER, "acme", Policy(allow_members_to_remove=allowed), NOW)


# R1: who may look and decide


@pytest.mark.parametrize(
    "call",
    [
        lambda uow, who: integration.organization_integration(uow, who, "acme"),
        lambda uow, who: integration.list_members(uow, who, MembersQuery(org_id="acme")),
        lambda uow, who: integration.set_policy(uow, who, "acme", Policy(allow_members_to_remove=True), NOW),
    ],
    ids=["organization_integration", "list_members", "set_policy"],
)
async def test_r1_a_member_is_refused_the_organization_settings(store, call):
    with pytest.raises(RoleRequired):
        await call(store.uow, ADA)

    assert (await store.uow().organizations.get("acme")).policy == Policy()


@pytest.mark.parametrize(
    "call",
    [
        lambda uow, who: integration.organization_integration(uow, who, "acme"),
        lambda uow, who: integration.list_members(uow, who, MembersQuery(org_id="acme")),
        lambda uow, who: integration.set_policy(uow, who, "acme", Policy(allow_members_to_remove=True), NOW),
    ],
    ids=["organization_integration", "list_members", "set_policy"],
)
async def test_r1_another_organizations_owner_finds_no_such_organization(store, call):
    with pytest.raises(OrganizationNotFound):
        await call(store.uow, principal("globex", "gina", Role.OWNER))

    assert (await store.uow().organizations.get("acme")).policy == Policy()


@pytest.mark.parametrize("manager", [OWNER, ADMIN], ids=["owner", "admin"])
async def test_r1_owners_and_admins_change_the_policy_and_it_is_recorded(store, manager):
    policy = await integration.set_policy(store.uow, manager, "acme", Policy(allow_members_to_remove=True), NOW)

    assert policy.allow_members_to_remove
    assert (await store.uow().organizations.get("acme")).policy.allow_members_to_remove
    (event,) = store.audit
    assert (event.action, event.actor, event.details) == (
        "policy_changed",
        manager.actor,
        {"allow_members_to_remove": True},
    )


async def test_setting_the_policy_it_already_has_records_nothing(store):
    await integration.set_policy(store.uow, OWNER, "acme", Policy(), NOW)

    assert store.audit == []


# The organization's page


async def test_the_organization_page_without_zoom_says_not_connected(store):
    page = await integration.organization_integration(store.uow, OWNER, "acme")

    assert (page.status, page.zoom_account_id, page.zoom_admin_email) == ("not_connected", None, None)
    assert page.counts == ConnectionCounts(organization=0, personal=0, not_connected=5, total=5)


async def test_the_organization_page_shows_the_connection_and_the_counts(connected, zoom):
    await connect_personal(connected, zoom, ADA, ADA_AT_HOME)

    page = await integration.organization_integration(connected.uow, ADMIN, "acme")

    assert (page.status, page.zoom_account_id, page.zoom_admin_email) == ("active", "acct-acme", "it@acme.example")
    assert page.connected_at == NOW
    assert page.counts == ConnectionCounts(organization=2, personal=1, not_connected=2, total=5)


async def test_r9_the_members_table_gives_type_and_reason(connected, zoom):
    await connect_personal(connected, zoom, ADA, ADA_AT_HOME)

    page = await integration.list_members(connected.uow, OWNER, MembersQuery(org_id="acme"))

    rows = {row.user_id: (row.connected, row.type, row.reason) for row in page.items}
    assert rows == {
        "olga": (True, ConnectionType.ORGANIZATION, None),
        "adam": (False, None, Reason.NO_SEAT),
        "ada": (True, ConnectionType.PERSONAL, None),
        "bob": (True, ConnectionType.ORGANIZATION, None),
        "cy": (False, None, Reason.NO_SEAT),
    }


async def test_r9_the_members_table_filters_by_type(connected, zoom):
    await connect_personal(connected, zoom, ADA, ADA_AT_HOME)

    page = await integration.list_members(connected.uow, OWNER, MembersQuery(org_id="acme", type="organization"))

    assert [row.user_id for row in page.items] == ["bob", "olga"]


async def test_r9_the_members_table_pages_by_name_without_skipping_anyone(connected):
    seen, after = [], None
    while True:
        page = await integration.list_members(connected.uow, OWNER, MembersQuery(org_id="acme", limit=2, after=after))
        seen += [row.name for row in page.items]
        if page.next_after is None:
            break
        after = page.next_after

    assert seen == ["Ada", "Adam", "Bob", "Cy", "Olga"]


async def test_r9_the_members_table_finds_not_connected_members_by_the_start_of_a_word(connected):
    page = await integration.list_members(connected.uow, OWNER, MembersQuery(org_id="acme", connected=False, q="acm"))

    assert [(row.user_id, row.reason) for row in page.items] == [("adam", Reason.NO_SEAT), ("cy", Reason.NO_SEAT)]


# R8: the member's own page


async def test_r8_with_both_connections_only_the_personal_one_is_shown(connected, zoom):
    await connect_personal(connected, zoom, ADA, ADA_AT_HOME)

    mine = await integration.my_integration(connected.uow, ADA)

    assert (mine.connected, mine.type) == (True, ConnectionType.PERSONAL)
    assert mine.personal.zoom_email == "ada@home.example"
    assert mine.organization is None


async def test_r8_after_disconnecting_personal_the_organization_one_appears(connected, zoom):
    await connect_personal(connected, zoom, ADA, ADA_AT_HOME)

    await connecting.disconnect_personal(connected.uow, zoom, ADA, NOW)
    mine = await integration.my_integration(connected.uow, ADA)

    assert (mine.connected, mine.type, mine.personal) == (True, ConnectionType.ORGANIZATION, None)
    assert (mine.organization.status, mine.organization.organization_name) == (ConnectionStatus.ACTIVE, "Acme")
    assert mine.organization.seat_zoom_email == "ada@acme.example"


async def test_r5_a_member_without_a_zoom_user_of_the_account_is_not_connected(connected):
    mine = await integration.my_integration(connected.uow, principal("acme", "cy"))

    assert (mine.connected, mine.reason) == (False, Reason.NO_SEAT)
    assert mine.organization.seat_zoom_email is None


async def test_my_page_without_any_zoom_says_the_organization_is_not_connected(store):
    mine = await integration.my_integration(store.uow, ADA)

    assert (mine.connected, mine.type, mine.reason) == (False, None, Reason.ORGANIZATION_NOT_CONNECTED)
    assert (mine.personal, mine.organization) == (None, None)


async def test_my_page_for_someone_not_provisioned_is_refused(store):
    with pytest.raises(MemberNotFound):
        await integration.my_integration(store.uow, principal("acme", "ghost"))


# R10: removing the organization connection for oneself


async def test_r10_removal_is_refused_while_the_policy_does_not_allow_it_and_nothing_changes(connected):
    audit_before = connected.audit

    with pytest.raises(RemovalNotAllowed):
        await integration.remove_organization_for_me(connected.uow, ADA, NOW)

    assert not (await connected.uow().members.get("acme", "ada")).organization_removed
    assert connected.audit == audit_before
    mine = await integration.my_integration(connected.uow, ADA)
    assert (mine.connected, mine.type, mine.organization_removed) == (True, ConnectionType.ORGANIZATION, False)


async def test_r10_a_member_allowed_to_remove_it_is_no_longer_served_by_the_organization(connected):
    await allow_removal(connected)

    await integration.remove_organization_for_me(connected.uow, ADA, NOW)

    mine = await integration.my_integration(connected.uow, ADA)
    assert (mine.connected, mine.reason, mine.organization_removed) == (False, Reason.ORGANIZATION_REMOVED, True)
    assert connected.audit[-1].action == "organization_removed_by_member"
    assert connected.audit[-1].user_id == "ada"


async def test_r10_when_the_policy_is_turned_off_an_earlier_removal_has_no_effect(connected):
    await allow_removal(connected)
    await integration.remove_organization_for_me(connected.uow, ADA, NOW)

    await allow_removal(connected, False)

    mine = await integration.my_integration(connected.uow, ADA)
    assert (mine.connected, mine.type, mine.reason) == (True, ConnectionType.ORGANIZATION, None)
    assert mine.organization_removed
    page = await integration.list_members(connected.uow, OWNER, MembersQuery(org_id="acme", q="ada"))
    assert [(row.user_id, row.connected, row.type) for row in page.items] == [
        ("ada", True, ConnectionType.ORGANIZATION),
        ("adam", False, None),
    ]


async def test_r10_restoring_serves_the_member_through_the_organization_again(connected):
    await allow_removal(connected)
    await integration.remove_organization_for_me(connected.uow, ADA, NOW)

    await integration.restore_organization_for_me(connected.uow, ADA, NOW)

    mine = await integration.my_integration(connected.uow, ADA)
    assert (mine.connected, mine.type, mine.organization_removed) == (True, ConnectionType.ORGANIZATION, False)
    assert connected.audit[-1].action == "organization_restored_by_member"


async def test_r10_restoring_is_allowed_even_when_removal_no_longer_is(connected):
    await allow_removal(connected)
    await integration.remove_organization_for_me(connected.uow, ADA, NOW)
    await allow_removal(connected, False)

    await integration.restore_organization_for_me(connected.uow, ADA, NOW)

    assert not (await connected.uow().members.get("acme", "ada")).organization_removed


async def test_r10_removing_twice_records_one_event(connected):
    await allow_removal(connected)

    await integration.remove_organization_for_me(connected.uow, ADA, NOW)
    await integration.remove_organization_for_me(connected.uow, ADA, NOW)

    assert [e.action for e in connected.audit].count("organization_removed_by_member") == 1
