from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

from persistence.migrations.m0017_change_notifications import _triggers

ID = "2026-12-01T00:21:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "a committed change to a meeting, a remote session or a booking notifies `roomlink_changes` with the "
    "organization's id too, so that open pages (My meetings, My day, the sessions page) follow it"
)

TABLES = ("meetings", "remote_sessions", "session_bookings")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="persistence", description=DESCRIPTION)

    async def add_notifications():
        for statement in (statement for table in TABLES for statement in _triggers(table)):
            await engine_finder().run_ddl(statement)

    manager.add_raw(add_notifications)
    return manager
