"""The members table (R9): every member with connected / type / reason, filtered, searched, counted.

A member's own facts (personal status, seat, removal) live on their row, kept by triggers; the
organization's facts (its connection's status, the policy) are read once. Which member states a
filter selects is decided by domain.precedence itself, and the page is read as one ordered
index range per selected state, merged: the cost follows the page size, not the organization's.
"""

from __future__ import annotations

import itertools
import re

import asyncpg
import msgspec

from domain.model import (
    ConnectionCounts,
    ConnectionStatus,
    ConnectionType,
    EffectiveConnection,
    MemberRow,
    Role,
)
from domain.ports import MembersPage, MembersQuery
from domain.precedence import effective_connection

_PERSONAL = ("none", *(status.value for status in ConnectionStatus if status is not ConnectionStatus.ADMIN_LOST))


class MemberState(msgspec.Struct, frozen=True):
    personal_status: str
    seated: bool
    organization_removed: bool


ALL_STATES = tuple(MemberState(*values) for values in itertools.product(_PERSONAL, (False, True), (False, True)))


class OrganizationState(msgspec.Struct, frozen=True):
    connection_status: ConnectionStatus | None
    members_may_remove: bool

    def decide(self, member: MemberState) -> EffectiveConnection:
        return effective_connection(
            personal=None if member.personal_status == "none" else ConnectionStatus(member.personal_status),
            organization=self.connection_status,
            has_seat=member.seated,
            removed_organization=member.organization_removed,
            members_may_remove=self.members_may_remove,
        )


_COLUMNS = "org_id, user_id, name, email, email_normalized, role, personal_status, seated, organization_removed"


class PostgresMembersTable:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def page(self, query: MembersQuery) -> MembersPage:
        organization = await self._organization_state(query.org_id)
        states = [state for state in ALL_STATES if _selected(organization.decide(state), query)]
        if not states:
            return MembersPage(items=[], next_after=None, total=0 if query.q is None else None)
        args: list[object] = [query.org_id, query.limit + 1]
        source, matched = "members", ""
        if query.q is not None:
            words = search_words(query.q)
            if not words:
                return MembersPage(items=[], next_after=None)
            args.append(" & ".join(f"{word}:*" for word in words))
            # The search index finds the matches first; its estimates for prefixes are too rough to
            # let the planner walk the name index instead, which costs a full scan when matches are rare.
            source = "matched"
            matched = (
                f"WITH matched AS MATERIALIZED (SELECT {_COLUMNS} FROM members"
                f" WHERE org_id = $1 AND search @@ to_tsquery('simple', ${len(args)})) "
            )
        after = ""
        if query.after is not None:
            args.extend(query.after)
            after = f" AND (name, user_id) > (${len(args) - 1}, ${len(args)})"
        branches = []
        for state in [None] if len(states) == len(ALL_STATES) else states:
            condition = ""
            if state is not None:
                args.extend([state.personal_status, state.seated, state.organization_removed])
                condition = (
                    f" AND personal_status = ${len(args) - 2} AND seated = ${len(args) - 1}"
                    f" AND organization_removed = ${len(args)}"
                )
            branches.append(
                f"(SELECT {_COLUMNS} FROM {source} WHERE org_id = $1{condition}{after}"
                " ORDER BY name, user_id LIMIT $2)"
            )
        sql = f"{matched}SELECT * FROM ({' UNION ALL '.join(branches)}) AS page ORDER BY name, user_id LIMIT $2"
        records = (await self._connection.fetch(sql, *args))[: query.limit + 1]
        more = len(records) > query.limit
        records = records[: query.limit]
        own_zoom = await self._personal_zoom_emails(query.org_id, records)
        items = [_member_row(record, organization, own_zoom.get(record["user_id"])) for record in records]
        total = None
        if query.q is None:
            total = sum(members for state, members in await self._state_counts(query.org_id) if state in states)
        return MembersPage(items=items, next_after=(items[-1].name, items[-1].user_id) if more else None, total=total)

    async def _personal_zoom_emails(self, org_id: str, records: list[asyncpg.Record]) -> dict[str, str]:
        """The Zoom user of each personal connection on this page: one lookup for the page, not per row."""
        with_personal = [record["user_id"] for record in records if record["personal_status"] != "none"]
        if not with_personal:
            return {}
        found = await self._connection.fetch(
            "SELECT user_id, zoom_email FROM connections WHERE org_id = $1 AND type = 'personal' AND user_id = ANY($2::text[])",
            org_id,
            with_personal,
        )
        return {record["user_id"]: record["zoom_email"] for record in found}

    async def counts(self, org_id: str) -> ConnectionCounts:
        by_type = dict.fromkeys((*ConnectionType, None), 0)
        organization = await self._organization_state(org_id)
        for state, members in await self._state_counts(org_id):
            by_type[organization.decide(state).serving_type] += members
        return ConnectionCounts(
            organization=by_type[ConnectionType.ORGANIZATION],
            personal=by_type[ConnectionType.PERSONAL],
            not_connected=by_type[None],
            total=sum(by_type.values()),
        )

    async def count_relying_on_organization(self, org_id: str) -> int:
        organization = await self._organization_state(org_id)
        return sum(
            members
            for state, members in await self._state_counts(org_id)
            if organization.decide(state).type is ConnectionType.ORGANIZATION
        )

    async def _state_counts(self, org_id: str) -> list[tuple[MemberState, int]]:
        """At most 16 rows, kept by the members table's triggers (migration m0008)."""
        records = await self._connection.fetch(
            """
            SELECT personal_status, seated, organization_removed, members
            FROM member_state_counts WHERE org_id = $1 AND members > 0
            """,
            org_id,
        )
        return [
            (MemberState(r["personal_status"], r["seated"], r["organization_removed"]), r["members"]) for r in records
        ]

    async def _organization_state(self, org_id: str) -> OrganizationState:
        record = await self._connection.fetchrow(
            """
            SELECT o.allow_members_to_remove, c.status
            FROM organizations o
            LEFT JOIN connections c ON c.org_id = o.org_id AND c.type = 'organization'
            WHERE o.org_id = $1
            """,
            org_id,
        )
        if record is None:
            return OrganizationState(connection_status=None, members_may_remove=False)
        status = record["status"]
        return OrganizationState(
            connection_status=ConnectionStatus(status) if status else None,
            members_may_remove=record["allow_members_to_remove"],
        )


def _selected(effective: EffectiveConnection, query: MembersQuery) -> bool:
    if query.connected is not None and effective.connected != query.connected:
        return False
    if query.type is None:
        return True
    wanted = None if query.type == "none" else ConnectionType(query.type)
    return effective.serving_type is wanted


def _member_row(record: asyncpg.Record, organization: OrganizationState, own_zoom: str | None) -> MemberRow:
    state = MemberState(record["personal_status"], record["seated"], record["organization_removed"])
    effective = organization.decide(state)
    zoom_user_email = None
    if effective.type is ConnectionType.PERSONAL:
        status = ConnectionStatus(state.personal_status)
        zoom_user_email = own_zoom
    elif effective.type is ConnectionType.ORGANIZATION:
        status = organization.connection_status
        # A seat is the Zoom user whose email is the member's (R5), so no lookup is needed.
        zoom_user_email = record["email_normalized"] if state.seated else None
    else:
        status = None
    return MemberRow(
        user_id=record["user_id"],
        name=record["name"],
        email=record["email"],
        role=Role(record["role"]),
        connected=effective.connected,
        type=effective.serving_type,
        status=status,
        reason=effective.reason,
        zoom_user_email=zoom_user_email,
    )


def search_words(q: str) -> list[str]:
    """Letters and digits only, so the words cannot carry tsquery syntax."""
    return re.findall(r"[^\W_]+", q.lower())[:8]
