"""Zoom misbehaving, injected through /sandbox/faults: each fault ends in the documented state."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from tests.support.builders import expire_access_token, job_status
from tests.support.sql import raw_sql
from tests.support.zoom import activated, as_member, members_by_id, organization


@pytest.fixture(autouse=True)
async def no_faults_left(sandbox):
    yield
    await sandbox.client.delete("/sandbox/faults")


async def check_now(api, org):
    return await api.post(f"/api/v1/orgs/{org['org_id']}/integrations/zoom/verify", headers=as_member(org["owner"]))


async def calls_to(sandbox, path: str) -> list[dict]:
    return [c for c in await sandbox.calls() if c["path"] == path]


async def fault(sandbox, **spec) -> None:
    response = await sandbox.client.post("/sandbox/faults", json=spec)
    assert response.status_code in (200, 201), response.text


async def test_429_with_retry_after_is_waited_for_then_succeeds(api, org, zoom_account, sandbox):
    await activated(api, org, zoom_account)
    await sandbox.client.delete("/sandbox/calls")
    await fault(sandbox, method="GET", path_prefix="/v2/users/me", status=429, times=1, retry_after=1)
    response = await check_now(api, org)
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert [c["status"] for c in await calls_to(sandbox, "/v2/users/me")] == [429, 200]


async def test_a_per_second_429_without_retry_after_is_retried_with_backoff(api, org, zoom_account, sandbox):
    await activated(api, org, zoom_account)
    await sandbox.client.delete("/sandbox/calls")
    await fault(sandbox, method="GET", path_prefix="/v2/users/me", status=429, times=2)
    response = await check_now(api, org)
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert [c["status"] for c in await calls_to(sandbox, "/v2/users/me")] == [429, 429, 200]


async def test_zooms_daily_limit_answers_429_zoom_daily_limit_until_00_00_utc_and_changes_nothing(
    api, org, zoom_account, sandbox
):
    await activated(api, org, zoom_account)
    before = await organization(api, org)
    await sandbox.client.delete("/sandbox/calls")
    await fault(sandbox, method="GET", path_prefix="/v2/users/me", status=429, rate_limit_type="Daily-limit")
    response = await check_now(api, org)
    assert (response.status_code, response.json()["code"]) == (429, "zoom_daily_limit")
    assert response.headers["content-type"].startswith("application/problem+json")
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=UTC)
    assert abs(int(response.headers["retry-after"]) - (midnight - now).total_seconds()) < 10
    assert len(await calls_to(sandbox, "/v2/users/me")) == 1  # not retried: nothing helps before the reset
    after = await organization(api, org)
    assert (after["status"], after["last_verified_at"]) == ("active", before["last_verified_at"])


async def test_missing_scopes_mean_needs_reconnect_naming_the_permission(api, org, zoom_account, sandbox):
    await activated(api, org, zoom_account)
    await fault(sandbox, method="GET", path_prefix="/v2/users/me", status=400, code=4711)
    response = await check_now(api, org)
    assert response.status_code == 200 and response.json()["status"] == "needs_reconnect"
    assert "user:read:admin" in response.json()["status_reason"]
    assert "approve every permission" in response.json()["status_reason"]


async def test_a_zoom_admin_who_no_longer_exists_is_an_admin_lost(api, org, zoom_account, sandbox):
    await activated(api, org, zoom_account)
    await fault(sandbox, method="GET", path_prefix="/v2/users/me", status=404, code=1001)
    response = await check_now(api, org)
    assert response.status_code == 200 and response.json()["status"] == "admin_lost"
    assert "no longer exists" in response.json()["status_reason"]


async def test_500s_are_retried_with_backoff(api, org, zoom_account, sandbox):
    await activated(api, org, zoom_account)
    await sandbox.client.delete("/sandbox/calls")
    await fault(sandbox, method="GET", path_prefix="/v2/users", status=500, times=2)
    response = await check_now(api, org)
    assert response.status_code == 200 and response.json()["last_verified_at"]
    statuses = [c["status"] for c in await sandbox.calls() if c["path"].startswith("/v2/users")]
    assert statuses[:3] == [500, 500, 200]


async def test_a_timeout_is_retried(api, org, zoom_account, sandbox):
    await activated(api, org, zoom_account)
    await fault(sandbox, method="GET", path_prefix="/v2/users/me", delay_s=3, times=1)
    response = await check_now(api, org)
    assert response.status_code == 200 and response.json()["status"] == "active"


async def test_zoom_down_past_retries_answers_502_and_changes_nothing(api, org, zoom_account, sandbox):
    await activated(api, org, zoom_account)
    before = await organization(api, org)
    await fault(sandbox, method="GET", path_prefix="/v2/users/me", status=503, times=10)
    response = await check_now(api, org)
    assert (response.status_code, response.json()["code"]) == (502, "zoom_unavailable")
    after = await organization(api, org)
    assert (after["status"], after["last_verified_at"]) == ("active", before["last_verified_at"])


async def test_revoked_refresh_token_means_needs_reconnect(api, org, zoom_account, sandbox):
    await activated(api, org, zoom_account)
    await expire_access_token(org["org_id"])
    await fault(sandbox, method="POST", path_prefix="/oauth/token", status=400, times=1)
    response = await check_now(api, org)
    assert response.status_code == 200 and response.json()["status"] == "needs_reconnect"
    assert "invalid_grant" in response.json()["status_reason"] or "Invalid Token" in response.json()["status_reason"]
    rows = await members_by_id(api, org)
    assert rows[org["member"]]["reason"] == "organization_needs_reconnect"
    async with raw_sql() as sql:
        tokens = await sql.fetchval(
            "SELECT refresh_token FROM connections WHERE org_id = $1 AND type = 'organization'", org["org_id"]
        )
    assert tokens is None
    assert await job_status("notify_incident", "queued") or await job_status("notify_incident", "picked")


async def test_a_rejected_access_token_is_refreshed_and_the_call_retried_once(api, org, zoom_account, sandbox):
    await activated(api, org, zoom_account)
    await sandbox.client.delete("/sandbox/calls")
    await fault(sandbox, method="GET", path_prefix="/v2/users/me", status=401, code=124, times=1)
    response = await check_now(api, org)
    assert response.status_code == 200 and response.json()["status"] == "active"
    calls = [(c["path"], c["status"], c.get("grant_type")) for c in await sandbox.calls()]
    assert calls[:3] == [("/v2/users/me", 401, None), ("/oauth/token", 200, "refresh_token"), ("/v2/users/me", 200, None)]


async def test_a_rate_limit_longer_than_a_request_may_wait_says_when_to_come_back(api, org, zoom_account, sandbox):
    await activated(api, org, zoom_account)
    await fault(sandbox, method="GET", path_prefix="/v2/users/me", status=429, times=1, retry_after=3600)
    response = await check_now(api, org)
    assert (response.status_code, response.json()["code"]) == (503, "zoom_rate_limited")
    assert int(response.headers["retry-after"]) > 3000
    assert (await organization(api, org))["status"] == "active"
