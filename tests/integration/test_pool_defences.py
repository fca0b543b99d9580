"""The pool and PostgreSQL defend themselves: bounded waits, server-side timeouts, a bounded close."""

from __future__ import annotations

import time

import pytest

from persistence import database
from persistence.database import DatabaseBusy


async def test_pooled_connections_carry_statement_and_idle_in_transaction_timeouts(db):
    async with database.connection() as connection:
        assert await connection.fetchval("SHOW statement_timeout") == "30s"
        assert await connection.fetchval("SHOW idle_in_transaction_session_timeout") == "1min"


async def test_pooled_connections_never_jit_compile(db):
    """A trigger's plan cached after a large resync would otherwise be compiled again on every later
    member change, 20-100 ms each (the members benchmark's seeding stalled on it at 1,000,000)."""
    async with database.connection() as connection:
        assert await connection.fetchval("SHOW jit") == "off"


async def test_a_statement_past_the_timeout_is_cancelled_by_postgresql(db):
    import asyncpg

    async with database.connection() as connection:
        await connection.execute("SET statement_timeout = '50ms'")
        try:
            with pytest.raises(asyncpg.QueryCanceledError):
                await connection.execute("SELECT pg_sleep(2)")
        finally:
            await connection.execute("RESET statement_timeout")


async def test_waiting_for_a_connection_is_bounded_and_says_the_database_is_busy(db):
    held = [await database.engine().pool.acquire() for _ in range(database.engine().pool.get_max_size())]
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseBusy):
            async with database.connection(acquire_timeout_s=0.2):
                pass
        assert time.monotonic() - started < 2
    finally:
        for connection in held:
            await database.engine().pool.release(connection)
    async with database.connection() as connection:
        assert await connection.fetchval("SELECT 1") == 1


async def test_readiness_says_no_at_once_when_every_connection_is_taken(db):
    held = [await database.engine().pool.acquire() for _ in range(database.engine().pool.get_max_size())]
    try:
        started = time.monotonic()
        assert await database.is_ready() is False
        assert time.monotonic() - started < 3
    finally:
        for connection in held:
            await database.engine().pool.release(connection)
    assert await database.is_ready() is True


async def test_closing_the_pool_does_not_wait_for_a_connection_that_is_never_given_back(db, monkeypatch):
    monkeypatch.setattr(database, "_limits", database._limits)  # open_pool below sets its own; restored after
    session_pool = database.engine().pool
    database.engine().pool = None
    try:
        await database.open_pool(database.PoolLimits(min_size=1, max_size=2, close_timeout_s=0.3))
        stuck = await database.engine().pool.acquire()
        await stuck.execute("BEGIN")
        started = time.monotonic()
        await database.close_pool()
        assert time.monotonic() - started < 2
    finally:
        database.engine().pool = session_pool
