"""What Roomlink needs from Zoom, as a port: the server implements it over HTTP (Zoom or the sandbox)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

import msgspec

from domain.model import Connection, ConnectionType, ZoomUser

#: Zoom's built-in role ids: "0" is the account Owner, "1" Admin, "2" Member.
ADMIN_ROLE_IDS = ("0", "1")


class ZoomApp(enum.StrEnum):
    """The two registered Zoom apps: user-managed for personal connections, admin-managed for organizations."""

    USER = "user"
    ADMIN = "admin"

    @classmethod
    def serving(cls, connection_type: ConnectionType) -> ZoomApp:
        """The app a connection of this type is granted through."""
        return cls.USER if connection_type is ConnectionType.PERSONAL else cls.ADMIN


class TokenSet(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    refresh_token: str
    expires_at: datetime
    scope: str = ""

    def __repr__(self) -> str:
        return f"TokenSet(expires_at={self.expires_at!r}, scope={self.scope!r})"


class ZoomProfile(msgspec.Struct, frozen=True, kw_only=True):
    """The Zoom user who approved, as /users/me describes them."""

    zoom_user_id: str
    email: str
    account_id: str
    role_id: str
    status: str = "active"

    @property
    def is_account_admin(self) -> bool:
        return self.role_id in ADMIN_ROLE_IDS and self.status == "active"


class ZoomGrant(msgspec.Struct, frozen=True, kw_only=True):
    """What Zoom gave back for an approval, gathered before any transaction opens."""

    tokens: TokenSet
    profile: ZoomProfile
    #: The account's users, when an account admin approved the admin app.
    users: list[ZoomUser] | None = None


class ZoomGateway(Protocol):
    def authorize_url(self, app: ZoomApp, state: str, code_verifier: str) -> str:
        """Zoom's consent page for `app`, with `state` and the PKCE S256 challenge of `code_verifier`."""

    async def exchange_code(self, app: ZoomApp, code: str, code_verifier: str) -> TokenSet:
        """Raises ZoomRefused when Zoom does not accept the code."""

    async def me(self, tokens: TokenSet) -> ZoomProfile: ...

    async def account_users(self, tokens: TokenSet) -> list[ZoomUser]:
        """Every user of the authorizing admin's account, all pages."""

    async def revoke(self, app: ZoomApp, tokens: TokenSet) -> None:
        """Best effort: a Zoom that cannot be reached must not keep Roomlink from forgetting the tokens."""


class ZoomEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A Zoom event notification, after its signature was checked."""

    event: str
    #: Which of our two apps it was sent to (whose secret signed it).
    app: ZoomApp
    account_id: str
    #: The Zoom user the event is about (`object.id`, or `user_id` for app_deauthorized).
    zoom_user_id: str
    object: dict[str, object] = {}

    @property
    def new_role_is_admin(self) -> bool | None:
        """None when the event does not change the user's role."""
        role = self.object.get("role_id", self.object.get("role"))
        if role is None:
            return None
        return str(role).lower() in ("0", "1", "owner", "admin")


class ConnectedZoom(Protocol):
    """Zoom as a live connection reaches it: tokens refreshed as needed, one refresh at a time.

    Raises ConnectionBroken when Zoom no longer accepts the connection's grant.
    """

    async def me(self, connection: Connection) -> ZoomProfile: ...

    async def account_users(
        self, connection: Connection, on_page: Callable[[int, int], None] | None = None
    ) -> list[ZoomUser]:
        """Every user of the account, page by page; `on_page(listed so far, total or None)` after each."""
