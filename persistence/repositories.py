"""Repositories behind the domain's ports: SQL in, domain Structs out (connections, their tokens and
their Zoom users: persistence/connections.py, tokens.py, zoom_directory.py).

Piccolo owns the schema, migrations, engine and transactions; queries are written in SQL
because the upserts and the members table need SQL the query builder cannot express, and
one style reads better than two.
"""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg
from pgqueuer.queries import Queries

from domain.emails import email_key
from domain.errors import MemberOfAnotherOrganization
from domain.model import ConnectionType, Member, Organization, Policy, Role
from domain.ports import ActivationLink, AuditEvent, Disconnection, MemberInput, OAuthState
from persistence.correlation import job_headers
from persistence.token_cipher import TokenCipher


class PostgresOrganizations:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def get(self, org_id: str) -> Organization | None:
        record = await self._connection.fetchrow(
            "SELECT * FROM organizations WHERE org_id = $1", org_id
        )
        return _organization(record) if record else None

    async def save(self, org_id: str, name: str, now: datetime) -> tuple[Organization, bool]:
        record = await self._connection.fetchrow(
            """
            INSERT INTO organizations (org_id, name, allow_members_to_remove, created_at, updated_at)
            VALUES ($1, $2, false, $3, $3)
            ON CONFLICT (org_id) DO UPDATE SET name = EXCLUDED.name, updated_at = EXCLUDED.updated_at
            RETURNING *, (xmax = 0) AS created
            """,
            org_id,
            name,
            now,
        )
        return _organization(record), record["created"]

    async def delete(self, org_id: str) -> None:
        """Removes the organization with everything it holds, its history included."""
        await self._connection.execute("DELETE FROM audit_events WHERE org_id = $1", org_id)
        await self._connection.execute("DELETE FROM organizations WHERE org_id = $1", org_id)

    async def set_policy(self, org_id: str, policy: Policy, now: datetime) -> Organization:
        record = await self._connection.fetchrow(
            """
            UPDATE organizations SET allow_members_to_remove = $2, updated_at = $3
            WHERE org_id = $1 RETURNING *
            """,
            org_id,
            policy.allow_members_to_remove,
            now,
        )
        return _organization(record)


class PostgresMembers:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def get(self, org_id: str, user_id: str) -> Member | None:
        record = await self._connection.fetchrow(
            "SELECT * FROM members WHERE org_id = $1 AND user_id = $2", org_id, user_id
        )
        return _member(record) if record else None

    async def find(self, user_id: str) -> Member | None:
        record = await self._connection.fetchrow("SELECT * FROM members WHERE user_id = $1", user_id)
        return _member(record) if record else None

    async def save_many(
        self, org_id: str, members: list[MemberInput], now: datetime
    ) -> tuple[int, int]:
        user_ids = [member.user_id for member in members]
        elsewhere = await self._connection.fetch(
            "SELECT user_id, org_id FROM members WHERE user_id = ANY($1::text[]) AND org_id <> $2",
            user_ids,
            org_id,
        )
        if elsewhere:
            taken = sorted(record["user_id"] for record in elsewhere)
            raise MemberOfAnotherOrganization(
                f"A user belongs to one organization; already a member elsewhere: {', '.join(taken[:10])}.",
                errors={"user_id": "already a member of another organization"},
            )
        try:
            records = await self._connection.fetch(
                """
                INSERT INTO members (org_id, user_id, email, email_normalized, name, role,
                                     organization_removed, created_at, updated_at)
                SELECT $1, input.user_id, input.email, input.email_normalized, input.name, input.role, false, $7, $7
                FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
                     AS input (user_id, email, email_normalized, name, role)
                ON CONFLICT (org_id, user_id) DO UPDATE
                   SET email = EXCLUDED.email, email_normalized = EXCLUDED.email_normalized,
                       name = EXCLUDED.name, role = EXCLUDED.role, updated_at = EXCLUDED.updated_at
                RETURNING (xmax = 0) AS created
                """,
                org_id,
                user_ids,
                [member.email.strip() for member in members],
                [email_key(member.email) for member in members],
                [member.name for member in members],
                [member.role.value for member in members],
                now,
            )
        except asyncpg.UniqueViolationError:
            # Another organization took one of these user IDs between our check and this insert.
            raise MemberOfAnotherOrganization(
                "A user belongs to one organization; one of these users was just added to another.",
                errors={"user_id": "already a member of another organization"},
            ) from None
        created = sum(1 for record in records if record["created"])
        return created, len(records) - created

    async def managers(self, org_id: str) -> list[Member]:
        """Owners and admins: who hears about the organization connection's incidents."""
        records = await self._connection.fetch(
            "SELECT * FROM members WHERE org_id = $1 AND role IN ('owner', 'admin') ORDER BY name", org_id
        )
        return [_member(record) for record in records]

    async def delete(self, org_id: str, user_id: str) -> bool:
        result = await self._connection.execute(
            "DELETE FROM members WHERE org_id = $1 AND user_id = $2", org_id, user_id
        )
        return result != "DELETE 0"

    async def set_organization_removed(
        self, org_id: str, user_id: str, removed: bool, now: datetime
    ) -> None:
        await self._connection.execute(
            """
            UPDATE members SET organization_removed = $3, updated_at = $4
            WHERE org_id = $1 AND user_id = $2
            """,
            org_id,
            user_id,
            removed,
            now,
        )


class PostgresActivationLinks:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def add(self, link: ActivationLink, token_hash: str) -> None:
        await self._connection.execute(
            """
            INSERT INTO activation_links (id, org_id, token_hash, created_by, emailed_to, created_at, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """,
            link.id,
            link.org_id,
            token_hash,
            link.created_by,
            link.emailed_to,
            link.created_at,
            link.expires_at,
        )

    async def get(self, org_id: str, link_id: str) -> ActivationLink | None:
        record = await self._connection.fetchrow(
            "SELECT * FROM activation_links WHERE org_id = $1 AND id = $2::uuid", org_id, link_id
        )
        return _activation_link(record) if record else None

    async def find(self, token_hash: str) -> ActivationLink | None:
        record = await self._connection.fetchrow("SELECT * FROM activation_links WHERE token_hash = $1", token_hash)
        return _activation_link(record) if record else None

    async def mark_used(self, link: ActivationLink, now: datetime) -> None:
        await self._connection.execute(
            "UPDATE activation_links SET used_at = $3 WHERE org_id = $1 AND id = $2", link.org_id, link.id, now
        )

    async def revoke(self, link: ActivationLink, now: datetime) -> None:
        await self._connection.execute(
            "UPDATE activation_links SET revoked_at = $3 WHERE org_id = $1 AND id = $2", link.org_id, link.id, now
        )

    async def pending(self, org_id: str, now: datetime) -> list[ActivationLink]:
        records = await self._connection.fetch(
            """
            SELECT * FROM activation_links
            WHERE org_id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2
            ORDER BY created_at DESC, id
            """,
            org_id,
            now,
        )
        return [_activation_link(record) for record in records]

    async def revoke_pending(self, org_id: str, now: datetime) -> int:
        result = await self._connection.execute(
            """
            UPDATE activation_links SET revoked_at = $2
            WHERE org_id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2
            """,
            org_id,
            now,
        )
        return int(result.rsplit(" ", 1)[1])


class PostgresOAuthStates:
    def __init__(self, connection: asyncpg.Connection, cipher: TokenCipher) -> None:
        self._connection = connection
        self._cipher = cipher

    async def add(self, state_hash: str, state: OAuthState) -> None:
        await self._connection.execute(
            """
            INSERT INTO oauth_states (state_hash, connection_type, org_id, user_id, activation_link_id, code_verifier,
                                      created_at, expires_at, browser_hash, session_hash)
            VALUES ($1, $2, $3, $4, $5, $6, now(), $7, $8, $9)
            """,
            state_hash,
            state.connection_type.value,
            state.org_id,
            state.user_id,
            state.activation_link_id,
            self._cipher.encrypt(state.code_verifier, state_hash),
            state.expires_at,
            state.browser_hash,
            state.session_hash,
        )

    async def pending(self, state_hash: str, now: datetime) -> OAuthState | None:
        record = await self._connection.fetchrow(
            "SELECT * FROM oauth_states WHERE state_hash = $1 AND expires_at > $2", state_hash, now
        )
        return self._state(record) if record else None

    async def bind(self, state_hash: str, browser_hash: str, now: datetime) -> OAuthState | None:
        record = await self._connection.fetchrow(
            """
            UPDATE oauth_states SET browser_hash = $2
            WHERE state_hash = $1 AND browser_hash IS NULL AND expires_at > $3 RETURNING *
            """,
            state_hash,
            browser_hash,
            now,
        )
        return self._state(record) if record else None

    async def take(self, state_hash: str, browser_hash: str | None, now: datetime) -> OAuthState | None:
        record = await self._connection.fetchrow(
            "DELETE FROM oauth_states WHERE state_hash = $1 AND browser_hash = $2 RETURNING *", state_hash, browser_hash
        )
        if record is None or record["expires_at"] <= now:
            return None
        return self._state(record)

    async def spend(self, state_hash: str) -> None:
        await self._connection.execute("DELETE FROM oauth_states WHERE state_hash = $1", state_hash)

    def _state(self, record: asyncpg.Record) -> OAuthState:
        return OAuthState(
            connection_type=ConnectionType(record["connection_type"]),
            org_id=record["org_id"],
            user_id=record["user_id"],
            activation_link_id=str(record["activation_link_id"]) if record["activation_link_id"] else None,
            code_verifier=self._cipher.decrypt(record["code_verifier"], record["state_hash"]),
            expires_at=record["expires_at"],
            browser_hash=record["browser_hash"],
            session_hash=record["session_hash"],
        )


class PostgresJobs:
    """pgqueuer's queue, written on the unit of work's own connection: a job exists only if its change commits."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._queries = Queries.from_asyncpg_connection(connection)

    async def enqueue(self, kind: str, payload: dict[str, object], dedupe_key: str | None = None) -> None:
        await self._queries.enqueue(
            kind, json.dumps(payload).encode(), dedupe_key=dedupe_key, headers=job_headers(), on_conflict="skip"
        )


class PostgresWebhookLog:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def accept(self, event_key: str, event: str, now: datetime) -> bool:
        accepted = await self._connection.fetchval(
            """
            INSERT INTO webhook_events (event_key, event, received_at) VALUES ($1, $2, $3)
            ON CONFLICT (event_key) DO NOTHING RETURNING true
            """,
            event_key,
            event,
            now,
        )
        return bool(accepted)


class PostgresAuditTrail:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def record(self, event: AuditEvent) -> None:
        await self._connection.execute(
            """
            INSERT INTO audit_events (org_id, at, actor, action, connection_id, connection_type,
                                      user_id, reason, details)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """,
            event.org_id,
            event.at,
            event.actor,
            event.action,
            event.connection_id,
            event.connection_type.value if event.connection_type else None,
            event.user_id,
            event.reason,
            json.dumps(event.details),
        )

    async def last_organization_disconnection(self, org_id: str) -> Disconnection | None:
        # The actor is `user:<id>` or `api_key:<label> as user:<id>`: the member is the last `user:` part.
        record = await self._connection.fetchrow(
            """
            SELECT a.at, m.name, (a.details ->> 'affected_members')::int AS affected_members
            FROM (
                SELECT at, actor, details FROM audit_events
                WHERE org_id = $1 AND connection_type = 'organization' AND action = 'disconnected'
                ORDER BY at DESC, id DESC LIMIT 1
            ) a
            LEFT JOIN members m ON m.org_id = $1 AND m.user_id = substring(a.actor from 'user:(.*)$')
            """,
            org_id,
        )
        if record is None:
            return None
        return Disconnection(at=record["at"], by=record["name"], affected_members=record["affected_members"])


def _activation_link(record: asyncpg.Record) -> ActivationLink:
    return ActivationLink(
        id=str(record["id"]),
        org_id=record["org_id"],
        created_by=record["created_by"],
        emailed_to=record["emailed_to"],
        created_at=record["created_at"],
        expires_at=record["expires_at"],
        used_at=record["used_at"],
        revoked_at=record["revoked_at"],
    )


def _organization(record: asyncpg.Record) -> Organization:
    return Organization(
        org_id=record["org_id"],
        name=record["name"],
        policy=Policy(allow_members_to_remove=record["allow_members_to_remove"]),
        created_at=record["created_at"],
        updated_at=record["updated_at"],
    )


def _member(record: asyncpg.Record) -> Member:
    return Member(
        org_id=record["org_id"],
        user_id=record["user_id"],
        email=record["email"],
        name=record["name"],
        role=Role(record["role"]),
        organization_removed=record["organization_removed"],
        created_at=record["created_at"],
        updated_at=record["updated_at"],
    )
