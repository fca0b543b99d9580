"""The fakes' store with what domain.token_refresh needs beyond tests/unit/fakes.py: a row lock that reads the
latest committed row (as `SELECT … FOR UPDATE` does under READ COMMITTED) and holds others off until the
transaction ends, and Zoom's token endpoint, scripted."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from domain.model import Connection
from domain.token_refresh import GrantRevoked
from domain.zoom import TokenSet, ZoomApp
from tests.unit.fakes import FakeConnections, FakeStore, FakeUnitOfWork, Tables


class LockingStore(FakeStore):
    def __init__(self) -> None:
        super().__init__()
        self._row_locks: dict[str, asyncio.Lock] = {}
        #: Run once each when a lock is next asked for: another process committing just before it is granted.
        self.before_lock: list[Callable[[], None]] = []
        #: Connection ids whose row a transaction holds locked now.
        self.locked: set[str] = set()

    def uow(self, read_only: bool = False) -> LockingUnitOfWork:
        return LockingUnitOfWork(self)

    def row_lock(self, connection_id: str) -> asyncio.Lock:
        return self._row_locks.setdefault(connection_id, asyncio.Lock())

    def commit_elsewhere(self, connection: Connection, tokens: TokenSet) -> None:
        """Another process stored these tokens (its own refresh) and committed."""
        self.tables.tokens[connection.id] = tokens


class LockingUnitOfWork(FakeUnitOfWork):
    def __init__(self, store: LockingStore) -> None:
        super().__init__(store)
        self.connections = LockingConnections(self._tables, store, self)
        self.held: list[str] = []

    async def __aexit__(self, *exc_info: object) -> None:
        store = self._store
        assert isinstance(store, LockingStore)
        for connection_id in self.held:
            store.locked.discard(connection_id)
            store.row_lock(connection_id).release()
        self.held.clear()


class LockingConnections(FakeConnections):
    def __init__(self, tables: Tables, store: LockingStore, uow: LockingUnitOfWork) -> None:
        super().__init__(tables)
        self._store = store
        self._uow = uow

    async def locked(self, connection: Connection) -> Connection | None:
        """The row as committed now, with its tokens (they live on the row), once the lock is granted; a
        transaction that holds it already is granted it again at once, as PostgreSQL does."""
        while self._store.before_lock:
            self._store.before_lock.pop(0)()
        if connection.id in self._uow.held:
            return self._t.connections.get(connection.id)
        await self._store.row_lock(connection.id).acquire()
        self._uow.held.append(connection.id)
        self._store.locked.add(connection.id)
        committed = self._store.tables
        current = committed.connections.get(connection.id)
        if current is None:
            self._t.connections.pop(connection.id, None)
            return None
        self._t.connections[connection.id] = current
        tokens = committed.tokens.get(connection.id)
        if tokens is None:
            self._t.tokens.pop(connection.id, None)
        else:
            self._t.tokens[connection.id] = tokens
        return current


class FakeTokenEndpoint:
    """Zoom's refresh: a new pair each time (Zoom rotates the refresh token); a refresh token spent once is
    refused after (`invalid_grant`), as Zoom does."""

    def __init__(self, store: LockingStore, now: datetime) -> None:
        self._store = store
        self.now = now
        #: (app, refresh token spent, whether the connection's row was locked meanwhile), per call.
        self.calls: list[tuple[ZoomApp, str, bool]] = []
        #: Connections whose grant Zoom no longer accepts: it answers invalid_grant to their refresh.
        self.revoked: set[str] = set()
        #: When set, raised (Zoom unreachable...).
        self.failure: Exception | None = None
        #: Awaited inside each refresh, so a test can hold one in flight.
        self.hold: asyncio.Event | None = None
        self._spent: set[str] = set()

    async def refresh(self, app: ZoomApp, connection: Connection, tokens: TokenSet) -> TokenSet:
        self.calls.append((app, tokens.refresh_token, connection.id in self._store.locked))
        if self.hold is not None:
            await self.hold.wait()
        if self.failure is not None:
            raise self.failure
        if connection.id in self.revoked or tokens.refresh_token in self._spent:
            raise GrantRevoked("Zoom no longer accepts the connection's grant (Invalid Token!)")
        self._spent.add(tokens.refresh_token)
        serial = len(self.calls)
        return TokenSet(
            access_token=f"refreshed-access-{serial}",
            refresh_token=f"refreshed-refresh-{serial}",
            expires_at=self.now + timedelta(hours=1),
            scope=tokens.scope,
        )
