"""Benchmark: what announcing changes to the read cache (migration m0017) costs concurrent writers.

    .venv/bin/python -m tests.perf.bench_announcing [--seconds 3]

A transaction that notifies takes a cluster-wide lock while it commits (PostgreSQL keeps notifications in
commit order that way), so writers of the five announcing tables commit one at a time. Commits per second
of `UPDATE organizations SET name = name WHERE org_id = $1` on 1 and 16 connections, each on its own
organization, with the trigger on, off, and on again; in a scratch database, like the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import asyncpg

from persistence.token_cipher import KeyRing, TokenCipher
from tests.perf.common import in_scratch_database


async def commits_per_second(database_url: str, writers: int, seconds: float) -> float:
    connections = [await asyncpg.connect(database_url) for _ in range(writers)]
    done = 0
    stop = time.perf_counter() + seconds

    async def write(i: int, connection: asyncpg.Connection) -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await connection.execute("UPDATE organizations SET name = name WHERE org_id = $1", f"bench-{i}")
            done += 1

    try:
        await asyncio.gather(*(write(i, connection) for i, connection in enumerate(connections)))
    finally:
        for connection in connections:
            await connection.close()
    return done / seconds


async def _run(args: argparse.Namespace) -> None:
    from persistence import database

    database_url, seconds = os.environ["DATABASE_URL"], args.seconds

    database.use_cipher(TokenCipher(KeyRing.from_config(os.environ["ROOMLINK_TOKEN_KEYS"])))
    await database.migrate()
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(
            "INSERT INTO organizations (org_id, name, allow_members_to_remove, created_at, updated_at)"
            " SELECT 'bench-' || n, 'Bench', false, now(), now() FROM generate_series(0, 15) AS n"
        )
        for writers in (1, 16):
            for label, action in (("announcing", "ENABLE"), ("not announcing", "DISABLE"), ("announcing", "ENABLE")):
                await admin.execute(f"ALTER TABLE organizations {action} TRIGGER organizations_notify_updated")
                rate = await commits_per_second(database_url, writers, seconds)
                print(f"{writers:>2} writers, {label:>14}: {rate:7.0f} commits/s", flush=True)
    finally:
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    os.environ.setdefault("ROOMLINK_TOKEN_KEYS", f"bench:{KeyRing.generate_key()}")
    in_scratch_database(_run, parser.parse_args())


if __name__ == "__main__":
    main()
