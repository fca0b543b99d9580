"""`roomlink` commands that take long: key rotation, a provisioning import from CSV, a forced resync.

Each shows its progress (server/progress.py) and can be stopped (Ctrl-C) and run again without harm:
rotation re-seals in batches that each commit and skips what is already under the current key; the
import sends batches of 1,000 through the batch API's use case, which creates or updates by user ID;
a resync lists Zoom first and writes once at the end.
"""

from __future__ import annotations

import asyncio
import csv
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import msgspec

from domain import integration, provisioning
from domain.errors import DomainError, NotConnected
from domain.ports import MemberInput
from persistence import database
from persistence.database import unit_of_work
from persistence.key_rotation import rotate_keys as rotate
from persistence.key_rotation import sealed_values
from persistence.token_cipher import KeyRing, TokenCipher
from server.api.bodies import BatchIn
from server.bootstrap import configure_cipher, pool_limits, zoom_timeout
from server.clock import utcnow
from server.config import Settings, settings_from_env
from server.jobs import verify_organization
from server.progress import Progress
from server.tokens import TokenKeeper
from server.zoom_client import HttpZoom

#: The batch API's largest batch.
BATCH = provisioning.MAX_BATCH
CSV_COLUMNS = ("user_id", "email", "name", "role")
INTERRUPTED = 130
#: Set by Ctrl-C while a command runs: every batch boundary after it refuses to go on (checkpoint).
_interrupt_requested = False


class ImportRefused(Exception):
    """The file or a row in it cannot be imported; nothing of the batch it is in was saved."""


@asynccontextmanager
async def _database() -> AsyncIterator[Settings]:
    settings = settings_from_env()
    configure_cipher(settings)
    await database.open_pool(pool_limits(settings))
    try:
        yield settings
    finally:
        await database.close_pool()


async def import_members(org_id: str, path: Path) -> tuple[int, int]:
    """(created, updated) for every row of `path`, a CSV with a header naming user_id, email, name, role."""
    rows = _read_rows(path)
    created = updated = 0
    async with _database():
        progress = Progress(f"import members into {org_id}", len(rows), unit="members")
        try:
            for start in range(0, len(rows), BATCH):
                checkpoint()
                members = _batch(rows, start)
                result = await provisioning.provision_members(unit_of_work, org_id, members, utcnow())
                created, updated = created + result.created, updated + result.updated
                progress.advance(len(members))
        except (asyncio.CancelledError, KeyboardInterrupt, ImportRefused, DomainError) as stopped:
            why = "refused" if isinstance(stopped, ImportRefused | DomainError) else "interrupted"
            progress.stopped(why, f"{progress.done:,} members saved; running the same import again is safe")
            raise
    progress.finish(f"{created:,} created, {updated:,} updated")
    return created, updated


def _read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as source:
        reader = csv.DictReader(source)
        missing = [column for column in CSV_COLUMNS if column not in (reader.fieldnames or ())]
        if missing:
            raise ImportRefused(
                f"{path}: the header row lacks {', '.join(missing)} (it needs {', '.join(CSV_COLUMNS)})"
            )
        return [{column: (row.get(column) or "").strip() for column in CSV_COLUMNS} for row in reader]


def _batch(rows: list[dict[str, str]], start: int) -> list[MemberInput]:
    """Checked exactly as the batch API checks its body; a bad row names its line of the file."""
    chunk = rows[start : start + BATCH]
    try:
        body = msgspec.convert({"members": chunk}, BatchIn)
    except msgspec.ValidationError as invalid:
        raise ImportRefused(f"line {_line_of(str(invalid), start)}: {invalid}") from None
    return [MemberInput(user_id=m.user_id, email=m.email, name=m.name, role=m.role) for m in body.members]


def _line_of(message: str, start: int) -> str:
    """`$.members[3].email` is data row start+3, line start+3+2 (after the header)."""
    marker = "$.members["
    if marker not in message:
        return "?"
    index = message.split(marker, 1)[1].split("]", 1)[0]
    return str(start + int(index) + 2) if index.isdigit() else "?"


async def rotate_keys() -> int:
    cipher = TokenCipher(KeyRing.from_config(settings_from_env().token_keys))
    connection = await database.engine().get_new_connection()
    try:
        progress = Progress("re-seal secrets", await sealed_values(connection), unit="values")
        def batch_done(values: int) -> None:
            progress.advance(values)
            checkpoint()

        try:
            moved = await rotate(connection, cipher, batch_done)
        except (asyncio.CancelledError, KeyboardInterrupt):
            progress.stopped("interrupted", "batches done so far are kept; run it again to finish")
            raise
        progress.finish(f"{moved:,} re-sealed under the current key")
        return moved
    finally:
        await connection.close()


async def resync(org_id: str) -> str:
    """Verify the organization's Zoom admin and resync its seats now; returns the connection's status."""
    async with _database() as settings:
        if settings.zoom is None:
            raise ImportRefused("Zoom is not configured (ZOOM_* settings): there is nothing to resync with")
        progress = None

        async def verify(org_id: str) -> None:
            """Shows its progress from when Zoom is listed (not for an organization without a connection)."""
            nonlocal progress
            progress = shown = Progress(f"resync {org_id}: list Zoom users", None, unit="users")

            def listed(so_far: int, total: int) -> None:
                shown.total = total
                shown.advance(so_far - shown.done)

            try:
                async with httpx.AsyncClient(timeout=zoom_timeout(settings)) as http:
                    await verify_organization(TokenKeeper(HttpZoom(settings.zoom, http)), org_id, listed)
            except (asyncio.CancelledError, KeyboardInterrupt):
                shown.stopped("interrupted", "nothing was written; run it again")
                raise

        try:
            after = await integration.resync_organization(unit_of_work, org_id, verify)
        except NotConnected as missing:
            raise ImportRefused(missing.detail) from None
    status = after.status.value if after else "gone"
    progress.finish(f"seats synced; the organization connection is {status}")
    return status


def checkpoint() -> None:
    """Between two batches: after Ctrl-C, go no further."""
    if _interrupt_requested:
        raise KeyboardInterrupt


async def _interruptible(work):
    """Ctrl-C cancels the command's task at once (mid-batch) and makes every later checkpoint stop it. The
    checkpoints are not redundant: on Python 3.11 a cancellation that arrives as an awaited future completes is
    lost inside asyncio.wait_for, which asyncpg's pool.acquire uses (fixed in 3.12). A command started with
    Ctrl-C ignored (a shell's background job) keeps it ignored, as asyncio.run would."""
    global _interrupt_requested
    _interrupt_requested = False
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        return await work
    task, loop = asyncio.current_task(), asyncio.get_running_loop()

    def interrupt() -> None:
        global _interrupt_requested
        _interrupt_requested = True
        task.cancel()

    loop.add_signal_handler(signal.SIGINT, interrupt)
    try:
        return await work
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def run(work) -> None:
    """Run a command's coroutine; Ctrl-C ends it with 130, a refusal with 1 and its reason."""
    try:
        asyncio.run(_interruptible(work))
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.exit(INTERRUPTED)
    except (ImportRefused, DomainError, OSError) as refused:
        print(f"roomlink: {refused}", file=sys.stderr)
        sys.exit(1)

