"""Benchmark: a flood of anonymous and wrong-key requests against `roomlink serve`, then its health.

    .venv/bin/python -m tests.perf.bench_flood [--requests 5000] [--concurrency 200] [--workers 2]

Runs `roomlink serve` on a scratch database (found like the tests do), sends the knocks of
tests/api/test_hostile_traffic.py, then reports the answers, the connections PostgreSQL holds idle in a
transaction, /readyz latency, the error lines in the server's log and how long SIGTERM takes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time

import httpx

from persistence.token_cipher import KeyRing
from tests.api import test_hostile_traffic as knocks
from tests.support.database import (
    create_scratch_database,
    drop_scratch_database,
    server_url,
)
from tests.support.servers import API_KEY, free_port, log_file, wait_until_healthy


def readyz_latencies_ms(base_url: str, times: int) -> list[float]:
    """Like the test's, but a slow or failing /readyz is measured, not asserted."""
    latencies = []
    with httpx.Client(base_url=base_url, timeout=120) as client:
        for _ in range(times):
            started = time.perf_counter()
            client.get("/readyz")
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--failed-attempts-per-minute", default="1000000",
        help="ROOMLINK_FAILED_ATTEMPTS_PER_MINUTE; off by default so every knock reaches the guards and handlers",
    )
    args = parser.parse_args()
    knocks.FLOOD_REQUESTS, knocks.CONCURRENCY = args.requests, args.concurrency

    server = server_url()
    scratch = create_scratch_database(server)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": scratch,
        "ROOMLINK_API_KEYS": API_KEY,
        "ROOMLINK_BASE_URL": base_url,
        "ROOMLINK_TOKEN_KEYS": f"bench:{KeyRing.generate_key()}",
        "ROOMLINK_FAILED_ATTEMPTS_PER_MINUTE": args.failed_attempts_per_minute,
    }
    log_path = log_file(port)
    try:
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", str(args.workers)],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )
            wait_until_healthy(f"{base_url}/readyz", process, timeout=60)
            started = time.perf_counter()
            statuses = asyncio.run(knocks.flood(base_url))
            took = time.perf_counter() - started
            stuck = asyncio.run(knocks.idle_in_transaction(scratch))
            readyz = readyz_latencies_ms(base_url, 20)
            stopping = time.monotonic()
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
                shutdown = f"{time.monotonic() - stopping:.2f} s"
            except subprocess.TimeoutExpired:
                process.kill()
                shutdown = "over 60 s (killed)"
        errors = [line for line in log_path.read_text().splitlines() if any(m in line for m in knocks.ERROR_MARKERS)]
        print(f"{args.requests} requests at concurrency {args.concurrency}, {args.workers} server processes: "
              f"{took:.1f} s ({args.requests / took:.0f} req/s); answers {dict(sorted(statuses.items()))}")
        print(f"connections idle in transaction afterwards: {stuck}")
        print(f"/readyz after the flood: first {readyz[0]:.1f} ms, median {statistics.median(readyz):.1f} ms, "
              f"max {max(readyz):.1f} ms (20 requests)")
        print(f"error lines in the server log: {len(errors)}")
        print(f"SIGTERM to exit: {shutdown}")
    finally:
        drop_scratch_database(server, scratch)


if __name__ == "__main__":
    main()
