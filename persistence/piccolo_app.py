import os

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="persistence",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=table_finder(modules=["persistence.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
