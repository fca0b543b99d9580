from __future__ import annotations

import os

import pytest

from tests.support.database import create_scratch_database, drop_scratch_database, server_url

_scratch: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    # piccolo_conf reads DATABASE_URL when first imported, so it is set before any test module loads.
    server = server_url()
    scratch = create_scratch_database(server)
    _scratch.update(server=server, scratch=scratch)
    os.environ["DATABASE_URL"] = scratch


def pytest_unconfigure(config: pytest.Config) -> None:
    if _scratch:
        drop_scratch_database(_scratch["server"], _scratch["scratch"])


@pytest.fixture(scope="session")
async def db():
    """The test process's own pool on the scratch database, with migrations applied."""
    from persistence import database

    await database.migrate()
    await database.open_pool()
    yield database
    await database.close_pool()


@pytest.fixture(scope="session")
def roomlink(db) -> str:
    """A Roomlink server process on the scratch database; its base URL."""
    from tests.support.servers import running

    with running("server.app:create_app") as base_url:
        yield base_url
