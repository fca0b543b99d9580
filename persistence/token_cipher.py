"""Zoom tokens at rest: AES-256-GCM under a key ring from configuration.

A stored value reads `v1.<key id>.<urlsafe-base64(nonce || ciphertext)>`, so every value says
which key sealed it and a key can be retired once nothing needs it. The caller's associated
data (Roomlink passes the row id) binds a value to its row: copied into another row, it no
longer decrypts.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEYS_SETTING = "ROOMLINK_TOKEN_KEYS"

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
FORMAT_VERSION = "v1"

_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_URLSAFE_BASE64 = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class TokenDecryptionError(Exception):
    """A stored value could not be opened. The message never carries key material or ciphertext."""


class TokenKeyMissing(TokenDecryptionError):
    """The value names a key id the ring does not hold: a configuration fault, not a bad value."""


class KeyRing:
    """Named AES-256 keys; the first is current and encrypts, every one of them decrypts."""

    def __init__(self, keys: Iterable[tuple[str, bytes]]) -> None:
        self._aeads: dict[str, AESGCM] = {}
        for key_id, key in keys:
            _check_key_id(key_id)
            if key_id in self._aeads:
                raise ValueError(f"{KEYS_SETTING} names key id {key_id!r} more than once")
            if len(key) != KEY_BYTES:
                raise ValueError(
                    f"{KEYS_SETTING} key {key_id!r} is {len(key)} bytes; it must be {KEY_BYTES}"
                )
            self._aeads[key_id] = AESGCM(key)
        if not self._aeads:
            raise ValueError(f"{KEYS_SETTING} holds no keys")

    @classmethod
    def from_config(cls, text: str) -> KeyRing:
        """Parse `kid1:<urlsafe-base64 key>,kid2:<...>`, current key first."""
        entries = text.strip().split(",") if text.strip() else []
        return cls(_parse_entry(position, entry) for position, entry in enumerate(entries, start=1))

    @staticmethod
    def generate_key() -> str:
        """A new random key, urlsafe-base64 encoded as ROOMLINK_TOKEN_KEYS expects it."""
        return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=KEY_BYTES * 8)).decode("ascii")

    @property
    def current_key_id(self) -> str:
        return next(iter(self._aeads))

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._aeads)

    def aead(self, key_id: str) -> AESGCM:
        """The cipher for `key_id`; KeyError when the ring does not hold it."""
        return self._aeads[key_id]

    def __repr__(self) -> str:
        return f"KeyRing(key_ids={self.key_ids!r})"


class TokenCipher:
    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring

    def encrypt(self, plaintext: str, associated_data: str) -> str:
        if not associated_data:
            # An empty binding would let a value be moved between rows unnoticed.
            raise ValueError("associated data must identify the row the value belongs to")
        key_id = self._ring.current_key_id
        nonce = os.urandom(NONCE_BYTES)
        aead = self._ring.aead(key_id)
        sealed = aead.encrypt(nonce, plaintext.encode("utf-8"), associated_data.encode("utf-8"))
        payload = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{FORMAT_VERSION}.{key_id}.{payload}"

    def decrypt(self, value: str, associated_data: str) -> str:
        key_id, payload = _split_value(value)
        try:
            aead = self._ring.aead(key_id)
        except KeyError:
            raise TokenKeyMissing(
                f"token was encrypted under key id {key_id!r}, which the key ring does not hold"
            ) from None
        nonce, sealed = payload[:NONCE_BYTES], payload[NONCE_BYTES:]
        try:
            plaintext = aead.decrypt(nonce, sealed, associated_data.encode("utf-8"))
        except InvalidTag:
            raise TokenDecryptionError(
                "token failed authentication: it was altered or belongs to another row"
            ) from None
        return plaintext.decode("utf-8")

    def key_id(self, value: str) -> str:
        key_id, _ = _split_value(value)
        return key_id

    def holds_key_of(self, value: str) -> bool:
        """Whether the ring has the key `value` was sealed under (without opening it)."""
        return self.key_id(value) in self._ring.key_ids

    def needs_rotation(self, value: str) -> bool:
        return self.key_id(value) != self._ring.current_key_id

    def reencrypt(self, value: str, associated_data: str) -> str:
        """The same token sealed under the current key, with a fresh nonce."""
        return self.encrypt(self.decrypt(value, associated_data), associated_data)

    def __repr__(self) -> str:
        return f"TokenCipher(ring={self._ring!r})"


def _parse_entry(position: int, entry: str) -> tuple[str, bytes]:
    key_id, separator, encoded = (part.strip() for part in entry.partition(":"))
    if not separator:
        raise ValueError(f"{KEYS_SETTING} entry {position} is not of the form <key id>:<key>")
    _check_key_id(key_id, position)
    try:
        return key_id, _decode_urlsafe(encoded)
    except ValueError:
        raise ValueError(f"{KEYS_SETTING} key {key_id!r} is not valid urlsafe base64") from None


def _check_key_id(key_id: str, position: int | None = None) -> None:
    if not _KEY_ID.fullmatch(key_id):
        # The offending text is left out: a misplaced key could sit where the id belongs.
        where = f"{KEYS_SETTING} entry {position}" if position is not None else KEYS_SETTING
        raise ValueError(f"{where} has an invalid key id; use 1-32 of A-Z a-z 0-9 _ -")


def _split_value(value: str) -> tuple[str, bytes]:
    parts = value.split(".")
    if len(parts) != 3:
        raise TokenDecryptionError("token is malformed: expected v1.<key id>.<payload>")
    version, key_id, encoded = parts
    if version != FORMAT_VERSION:
        raise TokenDecryptionError("token has an unknown format version")
    if not _KEY_ID.fullmatch(key_id):
        raise TokenDecryptionError("token is malformed: invalid key id")
    try:
        payload = _decode_urlsafe(encoded)
    except ValueError:
        raise TokenDecryptionError("token is malformed: payload is not urlsafe base64") from None
    if len(payload) < NONCE_BYTES + TAG_BYTES:
        raise TokenDecryptionError("token is malformed: payload too short")
    return key_id, payload


def _decode_urlsafe(text: str) -> bytes:
    """Strict urlsafe base64, padding optional; ValueError otherwise."""
    # The standard decoder silently skips stray characters, so a typo would yield a wrong key.
    if not _URLSAFE_BASE64.fullmatch(text):
        raise ValueError("not urlsafe base64")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        raise ValueError("not urlsafe base64") from None
