"""The read cache against real PostgreSQL: m0017's triggers announce changes, the change feed drops what they
made stale, its barrier orders a cached answer after every committed change, and a lost connection empties
the cache (persistence/read_cache.py, change_feed.py, cached_reads.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest

from domain.model import ConnectionType, Role
from domain.ports import MembersQuery
from persistence import database
from persistence.cached_reads import (
    CachedReadUnitOfWork,
    begin_read_point,
    end_read_point,
)
from persistence.change_feed import CHANNEL, ChangeFeed
from persistence.read_cache import MISSING, ReadCache
from server.clock import utcnow
from tests.support.builders import (
    add_connection,
    connection,
    create_organization,
    member,
    unique,
)
from tests.support.sql import raw_sql


@pytest.fixture
async def feed(db):
    feed = ChangeFeed(ReadCache(100), database._listening_connection, barrier_timeout_s=2.0, retry_s=0.1)
    await feed.start()
    assert feed.live
    yield feed
    await feed.stop()


def cached_reads(feed: ChangeFeed) -> CachedReadUnitOfWork:
    return CachedReadUnitOfWork(feed, database._read_only_database)


class Heard:
    """What `roomlink_changes` carries, on a listening connection of the test's own."""

    def __init__(self) -> None:
        self.payloads: list[str] = []
        self._connection: asyncpg.Connection | None = None

    async def __aenter__(self) -> Heard:
        self._connection = await database._listening_connection()
        await self._connection.add_listener(CHANNEL, lambda *args: self.payloads.append(args[3]))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._connection.close()

    async def settled(self) -> list[str]:
        """Everything committed so far has arrived: a notification of its own, sent last, is back."""
        back = asyncio.Event()
        await self._connection.add_listener("test_settled", lambda *args: back.set())
        await self._connection.execute("NOTIFY test_settled")
        await asyncio.wait_for(back.wait(), 5)
        return self.payloads


async def test_every_table_the_cached_reads_are_made_of_announces_its_organization_once_per_statement(db):
    org_id, other = unique("org"), unique("org")
    async with Heard() as heard:
        await create_organization(org_id, [member(f"{org_id}-{n}") for n in range(50)])
        await create_organization(other, [member(f"{other}-owner", Role.OWNER)])
        assert await heard.settled() == [org_id, other]  # 1 organization row and 50 members: one name each

        for statement in (
            "UPDATE organizations SET name = 'Renamed' WHERE org_id = $1",
            "UPDATE members SET name = name || '!' WHERE org_id = $1",
            "DELETE FROM members WHERE org_id = $1 AND user_id LIKE '%-4_'",
        ):
            heard.payloads.clear()
            async with raw_sql() as sql:
                await sql.execute(statement, org_id)
            assert await heard.settled() == [org_id], statement

        heard.payloads.clear()
        await add_connection(connection(org_id, ConnectionType.ORGANIZATION))  # connections, then its Zoom users
        async with raw_sql() as sql:
            await sql.execute(
                "INSERT INTO sessions (id, org_id, user_id, token_hash, csrf_token, created_at, expires_at)"
                " VALUES (gen_random_uuid(), $1, $2, $3, 'csrf', now(), now() + interval '1 hour')",
                org_id, f"{org_id}-1", unique("hash"),
            )
            await sql.execute("UPDATE members SET name = name WHERE org_id = 'nobody-at-all'")  # no rows: no name
        assert await heard.settled() == [org_id, org_id]


async def test_a_statement_over_more_than_a_hundred_organizations_names_them_all_at_once(db):
    prefix = unique("many")
    async with raw_sql() as sql:
        await sql.execute(
            "INSERT INTO organizations (org_id, name, allow_members_to_remove, created_at, updated_at)"
            " SELECT $1 || '-' || n, 'Org', false, now(), now() FROM generate_series(1, 101) AS n",
            prefix,
        )
    async with Heard() as heard:
        async with raw_sql() as sql:
            await sql.execute("UPDATE organizations SET name = 'Many' WHERE org_id LIKE $1 || '-%'", prefix)
        assert await heard.settled() == ["*"]


async def test_a_change_committed_before_the_barrier_is_never_answered_from_the_cache(feed):
    org_id = unique("org")
    owner = f"{org_id}-owner"
    await create_organization(org_id, [member(owner, Role.OWNER)])
    assert await feed.caught_up()  # else the creation's own announcement may arrive during the read: not kept
    async with cached_reads(feed) as tx:
        assert (await tx.members.find(owner)).role is Role.OWNER  # read, and kept
    assert feed.cache.get(("members.find", owner)) is not MISSING

    for round_ in range(20):  # the notification races the next read every time; the barrier decides
        role = (Role.ADMIN, Role.OWNER)[round_ % 2]
        async with raw_sql() as sql:
            await sql.execute("UPDATE members SET role = $3 WHERE org_id = $1 AND user_id = $2", org_id, owner, role.value)
        async with cached_reads(feed) as tx:
            assert (await tx.members.find(owner)).role is role


async def test_a_hit_takes_no_database_connection_and_a_request_shares_one_barrier(feed):
    org_id = unique("org")
    await create_organization(org_id, [member(f"{org_id}-owner", Role.OWNER)])
    query = MembersQuery(org_id=org_id, limit=50)
    assert await feed.caught_up()
    async with cached_reads(feed) as tx:
        first = await tx.members_table.page(query)
        await tx.members_table.overview(org_id)
    pool = database.engine().pool
    free_before = pool.get_idle_size()
    barriers = feed.barriers
    read_point = begin_read_point()
    try:
        for _ in range(3):  # the guard's read and the handler's, as one request makes them
            async with cached_reads(feed) as tx:
                assert await tx.members_table.page(query) is first
                assert await tx.members_table.overview(org_id) is not None
                assert tx._database is None  # no pooled connection was taken
    finally:
        end_read_point(read_point)
    assert feed.barriers == barriers + 1
    assert pool.get_idle_size() >= free_before


async def test_a_request_that_commits_a_change_reads_after_it_not_from_its_first_barrier(feed):
    org_id, elsewhere = unique("org"), unique("org")
    owner = f"{org_id}-owner"
    await create_organization(org_id, [member(owner, Role.OWNER)])
    await create_organization(elsewhere, [member(f"{elsewhere}-owner", Role.OWNER)])
    assert await feed.caught_up()
    async with cached_reads(feed) as tx:
        await tx.members.find(owner)  # kept
    read_point = begin_read_point()
    try:
        async with cached_reads(feed) as tx:
            assert (await tx.members.find(owner)).role is Role.OWNER  # the guard's read: the request's barrier
        barriers = feed.barriers
        async with cached_reads(feed) as tx:
            assert (await tx.members.find(owner)).role is Role.OWNER  # shares it
        assert feed.barriers == barriers
        async with database.unit_of_work() as tx:  # the handler commits a change (of another organization)
            await tx.organizations.save(elsewhere, "Renamed", utcnow())
            await tx.commit()
        async with cached_reads(feed) as tx:  # its later reads wait for a barrier after that commit
            assert (await tx.members.find(owner)).role is Role.OWNER
        assert feed.barriers == barriers + 1
        async with database.unit_of_work() as tx:  # and what it wrote itself, it reads
            await tx.members.save_many(org_id, [member(owner, Role.ADMIN)], utcnow())
            await tx.commit()
        async with cached_reads(feed) as tx:
            assert (await tx.members.find(owner)).role is Role.ADMIN
    finally:
        end_read_point(read_point)


async def test_an_answer_read_while_its_organization_changed_is_not_kept(feed):
    org_id = unique("org")
    await create_organization(org_id, [member(f"{org_id}-owner", Role.OWNER)])
    query = MembersQuery(org_id=org_id, limit=50)
    reading = asyncio.Event()
    changed = asyncio.Event()

    class SlowTable:
        """The page is read, then a change commits and is announced before the answer is kept."""

        def __init__(self, real) -> None:
            self._real = real

        async def page(self, query):
            answer = await self._real.page(query)
            reading.set()
            await changed.wait()
            return answer

    class SlowUnitOfWork:
        def __init__(self):
            self._inner = database._read_only_database()

        async def __aenter__(self):
            uow = await self._inner.__aenter__()
            uow.members_table = SlowTable(uow.members_table)
            return uow

        async def __aexit__(self, *exc_info):
            await self._inner.__aexit__(*exc_info)

    async def read() -> None:
        async with CachedReadUnitOfWork(feed, SlowUnitOfWork) as tx:
            await tx.members_table.page(query)

    reader = asyncio.create_task(read())
    await reading.wait()
    async with raw_sql() as sql:
        await sql.execute("UPDATE members SET name = 'Changed' WHERE org_id = $1", org_id)
    assert await feed.caught_up()  # the announcement has arrived
    changed.set()
    await reader
    assert feed.cache.get(("members_table.page", query)) is MISSING
    async with cached_reads(feed) as tx:
        assert [row.name for row in (await tx.members_table.page(query)).items] == ["Changed"]


async def test_a_lost_connection_empties_the_cache_and_reads_go_to_the_database_until_it_is_back(feed):
    org_id = unique("org")
    owner = f"{org_id}-owner"
    await create_organization(org_id, [member(owner, Role.OWNER)])
    assert await feed.caught_up()
    async with cached_reads(feed) as tx:
        await tx.members.find(owner)
    assert len(feed.cache) == 1
    async with raw_sql() as sql:
        assert await sql.fetchval("SELECT pg_terminate_backend($1)", feed.backend_pid)
    await eventually(lambda: len(feed.cache) == 0)  # emptied as soon as the connection is seen gone
    # Whatever the feed misses meanwhile, the next read sees.
    async with raw_sql() as sql:
        await sql.execute("UPDATE members SET role = 'admin' WHERE org_id = $1 AND user_id = $2", org_id, owner)
    async with cached_reads(feed) as tx:
        assert (await tx.members.find(owner)).role is Role.ADMIN
    await eventually(lambda: feed.live)  # listening again, on a connection of its own
    async with cached_reads(feed) as tx:
        assert (await tx.members.find(owner)).role is Role.ADMIN
    assert feed.cache.get(("members.find", owner)) is not MISSING
    async with cached_reads(feed) as tx:
        assert (await tx.members.find(owner)).role is Role.ADMIN


async def eventually(condition, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within the time")


async def test_nobodys_member_and_an_expired_session_are_never_answered_from_the_cache(feed):
    org_id = unique("org")
    await create_organization(org_id, [member(f"{org_id}-owner", Role.OWNER)])
    async with cached_reads(feed) as tx:
        assert await tx.members.find(f"{org_id}-stranger") is None
    assert len(feed.cache) == 0
    token_hash = unique("hash")
    async with raw_sql() as sql:
        now = await sql.fetchval("SELECT now()")
        await sql.execute(
            "INSERT INTO sessions (id, org_id, user_id, token_hash, csrf_token, created_at, expires_at)"
            " VALUES (gen_random_uuid(), $1, $2, $3, 'csrf', $4::timestamptz, $4::timestamptz + interval '1 minute')",
            org_id, f"{org_id}-owner", token_hash, now,
        )
    assert await feed.caught_up()
    async with cached_reads(feed) as tx:
        assert await tx.sessions.session(token_hash, now) is not None
    assert feed.cache.get(("sessions.session", token_hash)) is not MISSING
    async with cached_reads(feed) as tx:
        assert await tx.sessions.session(token_hash, now + timedelta(minutes=2)) is None


async def test_where_notifications_never_come_back_the_cache_stays_off_and_reads_do_not_wait(db):
    """As behind a connection pooler in transaction mode: LISTEN is accepted, nothing is ever delivered."""

    class Deaf:
        def __init__(self, connection: asyncpg.Connection) -> None:
            self._connection = connection

        async def add_listener(self, channel, callback) -> None:
            await self._connection.execute(f'LISTEN "{channel}"')  # accepted, and never heard

        def __getattr__(self, name):
            return getattr(self._connection, name)

    async def deaf_connection():
        return Deaf(await database._listening_connection())

    feed = ChangeFeed(ReadCache(100), deaf_connection, barrier_timeout_s=0.2, retry_s=0.2)
    await feed.start(wait_s=0.1)
    try:
        org_id = unique("org")
        owner = f"{org_id}-owner"
        await create_organization(org_id, [member(owner, Role.OWNER)])
        await asyncio.sleep(0.5)  # its proof barrier has timed out by now
        loop = asyncio.get_running_loop()
        for role in (Role.ADMIN, Role.OWNER, Role.ADMIN):
            async with raw_sql() as sql:
                await sql.execute("UPDATE members SET role = $3 WHERE org_id = $1 AND user_id = $2", org_id, owner, role.value)
            began = loop.time()
            async with cached_reads(feed) as tx:
                assert (await tx.members.find(owner)).role is role
            assert loop.time() - began < 0.15  # never a barrier's timeout
        assert not feed.live and len(feed.cache) == 0
    finally:
        await feed.stop()
