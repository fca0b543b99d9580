"""Counting failed attempts per client and kind, in a sliding minute."""

from __future__ import annotations

from server.rate_limits import FailedAttempts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_is_refused_after_the_limit_and_let_in_again_when_the_minute_has_passed():
    clock = Clock()
    attempts = FailedAttempts(3, clock)
    for _ in range(3):
        assert attempts.blocked_for("launch_link", "10.0.0.1") is None
        attempts.failed("launch_link", "10.0.0.1")
        clock.now += 1
    assert attempts.blocked_for("launch_link", "10.0.0.1") == 57
    clock.now += 57.5
    assert attempts.blocked_for("launch_link", "10.0.0.1") is None


def test_counts_are_kept_apart_by_client_and_by_kind():
    attempts = FailedAttempts(1, Clock())
    attempts.failed("credentials", "10.0.0.1")
    assert attempts.blocked_for("credentials", "10.0.0.1") == 60
    assert attempts.blocked_for("credentials", "10.0.0.2") is None
    assert attempts.blocked_for("launch_link", "10.0.0.1") is None


def test_memory_stays_bounded_however_many_addresses_knock(monkeypatch):
    monkeypatch.setattr("server.rate_limits.MAX_CLIENTS", 100)
    attempts = FailedAttempts(5, Clock())
    for n in range(1000):
        attempts.failed("credentials", f"10.0.{n // 256}.{n % 256}")
    assert len(attempts._failures) == 100
    assert attempts.blocked_for("credentials", "10.0.3.231") is None  # the newest is remembered


# A blocked address: valid credentials are served, what would fail anyway is refused, at a bounded cost ----------

import asyncio  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import pytest  # noqa: E402

from server.config import ApiKey, Settings, parse_trusted_proxies  # noqa: E402
from server.rate_limits import LookupGate, Vouched, failed_attempts_middleware  # noqa: E402

VALID_KEY = "valid-key-0123456789abcdef"


class App:
    """An ASGI app answering `status` after `delay`, counting the requests it was given (its "lookups")."""

    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.status, self.delay = status, delay
        self.calls = 0
        self.concurrent = self.peak = 0

    async def __call__(self, scope, receive, send) -> None:
        self.calls += 1
        self.concurrent += 1
        self.peak = max(self.peak, self.concurrent)
        try:
            await asyncio.sleep(self.delay)
            status = scope.get("answer", self.status)
            await send({"type": "http.response.start", "status": status, "headers": [(b"set-cookie", b"x=1")]})
            await send({"type": "http.response.body", "body": b"the app's own answer"})
        finally:
            self.concurrent -= 1


def blocked_stack(app: App, kind_path: str = "/api/v1/me/integrations/zoom", gate: LookupGate | None = None):
    attempts = FailedAttempts(3, Clock())
    for _ in range(3):
        for kind in ("credentials", "activation_link", "metrics_token"):
            attempts.failed(kind, "10.0.0.1")
    state = SimpleNamespace(
        settings=Settings(api_keys=(ApiKey(label="host", secret=VALID_KEY),), metrics_token="metrics-token-0123456789"),
        failed_attempts=attempts,
        lookup_gate=gate or LookupGate(slots=2, queue=10, wait_s=1),
        vouched=Vouched(),
    )
    return failed_attempts_middleware(app), state


async def call(middleware, state, path: str, headers: list[tuple[bytes, bytes]] = (), client: str = "10.0.0.1", **extra):
    scope = {"type": "http", "path": path, "headers": list(headers), "client": (client, 1234), "litestar_app": SimpleNamespace(state=state), **extra}
    sent = []

    async def send(message) -> None:
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    await middleware(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body


def bearer(secret: str) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Bearer {secret}".encode())]


async def test_a_valid_api_key_from_a_blocked_address_is_served_and_a_wrong_one_costs_no_lookup():
    app = App(status=200)
    middleware, state = blocked_stack(app)
    status, headers, body = await call(middleware, state, "/api/v1/orgs/x", bearer(VALID_KEY))
    assert (status, body) == (200, b"the app's own answer")
    assert app.calls == 1
    status, headers, body = await call(middleware, state, "/api/v1/orgs/x", bearer("wrong-key-0123456789"))
    assert status == 429 and b"too_many_failed_attempts" in body and 1 <= int(headers[b"retry-after"]) <= 60
    assert app.calls == 1  # refused in memory: the app (and the database) never saw it
    # The metrics token is told in memory too.
    assert (await call(middleware, state, "/metrics", bearer("metrics-token-0123456789")))[0] == 200
    assert (await call(middleware, state, "/metrics", bearer("nope")))[0] == 429
    assert app.calls == 2


async def test_a_blocked_address_gets_its_successes_and_429_for_its_failures():
    app = App()
    middleware, state = blocked_stack(app)
    # A session cookie or an activation link needs a lookup: it is processed, and its answer decides.
    assert (await call(middleware, state, "/activate/good", answer=200))[0] == 200
    status, headers, body = await call(middleware, state, "/activate/guess", answer=404)
    assert status == 429 and b"the app's own answer" not in body and b"set-cookie" not in headers
    status, _, body = await call(middleware, state, "/api/v1/me/integrations/zoom", [(b"cookie", b"roomlink_session=s")], answer=200)
    assert (status, body) == (200, b"the app's own answer")
    assert (await call(middleware, state, "/api/v1/me/integrations/zoom", [(b"cookie", b"roomlink_session=f")], answer=401))[0] == 429
    # Another address is not blocked: its failure is its own answer.
    assert (await call(middleware, state, "/activate/guess", client="10.0.0.2", answer=404))[0] == 404


async def test_lookups_of_blocked_addresses_are_a_few_at_a_time_and_a_flood_is_refused_without_work():
    app = App(status=401, delay=0.05)
    gate = LookupGate(slots=2, queue=10, wait_s=5)
    middleware, state = blocked_stack(app, gate=gate)
    cookie = [(b"cookie", b"roomlink_session=forged")]
    statuses = await asyncio.gather(*(call(middleware, state, "/api/v1/me/integrations/zoom", cookie) for _ in range(200)))
    assert {status for status, _, _ in statuses} == {429}
    assert app.peak == 2  # never more than the gate's slots at once
    assert app.calls <= 12  # two in the slots and ten queued; the other 188 were refused before any work
    assert gate.in_flight == 0 and gate.waiting == 0


async def test_the_gate_waits_a_bounded_time_then_refuses():
    gate = LookupGate(slots=1, queue=5, wait_s=0.05)
    assert await gate.enter()
    started = asyncio.get_running_loop().time()
    assert not await gate.enter()  # the slot stays taken: refused after the wait
    assert asyncio.get_running_loop().time() - started < 1
    gate.leave()
    assert await gate.enter()
    gate.leave()


async def test_a_valid_request_queued_behind_a_stranger_is_served_in_its_turn():
    app = App(delay=0.02)
    middleware, state = blocked_stack(app, gate=LookupGate(slots=1, queue=10, wait_s=5))
    forged = [call(middleware, state, "/activate/guess", answer=404) for _ in range(5)]
    valid = call(middleware, state, "/activate/good", answer=200)
    *refused, served = await asyncio.gather(*forged, valid)
    assert [status for status, _, _ in refused] == [429] * 5
    assert served[0] == 200


def test_trusted_proxies_are_addresses_or_cidrs():
    assert parse_trusted_proxies("") == ()
    assert parse_trusted_proxies(" 10.0.0.0/8, 192.168.1.7 ,fd00::/8,") == ("10.0.0.0/8", "192.168.1.7", "fd00::/8")
    with pytest.raises(ValueError, match="'proxy.example' is not an IP address"):
        parse_trusted_proxies("10.0.0.1,proxy.example")


async def test_a_session_seen_succeeding_is_served_ahead_of_a_strangers_flood_and_forgotten_once_it_fails():
    app = App(delay=0.05)
    middleware, state = blocked_stack(app, gate=LookupGate(slots=1, queue=2, wait_s=5))
    member = [(b"cookie", b"theme=dark; roomlink_session=the-members-session")]
    # From another address, not blocked: the member's session succeeds, and is remembered.
    assert (await call(middleware, state, "/api/v1/me/integrations/zoom", member, client="10.0.0.9", answer=200))[0] == 200
    forged = [(b"cookie", b"roomlink_session=forged")]
    flood = [asyncio.ensure_future(call(middleware, state, "/api/v1/me/integrations/zoom", forged, answer=401)) for _ in range(50)]
    await asyncio.sleep(0.01)  # the gate and its queue are full of the stranger's lookups
    served = await asyncio.gather(*(call(middleware, state, "/api/v1/me/integrations/zoom", member, answer=200) for _ in range(5)))
    assert [status for status, _, _ in served] == [200] * 5
    assert {status for status, _, _ in await asyncio.gather(*flood)} == {429}
    # Signed out since: its failure is a 429 like any other, and it waits its turn again.
    assert (await call(middleware, state, "/api/v1/me/integrations/zoom", member, answer=401))[0] == 429
    assert len(state.vouched) == 0


async def test_what_a_strangers_requests_succeed_with_is_never_vouched_for_by_a_wrong_guess():
    app = App()
    middleware, state = blocked_stack(app)
    for n in range(20):
        await call(middleware, state, f"/activate/guess-{n}", client="10.0.0.9", answer=404)
        await call(middleware, state, "/api/v1/me/integrations/zoom", [(b"cookie", f"roomlink_session=g{n}".encode())], answer=401)
    assert len(state.vouched) == 0
    await call(middleware, state, "/activate/the-link", client="10.0.0.9", answer=200)
    assert len(state.vouched) == 1


def test_vouching_is_bounded_in_memory_and_in_time(monkeypatch):
    monkeypatch.setattr("server.rate_limits.MAX_VOUCHED", 100)
    clock = Clock()
    vouched = Vouched(clock)
    for n in range(1000):
        vouched.succeeded(n.to_bytes(4, "big"))
    assert len(vouched) == 100 and (999).to_bytes(4, "big") in vouched and (0).to_bytes(4, "big") not in vouched
    clock.now += 3601
    assert (999).to_bytes(4, "big") not in vouched
