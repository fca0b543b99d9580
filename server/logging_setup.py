"""Log lines: one JSON object per line in production (ROOMLINK_LOG_FORMAT=json, the default of `roomlink
serve` and `worker`), readable text in the demo; each carries the request id at work, none a secret."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from persistence.correlation import request_id
from server.log_redaction import redact, redact_field

JSON, TEXT = "json", "text"

#: What every LogRecord has; anything else on a record is a field its caller gave in `extra`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message", "taskName"}


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        current = request_id.get()
        if current:
            line["request_id"] = current
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, _, status = record.args
            line.update(client=str(client), method=str(method), path=redact(str(path)), status=status)
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_") and name not in line:
                line[name] = redact_field(name, value)
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(line, default=str, ensure_ascii=False)


class TextLines(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        current = request_id.get()
        text = super().format(record)
        return redact(f"{text} [request {current}]" if current else text)


def log_format_from_env(environ, default: str) -> str:
    chosen = environ.get("ROOMLINK_LOG_FORMAT", default).strip().lower()
    if chosen not in (JSON, TEXT):
        raise SystemExit(f"ROOMLINK_LOG_FORMAT must be {JSON} or {TEXT}, not {chosen!r}")
    return chosen


def configure(log_format: str) -> None:
    """Every logger (uvicorn's, piccolo's, pgqueuer's, ours) through one handler on stderr, Python's
    warnings included, so that in JSON every line the process writes is one object."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if log_format == JSON else TextLines())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        for existing in list(logger.handlers):
            logger.removeHandler(existing)
        logger.propagate = True
    # httpx logs every request line; Zoom calls have their own line (server/metrics.py), with no URL.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.captureWarnings(True)
