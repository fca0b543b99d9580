"""PostgreSQL stopped under a running server (its own, on a Unix socket, stopped as an operator would): every
call that needs it answers 503 with Retry-After, never 500, and the server serves again once it is back."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from server.embedded_postgres import start_embedded_postgres, stop_embedded_postgres
from tests.support.servers import API_KEY_SECRET, free_port, running

KEY = {"Authorization": f"Bearer {API_KEY_SECRET}"}
NEEDING_THE_DATABASE = [
    ("PUT", "/api/v1/orgs/stopped-org", KEY),
    ("GET", "/api/v1/me/integrations/zoom", {**KEY, "X-Roomlink-User": "stopped-org-owner"}),
    ("GET", "/api/v1/me/integrations/zoom", {"Cookie": "roomlink_session=a-session"}),
    ("GET", "/integrations/zoom", {"Cookie": "roomlink_session=a-session"}),
    ("GET", "/activate/a-link", {}),
    ("GET", "/launch/a-link", {}),
    ("GET", "/api/v1/me/sessions", {**KEY, "X-Roomlink-User": "stopped-org-owner"}),
]


async def test_a_stopped_database_is_503_with_retry_after_never_500():
    data = Path(tempfile.mkdtemp(prefix="roomlink-stopped-"))
    url = start_embedded_postgres(data)
    env = {**os.environ, "DATABASE_URL": url, "ROOMLINK_FAILED_ATTEMPTS_PER_MINUTE": "1000000"}
    subprocess.run([sys.executable, "-m", "server.cli", "migrate"], env=env, check=True, capture_output=True)
    try:
        with running("server.app:create_app", env, free_port()) as base_url:
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
                assert (await client.put("/api/v1/orgs/stopped-org", json={"name": "Up"}, headers=KEY)).status_code == 201
                stop_embedded_postgres(data)
                for _ in range(2):  # the pooled connections ended, then new ones refused
                    for method, path, headers in NEEDING_THE_DATABASE:
                        body = {"name": "Down"} if method == "PUT" else None
                        response = await client.request(method, path, headers=headers, json=body)
                        assert response.status_code == 503, (method, path, response.text)
                        assert response.json()["code"] == "database_unavailable", (method, path)
                        assert int(response.headers["retry-after"]) > 0
                assert (await client.get("/readyz")).status_code == 503
                assert (await client.get("/healthz")).status_code == 200
                start_embedded_postgres(data)
                renamed = await client.put("/api/v1/orgs/stopped-org", json={"name": "Back"}, headers=KEY)
                assert renamed.status_code == 200, renamed.text
    finally:
        stop_embedded_postgres(data)
