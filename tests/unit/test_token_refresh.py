"""R11's refresh rule (domain.token_refresh): a usable token, one refresh at a time, invalid_grant breaks the connection."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from domain import keeping, token_refresh
from domain.errors import ConnectionBroken, NotConnected
from domain.model import ConnectionStatus, Role
from domain.zoom import TokenSet, ZoomApp
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
from tests.unit.token_fakes import FakeTokenEndpoint, LockingStore

OWNER = principal("acme", "olga", Role.OWNER)
CY = principal("acme", "cy")
ADMIN_PROFILE = profile_of(zoom_user("zu-admin", "it@acme.example", role_id="1"), "acct-acme")
CY_AT_HOME = profile_of(zoom_user("zu-cy-home", "cy@home.example"), "acct-cy-home")
#: The fixture's tokens expire an hour after NOW; this is within the refresh margin of that.
EXPIRING = NOW + timedelta(hours=1) - token_refresh.EXPIRY_MARGIN / 2


@pytest.fixture
async def store() -> LockingStore:
    """Acme connected by its Zoom admin; cy connected personally. Both hold tokens expiring at NOW + 1 h."""
    store = LockingStore()
    zoom = FakeZoom()
    await organization_with(store, "acme", person("olga", Role.OWNER), person("cy"))
    await new_activation_link(store, OWNER, "t" * 43)
    await activate(store, zoom, "t" * 43, ADMIN_PROFILE)
    await connect_personal(store, zoom, CY, CY_AT_HOME)
    return store


@pytest.fixture
def zoom(store) -> FakeTokenEndpoint:
    return FakeTokenEndpoint(store, EXPIRING)


async def cy_connection(store: LockingStore):
    return await store.uow().connections.personal("acme", "cy")


async def organization_connection(store: LockingStore):
    return await store.uow().connections.organization("acme")


def stored(store: LockingStore, connection) -> TokenSet | None:
    return store.tables.tokens.get(connection.id)


def at(moment):
    return lambda: moment


async def test_a_usable_token_is_returned_without_a_refresh(store, zoom):
    connection = await cy_connection(store)
    before = stored(store, connection)

    tokens = await token_refresh.usable_tokens(store.uow, zoom, connection, at(NOW))

    assert tokens == before
    assert zoom.calls == []
    assert stored(store, connection) == before


async def test_a_token_about_to_expire_is_refreshed_once_under_the_row_lock_and_the_rotated_pair_kept(store, zoom):
    connection = await cy_connection(store)
    before = stored(store, connection)

    tokens = await token_refresh.usable_tokens(store.uow, zoom, connection, at(EXPIRING))
    again = await token_refresh.usable_tokens(store.uow, zoom, connection, at(EXPIRING))

    assert zoom.calls == [(ZoomApp.USER, before.refresh_token, True)], "one refresh, the row locked meanwhile"
    assert tokens.access_token == "refreshed-access-1" and again == tokens
    assert stored(store, connection) == tokens, "Zoom's rotated refresh token is kept"
    assert store.locked == set(), "the lock ends with the transaction"


async def test_the_organizations_token_is_refreshed_through_the_admin_app(store, zoom):
    connection = await organization_connection(store)

    await token_refresh.usable_tokens(store.uow, zoom, connection, at(EXPIRING))

    assert [app for app, _, _ in zoom.calls] == [ZoomApp.ADMIN]


async def test_a_token_refreshed_by_another_process_between_read_and_lock_is_not_refreshed_again(store, zoom):
    connection = await cy_connection(store)
    theirs = TokenSet(access_token="theirs", refresh_token="their-refresh", expires_at=EXPIRING + timedelta(hours=1))
    store.before_lock.append(lambda: store.commit_elsewhere(connection, theirs))

    tokens = await token_refresh.usable_tokens(store.uow, zoom, connection, at(EXPIRING))

    assert tokens == theirs
    assert zoom.calls == []
    assert stored(store, connection) == theirs


async def test_two_callers_at_once_spend_the_refresh_token_once(store, zoom):
    connection = await cy_connection(store)
    zoom.hold = asyncio.Event()

    first = asyncio.create_task(token_refresh.usable_tokens(store.uow, zoom, connection, at(EXPIRING)))
    second = asyncio.create_task(token_refresh.usable_tokens(store.uow, zoom, connection, at(EXPIRING)))
    while not zoom.calls:
        await asyncio.sleep(0)
    for _ in range(10):  # the second caller reaches the row lock and waits on it
        await asyncio.sleep(0)
    zoom.hold.set()
    tokens = await asyncio.gather(first, second)

    assert len(zoom.calls) == 1
    assert tokens[0] == tokens[1] == stored(store, connection)


async def test_a_token_zoom_rejected_is_refreshed_before_it_expires(store, zoom):
    connection = await cy_connection(store)
    before = stored(store, connection)

    tokens = await token_refresh.usable_tokens(store.uow, zoom, connection, at(NOW), rejected=before.access_token)

    assert tokens != before and len(zoom.calls) == 1


async def test_a_rejected_token_another_process_already_replaced_is_not_refreshed_again(store, zoom):
    connection = await cy_connection(store)
    before = stored(store, connection)
    theirs = TokenSet(access_token="theirs", refresh_token="their-refresh", expires_at=NOW + timedelta(hours=1))
    store.before_lock.append(lambda: store.commit_elsewhere(connection, theirs))

    tokens = await token_refresh.usable_tokens(store.uow, zoom, connection, at(NOW), rejected=before.access_token)

    assert tokens == theirs and zoom.calls == []


async def test_invalid_grant_breaks_the_connection_once_and_its_member_is_told(store, zoom):
    connection = await cy_connection(store)
    zoom.revoked.add(connection.id)

    with pytest.raises(ConnectionBroken):
        await token_refresh.usable_tokens(store.uow, zoom, connection, at(EXPIRING))

    after = await cy_connection(store)
    assert (after.status, after.status_changed_at) == (ConnectionStatus.NEEDS_RECONNECT, EXPIRING)
    assert "Invalid Token!" in after.status_reason
    assert stored(store, connection) is None, "the dead grant is forgotten"
    assert [(e.action, e.actor) for e in store.audit if e.at == EXPIRING] == [("needs_reconnect", "zoom:token_refresh")]
    [notice] = [job for job in store.jobs if job.kind == keeping.NOTIFY_INCIDENT]
    assert notice.payload == {
        "org_id": "acme", "connection_id": connection.id, "status": "needs_reconnect", "reason": after.status_reason
    }

    told = await keeping.tell_of_incident(store.uow, keeping.IncidentNotice(job_id="7", **notice.payload), email_to, at(EXPIRING))

    assert told == 1
    assert [job.payload for job in store.jobs if job.kind == keeping.SEND_EMAIL] == [
        {"to": "cy@acme.example", "about": connection.id, "reason": after.status_reason}
    ]
    with pytest.raises(NotConnected):
        await token_refresh.usable_tokens(store.uow, zoom, connection, at(EXPIRING))
    assert len(zoom.calls) == 1, "a broken connection has no tokens left to refresh"


async def test_invalid_grant_on_the_organizations_connection_tells_its_owners_and_admins(store, zoom):
    connection = await organization_connection(store)
    zoom.revoked.add(connection.id)

    with pytest.raises(ConnectionBroken):
        await token_refresh.usable_tokens(store.uow, zoom, connection, at(EXPIRING))
    [notice] = [job for job in store.jobs if job.kind == keeping.NOTIFY_INCIDENT]
    await keeping.tell_of_incident(store.uow, keeping.IncidentNotice(job_id="8", **notice.payload), email_to, at(EXPIRING))

    assert [job.payload["to"] for job in store.jobs if job.kind == keeping.SEND_EMAIL] == ["olga@acme.example"]


async def test_an_incident_the_connection_has_moved_on_from_tells_nobody(store, zoom):
    connection = await cy_connection(store)
    notice = keeping.IncidentNotice(
        job_id="9", org_id="acme", connection_id=connection.id, status="needs_reconnect", reason="old news"
    )

    assert await keeping.tell_of_incident(store.uow, notice, email_to, at(EXPIRING)) == 0
    assert [job for job in store.jobs if job.kind == keeping.SEND_EMAIL] == []


async def test_a_refresh_that_fails_otherwise_changes_nothing(store, zoom):
    connection = await cy_connection(store)
    before = stored(store, connection)
    zoom.failure = OSError("Zoom unreachable")

    with pytest.raises(OSError):
        await token_refresh.usable_tokens(store.uow, zoom, connection, at(EXPIRING))

    assert stored(store, connection) == before
    assert (await cy_connection(store)).status is ConnectionStatus.ACTIVE
    assert [job for job in store.jobs if job.kind == keeping.NOTIFY_INCIDENT] == []


async def test_a_connection_that_ended_is_not_connected(store, zoom):
    connection = await cy_connection(store)
    async with store.uow() as tx:
        await tx.connections.delete(connection)
        await tx.commit()

    with pytest.raises(NotConnected):
        await token_refresh.usable_tokens(store.uow, zoom, connection, at(EXPIRING))
    assert zoom.calls == []


async def test_keep_alive_refreshes_only_what_would_expire_within_the_window(store, zoom):
    connection = await cy_connection(store)

    assert not await token_refresh.keep_alive(store.uow, zoom, connection, timedelta(minutes=30), at(NOW))
    assert zoom.calls == []
    assert await token_refresh.keep_alive(store.uow, zoom, connection, timedelta(hours=2), at(NOW))
    assert len(zoom.calls) == 1 and stored(store, connection).access_token == "refreshed-access-1"


async def test_keeping_every_token_alive_goes_on_past_a_connection_zoom_refuses(store, zoom):
    broken = await organization_connection(store)
    cy = await cy_connection(store)
    zoom.revoked.add(broken.id)

    due = await token_refresh.keep_all_alive(store.uow, zoom, timedelta(hours=2), at(NOW))

    assert due == 1
    assert (await organization_connection(store)).status is ConnectionStatus.NEEDS_RECONNECT
    assert stored(store, cy).access_token.startswith("refreshed-access-")
    assert len(zoom.calls) == 2


def email_to(member, organization, connection, reason, impact) -> dict[str, object]:
    return {"to": member.email, "about": connection.id, "reason": reason}
