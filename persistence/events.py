"""Events to the host product (R24): the outbox, its endpoints and their deliveries, in SQL.

The outbox is written on the unit of work's own connection, so an event exists only if its change
committed. Its positions follow commit order within an organization: every transaction writes its
events while holding the organization's row (FOR UPDATE when the organization itself changed,
FOR SHARE otherwise). Deliveries are claimed with `FOR UPDATE SKIP LOCKED` and leased: a worker
that dies mid-delivery leaves a lease that runs out, and another worker sends the event again.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime

import asyncpg
import msgspec

from domain import events as rules
from domain.events import MemberChange
from domain.model import ConnectionStatus
from domain.ports import (
    ENDPOINT_IN_FLIGHT,
    Delivery,
    EventEndpoint,
    FanOut,
    JobQueue,
    MemberFacts,
    OrganizationFacts,
    OutboxEvent,
    SigningSecrets,
)
from domain.sessions import REVIEW_HOST_SESSIONS
from persistence.remote_sessions import hosts_with_future_sessions
from persistence.token_cipher import TokenCipher

_NOTED_CHANGES = """
WITH m AS (DELETE FROM member_fact_changes WHERE txid = txid_current()
           RETURNING id, org_id, user_id, personal_status, seated, organization_removed),
     o AS (DELETE FROM organization_fact_changes WHERE txid = txid_current()
           RETURNING id, org_id, connection_id, connection_status, members_may_remove)
SELECT 'member' AS kind, id, org_id, user_id, personal_status, seated, organization_removed,
       NULL::uuid AS connection_id, NULL::text AS connection_status, NULL::boolean AS members_may_remove FROM m
UNION ALL
SELECT 'organization', id, org_id, NULL, NULL, NULL, NULL, connection_id, connection_status, members_may_remove FROM o
"""


class ClaimedDelivery(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery leased to this worker, with what it sends and where."""

    id: int
    endpoint_id: str
    url: str
    secrets: SigningSecrets
    attempts: int
    first_attempt_at: datetime
    body: str
    event_id: str


class PostgresOutbox:
    def __init__(self, connection: asyncpg.Connection, jobs: JobQueue) -> None:
        self._connection = connection
        self._jobs = jobs

    async def add(self, event: OutboxEvent) -> None:
        await self._write([event], ordinal=None)

    async def flush(self) -> None:
        """At commit: the facts this transaction changed become events (domain.events.transaction_events)."""
        noted = await self._connection.fetch(_NOTED_CHANGES)
        if not noted:
            return
        now = datetime.now(UTC)
        by_org: dict[str, list[asyncpg.Record]] = defaultdict(list)
        for record in sorted(noted, key=lambda r: (r["kind"], r["id"])):
            by_org[record["org_id"]].append(record)
        for org_id in sorted(by_org):
            await self._flush_organization(org_id, by_org[org_id], now)

    async def _flush_organization(self, org_id: str, noted: list[asyncpg.Record], now: datetime) -> None:
        organization_notes = [r for r in noted if r["kind"] == "organization"]
        lock = "UPDATE" if organization_notes else "SHARE"
        current = await self._connection.fetchrow(
            f"""
            SELECT o.allow_members_to_remove, c.id AS connection_id, c.status, c.status_reason
            FROM organizations o LEFT JOIN connections c ON c.org_id = o.org_id AND c.type = 'organization'
            WHERE o.org_id = $1 FOR {lock} OF o
            """,
            org_id,
        )
        if current is None:
            return  # the organization itself went
        after = OrganizationFacts(
            connection_id=str(current["connection_id"]) if current["connection_id"] else None,
            status=ConnectionStatus(current["status"]) if current["status"] else None,
            status_reason=current["status_reason"],
            members_may_remove=current["allow_members_to_remove"],
        )
        before = after
        if organization_notes:
            first = organization_notes[0]
            before = OrganizationFacts(
                connection_id=str(first["connection_id"]) if first["connection_id"] else None,
                status=ConnectionStatus(first["connection_status"]) if first["connection_status"] else None,
                members_may_remove=bool(first["members_may_remove"]),
            )
        firsts: dict[str, asyncpg.Record] = {}
        for record in noted:
            if record["kind"] == "member":
                firsts.setdefault(record["user_id"], record)
        changes = []
        if firsts:
            rows = await self._connection.fetch(
                """
                SELECT user_id, personal_status, seated, organization_removed FROM members
                WHERE org_id = $1 AND user_id = ANY($2::text[]) ORDER BY user_id
                """,
                org_id,
                list(firsts),
            )
            changes = [
                MemberChange(user_id=row["user_id"], before=_facts(firsts[row["user_id"]]), after=_facts(row))
                for row in rows
            ]
        await self._write(rules.transaction_events(org_id, before, after, changes, now), ordinal=None)

    async def fan_out(self, event_id: str) -> FanOut | None:
        record = await self._connection.fetchrow(
            """
            SELECT position, id, org_id, occurred_at, fan_out, fan_out_cursor FROM events
            WHERE id = $1::uuid AND fan_out_state IN ('pending', 'running') FOR UPDATE
            """,
            event_id,
        )
        if record is None:
            return None
        before, after = msgspec.convert(json.loads(record["fan_out"]), tuple[OrganizationFacts, OrganizationFacts])
        return FanOut(
            event_id=str(record["id"]),
            ordinal=record["position"],
            org_id=record["org_id"],
            occurred_at=record["occurred_at"],
            before=before,
            after=after,
            cursor=record["fan_out_cursor"],
        )

    async def member_states(self, fan_out: FanOut) -> list[tuple[MemberFacts, int]]:
        records = await self._connection.fetch(
            """
            SELECT personal_status, seated, organization_removed, count(*) AS members FROM members
            WHERE org_id = $1 AND created_at <= $2 GROUP BY personal_status, seated, organization_removed
            """,
            fan_out.org_id,
            fan_out.occurred_at,
        )
        counts = {_facts(record): record["members"] for record in records}
        for now, then in (await self._changed_since(fan_out, None)).values():
            counts[now] -= 1
            counts[then] = counts.get(then, 0) + 1
        return [(facts, count) for facts, count in counts.items() if count]

    async def members_after(self, fan_out: FanOut, limit: int) -> list[tuple[str, MemberFacts]]:
        records = await self._connection.fetch(
            """
            SELECT user_id, personal_status, seated, organization_removed FROM members
            WHERE org_id = $1 AND user_id > $2 AND created_at <= $3 ORDER BY user_id LIMIT $4
            """,
            fan_out.org_id,
            fan_out.cursor or "",
            fan_out.occurred_at,
            limit,
        )
        members = [(record["user_id"], _facts(record)) for record in records]
        then = await self._changed_since(fan_out, [user_id for user_id, _ in members])
        return [(user_id, then[user_id][1] if user_id in then else facts) for user_id, facts in members]

    async def _changed_since(
        self, fan_out: FanOut, user_ids: list[str] | None
    ) -> dict[str, tuple[MemberFacts, MemberFacts]]:
        """Members who changed their own facts since the organization event: (facts now, facts then)."""
        records = await self._connection.fetch(
            """
            SELECT DISTINCT ON (e.subject) m.user_id, m.personal_status, m.seated, m.organization_removed, e.facts_before
            FROM events e
            JOIN members m ON m.org_id = e.org_id AND e.subject = 'member:' || m.user_id
            WHERE e.org_id = $1 AND e.position > $2 AND e.facts_before IS NOT NULL AND m.created_at <= $3
              AND ($4::text[] IS NULL OR e.subject = ANY($4::text[]))
            ORDER BY e.subject, e.position
            """,
            fan_out.org_id,
            fan_out.ordinal,
            fan_out.occurred_at,
            [rules.member_subject(user_id) for user_id in user_ids] if user_ids is not None else None,
        )
        return {
            record["user_id"]: (_facts(record), msgspec.convert(json.loads(record["facts_before"]), MemberFacts))
            for record in records
        }

    async def count_affected(self, fan_out: FanOut, affected: int) -> None:
        await self._connection.execute(
            """
            UPDATE events SET data = jsonb_set(data, '{affected_members}', to_jsonb($2::int)), fan_out_state = 'running'
            WHERE position = $1
            """,
            fan_out.ordinal,
            affected,
        )

    async def add_fanned_out(self, fan_out: FanOut, events: list[OutboxEvent]) -> None:
        await self._write(events, ordinal=fan_out.ordinal)

    async def advance(self, fan_out: FanOut, cursor: str | None, done: bool) -> None:
        await self._connection.execute(
            "UPDATE events SET fan_out_cursor = $2, fan_out_state = $3 WHERE position = $1",
            fan_out.ordinal,
            cursor,
            "done" if done else "running",
        )

    async def refresh_statistics(self) -> None:
        """A fan-out writes tens of thousands of deliveries in minutes, faster than autovacuum re-reads the tables;
        with the old statistics the claim of due deliveries scanned every pending one (424 ms a round at 75,000,
        25 ms after ANALYZE, measured by tests.perf.bench_events)."""
        await self._connection.execute("ANALYZE event_deliveries, events")

    async def unfinished_fan_outs(self, older_than_s: float = 30) -> list[str]:
        records = await self._connection.fetch(
            """
            SELECT id FROM events WHERE fan_out_state IN ('pending', 'running')
              AND occurred_at < now() - make_interval(secs => $1)
            """,
            older_than_s,
        )
        return [str(record["id"]) for record in records]

    async def _write(self, events: list[OutboxEvent], ordinal: int | None) -> None:
        """Events in the order given, each with a delivery to every endpoint that wants it."""
        if not events:
            return
        positions = sorted(
            record["position"]
            for record in await self._connection.fetch(
                "SELECT nextval('events_position_seq') AS position FROM generate_series(1, $1)", len(events)
            )
        )
        await self._connection.execute(
            """
            INSERT INTO events (position, id, org_id, type, subject, ordinal, occurred_at, data, fan_out, fan_out_state,
                                facts_before)
            SELECT e.position, e.id, e.org_id, e.type, e.subject, coalesce($10, e.position), e.occurred_at, e.data, e.fan_out,
                   CASE WHEN e.fan_out IS NULL THEN NULL ELSE 'pending' END, e.facts_before
            FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                        $7::jsonb[], $8::jsonb[], $9::jsonb[])
                 AS e (position, id, org_id, type, subject, occurred_at, data, fan_out, facts_before)
            """,
            positions,
            [event.id for event in events],
            [event.org_id for event in events],
            [event.type for event in events],
            [event.subject for event in events],
            [event.occurred_at for event in events],
            [msgspec.json.encode(event.data).decode() for event in events],
            [msgspec.json.encode(event.fan_out).decode() if event.fan_out else None for event in events],
            [msgspec.json.encode(event.facts_before).decode() if event.facts_before else None for event in events],
            ordinal,
        )
        await self._connection.execute(
            """
            INSERT INTO event_deliveries (endpoint_id, event_position, org_id, subject, ordinal, next_attempt_at, created_at)
            SELECT p.id, e.position, e.org_id, e.subject, coalesce($5, e.position), now(), now()
            FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS e (position, org_id, type, subject)
            JOIN event_endpoints p ON p.disabled_at IS NULL AND (p.org_id IS NULL OR p.org_id = e.org_id)
                                  AND (p.event_types = '[]'::jsonb OR p.event_types ? e.type)
            ORDER BY e.position, p.id
            """,
            positions,
            [event.org_id for event in events],
            [event.type for event in events],
            [event.subject for event in events],
            ordinal,
        )
        for event in events:
            if event.fan_out is not None:
                await self._jobs.enqueue(rules.FAN_OUT, {"event_id": event.id}, dedupe_key=f"fan_out:{event.id}")
        await self._review_hosts(events)

    async def _review_hosts(self, events: list[OutboxEvent]) -> None:
        """R21: a member whose effective connection changed and who hosts future sessions has them looked at again.
        Every member change passes here (a member's own, and each of an organization change's fan-out)."""
        moved = [
            (event.org_id, str(event.data["user_id"])) for event in events if event.type == rules.MEMBER_CONNECTION_CHANGED
        ]
        for org_id, user_id in await hosts_with_future_sessions(self._connection, moved):
            await self._jobs.enqueue(REVIEW_HOST_SESSIONS, {"org_id": org_id, "user_id": user_id})


class PostgresEventEndpoints:
    def __init__(self, connection: asyncpg.Connection, cipher: TokenCipher) -> None:
        self._connection = connection
        self._cipher = cipher

    async def get(self, endpoint_id: str) -> EventEndpoint | None:
        record = await self._connection.fetchrow("SELECT * FROM event_endpoints WHERE id = $1", endpoint_id)
        return _endpoint(record) if record else None

    async def save(
        self, endpoint_id: str, url: str, event_types: list[str], org_id: str | None, secret: str, now: datetime
    ) -> tuple[EventEndpoint, bool]:
        """Create (with `secret`) or update (the secret stays; a disabled endpoint is enabled again)."""
        record = await self._connection.fetchrow(
            """
            INSERT INTO event_endpoints (id, url, event_types, org_id, secret, created_at, updated_at)
            VALUES ($1, $2, $3::jsonb, $4, $5, $6, $6)
            ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, event_types = EXCLUDED.event_types,
                org_id = EXCLUDED.org_id, disabled_at = NULL, disabled_reason = NULL, updated_at = EXCLUDED.updated_at
            RETURNING *, (xmax = 0) AS created
            """,
            endpoint_id,
            url,
            json.dumps(event_types),
            org_id,
            self._cipher.encrypt(secret, endpoint_id),
            now,
        )
        return _endpoint(record), record["created"]

    async def delete(self, endpoint_id: str) -> bool:
        return await self._connection.execute("DELETE FROM event_endpoints WHERE id = $1", endpoint_id) != "DELETE 0"

    async def rotate_secret(self, endpoint_id: str, secret: str, previous_until: datetime, now: datetime) -> bool:
        """The new secret signs from now on; the current one keeps signing too until `previous_until`."""
        record = await self._connection.fetchrow(
            "SELECT secret FROM event_endpoints WHERE id = $1 FOR UPDATE", endpoint_id
        )
        if record is None:
            return False
        await self._connection.execute(
            """
            UPDATE event_endpoints SET secret = $2, previous_secret = $3, previous_secret_expires_at = $4, updated_at = $5
            WHERE id = $1
            """,
            endpoint_id,
            self._cipher.encrypt(secret, endpoint_id),
            record["secret"],
            previous_until,
            now,
        )
        return True

    async def disable(self, endpoint_id: str, reason: str, now: datetime) -> None:
        await self._connection.execute(
            "UPDATE event_endpoints SET disabled_at = $2, disabled_reason = $3 WHERE id = $1 AND disabled_at IS NULL",
            endpoint_id,
            now,
            reason,
        )

    async def signing_secrets(self, endpoint_id: str, now: datetime) -> SigningSecrets | None:
        record = await self._connection.fetchrow(
            "SELECT secret, previous_secret, previous_secret_expires_at FROM event_endpoints WHERE id = $1", endpoint_id
        )
        return self.secrets(endpoint_id, record, now) if record else None

    async def hearing(self, org_id: str) -> list[EventEndpoint]:
        records = await self._connection.fetch(
            "SELECT * FROM event_endpoints WHERE org_id IS NULL OR org_id = $1 ORDER BY id", org_id
        )
        return [_endpoint(record) for record in records]

    def secrets(self, endpoint_id: str, record: asyncpg.Record, now: datetime) -> SigningSecrets:
        previous = record["previous_secret"]
        in_grace = previous is not None and record["previous_secret_expires_at"] > now
        return SigningSecrets(
            current=self._cipher.decrypt(record["secret"], endpoint_id),
            previous=self._cipher.decrypt(previous, endpoint_id) if in_grace else None,
        )


class PostgresDeliveries:
    def __init__(self, connection: asyncpg.Connection, cipher: TokenCipher) -> None:
        self._connection = connection
        self._endpoints = PostgresEventEndpoints(connection, cipher)

    async def claim(self, limit: int, lease_s: float, per_endpoint: int = ENDPOINT_IN_FLIGHT) -> list[ClaimedDelivery]:
        """Due deliveries at the head of their (endpoint, subject) queue, leased to this worker.

        A member's event waits while an earlier organization event of their organization is still
        being fanned out (its member events sort before it); an organization event waits until its
        members are counted. An endpoint with `per_endpoint` deliveries leased (in flight on any worker)
        gets no more until one ends, and one claim takes no more than that of one endpoint: a slow
        endpoint keeps its own deliveries waiting, never another's.
        """
        async with self._connection.transaction():
            records = await self._connection.fetch(
                """
                WITH due AS (
                    SELECT d.id, d.endpoint_id, d.next_attempt_at,
                           (SELECT count(*) FROM (
                                SELECT 1 FROM event_deliveries f
                                WHERE f.endpoint_id = d.endpoint_id AND f.status = 'pending' AND f.leased_until > now()
                                LIMIT $3) AS leased) AS in_flight
                    FROM event_deliveries d
                    JOIN event_endpoints p ON p.id = d.endpoint_id AND p.disabled_at IS NULL
                    WHERE d.status = 'pending' AND d.next_attempt_at <= now()
                      AND (d.leased_until IS NULL OR d.leased_until < now())
                      AND NOT EXISTS (
                          SELECT 1 FROM event_deliveries e
                          WHERE e.endpoint_id = d.endpoint_id AND e.subject = d.subject AND e.status = 'pending'
                            AND (e.ordinal, e.event_position) < (d.ordinal, d.event_position))
                      AND (SELECT count(*) FROM (
                               SELECT 1 FROM event_deliveries f
                               WHERE f.endpoint_id = d.endpoint_id AND f.status = 'pending' AND f.leased_until > now()
                               LIMIT $3) AS leased) < $3
                      AND NOT EXISTS (
                          SELECT 1 FROM events o
                          WHERE o.org_id = d.org_id AND o.fan_out_state IN ('pending', 'running')
                            AND ((o.position < d.ordinal AND d.subject LIKE 'member:%')
                                 OR (o.position = d.event_position AND o.fan_out_state = 'pending')))
                    ORDER BY d.next_attempt_at, d.id
                    LIMIT $1
                    FOR UPDATE OF d SKIP LOCKED
                ), picked AS (
                    SELECT id FROM (
                        SELECT id, in_flight + row_number() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at, id) AS place
                        FROM due) AS ranked
                    WHERE place <= $3
                )
                UPDATE event_deliveries d
                SET leased_until = now() + make_interval(secs => $2), attempts = d.attempts + 1,
                    first_attempt_at = coalesce(d.first_attempt_at, now()), last_attempt_at = now()
                FROM picked, events v, event_endpoints p
                WHERE d.id = picked.id AND v.position = d.event_position AND p.id = d.endpoint_id
                RETURNING d.id, d.endpoint_id, d.attempts, d.first_attempt_at, p.url, p.secret, p.previous_secret,
                          p.previous_secret_expires_at, v.id AS event_id, v.type, v.org_id, v.occurred_at, v.data
                """,
                limit,
                lease_s,
                per_endpoint,
            )
        now = datetime.now(UTC)
        return [
            ClaimedDelivery(
                id=record["id"],
                endpoint_id=record["endpoint_id"],
                url=record["url"],
                secrets=self._endpoints.secrets(record["endpoint_id"], record, now),
                attempts=record["attempts"],
                first_attempt_at=record["first_attempt_at"],
                body=_body(record),
                event_id=str(record["event_id"]),
            )
            for record in records
        ]

    async def delivered(self, delivery_id: int, status_code: int) -> None:
        await self._connection.execute(
            """
            UPDATE event_deliveries SET status = 'delivered', delivered_at = now(), last_status_code = $2,
                                        last_error = NULL, leased_until = NULL
            WHERE id = $1 AND status = 'pending'
            """,
            delivery_id,
            status_code,
        )

    async def failed(
        self, delivery_id: int, status_code: int | None, error: str, retry_at: datetime | None
    ) -> None:
        """Another attempt at `retry_at`, or none (failed for good) when it is None."""
        await self._connection.execute(
            """
            UPDATE event_deliveries SET status = CASE WHEN $4::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
                   next_attempt_at = coalesce($4, next_attempt_at), last_status_code = $2, last_error = $3,
                   leased_until = NULL
            WHERE id = $1 AND status = 'pending'
            """,
            delivery_id,
            status_code,
            error[:500],
            retry_at,
        )

    async def page(
        self, endpoint_id: str, status: str | None, before_id: int | None, limit: int
    ) -> tuple[list[Delivery], int | None]:
        """Newest first; the id to continue before when more follow."""
        return await self._newest_first("d.endpoint_id = $1", endpoint_id, status, before_id, limit)

    async def _newest_first(
        self, of: str, key: str, status: str | None, before_id: int | None, limit: int
    ) -> tuple[list[Delivery], int | None]:
        """One page of deliveries `of` an endpoint or an organization ($1 = `key`), read backwards along its index."""
        records = await self._connection.fetch(
            f"""
            SELECT d.*, v.id AS event_id, v.type FROM event_deliveries d JOIN events v ON v.position = d.event_position
            WHERE {of} AND ($2::text IS NULL OR d.status = $2) AND ($3::bigint IS NULL OR d.id < $3)
            ORDER BY d.id DESC LIMIT $4
            """,
            key,
            status,
            before_id,
            limit + 1,
        )
        items = [_delivery(record) for record in records[:limit]]
        return items, items[-1].id if len(records) > limit else None

    async def redeliver(self, endpoint_id: str, delivery_id: int) -> bool:
        """Sent again from now, with a fresh retry window; in its place in its subject's order."""
        result = await self._connection.execute(
            """
            UPDATE event_deliveries SET status = 'pending', next_attempt_at = now(), first_attempt_at = NULL,
                                        leased_until = NULL, delivered_at = NULL
            WHERE endpoint_id = $1 AND id = $2
            """,
            endpoint_id,
            delivery_id,
        )
        return result != "UPDATE 0"


    async def organization_page(
        self, org_id: str, status: str | None, before_id: int | None, limit: int
    ) -> tuple[list[Delivery], int | None]:
        """Along deliveries_of_organization (m0014)."""
        return await self._newest_first("d.org_id = $1", org_id, status, before_id, limit)

    async def of_organization(self, org_id: str, delivery_id: int) -> Delivery | None:
        record = await self._connection.fetchrow(
            """
            SELECT d.*, v.id AS event_id, v.type FROM event_deliveries d JOIN events v ON v.position = d.event_position
            WHERE d.id = $2 AND d.org_id = $1
            """,
            org_id,
            delivery_id,
        )
        return _delivery(record) if record else None


def _body(record: asyncpg.Record) -> str:
    return json.dumps(
        {
            "id": str(record["event_id"]),
            "type": record["type"],
            "occurred_at": record["occurred_at"].astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "org_id": record["org_id"],
            "data": json.loads(record["data"]),
        },
        separators=(",", ":"),
    )


def _facts(record: asyncpg.Record) -> MemberFacts:
    return rules.facts_of(record["personal_status"], record["seated"], record["organization_removed"])


def _endpoint(record: asyncpg.Record) -> EventEndpoint:
    return EventEndpoint(
        id=record["id"],
        url=record["url"],
        event_types=json.loads(record["event_types"]),
        org_id=record["org_id"],
        disabled_at=record["disabled_at"],
        disabled_reason=record["disabled_reason"],
        created_at=record["created_at"],
        updated_at=record["updated_at"],
    )


def _delivery(record: asyncpg.Record) -> Delivery:
    return Delivery(
        id=record["id"],
        endpoint_id=record["endpoint_id"],
        event_id=str(record["event_id"]),
        type=record["type"],
        subject=record["subject"],
        status=record["status"],
        attempts=record["attempts"],
        last_status_code=record["last_status_code"],
        last_error=record["last_error"],
        next_attempt_at=record["next_attempt_at"] if record["status"] == "pending" else None,
        first_attempt_at=record["first_attempt_at"],
        delivered_at=record["delivered_at"],
    )
