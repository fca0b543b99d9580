from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T00:14:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "an organization's event deliveries, newest first, without reading every endpoint's log (the events page)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="persistence", description=DESCRIPTION)

    async def add_index():
        await engine_finder().run_ddl(
            "CREATE INDEX IF NOT EXISTS deliveries_of_organization ON event_deliveries (org_id, id)"
        )

    manager.add_raw(add_index)
    return manager
