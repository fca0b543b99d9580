from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-21T00:14:19:000000"
VERSION = "1.38.0"
DESCRIPTION = "what Piccolo cannot declare: composite foreign keys, org-led indexes, the triggers keeping member state"

# A member's own facts that decide their effective connection (R7) are kept on their row by the
# database itself, so that the members table filters and counts by index, whatever the
# organization's size, and no code path can forget to update them. Organization-wide facts
# (the organization connection's status, the policy) stay in one row each: breaking the
# organization connection is one write.
MEMBER_STATE_TRIGGERS = (
    """CREATE FUNCTION member_personal_status() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.type = 'personal' THEN
            UPDATE members SET personal_status = 'none' WHERE org_id = OLD.org_id AND user_id = OLD.user_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.type = 'personal' THEN
            UPDATE members SET personal_status = NEW.status WHERE org_id = NEW.org_id AND user_id = NEW.user_id;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER connections_keep_member_personal_status
       AFTER INSERT OR DELETE OR UPDATE OF status, type, user_id ON connections
       FOR EACH ROW EXECUTE FUNCTION member_personal_status()""",
    """CREATE FUNCTION member_seated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.seated := EXISTS (
            SELECT 1 FROM zoom_users z
            WHERE z.org_id = NEW.org_id AND z.email_normalized = NEW.email_normalized AND z.status = 'active');
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER members_keep_seated
       BEFORE INSERT OR UPDATE OF email_normalized ON members
       FOR EACH ROW EXECUTE FUNCTION member_seated()""",
    # Zoom emails are unique within an account: an inserted active user seats the member with that
    # email, a deleted one unseats them, an update recomputes both its old and its new email.
    """CREATE FUNCTION seat_inserted_zoom_users() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE members m SET seated = true FROM inserted z
        WHERE m.org_id = z.org_id AND m.email_normalized = z.email_normalized AND z.status = 'active';
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION unseat_deleted_zoom_users() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE members m SET seated = false FROM deleted z
        WHERE m.org_id = z.org_id AND m.email_normalized = z.email_normalized AND m.seated;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION reseat_updated_zoom_users() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE members m
        SET seated = EXISTS (
            SELECT 1 FROM zoom_users z
            WHERE z.org_id = m.org_id AND z.email_normalized = m.email_normalized AND z.status = 'active')
        FROM (SELECT org_id, email_normalized FROM deleted UNION SELECT org_id, email_normalized FROM inserted) c
        WHERE m.org_id = c.org_id AND m.email_normalized = c.email_normalized;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER zoom_users_seat_inserted AFTER INSERT ON zoom_users
       REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION seat_inserted_zoom_users()""",
    """CREATE TRIGGER zoom_users_unseat_deleted AFTER DELETE ON zoom_users
       REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION unseat_deleted_zoom_users()""",
    """CREATE TRIGGER zoom_users_reseat_updated AFTER UPDATE ON zoom_users
       REFERENCING OLD TABLE AS deleted NEW TABLE AS inserted
       FOR EACH STATEMENT EXECUTE FUNCTION reseat_updated_zoom_users()""",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="persistence", description=DESCRIPTION)

    async def add_keys_piccolo_cannot_declare():
        # Composite foreign keys and multi-column indexes, each led by org_id.
        for statement in (
            """ALTER TABLE connections ADD CONSTRAINT personal_connection_member
               FOREIGN KEY (org_id, user_id) REFERENCES members (org_id, user_id) ON DELETE CASCADE""",
            """ALTER TABLE launch_links ADD CONSTRAINT launch_link_member
               FOREIGN KEY (org_id, user_id) REFERENCES members (org_id, user_id) ON DELETE CASCADE""",
            """ALTER TABLE sessions ADD CONSTRAINT session_member
               FOREIGN KEY (org_id, user_id) REFERENCES members (org_id, user_id) ON DELETE CASCADE""",
            """ALTER TABLE zoom_users ADD CONSTRAINT known_zoom_user_status
               CHECK (status IN ('active', 'inactive', 'pending'))""",
            "CREATE INDEX members_by_name ON members (org_id, name, user_id)",
            "CREATE INDEX members_by_email ON members (org_id, email_normalized)",
            # Search matches the start of any word of a member's name or email. GIN cannot lead with
            # org_id (that needs btree_gin, which not every PostgreSQL has); queries still filter by it.
            """ALTER TABLE members ADD COLUMN search tsvector GENERATED ALWAYS AS (
                   to_tsvector('simple', name || ' ' || regexp_replace(email, '[^[:alnum:]]+', ' ', 'g'))
               ) STORED""",
            "CREATE INDEX members_search ON members USING gin (search)",
            # The members table reads one range of this index per member state (persistence/members_table.py).
            "CREATE INDEX members_by_state ON members (org_id, personal_status, seated, organization_removed, name, user_id)",
            # Zoom emails are unique within an account, so a member matches at most one seat.
            "CREATE UNIQUE INDEX zoom_users_by_email ON zoom_users (org_id, email_normalized) INCLUDE (status)",
            "CREATE INDEX zoom_users_by_connection ON zoom_users (connection_id)",
            "CREATE INDEX zoom_identity_claims_by_connection ON zoom_identity_claims (connection_id)",
            "CREATE INDEX audit_events_by_time ON audit_events (org_id, at)",
            *MEMBER_STATE_TRIGGERS,
        ):
            await engine_finder().run_ddl(statement)

    manager.add_raw(add_keys_piccolo_cannot_declare)

    return manager
