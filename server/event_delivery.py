"""Sending events to the host product's endpoints (R24): signed, at least once, in order, retried for days.

Every worker runs `deliver_events`: it leases due deliveries (persistence/events.py), posts them
concurrently, and records each outcome as it comes; one endpoint has at most a few in flight, so a slow
one delays only its own. A 2xx is delivered; 410 Gone disables the endpoint; any
other answer, a timeout or a refused address is retried with exponential backoff and jitter until
`retry_for` has passed since the first attempt (3 days by default), then the delivery fails and
stays in the log for redelivery.

Endpoints are https:// on public addresses only (no special-purpose range: domain.addresses). The
address is checked when the endpoint is registered and again before every attempt, after resolving it, and the request goes to the very address checked
(TLS still verifies the certificate for the host's name), so a DNS answer that changes to an
internal address between the check and the connection (DNS rebinding) reaches nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook

from domain import events
from domain.addresses import address_refusal, embedded_ipv4
from domain.errors import EndpointUrlNotAllowed
from domain.events import DELIVERY_BATCH, Outcome, RetryPolicy
from persistence.database import unit_of_work
from persistence.events import ClaimedDelivery
from server.config import Settings

__all__ = ["BATCH", "Outcome", "RetryPolicy", "deliver_events", "deliver_once", "requeue_fan_outs"]

log = logging.getLogger("roomlink.events")

#: Deliveries leased and sent at once per round (domain.events.DELIVERY_BATCH).
BATCH = DELIVERY_BATCH
#: How often stuck fan-outs (their job lost) are queued again.
FAN_OUT_SWEEP_S = 30.0
#: Deliveries one worker has in flight at most (each holds a connection to its endpoint, none to the database).
MAX_IN_FLIGHT = 256
#: An endpoint that does not accept a connection within this is tried again later.
CONNECT_TIMEOUT_S = 3.0


def allowed_address(address: str, allow_loopback: bool) -> bool:
    return address_refusal(address, allow_loopback=allow_loopback) is None


async def checked_address(url: str, allow_loopback: bool) -> str:
    """The address to connect to for `url`, once every address its host resolves to is allowed.

    Raises EndpointUrlNotAllowed (400, nothing stored) for anything else: another scheme, credentials in the
    URL, port 0, http:// to anything but loopback, any special-purpose address (domain.addresses).
    """
    parts = urlsplit(url)
    refuse = lambda reason: EndpointUrlNotAllowed(f"The endpoint URL is not allowed: {reason}.", errors={"url": reason})  # noqa: E731
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise refuse("it must be an https:// URL")
    if parts.username or parts.password:
        raise refuse("it must not carry credentials")
    try:
        port = parts.port if parts.port is not None else (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise refuse("its port is invalid") from None
    if port == 0:
        raise refuse("its port is invalid (0 names no port)")
    try:
        found = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise refuse(f"{parts.hostname} does not resolve") from None
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not addresses:
        raise refuse(f"{parts.hostname} does not resolve")
    for address in addresses:
        reason = address_refusal(address, allow_loopback=allow_loopback)
        if reason is not None:
            raise refuse(f"it must be a public address, and {address} is {reason}")
    if parts.scheme == "http" and not all(_loopback(a) for a in addresses):
        raise refuse("it must be an https:// URL")
    return addresses[0]


def _loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    inner = embedded_ipv4(ip)
    return ip.is_loopback or (inner is not None and inner.is_loopback)


def signature(secrets: list[str], event_id: str, timestamp: datetime, body: str) -> str:
    """`v1,<base64>` per secret, space-separated: during a rotation's grace period both secrets sign."""
    return " ".join(Webhook(secret).sign(event_id, timestamp, body) for secret in secrets)


class EventSender:
    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self._settings = settings
        self._http = http

    async def send(self, delivery: ClaimedDelivery) -> Outcome:
        """One attempt, bounded as a whole (address lookup, connection, answer) by the events timeout."""
        try:
            async with asyncio.timeout(self._settings.events_timeout_s):
                return await self._attempt(delivery)
        except TimeoutError:
            return Outcome(status_code=None, error="timed out")

    async def _attempt(self, delivery: ClaimedDelivery) -> Outcome:
        try:
            address = await checked_address(delivery.url, self._settings.events_allow_loopback)
        except EndpointUrlNotAllowed as refused:
            return Outcome(status_code=None, error=refused.detail)
        parts = urlsplit(delivery.url)
        host = f"[{address}]" if ":" in address else address
        netloc = f"{host}:{parts.port}" if parts.port else host
        now = datetime.now(UTC)
        secrets = [delivery.secrets.current, *([delivery.secrets.previous] if delivery.secrets.previous else [])]
        request = self._http.build_request(
            "POST",
            parts._replace(netloc=netloc).geturl(),
            content=delivery.body.encode(),
            headers={
                "host": parts.netloc,
                "content-type": "application/json",
                "user-agent": "Roomlink-Webhooks/1",
                "webhook-id": delivery.event_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": signature(secrets, delivery.event_id, now, delivery.body),
            },
            extensions={"sni_hostname": parts.hostname} if parts.scheme == "https" else {},
        )
        try:
            try:
                response = await self._http.send(request, stream=True)
            except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
                # A kept-alive connection the endpoint had just closed: once more, on a new connection. At least
                # once already allows a second copy (receivers deduplicate on webhook-id).
                response = await self._http.send(request, stream=True)
            await response.aclose()
        except httpx.TimeoutException:
            return Outcome(status_code=None, error="timed out")
        except httpx.HTTPError as error:
            return Outcome(status_code=None, error=f"{type(error).__name__}: {error}"[:300])
        return Outcome(status_code=response.status_code, error=None if response.is_success else f"HTTP {response.status_code}")


async def deliver_events(settings: Settings, stop: asyncio.Event) -> None:
    """One worker's delivery loop, until `stop`; any number run side by side.

    Not in rounds: each delivery is sent and recorded on its own, and the loop leases more as soon as some
    are due and it has room, so an endpoint that answers slowly (or not at all, until the timeout) keeps only
    its own deliveries waiting: at most ENDPOINT_IN_FLIGHT of them are in flight at once, on every worker
    together, and other endpoints' deliveries go out meanwhile.
    """
    timeout = httpx.Timeout(settings.events_timeout_s, connect=min(CONNECT_TIMEOUT_S, settings.events_timeout_s))
    policy = RetryPolicy(
        first_delay_s=settings.events_retry_first_s,
        max_delay_s=settings.events_retry_max_s,
        retry_for_s=settings.events_retry_for_s,
    )
    # A live worker sends within one timeout of its lease and records at once: well past that, it died.
    lease_s = 2 * settings.events_timeout_s + 5
    swept = 0.0
    in_flight: set[asyncio.Task[None]] = set()
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT // 4)
    async with httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False, trust_env=False) as http:
        sender = EventSender(settings, http)
        try:
            while not stop.is_set():
                claimed = 0
                try:
                    if asyncio.get_running_loop().time() - swept > FAN_OUT_SWEEP_S:
                        swept = asyncio.get_running_loop().time()
                        await requeue_fan_outs()
                    room = MAX_IN_FLIGHT - len(in_flight)
                    if room > 0:
                        leased = await events.claim_deliveries(unit_of_work, min(room, BATCH), lease_s)
                        claimed = len(leased)
                        for delivery in leased:
                            task = asyncio.create_task(_send_and_record(sender, policy, delivery))
                            in_flight.add(task)
                            task.add_done_callback(in_flight.discard)
                except Exception:
                    log.exception("event delivery round failed")
                if claimed and len(in_flight) < MAX_IN_FLIGHT:
                    continue
                # Until the poll interval, one delivery ends (its endpoint may take another), or the worker stops.
                stopping = asyncio.create_task(stop.wait())
                await asyncio.wait({stopping, *in_flight}, timeout=settings.events_poll_s, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
        finally:
            if in_flight:
                await asyncio.wait(in_flight, timeout=settings.events_timeout_s + 5)


async def _send_and_record(sender: EventSender, policy: RetryPolicy, delivery: ClaimedDelivery) -> None:
    try:
        outcome = await sender.send(delivery)
        await events.record_outcome(unit_of_work, delivery, outcome, policy, datetime.now(UTC))
    except Exception:
        # Unrecorded, its lease runs out and it is sent again: at least once.
        log.exception("event delivery %s failed", delivery.id)


async def deliver_once(sender: EventSender, policy: RetryPolicy, lease_s: float) -> int:
    """One round: lease, send, record (domain.events.deliver_once). Returns how many were sent."""
    return await events.deliver_once(unit_of_work, sender.send, policy, lease_s, lambda: datetime.now(UTC), BATCH)


async def requeue_fan_outs() -> None:
    """A fan-out whose job was lost (failed for good, or dropped) would hold its members' events back."""
    await events.requeue_fan_outs(unit_of_work)
