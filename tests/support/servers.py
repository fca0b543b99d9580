"""Roomlink as a real server process, reached over HTTP like a host product would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

API_KEY = "test-host:test-api-key-0123456789abcdef"
API_KEY_SECRET = API_KEY.split(":", 1)[1]

#: The two Zoom apps, registered alike in the sandbox and in Roomlink.
ZOOM_APPS = {
    "ZOOM_USER_APP_CLIENT_ID": "test-user-app",
    "ZOOM_USER_APP_CLIENT_SECRET": "test-user-app-secret",
    "ZOOM_USER_APP_WEBHOOK_SECRET": "test-user-app-webhook-secret",
    "ZOOM_ADMIN_APP_CLIENT_ID": "test-admin-app",
    "ZOOM_ADMIN_APP_CLIENT_SECRET": "test-admin-app-secret",
    "ZOOM_ADMIN_APP_WEBHOOK_SECRET": "test-admin-app-webhook-secret",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(
    app: str, extra_env: dict[str, str] | None = None, port: int | None = None, health_path: str = "/healthz",
    host: str = "127.0.0.1",
) -> Iterator[str]:
    """Run `module:factory` under uvicorn on `host` until the block ends; yields its base URL."""
    port = port or free_port()
    base_url = f"http://{host}:{port}"
    env = {
        **os.environ,
        "ROOMLINK_API_KEYS": API_KEY,
        "ROOMLINK_BASE_URL": base_url,
        **(extra_env or {}),
    }
    log = log_file(port).open("w")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", app, "--factory", "--host", host, "--port", str(port), "--log-level", "info",
            "--timeout-graceful-shutdown", "5",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_healthy(base_url + health_path, process)
        yield base_url
    finally:
        stop(process)
        log.close()


@contextmanager
def serving(env: dict[str, str], *, listen: str = "127.0.0.1") -> Iterator[tuple[str, subprocess.Popen]]:
    """`roomlink serve` as production runs it (its own HTTP protocol and proxy rules), on a free port, with `env` as
    its whole environment plus ROOMLINK_BASE_URL; yields its base URL on 127.0.0.1 and the process."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log_file(port).open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--no-migrate", "--host", listen, "--port", str(port),
             "--workers", "1"],
            env={**env, "ROOMLINK_BASE_URL": base_url}, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            wait_until_healthy(f"{base_url}/healthz", process)
            yield base_url, process
        finally:
            stop(process)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def log_file(port: int) -> Path:
    """Everything a server process printed, for tests that check what it logs (and for reading failures)."""
    folder = Path(tempfile.gettempdir()) / "roomlink-test-logs"
    folder.mkdir(exist_ok=True)
    return folder / f"server-{port}.log"


def not_json_or_leaking(path: Path, secrets: list[str]) -> list[str]:
    """The lines of a log that are not one JSON object each, or that hold one of `secrets`."""
    bad = []
    for line in path.read_text().splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or any(secret in line for secret in secrets):
            bad.append(line[:300])
    return bad


def wait_until_healthy(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer 200 in {timeout} s")


@contextmanager
def worker(extra_env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """`roomlink worker` in its own process until the block ends; its output is in `.log_path`."""
    with workers(extra_env, 1) as (process,):
        yield process


@contextmanager
def workers(extra_env: dict[str, str] | None = None, count: int = 2) -> Iterator[list[subprocess.Popen]]:
    """`count` `roomlink worker` processes until the block ends, told to stop together (each takes up to its
    dequeue timeout to finish) rather than one after the other; each one's output is in its `.log_path`."""
    env = {**os.environ, "ROOMLINK_API_KEYS": API_KEY, **(extra_env or {})}
    started: list[tuple[subprocess.Popen, IO[str]]] = []
    try:
        for _ in range(count):
            log_path = log_file(0).with_name(f"worker-{os.getpid()}-{free_port()}.log")
            log = log_path.open("w")
            process = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
            process.log_path = log_path
            started.append((process, log))
        yield [process for process, _ in started]
    finally:
        for process, _ in started:
            if process.poll() is None:
                process.terminate()
        for process, log in started:
            stop(process)
            log.close()
