"""Checks that keep the architecture as DESIGN.md describes it: a pure domain, tables and migrations in step, and
transactions begun only by persistence/ and the use cases."""

from __future__ import annotations

import ast
from itertools import chain
from pathlib import Path

from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.conf.apps import Finder

ROOT = Path(__file__).resolve().parents[2]
#: What domain/ must never import: frameworks, drivers, HTTP clients, and the outer layers.
OUTSIDE_WORLD = {"litestar", "piccolo", "asyncpg", "httpx", "authlib", "pgqueuer", "server", "persistence", "cryptography"}


def test_domain_imports_nothing_from_the_outside_world():
    offending = []
    for path in sorted((ROOT / "domain").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = (
                [alias.name for alias in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            offending += [f"{path.relative_to(ROOT)}: {name}" for name in names if name.split(".")[0] in OUTSIDE_WORLD]
    assert offending == []


async def test_tables_and_migrations_agree():
    """Piccolo's auto-migration of `persistence` finds nothing to do: every table change has its migration."""
    app_config = Finder().get_app_config("persistence")
    alter_statements = await AutoMigrationManager().get_alter_statements(app_config=app_config)
    assert list(chain(*(statement.statements for statement in alter_statements))) == []


#: The only modules outside persistence/ and domain/ that may begin a transaction themselves: none. Handlers, jobs,
#: pages and commands hand `unit_of_work` (the factory) to one use case, which owns its transactions.
BEGINS_A_TRANSACTION = ("unit_of_work", "transaction", "connection")


def test_no_transaction_is_begun_outside_persistence_and_the_use_cases():
    """A call of `unit_of_work(...)`, `.transaction()` or the pool's `connection()` in server/ is a flow's step
    living outside its use case (issue 8); passing `unit_of_work` along is how the edge gives a use case its
    transactions."""
    begun = []
    for path in sorted((ROOT / "server").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.Call):
                continue
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in BEGINS_A_TRANSACTION:
                begun.append(f"{path.relative_to(ROOT)}:{node.lineno}: {called}()")
    assert begun == []
