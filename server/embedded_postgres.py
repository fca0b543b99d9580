"""A real PostgreSQL started from the `pgserver` package, for the demo and for tests on machines without one."""

from __future__ import annotations

from pathlib import Path


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) the server keeping its data in `data_dir`; returns a URL to its `postgres` database."""
    import warnings

    # pgserver asks platformdirs for a runtime folder it does not use; headless machines have none.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import pgserver  # imported here: production never needs it loaded

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    return server.get_uri()
