"""R24: a worker killed in the middle of a delivery loses nothing; another worker delivers it.

Its own module, so that the only workers running are the ones each test starts and kills.
"""

from __future__ import annotations

import pytest

from tests.support.receiver import start_receiver, verifies
from tests.support.servers import API_KEY_SECRET, worker
from tests.support.zoom import as_member, eventually

KEY = {"Authorization": f"Bearer {API_KEY_SECRET}"}


@pytest.fixture
def receiver():
    receiver, server = start_receiver()
    yield receiver
    receiver.hold.clear()
    server.shutdown()


async def test_r24_worker_killed_mid_delivery_the_event_is_delivered_anyway(api, org, receiver, roomlink_env):
    endpoint_id = f"crash-{org['org_id']}"
    registered = await api.put(
        f"/api/v1/event-endpoints/{endpoint_id}", json={"url": receiver.url, "org_id": org["org_id"]}, headers=KEY
    )
    assert registered.status_code == 201, registered.text
    receiver.hold.set()
    with worker(roomlink_env) as doomed:
        changed = await api.patch(
            f"/api/v1/orgs/{org['org_id']}/integrations/zoom/policy",
            json={"allow_members_to_remove": True},
            headers=as_member(org["owner"]),
        )
        assert changed.status_code == 200
        await receiver.wait_for(lambda _: receiver.holding.is_set(), timeout=20)
        doomed.kill()
        doomed.wait()
    receiver.hold.clear()
    with worker(roomlink_env):
        (delivered,) = await receiver.wait_for(lambda got: got, timeout=30)
        log = f"/api/v1/event-endpoints/{endpoint_id}/deliveries"

        async def settled():
            items = (await api.get(log, headers=KEY)).json()["items"]
            return items if items and items[0]["status"] == "delivered" else None

        (entry,) = await eventually(settled)
    assert delivered.event["type"] == "organization.connection.changed"
    assert delivered.headers["webhook-id"] == receiver.attempts[0].headers["webhook-id"] == entry["event_id"]
    assert verifies(delivered, registered.json()["secret"])
    assert entry["attempts"] == 2, "the killed worker's attempt, then the one that got through"
