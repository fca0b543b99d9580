from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean, Text
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

ID = "2026-12-01T00:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "meetings.left_in_zoom: a meeting Roomlink can no longer reach, listed for owners to cancel in Zoom; "
    "remote_sessions.announced_join_url: the link participants were last sent, so the same link is not sent twice; "
    "meetings.zoom_uuid: what Zoom's events name a meeting by"
)

_DEFAULT_PARAMS = {
    "null": False,
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


class _IndexAfterColumns(MigrationManager):
    """Piccolo runs `add_raw` steps before it adds columns; the index and the backfill need the columns first."""

    async def run(self, backwards: bool = False):
        async with engine_finder().transaction():
            await super().run(backwards=backwards)
            if not backwards and not self.preview:
                for statement in _AFTER_COLUMNS:
                    await engine_finder().run_ddl(statement)


_AFTER_COLUMNS = (
    "CREATE INDEX meetings_left_in_zoom ON meetings (org_id, start_time) WHERE left_in_zoom",
    "CREATE INDEX meetings_by_zoom_uuid ON meetings (org_id, zoom_uuid) WHERE zoom_uuid IS NOT NULL",
    # A session that is ready has announced its current meeting's link.
    """UPDATE remote_sessions s SET announced_join_url = (
           SELECT m.join_url FROM meetings m WHERE m.org_id = s.org_id AND m.session_id = s.session_id
           ORDER BY m.created_at DESC LIMIT 1)
       WHERE s.status = 'ready' AND s.link_generation > 0""",
)


#: (table class, table, column, column class, params beyond the defaults)
COLUMNS = (
    ("MeetingTable", "meetings", "left_in_zoom", Boolean, {"default": False}),
    ("MeetingTable", "meetings", "zoom_uuid", Text, {"default": None, "null": True}),
    ("RemoteSessionTable", "remote_sessions", "announced_join_url", Text, {"default": None, "null": True}),
)


async def forwards():
    manager = _IndexAfterColumns(migration_id=ID, app_name="persistence", description=DESCRIPTION)
    for class_name, tablename, name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name=class_name,
            tablename=tablename,
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={**_DEFAULT_PARAMS, **params},
            schema=None,
        )
    return manager
