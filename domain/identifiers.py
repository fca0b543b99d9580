"""The host product's identifiers and the inputs we accept from it.

The patterns are JSON Schema patterns too (the OpenAPI document shows them), so they are written
to mean the same in Python's `re` and in ECMAScript. Python's `$` also matches before a final
newline, so a pattern that must refuse one says so itself: `NO_CONTROL_CHARACTERS` looks at the
whole value, line breaks included.
"""

from __future__ import annotations

import re

from domain.errors import InvalidIdentifier

#: C0 controls (NUL, tab, CR, LF, ESC…), DEL and C1 controls: never part of a name, an email or an id.
#: A CR or LF in an email address would end a mail header early (header injection).
CONTROL_CHARACTERS = r"\x00-\x1f\x7f-\x9f"
NO_CONTROL_CHARACTERS = rf"(?![\s\S]*[{CONTROL_CHARACTERS}])"

IDENTIFIER_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
TEXT_PATTERN = rf"^{NO_CONTROL_CHARACTERS}"
EMAIL_PATTERN = rf"^{NO_CONTROL_CHARACTERS}[^@\s]{{1,64}}@[^@\s]+\.[^@\s]+$"

#: A launch link's `next`: a path on Roomlink, short enough to keep in a link.
MAX_NEXT_PATH = 512

_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")


def check_identifier(value: str, field: str) -> str:
    # fullmatch: unlike search with `$`, it refuses a trailing newline.
    if not _IDENTIFIER.fullmatch(value):
        raise InvalidIdentifier(
            f"`{field}` must be 1–128 characters of letters, digits and . _ : -",
            errors={field: "must be 1–128 characters of letters, digits and . _ : -"},
        )
    return value


def has_control_characters(value: str) -> bool:
    return _CONTROL.search(value) is not None

