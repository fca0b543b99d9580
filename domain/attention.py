"""What an owner or admin does about a session that needs attention (R21): the fix follows from why its host
has no Zoom, or, when the host has Zoom, from the meeting itself (deleted in Zoom, or made through a
connection that is gone), which only the host can make again.
"""

from __future__ import annotations

import enum

import msgspec

from domain.access import Principal
from domain.errors import MemberNotConnected, MemberNotFound
from domain.meeting_hosts import effective_host
from domain.model import Reason, Role
from domain.ports import UnitOfWorkFactory


class Fix(enum.StrEnum):
    #: The organization's Zoom connection is missing or broken: a new activation link, by an owner or admin.
    CONNECT_ORGANIZATION = "connect_organization"
    #: The host's own Zoom stopped working: they reconnect it (or disconnect it to use the organization's).
    HOST_RECONNECTS_PERSONAL = "host_reconnects_personal"
    #: The organization's Zoom account has no user with the host's email: the Zoom admin adds one.
    HOST_NEEDS_SEAT = "host_needs_seat"
    #: The host stopped using the organization's Zoom: they use it again, or connect their own.
    HOST_RESTORES_ORGANIZATION = "host_restores_organization"
    #: The host has Zoom; the meeting must be made again through it, by the host.
    HOST_RECREATES = "host_recreates"
    #: The host is no longer a member: the host product gives the session another host.
    NEW_HOST = "new_host"


_FIX_OF_REASON = {
    Reason.ORGANIZATION_NOT_CONNECTED: Fix.CONNECT_ORGANIZATION,
    Reason.ORGANIZATION_ADMIN_LOST: Fix.CONNECT_ORGANIZATION,
    Reason.ORGANIZATION_NEEDS_RECONNECT: Fix.CONNECT_ORGANIZATION,
    Reason.ORGANIZATION_DEAUTHORIZED: Fix.CONNECT_ORGANIZATION,
    Reason.PERSONAL_NEEDS_RECONNECT: Fix.HOST_RECONNECTS_PERSONAL,
    Reason.NO_SEAT: Fix.HOST_NEEDS_SEAT,
    Reason.ORGANIZATION_REMOVED: Fix.HOST_RESTORES_ORGANIZATION,
}


def fix_for(host_reason: Reason | None) -> Fix:
    """`host_reason`: why the host has no effective connection now; None when they have one."""
    return Fix.HOST_RECREATES if host_reason is None else _FIX_OF_REASON[Reason(host_reason)]


class HostFix(msgspec.Struct, frozen=True, kw_only=True):
    fix: Fix
    #: Why the host has no effective connection now; None when they have one, or are no longer a member.
    reason: Reason | None


async def fixes_for_hosts(uow: UnitOfWorkFactory, org_id: str, host_user_ids: set[str]) -> dict[str, HostFix]:
    """What to do for each host's sessions, from their effective connection now (R7)."""
    fixes: dict[str, HostFix] = {}
    async with uow() as tx:
        for user_id in sorted(host_user_ids):
            host = Principal(org_id=org_id, user_id=user_id, role=Role.MEMBER, actor=f"user:{user_id}")
            try:
                await effective_host(tx, host)
                fixes[user_id] = HostFix(fix=fix_for(None), reason=None)
            except MemberNotConnected as not_connected:
                reason = Reason(not_connected.reason)
                fixes[user_id] = HostFix(fix=fix_for(reason), reason=reason)
            except MemberNotFound:
                fixes[user_id] = HostFix(fix=Fix.NEW_HOST, reason=None)
    return fixes
