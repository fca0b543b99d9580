"""The members table (R9) in one SQL shape: R7 written as SQL, proven equal to domain.precedence by tests."""

from __future__ import annotations

import asyncpg

from domain.model import ConnectionCounts, ConnectionStatus, ConnectionType, MemberRow, Reason, Role
from domain.ports import MembersPage, MembersQuery

# Each member with what R7 needs; `org` is the organization's one row with its live connection.
_MEMBERS_WITH_EFFECTIVE_CONNECTION = """
    WITH org AS (
        SELECT o.allow_members_to_remove AS may_remove, c.id AS connection_id, c.status AS status
        FROM organizations o
        LEFT JOIN connections c ON c.org_id = o.org_id AND c.type = 'organization'
        WHERE o.org_id = $1
    )
    SELECT m.user_id, m.name, m.email, m.role, e.type, e.reason,
           CASE e.type WHEN 'personal' THEN p.status WHEN 'organization' THEN org.status END AS status
    FROM members m
    CROSS JOIN org
    LEFT JOIN connections p
           ON p.org_id = m.org_id AND p.type = 'personal' AND p.user_id = m.user_id
    LEFT JOIN zoom_users z
           ON z.org_id = m.org_id AND z.email_normalized = m.email_normalized
          AND z.status = 'active' AND z.connection_id = org.connection_id
    CROSS JOIN LATERAL (
        SELECT CASE
                   WHEN p.status IS NOT NULL THEN 'personal'
                   WHEN org.status IS NOT NULL
                        AND NOT (m.organization_removed AND org.may_remove)
                        AND z.id IS NOT NULL THEN 'organization'
               END AS type,
               CASE
                   WHEN p.status IS NOT NULL THEN
                       CASE WHEN p.status <> 'active' THEN 'personal_needs_reconnect' END
                   WHEN org.status IS NULL THEN 'organization_not_connected'
                   WHEN m.organization_removed AND org.may_remove THEN 'organization_removed'
                   WHEN z.id IS NULL THEN 'no_seat'
                   WHEN org.status <> 'active' THEN 'organization_' || org.status
               END AS reason
    ) e
    WHERE m.org_id = $1
"""

_TYPE_FILTERS = {
    "organization": "e.type = 'organization'",
    "personal": "e.type = 'personal'",
    "none": "e.type IS NULL",
}


class PostgresMembersTable:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def page(self, query: MembersQuery) -> MembersPage:
        conditions: list[str] = []
        args: list[object] = [query.org_id]
        if query.type is not None:
            conditions.append(_TYPE_FILTERS[query.type])
        if query.connected is not None:
            conditions.append("e.reason IS NULL" if query.connected else "e.reason IS NOT NULL")
        if query.q:
            args.append(f"%{_escape_like(query.q)}%")
            conditions.append(f"(m.name ILIKE ${len(args)} OR m.email ILIKE ${len(args)})")
        if query.after is not None:
            args.extend(query.after)
            conditions.append(f"(m.name, m.user_id) > (${len(args) - 1}, ${len(args)})")
        args.append(query.limit + 1)
        sql = (
            _MEMBERS_WITH_EFFECTIVE_CONNECTION
            + "".join(f" AND {condition}" for condition in conditions)
            + f" ORDER BY m.name, m.user_id LIMIT ${len(args)}"
        )
        records = await self._connection.fetch(sql, *args)
        items = [_member_row(record) for record in records[: query.limit]]
        more = len(records) > query.limit
        return MembersPage(
            items=items, next_after=(items[-1].name, items[-1].user_id) if more else None
        )

    async def counts(self, org_id: str) -> ConnectionCounts:
        record = await self._connection.fetchrow(
            f"""
            SELECT count(*) FILTER (WHERE reason IS NULL AND type = 'organization') AS organization,
                   count(*) FILTER (WHERE reason IS NULL AND type = 'personal') AS personal,
                   count(*) FILTER (WHERE reason IS NOT NULL) AS not_connected
            FROM ({_MEMBERS_WITH_EFFECTIVE_CONNECTION}) AS effective
            """,
            org_id,
        )
        return ConnectionCounts(
            organization=record["organization"],
            personal=record["personal"],
            not_connected=record["not_connected"],
        )

    async def count_relying_on_organization(self, org_id: str) -> int:
        return await self._connection.fetchval(
            f"SELECT count(*) FROM ({_MEMBERS_WITH_EFFECTIVE_CONNECTION} AND e.type = 'organization') AS relying",
            org_id,
        )


def _member_row(record: asyncpg.Record) -> MemberRow:
    reason = record["reason"]
    return MemberRow(
        user_id=record["user_id"],
        name=record["name"],
        email=record["email"],
        role=Role(record["role"]),
        connected=reason is None,
        type=ConnectionType(record["type"]) if record["type"] else None,
        status=ConnectionStatus(record["status"]) if record["status"] else None,
        reason=Reason(reason) if reason else None,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
