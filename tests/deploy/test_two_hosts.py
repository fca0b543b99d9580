"""Roomlink past one host (tests/deploy/conftest.py: two app hosts in network namespaces of their own behind a
load balancer, PgBouncer in transaction mode, two workers, the Zoom sandbox), proved through the load balancer
as a host product reaches it: one Zoom meeting per intent whichever host answers (R23), reads true across
hosts, a rolling restart under load with no failed request, PostgreSQL unreachable for seconds with nothing
lost, and a client's address believed only from the load balancer."""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from tests.api.conftest import open_zoom_account, provision_organization
from tests.deploy.conftest import FAILED_ATTEMPTS_PER_MINUTE, METRICS_TOKEN, Topology
from tests.support.zoom import KEY, Sandbox, activated, as_member, eventually

MEETINGS = "/api/v1/me/meetings"
#: How long PostgreSQL stays unreachable, at least.
OUTAGE_S = 3.0


@pytest.fixture(scope="module")
async def api(topology):
    async with httpx.AsyncClient(base_url=topology.balancer.url, timeout=60, limits=httpx.Limits(max_connections=100)) as client:
        yield client


@pytest.fixture(scope="module")
async def sandbox(topology):
    async with httpx.AsyncClient(base_url=topology.sandbox_url, timeout=30) as client:
        yield Sandbox(client)


@pytest.fixture(scope="module")
async def connected(api, sandbox) -> dict:
    """An organization provisioned and connected to its Zoom account, all through the load balancer."""
    org = await provision_organization(api)
    zoom_account = await open_zoom_account(sandbox, org)
    await activated(api, org, zoom_account)
    return {**org, "zoom": zoom_account}


def hosts_of(answers: list[httpx.Response]) -> Counter[str]:
    return Counter(answer.headers.get("x-upstream") for answer in answers)


async def creates_for(sandbox: Sandbox, zoom_user_id: str) -> int:
    return sum(
        1 for call in await sandbox.calls()
        if call["method"] == "POST" and call["path"] == f"/v2/users/{zoom_user_id}/meetings" and call["status"] == 201
    )


def later(hours: int = 48) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_r23_one_meeting_per_intent_whichever_host_answers(api, sandbox, connected, topology: Topology):
    seat, host = connected["zoom"]["seat_member"], connected["zoom"]["seat_admin"]

    headers = {**as_member(connected["member"]), "Idempotency-Key": "class-7"}
    asked = {"topic": "Class 7", "start_time": later(), "duration_minutes": 30}
    answers = await asyncio.gather(*(api.post(MEETINGS, json=asked, headers=headers) for _ in range(40)))
    assert sorted(a.status_code for a in answers) == [200] * 39 + [201], {a.status_code: a.text for a in answers}
    assert len({a.json()["id"] for a in answers}) == 1
    assert set(hosts_of(answers)) == {h.name for h in topology.hosts}, hosts_of(answers)
    assert await creates_for(sandbox, seat["id"]) == 1

    sessions = f"/api/v1/orgs/{connected['org_id']}/sessions"
    body = {"host_user_id": connected["admin"], "title": "Evening choir", "start_time": later(), "duration_minutes": 60,
            "remote": True}
    assert (await api.put(f"{sessions}/choir", json=body, headers=KEY)).status_code == 201
    bookings = await asyncio.gather(*(
        api.put(f"{sessions}/choir/bookings/b{n}", json={"name": f"Singer {n}", "email": f"s{n}.{connected['org_id']}@people.test"},
                headers=KEY)
        for n in range(40)
    ))
    assert [b.status_code for b in bookings] == [201] * 40, {b.status_code: b.text for b in bookings}
    assert set(hosts_of(bookings)) == {h.name for h in topology.hosts}

    async def ready() -> dict | None:
        session = (await api.get(f"{sessions}/choir", headers=KEY)).json()
        return session if session["status"] == "ready" else None

    session = await eventually(ready, timeout=30)
    assert session and session["bookings"] == 40, session
    assert await creates_for(sandbox, host["id"]) == 1
    [in_zoom] = (await sandbox.client.get(f"/sandbox/users/{host['id']}/meetings")).json()
    assert in_zoom["id"] == session["meeting"]["zoom_meeting_id"]


async def read_cache_hits(topology: Topology) -> dict[str, float]:
    hits = {}
    async with httpx.AsyncClient(timeout=10) as client:
        for host in topology.hosts:
            text = (await client.get(f"{host.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})).text
            found = re.findall(r'^roomlink_read_cache_total\{outcome="hit"\} (\S+)$', text, re.M)
            hits[host.name] = sum(float(value) for value in found)
    return hits


async def on_both_hosts(request) -> list[httpx.Response]:
    """Requests made one after another until each host has answered one (round robin: two, as a rule)."""
    answers: list[httpx.Response] = []
    while len(hosts_of(answers)) < 2:
        assert len(answers) < 10, hosts_of(answers)
        answers.append(await request())
    return answers


async def test_a_change_through_one_host_is_what_the_other_answers_next(api, topology: Topology):
    """Behind PgBouncer in transaction mode no notification reaches a host's change feed, so its read cache
    must stay off: each read asks PostgreSQL, and the answers are true across hosts."""
    ids = await provision_organization(api)
    org_id, admin, owner = ids["org_id"], ids["admin"], ids["owner"]
    page = f"/api/v1/orgs/{org_id}/integrations/zoom/members?limit=50"
    counts = f"/api/v1/orgs/{org_id}/integrations/zoom"
    for round_ in range(8):
        role = ("member", "admin")[round_ % 2]
        for _ in range(2):  # each host has asked (and would have kept): who the admin is, the page, the counts
            assert (await api.get(page, headers=as_member(owner))).status_code == 200
            assert (await api.get(counts, headers=as_member(admin))).status_code == (200 if role == "member" else 403)
        changed = await api.put(
            f"/api/v1/orgs/{org_id}/members/{admin}",
            json={"email": f"{admin}@acme.test", "name": f"Admin {round_}", "role": role}, headers=KEY,
        )
        assert changed.status_code == 200, changed.text
        # Next, on both hosts (the other host among them): the role the admin has now, the name the page shows.
        allowed = await on_both_hosts(lambda: api.get(counts, headers=as_member(admin)))
        assert {a.status_code for a in allowed} == {200 if role == "admin" else 403}
        pages = await on_both_hosts(lambda: api.get(page, headers=as_member(owner)))
        assert {{row["user_id"]: row["name"] for row in p.json()["items"]}[admin] for p in pages} == {f"Admin {round_}"}
    assert await read_cache_hits(topology) == {host.name: 0 for host in topology.hosts}


class Load:
    """`loops` clients sending requests through the load balancer one after another until `stop()`; every
    answer (or transport error) is kept with the host that gave it."""

    def __init__(self, api: httpx.AsyncClient, org: dict, loops: int = 4) -> None:
        self.api = api
        self.org = org
        self.loops = loops
        self.answers: list[tuple[str, int | str, httpx.Headers | None, str]] = []
        #: Members whose creation was acknowledged (201): each must be there afterwards.
        self.acknowledged: list[str] = []
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    def start(self) -> Load:
        self._tasks = [asyncio.create_task(self._loop(n)) for n in range(self.loops)]
        return self

    async def stop(self) -> None:
        self._stopping.set()
        await asyncio.gather(*self._tasks)

    async def _loop(self, n: int) -> None:
        org_id = self.org["org_id"]
        for i in itertools.count():
            if self._stopping.is_set():
                return
            kind = ("create", "page", "me", "create")[(i + n) % 4]
            user_id = f"{org_id}-load-{n}-{i}-{secrets.token_hex(2)}"
            try:
                if kind == "create":
                    response = await self.api.put(
                        f"/api/v1/orgs/{org_id}/members/{user_id}",
                        json={"email": f"{user_id}@acme.test", "name": f"Load {n} {i}", "role": "member"}, headers=KEY,
                    )
                elif kind == "page":
                    response = await self.api.get(
                        f"/api/v1/orgs/{org_id}/integrations/zoom/members?limit=20", headers=as_member(self.org["owner"])
                    )
                else:
                    response = await self.api.get("/api/v1/me/integrations/zoom", headers=as_member(self.org["member"]))
            except httpx.HTTPError as error:
                self.answers.append((kind, type(error).__name__, None, ""))
                continue
            self.answers.append((kind, response.status_code, response.headers, response.text[:200]))
            if kind == "create" and response.status_code == 201:
                self.acknowledged.append(user_id)

    def failed(self, since: int = 0) -> list[tuple]:
        return [(kind, status, text) for kind, status, _, text in self.answers[since:] if not (isinstance(status, int) and status < 300)]

    def served_by(self, since: int) -> Counter[str]:
        return Counter(headers.get("x-upstream") for _, _, headers, _ in self.answers[since:] if headers is not None)

    async def until(self, check, timeout: float = 30) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not check():
            assert loop.time() < deadline, "not within the time"
            await asyncio.sleep(0.05)


async def test_a_rolling_restart_under_load_fails_no_request(api, topology: Topology):
    """Each host in turn: the load balancer takes it out and lets its requests finish, SIGTERM stops it, it
    starts again and goes back into service once /readyz answers. Nothing is retried but requests whose
    connection could not be opened (never sent)."""
    balancer = topology.balancer
    org = await provision_organization(api)
    load = Load(api, org).start()
    try:
        await load.until(lambda: len(load.answers) >= 20)
        for host in topology.hosts:
            old_pid = host.process.pid
            balancer.drain(host.name)
            await load.until(lambda host=host: balancer.in_flight[host.name] == 0)
            # uvicorn finishes its requests, then exits by the signal it was stopped with.
            assert await host.stopped() in (0, -15), host.tail()
            host.start()
            await host.ready()
            assert host.process.pid != old_pid
            balancer.restore(host.name)
            back = len(load.answers)
            await load.until(lambda host=host, back=back: load.served_by(back)[host.name] >= 10)
    finally:
        await load.stop()
    assert load.failed() == [], load.failed()[:10]
    assert len(load.answers) > 100 and set(load.served_by(0)) == {h.name for h in topology.hosts}
    async with httpx.AsyncClient(base_url=balancer.url, timeout=30) as fresh:
        listed = await fresh.get(f"/api/v1/orgs/{org['org_id']}/integrations/zoom/members?limit=1", headers=as_member(org["owner"]))
    assert listed.json()["total"] == 3 + len(load.acknowledged)


async def test_postgresql_unreachable_for_seconds_answers_503_then_recovers_with_nothing_lost(
    api, sandbox, connected, topology: Topology
):
    """Every process loses PostgreSQL (the relay in front of it is cut, PgBouncer stays up) for a few seconds
    under load, then gets it back; nothing is restarted."""
    org = await provision_organization(api)
    load = Load(api, org).start()
    loop = asyncio.get_running_loop()
    try:
        await load.until(lambda: len(load.acknowledged) >= 10)
        topology.relay.cut()
        cut_at, cut_time = len(load.answers), loop.time()
        # PostgreSQL stays away a few seconds, long enough for the load balancer to see no host ready.
        await load.until(lambda: loop.time() - cut_time > OUTAGE_S and not topology.balancer.in_service(), timeout=30)
        topology.relay.heal()
        healed_at = len(load.answers)

        def recovered() -> bool:
            recent = load.answers[healed_at:]
            return len(recent) >= 20 and all(isinstance(s, int) and s < 300 for _, s, _, _ in recent[-20:])

        await load.until(recovered, timeout=45)
    finally:
        await load.stop()
    failed = load.failed()
    assert failed, "PostgreSQL's absence was not seen"
    for kind, status, text in failed:
        assert status == 503 and ("database_unavailable" in text or "database_busy" in text), (kind, status, text)
    assert all(
        int(headers["retry-after"]) > 0 for _, status, headers, _ in load.answers if status == 503
    ), "every 503 says when to come back"
    assert load.failed(cut_at)[0:1] and not load.failed(len(load.answers) - 20)

    connection = await asyncpg.connect(topology.database_url)
    try:
        there = {row["user_id"] for row in await connection.fetch("SELECT user_id FROM members WHERE org_id = $1", org["org_id"])}
    finally:
        await connection.close()
    assert set(load.acknowledged) <= there, set(load.acknowledged) - there
    for host in topology.hosts:
        async with httpx.AsyncClient(timeout=5) as client:
            assert (await client.get(f"{host.url}/readyz")).status_code == 200

    # The workers are back too: a booking's meeting is made by a job.
    sessions = f"/api/v1/orgs/{connected['org_id']}/sessions"
    body = {"host_user_id": connected["member"], "title": "After the outage", "start_time": later(), "duration_minutes": 30,
            "remote": True}
    assert (await api.put(f"{sessions}/after", json=body, headers=KEY)).status_code == 201
    booked = await api.put(f"{sessions}/after/bookings/b1", json={"name": "One", "email": f"one.{org['org_id']}@people.test"}, headers=KEY)
    assert booked.status_code == 201, booked.text

    async def ready() -> bool:
        return (await api.get(f"{sessions}/after", headers=KEY)).json()["status"] == "ready"

    assert await eventually(ready, timeout=30)


async def test_the_client_address_is_the_forwarded_one_only_from_the_load_balancer(topology: Topology):
    """Failed attempts count per client address: behind the load balancer each client has its own count;
    an X-Forwarded-For from anyone else is ignored."""
    wrong = {"Authorization": "Bearer not-a-key-of-this-roomlink-0000"}
    path = "/api/v1/me/integrations/zoom"

    def client_from(address: str, base_url: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base_url, timeout=10, transport=httpx.AsyncHTTPTransport(local_address=address))

    async with client_from("127.0.0.10", topology.balancer.url) as first, client_from("127.0.0.11", topology.balancer.url) as second:
        statuses = [(await first.get(path, headers=wrong)).status_code for _ in range(4 * FAILED_ATTEMPTS_PER_MINUTE)]
        assert statuses[-1] == 429 and set(statuses) == {401, 429}, statuses
        assert (await second.get(path, headers=wrong)).status_code == 401, "another client keeps its own count"

    host = topology.hosts[0]
    async with client_from(topology.network.stranger, host.url) as stranger:
        statuses = [
            (await stranger.get(path, headers={**wrong, "X-Forwarded-For": f"198.51.100.{n}"})).status_code
            for n in range(2 * FAILED_ATTEMPTS_PER_MINUTE)
        ]
    assert statuses[-1] == 429, "an address forwarded by someone else than the load balancer is not believed"
