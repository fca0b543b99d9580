"""OAuth grants as Zoom runs them: single-use codes with PKCE, rotating refresh tokens, revocation.

Zoom facts honoured here: codes live 5 minutes and work once; every refresh returns a new
refresh token and the previous one then fails with ``invalid_grant``; refresh tokens live
90 days; access tokens live ``access_token_ttl_s``; when a user approves the same app again,
the newest grant is the only one honoured and the earlier ones end (4741 for their access
tokens, ``invalid_grant`` for their refresh tokens). All tokens are opaque random strings.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from datetime import timedelta

import msgspec

from server.zoom_sandbox.config import ZoomAppConfig
from server.zoom_sandbox.errors import OAuthError
from server.zoom_sandbox.state import (
    AccessToken,
    AuthorizationCode,
    Grant,
    Sandbox,
    ZoomUser,
)

CODE_TTL = timedelta(minutes=5)
REFRESH_TOKEN_TTL = timedelta(days=90)

USER_LEVEL_SCOPES = "meeting:read meeting:write user:read user_info:read"
ADMIN_LEVEL_SCOPES = "meeting:read:admin meeting:write:admin user:read:admin"


class TokenAnswer(msgspec.Struct, kw_only=True, frozen=True):
    access_token: str
    token_type: str
    refresh_token: str
    expires_in: int
    scope: str


def invalid_token_grant() -> OAuthError:
    return OAuthError(400, "invalid_grant", "Invalid Token!")


def invalid_code() -> OAuthError:
    return OAuthError(400, "invalid_grant", "Invalid authorization code.")


def authenticate_client(sandbox: Sandbox, client_id: str, client_secret: str) -> ZoomAppConfig:
    app = sandbox.apps.get(client_id)
    if app is None or not hmac.compare_digest(app.client_secret.encode(), client_secret.encode()):
        raise OAuthError(401, "invalid_client", "Invalid client_id or client_secret")
    return app


def basic_credentials(authorization: str | None) -> tuple[str, str]:
    """The client id and secret of an HTTP Basic header; Zoom accepts no other client authentication."""
    scheme, _, encoded = (authorization or "").partition(" ")
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    client_id, separator, client_secret = decoded.partition(":")
    if scheme.lower() != "basic" or not separator:
        raise OAuthError(401, "invalid_client", "Invalid client_id or client_secret")
    return client_id, client_secret


def s256(code_verifier: str) -> str:
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def issue_code(
    sandbox: Sandbox, *, client_id: str, user: ZoomUser, redirect_uri: str, code_challenge: str | None
) -> str:
    code = secrets.token_urlsafe(32)
    sandbox.codes[code] = AuthorizationCode(
        client_id=client_id,
        user_id=user.id,
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        expires_at=sandbox.now() + CODE_TTL,
    )
    return code


def exchange_code(
    sandbox: Sandbox, app: ZoomAppConfig, *, code: str, redirect_uri: str, code_verifier: str | None
) -> tuple[Grant, TokenAnswer]:
    issued = sandbox.codes.get(code)
    if issued is None or issued.client_id != app.client_id:
        raise invalid_code()
    if issued.used or issued.expires_at <= sandbox.now():
        raise invalid_code()
    # Burn the code on the first real attempt, so a wrong verifier cannot be retried.
    issued.used = True
    if redirect_uri != issued.redirect_uri:
        raise OAuthError(400, "invalid_grant", "Redirect URI mismatch.")
    if issued.code_challenge is not None and not verifier_matches(code_verifier, issued.code_challenge):
        raise OAuthError(400, "invalid_grant", "Invalid code_verifier.")
    user = sandbox.users.get(issued.user_id)
    if user is None or user.status != "active":
        raise invalid_code()
    return start_grant(sandbox, app, user)


def verifier_matches(code_verifier: str | None, code_challenge: str) -> bool:
    if not code_verifier or not code_verifier.isascii():
        return False
    return hmac.compare_digest(s256(code_verifier), code_challenge)


def start_grant(sandbox: Sandbox, app: ZoomAppConfig, user: ZoomUser) -> tuple[Grant, TokenAnswer]:
    for earlier in sandbox.live_grants(client_id=app.client_id, user_id=user.id):
        earlier.revoked = earlier.superseded = True
    admin_scopes = app.kind == "admin_managed" and user.is_owner_or_admin
    grant = Grant(
        id=secrets.token_urlsafe(12),
        client_id=app.client_id,
        user_id=user.id,
        scope=ADMIN_LEVEL_SCOPES if admin_scopes else USER_LEVEL_SCOPES,
        admin_scopes=admin_scopes,
        refresh_token="",
        refresh_expires_at=sandbox.now(),
    )
    sandbox.grants[grant.id] = grant
    return grant, rotate(sandbox, grant)


def refresh(sandbox: Sandbox, app: ZoomAppConfig, refresh_token: str) -> tuple[Grant, TokenAnswer]:
    grant = grant_of_refresh_token(sandbox, refresh_token)
    if (
        grant is None
        or grant.revoked
        or grant.client_id != app.client_id
        or not hmac.compare_digest(grant.refresh_token.encode(), refresh_token.encode())
        or grant.refresh_expires_at <= sandbox.now()
        or not user_is_active(sandbox, grant.user_id)
    ):
        raise invalid_token_grant()
    return grant, rotate(sandbox, grant)


def rotate(sandbox: Sandbox, grant: Grant) -> TokenAnswer:
    """Issue a fresh access and refresh token; the previous refresh token stops working."""
    now = sandbox.now()
    ttl = sandbox.settings.access_token_ttl_s
    access_token = secrets.token_urlsafe(48)
    sandbox.access_tokens[access_token] = AccessToken(grant_id=grant.id, expires_at=now + timedelta(seconds=ttl))
    grant.refresh_token = secrets.token_urlsafe(48)
    grant.refresh_expires_at = now + REFRESH_TOKEN_TTL
    sandbox.refresh_tokens[grant.refresh_token] = grant.id
    return TokenAnswer(
        access_token=access_token,
        token_type="bearer",
        refresh_token=grant.refresh_token,
        expires_in=ttl,
        scope=grant.scope,
    )


def grant_of_refresh_token(sandbox: Sandbox, refresh_token: str) -> Grant | None:
    grant_id = sandbox.refresh_tokens.get(refresh_token)
    return sandbox.grants.get(grant_id) if grant_id else None


def grant_of_access_token(sandbox: Sandbox, access_token: str) -> Grant | None:
    issued = sandbox.access_tokens.get(access_token)
    return sandbox.grants.get(issued.grant_id) if issued else None


def revoke_token(sandbox: Sandbox, app: ZoomAppConfig, token: str) -> Grant | None:
    """Revoke the whole grant an access or refresh token belongs to, if it is this app's."""
    grant = grant_of_access_token(sandbox, token) or grant_of_refresh_token(sandbox, token)
    if grant is None or grant.client_id != app.client_id:
        return None
    grant.revoked = True
    return grant


def user_is_active(sandbox: Sandbox, user_id: str) -> bool:
    user = sandbox.users.get(user_id)
    return user is not None and user.status == "active"
