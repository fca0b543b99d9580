"""Tokens kept alive (R11): the refresh rule is domain.token_refresh; this adapts it to Zoom over HTTP.

Every Zoom call on behalf of a connection goes through here: a usable token from the rule, and a 401
refreshes and retries once. Zoom's `invalid_grant` is said in the domain's words (GrantRevoked), and each
refresh is counted in the metrics.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from domain import token_refresh
from domain.model import Connection, ZoomUser
from domain.token_refresh import GrantRevoked
from domain.zoom import TokenSet, ZoomApp, ZoomProfile
from persistence.database import unit_of_work
from server import metrics
from server.clock import utcnow
from server.zoom_client import (
    HttpZoom,
    PageListener,
    ZoomGrantRevoked,
    ZoomTokenRejected,
)

T = TypeVar("T")


class ZoomTokenRefresh:
    """domain.token_refresh.TokenRefresh over Zoom's token endpoint, each outcome counted."""

    def __init__(self, zoom: HttpZoom) -> None:
        self._zoom = zoom

    async def refresh(self, app: ZoomApp, connection: Connection, tokens: TokenSet) -> TokenSet:
        try:
            refreshed = await self._zoom.refresh(app, tokens)
        except ZoomGrantRevoked as refused:
            metrics.token_refreshed(connection.type.value, "grant_revoked")
            raise GrantRevoked(str(refused)) from None
        except Exception:
            metrics.token_refreshed(connection.type.value, "failed")
            raise
        metrics.token_refreshed(connection.type.value, "refreshed")
        return refreshed


class TokenKeeper:
    def __init__(self, zoom: HttpZoom) -> None:
        self._zoom = zoom
        self._refresh = ZoomTokenRefresh(zoom)

    async def me(self, connection: Connection) -> ZoomProfile:
        return await self.call(connection, self._zoom.me)

    async def account_users(self, connection: Connection, on_page: PageListener | None = None) -> list[ZoomUser]:
        return await self.call(connection, lambda tokens: self._zoom.account_users(tokens, on_page))

    async def call(self, connection: Connection, request: Callable[[TokenSet], Awaitable[T]]) -> T:
        tokens = await self.tokens(connection)
        try:
            return await request(tokens)
        except ZoomTokenRejected:
            tokens = await self.tokens(connection, rejected=tokens.access_token)
            return await request(tokens)

    async def tokens(self, connection: Connection, rejected: str | None = None) -> TokenSet:
        """A usable access token; `rejected` is one Zoom just refused, which must not be handed out again."""
        return await token_refresh.usable_tokens(unit_of_work, self._refresh, connection, utcnow, rejected)

    async def keep_alive(self, connection: Connection, within: timedelta) -> bool:
        """Refresh a token that would expire within `within`; Zoom refresh tokens die unused after 90 days."""
        return await token_refresh.keep_alive(unit_of_work, self._refresh, connection, within, utcnow)

    async def keep_all_alive(self, within: timedelta) -> int:
        """The keep-alive job's work (domain.token_refresh.keep_all_alive)."""
        return await token_refresh.keep_all_alive(unit_of_work, self._refresh, within, utcnow)
