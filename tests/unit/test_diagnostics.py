"""Diagnostics: a pass/fail line with its fix for every check, incl. PMI and today's budget (docs/api.md)."""

from __future__ import annotations

import msgspec
import pytest

from domain import diagnostics, meetings
from domain.budget import DAILY_LIMIT, budget_day
from domain.errors import ConnectionBroken, RoleRequired
from domain.model import Connection, Role
from domain.pmi import PMI_SETTING, HostPmiSettings
from domain.zoom import ZoomProfile
from tests.unit.fakes import (
    NOW,
    FakeZoom,
    activate,
    connect_personal,
    new_activation_link,
    organization_with,
    person,
    profile_of,
)
from tests.unit.meeting_fakes import FakeClock, FakeMeetingsZoom, MeetingStore
from tests.unit.test_use_cases_meetings import ACME_ACCOUNT, BOB, CY, CY_AT_HOME, DEE, OWNER, ZOOM_ADMIN, ask


class FakeConnectedZoom:
    def __init__(self) -> None:
        self.profiles: dict[str, ZoomProfile] = {}
        self.broken: set[str] = set()

    async def me(self, connection: Connection) -> ZoomProfile:
        if connection.id in self.broken:
            raise ConnectionBroken("Zoom no longer accepts this connection.")
        return self.profiles.get(connection.id) or ZoomProfile(
            zoom_user_id=connection.zoom_user_id, email=connection.zoom_email, account_id=connection.zoom_account_id, role_id="1"
        )

    async def account_users(self, connection: Connection):
        return []


@pytest.fixture
async def store() -> MeetingStore:
    zoom = FakeZoom()
    zoom.accounts["acct-acme"] = ACME_ACCOUNT
    store = MeetingStore()
    await organization_with(store, "acme", person("olga", Role.OWNER), person("ada"), person("bob"), person("cy"), person("dee"))
    await new_activation_link(store, OWNER, "t" * 43)
    await activate(store, zoom, "t" * 43, profile_of(ZOOM_ADMIN, "acct-acme"))
    await connect_personal(store, zoom, CY, CY_AT_HOME)
    async with store.uow() as tx:
        for connection in (await tx.connections.organization("acme"), await tx.connections.personal("acme", "cy")):
            tokens = await tx.tokens.read(connection)
            scopes = " ".join(diagnostics.NEEDED_SCOPES[connection.type])
            await tx.tokens.store(connection, msgspec.structs.replace(tokens, scope=scopes))
        await tx.commit()
    return store


def by_name(result: diagnostics.Diagnostics) -> dict[str, diagnostics.Check]:
    return {check.name: check for check in result.checks}


async def test_organization_diagnostics_pass_with_details_and_show_todays_budget(store):
    zoom = FakeMeetingsZoom()
    await meetings.create_meeting(ask(), store.uow, zoom, FakeClock())
    checks = by_name(await diagnostics.organization_diagnostics(store.uow, FakeConnectedZoom(), OWNER, "acme", NOW))
    assert {name: check.ok for name, check in checks.items()} == {
        "organization_connected": True, "tokens_valid": True, "scopes_sufficient": True, "seats_found": True,
        "daily_meeting_budget": True,
    }
    assert "zu-bob: 1/100" in checks["daily_meeting_budget"].detail
    assert all(check.fix is None for check in checks.values())


async def test_a_spent_budget_and_a_demoted_admin_fail_with_their_fixes(store):
    async with store.uow() as tx:
        await tx.meeting_budget.close_day("acme", "zu-bob", budget_day(NOW))
        organization = await tx.connections.organization("acme")
        await tx.commit()
    connected = FakeConnectedZoom()
    connected.profiles[organization.id] = ZoomProfile(zoom_user_id="zu-admin", email="it@acme.example", account_id="acct-acme", role_id="2")
    checks = by_name(await diagnostics.organization_diagnostics(store.uow, connected, OWNER, "acme", NOW))
    assert not checks["daily_meeting_budget"].ok and "00:00 UTC" in checks["daily_meeting_budget"].fix
    assert f"zu-bob: {DAILY_LIMIT}/{DAILY_LIMIT}" in checks["daily_meeting_budget"].detail
    assert not checks["zoom_admin_active"].ok and "activation link" in checks["zoom_admin_active"].fix


async def test_organization_diagnostics_are_for_owners_and_admins(store):
    with pytest.raises(RoleRequired):
        await diagnostics.organization_diagnostics(store.uow, FakeConnectedZoom(), BOB, "acme", NOW)


async def test_my_diagnostics_name_the_pmi_setting_to_turn_off(store):
    zoom = FakeMeetingsZoom()
    zoom.pmi["zu-bob"] = HostPmiSettings(pmi="5550001111", use_pmi_for_scheduled_meetings=True, pmi_passcode_required=True)
    checks = by_name(await diagnostics.my_diagnostics(store.uow, FakeConnectedZoom(), zoom, BOB, NOW))
    assert checks["connected"].ok and "organization" in checks["connected"].detail
    assert not checks["pmi_settings"].ok and PMI_SETTING in checks["pmi_settings"].fix
    assert "PMI passcode" in checks["pmi_settings"].fix


async def test_my_diagnostics_for_a_broken_personal_connection_say_reconnect(store):
    connected = FakeConnectedZoom()
    async with store.uow() as tx:
        connected.broken.add((await tx.connections.personal("acme", "cy")).id)
    checks = by_name(await diagnostics.my_diagnostics(store.uow, connected, FakeMeetingsZoom(), CY, NOW))
    assert not checks["tokens_valid"].ok and checks["tokens_valid"].fix == "Reconnect Zoom."


async def test_my_diagnostics_without_a_connection_say_why_and_what_to_do(store):
    checks = by_name(await diagnostics.my_diagnostics(store.uow, FakeConnectedZoom(), FakeMeetingsZoom(), DEE, NOW))
    assert list(checks) == ["connected"] and not checks["connected"].ok
    assert "Zoom user with your email" in checks["connected"].fix
