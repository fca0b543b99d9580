from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

from domain.emails import email_key

ID = "2026-12-01T00:18:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "members' and Zoom users' email_normalized recomputed by domain.emails (the domain in its IDNA ASCII form, "
    "only ASCII letters folded, compatibility characters matching nobody) instead of str.lower(), so seats "
    "(R5) follow the new rule"
)

#: Rows rewritten per statement: each one's seat and notification triggers stay short.
BATCH = 5_000
TABLES = {"members": "user_id", "zoom_users": "zoom_user_id"}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="persistence", description=DESCRIPTION)

    async def recompute():
        connection = await engine_finder().get_new_connection()
        try:
            for table, key in TABLES.items():
                source = "email" if table == "members" else "email_normalized"
                rows = await connection.fetch(f"SELECT org_id, {key} AS id, {source} AS email, email_normalized FROM {table}")
                changed = [
                    (row["org_id"], row["id"], email_key(row["email"]))
                    for row in rows
                    if email_key(row["email"]) != row["email_normalized"]
                ]
                for start in range(0, len(changed), BATCH):
                    org_ids, ids, emails = (list(column) for column in zip(*changed[start : start + BATCH], strict=True))
                    await connection.execute(
                        f"""
                        UPDATE {table} t SET email_normalized = c.email
                        FROM unnest($1::text[], $2::text[], $3::text[]) AS c (org_id, id, email)
                        WHERE t.org_id = c.org_id AND t.{key} = c.id
                        """,
                        org_ids,
                        ids,
                        emails,
                    )
        finally:
            await connection.close()

    manager.add_raw(recompute)
    return manager
