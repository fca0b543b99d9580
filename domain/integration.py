"""What owners, admins and members see and decide about Zoom (R7–R10)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Literal

import msgspec

from domain.access import Principal, require_manager
from domain.errors import (
    MemberNotFound,
    NotConnected,
    OrganizationNotFound,
    RemovalNotAllowed,
)
from domain.model import (
    Connection,
    ConnectionCounts,
    ConnectionStatus,
    ConnectionType,
    EffectiveConnection,
    Member,
    MemberRow,
    Organization,
    Policy,
    Reason,
    Seat,
)
from domain.ports import (
    AuditEvent,
    Disconnection,
    MembersPage,
    MembersQuery,
    UnitOfWork,
    UnitOfWorkFactory,
)
from domain.precedence import effective_connection

OrganizationStatus = Literal["not_connected", "active", "admin_lost", "needs_reconnect", "deauthorized"]


class OrganizationIntegration(msgspec.Struct, frozen=True, kw_only=True):
    status: OrganizationStatus
    status_reason: str | None
    status_changed_at: datetime | None
    zoom_account_id: str | None
    zoom_admin_email: str | None
    connected_at: datetime | None
    last_verified_at: datetime | None
    policy: Policy
    counts: ConnectionCounts
    #: While not connected: when the organization's Zoom was last disconnected, and by whom (R18).
    disconnected: Disconnection | None = None


class PersonalSummary(msgspec.Struct, frozen=True, kw_only=True):
    status: ConnectionStatus
    status_reason: str | None
    zoom_email: str
    connected_at: datetime


class OrganizationSummary(msgspec.Struct, frozen=True, kw_only=True):
    status: ConnectionStatus
    status_reason: str | None
    organization_name: str
    #: The Zoom user whose seat serves this member, when they hold one (R5).
    seat_zoom_email: str | None


class MyIntegration(msgspec.Struct, frozen=True, kw_only=True):
    connected: bool
    type: ConnectionType | None
    reason: Reason | None
    personal: PersonalSummary | None
    #: None whenever `personal` is present (R8).
    organization: OrganizationSummary | None
    can_remove_organization: bool
    organization_removed: bool
    #: While the organization has no connection: when its Zoom was last disconnected, and by whom (R18).
    organization_disconnected: Disconnection | None = None


async def organization_integration(
    uow: UnitOfWorkFactory, principal: Principal, org_id: str
) -> OrganizationIntegration:
    require_manager(principal, org_id)
    async with uow(read_only=True) as tx:
        return await _organization_integration(tx, org_id)


async def verify_organization_now(
    uow: UnitOfWorkFactory, principal: Principal, org_id: str, verify: Callable[[str], Awaitable[None]]
) -> OrganizationIntegration:
    """Owners and admins check the organization's Zoom now: `verify` (the periodic verification, which asks
    Zoom outside any transaction of this use case), then the integration as it left it."""
    require_manager(principal, org_id)
    await verify(org_id)
    return await organization_integration(uow, principal, org_id)


async def _organization_integration(tx: UnitOfWork, org_id: str) -> OrganizationIntegration:
    """The organization, its connection and the counts in one read (the owner's page under load)."""
    overview = await tx.members_table.overview(org_id)
    if overview is None:
        raise OrganizationNotFound(f"Organization {org_id!r} was not found.")
    organization, connection, counts = overview.organization, overview.connection, overview.counts
    if connection is None:
        return OrganizationIntegration(
            status="not_connected",
            status_reason=None,
            status_changed_at=None,
            zoom_account_id=None,
            zoom_admin_email=None,
            connected_at=None,
            last_verified_at=None,
            policy=organization.policy,
            counts=counts,
            disconnected=await tx.audit.last_organization_disconnection(org_id),
        )
    return OrganizationIntegration(
        status=connection.status.value,
        status_reason=connection.status_reason,
        status_changed_at=connection.status_changed_at,
        zoom_account_id=connection.zoom_account_id,
        zoom_admin_email=connection.zoom_email,
        connected_at=connection.connected_at,
        last_verified_at=connection.last_verified_at,
        policy=organization.policy,
        counts=counts,
    )


async def list_members(uow: UnitOfWorkFactory, principal: Principal, query: MembersQuery) -> MembersPage:
    require_manager(principal, query.org_id)
    async with uow(read_only=True) as tx:
        return await tx.members_table.page(query)


async def organization_and_members(
    uow: UnitOfWorkFactory, org_id: str, limit: int
) -> tuple[Organization | None, list[MemberRow]]:
    """The organization and the first rows of its members table as its owners see it, in one read
    (the demo's sign-in page); no organization, no rows."""
    async with uow(read_only=True) as tx:
        organization = await tx.organizations.get(org_id)
        if organization is None:
            return None, []
        return organization, (await tx.members_table.page(MembersQuery(org_id=org_id, limit=limit))).items


async def resync_organization(
    uow: UnitOfWorkFactory, org_id: str, verify: Callable[[str], Awaitable[None]]
) -> Connection | None:
    """The operator's forced resync: the organization must have a connection; `verify` (the periodic
    verification, Zoom outside any transaction of this use case) runs, then the connection as it left it."""
    async with uow(read_only=True) as tx:
        connection = await tx.connections.organization(org_id)
    if connection is None:
        raise NotConnected(f"organization {org_id!r} has no organization connection")
    await verify(org_id)
    async with uow(read_only=True) as tx:
        return await tx.connections.organization(org_id)


async def member_names(uow: UnitOfWorkFactory, org_id: str, user_ids: set[str]) -> dict[str, str]:
    """The names of those of these users who are members of the organization."""
    async with uow(read_only=True) as tx:
        members = [await tx.members.get(org_id, user_id) for user_id in sorted(user_ids)]
    return {member.user_id: member.name for member in members if member is not None}


async def set_policy(
    uow: UnitOfWorkFactory, principal: Principal, org_id: str, policy: Policy, now: datetime
) -> Policy:
    require_manager(principal, org_id)
    async with uow() as tx:
        before = await _organization(tx, org_id)
        organization = await tx.organizations.set_policy(org_id, policy, now)
        if before.policy != policy:
            await tx.audit.record(
                AuditEvent(
                    org_id=org_id,
                    at=now,
                    actor=principal.actor,
                    action="policy_changed",
                    details={"allow_members_to_remove": policy.allow_members_to_remove},
                )
            )
        await tx.commit()
    return organization.policy


class MemberZoom(msgspec.Struct, frozen=True, kw_only=True):
    """A member's connections as R7 weighs them, and which one serves the member."""

    organization: Organization
    member: Member
    personal: Connection | None
    organization_connection: Connection | None
    #: The member's Zoom user in the organization's account (R5), when it has a connection.
    seat: Seat | None
    effective: EffectiveConnection


async def member_zoom(tx: UnitOfWork, principal: Principal) -> MemberZoom:
    """R7 for the caller, read in the caller's transaction: the one read of a member's effective connection."""
    organization = await _organization(tx, principal.org_id)
    member = await _member(tx, principal)
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
    return MemberZoom(
        organization=organization,
        member=member,
        personal=personal,
        organization_connection=organization_connection,
        seat=seat,
        effective=effective,
    )


async def my_integration(uow: UnitOfWorkFactory, principal: Principal) -> MyIntegration:
    async with uow(read_only=True) as tx:
        zoom = await member_zoom(tx, principal)
        disconnected = (
            await tx.audit.last_organization_disconnection(principal.org_id)
            if zoom.organization_connection is None
            else None
        )
    serving_organization = zoom.organization_connection if zoom.personal is None else None
    return MyIntegration(
        connected=zoom.effective.connected,
        type=zoom.effective.type,
        reason=zoom.effective.reason,
        personal=_personal_summary(zoom.personal) if zoom.personal else None,
        organization=(
            OrganizationSummary(
                status=serving_organization.status,
                status_reason=serving_organization.status_reason,
                organization_name=zoom.organization.name,
                seat_zoom_email=zoom.seat.zoom_email if zoom.seat else None,
            )
            if serving_organization
            else None
        ),
        can_remove_organization=zoom.organization.policy.allow_members_to_remove,
        organization_removed=zoom.member.organization_removed,
        organization_disconnected=disconnected,
    )


async def remove_organization_for_me(uow: UnitOfWorkFactory, principal: Principal, now: datetime) -> None:
    async with uow() as tx:
        organization = await _organization(tx, principal.org_id)
        if not organization.policy.allow_members_to_remove:
            raise RemovalNotAllowed(
                "Your organization does not allow members to remove its Zoom connection."
            )
        await _set_removed(tx, principal, True, now)
        await tx.commit()


async def restore_organization_for_me(uow: UnitOfWorkFactory, principal: Principal, now: datetime) -> None:
    async with uow() as tx:
        await _organization(tx, principal.org_id)
        await _set_removed(tx, principal, False, now)
        await tx.commit()


async def _set_removed(tx: UnitOfWork, principal: Principal, removed: bool, now: datetime) -> None:
    member = await _member(tx, principal)
    if member.organization_removed != removed:
        await tx.members.set_organization_removed(member.org_id, member.user_id, removed, now)
        await tx.audit.record(
            AuditEvent(
                org_id=member.org_id,
                at=now,
                actor=principal.actor,
                action="organization_removed_by_member" if removed else "organization_restored_by_member",
                connection_type=ConnectionType.ORGANIZATION,
                user_id=member.user_id,
            )
        )


def _personal_summary(connection: Connection) -> PersonalSummary:
    return PersonalSummary(
        status=connection.status,
        status_reason=connection.status_reason,
        zoom_email=connection.zoom_email,
        connected_at=connection.connected_at,
    )


async def _organization(uow: UnitOfWork, org_id: str) -> Organization:
    organization = await uow.organizations.get(org_id)
    if organization is None:
        raise OrganizationNotFound(f"Organization {org_id!r} was not found.")
    return organization


async def _member(uow: UnitOfWork, principal: Principal) -> Member:
    member = await uow.members.get(principal.org_id, principal.user_id)
    if member is None:
        raise MemberNotFound(f"Member {principal.user_id!r} was not found.")
    return member
