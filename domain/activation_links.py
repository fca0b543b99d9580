"""Pending activation links as owners and admins see them: listed, resent (R1, R3).

Creating, revoking and completing a link are in domain.connecting, with the rest of the activation.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.access import Principal, require_manager
from domain.connecting import Invitations, add_activation_link
from domain.errors import ActivationLinkNotEmailed, ActivationLinkNotFound
from domain.ports import ActivationLink, AuditEvent, UnitOfWorkFactory


async def pending_activation_links(
    uow: UnitOfWorkFactory, principal: Principal, org_id: str, now: datetime
) -> list[ActivationLink]:
    """Not used, not revoked, not expired; newest first."""
    require_manager(principal, org_id)
    async with uow(read_only=True) as tx:
        return await tx.activation_links.pending(org_id, now)


async def resend_activation_link(
    uow: UnitOfWorkFactory,
    invitations: Invitations | None,
    principal: Principal,
    org_id: str,
    link_id: str,
    token: str,
    url: str,
    now: datetime,
    ttl: timedelta,
) -> ActivationLink:
    """Only a token's hash is kept (R3), so the same URL cannot be sent twice: the Zoom administrator
    gets a fresh link, and the old one is revoked in the same transaction. A failed send keeps both as
    they were."""
    require_manager(principal, org_id)
    async with uow() as tx:
        old = await tx.activation_links.get(org_id, link_id)
        if old is None or old.used_at is not None or old.revoked_at is not None or old.expires_at <= now:
            raise ActivationLinkNotFound("There is no such pending activation link in this organization.")
        if old.emailed_to is None:
            raise ActivationLinkNotEmailed(
                "This link was not emailed to anyone. Copy a new link and send it yourself, or create one with an email."
            )
        await tx.activation_links.revoke(old, now)
        await tx.audit.record(
            AuditEvent(
                org_id=org_id,
                at=now,
                actor=principal.actor,
                action="activation_link_revoked",
                details={"activation_link_id": old.id, "resent": True},
            )
        )
        link = await add_activation_link(tx, invitations, principal, org_id, token, url, old.emailed_to, now, ttl)
        await tx.commit()
    return link
