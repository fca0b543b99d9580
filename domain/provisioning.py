"""The host product provisions organizations and members over its API key."""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.audit import connection_event
from domain.emails import NotAnEmail, normalized_email
from domain.errors import (
    BatchTooLarge,
    InvalidInput,
    MemberNotFound,
    OrganizationNotFound,
)
from domain.identifiers import check_identifier
from domain.model import Member, Organization
from domain.ports import MemberInput, UnitOfWork, UnitOfWorkFactory
from domain.zoom import ZoomApp, ZoomGateway

MAX_BATCH = 1000


class BatchResult(msgspec.Struct, frozen=True, kw_only=True):
    created: int
    updated: int


async def provision_organization(
    uow: UnitOfWorkFactory, org_id: str, name: str, now: datetime
) -> tuple[Organization, bool]:
    check_identifier(org_id, "org_id")
    async with uow() as tx:
        organization, created = await tx.organizations.save(org_id, name, now)
        await tx.commit()
    return organization, created


async def provision_member(
    uow: UnitOfWorkFactory, org_id: str, member: MemberInput, now: datetime
) -> tuple[Member, bool]:
    check_identifier(member.user_id, "user_id")
    normalized_email(member.email, "email")
    async with uow() as tx:
        await _require_organization(tx, org_id)
        created, _ = await tx.members.save_many(org_id, [member], now)
        saved = await tx.members.get(org_id, member.user_id)
        assert saved is not None
        await tx.commit()
    return saved, created == 1


async def provision_members(
    uow: UnitOfWorkFactory, org_id: str, members: list[MemberInput], now: datetime
) -> BatchResult:
    if len(members) > MAX_BATCH:
        raise BatchTooLarge(
            f"A batch holds at most {MAX_BATCH} members; this one has {len(members)}.",
            errors={"members": f"at most {MAX_BATCH} items"},
        )
    errors = _batch_errors(members)
    if errors:
        fields = ", ".join(f"`{field}`" for field in errors)
        raise InvalidInput(f"Some members in the batch are invalid ({fields}); nothing was saved.", errors=errors)
    async with uow() as tx:
        await _require_organization(tx, org_id)
        created, updated = await tx.members.save_many(org_id, members, now)
        await tx.commit()
    return BatchResult(created=created, updated=updated)


async def delete_member(
    uow: UnitOfWorkFactory, zoom: ZoomGateway | None, org_id: str, user_id: str, actor: str, now: datetime
) -> None:
    """The member leaves: their personal connection ends with them, its tokens revoked at Zoom (R14)
    after the transaction."""
    async with uow() as tx:
        await _require_organization(tx, org_id)
        if await tx.members.get(org_id, user_id) is None:
            raise MemberNotFound(f"Member {user_id!r} was not found in organization {org_id!r}.")
        personal = await tx.connections.personal(org_id, user_id)
        tokens = await tx.tokens.read(personal) if personal else None
        if personal is not None:
            await tx.connections.delete(personal)
            await tx.audit.record(connection_event(personal, now, actor, "disconnected", "member deleted"))
        await tx.members.delete(org_id, user_id)
        await tx.commit()
    if tokens is not None and zoom is not None:
        await zoom.revoke(ZoomApp.USER, tokens)


async def _require_organization(uow: UnitOfWork, org_id: str) -> Organization:
    organization = await uow.organizations.get(org_id)
    if organization is None:
        raise OrganizationNotFound(f"Organization {org_id!r} was not found.")
    return organization


def _batch_errors(members: list[MemberInput]) -> dict[str, str]:
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for index, member in enumerate(members):
        try:
            check_identifier(member.user_id, "user_id")
        except InvalidInput as error:
            errors[f"members[{index}].user_id"] = error.errors["user_id"]
        if member.user_id in seen:
            errors[f"members[{index}].user_id"] = "appears more than once in the batch"
        seen.add(member.user_id)
        try:
            normalized_email(member.email, "email")
        except NotAnEmail as error:
            errors[f"members[{index}].email"] = error.errors["email"]
    return errors
