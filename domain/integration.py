"""What owners, admins and members see and decide about Zoom (R7–R10)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from domain.access import Principal, require_manager
from domain.errors import MemberNotFound, OrganizationNotFound, RemovalNotAllowed
from domain.model import (
    Connection,
    ConnectionCounts,
    ConnectionStatus,
    ConnectionType,
    Member,
    Organization,
    Policy,
    Reason,
)
from domain.ports import AuditEvent, MembersPage, MembersQuery, UnitOfWork
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


async def organization_integration(
    uow: UnitOfWork, principal: Principal, org_id: str
) -> OrganizationIntegration:
    require_manager(principal, org_id)
    organization = await _organization(uow, org_id)
    connection = await uow.connections.organization(org_id)
    counts = await uow.members_table.counts(org_id)
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


async def list_members(uow: UnitOfWork, principal: Principal, query: MembersQuery) -> MembersPage:
    require_manager(principal, query.org_id)
    return await uow.members_table.page(query)


async def set_policy(
    uow: UnitOfWork, principal: Principal, org_id: str, policy: Policy, now: datetime
) -> Policy:
    require_manager(principal, org_id)
    before = await _organization(uow, org_id)
    organization = await uow.organizations.set_policy(org_id, policy, now)
    if before.policy != policy:
        await uow.audit.record(
            AuditEvent(
                org_id=org_id,
                at=now,
                actor=principal.actor,
                action="policy_changed",
                details={"allow_members_to_remove": policy.allow_members_to_remove},
            )
        )
    await uow.commit()
    return organization.policy


async def my_integration(uow: UnitOfWork, principal: Principal) -> MyIntegration:
    organization = await _organization(uow, principal.org_id)
    member = await _member(uow, principal)
    personal = await uow.connections.personal(member.org_id, member.user_id)
    org_connection = await uow.connections.organization(member.org_id)
    seat = await uow.connections.seat(member.org_id, member.email) if org_connection else None
    effective = effective_connection(
        personal=personal.status if personal else None,
        organization=org_connection.status if org_connection else None,
        has_seat=seat is not None,
        removed_organization=member.organization_removed,
        members_may_remove=organization.policy.allow_members_to_remove,
    )
    return MyIntegration(
        connected=effective.connected,
        type=effective.type,
        reason=effective.reason,
        personal=_personal_summary(personal) if personal else None,
        organization=(
            OrganizationSummary(
                status=org_connection.status,
                status_reason=org_connection.status_reason,
                organization_name=organization.name,
                seat_zoom_email=seat.zoom_email if seat else None,
            )
            if org_connection and personal is None
            else None
        ),
        can_remove_organization=organization.policy.allow_members_to_remove,
        organization_removed=member.organization_removed,
    )


async def remove_organization_for_me(uow: UnitOfWork, principal: Principal, now: datetime) -> None:
    organization = await _organization(uow, principal.org_id)
    if not organization.policy.allow_members_to_remove:
        raise RemovalNotAllowed(
            "Your organization does not allow members to remove its Zoom connection."
        )
    await _set_removed(uow, principal, True, now)


async def restore_organization_for_me(uow: UnitOfWork, principal: Principal, now: datetime) -> None:
    await _organization(uow, principal.org_id)
    await _set_removed(uow, principal, False, now)


async def _set_removed(uow: UnitOfWork, principal: Principal, removed: bool, now: datetime) -> None:
    member = await _member(uow, principal)
    if member.organization_removed != removed:
        await uow.members.set_organization_removed(member.org_id, member.user_id, removed, now)
        await uow.audit.record(
            AuditEvent(
                org_id=member.org_id,
                at=now,
                actor=principal.actor,
                action="organization_removed_by_member" if removed else "organization_restored_by_member",
                connection_type=ConnectionType.ORGANIZATION,
                user_id=member.user_id,
            )
        )
    await uow.commit()


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
