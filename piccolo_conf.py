"""Piccolo's configuration: the one PostgreSQL database, named by DATABASE_URL."""

import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/roomlink"

DB = PostgresEngine(config={"dsn": os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)})

APP_REGISTRY = AppRegistry(apps=["persistence.piccolo_app"])
