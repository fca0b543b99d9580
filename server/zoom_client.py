"""Zoom over HTTP: Authlib prepares the OAuth messages, httpx carries them; the same code talks to
Zoom or to the sandbox, by base URL."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from domain.errors import ZoomRefused
from domain.model import ZoomUser
from domain.zoom import TokenSet, ZoomApp, ZoomProfile
from server.config import ZoomAppCredentials, ZoomSettings

log = logging.getLogger("roomlink.zoom")

#: Zoom's largest page for user lists.
USERS_PAGE_SIZE = 300


class ZoomUnavailable(Exception):
    """Zoom did not answer usefully (network, 5xx); nothing about the request is known to have happened."""


class HttpZoom:
    def __init__(self, settings: ZoomSettings, http: httpx.AsyncClient) -> None:
        self._settings = settings
        self._http = http

    def _app(self, app: ZoomApp) -> ZoomAppCredentials:
        return self._settings.user_app if app is ZoomApp.USER else self._settings.admin_app

    def authorize_url(self, app: ZoomApp, state: str, code_verifier: str) -> str:
        return prepare_grant_uri(
            f"{self._settings.oauth_base_url}/oauth/authorize",
            self._app(app).client_id,
            "code",
            redirect_uri=self._settings.redirect_uri,
            state=state,
            code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
        )

    async def exchange_code(self, app: ZoomApp, code: str, code_verifier: str) -> TokenSet:
        body = prepare_token_request(
            "authorization_code", code=code, redirect_uri=self._settings.redirect_uri, code_verifier=code_verifier
        )
        return await self._token_request(app, body)

    async def refresh(self, app: ZoomApp, tokens: TokenSet) -> TokenSet:
        return await self._token_request(app, prepare_token_request("refresh_token", refresh_token=tokens.refresh_token))

    async def _token_request(self, app: ZoomApp, body: str) -> TokenSet:
        credentials = self._app(app)
        try:
            response = await self._http.post(
                f"{self._settings.oauth_base_url}/oauth/token",
                content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                auth=(credentials.client_id, credentials.client_secret),
            )
        except httpx.HTTPError as error:
            raise ZoomUnavailable(f"Zoom's token endpoint did not answer: {type(error).__name__}") from None
        if response.status_code >= 500:
            raise ZoomUnavailable(f"Zoom's token endpoint answered {response.status_code}")
        if response.status_code != 200:
            reason = _json(response).get("reason") or _json(response).get("error") or response.status_code
            raise ZoomRefused(f"Zoom refused the sign-in ({reason}). Please try again.")
        token = response.json()
        return TokenSet(
            access_token=token["access_token"],
            refresh_token=token["refresh_token"],
            expires_at=datetime.now(UTC) + timedelta(seconds=int(token.get("expires_in", 3600))),
            scope=token.get("scope", ""),
        )

    async def me(self, tokens: TokenSet) -> ZoomProfile:
        user = await self._get(tokens, "/users/me")
        return ZoomProfile(
            zoom_user_id=user["id"],
            email=user["email"],
            account_id=user["account_id"],
            role_id=str(user.get("role_id", "")),
            status=user.get("status", "active"),
        )

    async def account_users(self, tokens: TokenSet) -> list[ZoomUser]:
        users: list[ZoomUser] = []
        page_token = ""
        while True:
            params = {"status": "active", "page_size": str(USERS_PAGE_SIZE)}
            if page_token:
                params["next_page_token"] = page_token
            page = await self._get(tokens, "/users", params)
            users += [
                ZoomUser(zoom_user_id=u["id"], email=u["email"], status=u.get("status", "active"), role_id=str(u.get("role_id", "")))
                for u in page.get("users", [])
            ]
            page_token = page.get("next_page_token") or ""
            if not page_token:
                return users

    async def revoke(self, app: ZoomApp, tokens: TokenSet) -> None:
        credentials = self._app(app)
        try:
            response = await self._http.post(
                f"{self._settings.oauth_base_url}/oauth/revoke",
                data={"token": tokens.refresh_token},
                auth=(credentials.client_id, credentials.client_secret),
            )
            if response.status_code != 200:
                log.warning("Zoom answered %s to a token revocation", response.status_code)
        except httpx.HTTPError as error:
            log.warning("Zoom could not be reached to revoke a token: %s", type(error).__name__)

    async def _get(self, tokens: TokenSet, path: str, params: dict[str, str] | None = None) -> dict:
        try:
            response = await self._http.get(
                f"{self._settings.api_base_url}{path}",
                params=params,
                headers={"Authorization": f"Bearer {tokens.access_token}"},
            )
        except httpx.HTTPError as error:
            raise ZoomUnavailable(f"Zoom's API did not answer: {type(error).__name__}") from None
        if response.status_code >= 500:
            raise ZoomUnavailable(f"Zoom's API answered {response.status_code}")
        if response.status_code != 200:
            body = _json(response)
            raise ZoomRefused(f"Zoom refused {path}: {body.get('message', response.status_code)}")
        return response.json()


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
