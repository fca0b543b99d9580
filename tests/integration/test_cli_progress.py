"""Long `roomlink` commands show progress: a bar redrawn in place on a terminal (seen through a pseudo-terminal),
plain lines in a pipe; stopped with Ctrl-C and run again, they finish without harm."""

from __future__ import annotations

import csv
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

from tests.support.builders import create_organization, unique
from tests.support.sql import raw_sql

COMMAND = [sys.executable, "-m", "server.cli"]


def command_env() -> dict[str, str]:
    """A PostgreSQL other suites share: the commands need few connections."""
    return {**os.environ, "ROOMLINK_DB_POOL_SIZE": "2"}


def roomlink(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """`roomlink ARGS` with its output in a pipe."""
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, env=command_env(), cwd=cwd)


def write_members(path, org_id: str, count: int, bad_line: int | None = None) -> None:
    with path.open("w", newline="") as target:
        writer = csv.writer(target)
        writer.writerow(["user_id", "email", "name", "role"])
        for i in range(count):
            email = "not-an-email" if bad_line == i + 2 else f"p{i}@{org_id}.example"
            writer.writerow([f"{org_id}-{i:06d}", email, f"Person {i:06d}", "owner" if i == 0 else "member"])


async def members_of(org_id: str) -> int:
    async with raw_sql() as sql:
        return await sql.fetchval("SELECT count(*) FROM members WHERE org_id = $1", org_id)


def in_terminal(args: list[str], until=None, timeout: float = 120) -> tuple[str, int, bool]:
    """Run `roomlink ARGS` with a pseudo-terminal as its output; SIGINT it once `until(output so far)` holds.
    Returns (everything it wrote, exit status, whether the signal was sent before it ended)."""
    controller, terminal = pty.openpty()
    # Ctrl-C as at a terminal, even when the suite itself runs where SIGINT is ignored (a background job).
    process = subprocess.Popen(
        [*COMMAND, *args], stdin=terminal, stdout=terminal, stderr=terminal, env=command_env(),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    os.close(terminal)
    output, interrupted = b"", False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                output += chunk
                if until and not interrupted and until(output.decode(errors="replace")) and process.poll() is None:
                    process.send_signal(signal.SIGINT)
                    interrupted = True
            elif process.poll() is not None:
                break
    finally:
        os.close(controller)
        status = process.wait(timeout=30)
    return output.decode(errors="replace"), status, interrupted


async def test_an_import_shows_a_bar_with_counts_and_rate_in_a_terminal(db, tmp_path):
    org_id = unique("import")
    await create_organization(org_id, [])
    csv_path = tmp_path / "members.csv"
    write_members(csv_path, org_id, 2500)

    output, status, _ = in_terminal(["import", "members", "--org", org_id, str(csv_path)])

    assert status == 0, output
    frames = [frame for frame in output.replace("\r\n", "\n").split("\r") if frame.strip()]
    # Redraws are throttled (tests/unit/test_progress.py): a fast machine may draw only the start and the end.
    assert len(frames) >= 2, output
    assert all(re.search(r"\[[#.]{28}\] [\d,]+/2,500 members\s+\d+%, [\d,]+ members/s", frame) for frame in frames), output
    assert "[" + "." * 28 + "] 0/2,500 members   0%" in frames[0]
    assert "[" + "#" * 28 + "] 2,500/2,500 members 100%" in frames[-1]
    assert "2,500 created, 0 updated" in frames[-1]
    assert await members_of(org_id) == 2500


async def test_an_import_in_a_pipe_writes_plain_lines_and_a_second_run_only_updates(db, tmp_path):
    org_id = unique("import")
    await create_organization(org_id, [])
    csv_path = tmp_path / "members.csv"
    write_members(csv_path, org_id, 1200)

    first = roomlink("import", "members", "--org", org_id, str(csv_path))
    again = roomlink("import", "members", "--org", org_id, str(csv_path))

    assert (first.returncode, again.returncode) == (0, 0), first.stderr + again.stderr
    lines = first.stderr.splitlines()
    assert "\r" not in first.stderr and lines[0].startswith(f"import members into {org_id}: 0/1,200 members")
    assert lines[-1].startswith(f"import members into {org_id}: 1,200/1,200 members 100%")
    assert lines[-1].endswith("1,200 created, 0 updated")
    assert again.stderr.splitlines()[-1].endswith("0 created, 1,200 updated")
    assert await members_of(org_id) == 1200


async def test_an_interrupted_import_says_so_and_running_it_again_finishes_it(db, tmp_path):
    # The bar's second frame comes after the first batch at the earliest. The import takes about 3 s: a machine
    # busy enough to show us its output only after the last batch gets a fresh organization and another go
    # (an import that was interrupted and went on regardless is a failure, not another go).
    for _ in range(3):
        org_id = unique("import")
        await create_organization(org_id, [])
        csv_path = tmp_path / f"{org_id}.csv"
        write_members(csv_path, org_id, 40_000)
        output, status, interrupted = in_terminal(
            ["import", "members", "--org", org_id, str(csv_path)],
            until=lambda shown: shown.count("/40,000") >= 2 and "100%" not in shown,
        )
        if interrupted:
            break

    assert interrupted, "the import ended before it could be interrupted"
    assert status == 130 and "interrupted; " in output and "running the same import again is safe" in output, output
    saved = await members_of(org_id)
    assert 1000 <= saved < 40_000 and saved % 1000 == 0
    output, status, _ = in_terminal(["import", "members", "--org", org_id, str(csv_path)])
    assert status == 0, output
    assert f"{40_000 - saved:,} created, {saved:,} updated" in output
    assert await members_of(org_id) == 40_000


async def test_an_import_with_a_bad_row_names_its_line_and_keeps_earlier_batches(db, tmp_path):
    org_id = unique("import")
    await create_organization(org_id, [])
    csv_path = tmp_path / "members.csv"
    write_members(csv_path, org_id, 1500, bad_line=1203)

    result = roomlink("import", "members", "--org", org_id, str(csv_path))

    assert result.returncode == 1
    assert "line 1203:" in result.stderr and "email" in result.stderr
    assert await members_of(org_id) == 1000


def test_a_missing_file_is_a_clear_refusal(tmp_path):
    result = roomlink("import", "members", "--org", "nowhere", "missing.csv", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("roomlink: ") and "missing.csv" in result.stderr


async def test_key_rotation_shows_its_progress(db, tmp_path):
    result = roomlink("keys", "rotate")
    assert result.returncode == 0, result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("re-seal secrets: ") and "re-sealed under the current key" in last
