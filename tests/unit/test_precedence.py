"""R6–R10 over every combination of the inputs of the precedence rule."""

from __future__ import annotations

import itertools

import pytest

from domain.model import ConnectionStatus, ConnectionType, Reason
from domain.precedence import effective_connection

BROKEN = (ConnectionStatus.NEEDS_RECONNECT, ConnectionStatus.DEAUTHORIZED)
PERSONAL = (None, ConnectionStatus.ACTIVE, *BROKEN)
ORGANIZATION = (None, *ConnectionStatus)
COMBINATIONS = list(itertools.product(PERSONAL, ORGANIZATION, (True, False), (True, False), (True, False)))
ORGANIZATION_BROKEN_REASONS = {
    ConnectionStatus.ADMIN_LOST: Reason.ORGANIZATION_ADMIN_LOST,
    ConnectionStatus.NEEDS_RECONNECT: Reason.ORGANIZATION_NEEDS_RECONNECT,
    ConnectionStatus.DEAUTHORIZED: Reason.ORGANIZATION_DEAUTHORIZED,
}


def decide(personal, organization, seat, removed, allowed):
    return effective_connection(
        personal=personal,
        organization=organization,
        has_seat=seat,
        removed_organization=removed,
        members_may_remove=allowed,
    )


def test_the_table_covers_every_combination():
    # personal none/active/broken(2) × organization none + 4 statuses × seat × removed × policy
    assert len(COMBINATIONS) == 4 * 5 * 2 * 2 * 2


@pytest.mark.parametrize("organization, seat, removed, allowed", list(itertools.product(ORGANIZATION, *[(True, False)] * 3)))
def test_r7_active_personal_wins_over_everything(organization, seat, removed, allowed):
    result = decide(ConnectionStatus.ACTIVE, organization, seat, removed, allowed)
    assert (result.connected, result.type, result.reason) == (True, ConnectionType.PERSONAL, None)


@pytest.mark.parametrize(
    "personal, organization, seat, removed, allowed",
    [c for c in COMBINATIONS if c[0] in BROKEN],
)
def test_r7_broken_personal_still_takes_precedence(personal, organization, seat, removed, allowed):
    result = decide(personal, organization, seat, removed, allowed)
    assert (result.connected, result.type, result.reason) == (
        False,
        ConnectionType.PERSONAL,
        Reason.PERSONAL_NEEDS_RECONNECT,
    )


@pytest.mark.parametrize("seat, removed, allowed", list(itertools.product(*[(True, False)] * 3)))
def test_r7_without_any_connection_nobody_is_connected(seat, removed, allowed):
    result = decide(None, None, seat, removed, allowed)
    assert (result.connected, result.type, result.reason) == (False, None, Reason.ORGANIZATION_NOT_CONNECTED)


@pytest.mark.parametrize("removed, allowed", [(False, False), (False, True), (True, False)])
def test_r7_seated_member_is_served_by_live_organization(removed, allowed):
    """R10: while the policy forbids removal, an earlier removal has no effect."""
    result = decide(None, ConnectionStatus.ACTIVE, True, removed, allowed)
    assert (result.connected, result.type, result.reason) == (True, ConnectionType.ORGANIZATION, None)


@pytest.mark.parametrize("organization, seat", list(itertools.product(ConnectionStatus, (True, False))))
def test_r10_removal_allowed_by_policy_takes_the_organization_away(organization, seat):
    result = decide(None, organization, seat, True, True)
    assert (result.connected, result.type, result.reason) == (False, None, Reason.ORGANIZATION_REMOVED)


@pytest.mark.parametrize(
    "organization, removed, allowed",
    [
        (organization, removed, allowed)
        for organization, removed, allowed in itertools.product(ConnectionStatus, (True, False), (True, False))
        if not (removed and allowed)
    ],
)
def test_r5_member_without_seat_is_not_connected(organization, removed, allowed):
    result = decide(None, organization, False, removed, allowed)
    assert (result.connected, result.type, result.reason) == (False, None, Reason.NO_SEAT)


@pytest.mark.parametrize(
    "organization, removed, allowed",
    [
        (organization, removed, allowed)
        for organization, removed, allowed in itertools.product(BROKEN + (ConnectionStatus.ADMIN_LOST,), (True, False), (True, False))
        if not (removed and allowed)
    ],
)
def test_r11_r12_broken_organization_leaves_seated_members_not_connected_with_its_reason(organization, removed, allowed):
    result = decide(None, organization, True, removed, allowed)
    assert (result.connected, result.type, result.reason) == (
        False,
        ConnectionType.ORGANIZATION,
        ORGANIZATION_BROKEN_REASONS[organization],
    )


def test_r6_r7_removing_personal_brings_the_organization_back_at_once():
    with_personal = decide(ConnectionStatus.ACTIVE, ConnectionStatus.ACTIVE, True, False, False)
    without = decide(None, ConnectionStatus.ACTIVE, True, False, False)
    assert with_personal.type is ConnectionType.PERSONAL
    assert (without.connected, without.type) == (True, ConnectionType.ORGANIZATION)


def test_connected_exactly_when_there_is_no_reason():
    for combination in COMBINATIONS:
        result = decide(*combination)
        assert result.connected == (result.reason is None), combination
