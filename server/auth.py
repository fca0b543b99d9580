"""Who is calling: an API key (optionally acting as a member) or a member's session cookie."""

from __future__ import annotations

import hmac
import secrets

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from domain import browser_sessions
from domain.access import Principal, require_manager
from domain.connecting import secret_hash as hash_secret  # noqa: F401  (server.demo hashes its secrets with it)
from domain.identifiers import check_identifier
from persistence.database import unit_of_work
from server.clock import utcnow
from server.config import ApiKey, Settings
from server.problems import Problem

SESSION_COOKIE = "roomlink_session"
CSRF_COOKIE = "roomlink_csrf"
CSRF_HEADER = "X-CSRF-Token"
#: Pages' forms work without script, so they carry the CSRF token as a field instead of the header.
CSRF_FIELD = "csrf_token"
ACTING_USER_HEADER = "X-Roomlink-User"
#: Holds the secret an OAuth state is bound to, in the browser Roomlink sent to Zoom.
OAUTH_BROWSER_COOKIE = "roomlink_oauth_browser"
#: Roomlink's link to Zoom: opening it binds the sign-in to that browser, then redirects to Zoom.
OAUTH_START_PATH = "/oauth/zoom/start"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def new_secret() -> str:
    """256 bits of randomness, URL-safe."""
    return secrets.token_urlsafe(32)


def new_code_verifier() -> str:
    """PKCE: 64 characters from the unreserved set (RFC 7636 allows 43–128)."""
    return secrets.token_urlsafe(48)


def _bearer(connection: ASGIConnection) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def _api_key(connection: ASGIConnection, settings: Settings) -> ApiKey | None:
    presented = _bearer(connection)
    if presented is None:
        return None
    key = settings.find_api_key(presented)
    if key is None:
        raise Problem(401, "invalid_api_key", "The API key is not valid.")
    return key


def session_token(connection: ASGIConnection) -> str | None:
    """The session cookie, when it is what authenticated the caller (an API key takes precedence)."""
    return None if _bearer(connection) else connection.cookies.get(SESSION_COOKIE)


async def host_product_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Provisioning: the API key acting as the host product itself. Needs no database."""
    key = _api_key(connection, connection.app.state.settings)
    if key is None:
        raise Problem(401, "authentication_required", "Provisioning needs `Authorization: Bearer <API key>`.")
    if ACTING_USER_HEADER.lower() in connection.headers:
        raise Problem(
            403, "provisioning_as_member", f"Provisioning calls act as the host product; drop {ACTING_USER_HEADER}."
        )
    connection.state.api_key = key


async def member_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Member calls: who is calling, found on a connection of its own that is released before the handler runs,
    so no request is authenticated inside its transaction and a rejected one holds nothing."""
    connection.state.principal = await _authenticate_member(connection, connection.app.state.settings)


async def manager_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """R1 at the edge: member_guard's caller, then an organization's owner-and-admin calls refuse anyone else
    before a parameter or body of theirs is read. The rule is domain.access.require_manager, which the use
    cases apply too; a malformed `org_id` is still the 400 that names it. One guard, not member_guard then
    this: Litestar copies the handler for every guard it calls, a tenth of a members page's cost."""
    principal = connection.state.principal = await _authenticate_member(connection, connection.app.state.settings)
    org_id = check_identifier(connection.path_params["org_id"], "org_id")
    require_manager(principal, org_id)


async def page_form_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A page's form, posted by a browser signed in with the session cookie: its `csrf_token` field must be
    the session's, as the header is for the API. Pages act for the person in the browser, never an API key."""
    token = connection.cookies.get(SESSION_COOKIE)
    if not token or _bearer(connection):
        raise Problem(401, "authentication_required", "Sign in through your product.")
    form = await connection.form()  # a Request: guards of HTTP routes get one
    session = await browser_sessions.signed_in(unit_of_work, token, utcnow())
    if session is None:
        raise Problem(401, "session_expired", "Your session has ended; open Roomlink again from your product.")
    if not hmac.compare_digest(str(form.get(CSRF_FIELD, "")), session.csrf_token):
        raise Problem(403, "csrf_failed", "This form is out of date: reload the page and try again.")
    connection.state.principal = _known(session.principal)
    connection.state.csrf_token = session.csrf_token


def provide_api_key(request: Request) -> ApiKey:
    return request.state.api_key


def provide_principal(request: Request) -> Principal:
    return request.state.principal


async def _authenticate_member(connection: ASGIConnection, settings: Settings) -> Principal:
    key = _api_key(connection, settings)
    if key is not None:
        user_id = connection.headers.get(ACTING_USER_HEADER)
        if not user_id:
            raise Problem(
                400, "acting_user_required", f"Member calls with an API key need the {ACTING_USER_HEADER} header."
            )
        return _known(await browser_sessions.acting_member(unit_of_work, user_id, f"api_key:{key.label} as user:{user_id}"))
    token = connection.cookies.get(SESSION_COOKIE)
    if not token:
        raise Problem(401, "authentication_required", "Sign in through your product, or use an API key.")
    session = await browser_sessions.signed_in(unit_of_work, token, utcnow())
    if session is None:
        raise Problem(401, "session_expired", "Your session has ended; open Roomlink again from your product.")
    if connection.scope["method"] not in _SAFE_METHODS and not hmac.compare_digest(
        connection.headers.get(CSRF_HEADER, ""), session.csrf_token
    ):
        raise Problem(403, "csrf_failed", f"Changes from a browser need the {CSRF_HEADER} header.")
    connection.state.csrf_token = session.csrf_token
    return _known(session.principal)


def _known(principal: Principal | None) -> Principal:
    if principal is None:
        raise Problem(403, "unknown_member", "The acting user is not a member of any organization.")
    return principal
