"""What nobody needs any more: expired sessions, launch links and OAuth states, old webhook replay records."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

#: Zoom's signature check refuses a notification older than 5 minutes, so a replay record older than this
#: guards nothing; a day of them is kept to read when something went wrong.
WEBHOOK_RECORDS_KEPT = timedelta(days=1)

_PURGES = {
    "sessions": "DELETE FROM sessions WHERE expires_at <= $1",
    "launch_links": "DELETE FROM launch_links WHERE expires_at <= $1",
    "oauth_states": "DELETE FROM oauth_states WHERE expires_at <= $1",
}


class PostgresHousekeeping:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def purge_expired(self, now: datetime) -> dict[str, int]:
        """Rows deleted per table."""
        purged = {table: _count(await self._connection.execute(sql, now)) for table, sql in _PURGES.items()}
        purged["webhook_events"] = _count(
            await self._connection.execute("DELETE FROM webhook_events WHERE received_at <= $1", now - WEBHOOK_RECORDS_KEPT)
        )
        return purged


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])
