"""A Zoom event taken in (the ZOOM_EVENT job): meetings' events keep the meeting records true
(domain.meeting_events), the others keep connections true (domain.keeping). One transaction, committed by
the handler."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from domain.keeping import handle_zoom_event
from domain.meeting_events import handle_meeting_event
from domain.ports import UnitOfWork
from domain.zoom import ZoomEvent


async def take_zoom_event(
    uow: Callable[[], AbstractAsyncContextManager[UnitOfWork]], event: ZoomEvent, now: datetime
) -> None:
    async with uow() as tx:
        if event.event.startswith("meeting."):
            await handle_meeting_event(tx, event, now)
        else:
            await handle_zoom_event(tx, event, now)
