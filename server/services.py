"""The process's long-lived collaborators (Zoom client, mailer), opened and closed with the app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from litestar import Litestar
from litestar.datastructures import State

from persistence import database
from server import log_redaction, metrics, tracing
from server.bootstrap import configure_cipher, pool_limits, zoom_timeout
from server.config import Settings
from server.mail import SmtpMailer, parse_smtp_url
from server.problems import Problem
from server.tokens import TokenKeeper
from server.zoom_client import HttpZoom


@asynccontextmanager
async def services(app: Litestar) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    log_redaction.install()
    configure_cipher(settings)
    tracing.start("api")
    await database.open_pool(pool_limits(settings))
    # Counted only where /metrics is exported (a hit costs a counter's increment then).
    await database.start_read_cache(settings.read_cache_rows, metrics.observe_read_cache if settings.metrics_token else None)
    async with httpx.AsyncClient(timeout=zoom_timeout(settings)) as http:
        app.state.zoom = HttpZoom(settings.zoom, http) if settings.zoom else None
        app.state.keeper = TokenKeeper(app.state.zoom) if app.state.zoom else None
        app.state.mailer = SmtpMailer(parse_smtp_url(settings.smtp_url)) if settings.smtp_url else None
        worker = _in_process_worker(settings)
        try:
            yield
        finally:
            if worker is not None:
                worker[0].set()
                await worker[1]
            await database.stop_read_cache()
            await database.close_pool()
            tracing.stop()


def _in_process_worker(settings: Settings) -> tuple[asyncio.Event, asyncio.Task] | None:
    """The demo runs its background jobs in the same process; production runs `roomlink worker`."""
    if not settings.demo:
        return None
    from server.jobs import run_worker

    stop = asyncio.Event()
    return stop, asyncio.create_task(run_worker(settings, stop, configure=False))


def provide_zoom(state: State) -> HttpZoom:
    if state.zoom is None:
        raise Problem(503, "zoom_not_configured", "Zoom is not configured on this Roomlink (ZOOM_* settings).")
    return state.zoom


def provide_keeper(state: State) -> TokenKeeper:
    provide_zoom(state)
    return state.keeper


def provide_mailer(state: State) -> SmtpMailer | None:
    return state.mailer
