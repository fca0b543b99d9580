from pgqueuer.queries import Queries
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

ID = "2026-11-21T00:38:01:035648"
VERSION = "1.38.0"
DESCRIPTION = "keeping connections true: webhook replay guard, the pgqueuer job queue"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="persistence", description=DESCRIPTION
    )

    manager.add_table(
        class_name="WebhookEventTable",
        tablename="webhook_events",
        schema=None,
        columns=None,
    )

    manager.add_column(
        table_class_name="WebhookEventTable",
        tablename="webhook_events",
        column_name="event_key",
        db_column_name="event_key",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": "",
            "null": False,
            "primary_key": True,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="WebhookEventTable",
        tablename="webhook_events",
        column_name="event",
        db_column_name="event",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="WebhookEventTable",
        tablename="webhook_events",
        column_name="received_at",
        db_column_name="received_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": TimestamptzNow(),
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    async def install_job_queue():
        # pgqueuer's own tables, functions and notify triggers, in the same database.
        connection = await engine_finder().get_new_connection()
        try:
            queries = Queries.from_asyncpg_connection(connection)
            if not await queries.schema_is_installed():
                await queries.install()
        finally:
            await connection.close()

    manager.add_raw(install_job_queue)

    return manager
