"""Page cursors: opaque to callers, to this API a position (a sort key and an id) after which the next page
starts, and for a list that sorts either way the order it is a position in. A cursor this API did not give
out, or one of the other order, is 400 `invalid_cursor`, never a 500 or a wrong page."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

import msgspec

from domain.errors import InvalidCursor
from domain.identifiers import has_control_characters

#: A cursor holds a sort key (a name or time, at most a few hundred characters) and an id: far below this.
MAX_CURSOR = 2048


def encode_cursor(after: tuple[str | datetime, str], sort: str | None = None) -> str:
    """`sort`: the order of a list that sorts either way (the members' `name` / `-name`), carried along."""
    key, last_id = after
    fields = [key.isoformat() if isinstance(key, datetime) else key, last_id, *([sort] if sort else [])]
    return base64.urlsafe_b64encode(msgspec.json.encode(fields)).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str | None = None, default_sort: str | None = None) -> tuple[str, str]:
    """The position; for a list that sorts either way, only a cursor of this `sort` (one with no order,
    given out before the list sorted, is of `default_sort`)."""
    if len(cursor) > MAX_CURSOR:
        raise _not_ours()
    try:
        fields = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        if not isinstance(fields, list) or len(fields) not in (2, 3 if sort else 2):
            raise ValueError
        key, last_id, *order = fields
        valid = isinstance(key, str) and isinstance(last_id, str) and not has_control_characters(key + last_id)
    except (ValueError, TypeError, binascii.Error, RecursionError):
        # RecursionError: JSON nested deeper than the parser goes, which no cursor of ours is.
        valid = False
    if not valid:
        raise _not_ours()
    if (order[0] if order else default_sort) != sort:
        raise InvalidCursor(
            f"`cursor` is a position in another order than sort={sort}: ask for the first page again.",
            errors={"cursor": f"not a cursor of sort={sort}"},
        )
    return key, last_id


def decode_time_cursor(cursor: str) -> tuple[datetime, str]:
    """A cursor over a start time, then an id."""
    key, last_id = decode_cursor(cursor)
    try:
        return datetime.fromisoformat(key), last_id
    except ValueError:
        raise _not_ours() from None


def _not_ours() -> InvalidCursor:
    return InvalidCursor("`cursor` is not one this API gave out.", errors={"cursor": "not a cursor this API gave out"})
