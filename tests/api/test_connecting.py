"""Connecting Zoom for real, end to end through HTTP against the Zoom sandbox (R1–R6, R12–R14, R18)."""

from __future__ import annotations

import httpx

from persistence.database import unit_of_work
from tests.api.conftest import KEY
from tests.support.servers import log_file
from tests.support.sql import raw_sql
from tests.support.zoom import (
    activate,
    activated,
    approve_in_zoom,
    as_member,
    authorize_personal,
    connect_personal,
    create_activation_link,
    email,
    members_by_id,
    organization,
    path_of,
    to_zoom,
)


async def test_r2_a_zoom_member_is_stopped_by_zoom_then_an_admin_completes_the_same_link(api, org, zoom_account):
    link = await create_activation_link(api, org["org_id"], org["admin"])
    to_zoom = await api.post(path_of(link["url"]))
    async with httpx.AsyncClient() as browser:
        stopped = await browser.get(
            httpx.URL(to_zoom.headers["location"]).copy_merge_params({"login_hint": zoom_account["member"]["email"]})
        )
    assert stopped.status_code == 403 and "location" not in stopped.headers
    assert "An account admin is required to install this type of app" in stopped.text
    assert (await organization(api, org))["status"] == "not_connected"

    accepted = await activate(api, link["url"], zoom_account["admin"]["email"])
    assert accepted.status_code == 200 and "Zoom is connected" in accepted.text
    state = await organization(api, org)
    assert (state["status"], state["zoom_account_id"], state["zoom_admin_email"]) == (
        "active",
        zoom_account["id"],
        zoom_account["admin"]["email"],
    )
    rows = await members_by_id(api, org)
    assert (rows[org["member"]]["connected"], rows[org["member"]]["type"]) == (True, "organization")
    assert rows[org["owner"]]["reason"] == "no_seat"
    assert state["counts"] == {"organization": 2, "personal": 0, "not_connected": 1, "total": 3}


async def test_r2_an_admin_demoted_before_roomlink_hears_back_is_told_in_words_and_the_link_still_works(
    api, org, zoom_account, sandbox
):
    link = await create_activation_link(api, org["org_id"], org["admin"])
    to_zoom = await api.post(path_of(link["url"]))
    callback = await approve_in_zoom(to_zoom.headers["location"], zoom_account["admin"]["email"])
    await sandbox.client.patch(f"/sandbox/users/{zoom_account['admin']['id']}", json={"role": "member"})

    refused = await api.get(callback)

    assert refused.status_code == 403 and "not an admin of this Zoom account" in refused.text
    assert (await organization(api, org))["status"] == "not_connected"
    assert (await activate(api, link["url"], zoom_account["owner"]["email"])).status_code == 200


async def test_r2_the_account_owner_may_activate(api, org, zoom_account):
    link = await create_activation_link(api, org["org_id"], org["owner"])
    assert (await activate(api, link["url"], zoom_account["owner"]["email"])).status_code == 200


async def test_r1_members_cannot_create_activation_links(api, org):
    response = await api.post(
        f"/api/v1/orgs/{org['org_id']}/integrations/zoom/activation-links", json={}, headers=as_member(org["member"])
    )
    assert (response.status_code, response.json()["code"]) == (403, "owner_or_admin_required")


async def test_the_activation_page_says_who_asks_and_what_approving_does(api, org):
    link = await create_activation_link(api, org["org_id"], org["owner"])
    page = await api.get(path_of(link["url"]))
    assert page.status_code == 200
    assert "Owner Person asks you to connect" in page.text and "Only an <strong>owner or admin</strong>" in page.text
    # Zoom stops a Member with its own words and never comes back: the page says beforehand what they mean.
    assert "An account admin is required to install this type of app" in page.text
    assert "Approve in this browser" in page.text


async def test_r3_used_link_has_its_own_page(api, org, zoom_account):
    link = await activated(api, org, zoom_account)
    page = await api.get(path_of(link["url"]))
    assert page.status_code == 410 and "already used" in page.text


async def test_r3_expired_link_has_its_own_page(api, org, db):
    link = await create_activation_link(api, org["org_id"], org["owner"])
    async with raw_sql() as sql:
        await sql.execute("UPDATE activation_links SET expires_at = now() - interval '1 second' WHERE id = $1::uuid", link["id"])
    page = await api.get(path_of(link["url"]))
    assert page.status_code == 410 and "expired" in page.text
    assert (await api.post(path_of(link["url"]))).status_code == 410


async def test_r3_revoked_link_has_its_own_page(api, org):
    link = await create_activation_link(api, org["org_id"], org["owner"])
    revoked = await api.delete(
        f"/api/v1/orgs/{org['org_id']}/integrations/zoom/activation-links/{link['id']}", headers=as_member(org["admin"])
    )
    assert revoked.status_code == 204
    page = await api.get(path_of(link["url"]))
    assert page.status_code == 410 and "revoked" in page.text


async def test_r3_unknown_link_has_its_own_page(api):
    page = await api.get("/activate/not-a-real-token")
    assert page.status_code == 404 and "does not exist" in page.text


async def test_r3_link_is_a_256_bit_capability_stored_only_as_a_hash(api, org, db):
    link = await create_activation_link(api, org["org_id"], org["owner"])
    token = link["url"].rsplit("/", 1)[1]
    assert len(token) >= 43  # 32 bytes, URL-safe base64
    async with raw_sql() as sql:
        row = await sql.fetchrow("SELECT * FROM activation_links WHERE id = $1::uuid", link["id"])
    assert token not in str(dict(row))


async def test_activation_email_arrives_over_smtp(api, org, outbox):
    link = await create_activation_link(api, org["org_id"], org["owner"], zoom_admin_email="it@acme.example")
    assert link["emailed_to"] == "it@acme.example"
    received = await outbox.wait_for(lambda m: m.to == "it@acme.example" and link["url"] in m.text, timeout=5)
    assert "Acme" in received.subject and "Owner Person" in received.text


async def test_bad_activation_link_bodies_change_nothing(api, org):
    response = await api.post(
        f"/api/v1/orgs/{org['org_id']}/integrations/zoom/activation-links",
        json={"zoom_admin_email": "not-an-email"},
        headers=as_member(org["owner"]),
    )
    assert (response.status_code, response.json()["code"]) == (400, "validation_failed")
    async with raw_sql() as sql:
        assert await sql.fetchval("SELECT count(*) FROM activation_links WHERE org_id = $1", org["org_id"]) == 0


async def test_r7_r8_personal_connect_and_disconnect_flip_the_members_table(api, org, zoom_account, sandbox):
    await activated(api, org, zoom_account)
    own_account = await sandbox.account("Member's own")
    own = await sandbox.user(own_account, email("member.own"), "owner")

    done = await connect_personal(api, org["member"], own["email"])
    assert done.status_code == 303 and done.headers["location"] == "/integrations/zoom?connected=personal"
    row = (await members_by_id(api, org))[org["member"]]
    assert (row["connected"], row["type"]) == (True, "personal")
    mine = (await api.get("/api/v1/me/integrations/zoom", headers=as_member(org["member"]))).json()
    assert mine["personal"]["zoom_email"] == own["email"] and mine["organization"] is None

    assert (await api.delete("/api/v1/me/integrations/zoom/personal", headers=as_member(org["member"]))).status_code == 204
    row = (await members_by_id(api, org))[org["member"]]
    assert (row["connected"], row["type"]) == (True, "organization")
    mine = (await api.get("/api/v1/me/integrations/zoom", headers=as_member(org["member"]))).json()
    assert mine["personal"] is None and mine["organization"]["status"] == "active"
    revokes = [c for c in await sandbox.calls() if c["path"] == "/oauth/revoke"]
    assert revokes and revokes[-1]["status"] == 200


async def test_r4_r6_a_new_activation_replaces_the_organization_connection_and_keeps_personal(api, org, zoom_account, sandbox):
    await activated(api, org, zoom_account)
    own = await sandbox.user(await sandbox.account("own"), email("own"), "owner")
    await connect_personal(api, org["member"], own["email"])
    before = await organization(api, org)

    link = await create_activation_link(api, org["org_id"], org["admin"])
    assert (await activate(api, link["url"], zoom_account["owner"]["email"])).status_code == 200
    after = await organization(api, org)
    assert after["zoom_admin_email"] == zoom_account["owner"]["email"]
    assert after["connected_at"] >= before["connected_at"]
    row = (await members_by_id(api, org))[org["member"]]
    assert (row["type"], row["connected"]) == ("personal", True)
    async with raw_sql() as sql:
        actions = [r["action"] for r in await sql.fetch(
            "SELECT action FROM audit_events WHERE org_id = $1 AND connection_type = 'organization' ORDER BY id", org["org_id"]
        )]
    assert actions == ["connected", "replaced", "connected"]


async def test_r13_a_zoom_user_already_connected_by_another_person_is_refused_and_the_first_stays_alive(
    api, org, sandbox, zoom_sandbox
):
    own = await sandbox.user(await sandbox.account("shared"), email("shared"), "owner")
    assert (await connect_personal(api, org["member"], own["email"])).status_code == 303
    first_tokens = await personal_tokens(org, org["member"])
    refused = await connect_personal(api, org["admin"], own["email"])
    assert refused.status_code == 409 and "already connected by someone else" in refused.text
    # Zoom honours only the newest grant: the first person's connection now holds it and works.
    kept = await personal_tokens(org, org["member"])
    assert kept != first_tokens
    assert (await zoom_me(zoom_sandbox, first_tokens)).json()["code"] == 4741
    assert (await zoom_me(zoom_sandbox, kept)).status_code == 200
    async with raw_sql() as sql:
        action = await sql.fetchval(
            "SELECT action FROM audit_events WHERE org_id = $1 AND user_id = $2 ORDER BY id DESC LIMIT 1",
            org["org_id"],
            org["member"],
        )
    assert action == "reauthorized"
    callback = await approve_in_zoom(await to_zoom(api, await authorize_personal(api, org["admin"])), own["email"])
    as_api = await api.get(callback, headers={"Accept": "application/json"})
    assert as_api.headers["content-type"].startswith("application/problem+json")
    assert (as_api.status_code, as_api.json()["code"]) == (409, "zoom_user_already_connected")
    mine = (await api.get("/api/v1/me/integrations/zoom", headers=as_member(org["admin"]))).json()
    assert mine["personal"] is None


async def test_r13_reconnecting_the_same_zoom_user_replaces_ones_own_connection(api, org, sandbox):
    own = await sandbox.user(await sandbox.account("mine"), email("mine"), "owner")
    assert (await connect_personal(api, org["member"], own["email"])).status_code == 303
    assert (await connect_personal(api, org["member"], own["email"])).status_code == 303
    async with raw_sql() as sql:
        count = await sql.fetchval(
            "SELECT count(*) FROM connections WHERE org_id = $1 AND user_id = $2", org["org_id"], org["member"]
        )
    assert count == 1


async def another_organizations_activation_link(api, org) -> dict:
    other = org["org_id"] + "-other"
    await api.put(f"/api/v1/orgs/{other}", json={"name": "Other"}, headers=KEY)
    await api.put(f"/api/v1/orgs/{other}/members/{other}-o", json={"email": "o@o.test", "name": "O", "role": "owner"}, headers=KEY)
    return await create_activation_link(api, other, f"{other}-o")


async def test_r13_a_zoom_account_serves_one_organization(api, org, zoom_account):
    await activated(api, org, zoom_account)
    link = await another_organizations_activation_link(api, org)
    refused = await activate(api, link["url"], zoom_account["owner"]["email"])
    assert refused.status_code == 409 and "another organization" in refused.text


async def test_r13_the_admin_serving_one_organization_approving_for_another_keeps_the_first_alive(api, org, zoom_account):
    await activated(api, org, zoom_account)
    link = await another_organizations_activation_link(api, org)

    refused = await activate(api, link["url"], zoom_account["admin"]["email"])

    assert refused.status_code == 409 and "another organization" in refused.text
    checked = await api.post(f"/api/v1/orgs/{org['org_id']}/integrations/zoom/verify", headers=as_member(org["owner"]))
    assert (checked.status_code, checked.json()["status"]) == (200, "active")


async def test_r12_r14_disconnecting_the_organization(api, org, zoom_account, sandbox):
    await activated(api, org, zoom_account)
    response = await api.delete(f"/api/v1/orgs/{org['org_id']}/integrations/zoom", headers=as_member(org["owner"]))
    assert response.status_code == 200 and response.json() == {"affected_members": 2}
    assert (await organization(api, org))["status"] == "not_connected"
    rows = await members_by_id(api, org)
    assert all(row["reason"] == "organization_not_connected" for row in rows.values())
    async with raw_sql() as sql:
        assert await sql.fetchval("SELECT count(*) FROM connections WHERE org_id = $1", org["org_id"]) == 0
        assert await sql.fetchval("SELECT count(*) FROM zoom_users WHERE org_id = $1", org["org_id"]) == 0
    assert any(c["path"] == "/oauth/revoke" and c["status"] == 200 for c in await sandbox.calls())


async def test_tokens_are_unreadable_at_rest_and_never_leave_roomlink(api, org, zoom_account, sandbox, ports):
    await activated(api, org, zoom_account)
    own = await sandbox.user(await sandbox.account("own"), email("own"), "owner")
    await connect_personal(api, org["member"], own["email"])
    async with raw_sql() as sql:
        rows = await sql.fetch("SELECT * FROM connections WHERE org_id = $1", org["org_id"])
    async with unit_of_work(read_only=True) as uow:
        plaintexts = []
        for row in rows:
            connection = await uow.connections.personal(org["org_id"], org["member"]) if row["type"] == "personal" else await uow.connections.organization(org["org_id"])
            tokens = await uow.tokens.read(connection)
            plaintexts += [tokens.access_token, tokens.refresh_token]
    stored = " ".join(str(dict(row)) for row in rows)
    assert all(secret not in stored for secret in plaintexts)
    assert all(row["access_token"].startswith("v1.") for row in rows)
    answers = [
        (await api.get("/api/v1/me/integrations/zoom", headers=as_member(org["member"]))).text,
        (await api.get(f"/api/v1/orgs/{org['org_id']}/integrations/zoom", headers=as_member(org["owner"]))).text,
        (await api.get(f"/api/v1/orgs/{org['org_id']}/integrations/zoom/members", headers=as_member(org["owner"]))).text,
    ]
    log = log_file(ports["roomlink"]).read_text()
    assert all(secret not in text for secret in plaintexts for text in [*answers, log])


async def test_capability_urls_stay_out_of_the_access_log(api, org, zoom_account, ports):
    link = await activated(api, org, zoom_account)
    token = link["url"].rsplit("/", 1)[1]
    log = log_file(ports["roomlink"]).read_text()
    assert "/activate/[redacted]" in log and "/oauth/zoom/callback?code=[redacted]" in log.replace("state=[redacted]&", "")
    assert token not in log


async def test_oauth_state_replayed_or_forged_is_refused(api, org, sandbox):
    own = await sandbox.user(await sandbox.account("own"), email("own"), "owner")
    callback = await approve_in_zoom(await to_zoom(api, await authorize_personal(api, org["member"])), own["email"])
    assert (await api.get(callback)).status_code == 303
    replayed = await api.get(callback)
    assert replayed.status_code == 400 and "cannot be finished" in replayed.text
    forged = await api.get("/oauth/zoom/callback", params={"state": "forged", "code": "whatever"})
    assert forged.status_code == 400


async def test_pkce_verifier_and_state_are_not_stored_in_clear(api, org):
    query = httpx.URL(await to_zoom(api, await authorize_personal(api, org["member"]))).params
    assert query["code_challenge_method"] == "S256"
    async with raw_sql() as sql:
        rows = await sql.fetch("SELECT * FROM oauth_states WHERE org_id = $1", org["org_id"])
    assert rows and all(query["state"] not in str(dict(row)) for row in rows)
    assert all(row["browser_hash"] and api.cookies["roomlink_oauth_browser"] not in str(dict(row)) for row in rows)
    assert all(row["code_verifier"].startswith("v1.") for row in rows)


async def personal_tokens(org, user_id):
    async with unit_of_work() as uow:
        return await uow.tokens.read(await uow.connections.personal(org["org_id"], user_id))


async def zoom_me(zoom_sandbox, tokens) -> httpx.Response:
    async with httpx.AsyncClient(base_url=zoom_sandbox) as zoom:
        return await zoom.get("/v2/users/me", headers={"Authorization": f"Bearer {tokens.access_token}"})


async def test_r14_deleting_a_member_revokes_their_personal_tokens(api, org, sandbox):
    own = await sandbox.user(await sandbox.account("own"), email("own"), "owner")
    await connect_personal(api, org["member"], own["email"])
    revokes_before = len([c for c in await sandbox.calls() if c["path"] == "/oauth/revoke"])
    assert (await api.delete(f"/api/v1/orgs/{org['org_id']}/members/{org['member']}", headers=KEY)).status_code == 204
    revokes_after = len([c for c in await sandbox.calls() if c["path"] == "/oauth/revoke"])
    assert revokes_after == revokes_before + 1
