"""What Roomlink knows: organizations, members, connections and seats."""

from __future__ import annotations

import enum
from datetime import datetime

import msgspec


class Role(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"

    @property
    def manages_organization(self) -> bool:
        return self in (Role.OWNER, Role.ADMIN)


class ConnectionType(enum.StrEnum):
    PERSONAL = "personal"
    ORGANIZATION = "organization"


class ConnectionStatus(enum.StrEnum):
    ACTIVE = "active"
    ADMIN_LOST = "admin_lost"
    NEEDS_RECONNECT = "needs_reconnect"
    DEAUTHORIZED = "deauthorized"


class Reason(enum.StrEnum):
    """Why a member is not connected; stable codes shown in the API and the pages."""

    PERSONAL_NEEDS_RECONNECT = "personal_needs_reconnect"
    ORGANIZATION_NOT_CONNECTED = "organization_not_connected"
    ORGANIZATION_REMOVED = "organization_removed"
    NO_SEAT = "no_seat"
    ORGANIZATION_ADMIN_LOST = "organization_admin_lost"
    ORGANIZATION_NEEDS_RECONNECT = "organization_needs_reconnect"
    ORGANIZATION_DEAUTHORIZED = "organization_deauthorized"


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    allow_members_to_remove: bool = False


class Organization(msgspec.Struct, frozen=True, kw_only=True):
    org_id: str
    name: str
    policy: Policy
    created_at: datetime
    updated_at: datetime


class Member(msgspec.Struct, frozen=True, kw_only=True):
    org_id: str
    user_id: str
    email: str
    name: str
    role: Role
    #: The member removed the organization connection for themselves (R10).
    organization_removed: bool = False
    created_at: datetime
    updated_at: datetime


class Connection(msgspec.Struct, frozen=True, kw_only=True):
    """A live link to Zoom: a member's personal one or the organization's (tokens live elsewhere)."""

    id: str
    org_id: str
    type: ConnectionType
    #: The member who owns a personal connection; None for the organization's.
    user_id: str | None
    zoom_account_id: str
    #: The Zoom user who authorized: the member themselves, or the activating Zoom admin.
    zoom_user_id: str
    zoom_email: str
    status: ConnectionStatus
    status_reason: str | None
    status_changed_at: datetime
    connected_at: datetime
    last_verified_at: datetime | None = None


class ZoomUser(msgspec.Struct, frozen=True, kw_only=True):
    """A user of the organization's Zoom account, as Roomlink mirrors it for seats."""

    zoom_user_id: str
    email: str
    #: Zoom's user status: active, inactive or pending; only active users give seats.
    status: str = "active"
    role_id: str = "2"


class Seat(msgspec.Struct, frozen=True, kw_only=True):
    """The Zoom user of the organization's account that serves a member (R5)."""

    user_id: str
    zoom_user_id: str
    zoom_email: str


class EffectiveConnection(msgspec.Struct, frozen=True, kw_only=True):
    connected: bool
    #: The connection that serves the member, or would if it worked (a broken personal one, R7).
    type: ConnectionType | None
    reason: Reason | None

    @property
    def serving_type(self) -> ConnectionType | None:
        """The Type the members table shows and filters by (R9): none unless a connection serves them."""
        return self.type if self.connected else None


class MemberRow(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the members table (R9)."""

    user_id: str
    name: str
    email: str
    role: Role
    connected: bool
    #: The connection that serves the member; None when not connected (`reason` says why).
    type: ConnectionType | None
    #: Status of the connection that serves (or would serve) the member, if any.
    status: ConnectionStatus | None
    reason: Reason | None
    #: The Zoom user of that connection: their own (personal) or their seat in the organization's account (R5).
    zoom_user_email: str | None = None


class ConnectionCounts(msgspec.Struct, frozen=True, kw_only=True):
    """Each count is what a filter of the members table lists (docs/design.md#r9)."""

    #: `?type=organization`
    organization: int
    #: `?type=personal`
    personal: int
    #: `?connected=false`, the same rows as `?type=none`
    not_connected: int
    #: every member
    total: int
