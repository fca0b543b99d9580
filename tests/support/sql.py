"""Reading and arranging rows with SQL in tests, through persistence's public pool (never a unit of work's
private connection)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from persistence import database
from persistence.database import PostgresUnitOfWork
from persistence.token_cipher import KeyRing, TokenCipher


@asynccontextmanager
async def raw_sql() -> AsyncIterator[asyncpg.Connection]:
    """A connection from the test process's pool (the `db` fixture opens it), given back when the block ends.

    No transaction is open: each statement commits on its own, and each read sees what is committed. Statements
    that must land together go in `async with raw_sql() as sql, sql.transaction():`.
    """
    async with database.connection() as connection:
        yield connection


@asynccontextmanager
async def unit_of_work_with_sql() -> AsyncIterator[tuple[PostgresUnitOfWork, asyncpg.Connection]]:
    """A unit of work and the pooled connection it runs on: repository calls and SQL statements in one
    transaction (committed by `uow.commit()`, rolled back otherwise), for the few tests and benchmarks that
    arrange rows no repository writes, or read what the transaction itself did, alongside a use case."""
    cipher = TokenCipher(KeyRing.from_config(os.environ["ROOMLINK_TOKEN_KEYS"]))
    async with raw_sql() as sql, PostgresUnitOfWork(sql, cipher) as uow:
        yield uow, sql
