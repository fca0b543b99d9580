from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

from domain.emails import email_key

ID = "2026-12-01T00:18:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "members' email_normalized recomputed from their email by domain.emails (the domain in its IDNA ASCII form, "
    "only ASCII letters folded, compatibility characters matching nobody) instead of str.lower(), so seats "
    "(R5) follow the new rule; Zoom users keep no raw email, so theirs are rekeyed by the next seat resync "
    "(the periodic verification compares Zoom's emails under the new rule and rewrites what differs)"
)

#: Rows rewritten per statement: each one's seat and notification triggers stay short.
BATCH = 5_000


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="persistence", description=DESCRIPTION)

    async def recompute_emails():
        connection = await engine_finder().get_new_connection()
        try:
            await recompute(connection)
        finally:
            await connection.close()

    manager.add_raw(recompute_emails)
    return manager


async def recompute(connection) -> int:
    """Every member's email_normalized that the rule now gives differently, rewritten (the seat triggers follow);
    returns how many were."""
    rows = await connection.fetch("SELECT org_id, user_id, email, email_normalized FROM members")
    changed = [
        (row["org_id"], row["user_id"], email_key(row["email"])) for row in rows if email_key(row["email"]) != row["email_normalized"]
    ]
    for start in range(0, len(changed), BATCH):
        org_ids, user_ids, emails = (list(column) for column in zip(*changed[start : start + BATCH], strict=True))
        await connection.execute(
            """
            UPDATE members m SET email_normalized = c.email
            FROM unnest($1::text[], $2::text[], $3::text[]) AS c (org_id, user_id, email)
            WHERE m.org_id = c.org_id AND m.user_id = c.user_id
            """,
            org_ids,
            user_ids,
            emails,
        )
    return len(changed)
