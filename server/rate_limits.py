"""Failed attempts per client: guessing API keys, sessions or capability URLs (activation, launch, OAuth
state) earns a 429 — but a credential that is valid is always served, whoever shares the client's address.

Behind a load balancer or a NAT every host product's request comes from one address, so the address cannot
be what is refused: one stranger sending bad keys would stop every integration behind it. Failures are
still counted per client address; once an address is over the limit ("blocked"), each of its requests is
still looked at, but at a bounded cost:

- an API key (or the metrics token) is checked in memory (Settings.find_api_key, no database): a valid one
  is served as usual, a wrong one is answered 429 at once;
- a session cookie or capability link this process saw succeed within the last hour ("vouched for": a
  member already using Roomlink, an activation page already opened) is processed as usual, ahead of any
  stranger: a flood from the same address cannot queue it out;
- anything else that needs a lookup to tell (a new session cookie, an activation, launch or OAuth link)
  passes through a small per-process gate — a few slots, a bounded queue, a bounded wait — and is then
  processed as usual; if its answer is a failure the client gets the 429 instead, and a success is
  answered as is.

Vouching is a matter of order only, never of access: a vouched request is still authenticated as any other,
and only someone holding the credential can present it.

So what a stranger can cost is bounded: no database work for keys, at most `slots` requests of blocked
clients in flight per process (a fraction of the connection pool, which the others keep), a bounded queue
in memory, and at most MAX_CLIENTS addresses remembered. The count is kept in each process's memory on
purpose: counting must cost no database work. With N server processes a client gets at most N times the
limit. The client address is the TCP peer, or the forwarded one when the peer is a trusted proxy
(ROOMLINK_TRUSTED_PROXIES, resolved by the server: see server/cli.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import time
from collections import OrderedDict, deque

import msgspec
from litestar._parsers import parse_cookie_string
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server import metrics
from server.config import Settings
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
#: Families whose credential is a bearer token that memory alone can tell valid or not.
BEARER_FAMILIES = frozenset({"credentials", "metrics_token"})
#: The session cookie (server/auth.py's SESSION_COOKIE; not imported, auth imports much more).
SESSION_COOKIE = "roomlink_session"
#: Credentials seen succeeding, remembered this long after their last success, this many at once.
VOUCHED_FOR_S = 3600.0
MAX_VOUCHED = 20_000


class FailedAttempts:
    def __init__(self, limit_per_minute: int, clock=time.monotonic) -> None:
        self._limit = limit_per_minute
        self._clock = clock
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    def blocked_for(self, kind: str, client: str) -> int | None:
        """Seconds until a client that failed `kind` too often within the last minute is no longer blocked."""
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


class Vouched:
    """Digests of credentials (session cookies, capability paths) this process saw succeed lately."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._until: OrderedDict[bytes, float] = OrderedDict()

    def succeeded(self, digest: bytes) -> None:
        self._until[digest] = self._clock() + VOUCHED_FOR_S
        self._until.move_to_end(digest)
        while len(self._until) > MAX_VOUCHED:
            self._until.popitem(last=False)

    def failed(self, digest: bytes) -> None:
        self._until.pop(digest, None)

    def __len__(self) -> int:
        return len(self._until)

    def __contains__(self, digest: bytes) -> bool:
        until = self._until.get(digest)
        if until is not None and until < self._clock():
            del self._until[digest]
            return False
        return until is not None


def credential_digest(kind: str, scope: Scope) -> bytes | None:
    """What a request of a family presents that a lookup must tell valid: its session cookie (API calls),
    or its capability path (activation, launch, OAuth start links; an OAuth callback is spent at once)."""
    if kind == "credentials":
        for name, value in scope["headers"]:
            if name == b"cookie":
                session = parse_cookie_string(value.decode("latin-1")).get(SESSION_COOKIE)
                return hashlib.sha256(b"session:" + session.encode()).digest() if session else None
        return None
    if kind in ("activation_link", "launch_link") or scope["path"].startswith("/oauth/zoom/start/"):
        return hashlib.sha256(b"path:" + scope["path"].encode()).digest()
    return None


class LookupGate:
    """Requests of blocked clients that need a lookup to be told valid or not, a few at a time per process.

    At most `slots` are processed at once; at most `queue` more wait, in arrival order, each at most
    `wait_s`; any other is refused at once (no memory, no database). A valid request behind a stranger's
    flood waits its turn rather than being refused, as long as the flood keeps fewer than `queue` waiting.
    """

    def __init__(self, slots: int = 4, queue: int = 64, wait_s: float = 5.0) -> None:
        self.slots = slots
        self._queue = queue
        self._wait_s = wait_s
        self._free: asyncio.Semaphore | None = None
        self.waiting = 0
        self.in_flight = 0

    async def enter(self) -> bool:
        if self._free is None:
            self._free = asyncio.Semaphore(self.slots)
        # Counted before any await: a burst arriving at once cannot all slip past the check.
        if self.in_flight + self.waiting >= self.slots + self._queue:
            return False
        self.waiting += 1
        try:
            await asyncio.wait_for(self._free.acquire(), self._wait_s)
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1
        self.in_flight += 1
        return True

    def leave(self) -> None:
        assert self._free is not None
        self.in_flight -= 1
        self._free.release()


def gate_for(settings: Settings) -> LookupGate:
    """Half the connection pool at most (and at most 4): blocked clients never take the others' connections."""
    return LookupGate(slots=max(1, min(4, settings.db_pool_size // 2)))


def bearer(scope: Scope) -> str | None:
    """`Authorization: Bearer <token>`, read as server/auth.py and server/scrape.py read it."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None
    return None


def bearer_is_valid(kind: str, presented: str, settings: Settings) -> bool:
    """In memory only: an API key of Settings, or the metrics token."""
    if kind == "credentials":
        return settings.find_api_key(presented) is not None
    token = settings.metrics_token
    return bool(token) and hmac.compare_digest(presented.encode(), token.encode())


def failed_attempts_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        family = _family(scope["path"]) if scope["type"] == "http" else None
        if family is None:
            await app(scope, receive, send)
            return
        kind, failure_statuses = family
        state = scope["litestar_app"].state
        attempts: FailedAttempts = state.failed_attempts
        client = scope["client"][0] if scope.get("client") else "unknown"

        vouched: Vouched = state.vouched
        digest = credential_digest(kind, scope) if kind not in BEARER_FAMILIES or bearer(scope) is None else None

        def answered(status: int) -> bool:
            """Counts a failure; remembers a success of the credential. True for a failure."""
            if status in failure_statuses:
                attempts.failed(kind, client)
                if digest is not None:
                    vouched.failed(digest)  # signed out, spent or revoked since: it waits its turn again
                return True
            if digest is not None and status < 400:
                vouched.succeeded(digest)
            return False

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered(message["status"])
            await send(message)

        retry_after = attempts.blocked_for(kind, client)
        if retry_after is None:
            await app(scope, receive, counting_send)
            return

        presented = bearer(scope) if kind in BEARER_FAMILIES else None
        if presented is not None:
            if bearer_is_valid(kind, presented, state.settings):
                metrics.blocked_client_request("valid_key_served")
                await app(scope, receive, counting_send)
            else:
                attempts.failed(kind, client)
                metrics.blocked_client_request("wrong_key_refused")
                await _too_many(send, attempts.blocked_for(kind, client) or retry_after)
            return

        refused = False

        async def refusing_send(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and answered(message["status"]):
                refused = True
                await _too_many(send, attempts.blocked_for(kind, client) or retry_after)
            elif not refused:
                await send(message)

        if digest is not None and digest in vouched:
            await app(scope, receive, refusing_send)
            metrics.blocked_client_request("vouched_refused" if refused else "vouched_served")
            return
        gate: LookupGate = state.lookup_gate
        if not await gate.enter():
            metrics.blocked_client_request("gate_full_refused")
            await _too_many(send, retry_after)
            return
        try:
            await app(scope, receive, refusing_send)
        finally:
            gate.leave()
            metrics.blocked_client_request("lookup_refused" if refused else "lookup_served")

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
