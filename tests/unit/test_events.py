"""R24: which changes the host product hears, with what before and after (domain.events over fakes)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import connecting, events, integration, keeping
from domain.errors import InvalidInput
from domain.model import ConnectionStatus, Policy, Role
from domain.ports import MemberFacts, OrganizationFacts
from server.event_delivery import RetryPolicy, allowed_address
from tests.unit.event_fakes import EventFakeStore
from tests.unit.fakes import (
    NOW,
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
ADA, BOB, CY = principal("acme", "ada"), principal("acme", "bob"), principal("acme", "cy")
ZOOM_ADMIN = zoom_user("zu-admin", "it@acme.example", role_id="1")
ACME_ACCOUNT = [ZOOM_ADMIN, zoom_user("zu-ada", "ada@acme.example"), zoom_user("zu-bob", "bob@acme.example")]
ADMIN_PROFILE = profile_of(ZOOM_ADMIN, "acct-acme")
CY_AT_HOME = profile_of(zoom_user("zu-cy-home", "cy@home.example"), "acct-cy-home")

SEATED = MemberFacts(personal=None, has_seat=True, removed_organization=False)
ACTIVE = OrganizationFacts(connection_id="c1", status=ConnectionStatus.ACTIVE, members_may_remove=False)
LOST = OrganizationFacts(connection_id="c1", status=ConnectionStatus.ADMIN_LOST, status_reason="demoted", members_may_remove=False)


@pytest.fixture
def zoom() -> FakeZoom:
    zoom = FakeZoom()
    zoom.accounts["acct-acme"] = ACME_ACCOUNT
    return zoom


@pytest.fixture
async def store(zoom) -> EventFakeStore:
    """Acme connected by its Zoom admin: ada and bob seated, olga (owner) and cy without a seat."""
    store = EventFakeStore()
    await organization_with(store, "acme", person("olga", Role.OWNER), person("ada"), person("bob"), person("cy"))
    await new_activation_link(store, OWNER, "t" * 43)
    await activate(store, zoom, "t" * 43, ADMIN_PROFILE)
    await fan_out(store)
    return store


async def fan_out(store: EventFakeStore, batch: int = 2) -> None:
    for written in list(store.outbox.written):
        if written.fan_out_state in ("pending", "running"):
            while await events.fan_out_batch(store.uow(), written.event.id, batch):
                pass


def changes_of(store: EventFakeStore, member) -> list[tuple[object, object]]:
    """(reason before, reason after) of a member's events, in delivery order."""
    return [
        (e.data["before"]["reason"], e.data["reason"])
        for e in store.outbox.in_delivery_order(events.member_subject(member.user_id))
    ]


def test_r24_a_members_own_change_is_told_against_the_organization_as_it_is():
    removed = MemberFacts(personal=None, has_seat=True, removed_organization=True)
    may_remove = OrganizationFacts(connection_id="c1", status=ConnectionStatus.ACTIVE, members_may_remove=True)
    change = events.MemberChange(user_id="ada", before=SEATED, after=removed)
    (told,) = events.transaction_events("acme", may_remove, may_remove, [change], NOW)
    assert (told.type, told.subject, told.data["reason"], told.data["before"]["connected"]) == (
        "member.connection.changed", "member:ada", "organization_removed", True
    )
    assert told.facts_before == SEATED
    assert events.transaction_events("acme", ACTIVE, ACTIVE, [change], NOW) == [], "R10: removal has no effect while not allowed"


def test_r24_an_organization_change_is_one_event_written_after_its_members_own():
    unseated = MemberFacts(personal=None, has_seat=False, removed_organization=False)
    written = events.transaction_events("acme", ACTIVE, LOST, [events.MemberChange(user_id="ada", before=SEATED, after=unseated)], NOW)
    assert [e.type for e in written] == ["member.connection.changed", "organization.connection.changed"]
    # Ada's seat is told against the organization as it was (active), so the fan-out starts from where it ended.
    assert written[0].data["reason"] == "no_seat" and written[0].data["before"]["reason"] is None
    assert written[1].fan_out == (ACTIVE, LOST)
    assert (written[1].data["status"], written[1].data["before"]["status"], written[1].data["affected_members"]) == (
        "admin_lost", "active", None
    )


def test_r24_fan_out_tells_only_members_whose_effective_connection_moves():
    fan_out = events.FanOut(event_id="e", ordinal=1, org_id="acme", occurred_at=NOW, before=ACTIVE, after=LOST, cursor=None)
    personal = MemberFacts(personal=ConnectionStatus.ACTIVE, has_seat=True, removed_organization=False)
    unseated = MemberFacts(personal=None, has_seat=False, removed_organization=False)
    told = events.fan_out_events(fan_out, [("ada", SEATED), ("cy", personal), ("olga", unseated)])
    assert [(e.subject, e.data["reason"]) for e in told] == [("member:ada", "organization_admin_lost")]
    assert events.affected_members(fan_out, [(SEATED, 40), (personal, 7), (unseated, 3)]) == 40


def test_r24_unknown_event_types_are_refused():
    assert events.check_event_types(["meeting.created", "meeting.created"]) == ["meeting.created"]
    with pytest.raises(InvalidInput) as refused:
        events.check_event_types(["member.connection.changed", "member.deleted"])
    assert "member.deleted" in refused.value.errors["event_types"]


async def test_r24_activation_tells_each_member_what_it_changed(store):
    (connected,) = store.outbox.of_type("organization.connection.changed")
    assert (connected.data["status"], connected.data["before"]["status"], connected.data["affected_members"]) == (
        "active", "not_connected", 4
    )
    assert changes_of(store, ADA) == [("organization_not_connected", None)]
    assert changes_of(store, CY) == [("organization_not_connected", "no_seat")]


async def test_r24_r11_admin_lost_is_one_write_then_one_event_per_relying_member(store, zoom):
    await connect_personal(store, zoom, CY, CY_AT_HOME)
    before = len(store.outbox.written)
    uow = store.uow()
    await keeping.mark_broken(uow, await uow.connections.organization("acme"), ConnectionStatus.ADMIN_LOST, "demoted", "zoom", NOW)
    await uow.commit()
    assert [w.event.type for w in store.outbox.written[before:]] == ["organization.connection.changed"]
    await fan_out(store, batch=1)
    assert store.outbox.of_type("organization.connection.changed")[-1].data["affected_members"] == 2
    assert changes_of(store, ADA)[-1] == (None, "organization_admin_lost")
    assert changes_of(store, BOB)[-1] == (None, "organization_admin_lost")
    assert changes_of(store, CY) == [("organization_not_connected", "no_seat"), ("no_seat", None)], "personal: untouched"


async def test_r24_r7_disconnecting_personal_tells_the_organization_one_applies_again(store, zoom):
    await connect_personal(store, zoom, ADA, profile_of(zoom_user("zu-ada-home", "ada@home.example"), "acct-home"))
    await connecting.disconnect_personal(store.uow, zoom, ADA, NOW)
    told = store.outbox.in_delivery_order("member:ada")
    assert [(e.data["before"]["type"], e.data["type"]) for e in told[-2:]] == [("organization", "personal"), ("personal", "organization")]


async def test_r24_r10_policy_change_fans_out_to_members_who_removed_it(store):
    await integration.set_policy(store.uow, OWNER, "acme", Policy(allow_members_to_remove=True), NOW)
    await fan_out(store)
    await integration.remove_organization_for_me(store.uow, BOB, NOW)
    assert changes_of(store, BOB)[-1] == (None, "organization_removed")
    await integration.set_policy(store.uow, OWNER, "acme", Policy(allow_members_to_remove=False), NOW)
    await fan_out(store)
    assert changes_of(store, BOB)[-1] == ("organization_removed", None), "R10: kept but without effect"
    assert len(store.outbox.in_delivery_order("member:ada")) == 1


async def test_r24_a_fan_out_run_late_tells_what_was_true_at_the_organization_change(store, zoom):
    uow = store.uow()
    await keeping.mark_broken(uow, await uow.connections.organization("acme"), ConnectionStatus.ADMIN_LOST, "demoted", "zoom", NOW)
    await uow.commit()
    await connect_personal(store, zoom, ADA, profile_of(zoom_user("zu-ada-home", "ada@home.example"), "acct-home"))
    await fan_out(store)
    assert changes_of(store, ADA)[-2:] == [(None, "organization_admin_lost"), ("organization_admin_lost", None)]


async def test_r24_nothing_is_told_of_a_transaction_that_does_not_commit(store):
    before = len(store.outbox.written)
    uow = store.uow()
    await keeping.mark_broken(uow, await uow.connections.organization("acme"), ConnectionStatus.ADMIN_LOST, "demoted", "zoom", NOW)
    assert len(store.outbox.written) == before


def test_r24_retries_back_off_exponentially_with_jitter_for_three_days():
    policy = RetryPolicy()
    for attempts in range(1, 40):
        ceiling = min(6 * 3600, 10 * 2 ** (attempts - 1))
        delays = {(policy.next_attempt(attempts, NOW, NOW) - NOW).total_seconds() for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays), (attempts, delays)
        assert len(delays) > 1, "jittered"
    assert policy.next_attempt(60, NOW, NOW + timedelta(days=2, hours=23)) is not None
    assert policy.next_attempt(60, NOW, NOW + timedelta(days=3)) is None


@pytest.mark.parametrize(
    ("address", "allowed"),
    [("93.184.216.34", True), ("10.0.0.1", False), ("172.16.5.4", False), ("192.168.1.1", False), ("169.254.169.254", False),
     ("100.64.0.1", False), ("0.0.0.0", False), ("::1", False), ("fe80::1", False), ("fd00::1", False),
     ("::ffff:10.0.0.1", False), ("2606:4700::1111", True), ("127.0.0.1", False), ("224.0.0.1", False)],
)
def test_r24_events_never_go_to_a_private_address(address, allowed):
    assert allowed_address(address, allow_loopback=False) is allowed


def test_r24_loopback_only_where_allowed():
    assert allowed_address("127.0.0.1", allow_loopback=True) and allowed_address("::1", allow_loopback=True)
    assert not allowed_address("10.0.0.1", allow_loopback=True)
