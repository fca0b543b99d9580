"""Request and response bodies of the HTTP API (API.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from domain.identifiers import EMAIL_PATTERN, IDENTIFIER_PATTERN
from domain.model import MemberRow, Role

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Email = Annotated[str, msgspec.Meta(pattern=EMAIL_PATTERN, max_length=320)]
Identifier = Annotated[str, msgspec.Meta(pattern=IDENTIFIER_PATTERN)]


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


class DisconnectedOut(msgspec.Struct, frozen=True, kw_only=True):
    #: Members who relied on the organization connection and are now not connected.
    affected_members: int


class AuthorizeOut(msgspec.Struct, frozen=True, kw_only=True):
    authorize_url: str
