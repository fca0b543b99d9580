"""Keeping connections true: Zoom's webhooks, periodic verification, incidents (R11, R12, R14, R18)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from domain.model import ConnectionType
from tests.support.builders import add_connection, connection, unique
from tests.support.jobs import settled
from tests.support.servers import ZOOM_APPS
from tests.support.sql import raw_sql
from tests.support.zoom import (
    activate,
    activated,
    as_member,
    connect_personal,
    create_activation_link,
    email,
    eventually,
    members_by_id,
    organization,
    signed,
)

pytestmark = pytest.mark.usefixtures("workers")


async def status_is(api, org, status: str) -> bool:
    return (await organization(api, org))["status"] == status


ADMIN_SECRET = ZOOM_APPS["ZOOM_ADMIN_APP_WEBHOOK_SECRET"]


async def test_r11_admin_demoted_breaks_then_new_activation_restores(api, org, zoom_account, sandbox, outbox):
    await activated(api, org, zoom_account)
    own = await sandbox.user(await sandbox.account("own"), email("own"), "owner")
    await connect_personal(api, org["admin"], own["email"])
    demoted = await sandbox.client.patch(f"/sandbox/users/{zoom_account['admin']['id']}", json={"role": "member"})
    assert demoted.status_code == 200, demoted.text

    assert await eventually(lambda: status_is(api, org, "admin_lost"))
    state = await organization(api, org)
    assert "member" in state["status_reason"].lower() and state["status_changed_at"]
    rows = await members_by_id(api, org)
    assert (rows[org["member"]]["connected"], rows[org["member"]]["reason"]) == (False, "organization_admin_lost")
    assert (rows[org["admin"]]["connected"], rows[org["admin"]]["type"]) == (True, "personal")
    for manager in ("owner", "admin"):
        mail = await outbox.wait_for(
            lambda m, to=f"{org[manager]}@acme.test": m.to == to and "needs attention" in m.subject, timeout=15
        )
        assert "needs attention" in mail.subject and "/integrations/zoom" in mail.text

    link = await create_activation_link(api, org["org_id"], org["owner"])
    assert (await activate(api, link["url"], zoom_account["owner"]["email"])).status_code == 200
    assert (await organization(api, org))["status"] == "active"
    rows = await members_by_id(api, org)
    assert (rows[org["member"]]["connected"], rows[org["member"]]["type"]) == (True, "organization")


async def test_r3_whoever_asked_for_the_activation_hears_that_zoom_is_connected(api, org, zoom_account, outbox):
    await activated(api, org, zoom_account)  # the owner created the link, the Zoom admin approved it

    mail = await outbox.wait_for(
        lambda m: m.to == f"{org['owner']}@acme.test" and m.subject == "Zoom is connected for Acme", timeout=15
    )
    assert zoom_account["admin"]["email"] in mail.text and "/integrations/zoom" in mail.text
    assert "2 of 3 members have their meetings created through the organization's Zoom now" in mail.text
    assert "1 is not connected" in mail.text
    assert not [m for m in outbox.messages() if m.to == zoom_account["admin"]["email"] and "is connected" in m.subject]


async def test_r11_one_email_per_incident(api, org, zoom_account, sandbox, outbox):
    await activated(api, org, zoom_account)
    await sandbox.client.patch(f"/sandbox/users/{zoom_account['admin']['id']}", json={"role": "member"})
    assert await eventually(lambda: status_is(api, org, "admin_lost"))
    await sandbox.client.patch(f"/sandbox/users/{zoom_account['admin']['id']}", json={"status": "inactive"})
    def incident_mail(m) -> bool:  # the owner also heard, before, that Zoom was connected
        return m.to == f"{org['owner']}@acme.test" and "needs attention" in m.subject

    await outbox.wait_for(incident_mail, timeout=15)
    await settled(zoom_account["admin"]["id"], org["org_id"])
    assert len([m for m in outbox.messages() if incident_mail(m)]) == 1


async def test_r11_caught_by_periodic_verification_without_webhooks(api, org, zoom_account, sandbox, roomlink):
    await activated(api, org, zoom_account)
    await sandbox.client.put("/sandbox/settings", json={"webhook_url": None})
    try:
        await sandbox.client.patch(f"/sandbox/users/{zoom_account['admin']['id']}", json={"role": "member"})
        assert await eventually(lambda: status_is(api, org, "admin_lost"), timeout=20)
        state = await organization(api, org)
        assert state["last_verified_at"] is not None
        assert "no longer an owner or admin" in state["status_reason"]
    finally:
        await sandbox.client.put("/sandbox/settings", json={"webhook_url": f"{roomlink}/webhooks/zoom"})


async def test_r11_admin_restored_recovers_and_says_so(api, org, zoom_account, sandbox):
    await activated(api, org, zoom_account)
    await sandbox.client.patch(f"/sandbox/users/{zoom_account['admin']['id']}", json={"role": "member"})
    assert await eventually(lambda: status_is(api, org, "admin_lost"))
    await sandbox.client.patch(f"/sandbox/users/{zoom_account['admin']['id']}", json={"role": "admin"})
    assert await eventually(lambda: status_is(api, org, "active"), timeout=20)
    async with raw_sql() as sql:
        actions = [r["action"] for r in await sql.fetch(
            "SELECT action FROM audit_events WHERE org_id = $1 ORDER BY id", org["org_id"])]
    assert actions[-2:] == ["admin_lost", "recovered"]


async def test_r12_r14_deauthorizing_the_organization_app(api, org, zoom_account, sandbox):
    await activated(api, org, zoom_account)
    response = await sandbox.client.post(
        "/sandbox/deauthorize",
        json={"client_id": ZOOM_APPS["ZOOM_ADMIN_APP_CLIENT_ID"], "user_id": zoom_account["admin"]["id"]},
    )
    assert response.status_code == 200, response.text
    assert await eventually(lambda: status_is(api, org, "deauthorized"))
    rows = await members_by_id(api, org)
    assert rows[org["member"]]["reason"] == "organization_deauthorized"
    async with raw_sql() as sql:
        tokens = await sql.fetchrow(
            "SELECT access_token, refresh_token FROM connections WHERE org_id = $1 AND type = 'organization'", org["org_id"]
        )
    assert (tokens["access_token"], tokens["refresh_token"]) == (None, None)


async def test_r12_deauthorizing_a_personal_app(api, org, sandbox):
    own = await sandbox.user(await sandbox.account("own"), email("own"), "owner")
    await connect_personal(api, org["member"], own["email"])
    await sandbox.client.post(
        "/sandbox/deauthorize", json={"client_id": ZOOM_APPS["ZOOM_USER_APP_CLIENT_ID"], "user_id": own["id"]}
    )

    async def broken():
        mine = (await api.get("/api/v1/me/integrations/zoom", headers=as_member(org["member"]))).json()
        return mine["personal"]["status"] == "deauthorized" and mine["reason"] == "personal_needs_reconnect"

    assert await eventually(broken)


async def test_r5_a_member_deactivated_in_zoom_loses_only_their_seat(api, org, zoom_account, sandbox):
    await activated(api, org, zoom_account)
    await sandbox.client.patch(f"/sandbox/users/{zoom_account['seat_member']['id']}", json={"status": "inactive"})

    async def unseated():
        return (await members_by_id(api, org))[org["member"]]["reason"] == "no_seat"

    assert await eventually(unseated)
    rows = await members_by_id(api, org)
    assert (rows[org["admin"]]["connected"], rows[org["admin"]]["type"]) == (True, "organization")
    assert (await organization(api, org))["status"] == "active"


async def test_forged_stale_and_replayed_webhooks_are_refused(api, org):
    # A connection without tokens: periodic verification cannot reach Zoom for it, so only the
    # webhooks under test can change it.
    live = connection(org["org_id"], ConnectionType.ORGANIZATION, zoom_account_id=unique("acct"), zoom_user_id=unique("zu"))
    await add_connection(live)
    body = json.dumps({
        "event": "user.deactivated",
        "event_ts": int(time.time() * 1000),
        "payload": {"account_id": live.zoom_account_id, "object": {"id": live.zoom_user_id}},
    }).encode()
    forged = await api.post("/webhooks/zoom", content=body, headers=signed(body, "not-the-secret"))
    assert (forged.status_code, forged.json()["code"]) == (401, "webhook_signature_invalid")
    stale = await api.post("/webhooks/zoom", content=body, headers=signed(body, ADMIN_SECRET, int(time.time()) - 301))
    assert (stale.status_code, stale.json()["code"]) == (401, "webhook_stale")
    async with raw_sql() as sql:  # refused before anything was recorded or queued
        assert not await sql.fetchval("SELECT count(*) FROM webhook_events WHERE event_key = $1", hashlib.sha256(body).hexdigest())
    assert (await organization(api, org))["status"] == "active"

    headers = signed(body, ADMIN_SECRET)
    first = await api.post("/webhooks/zoom", content=body, headers=headers)
    replayed = await api.post("/webhooks/zoom", content=body, headers=headers)
    assert first.json() == {"status": "accepted"} and replayed.json() == {"status": "already_received"}
    assert await eventually(lambda: status_is(api, org, "admin_lost"))
    async with raw_sql() as sql:
        incidents = await sql.fetchval(
            "SELECT count(*) FROM audit_events WHERE org_id = $1 AND action = 'admin_lost'", org["org_id"]
        )
    assert incidents == 1


async def test_url_validation_is_answered(api):
    body = json.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": "abc123"}, "event_ts": 1}).encode()
    response = await api.post("/webhooks/zoom", content=body, headers=signed(body, ADMIN_SECRET))
    expected = hmac.new(ADMIN_SECRET.encode(), b"abc123", hashlib.sha256).hexdigest()
    assert response.json() == {"plainToken": "abc123", "encryptedToken": expected}


async def test_tokens_are_kept_alive_before_they_expire(api, org, zoom_account):
    await activated(api, org, zoom_account)

    async def expires_in_minutes() -> float:
        async with raw_sql() as sql:
            return await sql.fetchval(
                "SELECT extract(epoch FROM access_token_expires_at - now()) / 60 FROM connections "
                "WHERE org_id = $1 AND type = 'organization'",
                org["org_id"],
            )

    async with raw_sql() as sql:
        await sql.execute(
            "UPDATE connections SET access_token_expires_at = now() + interval '5 minutes' "
            "WHERE org_id = $1 AND type = 'organization'",
            org["org_id"],
        )
    assert await eventually(lambda: _later_than(expires_in_minutes, 30))
    assert (await organization(api, org))["status"] == "active"


async def _later_than(minutes_left, minutes: float) -> bool:
    return await minutes_left() > minutes


async def test_a_signed_body_that_is_not_zoom_json_is_refused(api):
    body = b"not json"
    response = await api.post("/webhooks/zoom", content=body, headers=signed(body, ADMIN_SECRET))
    assert (response.status_code, response.json()["code"]) == (400, "webhook_malformed")
