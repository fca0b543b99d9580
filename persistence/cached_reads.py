"""A read-only unit of work for server processes: the hottest reads answer from this process's ReadCache
(persistence/read_cache.py), and a pooled connection is taken only when a read must go to the database.

The cached reads, each kept under the organization it belongs to:
- `members.find(user_id)`: who an API key acts as (every member call's guard); a user who is nobody's
  member is not kept, so it is asked again each time;
- `sessions.session(token_hash, now)`: who a session cookie is; an expired session never answers;
- `members_table.overview(org_id)`: the owner's page (the organization, its connection, the counts);
- `members_table.page(query)`: the first page of each view of the members table, up to `CACHED_PAGE_ROWS`
  rows (later pages and the CSV export's pages of 1,000 are read each time, so paging through a large
  organization does not fill the cache).

Freshness (read_cache.py): an entry answers only after the change feed's barrier, so an answer is never
older than the database's at the moment the read began. Any other repository of the unit of work works as
on a PostgresUnitOfWork, on a connection taken at its first use and given back when the block ends.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Hashable
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar, Token
from datetime import datetime
from typing import Any, TypeVar

from domain.model import Member
from domain.ports import MembersPage, MembersQuery, OrganizationOverview, SessionRecord
from persistence.change_feed import ChangeFeed
from persistence.read_cache import MISSING

T = TypeVar("T")

#: The largest first page kept (the API's largest page).
CACHED_PAGE_ROWS = 200


class CachedReadUnitOfWork:
    def __init__(self, feed: ChangeFeed, open_database: Callable[[], AbstractAsyncContextManager[Any]]) -> None:
        self._feed = feed
        self._open_database = open_database
        self._context: AbstractAsyncContextManager[Any] | None = None
        self._database: Any = None
        self._caught_up = False
        self.members = _Members(self, "members")
        self.sessions = _Sessions(self, "sessions")
        self.members_table = _MembersTable(self, "members_table")

    def __getattr__(self, name: str) -> _Deferred:
        if name.startswith("_"):
            raise AttributeError(name)
        repository = _Deferred(self, name)
        setattr(self, name, repository)
        return repository

    async def __aenter__(self) -> CachedReadUnitOfWork:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._context is not None:
            await self._context.__aexit__(*exc_info)

    async def commit(self) -> None:
        raise RuntimeError("a read-only unit of work cannot commit")

    async def database(self) -> Any:
        """The PostgresUnitOfWork behind this one, on a pooled connection taken the first time it is needed."""
        if self._database is None:
            context = self._open_database()
            self._database = await context.__aenter__()
            self._context = context
        return self._database

    async def cached(
        self,
        key: Hashable,
        read: Callable[[Any], Awaitable[T]],
        org_of: Callable[[T], str | None],
        cost: Callable[[T], int] = lambda _: 1,
    ) -> T:
        """The cache's answer for `key` once the feed is caught up; otherwise `read` on the database, kept
        under `org_of(value)` (None: not kept) at `cost(value)` of the cache's capacity."""
        cache = self._feed.cache
        if cache.get(key) is not MISSING and await self._fresh():
            value = cache.get(key)
            if value is not MISSING:
                self._feed.observe("hit")
                return value
        self._feed.observe("miss")
        generation = cache.generation
        value = await read(await self.database())
        org_id = org_of(value)
        if org_id is not None and self._feed.live:
            cache.put(key, org_id, value, generation, cost(value))
        return value

    async def _fresh(self) -> bool:
        """One barrier per request (ReadPoint), or per unit of work outside one."""
        if self._caught_up:
            return True
        point = _read_point.get()
        if point is not None and point.open and point.caught_up:
            self._caught_up = True
            return True
        self._caught_up = await self._feed.caught_up()
        if point is not None and point.open:
            point.caught_up = self._caught_up
        return self._caught_up


class ReadPoint:
    """A request's moment: its cached reads share the first one's barrier, so each is at least as fresh as
    the request's beginning, as if the request read everything then — until the request commits a change
    (`wrote`). Closed when the request ends, so a task it started cannot use it later."""

    __slots__ = ("caught_up", "open")

    def __init__(self) -> None:
        self.caught_up = False
        self.open = True


_read_point: ContextVar[ReadPoint | None] = ContextVar("roomlink_read_point", default=None)


def begin_read_point() -> Token[ReadPoint | None]:
    return _read_point.set(ReadPoint())


def wrote() -> None:
    """A transaction committed in this request: its later cached reads wait for a barrier of their own, which
    comes after that transaction's announcement, so a request always reads what it has just written."""
    point = _read_point.get()
    if point is not None:
        point.caught_up = False


def end_read_point(token: Token[ReadPoint | None]) -> None:
    point = _read_point.get()
    if point is not None:
        point.open = False
    _read_point.reset(token)


class _Deferred:
    """A repository of the database's unit of work, reached on its first call."""

    def __init__(self, uow: CachedReadUnitOfWork, name: str) -> None:
        self._uow = uow
        self._name = name

    def __getattr__(self, method: str) -> Callable[..., Awaitable[Any]]:
        if method.startswith("_"):
            raise AttributeError(method)

        async def call(*args: Any, **kwargs: Any) -> Any:
            repository = getattr(await self._uow.database(), self._name)
            answer = getattr(repository, method)(*args, **kwargs)
            if not inspect.isawaitable(answer):
                raise TypeError(f"{self._name}.{method} is not a coroutine: call it on a PostgresUnitOfWork")
            return await answer

        return call


class _Members(_Deferred):
    async def find(self, user_id: str) -> Member | None:
        return await self._uow.cached(
            ("members.find", user_id), lambda tx: tx.members.find(user_id), lambda member: member and member.org_id
        )


class _Sessions(_Deferred):
    async def session(self, token_hash: str, now: datetime) -> SessionRecord | None:
        record = await self._uow.cached(
            ("sessions.session", token_hash),
            lambda tx: tx.sessions.session(token_hash, now),
            lambda found: found and found.org_id,
        )
        return record if record is not None and record.expires_at > now else None


class _MembersTable(_Deferred):
    async def overview(self, org_id: str) -> OrganizationOverview | None:
        return await self._uow.cached(
            ("members_table.overview", org_id), lambda tx: tx.members_table.overview(org_id), lambda _: org_id
        )

    async def page(self, query: MembersQuery) -> MembersPage:
        if query.after is not None or query.limit > CACHED_PAGE_ROWS:
            return await (await self._uow.database()).members_table.page(query)
        return await self._uow.cached(
            ("members_table.page", query),
            lambda tx: tx.members_table.page(query),
            lambda _: query.org_id,
            lambda page: max(1, len(page.items)),
        )
