"""Zoom's wire rules we honour: Retry-After as ISO 8601, an HTTP date or seconds; daily limits wait for
00:00 UTC, per-second limits back off; Zoom's error codes kept; revocation by access token; webhook
signatures. Zoom's answers here are written out as Zoom documents them (zoom-reference/README.md)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from domain.errors import ZoomRefused, ZoomScopesMissing, ZoomUserNotFound
from domain.zoom import TokenSet, ZoomApp
from server.config import ZoomAppCredentials, ZoomSettings
from server.problems import Problem
from server.webhooks import MAX_AGE_S, verified_app
from server.zoom_client import (
    HttpZoom,
    RetryPolicy,
    ZoomDailyLimit,
    ZoomRateLimited,
    retry_after_seconds,
    until_next_utc_midnight,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_retry_after_in_seconds():
    assert retry_after_seconds("7", NOW) == 7


def test_retry_after_as_zooms_iso_8601_time_for_daily_limits():
    assert retry_after_seconds("2026-11-21T00:00:00Z", NOW) == 12 * 3600
    assert retry_after_seconds("2026-11-21T01:00:00+01:00", NOW) == 12 * 3600


def test_retry_after_as_an_http_date():
    assert retry_after_seconds(format_datetime(NOW + timedelta(hours=2), usegmt=True), NOW) == 7200


def test_retry_after_in_the_past_is_now():
    assert retry_after_seconds("2020-05-31T00:00:00Z", NOW) == 0


@pytest.mark.parametrize("value", [None, "", "soon", "2026-13-40T00:00:00Z"])
def test_retry_after_unreadable(value):
    assert retry_after_seconds(value, NOW) is None


def test_the_daily_limit_resets_at_the_next_utc_midnight():
    assert until_next_utc_midnight(NOW) == 12 * 3600
    assert until_next_utc_midnight(datetime(2026, 11, 20, 23, 59, 30, tzinfo=UTC)) == 30


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


TOKENS = TokenSet(access_token="the-access-token", refresh_token="the-refresh-token", expires_at=NOW)
FAST = RetryPolicy(attempts=4, backoff_base_s=0.001, backoff_max_s=0.002)


class ScriptedZoom:
    """Zoom's answers, in order, as Zoom documents them; records what it was sent."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def client(self) -> HttpZoom:
        return HttpZoom(ZOOM, httpx.AsyncClient(transport=httpx.MockTransport(self)), FAST)


USER = {"id": "z1", "email": "z@zoom.example", "account_id": "acc", "role_id": "0", "status": "active"}
QPS_429 = httpx.Response(
    429,
    json={"code": 429, "message": "You have reached the maximum per-second rate limit for this API."},
    headers={"X-RateLimit-Category": "Light", "X-RateLimit-Type": "QPS", "X-RateLimit-Limit": "80", "X-RateLimit-Remaining": "0"},
)


def daily_429(retry_after: str | None) -> httpx.Response:
    headers = {"X-RateLimit-Category": "Medium", "X-RateLimit-Type": "Daily-limit", "X-RateLimit-Limit": "100"}
    return httpx.Response(
        429, json={"code": 429, "message": "You have exceeded the daily rate limit"}, headers=headers | (
            {"Retry-After": retry_after} if retry_after else {}
        )
    )


async def test_a_per_second_429_without_retry_after_is_retried_with_backoff():
    zoom = ScriptedZoom(QPS_429, QPS_429, httpx.Response(200, json=USER))

    profile = await zoom.client().me(TOKENS)

    assert profile.zoom_user_id == "z1" and len(zoom.requests) == 3


async def test_per_second_limits_that_do_not_let_up_say_to_come_back_in_a_second():
    zoom = ScriptedZoom(QPS_429)

    with pytest.raises(ZoomRateLimited) as limited:
        await zoom.client().me(TOKENS)

    assert not isinstance(limited.value, ZoomDailyLimit)
    assert limited.value.retry_after_s == 1.0 and len(zoom.requests) == FAST.attempts


async def test_a_daily_limit_is_not_retried_and_names_zooms_reset_time():
    resets = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    zoom = ScriptedZoom(daily_429(resets.strftime("%Y-%m-%dT%H:%M:%SZ")))

    with pytest.raises(ZoomDailyLimit) as limited:
        await zoom.client().me(TOKENS)

    assert len(zoom.requests) == 1
    assert 3 * 3600 - 5 < limited.value.retry_after_s <= 3 * 3600


async def test_a_daily_limit_without_retry_after_waits_for_00_00_utc():
    zoom = ScriptedZoom(daily_429(None))

    with pytest.raises(ZoomDailyLimit) as limited:
        await zoom.client().me(TOKENS)

    assert abs(limited.value.retry_after_s - until_next_utc_midnight(datetime.now(UTC))) < 5


async def test_a_success_counting_down_the_daily_limit_is_a_success():
    headers = {"X-RateLimit-Type": "Daily-limit", "X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "99"}
    zoom = ScriptedZoom(httpx.Response(200, json=USER, headers=headers))

    assert (await zoom.client().me(TOKENS)).zoom_user_id == "z1"


@pytest.mark.parametrize(
    "body", [{"code": 429, "message": "Too many requests"}, {"code": 3000, "message": "You have reached the daily limit"}]
)
async def test_a_daily_limit_reported_as_http_300_is_the_daily_limit(body):
    zoom = ScriptedZoom(httpx.Response(300, json=body))

    with pytest.raises(ZoomDailyLimit):
        await zoom.client().me(TOKENS)


@pytest.mark.parametrize(
    "code, error, fix",
    [
        (4711, ZoomScopesMissing, "approve every permission"),
        (1001, ZoomUserNotFound, "connect a Zoom user that exists"),
        (3001, ZoomRefused, "Meeting does not exist"),
    ],
)
async def test_zooms_error_code_is_kept_and_names_its_own_fix(code, error, fix):
    messages = {4711: "Invalid access token, does not contain scopes:[user:read:admin].", 1001: "User does not exist: x.", 3001: "Meeting does not exist: 1."}
    zoom = ScriptedZoom(httpx.Response(400 if code == 4711 else 404, json={"code": code, "message": messages[code]}))

    with pytest.raises(ZoomRefused) as refused:
        await zoom.client().me(TOKENS)

    assert type(refused.value) is error and refused.value.zoom_code == code
    assert fix in refused.value.detail


def test_missing_scopes_and_a_missing_user_are_different_problems():
    assert ZoomScopesMissing.code != ZoomUserNotFound.code != ZoomRefused.code


async def test_revocation_sends_the_access_token_as_zoom_documents():
    zoom = ScriptedZoom(httpx.Response(200, json={"status": "success"}))

    await zoom.client().revoke(ZoomApp.USER, TOKENS)

    (request,) = zoom.requests
    assert request.url.path == "/oauth/revoke"
    assert dict(httpx.QueryParams(request.content.decode())) == {"token": "the-access-token"}


def test_the_daily_limit_is_read_from_a_429_and_from_the_meetings_documents_http_300():
    """The Meetings document, POST /users/{userId}/meetings and PATCH /meetings/{meetingId}: HTTP 300, "A maximum
    of {rateLimitNumber} meetings can be created/updated for a single user in one day." """
    import httpx

    from server.zoom_client import is_daily_limit

    document_300 = httpx.Response(
        300, json={"code": 300, "message": "A maximum of 100 meetings can be created/updated for a single user in one day."}
    )
    other_300 = httpx.Response(300, json={"code": 300, "message": "Invalid enforce_login_domains, separate multiple domains by semicolon."})
    daily_429 = httpx.Response(429, headers={"X-RateLimit-Type": "Daily-limit"}, json={"code": 429, "message": "x"})
    per_second = httpx.Response(429, headers={"X-RateLimit-Type": "QPS"}, json={"code": 429, "message": "Too many requests"})

    assert [is_daily_limit(r) for r in (document_300, other_300, daily_429, per_second)] == [True, False, True, False]
