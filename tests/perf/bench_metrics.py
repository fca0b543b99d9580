"""Benchmark: what metrics cost the members page, with and without, in the same run.

    .venv/bin/python -m tests.perf.bench_metrics [--members 100000] [--rounds 10] [--requests 50]

Provisions an organization through the batch API (as bench_members does), then runs two server
processes on the same database: one exporting metrics (ROOMLINK_METRICS_TOKEN set, multiprocess files
in PROMETHEUS_MULTIPROC_DIR), one not. Rounds alternate between them so both see the same machine
load; each round is `--requests` sequential members-page requests (latency) and then 2 s of 8
concurrent clients (throughput). Ends with the time one /metrics scrape takes at that size.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time

import httpx

from persistence.token_cipher import KeyRing, TokenCipher
from tests.perf.bench_members import ORG, percentile, provision, seed_connections
from tests.support.database import create_scratch_database, drop_scratch_database, server_url

TOKEN = "bench-metrics-token-0123456789"
PAGE = f"/api/v1/orgs/{ORG}/integrations/zoom/members"


def sequential(client: httpx.Client, headers: dict[str, str], requests: int) -> list[float]:
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(PAGE, params={"limit": 50}, headers=headers).raise_for_status()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def throughput(base_url: str, headers: dict[str, str], seconds: float, clients: int = 8) -> int:
    deadline = time.perf_counter() + seconds
    done = 0

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            (await client.get(PAGE, params={"limit": 50}, headers=headers)).raise_for_status()
            done += 1

    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        await asyncio.gather(*(one(client) for _ in range(clients)))
    return done


async def time_figures() -> dict[str, float]:
    """Median of 10 runs of each query /metrics makes."""
    from persistence import database
    from persistence.figures import connection_figures, job_figures, member_figures
    from server.clock import utcnow

    queries = {
        "jobs": lambda db: job_figures(db, utcnow()),
        "connections": connection_figures,
        "members": member_figures,
    }
    medians = {}
    async with database.connection() as db:
        for name, query in queries.items():
            samples = []
            for _ in range(10):
                started = time.perf_counter()
                await query(db)
                samples.append((time.perf_counter() - started) * 1000)
            medians[name] = statistics.median(samples)
    return medians


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    server = server_url()
    scratch = create_scratch_database(server)
    os.environ["DATABASE_URL"] = scratch
    os.environ.setdefault("ROOMLINK_TOKEN_KEYS", f"bench:{KeyRing.generate_key()}")
    try:
        asyncio.run(_run(args))
    finally:
        drop_scratch_database(server, scratch)


async def _run(args: argparse.Namespace) -> None:
    from persistence import database
    from tests.support.servers import API_KEY_SECRET, running

    database.use_cipher(TokenCipher(KeyRing.from_config(os.environ["ROOMLINK_TOKEN_KEYS"])))
    await database.migrate()
    await database.open_pool()
    key = {"Authorization": f"Bearer {API_KEY_SECRET}"}
    member = {**key, "X-Roomlink-User": "u000000"}
    with_metrics = {"ROOMLINK_METRICS_TOKEN": TOKEN, "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="bench-metrics-")}
    with running("server.app:create_app", with_metrics) as on, running("server.app:create_app") as off:
        with httpx.Client(base_url=on, timeout=60) as client_on, httpx.Client(base_url=off, timeout=60) as client_off:
            seconds = await asyncio.to_thread(provision, client_on, key, args.members)
            print(f"provisioned {args.members:,} members in {seconds:.1f} s")
            await seed_connections(args.members)
            clients = {"with metrics": (on, client_on), "without": (off, client_off)}
            latency: dict[str, list[float]] = {label: [] for label in clients}
            served: dict[str, int] = {label: 0 for label in clients}
            for client in (client_on, client_off):
                sequential(client, member, 10)
            for round_ in range(args.rounds):
                order = list(clients) if round_ % 2 == 0 else list(reversed(clients))
                for label in order:
                    base_url, client = clients[label]
                    latency[label] += await asyncio.to_thread(sequential, client, member, args.requests)
                    served[label] += await throughput(base_url, member, 2.0)
            scrapes = []
            for _ in range(10):
                started = time.perf_counter()
                client_on.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).raise_for_status()
                scrapes.append((time.perf_counter() - started) * 1000)
    direct = await time_figures()
    await database.close_pool()
    seconds_each = args.rounds * 2.0
    print(f"\n{'members page, limit 50':<24} {'median':>9} {'p99':>9} {'throughput (8 clients)':>24}")
    for label in clients:
        print(
            f"{label:<24} {statistics.median(latency[label]):>7.2f}ms {percentile(latency[label], 0.99):>7.2f}ms"
            f" {served[label] / seconds_each:>19.1f} req/s"
        )
    print(f"\none /metrics scrape at {args.members:,} members: median {statistics.median(scrapes):.1f} ms")
    print("  of which, run directly: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in direct.items()))


if __name__ == "__main__":
    main()
