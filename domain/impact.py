"""Who and what an organization's broken Zoom leaves without Zoom, in one place (R11, R12): its owner's page
and the incident email say the same."""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.access import Principal, require_manager
from domain.errors import OrganizationNotFound
from domain.impact_model import CutOff, UpcomingAffected
from domain.model import ConnectionStatus
from domain.ports import UnitOfWork, UnitOfWorkFactory

#: How many of the affected sessions and meetings are named, soonest first; the rest are counted.
FIRST_FEW = 3


class Impact(msgspec.Struct, frozen=True, kw_only=True):
    """What a broken (or disconnected) organization connection costs now; `fix` names the one action."""

    status: str
    members_lost_zoom: int
    members_keeping_personal_zoom: int
    sessions: UpcomingAffected
    meetings: UpcomingAffected
    #: `reconnect_organization`: a new activation link approved by a Zoom administrator.
    fix: str = "reconnect_organization"


async def organization_impact(
    uow: UnitOfWorkFactory, principal: Principal, org_id: str, now: datetime
) -> Impact | None:
    """For owners and admins; None while the organization's Zoom works."""
    require_manager(principal, org_id)
    async with uow(read_only=True) as tx:
        return await impact_of(tx, org_id, now)


async def impact_of(tx: UnitOfWork, org_id: str, now: datetime) -> Impact | None:
    """One read each: the connection, the members cut off, the upcoming sessions and meetings affected."""
    if await tx.organizations.get(org_id) is None:
        raise OrganizationNotFound(f"Organization {org_id!r} was not found.")
    connection = await tx.connections.organization(org_id)
    if connection is not None and connection.status is ConnectionStatus.ACTIVE:
        return None
    if connection is None:
        disconnected = await tx.audit.last_organization_disconnection(org_id)
        if disconnected is None:
            return None  # never connected: nobody lost anything
        cut_off = CutOff(
            lost_zoom=disconnected.affected_members or 0,
            keep_personal=(await tx.members_table.cut_off(org_id)).keep_personal,
        )
        status = "disconnected"
    else:
        cut_off = await tx.members_table.cut_off(org_id)
        status = connection.status.value
    return Impact(
        status=status,
        members_lost_zoom=cut_off.lost_zoom,
        members_keeping_personal_zoom=cut_off.keep_personal,
        sessions=await tx.remote_sessions.upcoming_without_personal_host(org_id, now, FIRST_FEW),
        meetings=await tx.meetings.upcoming_through_organization(org_id, now, FIRST_FEW),
    )
