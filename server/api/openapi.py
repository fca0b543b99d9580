"""The OpenAPI document's shared parts: what each kind of call can answer, the ids, who may call.

The document names the problem+json codes that really occur (server/problems.py is where they are
made) instead of Litestar's default error body: `document_answers` derives each operation's
refusals from its guard, parameters and dependencies; a handler adds its own domain refusals with
`responses=answers({409: ("member_of_another_organization",)})`.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Request
from litestar.datastructures import CacheControlHeader
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag
from litestar.params import HeaderParameter, PathParameter, QueryParameter
from litestar.static_files import create_static_files_router

from domain.identifiers import IDENTIFIER_PATTERN
from server.auth import SESSION_COOKIE, host_product_guard, manager_guard, member_guard
from server.problems import PROBLEM_JSON

#: Codes a host product can meet, by HTTP status.
Answers = Mapping[int, tuple[str, ...]]


class ProblemOut(msgspec.Struct, frozen=True, kw_only=True):
    """Every refusal: `application/problem+json`."""

    status: Annotated[int, msgspec.Meta(description="The HTTP status, repeated.")]
    code: Annotated[str, msgspec.Meta(description="Stable, snake_case: what went wrong, for code to branch on.")]
    detail: Annotated[str, msgspec.Meta(description="For a person: what went wrong and what to do.")]
    errors: (
        Annotated[
            dict[str, str],
            msgspec.Meta(description="Validation only: each invalid field, as sent (`members[3].email`), and what is wrong."),
        ]
        | msgspec.UnsetType
    ) = msgspec.UNSET


_MEANING = {
    400: "The request is invalid; nothing was changed.",
    401: "Not authenticated.",
    403: "Authenticated, but not allowed.",
    404: "Not found.",
    409: "Conflicts with the current state; nothing was changed.",
    410: "Gone for good.",
    413: "Too large; nothing was changed.",
    415: "The body is not `application/json`.",
    429: "Too many: failed attempts from this address, or Zoom's daily limit; wait as `Retry-After` says.",
    502: "Zoom or the mail server refused or failed; nothing was changed.",
    503: "Something Roomlink depends on is unavailable; nothing was changed. `Retry-After` says when to try again.",
}

#: Every API call: the failed-attempt limit (server/rate_limits.py) and the database.
API: Answers = {429: ("too_many_failed_attempts",), 503: ("database_unavailable", "database_busy")}
#: A call with path, query or header parameters or a JSON body.
PARAMETERS: Answers = {400: ("validation_failed",)}
BODY: Answers = {
    400: ("validation_failed", "malformed_json"),
    413: ("request_too_large",),
    415: ("unsupported_media_type",),
}
#: Provisioning: the API key acting as the host product (host_product_guard).
PROVISIONING: Answers = {401: ("authentication_required", "invalid_api_key"), 403: ("provisioning_as_member",)}
#: Member calls: a session cookie (with the CSRF header on changes) or the API key with X-Roomlink-User (member_guard).
MEMBER: Answers = {
    400: ("acting_user_required",),
    401: ("authentication_required", "invalid_api_key", "session_expired"),
    403: ("unknown_member", "csrf_failed"),
}
#: A call on an organization's path: its id is checked; a member call there is for its owners and admins.
ORGANIZATION: Answers = {400: ("invalid_identifier",), 404: ("organization_not_found",)}
MANAGER: Answers = {403: ("owner_or_admin_required",)}
#: Calls that reach Zoom, and the Zoom tokens sealed at rest.
ZOOM: Answers = {
    429: ("zoom_daily_limit",),
    502: ("zoom_unavailable", "zoom_refused"),
    503: ("zoom_not_configured", "zoom_rate_limited", "token_key_missing"),
}
#: Calls that may send an email.
MAIL: Answers = {502: ("email_not_sent",), 503: ("email_unavailable",)}


class ProblemSpec(ResponseSpec):
    """A problem+json response whose description lists its codes; `document_answers` merges them."""

    def __init__(self, status: int, codes: tuple[str, ...]) -> None:
        super().__init__(
            data_container=ProblemOut,
            media_type=PROBLEM_JSON,
            generate_examples=False,
            description=f"{_MEANING[status]} `code`: " + ", ".join(f"`{code}`" for code in codes) + ".",
        )
        self.codes = codes


def answers(*sets: Answers) -> dict[int, ResponseSpec]:
    """An operation's own refusals (beyond what `document_answers` derives), for `responses=`."""
    codes: dict[int, tuple[str, ...]] = {}
    for answer_set in sets:
        for status, names in answer_set.items():
            codes[status] = codes.get(status, ()) + tuple(name for name in names if name not in codes.get(status, ()))
    return {status: ProblemSpec(status, names) for status, names in sorted(codes.items())}


def document_answers(app: Litestar) -> None:
    """Every API operation documents the refusals it can give: derived from what it depends on (its
    guard, its parameters and body, whether it reaches Zoom or sends mail), merged with what the handler
    declares itself with `responses=answers(...)`. New controllers are documented without repeating these."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if not handler.resolve_include_in_schema():
                continue
            declared = dict(handler.responses or {})
            derived = answers(*_derived(handler, route.path), *(
                {status: spec.codes} for status, spec in declared.items() if isinstance(spec, ProblemSpec)
            ))
            handler.responses = {**declared, **derived}


def _derived(handler: HTTPRouteHandler, path: str) -> list[Answers]:
    # Litestar wraps a sync guard; `func` is the guard itself.
    guards = {getattr(guard, "func", guard) for guard in handler.resolve_guards()}
    parameters = handler.parsed_fn_signature.parameters
    if parameters.keys() - {"state", "request"}:
        # Litestar documents a 400 for any handler with parameters; ours is problem+json.
        sets: list[Answers] = [PARAMETERS]
    else:
        sets = []
    if not path.startswith("/api/"):
        return sets
    sets.append(API)
    if host_product_guard in guards:
        sets.append(PROVISIONING)
    if manager_guard in guards:
        sets += [MEMBER, MANAGER]
    elif member_guard in guards:
        sets += [MEMBER, MANAGER] if "{org_id" in path else [MEMBER]
    if "{org_id" in path:
        sets.append(ORGANIZATION)
    if "data" in parameters:
        sets.append(BODY)
    if any(isinstance(field.kwarg_definition, (QueryParameter, HeaderParameter)) for field in parameters.values()):
        sets.append(PARAMETERS)
    if {"zoom", "keeper"} & set(parameters):
        sets.append(ZOOM)
    if "mailer" in parameters:
        sets.append(MAIL)
    return sets


_ID_SCHEMA = {"pattern": IDENTIFIER_PATTERN, "minLength": 1, "maxLength": 128}

# The patterns are documented, not enforced by Litestar: domain.identifiers.check_identifier
# enforces them (code `invalid_identifier`).
OrgId = Annotated[
    str,
    PathParameter(
        description="The host product's id of the organization: 1–128 characters of letters, digits and . _ : -",
        schema_extra=_ID_SCHEMA,
    ),
]
UserId = Annotated[
    str,
    PathParameter(
        description="The host product's id of the member: 1–128 characters of letters, digits and . _ : -",
        schema_extra=_ID_SCHEMA,
    ),
]
ActivationLinkId = Annotated[
    str, PathParameter(description="The activation link's `id`, as created.", schema_extra={"format": "uuid"})
]
#: A controller-level parameter of member calls (the guard reads it): documented, never required.
ACTING_USER = HeaderParameter(
    annotation=str,
    name="X-Roomlink-User",
    required=False,
    description="With the API key: the member (the host product's user id) the call acts as, authorized exactly "
    "as that member. Not sent with a session cookie.",
    schema_extra=_ID_SCHEMA,
)

API_KEY_SCHEME = "apiKey"
SESSION_SCHEME = "session"
#: Member calls accept either: the API key (with X-Roomlink-User) or a member's session.
MEMBER_SECURITY = [{API_KEY_SCHEME: []}, {SESSION_SCHEME: []}]
PROVISIONING_SECURITY = [{API_KEY_SCHEME: []}]

DESCRIPTION = """\
Roomlink runs Zoom for whole organizations of a host product.

**Provisioning** calls (`Authorization: Bearer <API key>`) create organizations and members with
the host product's own ids, and hand out launch links that open a member's Roomlink session.
**Member calls** act as one member: either with the API key plus `X-Roomlink-User: <user id>`, or
from a browser with the session cookie (changes also need the `X-CSRF-Token` header).

Every refusal is `application/problem+json`: `{"status", "code", "detail", "errors"?}`. `code` is
stable snake_case for code to branch on; `detail` is for people; `errors` maps each invalid field
(as sent, e.g. `members[3].email`) to what is wrong with it. Bad input changes nothing. A `503`
carries `Retry-After`.

Rules cited by number (R17, R19, R22, …) are described in Roomlink's `docs/design.md`, each under its own
anchor (`docs/design.md#r17`); `docs/api.md` walks through the journeys with examples.
"""

DOCS_ASSETS_PATH = "/schema-assets"
_DOCS_ASSETS = Path(__file__).resolve().parents[1] / "static"

#: The docs viewer's script, served by Roomlink itself: /schema works offline.
docs_assets = create_static_files_router(
    path=DOCS_ASSETS_PATH,
    directories=[_DOCS_ASSETS],
    name="docs_assets",
    include_in_schema=False,
    cache_control=CacheControlHeader(max_age=86400),
)


class OfflineRedoc(OpenAPIRenderPlugin):
    """Redoc from Roomlink's own assets, started by a script file rather than inline, so the page needs
    nothing from elsewhere and keeps a strict Content-Security-Policy."""

    def __init__(self) -> None:
        super().__init__(path="/redoc")

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        title = escape(openapi_schema["info"]["title"])
        spec_url = escape(self.get_openapi_json_route(request))
        return (
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title} API</title><link rel=\"icon\" href=\"data:,\">"
            f'<script src="{DOCS_ASSETS_PATH}/redoc/redoc.standalone.js"></script>'
            f'<script src="{DOCS_ASSETS_PATH}/docs.js" defer></script>'
            f'</head><body><div id="redoc" data-spec-url="{spec_url}"></div></body></html>'
        ).encode()


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Roomlink",
        version="1.0.0",
        description=DESCRIPTION,
        path="/schema",
        use_handler_docstrings=True,
        render_plugins=[OfflineRedoc()],
        components=Components(
            security_schemes={
                API_KEY_SCHEME: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="The host product's API key (ROOMLINK_API_KEYS).",
                ),
                SESSION_SCHEME: SecurityScheme(
                    type="apiKey",
                    name=SESSION_COOKIE,
                    security_scheme_in="cookie",
                    description="A member's session, opened by a launch link; changes also need `X-CSRF-Token`.",
                ),
            }
        ),
        tags=[
            Tag(name="provisioning", description="The host product provisions organizations and members (API key)."),
            Tag(name="organization integration", description="An organization's Zoom, for its owners and admins."),
            Tag(name="my integration", description="The calling member's own Zoom."),
            Tag(name="health", description="Liveness and readiness, for load balancers."),
            Tag(name="webhooks", description="Zoom's event notifications, signed by Zoom."),
            Tag(name="browser", description="Pages a person opens."),
        ],
    )
