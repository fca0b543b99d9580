"""Tests find PostgreSQL as README.md says: TEST_DATABASE_URL, else 127.0.0.1:5432, else an embedded one.

Each test run works in a scratch database of its own, created here and dropped at the end.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from server.embedded_postgres import start_embedded_postgres

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
EMBEDDED_DATA = Path(__file__).resolve().parents[2] / ".roomlink" / "pgdata-test"


def server_url() -> str:
    if os.environ.get("TEST_DATABASE_URL"):
        return os.environ["TEST_DATABASE_URL"]
    if _answers("127.0.0.1", 5432):
        return LOCAL_SERVER
    return start_embedded_postgres(EMBEDDED_DATA)


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def create_scratch_database(url: str) -> str:
    name = f"roomlink_test_{os.getpid()}_{secrets.token_hex(3)}"

    async def create() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    return with_database(url, name)


def drop_scratch_database(server: str, scratch: str) -> None:
    name = urlsplit(scratch).path.lstrip("/")

    async def drop() -> None:
        connection = await asyncpg.connect(server)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(drop())
