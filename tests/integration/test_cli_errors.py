"""`roomlink` commands that fail say why in one line on stderr and exit non-zero; a traceback only with --debug."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.servers import free_port


def roomlink(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("command", [["migrate"], ["jobs"], ["serve", "--port", "0", "--workers", "1"]])
def test_an_unreachable_database_is_one_line_naming_it_without_its_password(command):
    port = free_port()  # nothing listens there
    done = roomlink(*command, DATABASE_URL=f"postgresql://roomlink:s3cret-pw@127.0.0.1:{port}/roomlink", ROOMLINK_LOG_FORMAT="text")
    assert done.returncode == 1
    said = lines(done.stderr)
    assert said[-1].startswith(f"roomlink: cannot reach the database at 127.0.0.1:{port}/roomlink (DATABASE_URL): "), said
    assert "Traceback" not in done.stderr and "s3cret-pw" not in done.stderr + done.stdout
    assert [line for line in said if line.startswith("roomlink:")] == said[-1:]
    assert len(said) == 1, said


def test_bad_configuration_is_one_line():
    done = roomlink("serve", "--no-migrate", ROOMLINK_TRUSTED_PROXIES="10.0.0.1,proxy.example")
    assert done.returncode == 1
    assert lines(done.stderr) == ["roomlink: ROOMLINK_TRUSTED_PROXIES: 'proxy.example' is not an IP address or CIDR"]
    done = roomlink("events", "endpoint-1", ROOMLINK_TOKEN_KEYS="not-a-key-ring")
    assert done.returncode == 1
    assert lines(done.stderr) == ["roomlink: ROOMLINK_TOKEN_KEYS entry 1 is not of the form <key id>:<key>"]


def test_a_bad_argument_or_environment_value_is_the_usage_and_one_error():
    done = roomlink("serve", ROOMLINK_WORKERS="many")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert lines(done.stderr)[-1] == "roomlink serve: error: argument --workers: invalid int value: 'many'"


def test_debug_shows_the_traceback():
    port = free_port()
    done = roomlink("--debug", "migrate", DATABASE_URL=f"postgresql://roomlink@127.0.0.1:{port}/roomlink")
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
