"""Capability URLs stay out of the logs: access logs name the path, not the secret in it."""

from __future__ import annotations

import logging
import re

_SECRET_IN_PATH = re.compile(r"(/(?:activate|launch|oauth/zoom/start)/)[^/?\s]+")
_SECRET_IN_QUERY = re.compile(r"((?:^|[?&])(?:code|state|token)=)[^&\s]+")


def redact(path: str) -> str:
    return _SECRET_IN_QUERY.sub(r"\1[redacted]", _SECRET_IN_PATH.sub(r"\1[redacted]", path))


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
