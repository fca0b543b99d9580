"""Benchmark under load: the members page and the owner's page against /healthz, in the same run.

    .venv/bin/python -m tests.perf.bench_load [--members 20000] [--connections 32] [--seconds 8]

Needs `wrk` (`apt-get install wrk`). Finds PostgreSQL like the tests do, works in a scratch database,
provisions --members members through the batch API (80 % seated in the organization's Zoom, 10 %
personal, a third of those broken, 3 % removed: tests/perf/bench_members.py), runs **two** Roomlink
server processes, and drives each URL with two `wrk` processes at once (one per server, --connections
split between them) for --seconds: requests per second summed over both servers, and the worse of the
two p99 latencies. The goal is each page at ≥ 50 % of /healthz's throughput with p99 ≤ 50 ms.

Beside them, the CPU time each request cost the two server processes and the scratch database's
PostgreSQL backends (from /proc, over the same run): on a shared machine the rates move with what else
runs (the load average is printed before and after), the CPU per request much less.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import msgspec

from persistence.token_cipher import KeyRing, TokenCipher
from tests.perf.bench_members import ORG, provision, seed_connections
from tests.support.database import (
    create_scratch_database,
    drop_scratch_database,
    server_url,
)

OWNER = "u000000"


def say(text: str = "") -> None:
    print(text, flush=True)


def wrk(url: str, headers: dict[str, str], connections: int, seconds: int) -> subprocess.Popen:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    return subprocess.Popen([*command, url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parsed(output: str) -> tuple[float, float, float, int]:
    """(requests/s, p50 ms, p99 ms, non-2xx answers) from wrk's --latency report."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return rate, p50, p99, int(bad.group(1)) if bad else 0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far; 0 once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pids(bases: list[str]) -> list[int]:
    """The uvicorn processes listening on these base URLs' ports (tests.support.servers.running)."""
    wanted = {f"--port\0{base.rsplit(':', 1)[1]}\0" for base in bases}
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_text()
            except OSError:
                continue
            if "uvicorn" in command and any(port in command for port in wanted):
                pids.append(int(entry.name))
    return pids


async def transaction_id(database_url: str) -> int:
    import asyncpg

    connection = await asyncpg.connect(database_url)
    try:
        return int(await connection.fetchval("SELECT txid_current()"))
    finally:
        await connection.close()


async def backend_pids(database_url: str) -> set[int]:
    """The scratch database's PostgreSQL backends, but the one asking."""
    import asyncpg

    connection = await asyncpg.connect(database_url)
    try:
        records = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    return {record["pid"] for record in records}


class Row(msgspec.Struct, frozen=True):
    rate: float
    p50: float
    p99: float
    bad: int
    #: CPU µs per request: both server processes, and the database's backends.
    server_us: float
    postgres_us: float
    #: Transaction ids spent per request (the read cache's barriers are transactions: persistence/change_feed.py).
    xids: float


async def load(
    bases: list[str], path: str, headers: dict[str, str], connections: int, seconds: int, database_url: str
) -> Row:
    servers = server_pids(bases)
    backends = await backend_pids(database_url)
    before = {pid: cpu_seconds(pid) for pid in [*servers, *backends]}
    first_xid = await transaction_id(database_url)
    runs = [wrk(base + path, headers, max(1, connections // len(bases)), seconds) for base in bases]
    outputs = await asyncio.gather(*(asyncio.to_thread(run.communicate) for run in runs))
    results = [parsed(output) for output, _ in outputs]
    xids = await transaction_id(database_url) - first_xid - 1
    backends |= await backend_pids(database_url)  # pools grow under load
    spent = {pid: cpu_seconds(pid) - before.get(pid, 0.0) for pid in [*servers, *backends]}
    requests = sum(int(re.search(r"(\d+) requests in", output).group(1)) for output, _ in outputs)
    return Row(
        rate=sum(r[0] for r in results),
        p50=max(r[1] for r in results),
        p99=max(r[2] for r in results),
        bad=sum(r[3] for r in results),
        server_us=1e6 * sum(spent[pid] for pid in servers) / requests,
        postgres_us=1e6 * sum(spent[pid] for pid in backends) / requests,
        xids=xids / requests,
    )


async def _run(args: argparse.Namespace) -> None:
    from persistence import database
    from tests.support.servers import API_KEY_SECRET, free_port, running

    database.use_cipher(TokenCipher(KeyRing.from_config(os.environ["ROOMLINK_TOKEN_KEYS"])))
    await database.migrate()
    await database.open_pool()
    key = {"Authorization": f"Bearer {API_KEY_SECRET}"}
    owner = {**key, "X-Roomlink-User": OWNER}
    with running("server.app:create_app", port=free_port()) as one, running("server.app:create_app", port=free_port()) as two:
        with httpx.Client(base_url=one, timeout=120) as client:
            seconds = await asyncio.to_thread(provision, client, key, args.members)
            say(f"provisioned {args.members:,} members in {seconds:.1f} s")
            await seed_connections(args.members)
            page = f"/api/v1/orgs/{ORG}/integrations/zoom/members?limit=50"
            counts = f"/api/v1/orgs/{ORG}/integrations/zoom"
            for path in (page, counts):
                assert client.get(path, headers=owner).status_code == 200
        await database.close_pool()
        scratch = os.environ["DATABASE_URL"]
        say(f"load average before: {os.getloadavg()[0]:.1f}")
        rows = {
            "/healthz": await load([one, two], "/healthz", {}, args.connections, args.seconds, scratch),
            "members page (limit 50)": await load([one, two], page, owner, args.connections, args.seconds, scratch),
            "owner's page counts (GET …/integrations/zoom)": await load(
                [one, two], counts, owner, args.connections, args.seconds, scratch
            ),
        }
        say(f"load average after: {os.getloadavg()[0]:.1f}")
    health = rows["/healthz"].rate
    say(
        f"\n{'URL':<48} {'req/s':>9} {'of /healthz':>12} {'p50':>9} {'p99':>9} {'non-2xx':>8}"
        f" {'server CPU':>11} {'PostgreSQL CPU':>15} {'xids':>6}"
    )
    for label, row in rows.items():
        say(
            f"{label:<48} {row.rate:>9.0f} {row.rate / health:>11.0%} {row.p50:>7.1f}ms {row.p99:>7.1f}ms {row.bad:>8}"
            f" {row.server_us:>7.0f} µs {row.postgres_us:>11.0f} µs {row.xids:>6.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    say("$ " + shlex.join([".venv/bin/python", "-m", "tests.perf.bench_load", *sys.argv[1:]]))
    server = server_url()
    scratch = create_scratch_database(server)
    os.environ["DATABASE_URL"] = scratch
    os.environ.setdefault("ROOMLINK_TOKEN_KEYS", f"bench:{KeyRing.generate_key()}")
    try:
        asyncio.run(_run(args))
    finally:
        drop_scratch_database(server, scratch)


if __name__ == "__main__":
    main()
