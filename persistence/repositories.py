"""Repositories behind the domain's ports: SQL in, domain Structs out.

Piccolo owns the schema, migrations, engine and transactions; queries are written in SQL
because the upserts and the members table need SQL the query builder cannot express, and
one style reads better than two.
"""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg
from pgqueuer.queries import Queries

from domain.errors import (
    ConnectionChangedConcurrently,
    MemberOfAnotherOrganization,
    ZoomAccountServesAnotherOrganization,
    ZoomUserAlreadyConnected,
)
from domain.identifiers import normalize_email
from domain.model import (
    Connection,
    ConnectionStatus,
    ConnectionType,
    Member,
    Organization,
    Policy,
    Role,
    Seat,
    ZoomUser,
)
from domain.ports import ActivationLink, AuditEvent, MemberInput, OAuthState
from domain.zoom import TokenSet
from persistence.correlation import job_headers
from persistence.token_cipher import TokenCipher

#: Zoom users written per statement by a seat resync.
SYNC_ROWS = 20_000


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
                [normalize_email(member.email) for member in members],
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


class PostgresConnections:
    def __init__(self, connection: asyncpg.Connection, cipher: TokenCipher) -> None:
        self._connection = connection
        self._cipher = cipher

    async def organization(self, org_id: str) -> Connection | None:
        record = await self._connection.fetchrow(
            "SELECT * FROM connections WHERE org_id = $1 AND type = 'organization'", org_id
        )
        return _connection(record) if record else None

    async def personal(self, org_id: str, user_id: str) -> Connection | None:
        record = await self._connection.fetchrow(
            "SELECT * FROM connections WHERE org_id = $1 AND type = 'personal' AND user_id = $2",
            org_id,
            user_id,
        )
        return _connection(record) if record else None

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
            normalize_email(email),
        )
        if record is None:
            return None
        return Seat(
            user_id=record["user_id"],
            zoom_user_id=record["zoom_user_id"],
            zoom_email=record["email_normalized"],
        )

    async def add(self, connection: Connection) -> None:
        try:
            await self._connection.execute(
                """
                INSERT INTO connections (id, org_id, type, user_id, zoom_account_id, zoom_user_id, zoom_email,
                                         status, status_reason, status_changed_at, connected_at, last_verified_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                """,
                connection.id,
                connection.org_id,
                connection.type.value,
                connection.user_id,
                connection.zoom_account_id,
                connection.zoom_user_id,
                connection.zoom_email,
                connection.status.value,
                connection.status_reason,
                connection.status_changed_at,
                connection.connected_at,
                connection.last_verified_at,
            )
        except asyncpg.UniqueViolationError:
            # Two connects of the same member (or two activations) raced; the first one won.
            raise ConnectionChangedConcurrently(
                "Zoom was just connected here by another request; reload to see it."
            ) from None
        claimed = await self._connection.fetchval(
            """
            INSERT INTO zoom_identity_claims (claim, org_id, user_id, connection_id)
            VALUES ($1, $2, $3, $4) ON CONFLICT (claim) DO NOTHING RETURNING claim
            """,
            _claim(connection),
            connection.org_id,
            connection.user_id,
            connection.id,
        )
        if claimed is None:
            if connection.type is ConnectionType.PERSONAL:
                raise ZoomUserAlreadyConnected(
                    f"The Zoom user {connection.zoom_email} is already connected by another person."
                )
            raise ZoomAccountServesAnotherOrganization(
                "This Zoom account is already connected to another organization."
            )

    async def store_tokens(self, connection: Connection, tokens: TokenSet) -> None:
        await self._connection.execute(
            """
            UPDATE connections SET access_token = $3, refresh_token = $4, access_token_expires_at = $5, scopes = $6
            WHERE org_id = $1 AND id = $2
            """,
            connection.org_id,
            connection.id,
            self._cipher.encrypt(tokens.access_token, connection.id),
            self._cipher.encrypt(tokens.refresh_token, connection.id),
            tokens.expires_at,
            tokens.scope,
        )

    async def tokens(self, connection: Connection) -> TokenSet | None:
        record = await self._connection.fetchrow(
            """
            SELECT id, access_token, refresh_token, access_token_expires_at, scopes FROM connections
            WHERE org_id = $1 AND id = $2
            """,
            connection.org_id,
            connection.id,
        )
        return self._tokens(record) if record else None

    def _tokens(self, record: asyncpg.Record) -> TokenSet | None:
        if record["refresh_token"] is None:
            return None
        row_id = str(record["id"])
        return TokenSet(
            access_token=self._cipher.decrypt(record["access_token"], row_id),
            refresh_token=self._cipher.decrypt(record["refresh_token"], row_id),
            expires_at=record["access_token_expires_at"],
            scope=record["scopes"],
        )

    async def locked(self, connection: Connection) -> Connection | None:
        found = await self.lock(connection)
        return found[0] if found else None

    async def lock(self, connection: Connection) -> tuple[Connection, TokenSet | None] | None:
        """The connection's row locked until the transaction ends: one token refresh at a time, across processes."""
        record = await self._connection.fetchrow(
            "SELECT * FROM connections WHERE org_id = $1 AND id = $2 FOR UPDATE", connection.org_id, connection.id
        )
        if record is None:
            return None
        return _connection(record), self._tokens(record)

    async def set_status(
        self, connection: Connection, status: ConnectionStatus, reason: str | None, now: datetime
    ) -> None:
        await self._connection.execute(
            """
            UPDATE connections SET status = $3, status_reason = $4, status_changed_at = $5
            WHERE org_id = $1 AND id = $2
            """,
            connection.org_id,
            connection.id,
            status.value,
            reason,
            now,
        )

    async def forget_tokens(self, connection: Connection) -> None:
        await self._connection.execute(
            """
            UPDATE connections SET access_token = NULL, refresh_token = NULL, access_token_expires_at = NULL
            WHERE org_id = $1 AND id = $2
            """,
            connection.org_id,
            connection.id,
        )

    async def mark_verified(self, connection: Connection, now: datetime) -> None:
        await self._connection.execute(
            "UPDATE connections SET last_verified_at = $3 WHERE org_id = $1 AND id = $2",
            connection.org_id,
            connection.id,
            now,
        )

    async def claimed(self, claim: str) -> Connection | None:
        record = await self._connection.fetchrow(
            """
            SELECT c.* FROM zoom_identity_claims z
            JOIN connections c ON c.org_id = z.org_id AND c.id = z.connection_id
            WHERE z.claim = $1
            """,
            claim,
        )
        return _connection(record) if record else None

    async def by_id(self, org_id: str, connection_id: str) -> Connection | None:
        record = await self._connection.fetchrow(
            "SELECT * FROM connections WHERE org_id = $1 AND id = $2::uuid", org_id, connection_id
        )
        return _connection(record) if record else None

    async def all_with_tokens(self) -> list[Connection]:
        records = await self._connection.fetch("SELECT * FROM connections WHERE refresh_token IS NOT NULL")
        return [_connection(record) for record in records]

    async def live_organization_connections(self) -> list[Connection]:
        records = await self._connection.fetch(
            "SELECT * FROM connections WHERE type = 'organization' AND status IN ('active', 'admin_lost')"
        )
        return [_connection(record) for record in records]

    async def sync_zoom_users(self, connection: Connection, users: list[ZoomUser]) -> int:
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
        wanted = {user.zoom_user_id: (normalize_email(user.email), user.status, user.role_id) for user in users}
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
            zoom_user_ids, emails, statuses, role_ids = (list(column) for column in zip(*fresh[start : start + SYNC_ROWS]))
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

    async def regrant(self, connection: Connection, zoom_user_id: str, zoom_email: str, now: datetime) -> Connection:
        """The same Zoom account approved again, maybe by another admin: the row, and its seats, stay."""
        record = await self._connection.fetchrow(
            """
            UPDATE connections SET zoom_user_id = $3, zoom_email = $4, status = 'active', status_reason = NULL,
                                   status_changed_at = $5, connected_at = $5, last_verified_at = $5
            WHERE org_id = $1 AND id = $2 RETURNING *
            """,
            connection.org_id,
            connection.id,
            zoom_user_id,
            zoom_email,
            now,
        )
        return _connection(record)

    async def upsert_zoom_user(self, connection: Connection, user: ZoomUser) -> None:
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
            normalize_email(user.email),
            user.status,
            user.role_id,
        )

    async def update_zoom_user(
        self, connection: Connection, zoom_user_id: str, email: str | None, status: str | None
    ) -> None:
        await self._connection.execute(
            """
            UPDATE zoom_users SET email_normalized = coalesce($3, email_normalized),
                                  status = coalesce($4, status)
            WHERE org_id = $1 AND zoom_user_id = $2
            """,
            connection.org_id,
            zoom_user_id,
            normalize_email(email) if email is not None else None,
            status,
        )

    async def delete_zoom_user(self, connection: Connection, zoom_user_id: str) -> None:
        await self._connection.execute(
            "DELETE FROM zoom_users WHERE org_id = $1 AND zoom_user_id = $2", connection.org_id, zoom_user_id
        )

    async def delete(self, connection: Connection) -> None:
        await self._connection.execute(
            "DELETE FROM connections WHERE org_id = $1 AND id = $2", connection.org_id, connection.id
        )


class PostgresActivationLinks:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def add(self, link: ActivationLink, token_hash: str) -> None:
        await self._connection.execute(
            """
            INSERT INTO activation_links (id, org_id, token_hash, created_by, zoom_admin_email, created_at, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """,
            link.id,
            link.org_id,
            token_hash,
            link.created_by,
            link.zoom_admin_email,
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
            INSERT INTO oauth_states (state_hash, purpose, org_id, user_id, activation_link_id, code_verifier,
                                      created_at, expires_at, browser_hash, session_hash)
            VALUES ($1, $2, $3, $4, $5, $6, now(), $7, $8, $9)
            """,
            state_hash,
            state.purpose,
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

    def _state(self, record: asyncpg.Record) -> OAuthState:
        return OAuthState(
            purpose=record["purpose"],
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


def _claim(connection: Connection) -> str:
    if connection.type is ConnectionType.PERSONAL:
        return f"user:{connection.zoom_user_id}"
    return f"account:{connection.zoom_account_id}"


def _activation_link(record: asyncpg.Record) -> ActivationLink:
    return ActivationLink(
        id=str(record["id"]),
        org_id=record["org_id"],
        created_by=record["created_by"],
        zoom_admin_email=record["zoom_admin_email"],
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


def _connection(record: asyncpg.Record) -> Connection:
    return Connection(
        id=str(record["id"]),
        org_id=record["org_id"],
        type=ConnectionType(record["type"]),
        user_id=record["user_id"],
        zoom_account_id=record["zoom_account_id"],
        zoom_user_id=record["zoom_user_id"],
        zoom_email=record["zoom_email"],
        status=ConnectionStatus(record["status"]),
        status_reason=record["status_reason"],
        status_changed_at=record["status_changed_at"],
        connected_at=record["connected_at"],
        last_verified_at=record["last_verified_at"],
    )
