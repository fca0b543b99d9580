"""Waiting on background work by what the job queue holds, not by sleeping."""

from __future__ import annotations

import asyncio
import time

from persistence import database


async def pending_jobs(*needles: str) -> int:
    """Jobs queued or running whose payload mentions any of `needles` (an org id, a Zoom user id…)."""
    async with database.connection() as connection:
        return await connection.fetchval(
            """
            SELECT count(*) FROM pgqueuer
            WHERE status IN ('queued', 'picked')
              AND convert_from(payload, 'UTF8') LIKE ANY (SELECT '%' || needle || '%' FROM unnest($1::text[]) AS needle)
            """,
            list(needles),
        )


async def settled(*needles: str, timeout: float = 20.0) -> None:
    """Until no queued or running job mentions any of `needles`: everything they set off has been done."""
    deadline = time.monotonic() + timeout
    while await pending_jobs(*needles):
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs about {needles} still pending after {timeout} s")
        await asyncio.sleep(0.1)
