"""Every request gets an id (the caller's X-Request-Id when it is sane, else a new one) that its log lines,
the jobs it enqueues and the Zoom calls it makes carry, and is timed per route template for /metrics."""

from __future__ import annotations

import re
import time
import uuid

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from persistence.cached_reads import begin_read_point, end_read_point
from persistence.correlation import request_id
from server import metrics, tracing

REQUEST_ID_HEADER = b"x-request-id"
_SANE_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")


def incoming_request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            return value.decode() if _SANE_REQUEST_ID.match(value) else new_request_id()
    return new_request_id()


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_context(*, timed: bool):
    """Middleware; `timed`: each request is observed for /metrics (only when it is exported)."""

    def middleware_factory(app: ASGIApp) -> ASGIApp:
        return _middleware(app, timed)

    return middleware_factory


def _middleware(app: ASGIApp, timed: bool) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = incoming_request_id(scope)
        token = request_id.set(rid)
        read_point = begin_read_point()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, rid.encode())]
            await send(message)

        route = scope.get("path_template") or "unmatched"
        try:
            if tracing.active():
                with tracing.span(
                    f"{scope['method']} {route}", tracing.SERVER, http__request__method=scope["method"],
                    http__route=route, roomlink__request_id=rid,
                ) as current:
                    await app(scope, receive, send_with_id)
                    current.set_attribute("http.response.status_code", status)
            else:
                await app(scope, receive, send_with_id)
        finally:
            if timed:
                metrics.observe_request(scope["method"], route, status, time.perf_counter() - started)
            end_read_point(read_point)
            request_id.reset(token)

    return middleware
