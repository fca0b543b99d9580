"""The Zoom users of organization connections' accounts behind domain.ports.ZoomDirectory; seats follow them
(R5) through the members' own rows (the triggers of persistence/members_table.py)."""

from __future__ import annotations

import asyncpg

from domain.emails import email_key
from domain.model import Connection, Seat, ZoomUser

#: Zoom users written per statement by a seat resync.
SYNC_ROWS = 20_000


class PostgresZoomDirectory:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def seat(self, org_id: str, email: str) -> Seat | None:
        record = await self._connection.fetchrow(
            """
            SELECT m.user_id, z.zoom_user_id, z.email_normalized
            FROM members m
            JOIN connections c ON c.org_id = m.org_id AND c.type = 'organization'
            JOIN zoom_users z ON z.org_id = m.org_id AND z.connection_id = c.id
                             AND z.email_normalized = m.email_normalized AND z.status = 'active'
            WHERE m.org_id = $1 AND m.email_normalized = $2
            """,
            org_id,
            email_key(email),
        )
        if record is None:
            return None
        return Seat(
            user_id=record["user_id"],
            zoom_user_id=record["zoom_user_id"],
            zoom_email=record["email_normalized"],
        )

    async def sync(self, connection: Connection, users: list[ZoomUser]) -> int:
        """A diff, not a rewrite: only rows that changed are written, so only those members' seats move.

        The diff is computed here rather than in SQL: a fresh connection has no statistics yet and
        PostgreSQL would plan a staged-list anti-join as a nested loop, quadratic in account size.
        """
        await self._connection.execute(
            "SELECT 1 FROM connections WHERE org_id = $1 AND id = $2 FOR UPDATE", connection.org_id, connection.id
        )
        stored = {
            record["zoom_user_id"]: (record["email_normalized"], record["status"], record["role_id"])
            for record in await self._connection.fetch(
                "SELECT zoom_user_id, email_normalized, status, role_id FROM zoom_users WHERE org_id = $1",
                connection.org_id,
            )
        }
        wanted = {user.zoom_user_id: (email_key(user.email), user.status, user.role_id) for user in users}
        stale = [zoom_user_id for zoom_user_id, row in stored.items() if wanted.get(zoom_user_id) != row]
        fresh = [(zoom_user_id, *row) for zoom_user_id, row in wanted.items() if stored.get(zoom_user_id) != row]
        # In statements of SYNC_ROWS: each one's triggers (seats, member state counts, event notes) stay
        # well inside the statement timeout; 800,000 Zoom users in one statement did not.
        for start in range(0, len(stale), SYNC_ROWS):
            await self._connection.execute(
                "DELETE FROM zoom_users WHERE org_id = $1 AND zoom_user_id = ANY($2::text[])",
                connection.org_id,
                stale[start : start + SYNC_ROWS],
            )
        for start in range(0, len(fresh), SYNC_ROWS):
            zoom_user_ids, emails, statuses, role_ids = (list(column) for column in zip(*fresh[start : start + SYNC_ROWS], strict=True))
            await self._connection.execute(
                """
                INSERT INTO zoom_users (org_id, connection_id, zoom_user_id, email_normalized, status, role_id)
                SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[])
                """,
                connection.org_id,
                connection.id,
                zoom_user_ids,
                emails,
                statuses,
                role_ids,
            )
        return len(stale) + len(fresh)

    async def upsert(self, connection: Connection, user: ZoomUser) -> None:
        await self._connection.execute(
            """
            INSERT INTO zoom_users (org_id, connection_id, zoom_user_id, email_normalized, status, role_id)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (org_id, zoom_user_id) DO UPDATE
               SET email_normalized = EXCLUDED.email_normalized, status = EXCLUDED.status
            """,
            connection.org_id,
            connection.id,
            user.zoom_user_id,
            email_key(user.email),
            user.status,
            user.role_id,
        )

    async def update(self, connection: Connection, zoom_user_id: str, email: str | None, status: str | None) -> None:
        await self._connection.execute(
            """
            UPDATE zoom_users SET email_normalized = coalesce($3, email_normalized),
                                  status = coalesce($4, status)
            WHERE org_id = $1 AND zoom_user_id = $2
            """,
            connection.org_id,
            zoom_user_id,
            email_key(email) if email is not None else None,
            status,
        )

    async def delete(self, connection: Connection, zoom_user_id: str) -> None:
        await self._connection.execute(
            "DELETE FROM zoom_users WHERE org_id = $1 AND zoom_user_id = $2", connection.org_id, zoom_user_id
        )
