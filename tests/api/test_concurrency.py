"""Across processes: one token refresh at a time, and jobs that survive a dead worker (real PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import signal

import httpx

from server.jobs import VERIFY_ORGANIZATION
from tests.support.builders import expire_access_token, job_status
from tests.support.servers import ZOOM_APPS, worker
from tests.support.sql import unit_of_work_with_sql
from tests.support.zoom import activated, as_member, eventually, organization


async def refreshes(sandbox, account_id: str) -> list[dict]:
    return [
        call
        for call in await sandbox.calls()
        if call["path"] == "/oauth/token" and call["grant_type"] == "refresh_token"
        and call["client_id"] == ZOOM_APPS["ZOOM_ADMIN_APP_CLIENT_ID"] and call["account_id"] in (account_id, None)
    ]


async def test_200_concurrent_calls_on_two_processes_refresh_an_expired_token_once(
    api, org, zoom_account, sandbox, roomlink, second_roomlink
):
    await activated(api, org, zoom_account)
    await expire_access_token(org["org_id"])
    before = len(await refreshes(sandbox, zoom_account["id"]))
    path = f"/api/v1/orgs/{org['org_id']}/integrations/zoom/verify"
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=roomlink, timeout=60, limits=limits) as one, httpx.AsyncClient(
        base_url=second_roomlink, timeout=60, limits=limits
    ) as two:
        answers = await asyncio.gather(
            *(client.post(path, headers=as_member(org["owner"])) for client in [one, two] * 100)
        )
    assert [a.status_code for a in answers] == [200] * 200, {a.status_code: a.text for a in answers}
    assert all(a.json()["status"] == "active" for a in answers)
    assert len(await refreshes(sandbox, zoom_account["id"])) - before == 1
    rejected = [c for c in await sandbox.calls() if c["path"].startswith("/v2/") and c["status"] == 401]
    assert rejected == []


async def test_a_worker_killed_mid_job_loses_nothing(api, org, zoom_account, sandbox, roomlink_env):
    """The job runs again on another worker once the dead one's heartbeat goes stale.

    No other worker runs in this module (the `workers` fixture is module-scoped elsewhere), and these
    workers schedule no periodic verification: the one job in flight is the one enqueued here.
    """
    await activated(api, org, zoom_account)
    async with unit_of_work_with_sql() as (uow, sql):
        connection = await uow.connections.organization(org["org_id"])
        await sql.execute("UPDATE connections SET last_verified_at = NULL WHERE id = $1", connection.id)
        await uow.jobs.enqueue(VERIFY_ORGANIZATION, {"org_id": org["org_id"], "connection_id": connection.id})
        await uow.commit()
    # Zoom answers slowly, so the verification is in flight when its worker dies.
    await sandbox.client.post(
        "/sandbox/faults", json={"method": "GET", "path_prefix": "/v2/users/me", "delay_s": 6, "times": 1}
    )
    quiet = {**roomlink_env, "ROOMLINK_VERIFY_INTERVAL_S": "0"}
    with worker(quiet) as doomed:
        assert await eventually(lambda: job_status(VERIFY_ORGANIZATION, "picked"), timeout=20)
        os.kill(doomed.pid, signal.SIGKILL)
    assert await job_status(VERIFY_ORGANIZATION, "picked")
    assert not await verified(api, org)
    with worker(quiet):
        assert await eventually(lambda: verified(api, org), timeout=40)
    assert not await job_status(VERIFY_ORGANIZATION, "picked")


async def verified(api, org) -> bool:
    return (await organization(api, org))["last_verified_at"] is not None
