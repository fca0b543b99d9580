"""What every process builds from its Settings the same way: `serve`, `worker`, the CLI's commands and the demo."""

from __future__ import annotations

import httpx

from persistence import database
from persistence.token_cipher import KeyRing, TokenCipher
from server.config import Settings


def zoom_timeout(settings: Settings) -> httpx.Timeout:
    return httpx.Timeout(settings.zoom_timeout_s, connect=min(5.0, settings.zoom_timeout_s))


def pool_limits(settings: Settings) -> database.PoolLimits:
    return database.PoolLimits(max_size=settings.db_pool_size, acquire_timeout_s=settings.db_acquire_timeout_s)


def configure_cipher(settings: Settings) -> None:
    if not settings.token_keys:
        raise SystemExit(
            "ROOMLINK_TOKEN_KEYS is not set: Roomlink stores Zoom tokens only encrypted. "
            "Generate one with: roomlink keys generate"
        )
    database.use_cipher(TokenCipher(KeyRing.from_config(settings.token_keys)))
