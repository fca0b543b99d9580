from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import (
    JSONB,
    UUID,
    BigInt,
    BigSerial,
    Boolean,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.indexes import IndexMethod
from piccolo.constraints import Check, Unique
from piccolo.engine import engine_finder

ID = "2026-12-01T00:07:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "events to the host product (R24): endpoints, the outbox, deliveries, and the facts changes are read from"

#: (table class, table name, [(column, column class, params)]) in the order Piccolo creates them.
TABLES = (
    (
        "EventEndpointTable",
        "event_endpoints",
        [
            ("id", Varchar, {"length": 128, "primary_key": True}),
            ("url", Text, {}),
            ("event_types", JSONB, {"default": "[]"}),
            ("org_id", Varchar, {"length": 128, "null": True, "default": None}),
            ("secret", Text, {"secret": True}),
            ("previous_secret", Text, {"null": True, "default": None, "secret": True}),
            ("previous_secret_expires_at", Timestamptz, {"null": True, "default": None}),
            ("disabled_at", Timestamptz, {"null": True, "default": None}),
            ("disabled_reason", Text, {"null": True, "default": None}),
            ("created_at", Timestamptz, {}),
            ("updated_at", Timestamptz, {}),
        ],
    ),
    (
        "EventTable",
        "events",
        [
            ("position", BigSerial, {"primary_key": True}),
            ("id", UUID, {"unique": True}),
            ("org_id", Varchar, {"length": 128}),
            ("type", Varchar, {"length": 64}),
            ("subject", Varchar, {"length": 200}),
            ("ordinal", BigInt, {}),
            ("occurred_at", Timestamptz, {}),
            ("data", JSONB, {"default": "{}"}),
            ("fan_out", JSONB, {"null": True, "default": None}),
            ("fan_out_state", Varchar, {"length": 16, "null": True, "default": None}),
            ("fan_out_cursor", Varchar, {"length": 128, "null": True, "default": None}),
            ("facts_before", JSONB, {"null": True, "default": None}),
        ],
    ),
    (
        "EventDeliveryTable",
        "event_deliveries",
        [
            ("id", BigSerial, {"primary_key": True}),
            ("endpoint_id", Varchar, {"length": 128}),
            ("event_position", BigInt, {}),
            ("org_id", Varchar, {"length": 128}),
            ("subject", Varchar, {"length": 200}),
            ("ordinal", BigInt, {}),
            ("status", Varchar, {"length": 16, "default": "pending"}),
            ("attempts", Integer, {"default": 0}),
            ("next_attempt_at", Timestamptz, {}),
            ("leased_until", Timestamptz, {"null": True, "default": None}),
            ("first_attempt_at", Timestamptz, {"null": True, "default": None}),
            ("last_attempt_at", Timestamptz, {"null": True, "default": None}),
            ("last_status_code", Integer, {"null": True, "default": None}),
            ("last_error", Text, {"null": True, "default": None}),
            ("delivered_at", Timestamptz, {"null": True, "default": None}),
            ("created_at", Timestamptz, {}),
        ],
    ),
    (
        "MemberFactChangeTable",
        "member_fact_changes",
        [
            ("id", BigSerial, {"primary_key": True}),
            ("txid", BigInt, {}),
            ("org_id", Varchar, {"length": 128}),
            ("user_id", Varchar, {"length": 128}),
            ("personal_status", Varchar, {"length": 32}),
            ("seated", Boolean, {}),
            ("organization_removed", Boolean, {}),
        ],
    ),
    (
        "OrganizationFactChangeTable",
        "organization_fact_changes",
        [
            ("id", BigSerial, {"primary_key": True}),
            ("txid", BigInt, {}),
            ("org_id", Varchar, {"length": 128}),
            ("connection_id", UUID, {"null": True, "default": None}),
            ("connection_status", Varchar, {"length": 32, "null": True, "default": None}),
            ("members_may_remove", Boolean, {"null": True, "default": None}),
        ],
    ),
)

CONSTRAINTS = (
    ("EventTable", "events", "known_fan_out_state", Check, {"condition": "fan_out_state IN ('pending', 'running', 'done')"}),
    (
        "EventDeliveryTable",
        "event_deliveries",
        "known_delivery_status",
        Check,
        {"condition": "status IN ('pending', 'delivered', 'failed')"},
    ),
    (
        "EventDeliveryTable",
        "event_deliveries",
        "one_delivery_per_endpoint",
        Unique,
        {"columns": ["endpoint_id", "event_position"], "nulls_distinct": True},
    ),
)

# Every change of a member's facts (personal connection status, seat, removal) and of an
# organization's (its connection, the policy) is noted with the transaction that made it; when that
# transaction commits, the unit of work turns the notes into events through domain.events and
# deletes them. The database notes them, as it keeps the facts themselves (m0002), so no code path
# — a seat resync touching thousands of members included — can forget one.
FACT_TRIGGERS = (
    """CREATE FUNCTION note_member_facts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO member_fact_changes (txid, org_id, user_id, personal_status, seated, organization_removed)
        SELECT txid_current(), o.org_id, o.user_id, o.personal_status, o.seated, o.organization_removed
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.personal_status, o.seated, o.organization_removed)
              IS DISTINCT FROM (n.personal_status, n.seated, n.organization_removed);
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER members_note_facts AFTER UPDATE ON members
       REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION note_member_facts()""",
    """CREATE FUNCTION note_organization_connection() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO organization_fact_changes (txid, org_id, connection_id, connection_status, members_may_remove)
            SELECT txid_current(), NEW.org_id, NULL, NULL, allow_members_to_remove FROM organizations WHERE org_id = NEW.org_id;
        ELSE
            INSERT INTO organization_fact_changes (txid, org_id, connection_id, connection_status, members_may_remove)
            SELECT txid_current(), OLD.org_id, OLD.id, OLD.status,
                   (SELECT allow_members_to_remove FROM organizations WHERE org_id = OLD.org_id);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER connections_note_organization_inserted AFTER INSERT ON connections
       FOR EACH ROW WHEN (NEW.type = 'organization') EXECUTE FUNCTION note_organization_connection()""",
    """CREATE TRIGGER connections_note_organization_deleted AFTER DELETE ON connections
       FOR EACH ROW WHEN (OLD.type = 'organization') EXECUTE FUNCTION note_organization_connection()""",
    """CREATE TRIGGER connections_note_organization_status AFTER UPDATE OF status ON connections
       FOR EACH ROW WHEN (OLD.type = 'organization' AND OLD.status IS DISTINCT FROM NEW.status)
       EXECUTE FUNCTION note_organization_connection()""",
    """CREATE FUNCTION note_organization_policy() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO organization_fact_changes (txid, org_id, connection_id, connection_status, members_may_remove)
        SELECT txid_current(), OLD.org_id, c.id, c.status, OLD.allow_members_to_remove
        FROM (SELECT 1) AS one
        LEFT JOIN connections c ON c.org_id = OLD.org_id AND c.type = 'organization';
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER organizations_note_policy AFTER UPDATE OF allow_members_to_remove ON organizations
       FOR EACH ROW WHEN (OLD.allow_members_to_remove IS DISTINCT FROM NEW.allow_members_to_remove)
       EXECUTE FUNCTION note_organization_policy()""",
)

INDEXES = (
    """ALTER TABLE event_deliveries ADD CONSTRAINT delivery_endpoint
       FOREIGN KEY (endpoint_id) REFERENCES event_endpoints (id) ON DELETE CASCADE""",
    """ALTER TABLE event_deliveries ADD CONSTRAINT delivery_event
       FOREIGN KEY (event_position) REFERENCES events (position) ON DELETE CASCADE""",
    "CREATE INDEX events_by_organization ON events (org_id, position)",
    "CREATE INDEX events_fanning_out ON events (org_id, position) WHERE fan_out_state IN ('pending', 'running')",
    # A fan-out reads members' facts as they were at its organization event: from their next own event.
    "CREATE INDEX events_with_facts_before ON events (org_id, subject, position) WHERE facts_before IS NOT NULL",
    # The head of each (endpoint, subject) queue: deliveries go out in order per subject.
    """CREATE INDEX deliveries_in_order ON event_deliveries (endpoint_id, subject, ordinal, event_position)
       WHERE status = 'pending'""",
    "CREATE INDEX deliveries_due ON event_deliveries (next_attempt_at, id) WHERE status = 'pending'",
    "CREATE INDEX deliveries_of_endpoint ON event_deliveries (endpoint_id, id)",
    "CREATE INDEX member_fact_changes_by_transaction ON member_fact_changes (txid)",
    "CREATE INDEX organization_fact_changes_by_transaction ON organization_fact_changes (txid)",
)

_DEFAULT_PARAMS = {
    "default": None,
    "null": False,
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


class _ThenIndexesAndTriggers(MigrationManager):
    """Piccolo runs raw steps before it creates tables; these need the tables, so they run last."""

    async def _run_add_constraints(self, backwards: bool = False) -> None:
        await super()._run_add_constraints(backwards=backwards)
        if not backwards and not self.preview:
            for statement in (*INDEXES, *FACT_TRIGGERS):
                await engine_finder().run_ddl(statement)


async def forwards():
    manager = _ThenIndexesAndTriggers(migration_id=ID, app_name="persistence", description=DESCRIPTION)

    for class_name, tablename, columns in TABLES:
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, column_class, params in columns:
            defaults = dict(_DEFAULT_PARAMS)
            if "default" not in params and not params.get("null"):
                defaults.pop("default")
            manager.add_column(
                table_class_name=class_name,
                tablename=tablename,
                column_name=name,
                db_column_name=name,
                column_class_name=column_class.__name__,
                column_class=column_class,
                params={**defaults, **params},
                schema=None,
            )

    for class_name, tablename, name, constraint_class, params in CONSTRAINTS:
        manager.add_constraint(
            table_class_name=class_name,
            tablename=tablename,
            constraint_name=name,
            constraint_class=constraint_class,
            params=params,
            schema=None,
        )

    return manager
