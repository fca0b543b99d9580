"""R21: what an owner or admin is told to do about a session that needs attention, from its host's Zoom now."""

from __future__ import annotations

import pytest

from domain import connecting
from domain.attention import Fix, HostFix, fix_for, fixes_for_hosts
from domain.model import Reason, Role
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
from tests.unit.meeting_fakes import MeetingStore

OWNER = principal("acme", "olga", Role.OWNER)
ZOOM_ADMIN = zoom_user("zu-admin", "it@acme.example", role_id="1")


@pytest.fixture
def zoom() -> FakeZoom:
    zoom = FakeZoom()
    zoom.accounts["acct-acme"] = [ZOOM_ADMIN, zoom_user("zu-ada", "ada@acme.example")]
    return zoom


@pytest.fixture
async def store(zoom) -> MeetingStore:
    """Acme's Zoom connected with ada seated; cy has their own Zoom; dee has no seat."""
    store = MeetingStore()
    await organization_with(store, "acme", person("olga", Role.OWNER), person("ada"), person("cy"), person("dee"))
    await new_activation_link(store, OWNER, "t" * 43)
    await activate(store, zoom, "t" * 43, profile_of(ZOOM_ADMIN, "acct-acme"))
    await connect_personal(store, zoom, principal("acme", "cy"), profile_of(zoom_user("zu-cy", "cy@home.example"), "acct-cy"))
    return store


@pytest.mark.parametrize(
    ("reason", "fix"),
    [
        (None, Fix.HOST_RECREATES),
        (Reason.ORGANIZATION_NOT_CONNECTED, Fix.CONNECT_ORGANIZATION),
        (Reason.ORGANIZATION_ADMIN_LOST, Fix.CONNECT_ORGANIZATION),
        (Reason.ORGANIZATION_NEEDS_RECONNECT, Fix.CONNECT_ORGANIZATION),
        (Reason.ORGANIZATION_DEAUTHORIZED, Fix.CONNECT_ORGANIZATION),
        (Reason.PERSONAL_NEEDS_RECONNECT, Fix.HOST_RECONNECTS_PERSONAL),
        (Reason.NO_SEAT, Fix.HOST_NEEDS_SEAT),
        (Reason.ORGANIZATION_REMOVED, Fix.HOST_RESTORES_ORGANIZATION),
    ],
)
def test_r21_every_reason_a_host_has_no_zoom_has_its_fix(reason, fix):
    assert fix_for(reason) is fix


async def test_r21_hosts_with_zoom_recreate_the_others_get_their_connection_fixed(store):
    fixes = await fixes_for_hosts(store.uow, "acme", {"ada", "cy", "dee", "gone"})

    assert fixes == {
        "ada": HostFix(fix=Fix.HOST_RECREATES, reason=None),
        "cy": HostFix(fix=Fix.HOST_RECREATES, reason=None),
        "dee": HostFix(fix=Fix.HOST_NEEDS_SEAT, reason=Reason.NO_SEAT),
        "gone": HostFix(fix=Fix.NEW_HOST, reason=None),
    }


async def test_r21_a_disconnected_organization_asks_for_a_new_activation_but_personal_hosts_keep_theirs(store, zoom):
    await connecting.disconnect_organization(store.uow, zoom, OWNER, "acme", NOW)

    fixes = await fixes_for_hosts(store.uow, "acme", {"ada", "cy"})

    assert fixes == {
        "ada": HostFix(fix=Fix.CONNECT_ORGANIZATION, reason=Reason.ORGANIZATION_NOT_CONNECTED),
        "cy": HostFix(fix=Fix.HOST_RECREATES, reason=None),
    }
