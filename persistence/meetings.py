"""Meetings and Zoom's daily budget per host, behind domain.meeting_ports."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg

from domain.budget import DAILY_LIMIT
from domain.impact_model import Upcoming, UpcomingAffected
from domain.meeting_model import Meeting, MeetingStatus
from domain.model import ConnectionType

_COLUMNS = (
    "id, org_id, user_id, connection_id, connection_type, zoom_user_id, zoom_user_email, topic, start_time, "
    "duration_minutes, timezone, agenda, passcode, zoom_meeting_id, join_url, status, status_reason, "
    "in_personal_room, idempotency_key, request_hash, attempts, lease_until, not_before, created_at, updated_at, "
    "session_id, alternative_hosts, left_in_zoom, zoom_uuid"
)
_PLACEHOLDERS = ", ".join(f"${n}" for n in range(1, 30))


class PostgresMeetings:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def upcoming_through_organization(self, org_id: str, now: datetime, first: int) -> UpcomingAffected:
        records = await self._connection.fetch(
            """
            SELECT t.topic AS title, t.start_time, t.timezone, m.name AS host, count(*) OVER () AS total
            FROM meetings t
            LEFT JOIN members m ON m.org_id = t.org_id AND m.user_id = t.user_id
            WHERE t.org_id = $1 AND t.connection_type = 'organization' AND t.session_id IS NULL
              AND t.status <> 'cancelled' AND t.start_time > $2
            ORDER BY t.start_time, t.id
            LIMIT $3
            """,
            org_id,
            now,
            first,
        )
        return affected_of(records)

    async def add(self, meeting: Meeting) -> Meeting:
        """The unique key (org_id, user_id, idempotency_key) decides between racing requests:
        a second insert waits for the first to commit, then finds the key taken."""
        record = await self._connection.fetchrow(
            f"""
            INSERT INTO meetings ({_COLUMNS}) VALUES ({_PLACEHOLDERS})
            ON CONFLICT (org_id, user_id, idempotency_key) DO NOTHING RETURNING *
            """,
            *_values(meeting),
        )
        if record is not None:
            return meeting_of(record)
        earlier = await self.by_idempotency_key(meeting.org_id, meeting.user_id, meeting.idempotency_key or "")
        assert earlier is not None
        return earlier

    async def by_idempotency_key(self, org_id: str, user_id: str, key: str) -> Meeting | None:
        record = await self._connection.fetchrow(
            "SELECT * FROM meetings WHERE org_id = $1 AND user_id = $2 AND idempotency_key = $3", org_id, user_id, key
        )
        return meeting_of(record) if record else None

    async def get(self, org_id: str, meeting_id: str) -> Meeting | None:
        record = await self._connection.fetchrow(
            "SELECT * FROM meetings WHERE org_id = $1 AND id = $2::uuid", org_id, meeting_id
        )
        return meeting_of(record) if record else None

    async def locked(self, org_id: str, meeting_id: str) -> Meeting | None:
        record = await self._connection.fetchrow(
            "SELECT * FROM meetings WHERE org_id = $1 AND id = $2::uuid FOR UPDATE", org_id, meeting_id
        )
        return meeting_of(record) if record else None

    async def save(self, meeting: Meeting) -> None:
        assignments = ", ".join(f"{name} = ${n}" for n, name in enumerate(_COLUMNS.split(", "), start=1) if n > 2)
        await self._connection.execute(
            f"UPDATE meetings SET {assignments} WHERE id = $1 AND org_id = $2", *_values(meeting)
        )

    async def of_member(
        self,
        org_id: str,
        user_id: str,
        *,
        start_from: datetime | None,
        start_to: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Meeting]:
        records = await self._connection.fetch(
            """
            SELECT * FROM meetings
            WHERE org_id = $1 AND user_id = $2
              AND ($3::timestamptz IS NULL OR start_time >= $3)
              AND ($4::timestamptz IS NULL OR start_time < $4)
              AND ($5::timestamptz IS NULL OR (start_time, id) > ($5, $6::uuid))
            ORDER BY start_time, id
            LIMIT $7
            """,
            org_id,
            user_id,
            start_from,
            start_to,
            after[0] if after else None,
            after[1] if after else None,
            limit,
        )
        return [meeting_of(record) for record in records]

    async def left_in_zoom(self, org_id: str, now: datetime, limit: int) -> list[Meeting]:
        records = await self._connection.fetch(
            """
            SELECT * FROM meetings
            WHERE org_id = $1 AND left_in_zoom AND start_time + make_interval(mins => duration_minutes) > $2
            ORDER BY start_time, id LIMIT $3
            """,
            org_id,
            now,
            limit,
        )
        return [meeting_of(record) for record in records]

    async def by_zoom_uuid(self, org_id: str, zoom_uuid: str) -> list[Meeting]:
        records = await self._connection.fetch(
            "SELECT * FROM meetings WHERE org_id = $1 AND zoom_uuid = $2 ORDER BY created_at", org_id, zoom_uuid
        )
        return [meeting_of(record) for record in records]

    async def by_zoom_id(self, org_id: str, zoom_meeting_id: int) -> list[Meeting]:
        records = await self._connection.fetch(
            "SELECT * FROM meetings WHERE org_id = $1 AND zoom_meeting_id = $2 ORDER BY created_at", org_id, zoom_meeting_id
        )
        return [meeting_of(record) for record in records]


class PostgresMeetingBudget:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def spend(self, org_id: str, zoom_user_id: str, day: date) -> bool:
        """One statement, so concurrent spenders in any process never pass the limit together."""
        used = await self._connection.fetchval(
            """
            INSERT INTO meeting_budget (org_id, zoom_user_id, day, used) VALUES ($1, $2, $3, 1)
            ON CONFLICT (org_id, zoom_user_id, day) DO UPDATE SET used = meeting_budget.used + 1
            WHERE meeting_budget.used < $4
            RETURNING used
            """,
            org_id,
            zoom_user_id,
            day,
            DAILY_LIMIT,
        )
        return used is not None

    async def close_day(self, org_id: str, zoom_user_id: str, day: date) -> None:
        await self._connection.execute(
            """
            INSERT INTO meeting_budget (org_id, zoom_user_id, day, used) VALUES ($1, $2, $3, $4)
            ON CONFLICT (org_id, zoom_user_id, day) DO UPDATE SET used = $4
            """,
            org_id,
            zoom_user_id,
            day,
            DAILY_LIMIT,
        )

    async def used(self, org_id: str, day: date) -> dict[str, int]:
        records = await self._connection.fetch(
            "SELECT zoom_user_id, used FROM meeting_budget WHERE org_id = $1 AND day = $2", org_id, day
        )
        return {record["zoom_user_id"]: record["used"] for record in records}


def _values(meeting: Meeting) -> tuple:
    return (
        meeting.id,
        meeting.org_id,
        meeting.user_id,
        meeting.connection_id,
        meeting.connection_type.value,
        meeting.zoom_user_id,
        meeting.zoom_user_email,
        meeting.topic,
        meeting.start_time,
        meeting.duration_minutes,
        meeting.timezone,
        meeting.agenda,
        meeting.passcode,
        meeting.zoom_meeting_id,
        meeting.join_url,
        meeting.status.value,
        meeting.status_reason,
        meeting.in_personal_room,
        meeting.idempotency_key,
        meeting.request_hash,
        meeting.attempts,
        meeting.lease_until,
        meeting.not_before,
        meeting.created_at,
        meeting.updated_at,
        meeting.session_id,
        meeting.alternative_hosts,
        meeting.left_in_zoom,
        meeting.zoom_uuid,
    )


def meeting_of(record: asyncpg.Record) -> Meeting:
    return Meeting(
        id=str(record["id"]),
        org_id=record["org_id"],
        user_id=record["user_id"],
        connection_id=str(record["connection_id"]),
        connection_type=ConnectionType(record["connection_type"]),
        zoom_user_id=record["zoom_user_id"],
        zoom_user_email=record["zoom_user_email"],
        topic=record["topic"],
        start_time=record["start_time"],
        duration_minutes=record["duration_minutes"],
        timezone=record["timezone"],
        agenda=record["agenda"],
        passcode=record["passcode"],
        zoom_meeting_id=record["zoom_meeting_id"],
        join_url=record["join_url"],
        status=MeetingStatus(record["status"]),
        status_reason=record["status_reason"],
        in_personal_room=record["in_personal_room"],
        idempotency_key=record["idempotency_key"],
        request_hash=record["request_hash"],
        attempts=record["attempts"],
        lease_until=record["lease_until"],
        not_before=record["not_before"],
        created_at=record["created_at"],
        updated_at=record["updated_at"],
        session_id=record["session_id"],
        alternative_hosts=record["alternative_hosts"],
        left_in_zoom=record["left_in_zoom"],
        zoom_uuid=record["zoom_uuid"],
    )


def affected_of(records: list[asyncpg.Record]) -> UpcomingAffected:
    """Rows carrying `count(*) OVER ()`: the total before the limit, on each."""
    return UpcomingAffected(
        total=records[0]["total"] if records else 0,
        first=[
            Upcoming(title=r["title"], start_time=r["start_time"], timezone=r["timezone"], host=r["host"]) for r in records
        ],
    )
