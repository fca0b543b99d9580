"""The time, and waiting for it: the real clock behind domain.meeting_ports.Clock."""

import asyncio
from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


class SystemClock:
    def now(self) -> datetime:
        return utcnow()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
