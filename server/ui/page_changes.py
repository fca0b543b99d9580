"""One event stream per open page: "changed" whenever a committed transaction changed the signed-in person's
organization (persistence/change_feed.py's notifications, fanned out per organization). The page then
fetches what it shows again; without script, a reload shows the same.

No feed in this process (the read cache is off), or as many streams open as it may serve: 204, which tells
the browser's EventSource not to try again; the page simply stays as it was loaded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from litestar import get
from litestar.di import NamedDependency, Provide
from litestar.response import Response, ServerSentEvent
from litestar.response.sse import ServerSentEventMessage

from domain.access import Principal
from persistence.change_feed import OrganizationChanges, Subscription
from persistence.database import read_cache_feed
from server.auth import provide_principal
from server.problems import Problem
from server.ui.layout import page_guard
from server.ui.zoom_page import problem_page

PAGE_CHANGES_PATH = "/ui/changes"
#: A comment this often keeps proxies from closing a quiet stream, and finds a browser that has gone.
KEEP_ALIVE_S = 20.0
#: Changes that arrive together (a batch, several tables in one commit) make one event.
GATHER_S = 0.25


@get(
    PAGE_CHANGES_PATH,
    name="page_changes",
    include_in_schema=False,
    guards=[page_guard],
    dependencies={"principal": Provide(provide_principal, sync_to_thread=False)},
    exception_handlers={Problem: problem_page},
)
async def page_changes(principal: NamedDependency[Principal]) -> ServerSentEvent | Response[None]:
    feed = read_cache_feed()
    subscription = feed.subscribers.subscribe(principal.org_id) if feed is not None else None
    if feed is None or subscription is None:
        return Response(None, status_code=204)
    return ServerSentEvent(
        _events(feed.subscribers, subscription),
        retry_duration=3000,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(changes: OrganizationChanges, subscription: Subscription) -> AsyncIterator[ServerSentEventMessage]:
    try:
        yield ServerSentEventMessage(event="ready", data="")
        while not subscription.dropped:
            try:
                await asyncio.wait_for(subscription.changes.get(), KEEP_ALIVE_S)
            except TimeoutError:
                yield ServerSentEventMessage(comment="still here")
                continue
            await asyncio.sleep(GATHER_S)
            while not subscription.changes.empty():
                subscription.changes.get_nowait()
            yield ServerSentEventMessage(event="changed", data="")
    finally:
        changes.unsubscribe(subscription)
