"""Zoom over HTTP: Authlib prepares the OAuth messages, httpx carries them; the same code talks to
Zoom or to the sandbox, by base URL."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from email.utils import parsedate_to_datetime

import httpx
import msgspec
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from domain.errors import ZoomRefused, ZoomScopesMissing, ZoomUserNotFound
from domain.model import ZoomUser
from domain.zoom import TokenSet, ZoomApp, ZoomProfile
from server import metrics
from server.config import ZoomAppCredentials, ZoomSettings
from server.zoom_answers import answer_body, is_daily_limit

log = logging.getLogger("roomlink.zoom")

#: Zoom's largest page for user lists.
USERS_PAGE_SIZE = 300

PageListener = Callable[[int, int], None]


class ZoomUnavailable(Exception):
    """Zoom did not answer usefully (network, 5xx, rate limited past our patience), even after retrying."""


class ZoomRateLimited(ZoomUnavailable):
    """429 with a Retry-After past what a request may wait, or per-second limits that did not let up."""

    def __init__(self, message: str, retry_after_s: float | None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ZoomDailyLimit(ZoomRateLimited):
    """Zoom's daily limit for this call is spent: nothing helps before it resets (00:00 UTC)."""


class ZoomTokenRejected(Exception):
    """401 / code 124: the access token is invalid or expired; refresh and retry once."""


class ZoomGrantRevoked(ZoomRefused):
    """invalid_grant on refresh: the refresh token is dead; only a new sign-in helps."""


#: Zoom's REST error codes that mean different fixes (docs/design.md#zoom).
MISSING_SCOPES = 4711
USER_NOT_FOUND = 1001
#: A per-second limit that outlasted our retries is tried again this much later.
QPS_RETRY_AFTER_S = 1.0


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    attempts: int = 4
    #: Exponential backoff for 5xx, timeouts and per-second limits: base · 2^n, capped, with full jitter.
    backoff_base_s: float = 0.2
    backoff_max_s: float = 3.0
    #: A Retry-After longer than this is not waited for here; the job queue retries later.
    max_retry_after_s: float = 10.0

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.backoff_max_s, self.backoff_base_s * 2**attempt))


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Zoom sends an ISO 8601 time for daily limits (`2020-05-31T00:00:00Z`); HTTP dates and seconds
    are read too. None when there is none, or it is unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


def until_next_utc_midnight(now: datetime) -> float:
    midnight = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(0), tzinfo=UTC)
    return (midnight - now).total_seconds()


def refusal(response: httpx.Response, what: str) -> ZoomRefused:
    """Zoom's answer as the error its code means, Zoom's code kept: missing scopes and a user that no
    longer exists have different fixes."""
    body = answer_body(response)
    code = body.get("code") if isinstance(body.get("code"), int) else None
    message = body.get("message") or response.status_code
    if code == MISSING_SCOPES:
        return ZoomScopesMissing(
            f"Zoom refused {what}: the connection lacks a permission ({message}). Reconnect Zoom and approve "
            "every permission Roomlink asks for.",
            zoom_code=code,
        )
    if code == USER_NOT_FOUND:
        return ZoomUserNotFound(
            f"Zoom refused {what}: that Zoom user does not exist ({message}); it was deleted or left the "
            "account. Reconnecting will not bring it back: connect a Zoom user that exists.",
            zoom_code=code,
        )
    return ZoomRefused(f"Zoom refused {what}: {message}", zoom_code=code)


class HttpZoom:
    def __init__(self, settings: ZoomSettings, http: httpx.AsyncClient, policy: RetryPolicy | None = None) -> None:
        self._settings = settings
        self._http = http
        self._policy = policy or RetryPolicy()

    async def _send(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        """A daily limit fails at once, saying when it resets; a 429 waits for Retry-After within a bound,
        or backs off when Zoom gives none (per-second limits); 5xx and timeouts back off with jitter;
        then give up."""
        for attempt in range(self._policy.attempts):
            last = attempt == self._policy.attempts - 1
            try:
                response = await metrics.zoom_call(method, url, self._http.request(method, url, **kwargs))
            except httpx.HTTPError as error:
                if last:
                    raise ZoomUnavailable(f"Zoom did not answer: {type(error).__name__}") from None
                await asyncio.sleep(self._policy.backoff(attempt))
                continue
            if is_daily_limit(response):
                now = datetime.now(UTC)
                wait = retry_after_seconds(response.headers.get("retry-after"), now)
                raise ZoomDailyLimit(
                    "Zoom's daily limit for this call is spent; it resets at 00:00 UTC",
                    until_next_utc_midnight(now) if wait is None else wait,
                )
            if response.status_code == 429:
                told = retry_after_seconds(response.headers.get("retry-after"), datetime.now(UTC))
                if last or (told or 0) > self._policy.max_retry_after_s:
                    raise ZoomRateLimited(
                        f"Zoom is rate limiting us (Retry-After {response.headers.get('retry-after')})",
                        QPS_RETRY_AFTER_S if told is None else told,
                    )
                await asyncio.sleep(self._policy.backoff(attempt) if told is None else told)
                continue
            if response.status_code >= 500:
                if last:
                    raise ZoomUnavailable(f"Zoom answered {response.status_code}")
                await asyncio.sleep(self._policy.backoff(attempt))
                continue
            return response
        raise AssertionError("unreachable")

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
        response = await self._send(
            "POST",
            f"{self._settings.oauth_base_url}/oauth/token",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=(credentials.client_id, credentials.client_secret),
        )
        if response.status_code != 200:
            answer = answer_body(response)
            reason = answer.get("reason") or answer.get("error") or response.status_code
            if answer.get("error") == "invalid_grant" and "grant_type=refresh_token" in body:
                raise ZoomGrantRevoked(f"Zoom no longer accepts the connection's grant ({reason})")
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

    async def account_users(self, tokens: TokenSet, on_page: PageListener | None = None) -> list[ZoomUser]:
        """`on_page(listed so far, Zoom's total_records)` after each page, for progress."""
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
            if on_page is not None:
                on_page(len(users), int(page.get("total_records") or len(users)))
            page_token = page.get("next_page_token") or ""
            if not page_token:
                return users

    async def revoke(self, app: ZoomApp, tokens: TokenSet) -> None:
        """With the access token, as Zoom documents; it ends the whole grant."""
        credentials = self._app(app)
        try:
            response = await self._send(
                "POST",
                f"{self._settings.oauth_base_url}/oauth/revoke",
                data={"token": tokens.access_token},
                auth=(credentials.client_id, credentials.client_secret),
            )
            if response.status_code != 200:
                log.warning("Zoom answered %s to a token revocation", response.status_code)
        except ZoomUnavailable as error:
            log.warning("Zoom could not be reached to revoke a token: %s", error)

    async def api_request(
        self, tokens: TokenSet, method: str, path: str, *, params: dict[str, str] | None = None, json: dict | None = None
    ) -> httpx.Response:
        """One call to Zoom's REST API, Zoom's answer as it is (meetings read its error codes themselves)."""
        response = await self._send(
            method,
            f"{self._settings.api_base_url}{path}",
            params=params,
            json=json,
            headers={"Authorization": f"Bearer {tokens.access_token}"},
        )
        if response.status_code == 401:
            raise ZoomTokenRejected(f"Zoom rejected the access token for {path}")
        return response

    async def _get(self, tokens: TokenSet, path: str, params: dict[str, str] | None = None) -> dict:
        response = await self._send(
            "GET",
            f"{self._settings.api_base_url}{path}",
            params=params,
            headers={"Authorization": f"Bearer {tokens.access_token}"},
        )
        if response.status_code == 401:
            raise ZoomTokenRejected(f"Zoom rejected the access token for {path}")
        if response.status_code != 200:
            raise refusal(response, path)
        return response.json()
