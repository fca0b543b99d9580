"""Launch links and sessions: only hashes of their secrets are stored."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import msgspec


class SessionRecord(msgspec.Struct, frozen=True, kw_only=True):
    org_id: str
    user_id: str
    csrf_token: str
    expires_at: datetime


class LaunchRecord(msgspec.Struct, frozen=True, kw_only=True):
    org_id: str
    user_id: str
    next_path: str


class PostgresSessions:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def add_launch_link(
        self, org_id: str, user_id: str, token_hash: str, next_path: str, now: datetime, expires_at: datetime
    ) -> None:
        await self._connection.execute(
            """
            INSERT INTO launch_links (id, org_id, user_id, token_hash, next_path, created_at, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """,
            uuid.uuid4(),
            org_id,
            user_id,
            token_hash,
            next_path,
            now,
            expires_at,
        )

    async def consume_launch_link(self, token_hash: str, now: datetime) -> LaunchRecord | None:
        """Single use: the row is claimed atomically, so a replay finds nothing."""
        record = await self._connection.fetchrow(
            """
            UPDATE launch_links SET used_at = $2
            WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
            RETURNING org_id, user_id, next_path
            """,
            token_hash,
            now,
        )
        return LaunchRecord(**dict(record)) if record else None

    async def add_session(
        self, org_id: str, user_id: str, token_hash: str, csrf_token: str, now: datetime, expires_at: datetime
    ) -> None:
        await self._connection.execute(
            """
            INSERT INTO sessions (id, org_id, user_id, token_hash, csrf_token, created_at, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """,
            uuid.uuid4(),
            org_id,
            user_id,
            token_hash,
            csrf_token,
            now,
            expires_at,
        )

    async def session(self, token_hash: str, now: datetime) -> SessionRecord | None:
        record = await self._connection.fetchrow(
            """
            SELECT org_id, user_id, csrf_token, expires_at FROM sessions
            WHERE token_hash = $1 AND expires_at > $2
            """,
            token_hash,
            now,
        )
        return SessionRecord(**dict(record)) if record else None
