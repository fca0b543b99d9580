"""/metrics: two server processes and a worker add up (prometheus-client multiprocess mode), and the figures
read from PostgreSQL at scrape time agree with the database, after an activation, an admin lost, a storm of
per-second 429s and a daily limit."""

from __future__ import annotations

import json

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from domain.model import ConnectionStatus
from domain.precedence import effective_connection
from persistence.database import unit_of_work
from tests.api.conftest import provision_organization
from tests.support.builders import expire_access_token
from tests.support.servers import free_port, running, worker
from tests.support.sql import raw_sql
from tests.support.zoom import activate_through, as_member, eventually, organization

METRICS_TOKEN = "metrics-token-0123456789abcdef"
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@pytest.fixture(scope="module")
def stack(roomlink, roomlink_env, tmp_path_factory):
    """Two `serve`-like processes and a worker sharing one PROMETHEUS_MULTIPROC_DIR, as on one host."""
    env = {
        **roomlink_env,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path_factory.mktemp("metrics")),
        "ROOMLINK_METRICS_TOKEN": METRICS_TOKEN,
        # Three more processes on a PostgreSQL other suites share: small pools.
        "ROOMLINK_DB_POOL_SIZE": "3",
    }
    app = "server.app:create_app"
    with running(app, env, free_port()) as first, running(app, env, free_port()) as second:
        with worker(env):
            yield first, second


async def scrape(base_url: str) -> dict[tuple[str, frozenset], float]:
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.get("/metrics", headers=SCRAPE)
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_of_two_servers_and_a_worker_add_up_after_activation_admin_lost_and_429_storm(
    stack, api, org, zoom_account, sandbox
):
    first, second = stack
    async with httpx.AsyncClient(base_url=first, timeout=30) as one, httpx.AsyncClient(base_url=second, timeout=30) as two:
        await activate_through(one, org["org_id"], org["owner"], zoom_account["admin"]["email"])
        members_page = f"/api/v1/orgs/{org['org_id']}/integrations/zoom/members"
        for client, times in ((one, 3), (two, 4)):
            for _ in range(times):
                assert (await client.get(members_page, headers=as_member(org["owner"]))).status_code == 200

        await sandbox.client.patch(f"/sandbox/users/{zoom_account['admin']['id']}", json={"role": "member"})
        assert await eventually(lambda: _status_is(api, org, "admin_lost"))

        await expire_access_token(org["org_id"])
        storm = await sandbox.client.post(
            "/sandbox/faults",
            json={"method": "GET", "path_prefix": "/v2/users/me", "status": 429, "times": 3, "retry_after": 0},
        )
        assert storm.status_code in (200, 201), storm.text
        try:
            verify = f"/api/v1/orgs/{org['org_id']}/integrations/zoom/verify"
            assert (await two.post(verify, headers=as_member(org["owner"]))).status_code == 200
            daily = await sandbox.client.post(
                "/sandbox/faults",
                json={"method": "GET", "path_prefix": "/v2/users/me", "status": 429, "rate_limit_type": "Daily-limit"},
            )
            assert daily.status_code in (200, 201), daily.text
            # The worker's periodic verification may meet the limit first: the count is the same either way.
            spent = await one.post(verify, headers=as_member(org["owner"]))
            assert spent.status_code in (200, 429) and (spent.status_code == 200 or spent.json()["code"] == "zoom_daily_limit")
        finally:
            await sandbox.client.delete("/sandbox/faults")
        async with unit_of_work() as uow:
            await uow.jobs.enqueue("metrics_probe", {})
            await uow.commit()
        try:
            for base_url in (first, second):
                await _check_scrape(base_url, org, members_page)
        finally:
            async with raw_sql() as sql:
                await sql.execute("DELETE FROM pgqueuer WHERE entrypoint = 'metrics_probe'")


async def _status_is(api, org, status: str) -> bool:
    return (await organization(api, org))["status"] == status


async def _check_scrape(base_url: str, org, members_page: str) -> None:
    samples = await scrape(base_url)
    route = "/api/v1/orgs/{org_id}/integrations/zoom/members"
    assert value(samples, "roomlink_http_request_duration_seconds_count", method="GET", route=route, status="200") == 7
    assert not [labels for name, labels in samples if name.startswith("roomlink_http") and org["org_id"] in str(labels)]
    me = "GET /users/me"
    assert value(samples, "roomlink_zoom_requests_total", operation=me, outcome="429_qps", zoom_code="") == 3
    assert value(samples, "roomlink_zoom_requests_total", operation=me, outcome="429_daily", zoom_code="") == 1
    assert value(samples, "roomlink_zoom_requests_total", operation="POST /oauth/token", outcome="2xx", zoom_code="") >= 2
    assert value(samples, "roomlink_zoom_request_duration_seconds_count", operation="GET /users/me") >= 4
    assert value(samples, "roomlink_token_refreshes_total", type="organization", outcome="refreshed") >= 1
    assert value(samples, "roomlink_webhook_lag_seconds_count", event="user.updated") >= 1
    assert value(samples, "roomlink_job_duration_seconds_count", kind="zoom_event", outcome="ok") >= 1
    assert value(samples, "roomlink_jobs", kind="metrics_probe", status="queued") == 1
    assert value(samples, "roomlink_jobs_oldest_age_seconds", kind="metrics_probe", status="queued") >= 0

    async with raw_sql() as sql:
        connections = await sql.fetch("SELECT type, status, count(*) AS n FROM connections GROUP BY 1, 2")
        failed = await sql.fetchval("SELECT count(*) FROM event_deliveries WHERE status = 'failed'")
        members = await sql.fetch(
            """
            SELECT m.personal_status, m.seated, m.organization_removed, o.allow_members_to_remove, c.status
            FROM members m JOIN organizations o USING (org_id)
            LEFT JOIN connections c ON c.org_id = m.org_id AND c.type = 'organization'
            """
        )
    for record in connections:
        assert value(samples, "roomlink_connections", type=record["type"], status=record["status"]) == record["n"]
    assert value(samples, "roomlink_connections", type="organization", status="admin_lost") >= 1
    assert value(samples, "roomlink_event_deliveries", status="failed") == failed
    assert ("roomlink_event_deliveries", frozenset({("status", "pending")})) in samples
    expected: dict[tuple[str, str, str], int] = {}
    for record in members:
        effective = effective_connection(
            personal=None if record["personal_status"] == "none" else ConnectionStatus(record["personal_status"]),
            organization=ConnectionStatus(record["status"]) if record["status"] else None,
            has_seat=record["seated"],
            removed_organization=record["organization_removed"],
            members_may_remove=record["allow_members_to_remove"],
        )
        key = (effective.type.value if effective.type else "none", json.dumps(effective.connected), effective.reason or "")
        expected[key] = expected.get(key, 0) + 1
    exported = {
        (dict(labels)["type"], dict(labels)["connected"], dict(labels)["reason"]): count
        for (name, labels), count in samples.items()
        if name == "roomlink_members"
    }
    assert exported == expected
    assert exported[("organization", "false", "organization_admin_lost")] >= 2
    await _check_meeting_figures(samples)


async def test_the_read_cache_counts_its_hits_misses_and_barriers(stack, api):
    first, _ = stack
    ids = await provision_organization(api)
    before = await scrape(first)
    async with httpx.AsyncClient(base_url=first, timeout=30) as one:
        for _ in range(3):
            answer = await one.get(f"/api/v1/orgs/{ids['org_id']}/integrations/zoom", headers=as_member(ids["owner"]))
            assert answer.status_code == 200
    after = await scrape(first)
    grew = {
        outcome: value(after, "roomlink_read_cache_total", outcome=outcome)
        - value(before, "roomlink_read_cache_total", outcome=outcome)
        for outcome in ("hit", "miss", "barrier")
    }
    # Who is calling and the counts: read once (misses), then kept; a kept answer waits for a barrier.
    assert grew["miss"] >= 2 and grew["hit"] >= 2 and grew["barrier"] >= 1, grew


async def test_metrics_answer_404_without_a_token_configured_and_401_to_a_wrong_bearer(stack, roomlink):
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{roomlink}/metrics", headers=SCRAPE)).status_code == 404
        wrong = await client.get(f"{stack[0]}/metrics", headers={"Authorization": "Bearer not-the-token"})
        assert (wrong.status_code, wrong.json()["code"]) == (401, "metrics_token_invalid")
        assert (await client.get(f"{stack[0]}/metrics")).status_code == 401


async def _check_meeting_figures(samples) -> None:
    """Meetings pending and the daily budget per host bucket (R20), sessions by status (R16): as the database has them."""
    async with raw_sql() as sql:
        meetings = dict(await sql.fetch("SELECT status, count(*) FROM meetings GROUP BY status"))
        sessions = dict(await sql.fetch(
            "SELECT status, count(*) FROM remote_sessions WHERE start_time + make_interval(mins => duration_minutes) > now() "
            "GROUP BY status"
        ))
        used = [r["used"] for r in await sql.fetch("SELECT used FROM meeting_budget WHERE day = (now() AT TIME ZONE 'UTC')::date")]
    for status in ("scheduled", "pending", "needs_attention"):
        assert value(samples, "roomlink_meetings", status=status) == meetings.get(status, 0)
    for status in ("no_bookings", "link_pending", "ready", "needs_attention", "cancelled"):
        assert value(samples, "roomlink_sessions", status=status) == sessions.get(status, 0)
    assert value(samples, "roomlink_meeting_budget_hosts", spent="100") == sum(1 for u in used if u == 100)
    assert value(samples, "roomlink_meeting_budget_hosts", spent="0-49") == sum(1 for u in used if u < 50)
    assert ("roomlink_meetings_waiting_for_budget", frozenset()) in samples
