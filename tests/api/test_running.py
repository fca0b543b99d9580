"""Running Roomlink as production does: `roomlink serve` with workers; readiness follows migrations."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from tests.support.database import (
    create_scratch_database,
    drop_scratch_database,
    server_url,
)
from tests.support.servers import free_port, log_file, running, stop


def test_readyz_is_503_until_migrations_are_applied(roomlink_env):
    server = server_url()
    empty = create_scratch_database(server)
    try:
        with running("server.app:create_app", {**roomlink_env, "DATABASE_URL": empty}) as base_url:
            assert httpx.get(f"{base_url}/healthz").json() == {"status": "ok"}
            assert httpx.get(f"{base_url}/readyz").status_code == 503
    finally:
        drop_scratch_database(server, empty)


def test_serve_applies_migrations_and_runs_several_workers(roomlink_env):
    server = server_url()
    scratch = create_scratch_database(server)
    port = free_port()
    env = {**roomlink_env, "DATABASE_URL": scratch, "ROOMLINK_BASE_URL": f"http://127.0.0.1:{port}"}
    with log_file(port).open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            ready = None
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                    if ready.status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            assert ready is not None and ready.status_code == 200
        finally:
            stop(process)
            drop_scratch_database(server, scratch)
    assert "Started parent process" in log_file(port).read_text()
