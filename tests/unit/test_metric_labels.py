"""Metric labels stay few: Zoom operations without ids, outcomes from a fixed set, request ids sane."""

from __future__ import annotations

import httpx
import pytest

from server.metrics import zoom_operation, zoom_outcome
from server.request_context import incoming_request_id


@pytest.mark.parametrize(
    ("method", "url", "operation"),
    [
        ("GET", "https://api.zoom.us/v2/users/me", "GET /users/me"),
        ("GET", "https://api.zoom.us/v2/users?status=active&page_size=300", "GET /users"),
        ("POST", "https://api.zoom.us/v2/users/KDcuGIm1QgePTO8WbOqwIQ/meetings", "POST /users/{id}/meetings"),
        ("PATCH", "https://api.zoom.us/v2/meetings/85746065432", "PATCH /meetings/{id}"),
        ("GET", "https://api.zoom.us/v2/users/ann@acme.example/settings", "GET /users/{id}/settings"),
        ("POST", "https://zoom.us/oauth/token", "POST /oauth/token"),
        ("POST", "http://127.0.0.1:8000/zoom-sandbox/oauth/revoke", "POST /oauth/revoke"),
        ("GET", "http://127.0.0.1:8000/zoom-sandbox/v2/users/me", "GET /users/me"),
    ],
)
def test_zoom_operations_name_the_path_without_ids(method, url, operation):
    assert zoom_operation(method, url) == operation


def answer(status: int, body: dict | None = None, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body or {}, headers=headers)


@pytest.mark.parametrize(
    ("response", "outcome"),
    [
        (answer(200, {"id": "u"}), ("2xx", "")),
        (answer(204), ("2xx", "")),
        (answer(201, {"id": 1}, **{"X-RateLimit-Type": "Daily-limit", "X-RateLimit-Remaining": "99"}), ("2xx", "")),
        (answer(404, {"code": 1001, "message": "User does not exist"}), ("4xx", "1001")),
        (answer(400, {"code": 4711, "message": "scopes"}), ("4xx", "4711")),
        (answer(401, {"code": 124, "message": "Invalid access token."}), ("4xx", "124")),
        (answer(400, {"reason": "Invalid Token!", "error": "invalid_grant"}), ("4xx", "invalid_grant")),
        (answer(400, {"error": "something <script> long and odd"}), ("4xx", "other")),
        (answer(429, {"code": 429}, **{"X-RateLimit-Type": "QPS", "Retry-After": "1"}), ("429_qps", "")),
        (answer(429, {"code": 429}), ("429_qps", "")),
        (answer(429, {"code": 429}, **{"X-RateLimit-Type": "Daily-limit"}), ("429_daily", "")),
        (answer(300, {"code": 429, "message": "You have exceeded the daily rate limit (100)"}), ("429_daily", "")),
        (answer(503), ("5xx", "")),
    ],
)
def test_zoom_outcomes_tell_per_second_from_daily_limits_and_keep_zooms_code(response, outcome):
    assert zoom_outcome(response) == outcome


def test_a_request_id_from_the_caller_is_kept_only_when_it_is_short_and_plain():
    def scope(value: bytes) -> dict:
        return {"headers": [(b"x-request-id", value)]}

    assert incoming_request_id(scope(b"abc-123.x_Y:z")) == "abc-123.x_Y:z"
    replaced = incoming_request_id(scope(b"bad id\r\nSet-Cookie: x"))
    assert replaced != "bad id\r\nSet-Cookie: x" and len(replaced) == 32
    assert len(incoming_request_id(scope(b"a" * 65))) == 32
    assert len(incoming_request_id({"headers": []})) == 32
