"""Zoom's wire rules we honour: Retry-After in seconds or as a date, bounded backoff, webhook signatures."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from domain.zoom import ZoomApp
from server.config import ZoomAppCredentials, ZoomSettings
from server.problems import Problem
from server.webhooks import MAX_AGE_S, verified_app
from server.zoom_client import RetryPolicy, retry_after_seconds

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_retry_after_in_seconds():
    assert retry_after_seconds("7", NOW) == 7


def test_retry_after_as_an_http_date_for_daily_limits():
    assert retry_after_seconds(format_datetime(NOW + timedelta(hours=2), usegmt=True), NOW) == 7200


@pytest.mark.parametrize("value", [None, "", "soon"])
def test_retry_after_unreadable(value):
    assert retry_after_seconds(value, NOW) is None


def test_backoff_is_bounded_and_jittered():
    policy = RetryPolicy(backoff_base_s=0.5, backoff_max_s=2.0)
    samples = [policy.backoff(attempt) for attempt in range(10) for _ in range(50)]
    assert all(0 <= s <= 2.0 for s in samples)
    assert len({round(s, 6) for s in samples}) > 100


ZOOM = ZoomSettings(
    oauth_base_url="https://zoom.example",
    api_base_url="https://api.zoom.example/v2",
    redirect_uri="https://roomlink.example/oauth/zoom/callback",
    user_app=ZoomAppCredentials(client_id="u", client_secret="us", webhook_secret="user-secret"),
    admin_app=ZoomAppCredentials(client_id="a", client_secret="as", webhook_secret="admin-secret"),
)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return "v0=" + hmac.new(secret.encode(), f"v0:{timestamp}:{body.decode()}".encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("secret, app", [("user-secret", ZoomApp.USER), ("admin-secret", ZoomApp.ADMIN)])
def test_webhook_signature_names_the_app_that_signed(secret, app):
    body = b'{"event":"user.updated"}'
    assert verified_app(ZOOM, signature(secret, 1000, body), "1000", body, now=1000) is app


@pytest.mark.parametrize(
    "header, timestamp, now, code",
    [
        (signature("wrong", 1000, b"{}"), "1000", 1000, "webhook_signature_invalid"),
        (signature("admin-secret", 1000, b"{}"), "1000", 1000 + MAX_AGE_S + 1, "webhook_stale"),
        (signature("admin-secret", 1000, b"{}"), "1000", 1000 - MAX_AGE_S - 1, "webhook_stale"),
        (signature("admin-secret", 1000, b"{}"), "", 1000, "webhook_stale"),
        ("", "1000", 1000, "webhook_signature_invalid"),
    ],
)
def test_webhook_refused_before_reading(header, timestamp, now, code):
    with pytest.raises(Problem) as refused:
        verified_app(ZOOM, header, timestamp, b"{}", now)
    assert (refused.value.status, refused.value.code) == (401, code)


def test_a_body_changed_after_signing_is_refused():
    with pytest.raises(Problem):
        verified_app(ZOOM, signature("admin-secret", 1000, b'{"a":1}'), "1000", b'{"a":2}', 1000)
