import json
import logging
import sys

from persistence.correlation import request_id
from server.log_redaction import redact, redact_field
from server.logging_setup import JsonLines, TextLines


def test_capabilities_in_paths_and_queries_are_redacted():
    assert redact("/activate/abc123") == "/activate/[redacted]"
    assert redact("/launch/xyz?next=/integrations/zoom") == "/launch/[redacted]?next=/integrations/zoom"
    assert redact("/oauth/zoom/callback?code=c0de&state=s7ate") == "/oauth/zoom/callback?code=[redacted]&state=[redacted]"
    assert redact("/oauth/zoom/start/s7ate") == "/oauth/zoom/start/[redacted]"
    assert redact("/api/v1/orgs/acme/integrations/zoom/members?q=ann") == "/api/v1/orgs/acme/integrations/zoom/members?q=ann"


def test_r15_a_start_url_and_tokens_never_reach_a_log_line():
    start_url = "https://us02web.zoom.us/s/85746065432?zak=eyJ0eXAiOiJKV1QiLCJzdiI6IjAwMDAwMSJ9.s3cr3t"
    assert "eyJ0eX" not in redact(f"host opened {start_url}")
    assert redact("Authorization: Bearer abc.def-ghi") == "Authorization: Bearer [redacted]"
    assert "clientsecret" not in redact("Authorization: Basic clientsecret==")
    assert "tok3n" not in redact("{'access_token': 'tok3n', 'refresh_token': 'r3fresh'}")
    assert "r3fresh" not in redact('{"access_token": "tok3n", "refresh_token": "r3fresh"}')
    assert "pa55" not in redact("smtp+starttls://user:pa55@mail.example.com:587")
    assert redact("/oauth/token?refresh_token=r3fresh&x=1") == "/oauth/token?refresh_token=[redacted]&x=1"


def test_every_field_a_log_line_may_carry_is_redacted():
    assert redact_field("start_url", "https://zoom.us/s/1?zak=x") == "[redacted]"
    assert redact_field("access_token", "anything") == "[redacted]"
    assert redact_field("authorization", "Bearer x") == "[redacted]"
    assert redact_field("path", "/activate/secret-token") == "/activate/[redacted]"
    assert redact_field("url", "https://example.com/launch/abc?x=1") == "https://example.com/launch/[redacted]?x=1"
    assert redact_field("duration_ms", 12.5) == 12.5 and redact_field("status", 200) == 200
    assert redact_field("zoom_operation", "GET /users/{id}/meetings") == "GET /users/{id}/meetings"


def record(message: str, *args, exc_info=None, **extra) -> logging.LogRecord:
    made = logging.LogRecord("roomlink.test", logging.INFO, __file__, 1, message, args, exc_info)
    made.__dict__.update(extra)
    return made


def test_a_json_line_is_one_object_with_request_id_and_every_field_redacted():
    token = request_id.set("req-1")
    try:
        line = JsonLines().format(
            record(
                "callback %s",
                "/oauth/zoom/callback?code=c0de&state=s7ate",
                start_url="https://zoom.us/s/1?zak=z4k",
                path="/launch/l4unch",
                zoom_operation="POST /oauth/token",
                status=200,
            )
        )
    finally:
        request_id.reset(token)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["request_id"] == "req-1" and parsed["level"] == "INFO" and parsed["logger"] == "roomlink.test"
    assert parsed["zoom_operation"] == "POST /oauth/token" and parsed["status"] == 200
    assert all(secret not in line for secret in ("c0de", "s7ate", "z4k", "l4unch"))


def test_uvicorn_access_lines_become_fields_with_the_path_redacted():
    access = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/activate/s3cret", "1.1", 200), None,
    )
    parsed = json.loads(JsonLines().format(access))
    assert (parsed["method"], parsed["path"], parsed["status"]) == ("GET", "/activate/[redacted]", 200)
    assert "s3cret" not in json.dumps(parsed)


def test_a_traceback_is_redacted_and_stays_on_one_line():
    try:
        raise RuntimeError("refresh failed for refresh_token=r3fresh")
    except RuntimeError:
        line = JsonLines().format(record("failed", exc_info=sys.exc_info()))
    assert "\n" not in line and "r3fresh" not in line and "Traceback" in json.loads(line)["exception"]


def test_text_lines_carry_the_request_id_and_are_redacted():
    token = request_id.set("req-2")
    try:
        text = TextLines().format(record("GET %s", "/launch/l4unch"))
    finally:
        request_id.reset(token)
    assert "l4unch" not in text and text.endswith("[request req-2]")
