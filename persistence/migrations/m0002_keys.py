from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-21T00:03:39:000000"
VERSION = "1.38.0"
DESCRIPTION = "keys Piccolo cannot declare: composite foreign keys, org-led indexes"


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
            # Zoom emails are unique within an account, so a member matches at most one seat.
            "CREATE UNIQUE INDEX zoom_users_by_email ON zoom_users (org_id, email_normalized) INCLUDE (status)",
            "CREATE INDEX zoom_users_by_connection ON zoom_users (connection_id)",
            "CREATE INDEX zoom_identity_claims_by_connection ON zoom_identity_claims (connection_id)",
            "CREATE INDEX audit_events_by_time ON audit_events (org_id, at)",
        ):
            await engine_finder().run_ddl(statement)

    manager.add_raw(add_keys_piccolo_cannot_declare)

    return manager
