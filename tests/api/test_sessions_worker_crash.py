"""R23 for sessions: a worker killed while Zoom makes a session's meeting leaves exactly one meeting.

Its own module, so that the only workers running are the ones the test starts and kills.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.servers import API_KEY_SECRET, worker
from tests.support.zoom import activated, eventually

KEY = {"Authorization": f"Bearer {API_KEY_SECRET}"}


async def held(sandbox, zoom_user_id: str) -> list[dict]:
    return (await sandbox.client.get(f"/sandbox/users/{zoom_user_id}/meetings")).json()


async def test_r23_a_worker_killed_mid_create_leaves_one_meeting_and_the_session_gets_it(
    api, org, zoom_account, sandbox, roomlink_env
):
    await activated(api, org, zoom_account)
    seat = zoom_account["seat_member"]
    path = f"/api/v1/orgs/{org['org_id']}/sessions/crash-1"
    start = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"host_user_id": org["member"], "title": "Survives a crash", "start_time": start, "duration_minutes": 30,
            "remote": True}
    assert (await api.put(path, json=body, headers=KEY)).status_code == 201
    env = {**roomlink_env, "ROOMLINK_MEETING_LEASE_S": "2"}
    await sandbox.client.put("/sandbox/settings", json={"meeting_answer_delay_s": 5})
    try:
        with worker(env) as doomed:
            booked = await api.put(f"{path}/bookings/b1", json={"name": "Ada", "email": "ada@people.test"}, headers=KEY)
            assert booked.status_code == 201 and booked.json()["link_status"] == "pending"
            assert await eventually(lambda: held(sandbox, seat["id"]), timeout=30), "Zoom made the meeting"
            doomed.kill()
            doomed.wait()
    finally:
        await sandbox.client.put("/sandbox/settings", json={"meeting_answer_delay_s": 0})

    with worker(env):
        async def ready():
            session = (await api.get(path, headers=KEY)).json()
            return session if session["status"] == "ready" else None

        session = await eventually(ready, timeout=60)

    [in_zoom] = await held(sandbox, seat["id"])
    assert session["meeting"]["zoom_meeting_id"] == in_zoom["id"]
    creates = [c for c in await sandbox.calls() if c["method"] == "POST" and c["path"] == f"/v2/users/{seat['id']}/meetings"]
    assert len(creates) == 1, "the second worker found the meeting in Zoom instead of making another"
