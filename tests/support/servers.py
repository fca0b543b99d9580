"""Roomlink as a real server process, reached over HTTP like a host product would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

API_KEY = "test-host:test-api-key-0123456789abcdef"
API_KEY_SECRET = API_KEY.split(":", 1)[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(app: str, extra_env: dict[str, str] | None = None, port: int | None = None) -> Iterator[str]:
    """Run `module:factory` under uvicorn until the block ends; yields its base URL."""
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ROOMLINK_API_KEYS": API_KEY,
        "ROOMLINK_BASE_URL": base_url,
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--factory", "--port", str(port), "--log-level", "warning"],
        env=env,
    )
    try:
        _wait_until_healthy(base_url, process)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_healthy(base_url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server at {base_url} did not become healthy")
