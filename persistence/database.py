"""The database's lifecycle: pool, migrations, readiness and units of work."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import asyncpg
import msgspec
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

from persistence import cached_reads
from persistence.cached_reads import CachedReadUnitOfWork
from persistence.change_feed import ChangeFeed
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
from persistence.read_cache import ReadCache
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


def connection(acquire_timeout_s: float | None = None) -> _PooledConnection:
    """`async with connection() as db:` a pooled connection, given back when the block ends."""
    return _PooledConnection(acquire_timeout_s)


class _PooledConnection:
    # A class, not @asynccontextmanager: every request takes one or two, and a generator costs more.
    __slots__ = ("_acquire_timeout_s", "_pool", "_connection")

    def __init__(self, acquire_timeout_s: float | None) -> None:
        self._acquire_timeout_s = acquire_timeout_s

    async def __aenter__(self) -> asyncpg.Connection:
        self._pool = engine().pool
        try:
            self._connection = await self._pool.acquire(timeout=self._acquire_timeout_s or _limits.acquire_timeout_s)
        except TimeoutError:
            raise DatabaseBusy("every database connection is in use") from None
        return self._connection

    async def __aexit__(self, *exc_info: object) -> None:
        await self._pool.release(self._connection)


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
        cached_reads.wrote()


_cipher: TokenCipher | None = None


def use_cipher(cipher: TokenCipher) -> None:
    """The key ring tokens are sealed with; configured once per process at start."""
    global _cipher
    _cipher = cipher


_feed: ChangeFeed | None = None


async def start_read_cache(capacity_rows: int, observe: Callable[[str], None] | None = None) -> None:
    """Server processes: read-only units of work answer the hot reads from a cache that PostgreSQL's
    notifications keep true (persistence/cached_reads.py), of at most `capacity_rows` rows' worth (a page
    of members costs its rows, anything else 1). 0: no cache, every read asks PostgreSQL."""
    global _feed
    if capacity_rows <= 0 or _feed is not None:
        return
    _feed = ChangeFeed(ReadCache(capacity_rows), _listening_connection, observe=observe)
    await _feed.start()


async def stop_read_cache() -> None:
    global _feed
    feed, _feed = _feed, None
    if feed is not None:
        await feed.stop()


def read_cache_feed() -> ChangeFeed | None:
    """The process's change feed while its read cache is on (open pages hear their organization's changes)."""
    return _feed


async def _listening_connection() -> asyncpg.Connection:
    # A barrier is a transaction of its own (a NOTIFY): nothing of it needs to reach the disk.
    config = dict(engine().config)
    settings = {**config.pop("server_settings", {}), "synchronous_commit": "off", "application_name": "roomlink change feed"}
    return await asyncpg.connect(**config, server_settings=settings, timeout=5)


def unit_of_work(read_only: bool = False) -> AbstractAsyncContextManager[PostgresUnitOfWork]:
    """`async with unit_of_work() as tx:` one transaction on a pooled connection (domain.ports.UnitOfWorkFactory).
    Read-only ones, in a server process, answer the hot reads from the read cache (start_read_cache)."""
    if _cipher is None:
        raise RuntimeError("persistence.database.use_cipher() was not called")
    if read_only and _feed is not None:
        return CachedReadUnitOfWork(_feed, _read_only_database)
    return _DatabaseUnitOfWork(read_only)


def _read_only_database() -> _DatabaseUnitOfWork:
    return _DatabaseUnitOfWork(read_only=True)


class _DatabaseUnitOfWork:
    __slots__ = ("_read_only", "_pooled", "_uow")

    def __init__(self, read_only: bool) -> None:
        self._read_only = read_only

    async def __aenter__(self) -> PostgresUnitOfWork:
        self._pooled = connection()
        db = await self._pooled.__aenter__()
        try:
            self._uow = PostgresUnitOfWork(db, _cipher, self._read_only)
            return await self._uow.__aenter__()
        except BaseException:
            await self._pooled.__aexit__(None, None, None)
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            await self._uow.__aexit__(*exc_info)
        finally:
            await self._pooled.__aexit__(*exc_info)


def raised_by_the_driver(error: BaseException) -> bool:
    """The error came from inside asyncpg (an OSError there is the database out of reach, not Roomlink's own)."""
    traceback = error.__traceback__
    while traceback is not None:
        if "/asyncpg/" in traceback.tb_frame.f_code.co_filename.replace("\\", "/"):
            return True
        traceback = traceback.tb_next
    return False
