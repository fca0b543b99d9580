"""Request and response bodies of the HTTP API (docs/api.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Request

from domain.identifiers import EMAIL_PATTERN, IDENTIFIER_PATTERN, TEXT_PATTERN
from domain.model import MemberRow, Role
from server.problems import Problem, validation_problem

#: The strings a host product sends: no control characters in any of them (TEXT_PATTERN).
Name = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=200, pattern=TEXT_PATTERN, description="1–200 characters, no control characters"),
]
Email = Annotated[
    str, msgspec.Meta(pattern=EMAIL_PATTERN, max_length=320, description="an email address", examples=["ada@example.com"])
]
Identifier = Annotated[
    str,
    msgspec.Meta(
        pattern=IDENTIFIER_PATTERN,
        description="the host product's id: 1–128 characters of letters, digits and . _ : -",
        examples=["user-42"],
    ),
]

_BODY_METHODS = {"POST", "PUT", "PATCH"}


async def check_request_body(request: Request) -> None:
    """Before any dependency runs (so before any transaction), an API body is JSON, read strictly.

    Bodies must say they are JSON: a form post from another site cannot pass for an API call.

    Litestar converts bodies leniently (`"true"` or `1` would pass for a boolean); here the raw
    body is decoded as JSON means it, against the handler's body type, and refused in plain words.
    """
    if request.method not in _BODY_METHODS or not request.url.path.startswith("/api/"):
        return
    has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if has_body and content_type != "application/json":
        raise Problem(415, "unsupported_media_type", "Send the body as application/json.")
    body = request.route_handler.parsed_fn_signature.parameters.get("data")
    if body is None:
        return
    raw = await request.body()
    try:
        msgspec.json.decode(raw, type=body.annotation, strict=True)
    except msgspec.ValidationError as error:
        raise validation_problem(str(error)) from None
    except (msgspec.DecodeError, RecursionError):
        raise Problem(400, "malformed_json", "The request body is not valid JSON; nothing was changed.") from None


class OrganizationIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name


class MemberIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Email
    name: Name
    role: Role


class BatchMemberIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    user_id: Identifier
    email: Email
    name: Name
    role: Role


class BatchIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    members: list[BatchMemberIn]


class BatchOut(msgspec.Struct, frozen=True, kw_only=True):
    created: int
    updated: int


class LaunchLinkOut(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    expires_at: datetime


class PolicyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    allow_members_to_remove: bool


class MembersPageOut(msgspec.Struct, frozen=True, kw_only=True):
    items: list[MemberRow]
    next_cursor: str | None
    #: How many members the filter lists in all, for "26–37 of 37"; null for a search (`q`).
    total: int | None


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: str


class ActivationLinkIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    zoom_admin_email: Email | None = None


class ActivationLinkOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    url: str
    expires_at: datetime
    #: The Zoom administrator the link was emailed to, if any.
    emailed_to: str | None


class PendingActivationLinkOut(msgspec.Struct, frozen=True, kw_only=True):
    """A pending activation link as owners and admins see it: never its URL (only a hash is kept, R3)."""

    id: str
    created_at: datetime
    expires_at: datetime
    emailed_to: str | None
    #: The user ID of the owner or admin who created it.
    created_by: str
    #: Their name, while they are a member.
    created_by_name: str | None = None


class PendingActivationLinksOut(msgspec.Struct, frozen=True, kw_only=True):
    items: list[PendingActivationLinkOut]


class DisconnectedOut(msgspec.Struct, frozen=True, kw_only=True):
    #: Members who relied on the organization connection and are now not connected.
    affected_members: int


class AuthorizeOut(msgspec.Struct, frozen=True, kw_only=True):
    authorize_url: str


class EventEndpointIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    #: Empty or absent: every event type.
    event_types: list[Annotated[str, msgspec.Meta(max_length=64)]] = []
    #: Only this organization's events; absent: every organization's.
    org_id: Identifier | None = None


class EventEndpointOut(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    id: str
    url: str
    event_types: list[str]
    org_id: str | None
    #: Set when the endpoint answered 410 Gone; PUT it again to enable it.
    disabled_at: datetime | None
    disabled_reason: str | None
    #: The `whsec_` signing secret, only in the answer that created the endpoint.
    secret: str | None = None


class RotateSecretIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: How long the replaced secret keeps signing too (default one day, at most seven).
    grace_period_s: int = 86400


class RotatedSecretOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    secret: str
    previous_secret_expires_at: datetime


class DeliveryOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    event_id: str
    type: str
    subject: str
    attempts: int
    status: str
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None


class DeliveriesPageOut(msgspec.Struct, frozen=True, kw_only=True):
    items: list[DeliveryOut]
    next_cursor: str | None


class RedeliveryOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    status: str
