"""PgBouncer in transaction mode, as the app hosts of a deployment past one host reach PostgreSQL through it.

Debian's package (`apt-get install pgbouncer`); tests that need it skip without it. It runs in the foreground
as an unprivileged user (PgBouncer refuses to run as root), with a configuration of the test's own in a
temporary folder, on a free port of the addresses given.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.servers import free_port, stop

#: Startup parameters Roomlink's connections carry that PgBouncer cannot keep per client in transaction mode:
#: ignored here, and set on the database instead (docs/operating.md, Connections).
IGNORED_STARTUP_PARAMETERS = "extra_float_digits,statement_timeout,idle_in_transaction_session_timeout,jit,synchronous_commit"


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (path for path in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.access(path, os.X_OK)), None
    )


class PgBouncer:
    def __init__(self, process: subprocess.Popen, port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path

    def url(self, address: str, database: str) -> str:
        return f"postgresql://postgres@{address}:{self.port}/{database}"


@contextmanager
def pgbouncer(server: tuple[str, int], listen: list[str], pool_size: int = 20) -> Iterator[PgBouncer]:
    """PgBouncer listening on `listen` (addresses), pooling every database of `server` for the user postgres,
    in transaction mode; stopped when the block ends."""
    binary = pgbouncer_binary()
    assert binary, "pgbouncer is not installed"
    folder = Path(tempfile.mkdtemp(prefix="roomlink-pgbouncer-"))
    folder.chmod(0o755)
    port = free_port()
    config = folder / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"* = host={server[0]} port={server[1]} user=postgres\n"
        "[pgbouncer]\n"
        f"listen_addr = {','.join(listen)}\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = any\n"
        "pool_mode = transaction\n"
        "max_client_conn = 500\n"
        f"default_pool_size = {pool_size}\n"
        f"ignore_startup_parameters = {IGNORED_STARTUP_PARAMETERS}\n"
        # PostgreSQL back: connect again within a second, not PgBouncer's default 15 s.
        "server_login_retry = 1\n"
        "log_connections = 0\n"
        "log_disconnections = 0\n"
    )
    config.chmod(0o644)
    log_path = folder / "pgbouncer.log"
    log = log_path.open("w")
    as_user = ["-u", "nobody"] if os.geteuid() == 0 else []
    process = subprocess.Popen([binary, *as_user, str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_listening((listen[0], port), process, log_path)
        yield PgBouncer(process, port, log_path)
    finally:
        stop(process)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_listening(address: tuple[str, int], process: subprocess.Popen, log_path: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited with {process.returncode}: {log_path.read_text()[-2000:]}")
        try:
            with socket.create_connection(address, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"pgbouncer did not listen on {address} in {timeout} s")
