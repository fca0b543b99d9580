from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.constraints import Check
from piccolo.engine import engine_finder

ID = "2026-12-01T00:15:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "oauth_states.purpose becomes connection_type, 'activation' becoming 'organization': one name per concept; "
    "pending states keep working across the deploy"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="persistence", description=DESCRIPTION)

    # Piccolo runs raw steps first, then renames, adds constraints and drops them: widen the old check so the
    # rows can be renamed under it, and let the new check (on the renamed column) replace it afterwards.
    async def rename_values():
        await engine_finder().run_ddl(
            "ALTER TABLE oauth_states DROP CONSTRAINT known_purpose, "
            "ADD CONSTRAINT known_purpose CHECK (purpose IN ('personal', 'activation', 'organization'))"
        )
        await engine_finder().run_ddl("UPDATE oauth_states SET purpose = 'organization' WHERE purpose = 'activation'")

    manager.add_raw(rename_values)
    manager.rename_column(
        table_class_name="OAuthStateTable",
        tablename="oauth_states",
        old_column_name="purpose",
        new_column_name="connection_type",
        old_db_column_name="purpose",
        new_db_column_name="connection_type",
        schema=None,
    )
    manager.add_constraint(
        table_class_name="OAuthStateTable",
        tablename="oauth_states",
        constraint_name="known_connection_type",
        constraint_class=Check,
        params={"condition": "connection_type IN ('personal', 'organization')"},
        schema=None,
    )
    manager.drop_constraint(
        table_class_name="OAuthStateTable", tablename="oauth_states", constraint_name="known_purpose", schema=None
    )
    return manager
