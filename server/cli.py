"""`roomlink`: serve, migrate, worker, jobs, events, demo, keys, import, resync, zoom-sandbox."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

#: Ctrl-C, as shells report it.
INTERRUPTED = 130


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="roomlink", description="Zoom for whole organizations.")
    parser.add_argument(
        "--debug", action="store_true", default=os.environ.get("ROOMLINK_DEBUG") == "1",
        help="on an error, show its traceback rather than one line (or ROOMLINK_DEBUG=1)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API (production): DATABASE_URL, several workers")
    serve.add_argument("--host", default=os.environ.get("ROOMLINK_HOST", "0.0.0.0"))
    # String defaults: argparse converts them as it does the command line, so a bad PORT or ROOMLINK_WORKERS
    # is reported like a bad argument.
    serve.add_argument("--port", type=int, default=os.environ.get("PORT", "8000"))
    serve.add_argument("--workers", type=int, default=os.environ.get("ROOMLINK_WORKERS", str(os.cpu_count() or 2)))
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations at start")

    commands.add_parser("migrate", help="apply pending database migrations and exit")
    commands.add_parser("worker", help="run background jobs (webhooks, verification, email); run as many as you like")
    jobs = commands.add_parser("jobs", help="the background job queue: counts by kind and status, failed jobs")
    jobs.add_argument("--retry", type=int, nargs="*", metavar="JOB_ID", help="queue these failed jobs again")

    events = commands.add_parser("events", help="events to the host product: an endpoint's deliveries, redelivery")
    events.add_argument("endpoint_id", help="the event endpoint's id")
    events.add_argument("--status", choices=("pending", "delivered", "failed"), help="only deliveries in this state")
    events.add_argument("--limit", type=int, default=50, help="how many, newest first (default 50)")
    events.add_argument("--redeliver", type=int, nargs="*", metavar="DELIVERY_ID", help="send these deliveries again")
    events.add_argument("--redeliver-failed", action="store_true", help="send every failed delivery again")

    demo = commands.add_parser("demo", help="embedded PostgreSQL, Zoom sandbox, a seeded organization")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--data", default=".roomlink/demo", help="folder for the demo's database")
    demo.add_argument(
        "--keep", action="store_true", help="keep the demo's data between runs (by default every start resets it)"
    )

    keys = commands.add_parser("keys", help="the key ring sealing Zoom tokens at rest")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    keys_commands.add_parser("generate", help="print a new key for ROOMLINK_TOKEN_KEYS")
    keys_commands.add_parser("rotate", help="re-seal every stored secret under the first key of ROOMLINK_TOKEN_KEYS")

    imports = commands.add_parser("import", help="provision from a file, in batches of 1,000 (safe to run again)")
    import_commands = imports.add_subparsers(dest="import_command", required=True)
    import_members = import_commands.add_parser("members", help="members from a CSV with a header: user_id,email,name,role")
    import_members.add_argument("--org", required=True, metavar="ORG", help="the organization, provisioned already")
    import_members.add_argument("file", help="the CSV file")
    resync = commands.add_parser("resync", help="check an organization's Zoom admin and resync its seats now")
    resync.add_argument("org", metavar="ORG")

    sandbox = commands.add_parser("zoom-sandbox", help="run the Zoom sandbox alone")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=9000)

    args = parser.parse_args(argv)
    if not args.debug:
        import warnings

        # Piccolo warns of a failed connection on its own before raising it; the one line below says it.
        warnings.filterwarnings("ignore", message=".*Unable to connect to database")
    try:
        _run(args)
    except KeyboardInterrupt:
        sys.exit(INTERRUPTED)
    except Exception as error:
        if args.debug:
            raise
        print(f"roomlink: {error_line(error)}", file=sys.stderr)
        sys.exit(1)


def error_line(error: BaseException) -> str:
    """One line an operator can act on: what failed and why, the database named without its password."""
    from persistence.database import raised_by_the_driver

    said = " ".join(str(error).split()) or type(error).__name__
    if raised_by_the_driver(error):
        return f"cannot reach the database at {_database_address()}: {said}"
    return said


def _database_address() -> str:
    from urllib.parse import urlsplit

    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return "DATABASE_URL (not set)"
    parts = urlsplit(url)
    where = f"{parts.hostname or 'localhost'}{f':{parts.port}' if parts.port else ''}{parts.path}"
    return f"{where} (DATABASE_URL)"


def _run(args: argparse.Namespace) -> None:
    if args.command == "serve":
        _serve(args)
    elif args.command == "migrate":
        _migrate()
    elif args.command == "worker":
        _worker()
    elif args.command == "jobs":
        asyncio.run(_jobs(args.retry))
    elif args.command == "events":
        asyncio.run(_events(args))
    elif args.command == "demo":
        from server.demo import run_demo

        run_demo(port=args.port, data_dir=args.data, keep=args.keep)
    elif args.command == "keys":
        _keys(args.keys_command)
    elif args.command == "import":
        from pathlib import Path

        from server.cli_long_work import import_members, run

        run(import_members(args.org, Path(args.file)))
    elif args.command == "resync":
        from server.cli_long_work import resync, run

        run(resync(args.org))
    elif args.command == "zoom-sandbox":
        import uvicorn

        uvicorn.run("server.zoom_sandbox.app:create_sandbox_app", factory=True, host=args.host, port=args.port)


def _migrate() -> None:
    from persistence import database

    if os.environ.get("ROOMLINK_LOG_FORMAT") != "json":
        asyncio.run(database.migrate())
        return
    import contextlib
    import io
    import logging

    from server import logging_setup

    logging_setup.configure(logging_setup.JSON)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            asyncio.run(database.migrate())
    finally:
        for line in filter(None, (line.strip() for line in printed.getvalue().splitlines())):
            logging.getLogger("roomlink.migrations").info(line)


def metrics_folder() -> str:
    """Where this host's processes keep their counters (prometheus-client's multiprocess mode).

    Set PROMETHEUS_MULTIPROC_DIR to the same empty folder for every `serve` and `worker` of a host (emptied
    when they all restart) so any `serve` answers for all of them. Without it, `serve` makes a fresh one
    for its own processes.
    """
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        import tempfile

        folder = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="roomlink-metrics-")
    os.makedirs(folder, exist_ok=True)
    return folder


def _worker() -> None:
    import signal

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_folder()
    from server import logging_setup

    os.environ["ROOMLINK_LOG_FORMAT"] = logging_setup.log_format_from_env(os.environ, logging_setup.JSON)
    logging_setup.configure(os.environ["ROOMLINK_LOG_FORMAT"])
    from server.config import settings_from_env
    from server.jobs import run_worker

    async def work() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_worker(settings_from_env(), stop)

    asyncio.run(work())


async def _jobs(retry: list[int] | None) -> None:
    from pgqueuer.queries import Queries

    from persistence import database

    connection = await database.engine().get_new_connection()
    try:
        queries = Queries.from_asyncpg_connection(connection)
        if retry:
            await queries.requeue_jobs(retry)
            print(f"queued again: {', '.join(map(str, retry))}")
        for row in await queries.queue_size():
            print(f"{row.entrypoint:<22} {row.status:<10} {row.count}")
        for job in await queries.list_failed_jobs():
            print(f"failed job {job.id}: {job.entrypoint}, {job.attempts} attempts, last at {job.updated:%Y-%m-%d %H:%M:%S}")
    finally:
        await connection.close()


async def _events(args: argparse.Namespace) -> None:
    from domain import event_endpoints
    from persistence import database
    from server.bootstrap import configure_cipher
    from server.config import settings_from_env
    from server.progress import Progress

    configure_cipher(settings_from_env())
    await database.open_pool()
    try:
        redeliver = list(args.redeliver or [])
        if args.redeliver_failed:
            redeliver += await event_endpoints.failed_deliveries(database.unit_of_work, args.endpoint_id)
        # Each redelivery commits alone: stopped half way, --redeliver-failed again picks up the rest.
        progress = Progress(f"redeliver to {args.endpoint_id}", len(redeliver), unit="deliveries") if redeliver else None
        if progress is not None:
            await event_endpoints.redeliver_all(database.unit_of_work, args.endpoint_id, redeliver, progress.advance)
            progress.finish()
            print(f"queued again: {', '.join(map(str, redeliver))}")
        items, _ = await event_endpoints.deliveries(database.unit_of_work, args.endpoint_id, args.status, None, args.limit)
        for d in items:
            when = f"next {d.next_attempt_at:%Y-%m-%d %H:%M:%S}" if d.next_attempt_at else ""
            print(
                f"{d.id:>8} {d.status:<9} {d.type:<32} {d.subject:<40} attempts {d.attempts:<3} "
                f"last {d.last_status_code or '-'} {when} {d.last_error or ''}".rstrip()
            )
    finally:
        await database.close_pool()


def _keys(command: str) -> None:
    from persistence.token_cipher import KeyRing

    if command == "generate":
        print(f"k{os.urandom(3).hex()}:{KeyRing.generate_key()}")
        return

    from server.cli_long_work import rotate_keys, run

    run(rotate_keys())


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    from server import logging_setup

    os.environ["ROOMLINK_LOG_FORMAT"] = log_format = logging_setup.log_format_from_env(os.environ, logging_setup.JSON)
    if log_format == logging_setup.JSON:
        logging_setup.configure(log_format)
    from server.config import GRACEFUL_SHUTDOWN_S, parse_trusted_proxies

    # X-Forwarded-For is believed only from ROOMLINK_TRUSTED_PROXIES (server/config.py), never from loopback
    # by default: a client's address is what its failed attempts are counted against (server/rate_limits.py).
    trusted_proxies = parse_trusted_proxies(os.environ.get("ROOMLINK_TRUSTED_PROXIES", ""))
    if not args.no_migrate:
        _migrate()
    metrics_folder()
    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # Request heads bounded in size and time (server/http_protocol.py; ROOMLINK_MAX_HEADER_BYTES,
        # ROOMLINK_HEADER_TIMEOUT_S in server/config.py).
        http="server.http_protocol:BoundedHttpToolsProtocol",
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies),
        log_level="info",
        # JSON: the processes' logging is ours (server/logging_setup.py), uvicorn's lines included.
        log_config=None if log_format == logging_setup.JSON else uvicorn.config.LOGGING_CONFIG,
        # SIGTERM: in-flight requests get this long, then the pool closes (bounded too): out within 10 s.
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )


if __name__ == "__main__":
    main()
