"""The database's lifecycle: pool, migrations, readiness and units of work."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import msgspec
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

from persistence.connections import PostgresConnections
from persistence.events import (
    PostgresDeliveries,
    PostgresEventEndpoints,
    PostgresOutbox,
)
from persistence.housekeeping import PostgresHousekeeping
from persistence.key_rotation import ring_opens_stored_secrets
from persistence.meetings import PostgresMeetingBudget, PostgresMeetings
from persistence.members_table import PostgresMembersTable
from persistence.remote_sessions import PostgresBookings, PostgresRemoteSessions
from persistence.repositories import (
    PostgresActivationLinks,
    PostgresAuditTrail,
    PostgresJobs,
    PostgresMembers,
    PostgresOAuthStates,
    PostgresOrganizations,
    PostgresWebhookLog,
)
from persistence.sessions import PostgresSessions
from persistence.token_cipher import TokenCipher
from persistence.tokens import PostgresTokenVault
from persistence.zoom_directory import PostgresZoomDirectory

MIGRATIONS_LOCK = 7_305_142_881  # advisory lock id: one migrator at a time across processes
MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")


_engine: PostgresEngine | None = None


def engine() -> PostgresEngine:
    """piccolo_conf's engine, found once: finding it imports piccolo_conf again each time, which every
    pooled connection a request takes would pay."""
    global _engine
    if _engine is None:
        found = engine_finder()
        assert isinstance(found, PostgresEngine), "piccolo_conf.DB must be a PostgresEngine"
        _engine = found
    return _engine


class PoolLimits(msgspec.Struct, frozen=True, kw_only=True):
    """How the pool and PostgreSQL defend themselves against requests that hold on too long."""

    min_size: int = 2
    max_size: int = 10
    #: Waiting longer than this for a pooled connection answers 503 instead of queueing without end.
    acquire_timeout_s: float = 10.0
    #: PostgreSQL ends a statement running longer than this.
    statement_timeout_s: float = 30.0
    #: PostgreSQL ends a session left idle inside a transaction this long (a Zoom call made inside a
    #: transaction waits at most about 45 s: 4 attempts of ROOMLINK_ZOOM_TIMEOUT_S plus backoff).
    idle_in_transaction_timeout_s: float = 60.0
    #: Closing the pool waits this long for connections in use, then terminates them.
    close_timeout_s: float = 3.0


class DatabaseBusy(Exception):
    """No pooled connection became free in time: the caller should try again shortly."""


_limits = PoolLimits()


async def open_pool(limits: PoolLimits | None = None) -> None:
    global _limits
    _limits = limits or PoolLimits()
    await engine().start_connection_pool(
        min_size=_limits.min_size,
        max_size=_limits.max_size,
        reset=_keep_session,
        server_settings={
            "statement_timeout": str(int(_limits.statement_timeout_s * 1000)),
            "idle_in_transaction_session_timeout": str(int(_limits.idle_in_transaction_timeout_s * 1000)),
            # Roomlink's statements are short; JIT compiling costs 20-100 ms each time a plan's estimate
            # passes jit_above_cost, which the triggers' cached plans did for good after one 80,000-row
            # resync (every later member change then compiled its trigger queries again).
            "jit": "off",
        },
    )


async def _keep_session(_: asyncpg.Connection) -> None:
    """Skip asyncpg's reset query on every release: Roomlink never changes session state
    (no SET, LISTEN or session advisory locks on pooled connections), so it would be a wasted round trip."""


async def close_pool() -> None:
    """Bounded: connections still in use after `close_timeout_s` are terminated, so shutdown never hangs."""
    pool = engine().pool
    if pool is None:
        return
    engine().pool = None
    try:
        await asyncio.wait_for(pool.close(), _limits.close_timeout_s)
    except TimeoutError:
        pool.terminate()


async def migrate() -> None:
    """Apply pending migrations; safe to call from several processes at once."""
    connection = await engine().get_new_connection()
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATIONS_LOCK)
        result = await run_forwards(app_name="persistence")
        if not result.success:
            raise RuntimeError(f"migrations failed: {result.message}")
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATIONS_LOCK)
        await connection.close()


@functools.cache
def known_migration_ids() -> frozenset[str]:
    ids = set()
    for name in os.listdir(MIGRATIONS_DIR):
        if name.startswith("m") and name.endswith(".py"):
            with open(os.path.join(MIGRATIONS_DIR, name)) as source:
                for line in source:
                    if line.startswith("ID = "):
                        ids.add(line.split("=", 1)[1].strip().strip('"'))
    return frozenset(ids)


async def is_ready() -> bool:
    """The database answers, every migration we ship has been applied, and the key ring opens what is stored."""
    try:
        async with connection(acquire_timeout_s=1.0) as db:
            applied = await db.fetch("SELECT name FROM migration WHERE app_name = 'persistence'")
            if not known_migration_ids() <= {record["name"] for record in applied}:
                return False
            return _cipher is not None and await ring_opens_stored_secrets(db, _cipher)
    except (OSError, asyncpg.PostgresError, DatabaseBusy):
        return False


@asynccontextmanager
async def connection(acquire_timeout_s: float | None = None) -> AsyncIterator[asyncpg.Connection]:
    pool = engine().pool
    try:
        acquired = await pool.acquire(timeout=acquire_timeout_s or _limits.acquire_timeout_s)
    except TimeoutError:
        raise DatabaseBusy("every database connection is in use") from None
    try:
        yield acquired
    finally:
        await pool.release(acquired)


class PostgresUnitOfWork:
    """One transaction; leaving the block without `commit()` rolls everything back.

    A read-only unit of work opens no transaction (each read sees committed data) and refuses to commit.
    Committing first turns the facts the transaction changed into the host product's events (R24).
    """

    def __init__(self, db: asyncpg.Connection, cipher: TokenCipher, read_only: bool = False) -> None:
        self.organizations = PostgresOrganizations(db)
        self.members = PostgresMembers(db)
        self.connections = PostgresConnections(db)
        self.tokens = PostgresTokenVault(db, cipher)
        self.zoom_users = PostgresZoomDirectory(db)
        self.activation_links = PostgresActivationLinks(db)
        self.oauth_states = PostgresOAuthStates(db, cipher)
        self.jobs = PostgresJobs(db)
        self.webhooks = PostgresWebhookLog(db)
        self.members_table = PostgresMembersTable(db)
        self.audit = PostgresAuditTrail(db)
        self.sessions = PostgresSessions(db)
        self.housekeeping = PostgresHousekeeping(db)
        self.outbox = PostgresOutbox(db, self.jobs)
        self.event_endpoints = PostgresEventEndpoints(db, cipher)
        self.deliveries = PostgresDeliveries(db, cipher)
        self.meetings = PostgresMeetings(db)
        self.meeting_budget = PostgresMeetingBudget(db)
        self.remote_sessions = PostgresRemoteSessions(db)
        self.bookings = PostgresBookings(db)
        self._db = db
        self._transaction = None if read_only else db.transaction()
        self._committed = False

    async def __aenter__(self) -> PostgresUnitOfWork:
        if self._transaction is not None:
            await self._transaction.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._transaction is not None and not self._committed:
            await self._transaction.rollback()

    async def commit(self) -> None:
        if self._transaction is None:
            raise RuntimeError("a read-only unit of work cannot commit")
        await self.outbox.flush()
        await self._transaction.commit()
        self._committed = True


_cipher: TokenCipher | None = None


def use_cipher(cipher: TokenCipher) -> None:
    """The key ring tokens are sealed with; configured once per process at start."""
    global _cipher
    _cipher = cipher


@asynccontextmanager
async def unit_of_work(read_only: bool = False) -> AsyncIterator[PostgresUnitOfWork]:
    if _cipher is None:
        raise RuntimeError("persistence.database.use_cipher() was not called")
    async with connection() as db, PostgresUnitOfWork(db, _cipher, read_only) as uow:
        yield uow
