"""The host product's identifiers and the inputs we accept from it."""

from __future__ import annotations

import re

from domain.errors import InvalidIdentifier

IDENTIFIER_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)


def check_identifier(value: str, field: str) -> str:
    if not _IDENTIFIER.fullmatch(value):
        raise InvalidIdentifier(
            f"{field} must be 1–128 characters of letters, digits and . _ : -",
            errors={field: "1–128 characters of [A-Za-z0-9._:-]"},
        )
    return value


def normalize_email(email: str) -> str:
    return email.strip().lower()
