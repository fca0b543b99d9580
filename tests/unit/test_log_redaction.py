from server.log_redaction import redact


def test_capabilities_in_paths_and_queries_are_redacted():
    assert redact("/activate/abc123") == "/activate/[redacted]"
    assert redact("/launch/xyz?next=/integrations/zoom") == "/launch/[redacted]?next=/integrations/zoom"
    assert redact("/oauth/zoom/callback?code=c0de&state=s7ate") == "/oauth/zoom/callback?code=[redacted]&state=[redacted]"
    assert redact("/oauth/zoom/start/s7ate") == "/oauth/zoom/start/[redacted]"
    assert redact("/api/v1/orgs/acme/integrations/zoom/members?q=ann") == "/api/v1/orgs/acme/integrations/zoom/members?q=ann"
