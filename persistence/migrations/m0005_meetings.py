from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import (
    UUID,
    BigInt,
    BigSerial,
    Boolean,
    Date,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod
from piccolo.constraints import Check, Unique
from piccolo.engine import engine_finder

ID = "2026-12-01T00:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "meetings through each member's effective connection, and Zoom's daily budget per host"

MEETING_STATUSES = "('scheduled', 'pending', 'cancelled', 'needs_attention')"

#: (column, class, params beyond the defaults) — in the order of persistence/tables.py.
MEETING_COLUMNS = [
    ("id", UUID, {"default": UUID4(), "primary_key": True}),
    ("org_id", Varchar, {"length": 128, "default": ""}),
    ("user_id", Varchar, {"length": 128, "default": ""}),
    ("connection_id", UUID, {"default": UUID4()}),
    ("connection_type", Varchar, {"length": 16, "default": ""}),
    ("zoom_user_id", Varchar, {"length": 64, "default": ""}),
    ("zoom_user_email", Varchar, {"length": 320, "default": ""}),
    ("topic", Varchar, {"length": 200, "default": ""}),
    ("start_time", Timestamptz, {"default": TimestamptzNow()}),
    ("duration_minutes", Integer, {"default": 0}),
    ("timezone", Varchar, {"length": 64, "default": ""}),
    ("agenda", Text, {"default": ""}),
    ("passcode", Varchar, {"length": 10, "default": None, "null": True}),
    ("zoom_meeting_id", BigInt, {"default": None, "null": True}),
    ("join_url", Text, {"default": None, "null": True}),
    ("status", Varchar, {"length": 32, "default": ""}),
    ("status_reason", Text, {"default": None, "null": True}),
    ("in_personal_room", Boolean, {"default": False}),
    ("idempotency_key", Varchar, {"length": 255, "default": None, "null": True}),
    ("request_hash", Varchar, {"length": 64, "default": ""}),
    ("attempts", Integer, {"default": 0}),
    ("lease_until", Timestamptz, {"default": None, "null": True}),
    ("not_before", Timestamptz, {"default": None, "null": True}),
    ("created_at", Timestamptz, {"default": TimestamptzNow()}),
    ("updated_at", Timestamptz, {"default": TimestamptzNow()}),
]

BUDGET_COLUMNS = [
    ("id", BigSerial, {"primary_key": True}),
    ("org_id", Varchar, {"length": 128, "default": ""}),
    ("zoom_user_id", Varchar, {"length": 64, "default": ""}),
    ("day", Date, {"default": DateNow()}),
    ("used", Integer, {"default": 0}),
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


def _add_table(manager, class_name, tablename, columns):
    manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
    for name, column_class, params in columns:
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
    """Piccolo runs `add_raw` steps before it creates tables; these keys need the tables first.

    One transaction around both, so a failure leaves neither.
    """

    async def run(self, backwards: bool = False):
        async with engine_finder().transaction():
            await super().run(backwards=backwards)
            if not backwards and not self.preview:
                await add_keys_piccolo_cannot_declare()


async def add_keys_piccolo_cannot_declare():
    # Each led by org_id (docs/design.md#architecture).
    for statement in (
        """ALTER TABLE meetings ADD CONSTRAINT meeting_member
           FOREIGN KEY (org_id, user_id) REFERENCES members (org_id, user_id) ON DELETE CASCADE""",
        # A member's meetings by start time: GET /me/meetings pages through this range.
        "CREATE INDEX meetings_by_member ON meetings (org_id, user_id, start_time, id)",
        # Zoom's meeting events name the Zoom meeting id.
        "CREATE INDEX meetings_by_zoom_id ON meetings (org_id, zoom_meeting_id) WHERE zoom_meeting_id IS NOT NULL",
    ):
        await engine_finder().run_ddl(statement)


async def forwards():
    manager = _KeysAfterTables(migration_id=ID, app_name="persistence", description=DESCRIPTION)
    _add_table(manager, "MeetingTable", "meetings", MEETING_COLUMNS)
    _add_table(manager, "MeetingBudgetTable", "meeting_budget", BUDGET_COLUMNS)

    for table, tablename, name, cls, params in (
        ("MeetingTable", "meetings", "one_meeting_per_key", Unique,
         {"columns": ["org_id", "user_id", "idempotency_key"], "nulls_distinct": True}),
        ("MeetingTable", "meetings", "known_status", Check, {"condition": f"status IN {MEETING_STATUSES}"}),
        ("MeetingTable", "meetings", "known_connection_type", Check,
         {"condition": "connection_type IN ('personal', 'organization')"}),
        ("MeetingTable", "meetings", "zoom_duration", Check, {"condition": "duration_minutes BETWEEN 1 AND 1440"}),
        ("MeetingBudgetTable", "meeting_budget", "one_row_per_host_and_day", Unique,
         {"columns": ["org_id", "zoom_user_id", "day"], "nulls_distinct": True}),
        ("MeetingBudgetTable", "meeting_budget", "within_zoom_limit", Check, {"condition": "used BETWEEN 0 AND 100"}),
    ):
        manager.add_constraint(
            table_class_name=table, tablename=tablename, constraint_name=name, constraint_class=cls, params=params,
            schema=None,
        )

    return manager
