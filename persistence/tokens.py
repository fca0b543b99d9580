"""Zoom tokens behind domain.ports.TokenVault: sealed with the key ring, bound to their connection's id.

They live on the connection's row, so a connection's lock (PostgresConnections.locked) holds them too,
and they go with it.
"""

from __future__ import annotations

import asyncpg

from domain.model import Connection
from domain.zoom import TokenSet
from persistence.connections import connection_of
from persistence.token_cipher import TokenCipher


class PostgresTokenVault:
    def __init__(self, connection: asyncpg.Connection, cipher: TokenCipher) -> None:
        self._connection = connection
        self._cipher = cipher

    async def store(self, connection: Connection, tokens: TokenSet) -> None:
        await self._connection.execute(
            """
            UPDATE connections SET access_token = $3, refresh_token = $4, access_token_expires_at = $5, scopes = $6
            WHERE org_id = $1 AND id = $2
            """,
            connection.org_id,
            connection.id,
            self._cipher.encrypt(tokens.access_token, connection.id),
            self._cipher.encrypt(tokens.refresh_token, connection.id),
            tokens.expires_at,
            tokens.scope,
        )

    async def read(self, connection: Connection) -> TokenSet | None:
        record = await self._connection.fetchrow(
            """
            SELECT id, access_token, refresh_token, access_token_expires_at, scopes FROM connections
            WHERE org_id = $1 AND id = $2
            """,
            connection.org_id,
            connection.id,
        )
        if record is None or record["refresh_token"] is None:
            return None
        row_id = str(record["id"])
        return TokenSet(
            access_token=self._cipher.decrypt(record["access_token"], row_id),
            refresh_token=self._cipher.decrypt(record["refresh_token"], row_id),
            expires_at=record["access_token_expires_at"],
            scope=record["scopes"],
        )

    async def forget(self, connection: Connection) -> None:
        await self._connection.execute(
            """
            UPDATE connections SET access_token = NULL, refresh_token = NULL, access_token_expires_at = NULL
            WHERE org_id = $1 AND id = $2
            """,
            connection.org_id,
            connection.id,
        )

    async def holders(self) -> list[Connection]:
        records = await self._connection.fetch("SELECT * FROM connections WHERE refresh_token IS NOT NULL")
        return [connection_of(record) for record in records]
