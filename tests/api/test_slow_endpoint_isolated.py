"""R24: one slow event endpoint delays only its own deliveries, never another organization's."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.api.conftest import KEY, provision_organization
from tests.support.builders import unique
from tests.support.receiver import start_receiver
from tests.support.servers import worker
from tests.support.zoom import as_member

SLOW_S = 10.0


@pytest.fixture(scope="module")
def patient_worker(roomlink, roomlink_env):
    """One worker that waits for an endpoint longer than the slow one takes, as production's 10 s timeout would."""
    with worker({**roomlink_env, "ROOMLINK_EVENTS_TIMEOUT_S": str(SLOW_S + 3)}) as process:
        yield process


@pytest.fixture
def receivers():
    started = [start_receiver() for _ in range(2)]
    yield [receiver for receiver, _ in started]
    for receiver, server in started:
        receiver.delay_s = 0
        server.shutdown()


async def register(api, url: str, org_id: str | None) -> None:
    body = {"url": url, **({"org_id": org_id} if org_id else {})}
    response = await api.put(f"/api/v1/event-endpoints/{unique('endpoint')}", json=body, headers=KEY)
    assert response.status_code == 201, response.text


async def change_policy(api, org: dict, allow: bool) -> None:
    response = await api.patch(
        f"/api/v1/orgs/{org['org_id']}/integrations/zoom/policy",
        json={"allow_members_to_remove": allow},
        headers=as_member(org["owner"]),
    )
    assert response.status_code == 200, response.text


async def test_r24_a_slow_endpoint_does_not_delay_another_organizations_events(api, patient_worker, receivers):
    slow, fast = receivers
    slow.delay_s = SLOW_S
    slow_org, fast_org = await provision_organization(api), await provision_organization(api)
    await register(api, slow.url, None)  # hears every organization, and answers each after 10 s
    await register(api, fast.url, fast_org["org_id"])
    for allow in (True, False, True):
        await change_policy(api, slow_org, allow)
    await asyncio.get_running_loop().run_in_executor(None, slow.holding.wait, 15)
    assert slow.holding.is_set(), "the slow endpoint is answering its first delivery"

    asked = time.monotonic()
    await change_policy(api, fast_org, True)

    got = await fast.wait_for(
        lambda received: [r for r in received if r.event["org_id"] == fast_org["org_id"]], timeout=SLOW_S
    )
    assert got[0].at - asked < 1.5, f"the fast endpoint heard after {got[0].at - asked:.1f} s"
    assert got[0].event["type"] == "organization.connection.changed"
