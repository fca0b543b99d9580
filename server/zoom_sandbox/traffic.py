"""What happens around every call to Zoom's paths: the calls log, injected faults, rate limits.

It is ASGI middleware on the Zoom routes only (not the control API), so a fault injected on
``/oauth/token`` or ``/v2/...`` answers before the handler runs, and the log records the
status actually sent, whichever part of the stack produced it.

Rate limits as Zoom reports them: every answer of a labelled operation carries
``X-RateLimit-Category``, ``-Type``, ``-Limit`` and ``-Remaining``; past the per-second limit of
the caller's account (when ``enforce_qps`` is on) Zoom answers 429 *without* ``Retry-After``;
a daily limit's 429 names the moment it resets in ``Retry-After``, as an ISO 8601 time.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from http.client import responses

import anyio
import msgspec
from litestar import Litestar, Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.zoom_sandbox.errors import oauth_error_body, zoom_error_body
from server.zoom_sandbox.grants import grant_of_access_token
from server.zoom_sandbox.state import CallRecord, Fault, RateLimitType, Sandbox, zoom_timestamp

CALL_KEY = "zoom_sandbox_call"
#: Route ``opt`` key naming the Zoom rate-limit label (Light, Medium, Heavy) of an operation.
CATEGORY_OPT = "rate_limit_category"
#: Zoom does not document a label for its OAuth endpoints; injected 429s there use this one.
FALLBACK_CATEGORY = "Light"

QPS_MESSAGE = "You have reached the maximum per-second rate limit for this API. Try again later."
DAILY_MESSAGE = "You have reached the maximum daily rate limit for this API. Try again after it resets."
FAULT_MESSAGES = {
    124: "Invalid access token.",
    429: QPS_MESSAGE,
    1001: "User does not exist.",
    4711: "Invalid access token, does not contain scopes:[user:read:admin].",
}
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
        used = sandbox.count_qps(caller_account(sandbox, scope), category) if category else 0

        async def send_recorded(message: Message) -> None:
            if message["type"] == "http.response.start":
                call.status = message["status"]
                if category:
                    limit = sandbox.settings.qps_limits[category]
                    add_missing_headers(message, rate_limit_headers(category, "QPS", limit, max(limit - used, 0)))
            await send(message)

        fault = sandbox.take_fault(method, path)
        if fault and fault.delay_s:
            await anyio.sleep(fault.delay_s)
        if fault and fault.status:
            call.fault = True
            await send_fault(sandbox, fault, fault.status, path, category or FALLBACK_CATEGORY, send_recorded)
            return
        if category and sandbox.settings.enforce_qps and used > sandbox.settings.qps_limits[category]:
            await send_json(429, zoom_error_body(429, QPS_MESSAGE), [], send_recorded)
            return
        await next_app(scope, receive, send_recorded)


def caller_account(sandbox: Sandbox, scope: Scope) -> str:
    """The Zoom account a call is counted against: its bearer token's approver's ("" when unknown)."""
    authorization = dict(scope["headers"]).get(b"authorization", b"").decode(errors="replace")
    scheme, _, token = authorization.partition(" ")
    grant = grant_of_access_token(sandbox, token.strip()) if scheme.lower() == "bearer" else None
    approver = sandbox.users.get(grant.user_id) if grant else None
    return approver.account_id if approver else ""


def rate_limit_headers(category: str, kind: RateLimitType, limit: int, remaining: int) -> dict[str, str]:
    return {
        "X-RateLimit-Category": category,
        "X-RateLimit-Type": kind,
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
    }


def next_utc_midnight(now: datetime) -> datetime:
    return datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=now.tzinfo)


def add_missing_headers(message: Message, headers: dict[str, str]) -> None:
    """Add headers the answer does not set itself (a daily-limit 429 sets its own)."""
    present = {name.lower() for name, _ in message.get("headers", [])}
    extra = [
        (name.lower().encode(), value.encode())
        for name, value in headers.items()
        if name.lower().encode() not in present
    ]
    message["headers"] = [*message.get("headers", []), *extra]


async def send_fault(sandbox: Sandbox, fault: Fault, status: int, path: str, category: str, send: Send) -> None:
    """A QPS 429 has no Retry-After unless the fault gives one (seconds); a daily limit's is the ISO
    time it resets: the next 00:00 UTC, or ``retry_after`` seconds from now."""
    headers: dict[str, str] = {}
    daily = status == 429 and fault.rate_limit_type == "Daily-limit"
    if daily:
        now = sandbox.now()
        resets = now + timedelta(seconds=fault.retry_after) if fault.retry_after is not None else next_utc_midnight(now)
        headers["Retry-After"] = zoom_timestamp(resets)
    elif fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    if status == 429:
        limit = sandbox.settings.daily_meeting_limit if daily else sandbox.settings.qps_limits[category]
        headers |= rate_limit_headers(category, fault.rate_limit_type, limit, remaining=0)
    await send_json(status, fault_body(fault, status, path, daily), list(headers.items()), send)


async def send_json(status: int, content: object, headers: list[tuple[str, str]], send: Send) -> None:
    body = msgspec.json.encode(content)
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(name.lower().encode(), value.encode()) for name, value in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def fault_body(fault: Fault, status: int, path: str, daily: bool = False) -> dict[str, object]:
    """Zoom's error shape for the faulted path: OAuth's for /oauth, the REST API's elsewhere."""
    code = fault.code or status
    message = DAILY_MESSAGE if daily else FAULT_MESSAGES.get(code) or responses.get(status, "Error")
    if path.startswith("/oauth"):
        error, reason = OAUTH_FAULT_ERRORS.get(status) or (
            "server_error" if status >= 500 else "invalid_request",
            message,
        )
        return oauth_error_body(error, reason)
    return zoom_error_body(code, message)
