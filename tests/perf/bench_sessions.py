"""Benchmark: remote sessions × bookings, one meeting per session (R16, R20, R23).

    .venv/bin/python -m tests.perf.bench_sessions [--sessions 1000] [--bookings 10] [--concurrency 20]
                                                  [--hosts 40] [--workers 2] [--zoom-latency-ms 200]

Finds PostgreSQL like the tests do, works in a scratch database, and runs the Zoom sandbox, two
Roomlink servers, --workers `roomlink worker` processes and a local SMTP server as real processes.
The hosts are seated in the organization's Zoom account.

Each round puts --sessions remote sessions, then books --bookings people into each at --concurrency
(the bookings of a session interleaved with every other session's, spread over both servers), and
reports: the booking API's median and p99, the time from the first booking until every session has
its link, Zoom's meeting calls by kind (creates must equal --sessions, updates 0), and the emails.
Round 2 does the same with the sandbox answering every /v2/users… call --zoom-latency-ms late.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

import httpx

from tests.perf.common import in_scratch_database, ms, say, say_command

ORG = "bench-sessions"





async def arrange(api: httpx.AsyncClient, sandbox: httpx.AsyncClient, hosts: int, key: dict) -> list[str]:
    from tests.support.zoom import Sandbox, activated

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
    for user_id in host_ids:
        await zoom.user(account, f"{user_id}@bench.test", "member")
    await activated(api, {"org_id": ORG, "owner": "owner"}, zoom_account)
    return host_ids


async def zoom_meeting_calls(sandbox: httpx.AsyncClient) -> dict[str, int]:
    calls = (await sandbox.get("/sandbox/calls")).json()
    counts = {"creates": 0, "updates": 0, "deletes": 0}
    for call in calls:
        if call["status"] >= 300:
            continue
        if call["method"] == "POST" and call["path"].endswith("/meetings"):
            counts["creates"] += 1
        elif call["method"] == "PATCH" and call["path"].startswith("/v2/meetings/"):
            counts["updates"] += 1
        elif call["method"] == "DELETE" and call["path"].startswith("/v2/meetings/"):
            counts["deletes"] += 1
    return counts


async def round_of(
    servers: list[httpx.AsyncClient], hosts: list[str], args: argparse.Namespace, label: str, key: dict, outbox
) -> None:
    sessions = [f"{label}-{n:05d}" for n in range(args.sessions)]
    start = datetime.now(UTC) + timedelta(days=2)
    for n, session_id in enumerate(sessions):
        body = {
            "host_user_id": hosts[n % len(hosts)],
            "title": f"Class {session_id}",
            "start_time": (start + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration_minutes": 45,
            "remote": True,
        }
        answer = await servers[n % 2].put(f"/api/v1/orgs/{ORG}/sessions/{session_id}", json=body, headers=key)
        assert answer.status_code == 201, answer.text
    gate = asyncio.Semaphore(args.concurrency)
    latencies: list[float] = []
    # Interleaved: every session's first booking comes early, later ones race the meeting being made.
    order = [(session_id, b) for b in range(args.bookings) for session_id in sessions]

    async def book(n: int, session_id: str, b: int) -> None:
        body = {"name": f"Person {b}", "email": f"{session_id}.{b}@people.test"}
        async with gate:
            began = time.perf_counter()
            answer = await servers[n % 2].put(
                f"/api/v1/orgs/{ORG}/sessions/{session_id}/bookings/b{b}", json=body, headers=key
            )
            latencies.append(time.perf_counter() - began)
        assert answer.status_code == 201, answer.text

    began = time.perf_counter()
    await asyncio.gather(*(book(n, session_id, b) for n, (session_id, b) in enumerate(order)))
    booked_in = time.perf_counter() - began
    say(f"   {len(order)} bookings in {booked_in:.1f} s: API {ms(latencies)}")

    async def not_ready() -> list[str]:
        waiting = []
        for session_id in sessions:
            session = (await servers[0].get(f"/api/v1/orgs/{ORG}/sessions/{session_id}", headers=key)).json()
            if session["status"] != "ready":
                waiting.append(session_id)
        return waiting

    waiting = sessions
    while waiting:
        waiting = [s for s in waiting if s in set(await not_ready())] if len(waiting) < 50 else await not_ready()
        if waiting:
            await asyncio.sleep(0.5)
    linked_in = time.perf_counter() - began
    made = await _link_times(label)
    say(f"   every session ready (polled) {linked_in:.1f} s after the first booking; from the database: the last link "
        f"recorded {made['last_s']:.1f} s after the first booking, median {made['median_s']:.2f} s from a session's "
        f"first booking to its link")
    expected = len(order)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        emailed = sum(1 for m in outbox.messages() if m.to.startswith(f"{label}-"))
        if emailed >= expected:
            break
        await asyncio.sleep(0.5)
    emailed = [m.to for m in outbox.messages() if m.to.startswith(f"{label}-")]
    say(f"   {len(emailed)} link emails ({len(set(emailed))} people) {time.perf_counter() - began:.1f} s after the first booking")


async def _link_times(label: str) -> dict[str, float]:
    """When each session's meeting was recorded in Zoom's answer, against its first booking (the database's clock)."""
    from persistence import database

    db = await database.engine().get_new_connection()
    try:
        rows = await db.fetch(
            """
            SELECT s.session_id, min(b.created_at) AS first_booking, max(m.updated_at) AS linked,
                   (SELECT min(created_at) FROM session_bookings WHERE session_id LIKE $1) AS start
            FROM remote_sessions s
            JOIN session_bookings b ON b.org_id = s.org_id AND b.session_id = s.session_id
            JOIN meetings m ON m.org_id = s.org_id AND m.session_id = s.session_id AND m.status = 'scheduled'
            WHERE s.session_id LIKE $1 GROUP BY s.session_id
            """,
            f"{label}-%",
        )
    finally:
        await db.close()
    waits = [(row["linked"] - row["first_booking"]).total_seconds() for row in rows]
    return {
        "last_s": max((row["linked"] - row["start"]).total_seconds() for row in rows),
        "median_s": statistics.median(waits),
    }


async def _run(args: argparse.Namespace) -> None:
    from persistence import database
    from persistence.token_cipher import KeyRing, TokenCipher
    from server.outbox import LocalSmtpServer
    from tests.support.servers import (
        API_KEY_SECRET,
        ZOOM_APPS,
        free_port,
        running,
        worker,
    )

    key = {"Authorization": f"Bearer {API_KEY_SECRET}"}
    token_keys = os.environ.get("ROOMLINK_TOKEN_KEYS") or f"bench:{KeyRing.generate_key()}"
    os.environ["ROOMLINK_TOKEN_KEYS"] = token_keys
    database.use_cipher(TokenCipher(KeyRing.from_config(token_keys)))
    await database.migrate()

    outbox = LocalSmtpServer()
    outbox.start()
    ports = {"one": free_port(), "two": free_port(), "sandbox": free_port()}
    roomlink_url = f"http://127.0.0.1:{ports['one']}"
    sandbox_env = {**ZOOM_APPS, "ROOMLINK_BASE_URL": roomlink_url, "ZOOM_SANDBOX_AUTO_APPROVE": "1", "ZOOM_SANDBOX_WEBHOOK_URL": ""}
    timeout = httpx.Timeout(120.0, connect=5.0)
    # Below uvicorn's 5 s keep-alive: a connection the server is closing is never reused (a ReadError otherwise).
    limits = httpx.Limits(max_connections=args.concurrency + 5, keepalive_expiry=2.0)
    try:
        with running("server.zoom_sandbox.app:create_sandbox_app", sandbox_env, ports["sandbox"], "/sandbox/settings") as sandbox_url:
            roomlink_env = {
                **ZOOM_APPS,
                "ROOMLINK_BASE_URL": roomlink_url,
                "ZOOM_OAUTH_BASE_URL": sandbox_url,
                "ZOOM_API_BASE_URL": f"{sandbox_url}/v2",
                "ROOMLINK_TOKEN_KEYS": token_keys,
                "SMTP_URL": outbox.url,
                "ROOMLINK_VERIFY_INTERVAL_S": "0",
            }
            with (
                running("server.app:create_app", roomlink_env, ports["one"]) as one_url,
                running("server.app:create_app", roomlink_env, ports["two"]) as two_url,
            ):
                async with (
                    httpx.AsyncClient(base_url=one_url, timeout=timeout, limits=limits) as one,
                    httpx.AsyncClient(base_url=two_url, timeout=timeout, limits=limits) as two,
                    httpx.AsyncClient(base_url=sandbox_url, timeout=timeout) as sandbox,
                ):
                    hosts = await arrange(one, sandbox, args.hosts, key)
                    with contextlib.ExitStack() as running_workers:
                        for _ in range(args.workers):
                            running_workers.enter_context(worker(roomlink_env))
                        await sandbox.delete("/sandbox/calls")
                        say(f"\n1. {args.sessions} sessions × {args.bookings} bookings at concurrency {args.concurrency}, "
                            f"2 servers, {args.workers} workers, {len(hosts)} hosts")
                        await round_of([one, two], hosts, args, "fast", key, outbox)
                        say(f"   Zoom meeting calls: {await zoom_meeting_calls(sandbox)}")
                        await sandbox.delete("/sandbox/calls")
                        fault = {"method": "*", "path_prefix": "/v2/users", "delay_s": args.zoom_latency_ms / 1000, "times": 10**9}
                        await sandbox.post("/sandbox/faults", json=fault)
                        say(f"\n2. the same, the sandbox answering /v2/users… {args.zoom_latency_ms:g} ms late")
                        await round_of([one, two], hosts, args, "slow", key, outbox)
                        await sandbox.delete("/sandbox/faults")
                        say(f"   Zoom meeting calls: {await zoom_meeting_calls(sandbox)}")
    finally:
        outbox.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--bookings", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--hosts", type=int, default=40, help="Zoom allows 100 creates per host per day; two rounds need 2 × sessions / 100")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--zoom-latency-ms", type=float, default=200)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    say_command("tests.perf.bench_sessions")
    in_scratch_database(_run, args)


if __name__ == "__main__":
    main()
