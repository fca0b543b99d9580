"""The Zoom sandbox as a Litestar app: Zoom's own paths plus the ``/sandbox`` control API.

Run it alone (``create_sandbox_app()`` reads its settings from the environment) or mount it
inside another Litestar app with `mount_sandbox`, which sets the ASGI ``root_path`` so the
sandbox's pages, redirects and URLs point under the mount path.
"""

from __future__ import annotations

import httpx
from litestar import Litestar, Router, asgi
from litestar.datastructures import State
from litestar.di import Provide
from litestar.handlers import ASGIRouteHandler
from litestar.types import Receive, Scope, Send

from server.zoom_sandbox.api import api_router
from server.zoom_sandbox.config import (
    SandboxConfig,
    ZoomAppConfig,
    sandbox_config_from_env,
)
from server.zoom_sandbox.control import control_router
from server.zoom_sandbox.errors import EXCEPTION_HANDLERS
from server.zoom_sandbox.oauth import (
    OAUTH_HANDLERS,
    AuthorizePageError,
    show_authorize_page_error,
)
from server.zoom_sandbox.pages import PAGE_HANDLERS, meeting_room
from server.zoom_sandbox.state import Clock, Sandbox, utc_now
from server.zoom_sandbox.traffic import ZoomTraffic

__all__ = ["SandboxConfig", "ZoomAppConfig", "create_sandbox_app", "mount_sandbox", "sandbox_config_from_env"]


def create_sandbox_app(
    config: SandboxConfig | None = None,
    *,
    clock: Clock = utc_now,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
) -> Litestar:
    """A new sandbox with its own state, reachable as ``app.state.sandbox``.

    ``clock`` lets tests move time (code and token expiry, daily limits); ``webhook_transport``
    lets them receive webhooks in-process instead of over the network.
    """
    sandbox = Sandbox(config or sandbox_config_from_env(), clock=clock, webhook_transport=webhook_transport)
    zoom_routes = Router(
        path="/",
        route_handlers=[*OAUTH_HANDLERS, api_router()],
        middleware=[ZoomTraffic()],
        exception_handlers={**EXCEPTION_HANDLERS, AuthorizePageError: show_authorize_page_error},
    )
    return Litestar(
        route_handlers=[zoom_routes, control_router(), meeting_room, *PAGE_HANDLERS],
        dependencies={"sandbox": Provide(lambda: sandbox, sync_to_thread=False)},
        # Also how middleware finds it: see `traffic.sandbox_of`.
        state=State({"sandbox": sandbox}),
        # Zoom's published documents describe this API; a generated one would only compete.
        openapi_config=None,
    )


def mount_sandbox(sandbox_app: Litestar, path: str = "/zoom-sandbox") -> ASGIRouteHandler:
    """A route handler serving ``sandbox_app`` under ``path`` of another Litestar app.

    Litestar strips the mount path from ``scope["path"]`` but leaves ``root_path`` alone;
    adding the mount path there is what makes the sandbox's own URLs include it.
    """

    @asgi(path, is_mount=True, copy_scope=True)
    async def zoom_sandbox(scope: Scope, receive: Receive, send: Send) -> None:
        scope["root_path"] = scope.get("root_path", "") + path
        await sandbox_app(scope, receive, send)

    return zoom_sandbox
