"""R11's refresh rule: a connection's access token kept usable, one refresh at a time across all processes.

Every Zoom call on behalf of a connection takes its token from `usable_tokens`. A token about to expire
(or one Zoom just rejected) is refreshed under the connection's row lock, after reading the tokens again
under it: whoever waited on the lock finds the token another process refreshed and does not refresh again.
Zoom rotates the refresh token on every refresh, so this is the one flow that calls Zoom inside a
transaction, on purpose (docs/design.md#architecture otherwise): two processes must never spend the
same refresh token. Zoom's rotated refresh token is stored in that same transaction. `invalid_grant`
breaks the connection (it needs reconnecting) and tells the people concerned (domain.keeping.mark_broken,
who is told: domain.keeping.incident_recipients).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from domain.errors import ConnectionBroken, NotConnected
from domain.keeping import mark_broken
from domain.model import Connection, ConnectionStatus
from domain.ports import UnitOfWorkFactory
from domain.zoom import TokenSet, ZoomApp

#: Refresh a little before Zoom's expiry, so a token never dies in flight.
EXPIRY_MARGIN = timedelta(seconds=60)
#: Who the audit trail says broke a connection whose grant Zoom refused on refresh.
REFRESH_ACTOR = "zoom:token_refresh"


class GrantRevoked(Exception):
    """Zoom answered `invalid_grant` to a refresh: the refresh token is dead; only a new sign-in helps."""


class TokenRefresh(Protocol):
    """Zoom's token endpoint, as the refresh rule reaches it."""

    async def refresh(self, app: ZoomApp, connection: Connection, tokens: TokenSet) -> TokenSet:
        """The new token set (Zoom rotates the refresh token too); raises GrantRevoked on `invalid_grant`."""


def usable(tokens: TokenSet, rejected: str | None, now: datetime) -> bool:
    """Not the token Zoom just rejected, and not expiring within EXPIRY_MARGIN."""
    return tokens.access_token != rejected and tokens.expires_at - EXPIRY_MARGIN > now


def app_of(connection: Connection) -> ZoomApp:
    """Personal connections hold the user-managed app's grant; organizations, the admin-managed app's."""
    return ZoomApp.serving(connection.type)


async def usable_tokens(
    uow: UnitOfWorkFactory,
    zoom: TokenRefresh,
    connection: Connection,
    now: Callable[[], datetime],
    rejected: str | None = None,
) -> TokenSet:
    """A usable access token for `connection`; `rejected` is one Zoom just refused, never handed out again.

    1. The tokens are read, without a transaction: a usable one is returned as it is.
    2. Otherwise, under the row's lock, they are read again: another process may have refreshed meanwhile,
       and then its token is returned. Still unusable: Zoom refreshes it while the row stays locked, and the
       rotated set is stored before the lock is let go. `invalid_grant` breaks the connection (one incident,
       its people told) and raises ConnectionBroken; any other failure changes nothing and is raised.

    Raises NotConnected when the connection ended or holds no tokens.
    """
    async with uow(read_only=True) as tx:
        current = await tx.tokens.read(connection)
    if current is not None and usable(current, rejected, now()):
        return current
    async with uow() as tx:
        locked = await tx.connections.locked(connection)
        current = await tx.tokens.read(locked) if locked is not None else None
        if locked is None or current is None:
            raise NotConnected("The connection has ended or has no tokens.")
        connection = locked
        if usable(current, rejected, now()):
            return current
        try:
            refreshed = await zoom.refresh(app_of(connection), connection, current)
        except GrantRevoked as refused:
            await mark_broken(tx, connection, ConnectionStatus.NEEDS_RECONNECT, str(refused), REFRESH_ACTOR, now())
            await tx.commit()
            raise ConnectionBroken("Zoom no longer accepts this connection; it needs reconnecting.") from None
        await tx.tokens.store(connection, refreshed)
        await tx.commit()
        return refreshed


async def keep_alive(
    uow: UnitOfWorkFactory,
    zoom: TokenRefresh,
    connection: Connection,
    within: timedelta,
    now: Callable[[], datetime],
) -> bool:
    """Refresh a token that would expire within `within` (Zoom's refresh tokens die unused after 90 days);
    True when it was due. A token refreshed by another process meanwhile is not refreshed again."""
    async with uow(read_only=True) as tx:
        current = await tx.tokens.read(connection)
    if current is None or current.expires_at - within > now():
        return False
    await usable_tokens(uow, zoom, connection, now, rejected=current.access_token)
    return True


async def keep_all_alive(
    uow: UnitOfWorkFactory, zoom: TokenRefresh, within: timedelta, now: Callable[[], datetime]
) -> int:
    """The keep-alive job: every connection holding tokens, each refreshed if due; a connection that broke or
    ended meanwhile is skipped, the others go on. Returns how many were due."""
    async with uow(read_only=True) as tx:
        connections = await tx.tokens.holders()
    due = 0
    for connection in connections:
        try:
            due += await keep_alive(uow, zoom, connection, within, now)
        except (ConnectionBroken, NotConnected):
            continue
    return due
