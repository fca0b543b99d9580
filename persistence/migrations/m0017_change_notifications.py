from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T00:17:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "a committed change to an organization, its members, connections, Zoom users or browser sessions "
    "notifies `roomlink_changes` with the organization's id, for the servers' read caches"
)

#: The tables whose rows the cached reads (persistence/cached_reads.py) are made of.
TABLES = ("organizations", "members", "connections", "zoom_users", "sessions")

# Statement-level triggers: a batch of 1,000 members is one notification, not 1,000. PostgreSQL sends
# notifications only when the transaction commits, once per distinct payload, in commit order. A statement
# that changes more than 100 organizations names none of them: `*` (every organization).
NOTIFY = (
    """CREATE FUNCTION roomlink_notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        changed text[];
    BEGIN
        IF TG_OP = 'DELETE' THEN
            SELECT array_agg(DISTINCT org_id) INTO changed FROM old_rows;
        ELSIF TG_OP = 'INSERT' THEN
            SELECT array_agg(DISTINCT org_id) INTO changed FROM new_rows;
        ELSE
            SELECT array_agg(DISTINCT org_id) INTO changed
            FROM (SELECT org_id FROM old_rows UNION SELECT org_id FROM new_rows) AS both_sides;
        END IF;
        IF cardinality(changed) > 100 THEN
            PERFORM pg_notify('roomlink_changes', '*');
        ELSIF changed IS NOT NULL THEN
            PERFORM pg_notify('roomlink_changes', org_id) FROM unnest(changed) AS org_id;
        END IF;
        RETURN NULL;
    END $$""",
)


def _triggers(table: str) -> tuple[str, ...]:
    # A trigger with transition tables fires for one event only.
    return (
        f"""CREATE TRIGGER {table}_notify_inserted AFTER INSERT ON {table}
           REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION roomlink_notify_changed()""",
        f"""CREATE TRIGGER {table}_notify_updated AFTER UPDATE ON {table}
           REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
           FOR EACH STATEMENT EXECUTE FUNCTION roomlink_notify_changed()""",
        f"""CREATE TRIGGER {table}_notify_deleted AFTER DELETE ON {table}
           REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION roomlink_notify_changed()""",
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="persistence", description=DESCRIPTION)

    async def add_notifications():
        for statement in NOTIFY + tuple(statement for table in TABLES for statement in _triggers(table)):
            await engine_finder().run_ddl(statement)

    manager.add_raw(add_notifications)
    return manager
