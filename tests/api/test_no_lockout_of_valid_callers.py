"""A stranger's failures never lock out a valid caller behind the same address (a NAT, a load balancer).

A real `roomlink serve` process, its failed-attempts limit at 30 a minute, the proxy 127.0.0.2 trusted
(ROOMLINK_TRUSTED_PROXIES). Ten thousand wrong keys from one address are refused without database work;
then a valid key, a member's session cookie, a launch link and an activation link from that same address
are answered as usual, directly and through the proxy. X-Forwarded-For counts only from the trusted proxy.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections import Counter

import httpx
import pytest

from tests.support.builders import unique
from tests.support.servers import API_KEY, API_KEY_SECRET, serving
from tests.support.zoom import create_activation_link, path_of

PROXY = "127.0.0.2"
METRICS_TOKEN = "metrics-token-0123456789abcdef"
KEY = {"Authorization": f"Bearer {API_KEY_SECRET}"}
WRONG_KEY = {"Authorization": "Bearer wrong-key-0123456789abcdef"}
STRANGER = "203.0.113.9"
FLOOD = 10_000


@pytest.fixture(scope="module")
def server(db, roomlink_env):
    env = {
        **os.environ,
        **roomlink_env,
        "ROOMLINK_API_KEYS": API_KEY,
        "ROOMLINK_FAILED_ATTEMPTS_PER_MINUTE": "30",
        "ROOMLINK_TRUSTED_PROXIES": f"{PROXY}/32",
        "ROOMLINK_METRICS_TOKEN": METRICS_TOKEN,
        # A small pool, so a gate of one slot (half the pool): a stranger's flood fills it and its queue.
        "ROOMLINK_DB_POOL_SIZE": "2",
        "ROOMLINK_LOG_FORMAT": "text",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with serving(env, listen="0.0.0.0") as (base_url, _):
        yield base_url


def client(base_url: str, via: str = "127.0.0.1", **kwargs) -> httpx.AsyncClient:
    """A client connecting from `via` (the whole of 127/8 is this machine)."""
    transport = httpx.AsyncHTTPTransport(local_address=via, limits=httpx.Limits(max_connections=50))
    return httpx.AsyncClient(base_url=base_url, transport=transport, timeout=30, **kwargs)


async def send_many(http: httpx.AsyncClient, count: int, method: str, path: str, headers: dict, concurrency: int = 50) -> Counter:
    statuses: Counter = Counter()
    left = iter(range(count))

    async def one_by_one() -> None:
        for _ in left:
            statuses[(await http.request(method, path, headers=headers)).status_code] += 1

    await asyncio.gather(*(one_by_one() for _ in range(concurrency)))
    return statuses


async def blocked_outcomes(http: httpx.AsyncClient) -> dict[str, float]:
    text = (await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})).text
    return {m[0]: float(m[1]) for m in re.findall(r'^roomlink_blocked_client_requests_total\{outcome="(\w+)"\} (\S+)$', text, re.M)}


async def provisioned(http: httpx.AsyncClient) -> dict[str, str]:
    org_id = unique("org")
    assert (await http.put(f"/api/v1/orgs/{org_id}", json={"name": "Acme"}, headers=KEY)).status_code == 201
    owner = f"{org_id}-owner"
    member = await http.put(
        f"/api/v1/orgs/{org_id}/members/{owner}", json={"email": f"{owner}@acme.test", "name": "Owner", "role": "owner"}, headers=KEY
    )
    assert member.status_code == 201
    return {"org_id": org_id, "owner": owner}


async def test_ten_thousand_wrong_keys_cost_no_database_work_and_lock_out_no_valid_caller(server):
    async with client(server) as direct, client(server, PROXY) as proxy:
        org = await provisioned(direct)
        launch = (await direct.post(f"/api/v1/orgs/{org['org_id']}/members/{org['owner']}/launch", headers=KEY)).json()
        signed_in = await direct.get(path_of(launch["url"]))
        assert signed_in.status_code == 303
        session = {"Cookie": f"roomlink_session={signed_in.cookies['roomlink_session']}"}
        activation = await create_activation_link(direct, org["org_id"], org["owner"])
        next_launch = (await direct.post(f"/api/v1/orgs/{org['org_id']}/members/{org['owner']}/launch", headers=KEY)).json()

        started = time.monotonic()
        statuses = await send_many(direct, FLOOD, "GET", "/api/v1/me/integrations/zoom", WRONG_KEY)
        flood_s = time.monotonic() - started
        assert statuses == {401: 30, 429: FLOOD - 30}, statuses
        answered = time.monotonic()
        assert (await direct.get(f"/api/v1/orgs/{org['org_id']}/integrations/zoom", headers={**KEY, "X-Roomlink-User": org["owner"]})).status_code == 200
        outcomes = await blocked_outcomes(direct)
        # Every refused wrong key was told in memory: no lookup passed the gate.
        assert outcomes.get("wrong_key_refused") == FLOOD - 30, outcomes
        assert outcomes.get("lookup_served", 0) + outcomes.get("lookup_refused", 0) == 0, outcomes
        # Guessing capability links from the same address blocks that family too.
        assert Counter([(await direct.get(f"/activate/guess-{n}")).status_code for n in range(31)]) == {404: 30, 429: 1}
        assert Counter([(await direct.get(f"/launch/guess-{n}")).status_code for n in range(31)]) == {410: 30, 429: 1}

        # The same address, valid credentials: answered as usual, at once.
        assert (await direct.get("/api/v1/me/integrations/zoom", headers=session)).status_code == 200
        assert (await direct.get(path_of(activation["url"]))).status_code == 200
        assert (await direct.get(path_of(next_launch["url"]))).status_code == 303
        assert time.monotonic() - answered < 5
        # …and what would fail anyway still is refused.
        assert (await direct.get("/api/v1/me/integrations/zoom", headers={"Cookie": "roomlink_session=forged"})).status_code == 429
        assert (await direct.get("/activate/guess-again")).status_code == 429

        # Behind the proxy: the stranger floods, the host product behind the same proxy address is served.
        behind = {"X-Forwarded-For": STRANGER}
        statuses = await send_many(proxy, 100, "GET", "/api/v1/me/integrations/zoom", {**WRONG_KEY, **behind})
        assert statuses == {401: 30, 429: 70}, statuses
        assert (await proxy.put(f"/api/v1/orgs/{org['org_id']}", json={"name": "Acme Inc"}, headers={**KEY, **behind})).status_code == 200
        assert (await proxy.get("/api/v1/me/integrations/zoom", headers={**session, **behind})).status_code == 200
        assert (await proxy.get(path_of(activation["url"]), headers=behind)).status_code == 200
        # Another client behind the proxy was never blocked: its failure is its own answer.
        assert (await proxy.get("/api/v1/me/integrations/zoom", headers={**WRONG_KEY, "X-Forwarded-For": "203.0.113.10"})).status_code == 401
    assert flood_s < 60


async def test_forwarded_for_counts_only_from_a_trusted_proxy(server):
    async with client(server, "127.0.0.3") as untrusted, client(server, PROXY) as proxy:
        # A new X-Forwarded-For per request from an untrusted peer changes nothing: the peer is the client.
        statuses = Counter()
        for n in range(32):
            forged = {**WRONG_KEY, "X-Forwarded-For": f"198.51.100.{n}"}
            statuses[(await untrusted.get("/api/v1/me/integrations/zoom", headers=forged)).status_code] += 1
        assert statuses == {401: 30, 429: 2}
        # From the trusted proxy each forwarded address is a client of its own, counted apart from the proxy's.
        for n in range(32):
            forwarded = {**WRONG_KEY, "X-Forwarded-For": f"198.51.100.{n}"}
            assert (await proxy.get("/api/v1/me/integrations/zoom", headers=forwarded)).status_code == 401
        # A client cannot forge its way out through the proxy either: the right-most untrusted address counts.
        for n in range(31):
            chained = {**WRONG_KEY, "X-Forwarded-For": f"192.0.2.{n}, 198.51.100.200"}
            status = (await proxy.get("/api/v1/me/integrations/zoom", headers=chained)).status_code
        assert status == 429


async def test_a_members_session_is_served_while_a_stranger_floods_forged_sessions_from_the_same_address(server):
    shared = "127.0.0.4"  # the office's NAT: the member and the stranger behind it
    async with client(server, shared) as office:
        org = await provisioned(office)
        launch = (await office.post(f"/api/v1/orgs/{org['org_id']}/members/{org['owner']}/launch", headers=KEY)).json()
        session = {"Cookie": f"roomlink_session={(await office.get(path_of(launch['url']))).cookies['roomlink_session']}"}
        assert (await office.get("/api/v1/me/integrations/zoom", headers=session)).status_code == 200
        forged = {"Cookie": "roomlink_session=forged-session-0123456789"}
        assert Counter([(await office.get("/api/v1/me/integrations/zoom", headers=forged)).status_code for _ in range(31)]) == {401: 30, 429: 1}
        before = await blocked_outcomes(office)

        transport = httpx.AsyncHTTPTransport(local_address=shared, limits=httpx.Limits(max_connections=150))
        async with httpx.AsyncClient(base_url=server, transport=transport, timeout=30) as stranger:
            flood = asyncio.ensure_future(send_many(stranger, 3000, "GET", "/api/v1/me/integrations/zoom", forged, concurrency=150))
            await asyncio.sleep(0.5)  # the flood under way
            statuses = Counter()
            while not flood.done() or not statuses:
                statuses[(await office.get("/api/v1/me/integrations/zoom", headers=session)).status_code] += 1
            flooded = await flood
        assert flooded == {429: 3000}, flooded
        assert statuses.keys() == {200}, statuses
        after = await blocked_outcomes(office)
        looked_up = sum(after.get(k, 0) - before.get(k, 0) for k in ("lookup_served", "lookup_refused"))
        shed = after.get("gate_full_refused", 0) - before.get("gate_full_refused", 0)
        # The member's session, seen succeeding before, never queued behind the stranger's lookups…
        assert after.get("vouched_served", 0) - before.get("vouched_served", 0) == sum(statuses.values()), (after, before)
        # …and what the stranger cost in lookups is what the gate let through (one at a time here).
        assert looked_up + shed == 3000, (looked_up, shed)
