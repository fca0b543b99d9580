"""What every benchmark shares: printing as it goes, percentiles, and running in a scratch database."""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import statistics
import sys
from collections.abc import Awaitable, Callable

from tests.support.database import (
    create_scratch_database,
    drop_scratch_database,
    server_url,
)


def say(text: str = "") -> None:
    print(text, flush=True)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:.1f} ms, p99 {percentile(samples, 0.99) * 1000:.1f} ms"


def say_command(module: str) -> None:
    """The benchmark's command line, as README quotes it."""
    say("$ " + shlex.join([".venv/bin/python", "-m", module, *sys.argv[1:]]))


def in_scratch_database(run: Callable[[argparse.Namespace], Awaitable[None]], args: argparse.Namespace) -> None:
    """Finds PostgreSQL like the tests do, runs `run(args)` in a database of its own, and drops it after
    (unless `args.keep`, to study plans)."""
    server = server_url()
    scratch = create_scratch_database(server)
    os.environ["DATABASE_URL"] = scratch
    try:
        asyncio.run(run(args))
    finally:
        if getattr(args, "keep", False):
            say(f"kept {scratch}")
        else:
            drop_scratch_database(server, scratch)
