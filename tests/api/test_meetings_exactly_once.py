"""R23 across processes: one Zoom meeting per intent, whoever asks and whoever dies (real PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.servers import (
    API_KEY,
    free_port,
    log_file,
    stop,
    wait_until_healthy,
)
from tests.support.zoom import activated, as_member

MEETINGS = "/api/v1/me/meetings"


def body(topic: str) -> dict:
    start = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"topic": topic, "start_time": start, "duration_minutes": 30}


async def creates(sandbox, zoom_user_id: str) -> list[dict]:
    return [
        call for call in await sandbox.calls()
        if call["method"] == "POST" and call["path"] == f"/v2/users/{zoom_user_id}/meetings"
    ]


async def held(sandbox, zoom_user_id: str) -> list[dict]:
    return (await sandbox.client.get(f"/sandbox/users/{zoom_user_id}/meetings")).json()


async def test_r23_fifty_requests_with_one_key_on_two_processes_make_one_zoom_call(
    api, org, zoom_account, sandbox, roomlink, second_roomlink
):
    await activated(api, org, zoom_account)
    seat = zoom_account["seat_member"]
    headers = {**as_member(org["member"]), "Idempotency-Key": "class-42"}
    asked = body("Class 42")
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=roomlink, timeout=60, limits=limits) as one, httpx.AsyncClient(
        base_url=second_roomlink, timeout=60, limits=limits
    ) as two:
        answers = await asyncio.gather(*(client.post(MEETINGS, json=asked, headers=headers) for client in [one, two] * 25))

    assert sorted(a.status_code for a in answers) == [200] * 49 + [201], {a.status_code: a.text for a in answers}
    assert len({a.json()["id"] for a in answers}) == 1
    assert all(a.json()["status"] == "scheduled" for a in answers)
    assert len(await creates(sandbox, seat["id"])) == 1
    assert len(await held(sandbox, seat["id"])) == 1


async def test_r23_a_process_killed_between_zoom_and_its_commit_leaves_one_meeting_in_zoom_and_roomlink(
    api, org, zoom_account, sandbox, roomlink, roomlink_env
):
    await activated(api, org, zoom_account)
    seat = zoom_account["seat_member"]
    headers = {**as_member(org["member"]), "Idempotency-Key": "booking-killed"}
    asked = body("Survives a crash")
    port = free_port()
    env = {**os.environ, "ROOMLINK_API_KEYS": API_KEY, **roomlink_env, "ROOMLINK_MEETING_LEASE_S": "2"}
    log = log_file(port).open("w")
    doomed = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}/healthz", doomed)
        await sandbox.client.put("/sandbox/settings", json={"meeting_answer_delay_s": 5})
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            in_flight = asyncio.create_task(client.post(MEETINGS, json=asked, headers=headers))
            for _ in range(100):
                if await held(sandbox, seat["id"]):
                    break
                await asyncio.sleep(0.05)
            assert len(await held(sandbox, seat["id"])) == 1, "Zoom made the meeting"
            os.kill(doomed.pid, signal.SIGKILL)
            doomed.wait()
            with pytest.raises(httpx.HTTPError):
                await in_flight
    finally:
        await sandbox.client.put("/sandbox/settings", json={"meeting_answer_delay_s": 0})
        stop(doomed)
        log.close()

    retried = await api.post(MEETINGS, json=asked, headers=headers)

    assert retried.status_code == 200, retried.text
    meeting = retried.json()
    assert meeting["status"] == "scheduled"
    [in_zoom] = await held(sandbox, seat["id"])
    assert in_zoom["id"] == meeting["zoom_meeting_id"]
    assert len(await creates(sandbox, seat["id"])) == 1
    listed = (await api.get(MEETINGS, headers=as_member(org["member"]))).json()["items"]
    assert [item["id"] for item in listed] == [meeting["id"]]
    lists = [c for c in await sandbox.calls() if c["path"] == f"/v2/users/{seat['id']}/meetings" and c["method"] == "GET"]
    assert len(lists) == 1
