from __future__ import annotations

import os

import pytest

from persistence.token_cipher import KeyRing
from tests.support.database import (
    create_scratch_database,
    drop_scratch_database,
    server_url,
)

_scratch: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    # piccolo_conf reads DATABASE_URL when first imported, so it is set before any test module loads.
    server = server_url()
    scratch = create_scratch_database(server)
    _scratch.update(server=server, scratch=scratch)
    os.environ["DATABASE_URL"] = scratch
    os.environ.setdefault("ROOMLINK_TOKEN_KEYS", f"test:{KeyRing.generate_key()}")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _scratch:
        drop_scratch_database(_scratch["server"], _scratch["scratch"])


@pytest.fixture(scope="session")
async def db():
    """The test process's own pool on the scratch database, with migrations applied."""
    from persistence import database
    from persistence.token_cipher import TokenCipher

    database.use_cipher(TokenCipher(KeyRing.from_config(os.environ["ROOMLINK_TOKEN_KEYS"])))
    await database.migrate()
    await database.open_pool()
    yield database
    await database.close_pool()


@pytest.fixture(scope="session")
def ports() -> dict[str, int]:
    from tests.support.servers import free_port

    return {"roomlink": free_port(), "sandbox": free_port()}


@pytest.fixture(scope="session")
def outbox():
    """A real SMTP server receiving what Roomlink sends."""
    from server.outbox import LocalSmtpServer

    with LocalSmtpServer() as server:
        yield server


@pytest.fixture(scope="session")
def zoom_sandbox(ports) -> str:
    """The Zoom sandbox in its own process, approving scripted sign-ins (login_hint); its base URL."""
    from tests.support.servers import ZOOM_APPS, running

    roomlink = f"http://127.0.0.1:{ports['roomlink']}"
    env = {
        **ZOOM_APPS,
        "ROOMLINK_BASE_URL": roomlink,
        "ZOOM_SANDBOX_AUTO_APPROVE": "1",
        "ZOOM_SANDBOX_WEBHOOK_URL": f"{roomlink}/webhooks/zoom",
    }
    with running("server.zoom_sandbox.app:create_sandbox_app", env, ports["sandbox"], "/sandbox/settings") as url:
        yield url


@pytest.fixture(scope="session")
def roomlink_env(zoom_sandbox, outbox, ports) -> dict[str, str]:
    """What every Roomlink process of the test stack is configured with (servers and workers)."""
    from tests.support.servers import ZOOM_APPS

    return {
        **ZOOM_APPS,
        "ROOMLINK_BASE_URL": f"http://127.0.0.1:{ports['roomlink']}",
        "ZOOM_OAUTH_BASE_URL": zoom_sandbox,
        "ZOOM_API_BASE_URL": f"{zoom_sandbox}/v2",
        "SMTP_URL": outbox.url,
        "ROOMLINK_VERIFY_INTERVAL_S": "1",
        # Tests knock with wrong credentials on purpose; the limit itself is tested on a server of its own.
        "ROOMLINK_FAILED_ATTEMPTS_PER_MINUTE": "1000000",
        # Bursts of 100 calls per process wait on one token refresh; a loaded CI machine must not turn
        # the wait for a pooled connection into 503s. The bound itself is tested in test_pool_defences.
        "ROOMLINK_DB_ACQUIRE_TIMEOUT_S": "60",
        "ROOMLINK_ZOOM_TIMEOUT_S": "2",
        # Event endpoints are the tests' own receivers on loopback; retries come fast.
        "ROOMLINK_EVENTS_ALLOW_LOOPBACK": "1",
        "ROOMLINK_EVENTS_TIMEOUT_S": "2",
        "ROOMLINK_EVENTS_POLL_S": "0.2",
        "ROOMLINK_EVENTS_RETRY_FIRST_S": "0.2",
        "ROOMLINK_EVENTS_RETRY_MAX_S": "1",
        # As in production: one JSON object per log line (checked when the session's server stops).
        "ROOMLINK_LOG_FORMAT": "json",
    }


@pytest.fixture(scope="session")
def roomlink(db, roomlink_env, ports) -> str:
    """A Roomlink server process on the scratch database, talking to the sandbox and the outbox."""
    from tests.support.servers import (
        API_KEY_SECRET,
        ZOOM_APPS,
        log_file,
        not_json_or_leaking,
        running,
    )

    with running("server.app:create_app", roomlink_env, ports["roomlink"]) as base_url:
        yield base_url
    secrets = [API_KEY_SECRET, *ZOOM_APPS.values(), os.environ["ROOMLINK_TOKEN_KEYS"].split(":", 1)[1]]
    assert not_json_or_leaking(log_file(ports["roomlink"]), secrets) == []


@pytest.fixture(scope="module")
def workers(roomlink, roomlink_env):
    """Two `roomlink worker` processes, as production would run several."""
    from tests.support.servers import workers as started

    with started(roomlink_env, 2) as processes:
        yield processes
