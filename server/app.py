"""The Roomlink application: HTTP API, browser flows, health."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.openapi import ResponseSpec
from litestar.response import Response
from litestar.types import ControllerRouterHandler

from persistence import database
from server import heap, logging_setup
from server.api.bodies import Health, check_request_body
from server.api.diagnostics import (
    MyDiagnosticsController,
    OrganizationDiagnosticsController,
)
from server.api.events import EventEndpointController
from server.api.integrations import (
    MyIntegrationController,
    OrganizationIntegrationController,
)
from server.api.meetings import MyMeetingsController, OrganizationMeetingsController
from server.api.openapi import docs_assets, document_answers, openapi_config
from server.api.provisioning import ProvisioningController
from server.api.sessions import (
    MySessionsController,
    OrganizationSessionsController,
    SessionProvisioningController,
)
from server.config import Settings, settings_from_env
from server.launch import launch
from server.problems import EXCEPTION_HANDLERS
from server.rate_limits import FailedAttempts, Vouched, failed_attempts_middleware, gate_for
from server.request_context import request_context
from server.scrape import metrics_endpoint
from server.security_headers import security_headers_hook
from server.services import provide_keeper, provide_mailer, provide_zoom, services
from server.ui.front_door import on_not_found
from server.ui.layout import TEMPLATE_CONFIG
from server.ui.routes import UI_ROUTES
from server.webhooks import zoom_webhook


@get("/healthz", operation_id="Health", tags=["health"], summary="The process runs")
async def healthz() -> Health:
    return Health(status="ok")


@get(
    "/readyz",
    operation_id="Ready",
    tags=["health"],
    summary="Ready to serve",
    responses={
        503: ResponseSpec(
            Health,
            description="Not ready: the database does not answer, a migration is not applied, or the key ring "
            "(ROOMLINK_TOKEN_KEYS) cannot open the Zoom tokens stored.",
        )
    },
)
async def readyz() -> Response[Health]:
    if await database.is_ready():
        return Response(Health(status="ready"))
    return Response(Health(status="unavailable"), status_code=503)


def create_app(
    settings: Settings | None = None,
    *,
    extra_routes: Sequence[ControllerRouterHandler] = (),
    extra_state: Mapping[str, object] | None = None,
) -> Litestar:
    """The demo's app (server/demo_app.py) adds its pages and the mounted Zoom sandbox, and its outbox."""
    settings = settings or settings_from_env()
    state = {
        "settings": settings,
        "failed_attempts": FailedAttempts(settings.failed_attempts_per_minute),
        "lookup_gate": gate_for(settings),
        "vouched": Vouched(),
        **(extra_state or {}),
    }
    app = Litestar(
        route_handlers=[
            healthz,
            readyz,
            ProvisioningController,
            OrganizationIntegrationController,
            MyIntegrationController,
            EventEndpointController,
            MyMeetingsController,
            OrganizationMeetingsController,
            SessionProvisioningController,
            OrganizationSessionsController,
            MySessionsController,
            OrganizationDiagnosticsController,
            MyDiagnosticsController,
            launch,
            zoom_webhook,
            docs_assets,
            metrics_endpoint,
            *UI_ROUTES,
            *extra_routes,
        ],
        dependencies={
            "zoom": Provide(provide_zoom, sync_to_thread=False),
            "mailer": Provide(provide_mailer, sync_to_thread=False),
            "keeper": Provide(provide_keeper, sync_to_thread=False),
        },
        before_request=check_request_body,
        before_send=[security_headers_hook(settings.zoom.oauth_base_url if settings.zoom else None, settings.base_url)],
        middleware=[request_context(timed=settings.metrics_token is not None), failed_attempts_middleware],
        exception_handlers={**EXCEPTION_HANDLERS, NotFoundException: on_not_found},
        lifespan=[services],
        on_startup=[heap.freeze_startup_objects],
        state=State(state),
        openapi_config=openapi_config(),
        template_config=TEMPLATE_CONFIG,
    )
    document_answers(app)
    if settings.log_format == logging_setup.JSON:
        # After Litestar, whose own logging configuration replaces the root logger's handlers.
        logging_setup.configure(logging_setup.JSON)
    return app
