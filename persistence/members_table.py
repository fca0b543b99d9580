"""The members table (R9): every member with connected / type / reason, filtered, searched, counted.

A member's own facts (personal status, seat, removal) live on their row, kept by triggers; the
organization's facts (its connection's status, the policy) are read once. Which member states a
filter selects is decided by domain.precedence itself, and the page is read as one ordered
index range per selected state, merged: the cost follows the page size, not the organization's.
Every reading takes the query's order, names A to Z or Z to A (MembersQuery.descending): the same
indexes, read backwards.
A search reads the name index in order while its words are common and the trigram index of the
members' folded names and emails when they are rare (PostgresMembersTable._searched).
"""

from __future__ import annotations

import functools
import itertools
import re

import asyncpg
import msgspec

from domain.impact_model import CutOff
from domain.model import (
    Connection,
    ConnectionCounts,
    ConnectionStatus,
    ConnectionType,
    EffectiveConnection,
    MemberRow,
    Organization,
    Policy,
    Role,
)
from domain.ports import MembersPage, MembersQuery, OrganizationOverview
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
        return _decided(
            self.connection_status, self.members_may_remove, member.personal_status, member.seated,
            member.organization_removed,
        )


@functools.lru_cache(maxsize=1024)
def _decided(
    connection_status: ConnectionStatus | None,
    members_may_remove: bool,
    personal_status: str,
    seated: bool,
    organization_removed: bool,
) -> EffectiveConnection:
    """domain.precedence for one organization state and one member state: a page decides its rows' few
    states once each, not once a row (at most 5 × 2 × 16 of them; each answer is immutable)."""
    return effective_connection(
        personal=None if personal_status == "none" else ConnectionStatus(personal_status),
        organization=connection_status,
        has_seat=seated,
        removed_organization=organization_removed,
        members_may_remove=members_may_remove,
    )


_ROLES = {role.value: role for role in Role}
_STATUSES = {status.value: status for status in ConnectionStatus}


_COLUMNS = "org_id, user_id, name, email, email_normalized, role, personal_status, seated, organization_removed"
#: The member's own columns a row of the table shows (the state's are shared with the state counts' rows),
#: and their types.
_MEMBER_COLUMN_TYPES = (
    ("user_id", "text"), ("name", "text"), ("email", "text"), ("email_normalized", "text"), ("role", "text"),
)


#: The organization, its connection and its member-state counts (a row per state with members; one row with
#: null states when it has none): what every read of the table's organization facts joins.
_ORGANIZATION_AND_STATES = (
    "FROM organizations o"
    " LEFT JOIN connections c ON c.org_id = o.org_id AND c.type = 'organization'"
    " LEFT JOIN member_state_counts s ON s.org_id = o.org_id AND s.members > 0"
    " WHERE o.org_id = $1"
)


class PostgresMembersTable:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def page(self, query: MembersQuery) -> MembersPage:
        if query.q is None and query.type is None and query.connected is None:
            # Every state is selected whatever the organization's: the organization's state, its
            # counts and the page are one statement.
            organization, state_counts, records = await self._listed_with_organization(query)
            return await self._rows(query, organization, records, sum(members for _, members in state_counts))
        organization, state_counts = await self._organization_and_counts(query.org_id)
        states = [state for state in ALL_STATES if _selected(organization.decide(state), query)]
        if not states:
            return MembersPage(items=[], next_after=None, total=0 if query.q is None else None)
        selected = sum(members for state, members in state_counts if state in states)
        if query.q is None:
            return await self._rows(query, organization, await self._listed(query, states), selected)
        words = search_words(query.q)
        if not words:
            return MembersPage(items=[], next_after=None)
        members = sum(members for _, members in state_counts)
        return await self._rows(query, organization, await self._searched(query, states, words, selected, members))

    async def _rows(
        self, query: MembersQuery, organization: OrganizationState, records: list[asyncpg.Record], total: int | None = None
    ) -> MembersPage:
        """The page of these records (a page and one more, when more follow); `total`: a listing's count."""
        more = len(records) > query.limit
        records = records[: query.limit]
        items = _member_rows(records, organization, await self._personal_zoom_emails(query.org_id, records))
        return MembersPage(
            items=items, next_after=(items[-1].name, items[-1].user_id) if more else None, total=total
        )

    async def _listed_with_organization(
        self, query: MembersQuery
    ) -> tuple[OrganizationState, list[tuple[MemberState, int]], list[asyncpg.Record]]:
        """Every member after the cursor in name order, a page and one more (members_by_name), with the
        organization's state and its state counts (_organization_and_counts): one statement, the page's
        rows after the organization's.

        The limit is a literal: with a parameter the generic plan guesses a tenth of the organization, so
        PostgreSQL planned the statement again on every execution (120 µs of its 200; 80 µs in all with
        the literal, one cached plan per page size).
        """
        sql = _Sql(query, page=False)
        rows = int(query.limit) + 1
        no_member = ", ".join(f"NULL::{kind} AS {column}" for column, kind in _MEMBER_COLUMN_TYPES)
        members = ", ".join(column for column, _ in _MEMBER_COLUMN_TYPES)
        records = await self._connection.fetch(
            f"""
            SELECT * FROM (
                SELECT 0 AS part, {no_member}, s.personal_status, s.seated, s.organization_removed, s.members,
                       o.allow_members_to_remove, c.status AS connection_status
                {_ORGANIZATION_AND_STATES}
                UNION ALL
                (SELECT 1, {members}, personal_status, seated, organization_removed, NULL, NULL, NULL
                 FROM members WHERE org_id = $1{sql.after()} ORDER BY {sql.order} LIMIT {rows})
            ) AS parts ORDER BY part, {sql.order}
            """,
            *sql.args,
        )
        split = next((i for i, record in enumerate(records) if record["part"] == 1), len(records))
        if split == 0:  # no such organization
            return OrganizationState(connection_status=None, members_may_remove=False), [], records
        status = records[0]["connection_status"]
        organization = OrganizationState(
            connection_status=_STATUSES[status] if status else None,
            members_may_remove=records[0]["allow_members_to_remove"],
        )
        return organization, _states_of(records[:split]), records[split:]

    async def _listed(self, query: MembersQuery, states: list[MemberState]) -> list[asyncpg.Record]:
        """One ordered index range per selected state (members_by_state), merged.

        Several ranges: the limit is a literal, as in _listed_with_organization; with `LIMIT $2` PostgreSQL
        planned the union again on every execution (450 µs of backend CPU for `connected=false`'s eight
        ranges, 110 µs with the literal). One range plans cheaply and is read fastest as it was (60 µs
        with the parameter, 105 µs with the literal's generic plan)."""
        if len(_branches(states)) == 1:
            sql = _Sql(query)
            rows = "$2"
        else:
            sql = _Sql(query, page=False)
            rows = str(int(query.limit) + 1)
        branches = [
            f"(SELECT {_COLUMNS} FROM members WHERE org_id = $1{sql.state(state)}{sql.after()}"
            f" ORDER BY {sql.order} LIMIT {rows})"
            for state in _branches(states)
        ]
        return await self._connection.fetch(
            f"SELECT * FROM ({' UNION ALL '.join(branches)}) AS page ORDER BY {sql.order} LIMIT {rows}", *sql.args
        )

    async def _searched(
        self, query: MembersQuery, states: list[MemberState], words: list[str], selected: int, members: int
    ) -> list[asyncpg.Record]:
        """The cheapest of four readings, each exact, by how many rows it may have to read.

        First the organization's words each search word is part of (_merged): when one search word
        stands for a few of them, their members' ranges in name order, merged, hold the page. Otherwise
        a word most members share is answered by reading members in name order until a page is full; a
        rare one by the trigram index, which finds its few matches directly; a common word in rare
        states by reading those states' members in order. Which is which is learnt by trying the first:
        at most WALK_ROWS rows of the name index.
        """
        if selected <= SMALL_SELECTION:
            return await self._walk_states(query, states, words)
        merged = await self._merged(query, states, words, selected, members)
        if isinstance(merged, list):
            return merged
        if merged is not None and merged.walk_fails(min(members, WALK_ROWS), selected, members, query.limit + 1):
            # The words' counts say a walk would not fill a page ("ada tanaka 4": a 120th of the members have
            # the first two, and they come after 6,667 other Adas in the order): the trigram index first,
            # unless it finds more than TRIGRAM_ROWS matches.
            found = await self._trigram(query, states, words, int(TRIGRAM_ROWS))
            if found is not None:
                return found
        sql = _Sql(query)
        match = sql.match(words)
        # The name index in order, WALK_ROWS rows at most, stopping when the page is full; the limit
        # keeps the words out of that read (and so the trigram index from being used for it). A literal,
        # not a parameter: a generic plan would guess the limit and sort the whole organization.
        walk_rows = int(WALK_ROWS)
        in_states = sql.in_states(states)
        stretch = f"SELECT {_COLUMNS}, search_text FROM members WHERE org_id = $1{sql.after()} ORDER BY {sql.order}"
        walked = await self._connection.fetch(
            f"SELECT * FROM ({stretch} LIMIT {walk_rows}) AS stretch WHERE {match}{in_states}"
            f" ORDER BY {sql.order} LIMIT $2",
            *sql.args,
        )
        if len(walked) > query.limit:
            return walked
        # Fewer than a page: final if the stretch held every member after the cursor; otherwise how
        # often the words occur in it, whatever the state, tells how many the trigram index would find.
        counted = _Sql(query, page=False)
        rows, hits = await self._connection.fetchrow(
            f"SELECT count(*), count(*) FILTER (WHERE {counted.match(words)}) FROM"
            f" (SELECT search_text FROM members WHERE org_id = $1{counted.after()}"
            f" ORDER BY {counted.order} LIMIT {walk_rows}) AS stretch",
            *counted.args,
        )
        if rows < WALK_ROWS:
            return walked
        if selected <= hits * members / rows:
            return await self._walk_states(query, states, words)
        # Rare: the trigram index finds the matches first.
        return await self._trigram(query, states, words)

    async def _trigram(
        self, query: MembersQuery, states: list[MemberState], words: list[str], bound: int | None = None
    ) -> list[asyncpg.Record] | None:
        """Every member matching the words, by the trigram index (members_search_text), then the page of them
        in the selected states, in order. With a bound: None when more than `bound` members match (the
        matches are read no further than one past it)."""
        sql = _Sql(query)
        # Folded once: the plan a prepared statement settles on (generic) folded each word again for every
        # match it rechecked (9 of the 15 ms of "ada tanaka 4" at 1,000,000 members, 924 matches).
        match = sql.match(words, once=True)
        limit = "" if bound is None else f" LIMIT {int(bound) + 1}"
        matched = f"WITH matched AS MATERIALIZED (SELECT {_COLUMNS} FROM members WHERE org_id = $1 AND {match}{limit}) "
        branches = [
            f"(SELECT {_COLUMNS} FROM matched WHERE true{sql.state(state)}{sql.after()} ORDER BY {sql.order} LIMIT $2)"
            for state in _branches(states)
        ]
        union = f"SELECT * FROM ({' UNION ALL '.join(branches)}) AS page"
        if bound is None:
            return await self._fetch_page(sql, f"{matched}{union}")
        # How many matched, beside the page: one row with no member when the page is empty.
        records = await self._connection.fetch(
            f"{matched}SELECT page.*, found.matches FROM (SELECT count(*) AS matches FROM matched) AS found"
            f" LEFT JOIN LATERAL ({union} ORDER BY {sql.order} LIMIT $2) AS page ON true ORDER BY {sql.order_of('page')}",
            *sql.args,
        )
        if records[0]["matches"] > bound:
            return None
        return [record for record in records if record["user_id"] is not None]

    async def _merged(
        self, query: MembersQuery, states: list[MemberState], words: list[str], selected: int, members: int
    ) -> list[asyncpg.Record] | _Estimate | None:
        """The page from the ranges of member_words (migration m0013) of the words one search word stands
        for, merged in name order; the other search words and the states checked on each member's row.

        Read when the ranges hold MERGE_ROWS members or fewer (a rare word: its matches directly, not
        after a walk), or when there is nothing to check (one search word, every state): a word shared by
        a tenth of the members in runs of names takes a page of rows, not the 100,000 the trigram index
        finds. Otherwise (no search word stands for MERGE_WORDS words or fewer; other words or states to
        check on many rows, whose matches may lie anywhere in the ranges) another reading: an _Estimate of
        how many members match, from the words' counts, or None when no word was counted.
        """
        folded = await self._connection.fetchval(
            "SELECT array_agg(btrim(public.roomlink_fold(word)) ORDER BY i)"
            " FROM unnest($1::text[]) WITH ORDINALITY AS search (word, i)",
            words,
        )
        # A word folded to nothing, or to several (unaccent writes "½" as " 1/2"), is not one word.
        if any(not word or " " in word for word in folded):
            return None
        expansions, everyone = await self._expansions(query.org_id, words, folded)
        if any(expansion == [] for expansion in expansions):
            return []  # a word no member has
        # A word one of whose words every member has (bench, of name@bench.example) turns no member away.
        kept = [i for i, expansion in enumerate(expansions) if not any(n == everyone for _, n in expansion or [])]
        if not kept:
            return await self._listed(query, states)
        words, expansions = [words[i] for i in kept], [expansions[i] for i in kept]
        candidates = sorted(
            (sum(members for _, members in expansion), i) for i, expansion in enumerate(expansions) if expansion
        )
        estimate = _Estimate.of([total for total, _ in candidates], len(candidates) < len(words), members)
        if not candidates:
            return estimate
        total, i = candidates[0]
        if total <= MERGE_ROWS or (len(words) == 1 and len(states) == len(ALL_STATES)):
            # At most MERGE_ROWS rows to check; or none to check: the first rows after the cursor are the page.
            return await self._merge(query, states, words, i, expansions[i])
        # Several ranges to intersect (words shared by fewer than half the members, the selected states):
        # leapfrog them, each seek one index probe per range, rather than check each member's row.
        # The other words are checked on the matches' rows: only words most members share, which seldom
        # turn a match away (a word of unknown count, like "4" of "ada tanaka 4", may turn most away).
        leaping = [i for total, i in candidates if total * 2 < members and len(expansions[i]) <= LEAP_RANGES]
        common = [i for total, i in candidates if total * 2 >= members]
        with_states = len(states) < len(ALL_STATES)
        if len(leaping) + len(common) < len(words) or len(leaping) + with_states < 2 or len(states) > LEAP_RANGES:
            return estimate
        leapt = await self._leap(query, states if with_states else [], words, {i: expansions[i] for i in leaping})
        return estimate if leapt is None else leapt

    async def _expansions(
        self, org_id: str, words: list[str], folded: list[str]
    ) -> tuple[list[list[tuple[str, int]] | None], int]:
        """For each search word, the organization's words it stands for (a longer one anywhere in them, a
        shorter at their start) and how many members have each, None for more than MERGE_WORDS; and how
        many members the organization has, as the same statement sees them."""
        args: list[object] = [org_id]

        def add(value: object) -> str:
            args.append(value)
            return f"${len(args)}"

        branches = []
        for i, (word, fold) in enumerate(zip(words, folded, strict=True)):
            if len(word) >= SUBSTRING_FROM:
                pattern = fold.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                condition = f"word LIKE {add(f'%{pattern}%')}"
            else:
                # The words starting with it: a range of the byte-ordered key (no word has U+10FFFF), not the
                # trigram index (a prefix of one or two characters has no trigram of its own).
                condition = f"word ~>=~ {add(fold)} AND word ~<~ {add(fold + chr(0x10FFFF))} AND starts_with(word, {add(fold)})"
            branches.append(
                f"(SELECT {i} AS i, word, members FROM member_search_words WHERE org_id = $1 AND {condition}"
                f" LIMIT {int(MERGE_WORDS) + 1})"
            )
        branches.append("(SELECT -1, NULL, sum(members)::bigint FROM member_state_counts WHERE org_id = $1)")
        found: list[list[tuple[str, int]]] = [[] for _ in words]
        everyone = 0
        for record in await self._connection.fetch(" UNION ALL ".join(branches), *args):
            if record["i"] < 0:
                everyone = record["members"] or 0
            else:
                found[record["i"]].append((record["word"], record["members"]))
        return [expansion if len(expansion) <= MERGE_WORDS else None for expansion in found], everyone

    async def _merge(
        self,
        query: MembersQuery,
        states: list[MemberState],
        words: list[str],
        chosen: int,
        expansion: list[tuple[str, int]],
    ) -> list[asyncpg.Record]:
        """The members under the expansion's words after the cursor, their ranges merged in name order,
        kept when the other words and a selected state match their row, until the page is full."""
        others = [word for i, word in enumerate(words) if i != chosen]
        sql = _Sql(query)
        stretch = _stretch(sql, expansion)
        conditions = " AND ".join(filter(None, [sql.match(others), sql.in_states(states).removeprefix(" AND ")]))
        columns = ", ".join(f"m.{column}" for column in _COLUMNS.split(", "))
        # Ordered by the ranges' columns, so that the plan reads them lazily through the join.
        return await self._connection.fetch(
            f"SELECT {columns} FROM ({stretch}) AS stretch"
            " JOIN members m ON m.org_id = $1 AND m.user_id = stretch.user_id"
            f"{' WHERE ' + conditions if conditions else ''}"
            f" ORDER BY {sql.order_of('stretch')} LIMIT $2",
            *sql.args,
        )

    async def _leap(
        self,
        query: MembersQuery,
        states: list[MemberState],
        words: list[str],
        leaping: dict[int, list[tuple[str, int]]],
    ) -> list[asyncpg.Record] | None:
        """The members in every one of several ordered sets (the members under a search word's words,
        member_words_in_order; the members in a selected state, members_by_state), found by leapfrog:
        from a key, each set's first member at or past it in the query's order (the least at or after it,
        or for a descending order the greatest at or before it), in turn, until all agree (a match) or the
        last one's becomes the next key. A step is one probe per range, and steps skip whole runs of
        names that one set lacks: a surname in the states its first names are never in reads a few
        probes per first name, not every member between. The other words are checked on the matches'
        rows. None after LEAP_STEPS steps without a full page: another reading is cheaper then.
        """
        sql = _Sql(query)
        sides = [
            [f"FROM member_words WHERE org_id = $1 AND word = {sql.add(word)}" for word, _ in expansion]
            for expansion in leaping.values()
        ]
        if states:
            sides.append([f"FROM members WHERE org_id = $1{sql.state(state)}" for state in states])
        others = [word for i, word in enumerate(words) if i not in leaping]
        if query.after:
            # Strictly past the cursor.
            start = f"SELECT {sql.add(query.after[0])}::text, {sql.add(query.after[1])}::text, true, false, 0"
        else:
            # At or past the organization's first member in the order (one probe of members_by_name): a
            # key before every name either way, whichever the collation.
            start = f"(SELECT name, user_id, false, false, 0 FROM members WHERE org_id = $1 ORDER BY {sql.order} LIMIT 1)"
        past = sql.past

        def seek(side: list[str], key: str, strict: str | None) -> str:
            # Each set's first member at or past the key in the order (least at or after it ascending,
            # greatest at or before it descending).
            after = f" AND (name, user_id) {past}= ({key}.name, {key}.user_id)"
            if strict is not None:
                after += f" AND (NOT {strict} OR (name, user_id) {past} ({key}.name, {key}.user_id))"
            probes = [f"(SELECT name, user_id {table}{after} ORDER BY {sql.order} LIMIT 1)" for table in side]
            if len(probes) == 1:
                return probes[0]
            return f"(SELECT name, user_id FROM ({' UNION ALL '.join(probes)}) AS probes ORDER BY {sql.order} LIMIT 1)"

        seeks = [f"CROSS JOIN LATERAL {seek(sides[0], 'leap', 'leap.strict')} AS k0"] + [
            f"CROSS JOIN LATERAL {seek(side, f'k{n - 1}', None)} AS k{n}" for n, side in enumerate(sides[1:], 1)
        ]
        last = f"k{len(sides) - 1}"
        steps = int(LEAP_STEPS)
        conditions = sql.match(others) or "true"
        columns = ", ".join(f"m.{column}" for column in _COLUMNS.split(", "))
        found = await self._connection.fetch(
            f"""WITH RECURSIVE leap (name, user_id, strict, hit, step) AS (
                {start}
                UNION ALL
                SELECT {last}.name, {last}.user_id, (k0.name, k0.user_id) = ({last}.name, {last}.user_id),
                       (k0.name, k0.user_id) = ({last}.name, {last}.user_id), leap.step + 1
                FROM leap {' '.join(seeks)} WHERE leap.step < {steps}
            )
            SELECT m.*, leap.hit, leap.step FROM leap
            CROSS JOIN LATERAL (SELECT {columns} FROM members m WHERE m.org_id = $1 AND m.user_id = leap.user_id
                                AND ((leap.hit AND {conditions}) OR leap.step = {steps}) LIMIT 1) AS m
            LIMIT $2""",
            *sql.args,
        )
        # The steps' keys only move on in the order, so the steps come in it, and the page is the first of them:
        # the lookup is a lateral subquery (LIMIT 1 keeps it one), so the plan reads the steps in order
        # and stops at a full page; a join could be hashed, and its limit take any of the matches.
        found = sorted(found, key=lambda record: record["step"])
        if any(not record["hit"] or record["step"] == steps for record in found):
            return None
        return found

    async def _walk_states(
        self, query: MembersQuery, states: list[MemberState], words: list[str]
    ) -> list[asyncpg.Record]:
        """Each selected state's members in name order (members_by_state) until a page matches: at most
        every member of those states."""
        sql = _Sql(query)
        match = sql.match(words)
        branches = [
            f"(SELECT {_COLUMNS} FROM (SELECT {_COLUMNS}, search_text FROM members"
            f" WHERE org_id = $1{sql.state(state)}{sql.after()} ORDER BY {sql.order} OFFSET 0) AS walked"
            f" WHERE {match} LIMIT $2)"
            for state in _branches(states)
        ]
        return await self._fetch_page(sql, f"SELECT * FROM ({' UNION ALL '.join(branches)}) AS page")

    async def _fetch_page(self, sql: _Sql, union: str) -> list[asyncpg.Record]:
        return await self._connection.fetch(f"{union} ORDER BY {sql.order} LIMIT $2", *sql.args)

    async def _personal_zoom_emails(self, org_id: str, records: list[asyncpg.Record]) -> dict[str, str]:
        """The Zoom user of each personal connection on this page: one lookup for the page, not per row."""
        with_personal = [record["user_id"] for record in records if record["personal_status"] != "none"]
        if not with_personal:
            return {}
        # One index lookup per row of the page (a member has one personal connection): as `user_id = ANY`,
        # a generic plan read every personal connection of the organization and filtered (70 ms at 100,000).
        found = await self._connection.fetch(
            """
            SELECT c.user_id, c.zoom_email FROM unnest($2::text[]) AS wanted (user_id)
            CROSS JOIN LATERAL (SELECT user_id, zoom_email FROM connections
                                WHERE org_id = $1 AND type = 'personal' AND user_id = wanted.user_id LIMIT 1) AS c
            """,
            org_id,
            with_personal,
        )
        return {record["user_id"]: record["zoom_email"] for record in found}

    async def counts(self, org_id: str) -> ConnectionCounts:
        return _counted(*await self._organization_and_counts(org_id))

    async def overview(self, org_id: str) -> OrganizationOverview | None:
        """The organization, its connection and its members' counts in one statement (the owner's page);
        None when there is no such organization."""
        records = await self._connection.fetch(
            f"""
            SELECT o.org_id, o.name, o.allow_members_to_remove, o.created_at, o.updated_at,
                   {", ".join(f"c.{column} AS connection_{column}" for column in _CONNECTION_COLUMNS)},
                   s.personal_status, s.seated, s.organization_removed, s.members
            {_ORGANIZATION_AND_STATES}
            """,
            org_id,
        )
        if not records:
            return None
        first = records[0]
        organization = Organization(
            org_id=first["org_id"],
            name=first["name"],
            policy=Policy(allow_members_to_remove=first["allow_members_to_remove"]),
            created_at=first["created_at"],
            updated_at=first["updated_at"],
        )
        connection = None
        if first["connection_id"] is not None:
            connection = Connection(
                id=str(first["connection_id"]),
                org_id=first["org_id"],
                type=ConnectionType.ORGANIZATION,
                status=_STATUSES[first["connection_status"]],
                **{column: first[f"connection_{column}"] for column in _CONNECTION_COLUMNS[2:]},
            )
        state = OrganizationState(
            connection_status=connection.status if connection else None,
            members_may_remove=organization.policy.allow_members_to_remove,
        )
        return OrganizationOverview(
            organization=organization, connection=connection, counts=_counted(state, _states_of(records))
        )

    async def count_relying_on_organization(self, org_id: str) -> int:
        organization, state_counts = await self._organization_and_counts(org_id)
        return sum(
            members for state, members in state_counts if organization.decide(state).type is ConnectionType.ORGANIZATION
        )

    async def cut_off(self, org_id: str) -> CutOff:
        organization, state_counts = await self._organization_and_counts(org_id)
        working = OrganizationState(connection_status=ConnectionStatus.ACTIVE, members_may_remove=organization.members_may_remove)
        return CutOff(
            lost_zoom=sum(
                members for state, members in state_counts if working.decide(state).type is ConnectionType.ORGANIZATION
            ),
            keep_personal=sum(
                members for state, members in state_counts if state.personal_status == ConnectionStatus.ACTIVE.value
            ),
        )

    async def _organization_and_counts(self, org_id: str) -> tuple[OrganizationState, list[tuple[MemberState, int]]]:
        """The organization's state (its connection's status, the policy) and its members' state counts
        (at most 16 rows, kept by the members table's triggers, migration m0008), as one statement sees them."""
        records = await self._connection.fetch(
            f"""
            SELECT o.allow_members_to_remove, c.status, s.personal_status, s.seated, s.organization_removed, s.members
            {_ORGANIZATION_AND_STATES}
            """,
            org_id,
        )
        if not records:
            return OrganizationState(connection_status=None, members_may_remove=False), []
        status = records[0]["status"]
        organization = OrganizationState(
            connection_status=_STATUSES[status] if status else None,
            members_may_remove=records[0]["allow_members_to_remove"],
        )
        return organization, _states_of(records)


#: The organization connection's columns the owner's page shows (overview), after its id and status.
_CONNECTION_COLUMNS = (
    "id", "status", "user_id", "zoom_account_id", "zoom_user_id", "zoom_email", "status_reason",
    "status_changed_at", "connected_at", "last_verified_at",
)


def _states_of(records: list[asyncpg.Record]) -> list[tuple[MemberState, int]]:
    """The member states and their counts among these rows (a row without a state: an organization
    with no members, read through a LEFT JOIN)."""
    return [
        (MemberState(r["personal_status"], r["seated"], r["organization_removed"]), r["members"])
        for r in records
        if r["members"] is not None
    ]


def _counted(organization: OrganizationState, state_counts: list[tuple[MemberState, int]]) -> ConnectionCounts:
    by_type = dict.fromkeys((*ConnectionType, None), 0)
    for state, members in state_counts:
        by_type[organization.decide(state).serving_type] += members
    return ConnectionCounts(
        organization=by_type[ConnectionType.ORGANIZATION],
        personal=by_type[ConnectionType.PERSONAL],
        not_connected=by_type[None],
        total=sum(by_type.values()),
    )


#: Words this long match anywhere in a name or email; shorter ones match the start of a word (a
#: trigram index cannot find fragments under three characters, and "zed 0" means "Zed 07", not "Zed 10").
SUBSTRING_FROM = 3
#: Rows of the name index a search reads, in order, before it asks the trigram index instead.
WALK_ROWS = 5_000
#: Members in the selected states few enough for a search to read them all, in order.
SMALL_SELECTION = 2_000
#: Words of the organization one search word may stand for and still be read as their ranges, merged.
MERGE_WORDS = 64
#: Members under those words few enough to check each one's row (other words, states) for a search.
MERGE_ROWS = 2_000
#: Ranges one set of a leapfrog may have (a search word's words, the selected states), and its steps at most.
LEAP_RANGES = 16
LEAP_STEPS = 400
#: Matches the trigram index may find when a search asks it before walking the name index (_Estimate).
TRIGRAM_ROWS = 2_000


class _Estimate(msgspec.Struct, frozen=True):
    """How many members a search's words match, guessed from the members under each counted word as if the
    words were independent (a word standing for more than MERGE_WORDS words counts as every member)."""

    matches: float
    #: Some word was not counted: the matches may be far fewer.
    uncounted: bool

    @classmethod
    def of(cls, totals: list[int], uncounted: bool, members: int) -> _Estimate:
        matches = float(members)
        for total in totals:
            matches *= min(1.0, total / members) if members else 0.0
        return cls(matches=matches, uncounted=uncounted)

    def walk_fails(self, rows: int, selected: int, members: int, page: int) -> bool:
        """A walk of `rows` members in name order is expected to find fewer than a page of matches in the
        selected states, and the trigram index not to find more than TRIGRAM_ROWS matches (a word not
        counted may turn most of them away)."""
        if not members:
            return False
        expected = rows * (self.matches / members) * (selected / members)
        return expected < page and (self.uncounted or self.matches <= TRIGRAM_ROWS)


class _Sql:
    """Numbered parameters of one query: $1 the organization, $2 the rows wanted (a page and one more)
    unless it reads no page; and the query's order, (name, user_id) ascending or descending. Every reading
    is the same in both: PostgreSQL reads the same btree indexes backwards for a descending order."""

    def __init__(self, query: MembersQuery, page: bool = True) -> None:
        self.args: list[object] = [query.org_id, query.limit + 1] if page else [query.org_id]
        self._after = query.after
        #: Rows past a key in the order, and the order itself.
        self.past = "<" if query.descending else ">"
        self.order = self.order_of()

    def order_of(self, table: str | None = None) -> str:
        """ORDER BY's columns: (name, user_id), of this table, in the query's direction."""
        prefix = f"{table}." if table else ""
        direction = " DESC" if self.past == "<" else ""
        return f"{prefix}name{direction}, {prefix}user_id{direction}"

    def add(self, *values: object) -> str:
        self.args.extend(values)
        return f"${len(self.args)}"

    def after(self) -> str:
        if self._after is None:
            return ""
        return f" AND (name, user_id) {self.past} ({self.add(self._after[0])}, {self.add(self._after[1])})"

    def state(self, state: MemberState | None) -> str:
        if state is None:
            return ""
        return (
            f" AND personal_status = {self.add(state.personal_status)} AND seated = {self.add(state.seated)}"
            f" AND organization_removed = {self.add(state.organization_removed)}"
        )

    def in_states(self, states: list[MemberState]) -> str:
        """One of the selected states; nothing when every state is selected."""
        if len(states) == len(ALL_STATES):
            return ""
        return " AND (" + " OR ".join(self.state(state).removeprefix(" AND ") for state in states) + ")"

    def match(self, words: list[str], once: bool = False) -> str:
        """Every word, folded as the members' search_text is (migration m0012), in search_text. `once`: each
        word folded once per execution (an InitPlan), not once per row a generic plan checks."""
        patterns = [
            f"'%{'' if len(word) >= SUBSTRING_FROM else ' '}' || btrim(public.roomlink_fold({self.add(word)})) || '%'"
            for word in words
        ]
        return " AND ".join(f"search_text LIKE (SELECT {pattern})" if once else f"search_text LIKE {pattern}" for pattern in patterns)


def _stretch(sql: _Sql, expansion: list[tuple[str, int]]) -> str:
    """The members after the cursor under any of these words, in name order: each word's range of
    member_words_in_order, merged (a member under two of the words once)."""
    after = sql.after()  # the same parameters in every range
    ranges = [
        f"SELECT name, user_id FROM member_words WHERE org_id = $1 AND word = {sql.add(word)}{after}"
        f" ORDER BY {sql.order}"
        for word, _ in expansion
    ]
    if len(ranges) == 1:
        return ranges[0]
    merged = " UNION ALL ".join(f"({single})" for single in ranges)
    return f"SELECT DISTINCT name, user_id FROM ({merged}) AS ranges ORDER BY {sql.order}"


def _branches(states: list[MemberState]) -> list[MemberState | None]:
    """Every state selected: one range of the name index; otherwise one range per state."""
    return [None] if len(states) == len(ALL_STATES) else list(states)


def _selected(effective: EffectiveConnection, query: MembersQuery) -> bool:
    if query.connected is not None and effective.connected != query.connected:
        return False
    if query.type is None:
        return True
    wanted = None if query.type == "none" else ConnectionType(query.type)
    return effective.serving_type is wanted


def _member_rows(
    records: list[asyncpg.Record], organization: OrganizationState, own_zoom: dict[str, str]
) -> list[MemberRow]:
    """The members table's rows: what each member's state shows, decided once per state on the page."""
    shapes: dict[tuple[str, bool, bool], tuple] = {}
    rows = []
    for record in records:
        state = (record["personal_status"], record["seated"], record["organization_removed"])
        shape = shapes.get(state)
        if shape is None:
            shape = shapes[state] = _shape(organization, *state)
        connected, serving_type, status, reason, zoom = shape
        user_id = record["user_id"]
        rows.append(
            MemberRow(
                user_id=user_id,
                name=record["name"],
                email=record["email"],
                role=_ROLES[record["role"]],
                connected=connected,
                type=serving_type,
                status=status,
                reason=reason,
                zoom_user_email=(
                    own_zoom.get(user_id) if zoom is _OWN else record["email_normalized"] if zoom is _SEAT else None
                ),
            )
        )
    return rows


#: Whose Zoom user a row shows: the member's personal connection's, or their seat's (their own email, R5).
_OWN, _SEAT = "own", "seat"


def _shape(
    organization: OrganizationState, personal_status: str, seated: bool, organization_removed: bool
) -> tuple[bool, ConnectionType | None, ConnectionStatus | None, object, str | None]:
    """(connected, type shown, status, reason, whose Zoom user) of a member in this state."""
    effective = _decided(
        organization.connection_status, organization.members_may_remove, personal_status, seated, organization_removed
    )
    if effective.type is ConnectionType.PERSONAL:
        status, zoom = _STATUSES[personal_status], _OWN
    elif effective.type is ConnectionType.ORGANIZATION:
        # A seat is the Zoom user whose email is the member's (R5), so no lookup is needed.
        status, zoom = organization.connection_status, _SEAT if seated else None
    else:
        status, zoom = None, None
    return effective.connected, effective.serving_type, status, effective.reason, zoom


def search_words(q: str) -> list[str]:
    """Runs of letters and digits, at most eight; PostgreSQL folds them (accents, case) as it folds members."""
    return re.findall(r"[^\W_]+", q)[:8]
