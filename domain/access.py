"""Who may do what (R1): every request acts as one member of one organization."""

from __future__ import annotations

import msgspec

from domain.errors import OrganizationNotFound, RoleRequired
from domain.model import Role


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    org_id: str
    user_id: str
    role: Role
    #: How the request authenticated, for the audit trail: `user:<id>` or `api_key:<label> as user:<id>`.
    actor: str


def require_member_of(principal: Principal, org_id: str) -> None:
    """Another organization's data does not exist for this caller: 404, never 403."""
    if principal.org_id != org_id:
        raise OrganizationNotFound(f"Organization {org_id!r} was not found.")


def require_manager(principal: Principal, org_id: str) -> None:
    require_member_of(principal, org_id)
    if not principal.role.manages_organization:
        raise RoleRequired("Only the organization's owners and admins may do this.")
