"""The connection rows behind domain.ports.ConnectionRepository, and the R13 claims on Zoom identities."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from domain.errors import (
    ConnectionChangedConcurrently,
    ZoomAccountServesAnotherOrganization,
    ZoomUserAlreadyConnected,
)
from domain.model import Connection, ConnectionStatus, ConnectionType


class PostgresConnections:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def organization(self, org_id: str) -> Connection | None:
        record = await self._connection.fetchrow(
            "SELECT * FROM connections WHERE org_id = $1 AND type = 'organization'", org_id
        )
        return connection_of(record) if record else None

    async def personal(self, org_id: str, user_id: str) -> Connection | None:
        record = await self._connection.fetchrow(
            "SELECT * FROM connections WHERE org_id = $1 AND type = 'personal' AND user_id = $2",
            org_id,
            user_id,
        )
        return connection_of(record) if record else None

    async def add(self, connection: Connection) -> None:
        try:
            await self._connection.execute(
                """
                INSERT INTO connections (id, org_id, type, user_id, zoom_account_id, zoom_user_id, zoom_email,
                                         status, status_reason, status_changed_at, connected_at, last_verified_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                """,
                connection.id,
                connection.org_id,
                connection.type.value,
                connection.user_id,
                connection.zoom_account_id,
                connection.zoom_user_id,
                connection.zoom_email,
                connection.status.value,
                connection.status_reason,
                connection.status_changed_at,
                connection.connected_at,
                connection.last_verified_at,
            )
        except asyncpg.UniqueViolationError:
            # Two connects of the same member (or two activations) raced; the first one won.
            raise ConnectionChangedConcurrently(
                "Zoom was just connected here by another request; reload to see it."
            ) from None
        claimed = await self._connection.fetchval(
            """
            INSERT INTO zoom_identity_claims (claim, org_id, user_id, connection_id)
            VALUES ($1, $2, $3, $4) ON CONFLICT (claim) DO NOTHING RETURNING claim
            """,
            _claim(connection),
            connection.org_id,
            connection.user_id,
            connection.id,
        )
        if claimed is None:
            if connection.type is ConnectionType.PERSONAL:
                raise ZoomUserAlreadyConnected(
                    f"The Zoom user {connection.zoom_email} is already connected by another person."
                )
            raise ZoomAccountServesAnotherOrganization(
                "This Zoom account is already connected to another organization."
            )

    async def serialize(self, keys: list[str]) -> None:
        for key in keys:
            await self._connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"connection:{key}")

    async def locked(self, connection: Connection) -> Connection | None:
        """The row locked until the transaction ends: one token refresh at a time, across processes."""
        record = await self._connection.fetchrow(
            "SELECT * FROM connections WHERE org_id = $1 AND id = $2 FOR UPDATE", connection.org_id, connection.id
        )
        return connection_of(record) if record else None

    async def set_status(
        self, connection: Connection, status: ConnectionStatus, reason: str | None, now: datetime
    ) -> None:
        await self._connection.execute(
            """
            UPDATE connections SET status = $3, status_reason = $4, status_changed_at = $5
            WHERE org_id = $1 AND id = $2
            """,
            connection.org_id,
            connection.id,
            status.value,
            reason,
            now,
        )

    async def mark_verified(self, connection: Connection, now: datetime) -> None:
        await self._connection.execute(
            "UPDATE connections SET last_verified_at = $3 WHERE org_id = $1 AND id = $2",
            connection.org_id,
            connection.id,
            now,
        )

    async def claimed(self, claim: str) -> Connection | None:
        record = await self._connection.fetchrow(
            """
            SELECT c.* FROM zoom_identity_claims z
            JOIN connections c ON c.org_id = z.org_id AND c.id = z.connection_id
            WHERE z.claim = $1
            """,
            claim,
        )
        return connection_of(record) if record else None

    async def by_id(self, org_id: str, connection_id: str) -> Connection | None:
        record = await self._connection.fetchrow(
            "SELECT * FROM connections WHERE org_id = $1 AND id = $2::uuid", org_id, connection_id
        )
        return connection_of(record) if record else None

    async def live_organization_connections(self) -> list[Connection]:
        records = await self._connection.fetch(
            "SELECT * FROM connections WHERE type = 'organization' AND status IN ('active', 'admin_lost')"
        )
        return [connection_of(record) for record in records]

    async def regrant(self, connection: Connection, zoom_user_id: str, zoom_email: str, now: datetime) -> Connection:
        """The same Zoom account approved again, maybe by another admin: the row, and its seats, stay."""
        record = await self._connection.fetchrow(
            """
            UPDATE connections SET zoom_user_id = $3, zoom_email = $4, status = 'active', status_reason = NULL,
                                   status_changed_at = $5, connected_at = $5, last_verified_at = $5
            WHERE org_id = $1 AND id = $2 RETURNING *
            """,
            connection.org_id,
            connection.id,
            zoom_user_id,
            zoom_email,
            now,
        )
        return connection_of(record)

    async def delete(self, connection: Connection) -> None:
        await self._connection.execute(
            "DELETE FROM connections WHERE org_id = $1 AND id = $2", connection.org_id, connection.id
        )


def _claim(connection: Connection) -> str:
    if connection.type is ConnectionType.PERSONAL:
        return f"user:{connection.zoom_user_id}"
    return f"account:{connection.zoom_account_id}"


def connection_of(record: asyncpg.Record) -> Connection:
    return Connection(
        id=str(record["id"]),
        org_id=record["org_id"],
        type=ConnectionType(record["type"]),
        user_id=record["user_id"],
        zoom_account_id=record["zoom_account_id"],
        zoom_user_id=record["zoom_user_id"],
        zoom_email=record["zoom_email"],
        status=ConnectionStatus(record["status"]),
        status_reason=record["status_reason"],
        status_changed_at=record["status_changed_at"],
        connected_at=record["connected_at"],
        last_verified_at=record["last_verified_at"],
    )
