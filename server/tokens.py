"""Tokens kept alive: one refresh at a time per connection across all processes, by a row lock.

Every Zoom call on behalf of a connection goes through here. An access token about to expire is
refreshed under `SELECT … FOR UPDATE` on the connection's row; whoever waited on the lock reads
the refreshed token after it and does not refresh again. Zoom's rotated refresh token is stored
in the same transaction. A 401 refreshes and retries once; `invalid_grant` breaks the connection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from domain.errors import ConnectionBroken, NotConnected
from domain.keeping import mark_broken
from domain.model import Connection, ConnectionStatus, ConnectionType, ZoomUser
from domain.zoom import TokenSet, ZoomApp, ZoomProfile
from persistence.database import unit_of_work
from server import metrics
from server.clock import utcnow
from server.zoom_client import HttpZoom, PageListener, ZoomGrantRevoked, ZoomTokenRejected

#: Refresh a little before Zoom's expiry, so a token never dies in flight.
EXPIRY_MARGIN = timedelta(seconds=60)

T = TypeVar("T")


class TokenKeeper:
    def __init__(self, zoom: HttpZoom) -> None:
        self._zoom = zoom

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
        async with unit_of_work(read_only=True) as uow:
            current = await uow.connections.tokens(connection)
        if current is not None and _usable(current, rejected, utcnow()):
            return current
        async with unit_of_work() as uow:
            locked = await uow.connections.lock(connection)
            if locked is None or locked[1] is None:
                raise NotConnected("The connection has ended or has no tokens.")
            connection, current = locked
            if _usable(current, rejected, utcnow()):
                return current
            try:
                refreshed = await self._zoom.refresh(_app(connection), current)
            except ZoomGrantRevoked as refused:
                metrics.token_refreshed(connection.type.value, "grant_revoked")
                await mark_broken(
                    uow, connection, ConnectionStatus.NEEDS_RECONNECT, str(refused), "zoom:token_refresh", utcnow()
                )
                await uow.commit()
                raise ConnectionBroken("Zoom no longer accepts this connection; it needs reconnecting.") from None
            except Exception:
                metrics.token_refreshed(connection.type.value, "failed")
                raise
            metrics.token_refreshed(connection.type.value, "refreshed")
            await uow.connections.store_tokens(connection, refreshed)
            await uow.commit()
            return refreshed

    async def keep_alive(self, connection: Connection, within: timedelta) -> bool:
        """Refresh a token that would expire within `within`; Zoom refresh tokens die unused after 90 days."""
        async with unit_of_work(read_only=True) as uow:
            current = await uow.connections.tokens(connection)
        if current is None or current.expires_at - within > utcnow():
            return False
        await self.tokens(connection, rejected=current.access_token)
        return True


def _usable(tokens: TokenSet, rejected: str | None, now: datetime) -> bool:
    return tokens.access_token != rejected and tokens.expires_at - EXPIRY_MARGIN > now


def _app(connection: Connection) -> ZoomApp:
    return ZoomApp.USER if connection.type is ConnectionType.PERSONAL else ZoomApp.ADMIN
