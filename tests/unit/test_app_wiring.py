"""How the app is wired keeps hostile traffic from holding resources (issue "Hold under hostile traffic")."""

from __future__ import annotations

import warnings

from litestar.handlers import HTTPRouteHandler

from server.app import create_app
from server.auth import host_product_guard, manager_guard, member_guard
from server.config import Settings
from server.demo_app import create_demo_app


def _handlers():
    app = create_demo_app(Settings(demo=True))
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler):
                yield route.path, handler


def test_no_dependency_holds_a_resource_across_the_request():
    """A yield-dependency started beside one that raises is never closed by Litestar: a leaked transaction."""
    holding = [
        (path, key)
        for path, handler in _handlers()
        for key, provider in handler.resolve_dependencies().items()
        if provider.has_async_generator_dependency or provider.has_sync_generator_dependency
    ]
    assert holding == []


AUTHENTICATING = {host_product_guard, member_guard, manager_guard}


def test_every_api_call_is_authenticated_by_one_guard_before_any_dependency_runs():
    """Exactly one: a second would read who is calling again, and Litestar copies the handler for each guard."""
    authenticating = [
        (path, sorted(handler.http_methods), [guard for guard in map(_function, handler.resolve_guards()) if guard in AUTHENTICATING])
        for path, handler in _handlers()
        if path.startswith("/api/")
    ]
    assert [(path, methods, len(guards)) for path, methods, guards in authenticating if len(guards) != 1] == []


def _function(guard):
    return getattr(guard, "func", guard)


def test_create_app_uses_litestar_explicitly_without_deprecation_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        create_app(Settings(demo=True))
    assert [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)] == []


def test_every_guard_runs_on_the_event_loop_not_in_a_worker_thread():
    """Litestar runs a plain-function guard through a thread pool: about 100 µs of every request it guards."""
    from litestar.utils.sync import AsyncCallable

    in_a_thread = sorted(
        {f"{path}: {guard.func.__name__}" for path, handler in _handlers() for guard in handler.resolve_guards()
         if isinstance(guard, AsyncCallable)}
    )
    assert in_a_thread == []
