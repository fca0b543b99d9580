from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T00:06:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "OAuth states bound to the browser sent to Zoom, and to the session that started them"


def _nullable_hash(column_name: str) -> dict:
    return dict(
        table_class_name="OAuthStateTable",
        tablename="oauth_states",
        column_name=column_name,
        db_column_name=column_name,
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": None,
            "null": True,
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


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="persistence", description=DESCRIPTION)
    manager.add_column(**_nullable_hash("browser_hash"))
    manager.add_column(**_nullable_hash("session_hash"))
    return manager
