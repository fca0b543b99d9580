"""Remote sessions and their bookings, behind domain.session_model.RemoteSessionRepository."""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from domain.impact_model import UpcomingAffected
from domain.meeting_model import Meeting
from domain.session_model import Booking, RemoteSession, SessionStatus
from persistence.meetings import affected_of, meeting_of

_SESSION_COLUMNS = (
    "org_id, session_id, host_user_id, title, start_time, duration_minutes, timezone, remote, capacity, status, "
    "status_reason, host_problem, link_generation, cancelled_at, created_at, updated_at, co_host_user_ids, "
    "announced_join_url"
)


class PostgresRemoteSessions:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def upcoming_without_personal_host(self, org_id: str, now: datetime, first: int) -> UpcomingAffected:
        records = await self._connection.fetch(
            """
            SELECT s.title, s.start_time, s.timezone, m.name AS host, count(*) OVER () AS total
            FROM remote_sessions s
            LEFT JOIN members m ON m.org_id = s.org_id AND m.user_id = s.host_user_id
            WHERE s.org_id = $1 AND s.remote AND s.cancelled_at IS NULL AND s.start_time > $2
              AND NOT EXISTS (
                  SELECT 1 FROM connections p
                  WHERE p.org_id = s.org_id AND p.type = 'personal' AND p.user_id = s.host_user_id AND p.status = 'active'
              )
            ORDER BY s.start_time, s.session_id
            LIMIT $3
            """,
            org_id,
            now,
            first,
        )
        return affected_of(records)

    async def get(self, org_id: str, session_id: str) -> RemoteSession | None:
        record = await self._connection.fetchrow(
            f"SELECT {_SESSION_COLUMNS} FROM remote_sessions WHERE org_id = $1 AND session_id = $2", org_id, session_id
        )
        return _session(record) if record else None

    async def locked(self, org_id: str, session_id: str) -> RemoteSession | None:
        record = await self._connection.fetchrow(
            f"SELECT {_SESSION_COLUMNS} FROM remote_sessions WHERE org_id = $1 AND session_id = $2 FOR UPDATE",
            org_id,
            session_id,
        )
        return _session(record) if record else None

    async def add(self, session: RemoteSession) -> bool:
        """The unique key decides between racing PUTs of one id: the second waits, then finds it taken."""
        placeholders = ", ".join(f"${n}" for n in range(1, 17)) + ", $17::jsonb, $18"
        added = await self._connection.fetchval(
            f"""
            INSERT INTO remote_sessions ({_SESSION_COLUMNS}) VALUES ({placeholders})
            ON CONFLICT (org_id, session_id) DO NOTHING RETURNING true
            """,
            *_values(session),
        )
        return bool(added)

    async def save(self, session: RemoteSession) -> None:
        names = _SESSION_COLUMNS.split(", ")
        assignments = ", ".join(
            f"{name} = ${n}" + ("::jsonb" if name == "co_host_user_ids" else "") for n, name in enumerate(names, start=1) if n > 2
        )
        await self._connection.execute(
            f"UPDATE remote_sessions SET {assignments} WHERE org_id = $1 AND session_id = $2", *_values(session)
        )

    async def current_meeting(self, org_id: str, session_id: str) -> Meeting | None:
        record = await self._connection.fetchrow(
            """
            SELECT * FROM meetings WHERE org_id = $1 AND session_id = $2
            ORDER BY created_at DESC, id DESC LIMIT 1
            """,
            org_id,
            session_id,
        )
        return meeting_of(record) if record else None

    async def hosted_by(
        self, org_id: str, host_user_id: str, start_from: datetime, start_to: datetime
    ) -> list[RemoteSession]:
        records = await self._connection.fetch(
            f"""
            SELECT {_SESSION_COLUMNS} FROM remote_sessions
            WHERE org_id = $1 AND host_user_id = $2 AND start_time >= $3 AND start_time < $4
            ORDER BY start_time, session_id
            """,
            org_id,
            host_user_id,
            start_from,
            start_to,
        )
        return [_session(record) for record in records]

    async def future_of_host(self, org_id: str, host_user_id: str, now: datetime) -> list[RemoteSession]:
        records = await self._connection.fetch(
            f"""
            SELECT {_SESSION_COLUMNS} FROM remote_sessions
            WHERE org_id = $1 AND host_user_id = $2 AND remote AND cancelled_at IS NULL
              AND start_time + make_interval(mins => duration_minutes) > $3
            ORDER BY start_time, session_id
            """,
            org_id,
            host_user_id,
            now,
        )
        return [_session(record) for record in records]

    async def page(
        self,
        org_id: str,
        *,
        status: SessionStatus | None,
        start_from: datetime | None,
        start_to: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[RemoteSession]:
        records = await self._connection.fetch(
            f"""
            SELECT {_SESSION_COLUMNS} FROM remote_sessions
            WHERE org_id = $1
              AND ($2::text IS NULL OR status = $2)
              AND ($3::timestamptz IS NULL OR start_time >= $3)
              AND ($4::timestamptz IS NULL OR start_time < $4)
              AND ($5::timestamptz IS NULL OR (start_time, session_id) > ($5, $6::text))
            ORDER BY start_time, session_id
            LIMIT $7
            """,
            org_id,
            status.value if status else None,
            start_from,
            start_to,
            after[0] if after else None,
            after[1] if after else None,
            limit,
        )
        return [_session(record) for record in records]


async def hosts_with_future_sessions(
    connection: asyncpg.Connection, members: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Of these (org_id, user_id), who hosts a remote session that is not over: R21 looks at theirs again."""
    if not members:
        return []
    records = await connection.fetch(
        """
        SELECT DISTINCT s.org_id, s.host_user_id FROM remote_sessions s
        JOIN unnest($1::text[], $2::text[]) AS m (org_id, user_id) ON s.org_id = m.org_id AND s.host_user_id = m.user_id
        WHERE s.remote AND s.cancelled_at IS NULL AND s.start_time + make_interval(mins => s.duration_minutes) > now()
        """,
        [org_id for org_id, _ in members],
        [user_id for _, user_id in members],
    )
    return [(record["org_id"], record["host_user_id"]) for record in records]


def _values(session: RemoteSession) -> tuple:
    return (
        session.org_id,
        session.id,
        session.host_user_id,
        session.title,
        session.start_time,
        session.duration_minutes,
        session.timezone,
        session.remote,
        session.capacity,
        session.status.value,
        session.status_reason,
        session.host_problem,
        session.link_generation,
        session.cancelled_at,
        session.created_at,
        session.updated_at,
        json.dumps(session.co_host_user_ids),
        session.announced_join_url,
    )


def _session(record: asyncpg.Record) -> RemoteSession:
    return RemoteSession(
        org_id=record["org_id"],
        id=record["session_id"],
        host_user_id=record["host_user_id"],
        title=record["title"],
        start_time=record["start_time"],
        duration_minutes=record["duration_minutes"],
        timezone=record["timezone"],
        remote=record["remote"],
        capacity=record["capacity"],
        status=SessionStatus(record["status"]),
        status_reason=record["status_reason"],
        host_problem=record["host_problem"],
        link_generation=record["link_generation"],
        cancelled_at=record["cancelled_at"],
        created_at=record["created_at"],
        updated_at=record["updated_at"],
        co_host_user_ids=json.loads(record["co_host_user_ids"]),
        announced_join_url=record["announced_join_url"],
    )


def _booking(record: asyncpg.Record) -> Booking:
    return Booking(
        org_id=record["org_id"],
        session_id=record["session_id"],
        id=record["booking_id"],
        name=record["name"],
        email=record["email"],
        user_id=record["user_id"],
        notified_generation=record["notified_generation"],
        created_at=record["created_at"],
    )


class PostgresBookings:
    """Who is booked into a session, and the one link email each is sent per meeting (R16)."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def get(self, org_id: str, session_id: str, booking_id: str) -> Booking | None:
        record = await self._connection.fetchrow(
            "SELECT * FROM session_bookings WHERE org_id = $1 AND session_id = $2 AND booking_id = $3",
            org_id,
            session_id,
            booking_id,
        )
        return _booking(record) if record else None

    async def add(self, booking: Booking) -> None:
        await self._connection.execute(
            """
            INSERT INTO session_bookings (org_id, session_id, booking_id, name, email, user_id, notified_generation,
                                          created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """,
            booking.org_id,
            booking.session_id,
            booking.id,
            booking.name,
            booking.email,
            booking.user_id,
            booking.notified_generation,
            booking.created_at,
        )

    async def remove(self, org_id: str, session_id: str, booking_id: str) -> bool:
        removed = await self._connection.fetchval(
            """
            DELETE FROM session_bookings WHERE org_id = $1 AND session_id = $2 AND booking_id = $3 RETURNING true
            """,
            org_id,
            session_id,
            booking_id,
        )
        return bool(removed)

    async def of_session(self, org_id: str, session_id: str) -> list[Booking]:
        records = await self._connection.fetch(
            "SELECT * FROM session_bookings WHERE org_id = $1 AND session_id = $2 ORDER BY created_at, booking_id",
            org_id,
            session_id,
        )
        return [_booking(record) for record in records]

    async def count(self, org_id: str, session_id: str) -> int:
        return await self._connection.fetchval(
            "SELECT count(*) FROM session_bookings WHERE org_id = $1 AND session_id = $2", org_id, session_id
        )

    async def mark_notified(self, org_id: str, session_id: str, booking_ids: list[str], generation: int) -> None:
        if booking_ids:
            await self._connection.execute(
                """
                UPDATE session_bookings SET notified_generation = $4
                WHERE org_id = $1 AND session_id = $2 AND booking_id = ANY($3::text[])
                """,
                org_id,
                session_id,
                booking_ids,
                generation,
            )

    async def claim_email(self, org_id: str, session_id: str, booking_id: str, generation: int) -> int | None:
        """The participant's link email of this time, claimed for sending: the generation claimed before, or
        None when it is claimed already (sent, or being sent)."""
        return await self._connection.fetchval(
            """
            UPDATE session_bookings b SET emailed_generation = $4
            FROM (SELECT id, emailed_generation FROM session_bookings
                  WHERE org_id = $1 AND session_id = $2 AND booking_id = $3 FOR UPDATE) AS old
            WHERE b.id = old.id AND old.emailed_generation < $4
            RETURNING old.emailed_generation
            """,
            org_id,
            session_id,
            booking_id,
            generation,
        )

    async def release_email(self, org_id: str, session_id: str, booking_id: str, generation: int, before: int) -> None:
        await self._connection.execute(
            """
            UPDATE session_bookings SET emailed_generation = $5
            WHERE org_id = $1 AND session_id = $2 AND booking_id = $3 AND emailed_generation = $4
            """,
            org_id,
            session_id,
            booking_id,
            generation,
            before,
        )

