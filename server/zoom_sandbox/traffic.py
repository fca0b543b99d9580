"""What happens around every call to Zoom's paths: the calls log, injected faults, rate-limit headers.

It is ASGI middleware on the Zoom routes only (not the control API), so a fault injected on
``/oauth/token`` or ``/v2/...`` answers before the handler runs, and the log records the
status actually sent, whichever part of the stack produced it.
"""

from __future__ import annotations

from http.client import responses

import anyio
import msgspec
from litestar import Litestar, Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.zoom_sandbox.errors import oauth_error_body, zoom_error_body
from server.zoom_sandbox.state import QPS_LIMITS, CallRecord, Fault, Sandbox

CALL_KEY = "zoom_sandbox_call"
#: Route ``opt`` key naming the Zoom rate-limit label (Light, Medium, Heavy) of an operation.
CATEGORY_OPT = "rate_limit_category"
#: Zoom does not document a label for its OAuth endpoints; injected 429s there use this one.
FALLBACK_CATEGORY = "Light"

QPS_MESSAGE = "You have reached the maximum per-second rate limit for this API. Try again later."
FAULT_MESSAGES = {124: "Invalid access token.", 429: QPS_MESSAGE}
OAUTH_FAULT_ERRORS = {
    400: ("invalid_grant", "Invalid Token!"),
    401: ("invalid_client", "Invalid client_id or client_secret"),
}


def current_call(request: Request) -> CallRecord:
    """The calls-log entry of this request, for handlers to note client, grant type and family."""
    return request.scope["state"][CALL_KEY]


def sandbox_of(scope: Scope) -> Sandbox:
    return Litestar.from_scope(scope).state.sandbox


class ZoomTraffic(ASGIMiddleware):
    """Holds no sandbox itself: Litestar deep-copies routers, middleware included, on registration."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        sandbox = sandbox_of(scope)
        method, path = scope["method"], scope["path"]
        call = CallRecord(method=method, path=path, time=sandbox.now())
        sandbox.calls.append(call)
        scope["state"][CALL_KEY] = call
        category = scope["route_handler"].opt.get(CATEGORY_OPT)

        async def send_recorded(message: Message) -> None:
            if message["type"] == "http.response.start":
                call.status = message["status"]
                if category:
                    add_missing_headers(message, qps_headers(sandbox, call, category))
            await send(message)

        fault = sandbox.take_fault(method, path)
        if fault and fault.delay_s:
            await anyio.sleep(fault.delay_s)
        if fault and fault.status:
            call.fault = True
            await send_fault(fault, fault.status, path, category or FALLBACK_CATEGORY, send_recorded)
            return
        await next_app(scope, receive, send_recorded)


def qps_headers(sandbox: Sandbox, call: CallRecord, category: str) -> dict[str, str]:
    limit = QPS_LIMITS[category]
    used = sandbox.count_qps(call.account_id or "", category)
    return {
        "X-RateLimit-Category": category,
        "X-RateLimit-Type": "QPS",
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(limit - used, 0)),
    }


def add_missing_headers(message: Message, headers: dict[str, str]) -> None:
    """Add headers the answer does not set itself (a daily-limit 429 sets its own)."""
    present = {name.lower() for name, _ in message.get("headers", [])}
    extra = [
        (name.lower().encode(), value.encode())
        for name, value in headers.items()
        if name.lower().encode() not in present
    ]
    message["headers"] = [*message.get("headers", []), *extra]


async def send_fault(fault: Fault, status: int, path: str, category: str, send: Send) -> None:
    body = msgspec.json.encode(fault_body(fault, status, path))
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if fault.retry_after is not None or status == 429:
        retry_after = 1 if fault.retry_after is None else fault.retry_after
        headers.append((b"retry-after", str(retry_after).encode()))
    if status == 429:
        headers += [
            (b"x-ratelimit-category", category.encode()),
            (b"x-ratelimit-type", b"QPS"),
            (b"x-ratelimit-limit", str(QPS_LIMITS[category]).encode()),
            (b"x-ratelimit-remaining", b"0"),
        ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def fault_body(fault: Fault, status: int, path: str) -> dict[str, object]:
    """Zoom's error shape for the faulted path: OAuth's for /oauth, the REST API's elsewhere."""
    code = fault.code or status
    message = FAULT_MESSAGES.get(code) or responses.get(status, "Error")
    if path.startswith("/oauth"):
        error, reason = OAUTH_FAULT_ERRORS.get(status) or (
            "server_error" if status >= 500 else "invalid_request",
            message,
        )
        return oauth_error_body(error, reason)
    return zoom_error_body(code, message)
