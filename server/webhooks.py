"""POST /webhooks/zoom: Zoom's event notifications for both apps, checked, recorded, answered fast."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from litestar import Request, Response, post
from litestar.datastructures import State

from domain.zoom import ZoomApp
from persistence.database import unit_of_work
from server.clock import utcnow
from server.config import ZoomSettings
from server.jobs import ZOOM_EVENT
from server.problems import Problem

#: Zoom's rule: a notification older (or further in the future) than this is refused.
MAX_AGE_S = 300


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


@post("/webhooks/zoom", operation_id="ReceiveZoomWebhook", tags=["webhooks"], status_code=200)
async def zoom_webhook(request: Request, state: State) -> Response:
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
    try:
        notification = json.loads(body)
        name = str(notification["event"])
    except (ValueError, KeyError, TypeError):
        raise Problem(400, "webhook_malformed", "The notification is not Zoom's JSON.") from None
    if name == "endpoint.url_validation":
        plain = str(notification.get("payload", {}).get("plainToken", ""))
        secret = (zoom.user_app if app is ZoomApp.USER else zoom.admin_app).webhook_secret
        return Response({"plainToken": plain, "encryptedToken": sign(secret, plain)})
    async with unit_of_work() as uow:
        fresh = await uow.webhooks.accept(hashlib.sha256(body).hexdigest(), name, utcnow())
        if fresh:
            await uow.jobs.enqueue(ZOOM_EVENT, {"app": app.value, "body": body.decode()})
        await uow.commit()
    return Response({"status": "accepted" if fresh else "already_received"})
