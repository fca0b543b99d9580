"""What the host product was told about one organization (R24), for that organization's owners and admins:
the endpoints that hear it, and the deliveries of its events, newest first; one of them sent again.

An owner who hears "our product never learnt that Noah's Zoom broke" can see here whether Roomlink told it,
when, and what it answered, without the host product's API key.
"""

from __future__ import annotations

import msgspec

from domain.access import Principal, require_manager
from domain.errors import DeliveryNotFound, EndpointDisabled, InvalidInput
from domain.event_endpoints import DELIVERY_STATUSES, MAX_DELIVERY_ID
from domain.ports import Delivery, EventEndpoint, UnitOfWorkFactory


class OrganizationEventLog(msgspec.Struct, frozen=True, kw_only=True):
    #: Endpoints that hear this organization: registered for it, or for every organization.
    endpoints: list[EventEndpoint]
    deliveries: list[Delivery]
    #: The delivery id to continue before, when older ones follow.
    before_id: int | None


async def organization_event_log(
    uow: UnitOfWorkFactory, principal: Principal, status: str | None, before_id: int | None, limit: int
) -> OrganizationEventLog:
    require_manager(principal, principal.org_id)
    if status is not None and status not in DELIVERY_STATUSES:
        raise InvalidInput(
            f"Unknown delivery status {status!r}.", errors={"status": f"one of {', '.join(DELIVERY_STATUSES)}"}
        )
    if before_id is not None and not 0 < before_id <= MAX_DELIVERY_ID:
        raise InvalidInput("That page of deliveries does not exist.", errors={"before": "a delivery id"})
    async with uow(read_only=True) as tx:
        endpoints = await tx.event_endpoints.hearing(principal.org_id)
        deliveries, more = await tx.deliveries.organization_page(principal.org_id, status, before_id, limit)
    return OrganizationEventLog(endpoints=endpoints, deliveries=deliveries, before_id=more)


async def redeliver_for_organization(uow: UnitOfWorkFactory, principal: Principal, delivery_id: int) -> Delivery:
    """Sent again soon, with the same event id, in its place in its subject's order; only a delivery of an
    event of the caller's organization (any other id is not found), never to a disabled endpoint."""
    require_manager(principal, principal.org_id)
    async with uow() as tx:
        delivery = (
            await tx.deliveries.of_organization(principal.org_id, delivery_id)
            if 0 < delivery_id <= MAX_DELIVERY_ID
            else None
        )
        if delivery is None:
            raise DeliveryNotFound(f"Your organization has no event delivery {delivery_id}.")
        endpoint = await tx.event_endpoints.get(delivery.endpoint_id)
        if endpoint is None or endpoint.disabled_at is not None:
            raise EndpointDisabled(
                "Your product's endpoint stopped taking events (it answered 410 Gone); it hears nothing until "
                "your product registers it again."
            )
        await tx.deliveries.redeliver(delivery.endpoint_id, delivery.id)
        await tx.commit()
    return delivery
