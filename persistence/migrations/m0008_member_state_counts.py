from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, BigSerial, Boolean, Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.constraints import Unique
from piccolo.engine import engine_finder

ID = "2026-12-01T00:08:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "how many members of each organization are in each member state, kept by triggers"

#: (column, class, params beyond the defaults) — in the order of persistence/tables.py.
COLUMNS = [
    ("id", BigSerial, {"primary_key": True}),
    ("org_id", Varchar, {"length": 128, "default": ""}),
    ("personal_status", Varchar, {"length": 32, "default": "none"}),
    ("seated", Boolean, {"default": False}),
    ("organization_removed", Boolean, {"default": False}),
    ("members", BigInt, {"default": 0}),
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

# The counts behind GET …/integrations/zoom are read from at most 16 rows per organization and folded
# through domain.precedence (persistence/members_table.py), instead of a GROUP BY over every member.
# Statement-level triggers see a batch of 1,000 members as one change per state. Each statement
# changes the count rows in the same order, so concurrent changes wait on each other, never deadlock.
COUNT_TRIGGERS = (
    """CREATE FUNCTION count_member_states() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            -- An organization being deleted may have lost its count rows already: update, never insert.
            UPDATE member_state_counts c SET members = c.members - d.members
            FROM (SELECT org_id, personal_status, seated, organization_removed, count(*) AS members
                  FROM removed GROUP BY 1, 2, 3, 4) d
            WHERE c.org_id = d.org_id AND c.personal_status = d.personal_status AND c.seated = d.seated
              AND c.organization_removed = d.organization_removed;
            RETURN NULL;
        END IF;
        INSERT INTO member_state_counts AS c (org_id, personal_status, seated, organization_removed, members)
        SELECT org_id, personal_status, seated, organization_removed, sum(delta)
        FROM (
            SELECT org_id, personal_status, seated, organization_removed, 1 AS delta FROM added
            UNION ALL
            SELECT org_id, personal_status, seated, organization_removed, -1 FROM removed
        ) changes
        GROUP BY 1, 2, 3, 4
        HAVING sum(delta) <> 0
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (org_id, personal_status, seated, organization_removed)
        DO UPDATE SET members = c.members + EXCLUDED.members;
        RETURN NULL;
    END $$""",
    # A trigger with transition tables fires for one event only; an insert has no old rows.
    """CREATE FUNCTION count_inserted_members() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO member_state_counts AS c (org_id, personal_status, seated, organization_removed, members)
        SELECT org_id, personal_status, seated, organization_removed, count(*) FROM added
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (org_id, personal_status, seated, organization_removed)
        DO UPDATE SET members = c.members + EXCLUDED.members;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER members_count_inserted AFTER INSERT ON members
       REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION count_inserted_members()""",
    """CREATE TRIGGER members_count_updated AFTER UPDATE ON members
       REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION count_member_states()""",
    """CREATE TRIGGER members_count_deleted AFTER DELETE ON members
       REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION count_member_states()""",
)


class _KeysAfterTables(MigrationManager):
    """Piccolo runs `add_raw` steps before it creates tables; the triggers need the table first.

    One transaction around both, so a failure leaves neither; members are locked while the counts are
    taken, so no change slips between the backfill and the triggers.
    """

    async def run(self, backwards: bool = False):
        async with engine_finder().transaction():
            await super().run(backwards=backwards)
            if not backwards and not self.preview:
                await add_what_piccolo_cannot_declare()


async def add_what_piccolo_cannot_declare():
    for statement in (
        """ALTER TABLE member_state_counts ADD CONSTRAINT member_state_counts_organization
           FOREIGN KEY (org_id) REFERENCES organizations (org_id) ON DELETE CASCADE""",
        "LOCK TABLE members IN SHARE ROW EXCLUSIVE MODE",
        """INSERT INTO member_state_counts (org_id, personal_status, seated, organization_removed, members)
           SELECT org_id, personal_status, seated, organization_removed, count(*) FROM members GROUP BY 1, 2, 3, 4""",
        *COUNT_TRIGGERS,
    ):
        await engine_finder().run_ddl(statement)


async def forwards():
    manager = _KeysAfterTables(migration_id=ID, app_name="persistence", description=DESCRIPTION)
    manager.add_table(class_name="MemberStateCountTable", tablename="member_state_counts", schema=None, columns=None)
    for name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name="MemberStateCountTable",
            tablename="member_state_counts",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={**_DEFAULT_PARAMS, **params},
            schema=None,
        )
    manager.add_constraint(
        table_class_name="MemberStateCountTable",
        tablename="member_state_counts",
        constraint_name="one_row_per_state",
        constraint_class=Unique,
        params={"columns": ["org_id", "personal_status", "seated", "organization_removed"], "nulls_distinct": True},
        schema=None,
    )
    return manager
