"""Benchmark: an organization of 100,000 members whose connection breaks, heard by the host product (R24).

    .venv/bin/python -m tests.perf.bench_events [--members 100000] [--workers 2] [--runs 10]

Finds PostgreSQL like the tests do, works in a scratch database, runs Roomlink and `roomlink worker`
processes for real, and a receiver (tests/support/receiver.py, keep-alive) in this process.

1. Request-path cost of the break: on the organization (members by direct SQL, 9 in 10 seated
   through an active organization connection), `mark_broken(..., ADMIN_LOST, ...)` then the
   unit of work's flush, with pg_stat_xact_user_tables read inside the transaction before it
   commits: rows written per table (members must be 0, events 1); median time of break + commit
   over --runs runs, each undone by `recover` (its events are dropped before part 2).
2. From Zoom's webhook to the last member event delivered: an endpoint is registered, the
   workers start, and a signed `user.updated` (the activating admin demoted) is posted to
   /webhooks/zoom. Times: webhook answered, organization event delivered, first and last member
   event delivered; member events per second (first to last); every relying member told once;
   peak RSS of each worker process during the fan-out and delivery (sampled every 0.2 s).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import statistics
import time
import uuid

import httpx

from tests.perf.common import in_scratch_database, say, say_command

ORG = "bench-events"



def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


async def seed(size: int):
    """`size` members by direct SQL, an active organization connection, Zoom users for 9 in 10; the seeding's own events dropped."""
    from domain.model import Connection, ConnectionStatus, ConnectionType, ZoomUser
    from persistence import database
    from server.clock import utcnow
    from tests.support.sql import unit_of_work_with_sql

    now = utcnow()
    connection = Connection(
        id=str(uuid.uuid4()), org_id=ORG, type=ConnectionType.ORGANIZATION, user_id=None,
        zoom_account_id=f"acct-{ORG}", zoom_user_id=f"{ORG}-zadmin", zoom_email=f"admin@{ORG}.example",
        status=ConnectionStatus.ACTIVE, status_reason=None, status_changed_at=now, connected_at=now,
    )
    async with unit_of_work_with_sql() as (uow, sql):
        await uow.organizations.save(ORG, f"Bench {size:,}", now)
        await sql.execute(
            """
            INSERT INTO members (org_id, user_id, email, email_normalized, name, role,
                                 organization_removed, personal_status, seated, created_at, updated_at)
            SELECT $1::text, $1::text || '.u' || lpad(i::text, 6, '0'), 'person.' || i || '@' || $1::text || '.example',
                   'person.' || i || '@' || $1::text || '.example', 'Person ' || lpad(i::text, 6, '0'),
                   CASE WHEN i = 0 THEN 'owner' ELSE 'member' END, false, 'none', false, $3::timestamptz, $3::timestamptz
            FROM generate_series(0, $2::int - 1) AS i
            """,
            ORG, size, now,
        )
        await uow.connections.add(connection)
        seated = [ZoomUser(zoom_user_id=f"{ORG}-z{i}", email=f"person.{i}@{ORG}.example") for i in range(size) if i % 10 != 9]
        seated.append(ZoomUser(zoom_user_id=connection.zoom_user_id, email=connection.zoom_email, role_id="1"))
        await uow.zoom_users.sync(connection, seated)
        await uow.commit()
    await drop_events()
    async with database.connection() as db:
        await db.execute("VACUUM ANALYZE members, zoom_users, connections, events, event_deliveries")
    return connection, len(seated) - 1


async def drop_events() -> None:
    from persistence import database

    async with database.connection() as db:
        await db.execute("DELETE FROM events WHERE org_id = $1", ORG)
        await db.execute("DELETE FROM pgqueuer WHERE entrypoint = 'fan_out_event'")


async def xact_writes(db) -> dict[str, tuple[int, int, int]]:
    rows = await db.fetch(
        "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables"
        " WHERE n_tup_ins + n_tup_upd + n_tup_del > 0"
    )
    return {row["relname"]: (row["n_tup_ins"], row["n_tup_upd"], row["n_tup_del"]) for row in rows}


async def bench_break(connection, runs: int) -> dict:
    from domain import keeping
    from domain.model import ConnectionStatus
    from persistence.database import unit_of_work
    from server.clock import utcnow
    from tests.support.sql import unit_of_work_with_sql

    times, writes = [], None
    for _ in range(runs):
        started = time.perf_counter()
        async with unit_of_work_with_sql() as (uow, sql):
            await keeping.mark_broken(uow, connection, ConnectionStatus.ADMIN_LOST, "benchmark", "bench", utcnow())
            await uow.outbox.flush()
            seen = await xact_writes(sql)
            await uow.commit()
        times.append((time.perf_counter() - started) * 1000)
        writes = writes or seen
        async with unit_of_work() as uow:
            await keeping.recover(uow, connection, "bench", "benchmark", utcnow())
            await uow.commit()
    await drop_events()
    return {"median_ms": statistics.median(times), "writes": writes}


def zoom_webhook(connection, secret: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({
        "event": "user.updated",
        "event_ts": int(time.time() * 1000),
        "payload": {
            "account_id": connection.zoom_account_id,
            "object": {"id": connection.zoom_user_id, "role_id": "2", "role": "member"},
            "old_object": {"id": connection.zoom_user_id, "role_id": "1"},
        },
    }).encode()
    timestamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body.decode()}".encode(), hashlib.sha256).hexdigest()
    return body, {"x-zm-signature": f"v0={digest}", "x-zm-request-timestamp": timestamp, "content-type": "application/json"}


async def bench_delivery(api: httpx.AsyncClient, env: dict[str, str], connection, relying: int, workers: int) -> dict:
    from tests.support.receiver import start_receiver
    from tests.support.servers import API_KEY_SECRET, ZOOM_APPS, worker

    receiver, server = start_receiver()
    key = {"Authorization": f"Bearer {API_KEY_SECRET}"}
    registered = await api.put("/api/v1/event-endpoints/bench", json={"url": receiver.url, "org_id": ORG}, headers=key)
    assert registered.status_code == 201, registered.text
    peaks: dict[int, float] = {}
    from contextlib import ExitStack

    with ExitStack() as stack:
        processes = [stack.enter_context(worker(env)) for _ in range(workers)]
        await asyncio.sleep(3)  # the workers are up and idle
        idle = {p.pid: rss_mb(p.pid) for p in processes}
        body, headers = zoom_webhook(connection, ZOOM_APPS["ZOOM_ADMIN_APP_WEBHOOK_SECRET"])
        started = time.monotonic()
        answered = await api.post("/webhooks/zoom", content=body, headers=headers)
        answered_s = time.monotonic() - started
        assert answered.status_code == 200, answered.text
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            for p in processes:
                peaks[p.pid] = max(peaks.get(p.pid, 0.0), rss_mb(p.pid))
            with receiver.lock:
                got = len(receiver.received)
            if got >= relying + 1:
                break
            await asyncio.sleep(0.2)
    server.shutdown()
    with receiver.lock:
        received = list(receiver.received)
    members = [r for r in received if r.event["type"] == "member.connection.changed"]
    (organization,) = [r for r in received if r.event["type"] == "organization.connection.changed"]
    organization_s = organization.at - started
    first_s = min(r.at for r in members) - started
    last_s = max(r.at for r in members) - started
    members = [r.event for r in members]
    organization = organization.event
    return {
        "answered_s": answered_s,
        "organization_s": organization_s,
        "first_s": first_s,
        "last_s": last_s,
        "members_told": len({e["data"]["user_id"] for e in members}),
        "member_events": len(members),
        "affected": organization["data"]["affected_members"],
        "relying": relying,
        "attempts": len(receiver.attempts),
        "idle_mb": idle,
        "peak_mb": peaks,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=10, help="timed breaks in part 1")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    say_command("tests.perf.bench_events")
    in_scratch_database(_run, args)


async def _run(args: argparse.Namespace) -> None:
    from persistence import database
    from persistence.token_cipher import KeyRing, TokenCipher
    from tests.support.servers import ZOOM_APPS, free_port, log_file, running

    token_keys = os.environ.get("ROOMLINK_TOKEN_KEYS") or f"bench:{KeyRing.generate_key()}"
    os.environ["ROOMLINK_TOKEN_KEYS"] = token_keys
    database.use_cipher(TokenCipher(KeyRing.from_config(token_keys)))
    await database.migrate()
    await database.open_pool()
    try:
        say(f"seeding {args.members:,} members …")
        seeded = time.perf_counter()
        connection, relying = await seed(args.members)
        say(f"  {time.perf_counter() - seeded:.1f} s; {relying:,} rely on the organization connection")
        say("\n1. request-path cost of the break")
        cost = await bench_break(connection, args.runs)
        env = {
            **ZOOM_APPS,
            "ROOMLINK_TOKEN_KEYS": token_keys,
            "ROOMLINK_EVENTS_ALLOW_LOOPBACK": "1",
            "ROOMLINK_VERIFY_INTERVAL_S": "0",
            "ZOOM_OAUTH_BASE_URL": "http://127.0.0.1:9",
            "ZOOM_API_BASE_URL": "http://127.0.0.1:9/v2",
            "SMTP_URL": "",
        }
        port = free_port()
        say(f"   (Roomlink's log: {log_file(port)})")
        with running("server.app:create_app", env, port) as base_url:
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as api:
                say("2. webhook → last member event delivered")
                delivery = await bench_delivery(api, env, connection, relying, args.workers)
    finally:
        await database.close_pool()
    report(args, cost, delivery)


def report(args, cost: dict, d: dict) -> None:
    say()
    say("| what | figure |\n|---|---|")
    writes = ", ".join(f"{table} {ins}/{upd}/{dele}" for table, (ins, upd, dele) in sorted(cost["writes"].items()))
    say(f"| break (`mark_broken` + outbox + commit), median of {args.runs}, {args.members:,} members | {cost['median_ms']:.2f} ms |")
    say(f"| rows written by the break (insert/update/delete) | {writes} |")
    say(f"| webhook answered | {d['answered_s'] * 1000:.0f} ms |")
    say(f"| webhook → organization event delivered | {d['organization_s']:.2f} s |")
    say(f"| webhook → first / last member event delivered | {d['first_s']:.2f} s / {d['last_s']:.2f} s |")
    rate = d["member_events"] / (d["last_s"] - d["first_s"]) if d["last_s"] and d["first_s"] and d["last_s"] > d["first_s"] else float("nan")
    say(f"| member events delivered per second (first to last, {args.workers} workers) | {rate:,.0f} |")
    say(f"| members told / relying / affected_members / member events / attempts | {d['members_told']:,} / {d['relying']:,} / {d['affected']:,} / {d['member_events']:,} / {d['attempts']:,} |")
    peaks = ", ".join(f"{d['idle_mb'][pid]:.0f} → {peak:.0f} MB" for pid, peak in d["peak_mb"].items())
    say(f"| worker RSS idle → peak during fan-out and delivery | {peaks} |")


if __name__ == "__main__":
    main()
