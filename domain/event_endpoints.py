"""The host product registers where it hears events (R24), rotates their secrets, reads and replays deliveries."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

import msgspec

from domain.errors import (
    DeliveryNotFound,
    EndpointDisabled,
    EventEndpointNotFound,
    InvalidInput,
)
from domain.events import check_event_types
from domain.identifiers import check_identifier
from domain.ports import Delivery, EventEndpoint, UnitOfWork, UnitOfWorkFactory

SECRET_PREFIX = "whsec_"
#: How long the replaced secret keeps signing after a rotation, unless the host says otherwise.
DEFAULT_GRACE = timedelta(hours=24)
MAX_GRACE = timedelta(days=7)
DELIVERY_STATUSES = ("pending", "delivered", "failed")
#: Delivery ids are 64-bit: a larger number names no delivery (and no page of them).
MAX_DELIVERY_ID = 2**63 - 1


class RegisteredEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    endpoint: EventEndpoint
    created: bool
    #: Shown once, when the endpoint is created.
    secret: str | None


class RotatedSecret(msgspec.Struct, frozen=True, kw_only=True):
    secret: str
    previous_secret_expires_at: datetime


def new_secret() -> str:
    """Standard Webhooks' form: `whsec_` and 256 random bits in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


async def register_endpoint(
    uow: UnitOfWorkFactory, endpoint_id: str, url: str, event_types: list[str], org_id: str | None, now: datetime
) -> RegisteredEndpoint:
    """`url` was already checked by the caller (a public https address, resolved); empty types: every type."""
    check_identifier(endpoint_id, "endpoint_id")
    if org_id is not None:
        check_identifier(org_id, "org_id")
    wanted = check_event_types(event_types)
    secret = new_secret()
    async with uow() as tx:
        endpoint, created = await tx.event_endpoints.save(endpoint_id, url, wanted, org_id, secret, now)
        await tx.commit()
    return RegisteredEndpoint(endpoint=endpoint, created=created, secret=secret if created else None)


async def endpoint_of(uow: UnitOfWorkFactory, endpoint_id: str) -> EventEndpoint:
    async with uow(read_only=True) as tx:
        return await _endpoint(tx, endpoint_id)


async def _endpoint(tx: UnitOfWork, endpoint_id: str) -> EventEndpoint:
    endpoint = await tx.event_endpoints.get(endpoint_id)
    if endpoint is None:
        raise EventEndpointNotFound(f"There is no event endpoint {endpoint_id!r}.")
    return endpoint


async def delete_endpoint(uow: UnitOfWorkFactory, endpoint_id: str) -> None:
    """Its pending deliveries go with it."""
    async with uow() as tx:
        if not await tx.event_endpoints.delete(endpoint_id):
            raise EventEndpointNotFound(f"There is no event endpoint {endpoint_id!r}.")
        await tx.commit()


async def rotate_secret(uow: UnitOfWorkFactory, endpoint_id: str, grace_s: int, now: datetime) -> RotatedSecret:
    """A new secret signs at once; the old one signs too for `grace_s` seconds, so receivers switch at leisure."""
    # Checked as a number, before it becomes a timedelta (which holds no more than 999,999,999 days).
    if not 0 <= grace_s <= MAX_GRACE.total_seconds():
        raise InvalidInput(
            "The grace period must be between 0 and 7 days.",
            errors={"grace_period_s": f"0 to {int(MAX_GRACE.total_seconds())} seconds"},
        )
    grace = timedelta(seconds=grace_s)
    secret = new_secret()
    async with uow() as tx:
        if not await tx.event_endpoints.rotate_secret(endpoint_id, secret, now + grace, now):
            raise EventEndpointNotFound(f"There is no event endpoint {endpoint_id!r}.")
        await tx.commit()
    return RotatedSecret(secret=secret, previous_secret_expires_at=now + grace)


async def deliveries(
    uow: UnitOfWorkFactory, endpoint_id: str, status: str | None, before_id: int | None, limit: int
) -> tuple[list[Delivery], int | None]:
    if status is not None and status not in DELIVERY_STATUSES:
        raise InvalidInput(
            f"Unknown delivery status {status!r}.", errors={"status": f"one of {', '.join(DELIVERY_STATUSES)}"}
        )
    async with uow(read_only=True) as tx:
        await _endpoint(tx, endpoint_id)
        return await tx.deliveries.page(endpoint_id, status, before_id, limit)


async def redeliver(uow: UnitOfWorkFactory, endpoint_id: str, delivery_id: int) -> None:
    """Sent again soon, with the same event id, in its place in its subject's order."""
    async with uow() as tx:
        endpoint = await _endpoint(tx, endpoint_id)
        if endpoint.disabled_at is not None:
            raise EndpointDisabled(
                "This endpoint was disabled (it answered 410 Gone); register it again with PUT to enable it."
            )
        if not (0 < delivery_id <= MAX_DELIVERY_ID and await tx.deliveries.redeliver(endpoint_id, delivery_id)):
            raise DeliveryNotFound(f"Endpoint {endpoint_id!r} has no delivery {delivery_id}.")
        await tx.commit()


async def redeliver_all(uow: UnitOfWorkFactory, endpoint_id: str, delivery_ids: list[int], done: Callable[[], None]) -> None:
    """Each redelivery commits alone: stopped half way, asking again picks up the rest. `done` after each."""
    for delivery_id in delivery_ids:
        await redeliver(uow, endpoint_id, delivery_id)
        done()


async def failed_deliveries(uow: UnitOfWorkFactory, endpoint_id: str) -> list[int]:
    """Every failed delivery of the endpoint, newest first, read a page (one short read) at a time."""
    failed: list[int] = []
    before = None
    while True:
        page, before = await deliveries(uow, endpoint_id, "failed", before, 200)
        failed += [delivery.id for delivery in page]
        if before is None:
            return failed
