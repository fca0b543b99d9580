from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T00:16:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "activation_links.zoom_admin_email becomes emailed_to, the API's name for it: zoom_admin_email is the "
    "organization connection's admin everywhere else"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="persistence", description=DESCRIPTION)
    manager.rename_column(
        table_class_name="ActivationLinkTable",
        tablename="activation_links",
        old_column_name="zoom_admin_email",
        new_column_name="emailed_to",
        old_db_column_name="zoom_admin_email",
        new_db_column_name="emailed_to",
        schema=None,
    )
    return manager
