"""Who hosts a meeting in Zoom: for a new one, the member's effective connection now (R7, R5); for one
already made, the connection and Zoom user that made it (R19)."""

from __future__ import annotations

from datetime import datetime

from domain.access import Principal
from domain.errors import (
    MeetingConnectionGone,
    MemberNotConnected,
    MemberNotFound,
    OrganizationNotFound,
)
from domain.meeting_model import Meeting, MeetingHost
from domain.model import Connection, ConnectionStatus, ConnectionType, Reason
from domain.ports import UnitOfWork
from domain.precedence import effective_connection

CONNECTION_GONE = (
    "Created through a connection that is gone; nothing switches Zoom accounts silently. "
    "Recreate it through your current Zoom, or cancel it."
)

_NOT_CONNECTED_WORDS = {
    Reason.PERSONAL_NEEDS_RECONNECT: "Your personal Zoom connection needs reconnecting.",
    Reason.ORGANIZATION_NOT_CONNECTED: "Neither you nor your organization has connected Zoom.",
    Reason.ORGANIZATION_REMOVED: "You removed your organization's Zoom for yourself; restore it or connect your own.",
    Reason.NO_SEAT: "Your organization's Zoom account has no active user with your email.",
    Reason.ORGANIZATION_ADMIN_LOST: "Your organization's Zoom connection needs reconnecting: its Zoom admin lost the role.",
    Reason.ORGANIZATION_NEEDS_RECONNECT: "Your organization's Zoom connection needs reconnecting.",
    Reason.ORGANIZATION_DEAUTHORIZED: "Roomlink's app was removed from your organization's Zoom.",
}


async def effective_host(tx: UnitOfWork, principal: Principal) -> MeetingHost:
    """R7 and R5: which connection serves the member now, and as which Zoom user."""
    organization = await tx.organizations.get(principal.org_id)
    if organization is None:
        raise OrganizationNotFound(f"Organization {principal.org_id!r} was not found.")
    member = await tx.members.get(principal.org_id, principal.user_id)
    if member is None:
        raise MemberNotFound(f"Member {principal.user_id!r} was not found.")
    personal = await tx.connections.personal(member.org_id, member.user_id)
    organization_connection = await tx.connections.organization(member.org_id)
    seat = await tx.zoom_users.seat(member.org_id, member.email) if organization_connection else None
    effective = effective_connection(
        personal=personal.status if personal else None,
        organization=organization_connection.status if organization_connection else None,
        has_seat=seat is not None,
        removed_organization=member.organization_removed,
        members_may_remove=organization.policy.allow_members_to_remove,
    )
    if not effective.connected:
        assert effective.reason is not None
        raise MemberNotConnected(_NOT_CONNECTED_WORDS[effective.reason], reason=effective.reason.value)
    if effective.type is ConnectionType.PERSONAL:
        assert personal is not None
        return MeetingHost(connection=personal, zoom_user_id=personal.zoom_user_id, zoom_user_email=personal.zoom_email)
    assert organization_connection is not None and seat is not None
    return MeetingHost(connection=organization_connection, zoom_user_id=seat.zoom_user_id, zoom_user_email=seat.zoom_email)


async def host_of(tx: UnitOfWork, meeting: Meeting, now: datetime) -> MeetingHost:
    """R19: the connection and Zoom user that made the meeting, or why they can no longer act."""
    connection = await tx.connections.by_id(meeting.org_id, meeting.connection_id)
    if connection is None:
        raise MeetingConnectionGone(CONNECTION_GONE)
    if connection.status is not ConnectionStatus.ACTIVE:
        raise MemberNotConnected(
            f"The Zoom connection that made this meeting needs reconnecting ({connection.status_reason or connection.status.value}).",
            reason=reconnect_reason(connection),
        )
    return MeetingHost(connection=connection, zoom_user_id=meeting.zoom_user_id, zoom_user_email=meeting.zoom_user_email)


def reconnect_reason(connection: Connection) -> str:
    """The reason a member is given when this connection needs reconnecting."""
    if connection.type is ConnectionType.PERSONAL:
        return Reason.PERSONAL_NEEDS_RECONNECT.value
    return Reason.ORGANIZATION_NEEDS_RECONNECT.value
