"""Who hosts a meeting in Zoom: for a new one, the member's effective connection now (R7, R5); for one
already made, the connection and Zoom user that made it (R19)."""

from __future__ import annotations

from datetime import datetime

from domain.access import Principal
from domain.errors import (
    MeetingConnectionGone,
    MemberNotConnected,
    MemberNotFound,
)
from domain.integration import member_zoom
from domain.meeting_model import Meeting, MeetingHost
from domain.model import Connection, ConnectionStatus, ConnectionType, Reason, Role
from domain.ports import UnitOfWork

CONNECTION_GONE = (
    "Created through a connection that is gone; nothing switches Zoom accounts silently. The meeting is still in "
    "Zoom and its link works: connect the same Zoom again to manage it here, or recreate it through your current Zoom."
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
    zoom = await member_zoom(tx, principal)
    if not zoom.effective.connected:
        assert zoom.effective.reason is not None
        raise MemberNotConnected(_NOT_CONNECTED_WORDS[zoom.effective.reason], reason=zoom.effective.reason.value)
    if zoom.effective.type is ConnectionType.PERSONAL:
        assert zoom.personal is not None
        personal = zoom.personal
        return MeetingHost(connection=personal, zoom_user_id=personal.zoom_user_id, zoom_user_email=personal.zoom_email)
    assert zoom.organization_connection is not None and zoom.seat is not None
    return MeetingHost(
        connection=zoom.organization_connection, zoom_user_id=zoom.seat.zoom_user_id, zoom_user_email=zoom.seat.zoom_email
    )


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


async def successor_host(tx: UnitOfWork, meeting: Meeting) -> MeetingHost | None:
    """The member's effective connection now, when it reaches the Zoom user that hosts the meeting in Zoom (the
    same account connected again, the app added again, a personal Zoom of that very user): through it the
    meeting can still be read, changed and cancelled, so it need not be made twice. None otherwise."""
    acting = Principal(org_id=meeting.org_id, user_id=meeting.user_id, role=Role.MEMBER, actor=f"meeting:{meeting.id}")
    try:
        host = await effective_host(tx, acting)
    except (MemberNotConnected, MemberNotFound):
        return None
    return host if host.zoom_user_id == meeting.zoom_user_id else None


def reconnect_reason(connection: Connection) -> str:
    """The reason a member is given when this connection needs reconnecting."""
    if connection.type is ConnectionType.PERSONAL:
        return Reason.PERSONAL_NEEDS_RECONNECT.value
    return Reason.ORGANIZATION_NEEDS_RECONNECT.value
