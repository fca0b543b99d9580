"""Page cursors: opaque to callers, to this API a position (a sort key and an id) after which the next page
starts. A cursor this API did not give out is 400 `invalid_cursor`, never a 500 or a wrong page."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from domain.errors import InvalidCursor
from domain.identifiers import has_control_characters


def encode_cursor(after: tuple[str | datetime, str]) -> str:
    key, last_id = after
    text = json.dumps([key.isoformat() if isinstance(key, datetime) else key, last_id])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        key, last_id = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        if isinstance(key, str) and isinstance(last_id, str) and not has_control_characters(key + last_id):
            return key, last_id
    except (ValueError, TypeError, binascii.Error):
        pass
    raise _not_ours()


def decode_time_cursor(cursor: str) -> tuple[datetime, str]:
    """A cursor over a start time, then an id."""
    key, last_id = decode_cursor(cursor)
    try:
        return datetime.fromisoformat(key), last_id
    except ValueError:
        raise _not_ours() from None


def _not_ours() -> InvalidCursor:
    return InvalidCursor("`cursor` is not one this API gave out.", errors={"cursor": "not a cursor this API gave out"})
