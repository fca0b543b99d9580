"""`roomlink demo` takes its embedded PostgreSQL down with it: after Ctrl+C, SIGTERM or SIGHUP (its
terminal closed), whether it was serving or still starting, the demo is gone within 10 s and no postgres of
its folder remains."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.servers import free_port

WITHIN_S = 10


def postgres_of(pgdata: Path) -> list[psutil.Process]:
    """Every process running PostgreSQL on this data folder (the postmaster and its children)."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        try:
            if process.info["name"] == "postgres" and str(pgdata) in " ".join(process.info["cmdline"] or []) \
                    and alive(process):
                found.append(process)
                found += process.children(recursive=True)
        except psutil.Error:
            pass
    return found


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s")


def serving(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize(
    "signum, when",
    [(signal.SIGTERM, "serving"), (signal.SIGINT, "serving"), (signal.SIGHUP, "serving"), (signal.SIGTERM, "starting")],
    ids=["sigterm-serving", "ctrl-c-serving", "terminal-closed-serving", "sigterm-starting"],
)
def test_the_demo_stops_its_embedded_postgres(tmp_path, signum, when):
    port, pgdata = free_port(), (tmp_path / "demo" / "pgdata").resolve()
    demo = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "demo", "--port", str(port), "--data", str(tmp_path / "demo")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        postmaster = wait_for(lambda: postgres_of(pgdata), 60, "the demo's postgres started")
        if when == "serving":
            wait_for(lambda: serving(f"http://127.0.0.1:{port}/healthz"), 60, "the demo answered")
        demo.send_signal(signum)
        signalled = time.monotonic()
        demo.wait(timeout=WITHIN_S)
        left = WITHIN_S - (time.monotonic() - signalled)
        wait_for(lambda: not any(alive(p) for p in postmaster + postgres_of(pgdata)), max(left, 0.1),
                 "no postgres of the demo's folder remains")
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        for process in postgres_of(pgdata):
            process.kill()
