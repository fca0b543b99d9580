"""Prometheus metrics every process counts: requests, Zoom calls, token refreshes, webhooks, jobs.

Counters and histograms are kept by prometheus-client; with PROMETHEUS_MULTIPROC_DIR set (before this
module is first imported) every process of a host writes them to files there and any `serve` process
adds them all up when scraped (server/scrape.py), so several `serve` processes and workers on one host
read as one.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable
from urllib.parse import urlsplit

import httpx
from prometheus_client import Counter, Histogram

from server import tracing
from server.zoom_answers import answer_body, is_daily_limit

log = logging.getLogger("roomlink.zoom")

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Histogram(
    "roomlink_http_request_duration_seconds",
    "Requests answered, by route template (no ids) and status, and how long they took.",
    ["method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
)
ZOOM_REQUESTS = Counter(
    "roomlink_zoom_requests",
    "HTTP requests to Zoom (each attempt of a retried call counts), by operation and outcome: 2xx, 4xx (with "
    "Zoom's code), 429_qps, 429_daily, 5xx, timeout, unreachable.",
    ["operation", "outcome", "zoom_code"],
)
ZOOM_LATENCY = Histogram(
    "roomlink_zoom_request_duration_seconds",
    "How long one HTTP request to Zoom took, by operation.",
    ["operation"],
    buckets=_LATENCY_BUCKETS,
)
TOKEN_REFRESHES = Counter(
    "roomlink_token_refreshes",
    "Zoom token refreshes by connection type and outcome: refreshed, grant_revoked (the connection breaks), failed.",
    ["type", "outcome"],
)
WEBHOOK_LAG = Histogram(
    "roomlink_webhook_lag_seconds",
    "From a Zoom webhook's receipt to the end of its handling by a worker, by event.",
    ["event"],
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0),
)
READ_CACHE = Counter(
    "roomlink_read_cache",
    "The serve processes' read cache (persistence/change_feed.py): reads answered from it (hit) or from PostgreSQL "
    "(miss), barriers sent (several waiting reads share one), and listening connections lost (lost).",
    ["outcome"],
)
JOB_RUNS = Histogram(
    "roomlink_job_duration_seconds",
    "Background jobs run, by kind and outcome (ok, error, rate_limited), and how long each run took.",
    ["kind", "outcome"],
    buckets=_LATENCY_BUCKETS,
)
BLOCKED_CLIENTS = Counter(
    "roomlink_blocked_client_requests",
    "Requests from client addresses over the failed-attempts limit (server/rate_limits.py), by what became of "
    "them: valid_key_served, wrong_key_refused (no database work), vouched_served, vouched_refused (a credential "
    "seen succeeding lately, ahead of the gate), lookup_served, lookup_refused (each passed the per-process gate), "
    "gate_full_refused (no database work).",
    ["outcome"],
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).observe(seconds)


def blocked_client_request(outcome: str) -> None:
    BLOCKED_CLIENTS.labels(outcome).inc()


def token_refreshed(connection_type: str, outcome: str) -> None:
    TOKEN_REFRESHES.labels(connection_type, outcome).inc()


_EVENT_NAME = re.compile(r"^[a-z_.]{1,64}$")


def webhook_handled(event: str, received_at_s: float) -> None:
    WEBHOOK_LAG.labels(event if _EVENT_NAME.match(event) else "other").observe(max(0.0, time.time() - received_at_s))


def job_ran(kind: str, outcome: str, seconds: float) -> None:
    JOB_RUNS.labels(kind, outcome).observe(seconds)


# Zoom ------------------------------------------------------------------------------------------------

#: Path words of Zoom's API kept in an operation's name; any other segment is an id and reads `{id}`.
_ZOOM_WORDS = frozenset(
    {
        "oauth", "token", "revoke", "users", "me", "settings", "meetings", "past_meetings", "status",
        "registrants", "recordings", "webinars", "accounts", "report", "summary", "assistants", "schedulers",
        "email", "zak", "invitation", "livestream", "polls", "batch",
    }
)
_ZOOM_CODE = re.compile(r"^[a-z0-9_]{1,40}$")


def zoom_operation(method: str, url: str) -> str:
    """`GET /users/{id}/meetings`: Zoom's path from `/v2` or `/oauth` on, ids folded away."""
    segments = [part for part in urlsplit(url).path.split("/") if part]
    for start, part in enumerate(segments):
        if part in ("v2", "oauth"):
            segments = segments[start + 1 :] if part == "v2" else segments[start:]
            break
    return f"{method} /" + "/".join(part if part in _ZOOM_WORDS else "{id}" for part in segments)


def zoom_outcome(response: httpx.Response) -> tuple[str, str]:
    """(outcome, Zoom's code): its REST `code`, or OAuth's `error`, when it gives one."""
    status = response.status_code
    if is_daily_limit(response):
        return "429_daily", ""
    if status == 429:
        return "429_qps", ""
    if status >= 500:
        return "5xx", ""
    if status >= 400:
        return "4xx", _zoom_code(response)
    return "2xx", ""


def _zoom_code(response: httpx.Response) -> str:
    body = answer_body(response)
    code = str(body.get("code", body.get("error", ""))).lower()
    return code if _ZOOM_CODE.match(code) else "other"


async def zoom_call(method: str, url: str, sending: Awaitable[httpx.Response]) -> httpx.Response:
    """The one place a request to Zoom is counted, timed and logged (server/zoom_client.py's `_send`)."""
    operation = zoom_operation(method, url)
    if tracing.active():
        with tracing.span(f"zoom {operation}", tracing.CLIENT, roomlink__zoom_operation=operation) as current:
            response = await _observed(operation, sending)
            current.set_attribute("http.response.status_code", response.status_code)
            return response
    return await _observed(operation, sending)


async def _observed(operation: str, sending: Awaitable[httpx.Response]) -> httpx.Response:
    started = time.perf_counter()
    try:
        response = await sending
    except httpx.TimeoutException:
        _zoom_observed(operation, "timeout", "", None, time.perf_counter() - started)
        raise
    except httpx.HTTPError:
        _zoom_observed(operation, "unreachable", "", None, time.perf_counter() - started)
        raise
    outcome, code = zoom_outcome(response)
    _zoom_observed(operation, outcome, code, response.status_code, time.perf_counter() - started)
    return response


def _zoom_observed(operation: str, outcome: str, code: str, status: int | None, seconds: float) -> None:
    ZOOM_REQUESTS.labels(operation, outcome, code).inc()
    ZOOM_LATENCY.labels(operation).observe(seconds)
    log.info(
        "zoom %s: %s%s",
        operation,
        outcome,
        f" ({code})" if code else "",
        extra={
            "zoom_operation": operation,
            "outcome": outcome,
            "zoom_code": code or None,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
        },
    )


def observe_read_cache(outcome: str) -> None:
    READ_CACHE.labels(outcome).inc()
