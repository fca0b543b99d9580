"""Signed event notifications, shaped per Zoom's Users and Marketplace webhook documents.

Deliveries happen before the control call that caused them answers, so a test that changes
a user can assert on what Roomlink received right after. An unreachable target is recorded,
never raised: the scenario goes on as it would with Zoom.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

import httpx
import msgspec
from msgspec import UNSET, UnsetType

from server.zoom_sandbox.config import ZoomAppConfig
from server.zoom_sandbox.meetings import room_id, shown_type
from server.zoom_sandbox.state import LICENSED, Meeting, Sandbox, WebhookDelivery, ZoomUser, zoom_timestamp

#: Zoom expects an answer within 3 seconds; waiting longer would only stall the control call.
DELIVERY_TIMEOUT_S = 3.0

#: The ``object`` of a user event: which fields it holds depends on the event and the change.
UserObject = dict[str, Any]


class UserEventPayload(msgspec.Struct, kw_only=True, frozen=True):
    account_id: str
    operator: str
    operator_id: str
    object: UserObject
    time_stamp: int | UnsetType = UNSET
    old_object: UserObject | UnsetType = UNSET


class UserEvent(msgspec.Struct, kw_only=True, frozen=True):
    event: str
    event_ts: int
    payload: UserEventPayload


class AppDeauthorizedPayload(msgspec.Struct, kw_only=True, frozen=True):
    account_id: str
    user_id: str
    signature: str
    deauthorization_time: str
    client_id: str
    #: Inside the payload, not beside it: that is where the Marketplace document puts it.
    event_ts: int


class AppDeauthorized(msgspec.Struct, kw_only=True, frozen=True):
    event: str
    payload: AppDeauthorizedPayload


class MeetingEventPayload(msgspec.Struct, kw_only=True, frozen=True):
    account_id: str
    operator: str
    operator_id: str
    object: dict[str, Any]
    operation: str | UnsetType = UNSET
    time_stamp: int | UnsetType = UNSET
    old_object: dict[str, Any] | UnsetType = UNSET


class MeetingEvent(msgspec.Struct, kw_only=True, frozen=True):
    event: str
    event_ts: int
    payload: MeetingEventPayload


Event = UserEvent | AppDeauthorized | MeetingEvent


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


async def deliver(sandbox: Sandbox, app: ZoomAppConfig, event: Event) -> None:
    url = sandbox.settings.webhook_url
    if url is None:
        return
    body = msgspec.json.encode(event)
    timestamp = int(sandbox.now().timestamp())
    headers = {
        "content-type": "application/json",
        "user-agent": "Zoom Marketplace/1.0a",
        "x-zm-request-timestamp": str(timestamp),
        "x-zm-signature": signature(app.webhook_secret_token, timestamp, body),
    }
    delivery = WebhookDelivery(event=event.event, target=url, client_id=app.client_id, time=sandbox.now())
    sandbox.webhook_deliveries.append(delivery)
    try:
        async with httpx.AsyncClient(transport=sandbox.webhook_transport, timeout=DELIVERY_TIMEOUT_S) as client:
            response = await client.post(url, content=body, headers=headers)
        delivery.status = response.status_code
    except httpx.HTTPError as exc:
        delivery.error = f"{type(exc).__name__}: {exc}"


async def deliver_all(sandbox: Sandbox, apps: list[ZoomAppConfig], events: Sequence[Event]) -> None:
    for app in apps:
        for event in events:
            await deliver(sandbox, app, event)


def user_event_recipients(sandbox: Sandbox, account_id: str) -> list[ZoomAppConfig]:
    """Admin-managed apps authorized in this account: they are the ones subscribed to its user events.

    Call it before changing anything: deleting the approver revokes the very grant that makes
    the app a recipient of that ``user.deleted``.
    """
    return [
        app
        for app in sandbox.apps.values()
        if app.kind == "admin_managed"
        and any(
            (approver := sandbox.users.get(grant.user_id)) is not None and approver.account_id == account_id
            for grant in sandbox.live_grants(client_id=app.client_id)
        )
    ]


def user_event(
    sandbox: Sandbox, name: str, subject: ZoomUser, obj: UserObject, old_object: UserObject | None = None
) -> UserEvent:
    """The ``{"event", "event_ts", "payload"}`` envelope of Zoom's user events about ``subject``.

    Build it before changing the subject: the payload names the account it belonged to.
    """
    operator = account_operator(sandbox, subject)
    event_ts = int(sandbox.now().timestamp() * 1000)
    change = {} if old_object is None else {"time_stamp": event_ts, "old_object": old_object}
    payload = UserEventPayload(
        account_id=subject.account_id, operator=operator.email, operator_id=operator.id, object=obj, **change
    )
    return UserEvent(event=name, event_ts=event_ts, payload=payload)


def account_operator(sandbox: Sandbox, subject: ZoomUser) -> ZoomUser:
    """Who Zoom names as having made a change: control calls have no actor, so the account's Owner
    (else an Admin, else the user themselves)."""
    users = list(sandbox.users_of_account(subject.account_id))
    owners = [user for user in users if user.role == "owner"]
    admins = [user for user in users if user.role == "admin"]
    return next(iter(owners or admins), subject)


def user_summary(user: ZoomUser) -> UserObject:
    """The user object of ``user.activated``, ``.deactivated``, ``.deleted`` and ``.disassociated``."""
    return {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "type": LICENSED,
    }


def app_deauthorized_event(sandbox: Sandbox, app: ZoomAppConfig, user: ZoomUser) -> AppDeauthorized:
    now = sandbox.now()
    deauthorized_at = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    # Zoom signs this payload for its data-compliance API; receivers verify the header instead.
    compliance_signature = hmac.new(
        app.client_secret.encode(), f"{user.id}:{user.account_id}:{deauthorized_at}".encode(), hashlib.sha256
    ).hexdigest()
    payload = AppDeauthorizedPayload(
        account_id=user.account_id,
        user_id=user.id,
        signature=compliance_signature,
        deauthorization_time=deauthorized_at,
        client_id=app.client_id,
        event_ts=int(now.timestamp() * 1000),
    )
    return AppDeauthorized(event="app_deauthorized", payload=payload)


def meeting_event_recipients(sandbox: Sandbox, host: ZoomUser) -> list[ZoomAppConfig]:
    """Apps that hear about a host's meetings: admin-managed ones authorized in the host's account,
    and user-managed ones the host authorized."""
    personal = [
        app
        for app in sandbox.apps.values()
        if app.kind == "user_managed" and sandbox.live_grants(client_id=app.client_id, user_id=host.id)
    ]
    return user_event_recipients(sandbox, host.account_id) + personal


def meeting_summary(meeting: Meeting, host: ZoomUser) -> dict[str, Any]:
    """The ``object`` of meeting.deleted and meeting.recovered, and what meeting.updated always names. A meeting
    held in the PMI room shows the PMI as its id, as Zoom's events do; its uuid stays its own."""
    return {
        "uuid": meeting.uuid,
        "id": room_id(meeting, host),
        "host_id": meeting.host_id,
        "topic": meeting.topic,
        "type": shown_type(meeting),
        "start_time": zoom_timestamp(meeting.start_time),
        "duration": meeting.duration,
        "timezone": meeting.timezone,
    }


def meeting_event(
    sandbox: Sandbox, name: str, meeting: Meeting, host: ZoomUser, before: Meeting | None = None
) -> MeetingEvent:
    """meeting.updated names the fields that changed (with ``old_object``); .deleted and .recovered the meeting."""
    operator = account_operator(sandbox, host)
    event_ts = int(sandbox.now().timestamp() * 1000)
    obj: dict[str, Any] = {"id": room_id(meeting, host), "uuid": meeting.uuid, "host_id": meeting.host_id}
    change: dict[str, Any] = {}
    if before is None:
        obj = meeting_summary(meeting, host)
    else:
        now_fields, old_fields = _changed_fields(meeting), _changed_fields(before)
        changed = {name: value for name, value in now_fields.items() if old_fields[name] != value}
        obj |= changed
        change = {"time_stamp": event_ts, "old_object": {"id": obj["id"], **{k: old_fields[k] for k in changed}}}
    payload = MeetingEventPayload(
        account_id=host.account_id, operator=operator.email, operator_id=operator.id, object=obj,
        operation="single", **change,
    )
    return MeetingEvent(event=name, event_ts=event_ts, payload=payload)


def _changed_fields(meeting: Meeting) -> dict[str, Any]:
    return {
        "topic": meeting.topic,
        "start_time": zoom_timestamp(meeting.start_time),
        "duration": meeting.duration,
        "timezone": meeting.timezone,
        "agenda": meeting.agenda,
        "password": meeting.password,
    }
