from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T00:19:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "an endpoint's deliveries in flight (pending, leased) counted from an index, not its whole backlog: a claim "
    "asks it of every endpoint it leases from, so a slow endpoint delays only its own deliveries (R24)"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="persistence", description=DESCRIPTION)

    async def add_index():
        await engine_finder().run_ddl(
            "CREATE INDEX IF NOT EXISTS deliveries_in_flight ON event_deliveries (endpoint_id, leased_until) "
            "WHERE status = 'pending'"
        )

    manager.add_raw(add_index)
    return manager
