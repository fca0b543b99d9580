from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T00:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "failed event deliveries found without reading the delivery log (/metrics, roomlink events --status failed)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="persistence", description=DESCRIPTION)

    async def add_index():
        await engine_finder().run_ddl(
            "CREATE INDEX IF NOT EXISTS deliveries_failed ON event_deliveries (endpoint_id, id) WHERE status = 'failed'"
        )

    manager.add_raw(add_index)
    return manager
