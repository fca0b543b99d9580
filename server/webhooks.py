"""POST /webhooks/zoom: Zoom's event notifications for both apps, checked, recorded, answered fast."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, post
from litestar.datastructures import State

from domain import webhook_intake
from domain.identifiers import NO_CONTROL_CHARACTERS
from domain.zoom import ZoomApp
from persistence.database import unit_of_work
from server.api.openapi import answers
from server.clock import utcnow
from server.config import ZoomSettings
from server.jobs import ZOOM_EVENT
from server.problems import Problem, plain_words

#: Zoom's rule: a notification older (or further in the future) than this is refused.
MAX_AGE_S = 300
#: Zoom's notifications nest a few levels; anything deeper is not one of them.
MAX_DEPTH = 16


class NotificationPayload(msgspec.Struct, kw_only=True):
    """The parts of `payload` Roomlink reads; the rest is kept as sent, for the job."""

    plainToken: Annotated[str, msgspec.Meta(max_length=256)] | None = None
    account_id: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    user_id: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    object: dict[str, Any] | None = None
    old_object: dict[str, Any] | None = None


class Notification(msgspec.Struct, kw_only=True):
    event: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=rf"^{NO_CONTROL_CHARACTERS}[A-Za-z0-9_.]+$")]
    payload: NotificationPayload
    event_ts: int | None = None


def parse_notification(body: bytes) -> Notification:
    """Zoom's envelope, or 400 `webhook_malformed`: nothing that fails here becomes a job."""
    try:
        document = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        raise Problem(400, "webhook_malformed", "The notification is not JSON.") from None
    if _depth(document) > MAX_DEPTH:
        raise Problem(400, "webhook_malformed", f"The notification nests deeper than {MAX_DEPTH} levels.")
    try:
        return msgspec.convert(document, Notification)
    except msgspec.ValidationError as error:
        raise Problem(400, "webhook_malformed", f"The notification is not Zoom's: {_words(error)}.") from None


def _words(error: msgspec.ValidationError) -> str:
    path, words = plain_words(str(error))
    return f"`{path or 'body'}` {words}"


def _depth(value: object) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


def sign(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def verified_app(zoom: ZoomSettings, signature: str, timestamp: str, body: bytes, now: float) -> ZoomApp:
    """Which of our apps signed this body; the signature is checked before anything is read from it."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > MAX_AGE_S:
        raise Problem(401, "webhook_stale", "The notification's timestamp is missing or older than 5 minutes.")
    message = f"v0:{timestamp}:{body.decode('utf-8', errors='replace')}"
    matches = [
        app
        for app, credentials in ((ZoomApp.USER, zoom.user_app), (ZoomApp.ADMIN, zoom.admin_app))
        if hmac.compare_digest(f"v0={sign(credentials.webhook_secret, message)}", signature)
    ]
    if not matches:
        raise Problem(401, "webhook_signature_invalid", "The notification's signature does not match.")
    return matches[0]


class Received(msgspec.Struct, frozen=True, kw_only=True):
    status: Literal["accepted", "already_received"]


class UrlValidated(msgspec.Struct, frozen=True, kw_only=True):
    """Zoom's endpoint check: the plain token and its HMAC under the app's secret token."""

    plainToken: str
    encryptedToken: str


@post(
    "/webhooks/zoom",
    operation_id="ReceiveZoomWebhook",
    tags=["webhooks"],
    status_code=200,
    summary="Zoom's event notifications (both apps)",
    responses=answers(
        {
            400: ("webhook_malformed",),
            401: ("webhook_stale", "webhook_signature_invalid"),
            413: ("request_too_large",),
            503: ("zoom_not_configured", "database_unavailable", "database_busy"),
        }
    ),
)
async def zoom_webhook(request: Request, state: State) -> Response[Received | UrlValidated]:
    """For Zoom only: signed with the app's secret token (`x-zm-signature`, at most 5 minutes old), answered at
    once; the work is queued. A notification already received is acknowledged and not queued again."""
    zoom: ZoomSettings | None = state.settings.zoom
    if zoom is None:
        raise Problem(503, "zoom_not_configured", "Zoom is not configured on this Roomlink.")
    body = await request.body()
    app = verified_app(
        zoom,
        request.headers.get("x-zm-signature", ""),
        request.headers.get("x-zm-request-timestamp", ""),
        body,
        time.time(),
    )
    notification = parse_notification(body)
    name = notification.event
    if name == "endpoint.url_validation":
        plain = notification.payload.plainToken
        if plain is None:
            raise Problem(400, "webhook_malformed", "`payload.plainToken` is required to validate the endpoint.")
        secret = (zoom.user_app if app is ZoomApp.USER else zoom.admin_app).webhook_secret
        return Response(UrlValidated(plainToken=plain, encryptedToken=sign(secret, plain)))
    fresh = await webhook_intake.accept_notification(
        unit_of_work, hashlib.sha256(body).hexdigest(), name, ZOOM_EVENT, {"app": app.value, "body": body.decode()}, utcnow()
    )
    return Response(Received(status="accepted" if fresh else "already_received"))
