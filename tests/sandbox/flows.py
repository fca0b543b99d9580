"""Scripted journeys through a sandbox, as Roomlink (or a test) would drive it."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from litestar.testing import TestClient

from server.zoom_sandbox.config import ZoomAppConfig

REDIRECT_URI = "https://roomlink.test/oauth/zoom/callback"
WEBHOOK_URL = "https://roomlink.test/webhooks/zoom"

USER_APP = ZoomAppConfig(
    client_id="user-app",
    client_secret="user-app-secret",
    webhook_secret_token="user-app-webhook-secret",
    redirect_uris=(REDIRECT_URI,),
    kind="user_managed",
)
ADMIN_APP = ZoomAppConfig(
    client_id="admin-app",
    client_secret="admin-app-secret",
    webhook_secret_token="admin-app-webhook-secret",
    redirect_uris=(REDIRECT_URI,),
    kind="admin_managed",
)


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode()).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode())


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def add_account(client: TestClient, name: str, account_id: str | None = None, prefix: str = "") -> dict:
    body = {"name": name} | ({"id": account_id} if account_id else {})
    response = client.post(f"{prefix}/sandbox/accounts", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def add_user(
    client: TestClient, account_id: str, email: str, role: str = "member", prefix: str = "", **extra: object
) -> dict:
    name = email.split("@")[0]
    body = {"email": email, "first_name": name.title(), "last_name": "Tester", "role": role, **extra}
    response = client.post(f"{prefix}/sandbox/accounts/{account_id}/users", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def authorize_params(app: ZoomAppConfig, pkce: Pkce, state: str = "state-1", **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT_URI,
        "state": state,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        **extra,
    }


def approve(client: TestClient, app: ZoomAppConfig, user: dict, pkce: Pkce, prefix: str = "") -> str:
    """Approve on the authorize page as ``user``; returns the code from the redirect."""
    form = authorize_params(app, pkce) | {"zoom_user_id": user["id"], "decision": "approve"}
    response = client.post(f"{prefix}/oauth/authorize", data=form, follow_redirects=False)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["state-1"]
    return query["code"][0]


def exchange(client: TestClient, app: ZoomAppConfig, code: str, verifier: str, prefix: str = "", **overrides: str):
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    return client.post(f"{prefix}/oauth/token", data=form | overrides, auth=(app.client_id, app.client_secret))


def refresh(client: TestClient, app: ZoomAppConfig, refresh_token: str):
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return client.post("/oauth/token", data=form, auth=(app.client_id, app.client_secret))


def connect(client: TestClient, app: ZoomAppConfig, user: dict) -> dict:
    """The whole authorization-code flow with PKCE; returns Zoom's token answer."""
    pkce = Pkce.new()
    response = exchange(client, app, approve(client, app, user, pkce), pkce.verifier)
    assert response.status_code == 200, response.text
    return response.json()
