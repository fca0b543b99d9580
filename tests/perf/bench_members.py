"""Benchmark: provision 100,000 (or 1,000,000) members through the batch API, then time the members table.

    .venv/bin/python -m tests.perf.bench_members [--members 100000] [--requests 200] [--keep | --reuse URL] [--read-cache]

Finds PostgreSQL like the tests do (TEST_DATABASE_URL, 127.0.0.1:5432, else embedded), works in a
scratch database, runs Roomlink as a real server process, and reports how long provisioning and each
step of seeding took, then for each members-page query (limit 50: pages, filters, searches rare and
common) the median and p99 latency through HTTP and the same page read directly on the database
(PostgresMembersTable, the SQL without HTTP), and their ratio; then the same for the counts.

The server runs with its read cache off (ROOMLINK_READ_CACHE_ROWS=0), so that every request is what a first
one costs; `--read-cache` keeps it on, and a first page asked again is then answered from memory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import httpx

from persistence.token_cipher import KeyRing, TokenCipher
from tests.support.database import (
    create_scratch_database,
    drop_scratch_database,
    server_url,
)

ORG = "bench-org"
FIRST_NAMES = ["Ada", "Bela", "Chen", "Dara", "Emil", "Farah", "Goran", "Hana", "Ivo", "Jude", "Kai", "Óliver"]
LAST_NAMES = ["Okafor", "Novák", "Silva", "Tanaka", "Weber", "Moreau", "Kowalski", "Haddad", "Lindqvist", "Rossi"]
#: Rows of connections, seats and personal connections written per transaction while seeding.
SEED_CHUNK = 1000


def person(i: int) -> dict[str, str]:
    first, last = FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[(i // len(FIRST_NAMES)) % len(LAST_NAMES)]
    return {
        "user_id": f"u{i:06d}",
        "email": f"{first}.{last}.{i}@bench.example".lower(),
        "name": f"{first} {last} {i:06d}",
        "role": "owner" if i == 0 else "member",
    }


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def provision(client: httpx.Client, key: dict[str, str], members: int) -> float:
    assert client.put(f"/api/v1/orgs/{ORG}", json={"name": "Bench"}, headers=key).status_code in (200, 201)
    started = time.perf_counter()
    for start in range(0, members, 1000):
        batch = [person(i) for i in range(start, min(members, start + 1000))]
        response = client.post(f"/api/v1/orgs/{ORG}/members/batch", json={"members": batch}, headers=key)
        response.raise_for_status()
    return time.perf_counter() - started


async def seed_connections(members: int) -> None:
    """80% seated in the organization's Zoom, 10% personal (a third of those broken), 3% removed.

    Through the repositories, as Roomlink itself writes them (triggers keep the member states, their
    counts and the event notes); personal connections a thousand per transaction.
    """
    import uuid

    from domain.model import (
        Connection,
        ConnectionStatus,
        ConnectionType,
        Policy,
        ZoomUser,
    )
    from persistence.database import unit_of_work
    from server.clock import utcnow
    from tests.support.sql import raw_sql

    now = utcnow()

    def connection(type_, status, user_id, zoom_user):
        return Connection(
            id=str(uuid.uuid4()), org_id=ORG, type=type_, user_id=user_id, zoom_account_id=f"acct-{zoom_user}",
            zoom_user_id=f"z-{zoom_user}", zoom_email=f"{zoom_user}@zoom.example", status=status,
            status_reason=None, status_changed_at=now, connected_at=now,
        )

    started = time.perf_counter()
    async with unit_of_work() as uow:
        await uow.organizations.set_policy(ORG, Policy(allow_members_to_remove=True), now)
        organization = connection(ConnectionType.ORGANIZATION, ConnectionStatus.ACTIVE, None, "admin")
        await uow.connections.add(organization)
        seated = [ZoomUser(zoom_user_id=f"z{i}", email=person(i)["email"]) for i in range(members) if i % 10 < 8]
        await uow.zoom_users.sync(organization, seated)
        await uow.commit()
    print(f"  organization connection and {len(seated):,} seats (one resync) in {time.perf_counter() - started:.1f} s",
          flush=True)
    started = time.perf_counter()
    personal = [i for i in range(members) if i % 10 == 9]
    for chunk in range(0, len(personal), SEED_CHUNK):
        async with unit_of_work() as uow:
            for i in personal[chunk : chunk + SEED_CHUNK]:
                status = ConnectionStatus.NEEDS_RECONNECT if i % 30 == 9 else ConnectionStatus.ACTIVE
                await uow.connections.add(connection(ConnectionType.PERSONAL, status, person(i)["user_id"], f"p{i}"))
            await uow.commit()
        if chunk % (10 * SEED_CHUNK) == 0:
            print(f"    {chunk + SEED_CHUNK:,} personal connections after {time.perf_counter() - started:.1f} s", flush=True)
    print(f"  {len(personal):,} personal connections in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    # Seeding statements, not what is measured: no statement timeout (on a loaded machine these pass 30 s).
    async with raw_sql() as sql, sql.transaction():
        await sql.execute("SET LOCAL statement_timeout = 0")
        await sql.execute(
            "UPDATE members SET organization_removed = true WHERE org_id = $1 AND id % 33 = 0", ORG
        )
    async with raw_sql() as sql:
        # What autovacuum does in time; the words tables (m0013) are read by index only once vacuumed.
        await sql.execute("SET statement_timeout = 0")
        await sql.execute("VACUUM ANALYZE members, member_words, member_search_words")
        await sql.execute("RESET statement_timeout")
    print(f"  3% removed, then VACUUM ANALYZE, in {time.perf_counter() - started:.1f} s")


#: Rows the last direct read of each page returned, printed beside its times (a fast page must not be an empty one).
ROWS: dict[str, int] = {}


async def time_direct(queries: dict[str, dict], requests: int) -> dict[str, list[float]]:
    from domain.ports import MembersQuery
    from persistence import database
    from persistence.members_table import PostgresMembersTable

    timings: dict[str, list[float]] = {}
    async with database.connection() as db:
        table = PostgresMembersTable(db)
        for label, params in queries.items():
            samples = []
            for _ in range(requests):
                started = time.perf_counter()
                if label == "counts":
                    await table.counts(ORG)
                else:
                    ROWS[label] = len((await table.page(MembersQuery(org_id=ORG, limit=50, **params))).items)
                samples.append((time.perf_counter() - started) * 1000)
            timings[label] = samples
    return timings


def http_params(params: dict) -> dict:
    from server.api.cursors import encode_cursor

    query: dict[str, object] = {"limit": 50}
    sort = "-name" if params.get("descending") else "name"
    for name, value in params.items():
        if name == "after":
            query["cursor"] = encode_cursor(value, sort)
        elif name == "descending":
            query["sort"] = sort
        else:
            query[name] = str(value).lower() if isinstance(value, bool) else value
    return query


def time_http(client: httpx.Client, headers: dict[str, str], queries: dict[str, dict], requests: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    for label, params in queries.items():
        path = f"/api/v1/orgs/{ORG}/integrations/zoom" + ("" if label == "counts" else "/members")
        query = {} if label == "counts" else http_params(params)
        for _ in range(5):
            client.get(path, params=query, headers=headers).raise_for_status()
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(path, params=query, headers=headers).raise_for_status()
            samples.append((time.perf_counter() - started) * 1000)
        timings[label] = samples
    return timings


def bench_queries(members: int) -> dict[str, dict]:
    """Every kind of page, filter and search, each named by what it asks."""
    ordered = sorted((person(i)["name"], person(i)["user_id"]) for i in range(members))
    middle, near_end = ordered[len(ordered) // 2], ordered[-30]
    # One member's number; a personal one (i % 10 == 9) whose connection works (i % 3 != 0).
    one = f"{next(i for i in range(members * 3 // 7, members) if i % 10 == 9 and i % 3):06d}"
    return {
        "first page": {},
        "middle page": {"after": middle},
        "last page": {"after": near_end},
        "type=organization": {"type": "organization"},
        "type=personal": {"type": "personal"},
        "type=none": {"type": "none"},
        "connected=true": {"connected": True},
        "connected=false": {"connected": False},
        "type=personal, middle page": {"type": "personal", "after": middle},
        "q=bench (every member)": {"q": "bench"},
        "q=bench, middle page": {"q": "bench", "after": middle},
        "q=bench, connected=false": {"q": "bench", "connected": False},
        "q=tanaka (10%)": {"q": "tanaka"},
        "q=tanaka, middle page": {"q": "tanaka", "after": middle},
        "q=naka (inside words)": {"q": "naka"},
        "q=Óli (accents, 8%, last in order)": {"q": "Óli"},
        "q=novak, type=personal": {"q": "novak", "type": "personal"},  # Novák: accents aside
        f"q={one} (1 member)": {"q": one},
        f"q={one}, type=personal": {"q": one, "type": "personal"},
        "q=ada tanaka 4 (words)": {"q": "ada tanaka 4"},
        # Z to A (sort=-name): the same readings, the indexes read backwards.
        "-name first page": {"descending": True},
        "-name middle page": {"descending": True, "after": middle},
        "-name type=personal": {"descending": True, "type": "personal"},
        "-name connected=false": {"descending": True, "connected": False},
        "-name q=bench": {"descending": True, "q": "bench"},
        "-name q=tanaka": {"descending": True, "q": "tanaka"},
        "-name q=tanaka, middle": {"descending": True, "q": "tanaka", "after": middle},
        "-name q=Óli (first Z to A)": {"descending": True, "q": "Óli"},
        f"-name q={one} (1 member)": {"descending": True, "q": one},
        "-name q=ada tanaka 4": {"descending": True, "q": "ada tanaka 4"},
        "counts": {},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database to study plans")
    parser.add_argument("--reuse", metavar="URL", help="time the queries on a database kept by --keep, as it is")
    parser.add_argument("--read-cache", action="store_true", help="the server keeps its read cache (off: every request reads)")
    args = parser.parse_args()

    server = server_url()
    if args.reuse:
        args.keep = True
    scratch = args.reuse or create_scratch_database(server)
    os.environ["DATABASE_URL"] = scratch
    os.environ.setdefault("ROOMLINK_TOKEN_KEYS", f"bench:{KeyRing.generate_key()}")
    try:
        asyncio.run(_run(args))
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            drop_scratch_database(server, scratch)


async def _run(args: argparse.Namespace) -> None:
    from persistence import database
    from tests.support.servers import API_KEY_SECRET, running

    database.use_cipher(TokenCipher(KeyRing.from_config(os.environ["ROOMLINK_TOKEN_KEYS"])))
    await database.migrate()
    await database.open_pool()
    key = {"Authorization": f"Bearer {API_KEY_SECRET}"}
    queries = bench_queries(args.members)
    cache = {"ROOMLINK_READ_CACHE_ROWS": "20000" if args.read_cache else "0"}
    print(f"read cache {'on' if args.read_cache else 'off: every request reads PostgreSQL'}", flush=True)
    with running("server.app:create_app", cache) as base_url, httpx.Client(base_url=base_url, timeout=60) as client:
        if not args.reuse:
            seconds = await asyncio.to_thread(provision, client, key, args.members)
            print(f"provisioned {args.members:,} members through the batch API in {seconds:.1f} s"
                  f" ({args.members / seconds:,.0f} members/s)", flush=True)
            await seed_connections(args.members)
        http = await asyncio.to_thread(time_http, client, {**key, "X-Roomlink-User": "u000000"}, queries, args.requests)
    direct = await time_direct(queries, args.requests)
    await database.close_pool()
    print(f"\n{args.members:,} members, {args.requests} requests each")
    print(f"{'query (limit 50)':<28} {'HTTP median':>12} {'HTTP p99':>10} {'direct median':>14} {'direct p99':>11} {'ratio':>6} {'rows':>5}")
    for label in queries:
        http_median, direct_median = statistics.median(http[label]), statistics.median(direct[label])
        print(
            f"{label:<28} {http_median:>10.2f}ms {percentile(http[label], 0.99):>8.2f}ms"
            f" {direct_median:>12.2f}ms {percentile(direct[label], 0.99):>9.2f}ms {http_median / direct_median:>6.2f} {ROWS.get(label, ''):>5}"
        )


if __name__ == "__main__":
    main()
