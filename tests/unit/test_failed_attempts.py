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
