"""The app hosts' piccolo_conf behind Debian 12's PgBouncer (1.18): in transaction mode a PgBouncer before 1.21
keeps no prepared statement from one transaction to the next, so asyncpg's statement cache is off here.
PgBouncer 1.21 or later with `max_prepared_statements` set needs none of this (docs/operating.md)."""

import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

DB = PostgresEngine(config={"dsn": os.environ["DATABASE_URL"], "statement_cache_size": 0})

APP_REGISTRY = AppRegistry(apps=["persistence.piccolo_app"])
