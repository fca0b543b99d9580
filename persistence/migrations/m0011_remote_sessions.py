from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import (
    JSONB,
    BigSerial,
    Boolean,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.constraints import Check, Unique
from piccolo.engine import engine_finder

ID = "2026-12-01T00:11:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "remote sessions and their bookings; a meeting may be a session's"

SESSION_STATUSES = "('no_bookings', 'link_pending', 'ready', 'needs_attention', 'cancelled')"

#: (column, class, params beyond the defaults) — in the order of persistence/tables.py.
SESSION_COLUMNS = [
    ("id", BigSerial, {"primary_key": True}),
    ("org_id", Varchar, {"length": 128, "default": ""}),
    ("session_id", Varchar, {"length": 128, "default": ""}),
    ("host_user_id", Varchar, {"length": 128, "default": ""}),
    ("title", Varchar, {"length": 200, "default": ""}),
    ("start_time", Timestamptz, {"default": TimestamptzNow()}),
    ("duration_minutes", Integer, {"default": 0}),
    ("timezone", Varchar, {"length": 64, "default": ""}),
    ("remote", Boolean, {"default": True}),
    ("capacity", Integer, {"default": None, "null": True}),
    ("status", Varchar, {"length": 32, "default": ""}),
    ("status_reason", Text, {"default": None, "null": True}),
    ("host_problem", Text, {"default": None, "null": True}),
    ("link_generation", Integer, {"default": 0}),
    ("co_host_user_ids", JSONB, {"default": "[]"}),
    ("cancelled_at", Timestamptz, {"default": None, "null": True}),
    ("created_at", Timestamptz, {"default": TimestamptzNow()}),
    ("updated_at", Timestamptz, {"default": TimestamptzNow()}),
]

BOOKING_COLUMNS = [
    ("id", BigSerial, {"primary_key": True}),
    ("org_id", Varchar, {"length": 128, "default": ""}),
    ("session_id", Varchar, {"length": 128, "default": ""}),
    ("booking_id", Varchar, {"length": 128, "default": ""}),
    ("name", Varchar, {"length": 200, "default": ""}),
    ("email", Varchar, {"length": 320, "default": ""}),
    ("user_id", Varchar, {"length": 128, "default": None, "null": True}),
    ("notified_generation", Integer, {"default": 0}),
    ("emailed_generation", Integer, {"default": 0}),
    ("created_at", Timestamptz, {"default": TimestamptzNow()}),
]

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


def _column(manager, class_name, tablename, name, column_class, params):
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


class _KeysAfterTables(MigrationManager):
    """Piccolo runs `add_raw` steps before it creates tables; these keys need the tables first."""

    async def run(self, backwards: bool = False):
        async with engine_finder().transaction():
            await super().run(backwards=backwards)
            if not backwards and not self.preview:
                await add_keys_piccolo_cannot_declare()


async def add_keys_piccolo_cannot_declare():
    for statement in (
        # A member who hosts sessions goes with them (as with their meetings).
        """ALTER TABLE remote_sessions ADD CONSTRAINT session_host
           FOREIGN KEY (org_id, host_user_id) REFERENCES members (org_id, user_id) ON DELETE CASCADE""",
        """ALTER TABLE session_bookings ADD CONSTRAINT booking_session
           FOREIGN KEY (org_id, session_id) REFERENCES remote_sessions (org_id, session_id) ON DELETE CASCADE""",
        # The host's day, and the host's future sessions when their connection changes (R21).
        "CREATE INDEX sessions_by_host ON remote_sessions (org_id, host_user_id, start_time)",
        # Owners' and admins' list, by start time, optionally by status.
        "CREATE INDEX sessions_by_start ON remote_sessions (org_id, start_time, session_id)",
        "CREATE INDEX sessions_by_status ON remote_sessions (org_id, status, start_time, session_id)",
        # A session's current meeting: its latest.
        "CREATE INDEX meetings_by_session ON meetings (org_id, session_id, created_at) WHERE session_id IS NOT NULL",
    ):
        await engine_finder().run_ddl(statement)


async def forwards():
    manager = _KeysAfterTables(migration_id=ID, app_name="persistence", description=DESCRIPTION)
    _column(manager, "MeetingTable", "meetings", "session_id", Varchar, {"length": 128, "default": None, "null": True})
    _column(manager, "MeetingTable", "meetings", "alternative_hosts", Text, {"default": ""})
    for class_name, tablename, columns in (
        ("RemoteSessionTable", "remote_sessions", SESSION_COLUMNS),
        ("SessionBookingTable", "session_bookings", BOOKING_COLUMNS),
    ):
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, column_class, params in columns:
            _column(manager, class_name, tablename, name, column_class, params)
    for table, tablename, name, cls, params in (
        ("RemoteSessionTable", "remote_sessions", "one_session_per_id", Unique,
         {"columns": ["org_id", "session_id"], "nulls_distinct": True}),
        ("RemoteSessionTable", "remote_sessions", "known_session_status", Check,
         {"condition": f"status IN {SESSION_STATUSES}"}),
        ("RemoteSessionTable", "remote_sessions", "session_duration", Check,
         {"condition": "duration_minutes BETWEEN 1 AND 1440"}),
        ("SessionBookingTable", "session_bookings", "one_booking_per_id", Unique,
         {"columns": ["org_id", "session_id", "booking_id"], "nulls_distinct": True}),
    ):
        manager.add_constraint(
            table_class_name=table, tablename=tablename, constraint_name=name, constraint_class=cls, params=params,
            schema=None,
        )
    return manager
