"""Secrets stay out of the logs: capability URLs name the path, not the secret in it; tokens, start URLs and
credentials are never written, whichever field of a log line carries them."""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

_SECRET_IN_PATH = re.compile(r"(/(?:activate|launch|oauth/zoom/start)/)[^/?\s\"']+")
#: OAuth's code and state, tokens, and `zak` (the host's sign-in inside a Zoom start URL, R15).
_SECRET_IN_QUERY = re.compile(
    r"((?:^|[?&;])(?:code|state|token|access_token|refresh_token|zak|code_verifier|client_secret)=)[^&\s\"']+"
)
_BEARER = re.compile(r"((?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
#: `"access_token": "…"` or `access_token='…'` inside a message (a dict or a body printed whole).
_SECRET_ASSIGNMENT = re.compile(
    r"""((?:["']?)(?:access_token|refresh_token|client_secret|code_verifier|start_url|webhook_secret|secret|password)"""
    r"""["']?\s*[:=]\s*["']?)[^"',}&\s]+""",
    re.IGNORECASE,
)
#: `scheme://user:password@host` (SMTP_URL, DATABASE_URL).
_USERINFO = re.compile(r"(://)[^/\s:@]+:[^/\s@]+@")
#: Fields of a log line whose value is a secret, whatever it looks like.
SECRET_FIELDS = frozenset(
    {
        "access_token", "refresh_token", "client_secret", "code_verifier", "start_url", "authorization",
        "token", "password", "secret", "webhook_secret", "api_key", "cookie", "set_cookie",
    }
)


def redact(text: str) -> str:
    text = _SECRET_IN_PATH.sub(rf"\1{REDACTED}", text)
    text = _SECRET_IN_QUERY.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    text = _USERINFO.sub(rf"\1{REDACTED}@", text)
    return _SECRET_ASSIGNMENT.sub(rf"\1{REDACTED}", text)


def redact_field(name: str, value: object) -> object:
    """A log line's field: a secret by name is dropped whole; any text is redacted; numbers pass."""
    if name.lower() in SECRET_FIELDS:
        return REDACTED
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


class RedactCapabilities(logging.Filter):
    """uvicorn's access log record carries (client, method, path, http version, status) as args."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            record.args = (*record.args[:2], redact(record.args[2]), *record.args[3:])
        return True


def install() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, RedactCapabilities) for existing in access.filters):
        access.addFilter(RedactCapabilities())
