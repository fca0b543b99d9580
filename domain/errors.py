"""Domain errors: each means one thing a caller did wrong or cannot do; the edge maps them to HTTP."""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    code: str = "domain_error"

    def __init__(self, detail: str, *, errors: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


class NotFound(DomainError):
    code = "not_found"


class OrganizationNotFound(NotFound):
    code = "organization_not_found"


class MemberNotFound(NotFound):
    code = "member_not_found"


class InvalidInput(DomainError):
    code = "validation_failed"


class InvalidIdentifier(InvalidInput):
    code = "invalid_identifier"


class InvalidCursor(InvalidInput):
    code = "invalid_cursor"


class BatchTooLarge(InvalidInput):
    code = "batch_too_large"


class Forbidden(DomainError):
    code = "forbidden"


class RoleRequired(Forbidden):
    code = "owner_or_admin_required"


class RemovalNotAllowed(Forbidden):
    code = "removal_not_allowed"


class Conflict(DomainError):
    code = "conflict"


class MemberOfAnotherOrganization(Conflict):
    code = "member_of_another_organization"


class ZoomUserAlreadyConnected(Conflict):
    """R13: a Zoom user is the personal connection of one Roomlink user ID."""

    code = "zoom_user_already_connected"


class ZoomAccountServesAnotherOrganization(Conflict):
    """R13: a Zoom account is the organization connection of one organization."""

    code = "zoom_account_serves_another_organization"


class NotAZoomAdmin(Forbidden):
    """R2: only an Owner or Admin of the Zoom account can complete an activation."""

    code = "not_a_zoom_admin"


class ZoomRefused(DomainError):
    """Zoom did not accept what we sent (an expired or reused code, a revoked grant).

    `zoom_code` is Zoom's own error code, when it gave one: callers branch on it, people read `detail`.
    """

    code = "zoom_refused"

    def __init__(self, detail: str, *, zoom_code: int | None = None, errors: dict[str, str] | None = None) -> None:
        super().__init__(detail, errors=errors)
        self.zoom_code = zoom_code


class ZoomScopesMissing(ZoomRefused):
    """Zoom 4711: the grant lacks a permission the call needs; approving the app again with it fixes it."""

    code = "zoom_scopes_missing"


class ZoomUserNotFound(ZoomRefused):
    """Zoom 1001: that Zoom user does not exist (deleted, or left the account); no reconnect brings it back."""

    code = "zoom_user_not_found"


class OAuthStateInvalid(InvalidInput):
    """The `state` of an OAuth callback is unknown, used, expired or belongs to someone else."""

    code = "oauth_state_invalid"


class OAuthStateOfAnotherBrowser(OAuthStateInvalid):
    """The `state` is pending, but for another browser: a forwarded link must not connect anyone's Zoom."""

    code = "oauth_state_of_another_browser"


class LinkToZoomSpent(OAuthStateInvalid):
    """Roomlink's one-time link to Zoom was already opened or has expired: it is gone, like a used launch link."""


class ApprovalSuperseded(Conflict):
    """The same Zoom user approved the app again, in another sign-in finishing at the same moment: Zoom honours
    only the newest grant, so the tokens this callback was given no longer work."""

    code = "zoom_approval_superseded"


class SignInOfAnotherMember(OAuthStateInvalid):
    """A personal sign-in finished in the browser of another member's Roomlink session (login CSRF)."""


class ActivationLinkUnusable(DomainError):
    """R3: each way an activation link stops working has its own code and page."""

    code = "activation_link_unusable"


class ActivationLinkUnknown(ActivationLinkUnusable):
    code = "activation_link_unknown"


class ActivationLinkExpired(ActivationLinkUnusable):
    code = "activation_link_expired"


class ActivationLinkUsed(ActivationLinkUnusable):
    code = "activation_link_used"


class ActivationLinkRevoked(ActivationLinkUnusable):
    code = "activation_link_revoked"


class ActivationLinkNotFound(NotFound):
    code = "activation_link_not_found"


class ActivationLinkNotEmailed(Conflict):
    """Only a link that was emailed can be resent."""

    code = "activation_link_not_emailed"


class NotConnected(NotFound):
    code = "not_connected"


class ConnectionBroken(DomainError):
    """Zoom no longer accepts the connection's grant; it needs reconnecting."""

    code = "connection_broken"


class Unavailable(DomainError):
    """Something Roomlink depends on is not configured or not reachable."""

    code = "unavailable"


class EmailUnavailable(Unavailable):
    code = "email_unavailable"


class ConnectionChangedConcurrently(Conflict):
    code = "connection_changed_concurrently"


class EventEndpointNotFound(NotFound):
    code = "event_endpoint_not_found"


class DeliveryNotFound(NotFound):
    code = "delivery_not_found"


class EndpointUrlNotAllowed(InvalidInput):
    """R24: events go to https:// on a public address only (no request forgery into the internal network)."""

    code = "endpoint_url_not_allowed"


class EndpointDisabled(Conflict):
    """The endpoint answered 410 Gone; nothing goes to it until it is registered again."""

    code = "endpoint_disabled"


class MeetingNotFound(NotFound):
    code = "meeting_not_found"


class MemberNotConnected(Conflict):
    """R7: the member has no effective connection, so no Zoom can make their meeting."""

    code = "not_connected"

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.extensions = {"reason": reason}


class IdempotencyKeyReused(DomainError):
    """R23: one Idempotency-Key names one request; the same key with another body is refused."""

    code = "idempotency_key_reused"


class MeetingBeingCreated(Conflict):
    """Another request holds this Idempotency-Key's creation in Zoom right now."""

    code = "meeting_being_created"


class MeetingBeingChanged(MeetingBeingCreated):
    """Another request or job is sending this meeting's changes to Zoom right now; handled wherever a meeting
    busy in Zoom is (jobs retry, callers get 409), hence a kind of MeetingBeingCreated."""

    code = "meeting_being_changed"


class MeetingConnectionGone(Conflict):
    """R19: the connection that created the meeting is gone; nothing switches accounts silently."""

    code = "meeting_connection_gone"


class MeetingNotChangeable(Conflict):
    code = "meeting_not_changeable"


class DailyBudgetSpent(DomainError):
    """R20: the host's 100 creates and updates of this UTC day are spent; it waits until `retry_at`."""

    code = "zoom_daily_limit"

    def __init__(self, detail: str, *, retry_at: datetime) -> None:
        super().__init__(detail)
        self.retry_at = retry_at


class ZoomNotReached(Unavailable):
    """Zoom did not answer usefully, even after retrying; what was asked is kept to be tried again."""

    code = "zoom_unavailable"


class ZoomPermissionMissing(Conflict):
    """Zoom's 4711: the connection's grant lacks a scope; reconnecting grants it."""

    code = "needs_reconnect"


class SessionNotFound(NotFound):
    code = "session_not_found"


class BookingNotFound(NotFound):
    code = "booking_not_found"


class UnknownHost(InvalidInput):
    code = "unknown_host"


class UnknownParticipant(InvalidInput):
    """A booking's `user_id` names nobody of the session's organization."""

    code = "unknown_participant"


class SessionCancelled(Conflict):
    code = "session_cancelled"


class SessionNotRemote(Conflict):
    code = "session_not_remote"


class SessionFull(Conflict):
    code = "session_full"


class SessionStarted(Conflict):
    code = "session_started"


class BookingConflict(Conflict):
    """The booking id names another booking already: one id, one booking."""

    code = "booking_conflict"
