"""`roomlink keys rotate` re-seals tokens under the new key; values stay readable and bound to their row."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from domain.model import ConnectionType
from domain.zoom import TokenSet
from persistence.database import connection as pooled
from persistence.key_rotation import rotate_keys
from persistence.token_cipher import KeyRing, TokenCipher, TokenDecryptionError
from persistence.tokens import PostgresTokenVault
from tests.support.builders import (
    add_connection,
    connection,
    create_organization,
    member,
    unique,
)


async def test_rotation_reseals_every_token_under_the_new_key(db):
    old_key = f"old:{KeyRing.generate_key()}"
    old = KeyRing.from_config(old_key)
    new_key = f"new:{KeyRing.generate_key()}"
    org = unique("org")
    await create_organization(org, [member(f"{org}-a")])
    live = connection(org, ConnectionType.PERSONAL, user_id=f"{org}-a")
    await add_connection(live)
    tokens = TokenSet(access_token="access-secret", refresh_token="refresh-secret", expires_at=datetime.now(UTC))
    async with pooled() as raw:
        await PostgresTokenVault(raw, TokenCipher(old)).store(live, tokens)
        # The whole database rotates: the other tests' secrets (under the session's key) are rotated
        # too, and moved back afterwards so the running servers can still read them.
        session_key = os.environ["ROOMLINK_TOKEN_KEYS"]
        rotated = TokenCipher(KeyRing.from_config(f"{new_key},{old_key},{session_key}"))
        try:
            moved = await rotate_keys(raw, rotated)
            assert moved >= 2
            only_new = PostgresTokenVault(raw, TokenCipher(KeyRing.from_config(new_key)))
            assert await only_new.read(live) == tokens
            with pytest.raises(TokenDecryptionError):
                await PostgresTokenVault(raw, TokenCipher(old)).read(live)
            assert await rotate_keys(raw, rotated) == 0
        finally:
            await rotate_keys(raw, TokenCipher(KeyRing.from_config(f"{session_key},{new_key},{old_key}")))

