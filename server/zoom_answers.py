"""What Zoom's HTTP answers say, read the same way by the client that acts on them (server/zoom_client.py)
and by the metrics that count them (server/metrics.py)."""

from __future__ import annotations

import httpx


def answer_body(response: httpx.Response) -> dict:
    """The answer's JSON object; empty when it has none."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def is_daily_limit(response: httpx.Response) -> bool:
    """A 429 that says so in X-RateLimit-Type (successful answers carry the header too, counting down);
    meeting writes may also answer HTTP 300 with code 429 or a message about the daily limit."""
    if response.status_code not in (300, 429):
        return False
    if response.headers.get("x-ratelimit-type", "").lower() == "daily-limit":
        return True
    body = answer_body(response)
    message = str(body.get("message", "")).lower()
    # The Meetings document's 300: "A maximum of {n} meetings can be created/updated for a single user in one day."
    return "daily" in message or "in one day" in message or (response.status_code == 300 and body.get("code") == 429)
