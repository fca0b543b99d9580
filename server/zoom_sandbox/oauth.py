"""Zoom's OAuth endpoints: the authorize page, the token endpoint, revocation.

Errors about the client or its redirect URI are shown as a page and never redirected: an
unregistered URI must not receive anything. Once both are known good, later errors go back
to the redirect URI as OAuth errors. A Member approving an admin-managed app is stopped on a
page too, as Zoom does: such an app needs an account Owner or Admin to install it, and Zoom
never calls back with a code.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect

from server.zoom_sandbox.config import ZoomAppConfig
from server.zoom_sandbox.errors import OAuthError
from server.zoom_sandbox.grants import (
    TokenAnswer,
    authenticate_client,
    basic_credentials,
    exchange_code,
    grant_of_refresh_token,
    issue_code,
    refresh,
    revoke_token,
)
from server.zoom_sandbox.pages import (
    AuthorizeRequest,
    authorize_page,
    error_page,
    html_response,
)
from server.zoom_sandbox.state import Account, Sandbox, ZoomUser
from server.zoom_sandbox.traffic import current_call


class RevokeAnswer(msgspec.Struct, kw_only=True, frozen=True):
    status: str


class AuthorizePageError(Exception):
    """A problem only a page can report: there is no trusted URI to redirect to, or Zoom never redirects."""

    def __init__(self, title: str, detail: str, status_code: int = 400) -> None:
        super().__init__(detail)
        self.title = title
        self.detail = detail
        self.status_code = status_code


def show_authorize_page_error(_: Request, exc: AuthorizePageError) -> Response[str]:
    return html_response(error_page(exc.title, exc.detail), status_code=exc.status_code)


def may_install(app: ZoomAppConfig, user: ZoomUser) -> None:
    if app.kind == "admin_managed" and not user.is_owner_or_admin:
        raise AuthorizePageError(
            "An account admin is required to install this type of app",
            f"{user.email} is a Member of the Zoom account. Ask an Owner or Admin of the account to install "
            "this app, or sign in as one.",
            status_code=403,
        )


def authorize_request_from(values: Mapping[str, str]) -> AuthorizeRequest:
    fields = AuthorizeRequest.__struct_fields__
    return AuthorizeRequest(**{name: values[name] for name in fields if values.get(name)})


def registered_app(sandbox: Sandbox, request: AuthorizeRequest) -> ZoomAppConfig:
    app = sandbox.apps.get(request.client_id)
    if app is None:
        raise AuthorizePageError("Invalid client_id", "No app with this client_id is registered in the sandbox.")
    if request.redirect_uri not in app.redirect_uris:
        raise AuthorizePageError(
            "Invalid redirect URL",
            f"{request.redirect_uri or '(none)'} is not a redirect URL registered for {app.client_id}.",
        )
    return app


def redirect_back(redirect_uri: str, **params: str | None) -> Redirect:
    query = urlencode({name: value for name, value in params.items() if value is not None})
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return Redirect(path=f"{redirect_uri}{separator}{query}", status_code=302)


def request_problem(request: AuthorizeRequest) -> str | None:
    """The OAuth error to send back for a well-addressed but malformed request, if any."""
    if request.response_type != "code":
        return "unsupported_response_type"
    uses_pkce = request.code_challenge is not None or request.code_challenge_method is not None
    # PKCE is optional, as at Zoom, but only S256: a challenge without a method would mean "plain".
    if uses_pkce and (request.code_challenge is None or request.code_challenge_method != "S256"):
        return "invalid_request"
    return None


def active_users_by_account(sandbox: Sandbox) -> list[tuple[Account, list[ZoomUser]]]:
    groups = []
    for account in sorted(sandbox.accounts.values(), key=lambda account: account.name.lower()):
        users = [user for user in sandbox.users_of_account(account.id) if user.status == "active"]
        if users:
            groups.append((account, sorted(users, key=lambda user: user.email.lower())))
    return groups


def approve(sandbox: Sandbox, app: ZoomAppConfig, request: AuthorizeRequest, user: ZoomUser) -> Redirect:
    may_install(app, user)
    code = issue_code(
        sandbox,
        client_id=app.client_id,
        user=user,
        redirect_uri=request.redirect_uri,
        code_challenge=request.code_challenge,
    )
    return redirect_back(request.redirect_uri, code=code, state=request.state)


def page_for(
    http_request: Request, sandbox: Sandbox, app: ZoomAppConfig, request: AuthorizeRequest, notice: str | None = None
) -> Response[str]:
    action = http_request.scope.get("root_path", "") + "/oauth/authorize"
    page = authorize_page(
        action=action, app=app, request=request, accounts=active_users_by_account(sandbox), notice=notice
    )
    return html_response(page, status_code=400 if notice else 200)


@get("/oauth/authorize")
async def show_authorize(request: Request, sandbox: NamedDependency[Sandbox]) -> Response[str] | Redirect:
    authorize = authorize_request_from(request.query_params)
    app = registered_app(sandbox, authorize)
    current_call(request).client_id = app.client_id
    if problem := request_problem(authorize):
        return redirect_back(authorize.redirect_uri, error=problem, state=authorize.state)
    hinted = sandbox.user_by_ref(authorize.login_hint) if authorize.login_hint else None
    if sandbox.settings.auto_approve and hinted is not None and hinted.status == "active":
        return approve(sandbox, app, authorize, hinted)
    return page_for(request, sandbox, app, authorize)


@post("/oauth/authorize")
async def decide_authorize(request: Request, sandbox: NamedDependency[Sandbox]) -> Response[str] | Redirect:
    form = await request.form()
    # The form echoes the authorize URL's parameters; check them again, never trust them.
    authorize = authorize_request_from(form)
    app = registered_app(sandbox, authorize)
    current_call(request).client_id = app.client_id
    if problem := request_problem(authorize):
        return redirect_back(authorize.redirect_uri, error=problem, state=authorize.state)
    if form.get("decision") == "deny":
        return redirect_back(authorize.redirect_uri, error="access_denied", state=authorize.state)
    user = sandbox.users.get(form.get("zoom_user_id") or "")
    if user is None or user.status != "active":
        return page_for(request, sandbox, app, authorize, notice="Choose an active Zoom user to sign in as.")
    return approve(sandbox, app, authorize, user)


@post("/oauth/token", status_code=200)
async def token(request: Request, sandbox: NamedDependency[Sandbox]) -> TokenAnswer:
    call = current_call(request)
    form = await request.form()
    call.grant_type = form.get("grant_type")
    client_id, client_secret = basic_credentials(request.headers.get("authorization"))
    call.client_id = client_id
    app = authenticate_client(sandbox, client_id, client_secret)
    if call.grant_type == "authorization_code":
        grant, answer = exchange_code(
            sandbox,
            app,
            code=form.get("code") or "",
            redirect_uri=form.get("redirect_uri") or "",
            code_verifier=form.get("code_verifier"),
        )
    elif call.grant_type == "refresh_token":
        refresh_token = form.get("refresh_token") or ""
        if known := grant_of_refresh_token(sandbox, refresh_token):
            call.token_family = known.id
        grant, answer = refresh(sandbox, app, refresh_token)
    else:
        raise OAuthError(400, "unsupported_grant_type", "Unsupported grant type")
    call.token_family = grant.id
    call.account_id = sandbox.users[grant.user_id].account_id
    return answer


@post("/oauth/revoke", status_code=200)
async def revoke(request: Request, sandbox: NamedDependency[Sandbox]) -> RevokeAnswer:
    call = current_call(request)
    form = await request.form()
    client_id, client_secret = basic_credentials(request.headers.get("authorization"))
    call.client_id = client_id
    app = authenticate_client(sandbox, client_id, client_secret)
    token_to_revoke = form.get("token")
    if not token_to_revoke:
        raise OAuthError(400, "invalid_request", "Invalid Token!")
    # As RFC 7009 asks, an unknown token is not an error: there is nothing left to revoke.
    if revoked := revoke_token(sandbox, app, token_to_revoke):
        call.token_family = revoked.id
    return RevokeAnswer(status="success")


OAUTH_HANDLERS = [show_authorize, decide_authorize, token, revoke]
