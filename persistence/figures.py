"""The figures /metrics reads at scrape time: the job queue, event deliveries, connections by status, members by
effective type.

Each is one aggregate query; members are counted per member state (the 16 of persistence/members_table.py)
and organization, then folded through domain.precedence, the same way the members table counts them.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import asyncpg
import msgspec

from domain.model import ConnectionStatus
from persistence import database
from persistence.members_table import MemberState, OrganizationState

#: pgqueuer's statuses a job is still in: waiting, being worked on, failed for good (held).
JOB_STATUSES = ("queued", "picked", "failed")


class JobFigure(msgspec.Struct, frozen=True):
    kind: str
    status: str
    count: int
    #: Seconds the oldest job of this kind and status has waited: queued since it was due, picked since
    #: it was enqueued, failed since it last failed.
    oldest_age_s: float


async def job_figures(db: asyncpg.Connection, now: datetime) -> list[JobFigure]:
    records = await db.fetch(
        """
        SELECT entrypoint, status::text AS status, count(*) AS jobs,
               min(CASE status WHEN 'queued' THEN execute_after WHEN 'picked' THEN created ELSE updated END)
                   FILTER (WHERE status <> 'queued' OR execute_after <= $2) AS since
        FROM pgqueuer WHERE status = ANY($1::pgqueuer_status[])
        GROUP BY entrypoint, status
        """,
        list(JOB_STATUSES),
        now,
    )
    return [
        JobFigure(
            kind=r["entrypoint"],
            status=r["status"],
            count=r["jobs"],
            oldest_age_s=max(0.0, (now - r["since"]).total_seconds()) if r["since"] else 0.0,
        )
        for r in records
    ]


class DeliveryFigure(msgspec.Struct, frozen=True):
    status: str
    count: int
    #: Seconds since the oldest pending delivery that is due was created (0 when none is due).
    oldest_due_age_s: float


async def delivery_figures(db: asyncpg.Connection, now: datetime) -> list[DeliveryFigure]:
    """Event deliveries to the host product still pending, and failed for good (R24)."""
    records = await db.fetch(
        """
        SELECT 'pending' AS status, count(*) AS deliveries, min(created_at) FILTER (WHERE next_attempt_at <= $1) AS since
        FROM event_deliveries WHERE status = 'pending'
        UNION ALL
        SELECT 'failed', count(*), NULL FROM event_deliveries WHERE status = 'failed'
        """,
        now,
    )
    return [
        DeliveryFigure(
            status=r["status"],
            count=r["deliveries"],
            oldest_due_age_s=max(0.0, (now - r["since"]).total_seconds()) if r["since"] else 0.0,
        )
        for r in records
    ]


async def connection_figures(db: asyncpg.Connection) -> dict[tuple[str, str], int]:
    """(type, status) → connections."""
    records = await db.fetch("SELECT type, status, count(*) AS connections FROM connections GROUP BY type, status")
    return {(r["type"], r["status"]): r["connections"] for r in records}


_UNCONNECTED = OrganizationState(connection_status=None, members_may_remove=False)


async def member_figures(db: asyncpg.Connection) -> dict[tuple[str, bool, str], int]:
    """(effective type or "none", connected, reason or "") → members, over every organization."""
    organizations = {
        r["org_id"]: OrganizationState(
            connection_status=ConnectionStatus(r["status"]) if r["status"] else None,
            members_may_remove=r["allow_members_to_remove"],
        )
        for r in await db.fetch(
            """
            SELECT o.org_id, o.allow_members_to_remove, c.status
            FROM organizations o LEFT JOIN connections c ON c.org_id = o.org_id AND c.type = 'organization'
            """
        )
    }
    figures: Counter[tuple[str, bool, str]] = Counter()
    # The per-state counts the triggers keep (at most 16 rows per organization), not a scan of the members.
    for r in await db.fetch(
        "SELECT org_id, personal_status, seated, organization_removed, members FROM member_state_counts WHERE members > 0"
    ):
        organization = organizations.get(r["org_id"]) or _UNCONNECTED
        effective = organization.decide(MemberState(r["personal_status"], r["seated"], r["organization_removed"]))
        type_ = effective.type.value if effective.type is not None else "none"
        figures[(type_, effective.connected, effective.reason.value if effective.reason else "")] += r["members"]
    return dict(figures)


#: Hosts by how much of today's Zoom budget (100 creates and updates, R20) they have spent.
BUDGET_BUCKETS = (("0-49", 0, 49), ("50-89", 50, 89), ("90-99", 90, 99), ("100", 100, 100))


class MeetingFigures(msgspec.Struct, frozen=True):
    #: Meetings by status, over every organization.
    meetings: dict[str, int]
    #: Pending meetings waiting for 00:00 UTC (their host's budget is spent).
    waiting_for_budget: int
    #: Zoom users (hosts) by the bucket of today's budget they spent.
    hosts_by_budget: dict[str, int]
    #: Remote sessions not over, by status (R16, R21).
    sessions: dict[str, int]


async def meeting_figures(db: asyncpg.Connection, now: datetime) -> MeetingFigures:
    meetings = {
        r["status"]: r["meetings"]
        for r in await db.fetch(
            "SELECT status, count(*) AS meetings FROM meetings WHERE status IN ('pending', 'needs_attention', 'scheduled') "
            "GROUP BY status"
        )
    }
    waiting = await db.fetchval(
        "SELECT count(*) FROM meetings WHERE status = 'pending' AND not_before IS NOT NULL AND not_before > $1", now
    )
    spent = await db.fetch("SELECT used FROM meeting_budget WHERE day = $1", now.date())
    hosts = {name: sum(1 for r in spent if low <= r["used"] <= high) for name, low, high in BUDGET_BUCKETS}
    sessions = {
        r["status"]: r["sessions"]
        for r in await db.fetch(
            """
            SELECT status, count(*) AS sessions FROM remote_sessions
            WHERE start_time + make_interval(mins => duration_minutes) > $1 GROUP BY status
            """,
            now,
        )
    }
    return MeetingFigures(meetings=meetings, waiting_for_budget=waiting, hosts_by_budget=hosts, sessions=sessions)


class Figures(msgspec.Struct, frozen=True, kw_only=True):
    jobs: list[JobFigure]
    connections: dict[tuple[str, str], int]
    members: dict[tuple[str, bool, str], int]
    deliveries: list[DeliveryFigure]
    meetings: MeetingFigures


async def read_figures(now: datetime) -> Figures:
    """Every figure of a scrape, on one pooled connection, without a transaction (each query is one statement)."""
    async with database.connection() as db:
        return Figures(
            jobs=await job_figures(db, now),
            connections=await connection_figures(db),
            members=await member_figures(db),
            deliveries=await delivery_figures(db, now),
            meetings=await meeting_figures(db, now),
        )
