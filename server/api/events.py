"""Events to the host product (R24): its endpoints, their secrets, the delivery log (provisioning, API key)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, post, put
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from domain import event_endpoints
from domain.errors import InvalidCursor
from domain.event_endpoints import MAX_DELIVERY_ID
from domain.ports import EventEndpoint
from persistence.database import unit_of_work
from server.api.bodies import (
    DeliveriesPageOut,
    DeliveryOut,
    EventEndpointIn,
    EventEndpointOut,
    RedeliveryOut,
    RotatedSecretOut,
    RotateSecretIn,
)
from server.api.openapi import answers
from server.auth import host_product_guard
from server.clock import utcnow
from server.event_delivery import checked_address


class EventEndpointController(Controller):
    path = "/api/v1/event-endpoints/{endpoint_id:str}"
    guards = [host_product_guard]
    tags = ["events"]

    @put(
        "/",
        operation_id="PutEventEndpoint",
        status_code=200,
        responses={
            201: ResponseSpec(EventEndpointOut, description="Registered: the one answer that shows `secret`."),
            **answers({400: ("endpoint_url_not_allowed",)}),
        },
    )
    async def put_endpoint(
        self, endpoint_id: FromPath[str], data: JSONBody[EventEndpointIn], state: State
    ) -> Response[EventEndpointOut]:
        await checked_address(data.url, state.settings.events_allow_loopback)
        registered = await event_endpoints.register_endpoint(
            unit_of_work, endpoint_id, data.url, data.event_types, data.org_id, utcnow()
        )
        return Response(
            _endpoint_out(registered.endpoint, registered.secret), status_code=201 if registered.created else 200
        )

    @get("/", operation_id="GetEventEndpoint", responses=answers({404: ("event_endpoint_not_found",)}))
    async def get_endpoint(self, endpoint_id: FromPath[str]) -> EventEndpointOut:
        return _endpoint_out(await event_endpoints.endpoint_of(unit_of_work, endpoint_id))

    @delete("/", operation_id="DeleteEventEndpoint", status_code=204, responses=answers({404: ("event_endpoint_not_found",)}))
    async def delete_endpoint(self, endpoint_id: FromPath[str]) -> None:
        await event_endpoints.delete_endpoint(unit_of_work, endpoint_id)

    @post("/rotate-secret", operation_id="RotateEventEndpointSecret", status_code=200, responses=answers({404: ("event_endpoint_not_found",)}))
    async def rotate_secret(
        self, endpoint_id: FromPath[str], data: JSONBody[RotateSecretIn]
    ) -> RotatedSecretOut:
        rotated = await event_endpoints.rotate_secret(unit_of_work, endpoint_id, data.grace_period_s, utcnow())
        return RotatedSecretOut(
            id=endpoint_id, secret=rotated.secret, previous_secret_expires_at=rotated.previous_secret_expires_at
        )

    @get(
        "/deliveries",
        operation_id="ListEventDeliveries",
        responses=answers({400: ("invalid_cursor",), 404: ("event_endpoint_not_found",)}),
    )
    async def list_deliveries(
        self,
        endpoint_id: FromPath[str],
        status: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> DeliveriesPageOut:
        items, next_before = await event_endpoints.deliveries(unit_of_work, endpoint_id, status, _before(cursor), limit)
        return DeliveriesPageOut(
            items=[
                DeliveryOut(
                    id=d.id,
                    event_id=d.event_id,
                    type=d.type,
                    subject=d.subject,
                    attempts=d.attempts,
                    status=d.status,
                    last_status_code=d.last_status_code,
                    last_error=d.last_error,
                    next_attempt_at=d.next_attempt_at,
                    delivered_at=d.delivered_at,
                )
                for d in items
            ],
            next_cursor=str(next_before) if next_before is not None else None,
        )

    @post(
        "/deliveries/{delivery_id:int}/redeliver",
        operation_id="RedeliverEvent",
        status_code=202,
        # `not_found`: a delivery_id that is not a number matches no route.
        responses=answers(
            {404: ("event_endpoint_not_found", "delivery_not_found", "not_found"), 409: ("endpoint_disabled",)}
        ),
    )
    async def redeliver(
        self, endpoint_id: FromPath[str], delivery_id: FromPath[int]
    ) -> RedeliveryOut:
        await event_endpoints.redeliver(unit_of_work, endpoint_id, delivery_id)
        return RedeliveryOut(id=delivery_id, status="pending")


def _before(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    # ASCII digits only ("²" is a digit to str.isdigit, not to int), and no more than a delivery id can be.
    if not (cursor.isascii() and cursor.isdigit()) or int(cursor) > MAX_DELIVERY_ID:
        raise InvalidCursor("The cursor is not one this API handed out.", errors={"cursor": "invalid"})
    return int(cursor)


def _endpoint_out(endpoint: EventEndpoint, secret: str | None = None) -> EventEndpointOut:
    return EventEndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        event_types=endpoint.event_types,
        org_id=endpoint.org_id,
        disabled_at=endpoint.disabled_at,
        disabled_reason=endpoint.disabled_reason,
        secret=secret,
    )
