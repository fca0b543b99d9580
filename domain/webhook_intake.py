"""Zoom's webhook notifications, accepted once each: a replay is recorded as such and queues nothing."""

from __future__ import annotations

from datetime import datetime

from domain.ports import UnitOfWorkFactory


async def accept_notification(
    uow: UnitOfWorkFactory, event_key: str, event: str, job_kind: str, payload: dict[str, object], now: datetime
) -> bool:
    """Records the delivery under `event_key` and queues its handling, in one transaction; False for a replay."""
    async with uow() as tx:
        fresh = await tx.webhooks.accept(event_key, event, now)
        if fresh:
            await tx.jobs.enqueue(job_kind, payload)
        await tx.commit()
    return fresh
