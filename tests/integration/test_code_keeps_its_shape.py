"""Checks that keep the architecture as docs/design.md describes it: a pure domain, tables and migrations in step, and
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
    living outside its use case; passing `unit_of_work` along is how the edge gives a use case its
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


#: The project's own packages, whose modules must import one another without a cycle.
PROJECT = ("domain", "persistence", "server")


def test_no_import_cycles_among_the_projects_modules():
    """Every import counts, those inside functions too: one there only puts off, to the call, the cycle it
    closes; a cycle means no module of it can be read, or imported first, without the others ("no
    import cycles")."""
    assert _cycles(_import_graph()) == []


#: Modules only the demo and the tests run: the demo, its app, its organization and pages, the test SMTP server
#: keeping its mail, and the Zoom sandbox. The demo's own app adds them (server/demo_app.py).
DEMO_AND_TEST_DOUBLES = (
    "server.demo", "server.demo_app", "server.northwind", "server.ui.demo_pages", "server.ui.demo_receiver",
    "server.outbox", "server.zoom_sandbox",
)


def test_the_production_app_imports_nothing_of_the_demo_or_the_test_doubles():
    graph = _import_graph()
    reached, waiting = set(), ["server.app"]
    while waiting:
        module = waiting.pop()
        if module not in reached:
            reached.add(module)
            waiting += graph[module]
    assert sorted(m for m in reached if m.startswith(DEMO_AND_TEST_DOUBLES)) == []


def _import_graph() -> dict[str, list[str]]:
    modules = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
        for package in PROJECT
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    return {name: sorted(_imported_modules(name, path, modules)) for name, path in modules.items()}


def _imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from a import b` imports the module a.b when there is one, else a name of a.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        imported |= {target for target in targets if target in modules and target != name}
    return imported


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def test_the_postgresql_unit_of_work_implements_every_port_the_use_cases_see():
    """domain.ports.UnitOfWork is one place to read what persistence must provide: each repository it declares is
    one of PostgresUnitOfWork's, and has every method of its port, callable as the port says."""
    import inspect
    import textwrap
    import typing

    from domain import ports
    from persistence import database

    init = ast.parse(textwrap.dedent(inspect.getsource(database.PostgresUnitOfWork.__init__)))
    built = {
        node.targets[0].attr: getattr(database, node.value.func.id)
        for node in ast.walk(init)
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Attribute)
        and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)
    }
    declared = typing.get_type_hints(ports.UnitOfWork)
    assert sorted(declared) == sorted(built)
    missing = []
    for name, port in declared.items():
        for method, signature in _port_methods(port):
            implemented = getattr(built[name], method, None)
            given = signature.parameters.values()
            positional = [p.name for p in given if p.kind is not p.KEYWORD_ONLY]
            keywords = {p.name: p.name for p in given if p.kind is p.KEYWORD_ONLY}
            try:
                inspect.signature(implemented).bind(*positional, **keywords)
            except (TypeError, ValueError):
                missing.append(f"{name}.{method}{signature}")
    assert missing == []


def _port_methods(port: type):
    import inspect

    for method, function in vars(port).items():
        if inspect.iscoroutinefunction(function):
            yield method, inspect.signature(function)
