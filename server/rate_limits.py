"""Failed attempts per client: guessing API keys, sessions or capability URLs (activation, launch, OAuth
state) earns a 429 before any work is done.

Only failures count, so an office behind one address is never slowed by its own successful sign-ins. The
count is kept in each process's memory on purpose: a stranger's guesses must cost Roomlink no database
work. With N server processes a client gets at most N times the limit.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.problems import PROBLEM_JSON

WINDOW_S = 60.0
#: Clients remembered at once; the least recently seen are forgotten first.
MAX_CLIENTS = 50_000

#: Route families, by path prefix, and the answers that count as a failed attempt in each.
FAMILIES = (
    ("/api/", "credentials", frozenset({401})),
    ("/activate/", "activation_link", frozenset({404, 410})),
    ("/launch/", "launch_link", frozenset({404, 410})),
    ("/oauth/zoom/callback", "oauth_state", frozenset({400, 403})),
    ("/oauth/zoom/start/", "oauth_state", frozenset({403, 410})),
    ("/metrics", "metrics_token", frozenset({401})),
)


class FailedAttempts:
    def __init__(self, limit_per_minute: int, clock=time.monotonic) -> None:
        self._limit = limit_per_minute
        self._clock = clock
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    def blocked_for(self, kind: str, client: str) -> int | None:
        """Seconds until a client that failed `kind` too often within the last minute may try again."""
        failures = self._recent(kind, client)
        if failures is None or len(failures) < self._limit:
            return None
        return max(1, math.ceil(failures[0] + WINDOW_S - self._clock()))

    def failed(self, kind: str, client: str) -> None:
        key = (kind, client)
        failures = self._recent(kind, client)
        if failures is None:
            failures = self._failures[key] = deque(maxlen=self._limit)
        failures.append(self._clock())
        self._failures.move_to_end(key)
        while len(self._failures) > MAX_CLIENTS:
            self._failures.popitem(last=False)

    def _recent(self, kind: str, client: str) -> deque[float] | None:
        failures = self._failures.get((kind, client))
        if failures is None:
            return None
        cutoff = self._clock() - WINDOW_S
        while failures and failures[0] <= cutoff:
            failures.popleft()
        return failures


def failed_attempts_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        family = _family(scope["path"]) if scope["type"] == "http" else None
        if family is None:
            await app(scope, receive, send)
            return
        kind, failure_statuses = family
        attempts: FailedAttempts = scope["litestar_app"].state.failed_attempts
        client = scope["client"][0] if scope.get("client") else "unknown"
        retry_after = attempts.blocked_for(kind, client)
        if retry_after is not None:
            await _too_many(send, retry_after)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in failure_statuses:
                attempts.failed(kind, client)
            await send(message)

        await app(scope, receive, counting_send)

    return middleware


def _family(path: str) -> tuple[str, frozenset[int]] | None:
    for prefix, kind, failure_statuses in FAMILIES:
        if path.startswith(prefix):
            return kind, failure_statuses
    return None


async def _too_many(send: Send, retry_after: int) -> None:
    body = msgspec.json.encode(
        {
            "status": 429,
            "code": "too_many_failed_attempts",
            "detail": f"Too many failed attempts from your address; nothing was done. Try again in {retry_after} s.",
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
