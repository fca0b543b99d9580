"""Who a bearer token may act for.

Zoom lets anyone approve either app; what the token can then do is limited. The sandbox's
rules, chosen to match what Zoom documents and what Roomlink relies on:

- A user-managed app's token acts only as the user who approved it: ``me``, their own id or
  their own email. Any other user of their account gets Zoom's missing-scopes error (4711),
  because a user-level token carries no ``:admin`` scopes.
- An admin-managed app's token carries admin scopes only if its approver was Owner or Admin
  at approval, and uses them only while the approver still is an active Owner or Admin. Then
  it acts for every user of the approver's account. Otherwise it acts like a user-managed
  token (``me`` only; 4711 for anyone else), so a member's approval or a demoted admin's token
  cannot read or create on behalf of others.
- A user of another account is reported as not existing (1001 / 3001) whatever the token,
  so one account's token learns nothing about another account.
- A token stops working (124) when its grant is revoked, it expires, or its approver is
  deactivated or deleted; 4741 when its approver approved the same app again since.
"""

from __future__ import annotations

import msgspec

from server.zoom_sandbox.config import ZoomAppConfig
from server.zoom_sandbox.errors import (
    ZoomApiError,
    invalid_token,
    meeting_not_found,
    missing_scopes,
    token_superseded,
    user_not_found,
)
from server.zoom_sandbox.grants import user_is_active
from server.zoom_sandbox.state import Grant, Meeting, Sandbox, ZoomUser


class Caller(msgspec.Struct, kw_only=True, frozen=True):
    app: ZoomAppConfig
    grant: Grant
    user: ZoomUser

    @property
    def acts_for_account(self) -> bool:
        return self.app.kind == "admin_managed" and self.grant.admin_scopes and self.user.is_owner_or_admin


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def authenticate(sandbox: Sandbox, access_token: str) -> Caller:
    issued = sandbox.access_tokens.get(access_token)
    grant = sandbox.grants.get(issued.grant_id) if issued else None
    if grant is not None and grant.superseded:
        raise token_superseded()
    if issued is None or grant is None or grant.revoked or not user_is_active(sandbox, grant.user_id):
        raise invalid_token()
    if issued.expires_at <= sandbox.now():
        raise invalid_token("Access token is expired.")
    return Caller(app=sandbox.apps[grant.client_id], grant=grant, user=sandbox.users[grant.user_id])


def target_user(sandbox: Sandbox, caller: Caller, user_ref: str, admin_scope: str) -> ZoomUser:
    """The user ``{userId}`` names, if the caller may act for them."""
    if user_ref == "me":
        return caller.user
    user = sandbox.user_by_ref(user_ref)
    if user is None or user.account_id != caller.user.account_id:
        raise user_not_found(user_ref)
    if user.id != caller.user.id and not caller.acts_for_account:
        raise missing_scopes(admin_scope)
    return user


def require_account_scope(caller: Caller, admin_scope: str) -> None:
    if not caller.acts_for_account:
        raise missing_scopes(admin_scope)


def accessible_meeting(sandbox: Sandbox, caller: Caller, meeting_id: int, admin_scope: str) -> Meeting:
    meeting = sandbox.meeting_by_id(meeting_id)
    host = sandbox.users.get(meeting.host_id) if meeting else None
    if meeting is None or host is None or host.account_id != caller.user.account_id:
        raise meeting_not_found(meeting_id)
    if host.id != caller.user.id and not caller.acts_for_account:
        # The Meetings document: 3003 "You are not the meeting host."
        raise ZoomApiError(400, 3003, "You are not the meeting host.")
    return meeting
