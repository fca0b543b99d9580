"""Benchmark: meetings through both connection kinds, exactly once (R5, R7, R20, R23).

    .venv/bin/python -m tests.perf.bench_meetings [--meetings 1000] [--concurrency 20] [--hosts 40]
                                                  [--zoom-latency-ms 200] [--reads 200]

Finds PostgreSQL like the tests do, works in a scratch database, and runs the Zoom sandbox and one
Roomlink server as real processes (no webhooks, no workers).

Half the hosts are seated in an organization's Zoom account (meetings go to
`POST /users/{seat}/meetings` with the organization's token), half connected personally
(`POST /users/me/meetings` with their own token). Each host has Zoom's 100 creates a day, so the
meetings are spread over --hosts hosts.

1. --meetings creates through the API at --concurrency, each with its own Idempotency-Key: API
   median and p99, and the creates Zoom received (must equal --meetings).
2. The same with the sandbox answering every /v2/users… call --zoom-latency-ms late.
3. --reads sequential `GET /api/v1/me/meetings/{id}` (a fresh read from Zoom each) against the
   sandbox's own answer to `GET /v2/meetings/{id}` for the same meetings, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import UTC, datetime, timedelta

import httpx

from tests.perf.common import in_scratch_database, ms, say, say_command

ORG = "bench-meetings"





def as_member(user_id: str) -> dict[str, str]:
    from tests.support.servers import API_KEY_SECRET

    return {"Authorization": f"Bearer {API_KEY_SECRET}", "X-Roomlink-User": user_id}


async def arrange(api: httpx.AsyncClient, sandbox: httpx.AsyncClient, hosts: int) -> list[str]:
    """An organization, half its hosts seated in its Zoom account, half connected personally."""
    from tests.support.servers import API_KEY_SECRET
    from tests.support.zoom import Sandbox, activated, connect_personal

    key = {"Authorization": f"Bearer {API_KEY_SECRET}"}
    zoom = Sandbox(sandbox)
    assert (await api.put(f"/api/v1/orgs/{ORG}", json={"name": "Bench"}, headers=key)).status_code == 201
    host_ids = [f"host-{n:03d}" for n in range(hosts)]
    members = [{"user_id": "owner", "email": "owner@bench.test", "name": "Owner", "role": "owner"}] + [
        {"user_id": user_id, "email": f"{user_id}@bench.test", "name": user_id, "role": "member"} for user_id in host_ids
    ]
    assert (await api.post(f"/api/v1/orgs/{ORG}/members/batch", json={"members": members}, headers=key)).status_code == 200
    account = await zoom.account("Bench Zoom")
    zoom_account = {
        "id": account,
        "owner": await zoom.user(account, "zoom.owner@bench-zoom.test", "owner"),
        "admin": await zoom.user(account, "zoom.admin@bench-zoom.test", "admin"),
    }
    seated, personal = host_ids[: hosts // 2], host_ids[hosts // 2 :]
    for user_id in seated:
        await zoom.user(account, f"{user_id}@bench.test", "member")
    await activated(api, {"org_id": ORG, "owner": "owner"}, zoom_account)
    for user_id in personal:
        own = await zoom.user(await zoom.account(f"own {user_id}"), f"{user_id}.home@bench-zoom.test", "owner")
        answer = await connect_personal(api, user_id, own["email"])
        assert answer.status_code in (200, 303), (answer.status_code, answer.text[:300])
    return host_ids


async def create_round(api: httpx.AsyncClient, hosts: list[str], meetings: int, concurrency: int, label: str) -> tuple[list[float], list[str], float]:
    gate = asyncio.Semaphore(concurrency)
    start = datetime.now(UTC) + timedelta(days=3)
    latencies: list[float] = []
    ids: list[str] = []

    async def one(n: int) -> None:
        host = hosts[n % len(hosts)]
        body = {
            "topic": f"{label} {n}",
            "start_time": (start + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration_minutes": 30,
        }
        headers = {**as_member(host), "Idempotency-Key": f"{label}-{n}"}
        async with gate:
            began = time.perf_counter()
            answer = await api.post("/api/v1/me/meetings", json=body, headers=headers)
            latencies.append(time.perf_counter() - began)
        assert answer.status_code == 201, answer.text
        ids.append(f"{host}:{answer.json()['id']}:{answer.json()['zoom_meeting_id']}")

    began = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(meetings)))
    return latencies, ids, time.perf_counter() - began


async def zoom_creates(sandbox: httpx.AsyncClient) -> int:
    calls = (await sandbox.get("/sandbox/calls")).json()
    return sum(1 for c in calls if c["method"] == "POST" and c["path"].endswith("/meetings") and c["status"] == 201)


async def direct_token(sandbox_url: str) -> str:
    """The Zoom owner approves the admin app for the benchmark itself (a grant of its own, not Roomlink's)."""
    from tests.support.servers import ZOOM_APPS

    client_id, secret = ZOOM_APPS["ZOOM_ADMIN_APP_CLIENT_ID"], ZOOM_APPS["ZOOM_ADMIN_APP_CLIENT_SECRET"]
    redirect = f"{os.environ['BENCH_ROOMLINK_URL']}/oauth/zoom/callback"
    async with httpx.AsyncClient(base_url=sandbox_url) as browser:
        approved = await browser.get(
            "/oauth/authorize",
            params={"response_type": "code", "client_id": client_id, "redirect_uri": redirect,
                    "login_hint": "zoom.owner@bench-zoom.test", "state": "bench"},
        )
        code = httpx.URL(approved.headers["location"]).params["code"]
        token = await browser.post(
            "/oauth/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
            auth=(client_id, secret),
        )
    return token.json()["access_token"]


async def read_round(
    api: httpx.AsyncClient, sandbox_url: str, ids: list[str], seated_hosts: int, reads: int
) -> tuple[list[float], list[float]]:
    """Meetings of seated hosts: the benchmark's own admin grant reads the same ones from the sandbox."""
    token = await direct_token(sandbox_url)
    seated = [entry for entry in ids if int(entry.split(":")[0].split("-")[1]) < seated_hosts][:reads]
    roomlink, zoom = [], []
    async with httpx.AsyncClient(base_url=sandbox_url) as direct:
        for entry in seated:
            host, meeting_id, zoom_meeting_id = entry.split(":")
            began = time.perf_counter()
            answer = await api.get(f"/api/v1/me/meetings/{meeting_id}", headers=as_member(host))
            roomlink.append(time.perf_counter() - began)
            assert answer.status_code == 200 and answer.json()["fetched_at"], answer.text
            began = time.perf_counter()
            own = await direct.get(f"/v2/meetings/{zoom_meeting_id}", headers={"Authorization": f"Bearer {token}"})
            zoom.append(time.perf_counter() - began)
            assert own.status_code == 200, own.text
    return roomlink, zoom


async def _run(args: argparse.Namespace) -> None:
    from persistence import database
    from persistence.token_cipher import KeyRing, TokenCipher
    from tests.support.servers import ZOOM_APPS, free_port, running

    token_keys = os.environ.get("ROOMLINK_TOKEN_KEYS") or f"bench:{KeyRing.generate_key()}"
    os.environ["ROOMLINK_TOKEN_KEYS"] = token_keys
    database.use_cipher(TokenCipher(KeyRing.from_config(token_keys)))
    await database.migrate()

    ports = {"roomlink": free_port(), "sandbox": free_port()}
    roomlink_url = f"http://127.0.0.1:{ports['roomlink']}"
    os.environ["BENCH_ROOMLINK_URL"] = roomlink_url
    sandbox_env = {**ZOOM_APPS, "ROOMLINK_BASE_URL": roomlink_url, "ZOOM_SANDBOX_AUTO_APPROVE": "1", "ZOOM_SANDBOX_WEBHOOK_URL": ""}
    timeout = httpx.Timeout(120.0, connect=5.0)
    limits = httpx.Limits(max_connections=args.concurrency + 5)
    with running("server.zoom_sandbox.app:create_sandbox_app", sandbox_env, ports["sandbox"], "/sandbox/settings") as sandbox_url:
        roomlink_env = {
            **ZOOM_APPS,
            "ROOMLINK_BASE_URL": roomlink_url,
            "ZOOM_OAUTH_BASE_URL": sandbox_url,
            "ZOOM_API_BASE_URL": f"{sandbox_url}/v2",
            "ROOMLINK_TOKEN_KEYS": token_keys,
            "SMTP_URL": "",
        }
        with running("server.app:create_app", roomlink_env, ports["roomlink"]) as base_url:
            async with (
                httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as api,
                httpx.AsyncClient(base_url=sandbox_url, timeout=timeout) as sandbox,
            ):
                hosts = await arrange(api, sandbox, args.hosts)
                await sandbox.delete("/sandbox/calls")
                say(f"\n1. {args.meetings} creates at concurrency {args.concurrency}, {len(hosts)} hosts (half seated, half personal)")
                fast, ids, wall = await create_round(api, hosts, args.meetings, args.concurrency, "fast")
                made = await zoom_creates(sandbox)
                say(f"   API {ms(fast)}; {wall:.1f} s wall; Zoom creates {made}")
                await sandbox.delete("/sandbox/calls")
                fault = {"method": "*", "path_prefix": "/v2/users", "delay_s": args.zoom_latency_ms / 1000, "times": 10**9}
                await sandbox.post("/sandbox/faults", json=fault)
                say(f"\n2. the same, the sandbox answering /v2/users… {args.zoom_latency_ms:g} ms late")
                slow, _, slow_wall = await create_round(api, hosts, args.meetings, args.concurrency, "slow")
                slow_made = await zoom_creates(sandbox)
                await sandbox.delete("/sandbox/faults")
                say(f"   API {ms(slow)}; {slow_wall:.1f} s wall; Zoom creates {slow_made}")
                say(f"\n3. {args.reads} fresh reads (GET /api/v1/me/meetings/{{id}}) against the sandbox's own GET /v2/meetings/{{id}}")
                roomlink, zoom = await read_round(api, sandbox_url, ids, args.hosts // 2, args.reads)
                say(f"   Roomlink {ms(roomlink)}; sandbox alone {ms(zoom)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meetings", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--hosts", type=int, default=40, help="Zoom allows 100 creates per host per day; two rounds need 2 × meetings / 100")
    parser.add_argument("--zoom-latency-ms", type=float, default=200)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    say_command("tests.perf.bench_meetings")
    in_scratch_database(_run, args)


if __name__ == "__main__":
    main()
