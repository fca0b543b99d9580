"""Connecting and disconnecting Zoom: a member's personal connection, the organization's (R1–R6, R12–R14, R18)."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta
from typing import Protocol

from domain.access import Principal, require_manager
from domain.audit import connection_event
from domain.errors import (
    ActivationLinkExpired,
    ActivationLinkNotFound,
    ActivationLinkRevoked,
    ActivationLinkUnknown,
    ActivationLinkUnusable,
    ActivationLinkUsed,
    EmailUnavailable,
    NotAZoomAdmin,
    NotConnected,
    OAuthStateInvalid,
    OAuthStateOfAnotherBrowser,
    ZoomAccountServesAnotherOrganization,
    ZoomUserAlreadyConnected,
)
from domain.model import (
    Connection,
    ConnectionStatus,
    ConnectionType,
    Member,
    Organization,
)
from domain.ports import ActivationLink, AuditEvent, OAuthState, UnitOfWork
from domain.zoom import TokenSet, ZoomApp, ZoomGateway, ZoomGrant

OAUTH_STATE_TTL = timedelta(minutes=10)


def secret_hash(secret: str) -> str:
    """Capability secrets (activation tokens, OAuth states) are stored only as this hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


# Personal connections


async def start_personal_connection(
    uow: UnitOfWork, principal: Principal, state: str, code_verifier: str, session_token: str | None, now: datetime
) -> None:
    """The state is bound to this member and works once, for 10 minutes, in the one browser that opens
    Roomlink's link to Zoom first (`send_browser_to_zoom`); started from a session, only that session's
    browser may open it."""
    pending = OAuthState(
        purpose="personal",
        org_id=principal.org_id,
        user_id=principal.user_id,
        code_verifier=code_verifier,
        expires_at=now + OAUTH_STATE_TTL,
        session_hash=secret_hash(session_token) if session_token else None,
    )
    await uow.oauth_states.add(secret_hash(state), pending)
    await uow.commit()


async def send_browser_to_zoom(
    uow: UnitOfWork, zoom: ZoomGateway, state: str, browser_secret: str, session_token: str | None, now: datetime
) -> str:
    """Binds the state to the browser holding `browser_secret` and returns Zoom's authorize URL for it."""
    state_hash = secret_hash(state)
    pending = await uow.oauth_states.pending(state_hash, now)
    if pending is not None and pending.session_hash is not None and not _same_hash(pending.session_hash, session_token):
        raise OAuthStateOfAnotherBrowser(
            "This link to Zoom belongs to another browser's Roomlink session, so it was not followed. "
            "Connect Zoom from Roomlink in the browser you want to use."
        )
    bound = await uow.oauth_states.bind(state_hash, secret_hash(browser_secret), now) if pending else None
    if bound is None:
        raise OAuthStateInvalid(
            "This link to Zoom works once, for 10 minutes, and was already opened or has expired. Start again from Roomlink."
        )
    await uow.commit()
    return zoom.authorize_url(_app_of(bound), state, bound.code_verifier)


async def _send_to_zoom(uow: UnitOfWork, zoom: ZoomGateway, app: ZoomApp, state: str, pending: OAuthState) -> str:
    """Only the state's hash is kept, with what the callback will need; the URL carries the state."""
    await uow.oauth_states.add(secret_hash(state), pending)
    await uow.commit()
    return zoom.authorize_url(app, state, pending.code_verifier)


async def take_oauth_state(uow: UnitOfWork, state: str, browser_secret: str | None, now: datetime) -> OAuthState:
    """The pending state, once, and only in the browser it was bound to: a callback anywhere else
    changes nothing (the state stays for its own browser)."""
    state_hash = secret_hash(state)
    found = await uow.oauth_states.take(state_hash, secret_hash(browser_secret) if browser_secret else None, now)
    if found is None and await uow.oauth_states.pending(state_hash, now) is not None:
        raise OAuthStateOfAnotherBrowser(
            "This Zoom sign-in was started in another browser, so for your safety nothing was connected. "
            "Start again from Roomlink in this browser and approve in Zoom here."
        )
    if found is None:
        raise OAuthStateInvalid("This Zoom sign-in is unknown, was already used or took too long. Start again.")
    await uow.commit()
    return found


def _same_hash(expected: str, secret: str | None) -> bool:
    return secret is not None and hmac.compare_digest(expected, secret_hash(secret))


def _app_of(pending: OAuthState) -> ZoomApp:
    return ZoomApp.USER if pending.purpose == "personal" else ZoomApp.ADMIN


async def collect_grant(zoom: ZoomGateway, pending: OAuthState, code: str) -> ZoomGrant:
    """Every Zoom call an OAuth callback needs, made before its transaction: Zoom may be slow, and an
    account of 100,000 users takes hundreds of pages."""
    app = _app_of(pending)
    tokens = await zoom.exchange_code(app, code, pending.code_verifier)
    profile = await zoom.me(tokens)
    wants_users = app is ZoomApp.ADMIN and profile.is_account_admin
    return ZoomGrant(tokens=tokens, profile=profile, users=await zoom.account_users(tokens) if wants_users else None)


async def finish_personal_connection(
    uow: UnitOfWork, zoom: ZoomGateway, pending: OAuthState, grant: ZoomGrant, now: datetime
) -> Connection:
    """R13: a Zoom user already connected by someone else is refused; reconnecting replaces your own.

    Refused, the approval still ended the other person's tokens at Zoom (it honours only the newest
    grant of a Zoom user for an app), so their connection keeps the new tokens instead.
    """
    assert pending.purpose == "personal" and pending.user_id is not None
    tokens, profile = grant.tokens, grant.profile
    actor = f"user:{pending.user_id}"
    holder = await uow.connections.claimed(f"user:{profile.zoom_user_id}")
    if holder is not None and (holder.org_id, holder.user_id) != (pending.org_id, pending.user_id):
        await keep_newest_grant(uow, holder, tokens, now, actor, "another person approved the same Zoom user")
        raise ZoomUserAlreadyConnected(f"The Zoom user {profile.email} is already connected by another person.")
    previous = await uow.connections.personal(pending.org_id, pending.user_id)
    previous_tokens = await uow.connections.tokens(previous) if previous else None
    if previous is not None:
        await uow.connections.delete(previous)
        await uow.audit.record(connection_event(previous, now, actor, "replaced", "reconnected"))
    connection = new_connection(
        pending.org_id, ConnectionType.PERSONAL, pending.user_id, profile.account_id, profile.zoom_user_id, profile.email, now
    )
    await uow.connections.add(connection)
    await uow.connections.store_tokens(connection, tokens)
    await uow.audit.record(connection_event(connection, now, actor, "connected", None))
    await uow.commit()
    if previous_tokens is not None and previous is not None and previous.zoom_user_id != connection.zoom_user_id:
        await zoom.revoke(ZoomApp.USER, previous_tokens)
    return connection


async def keep_newest_grant(
    uow: UnitOfWork, holder: Connection, tokens: TokenSet, now: datetime, actor: str, reason: str
) -> None:
    """The Zoom user who holds `holder` approved our app again: Zoom now honours only these tokens, so
    the connection keeps them (R18: recorded), whatever Roomlink decides about the new approval."""
    await uow.connections.store_tokens(holder, tokens)
    await uow.audit.record(connection_event(holder, now, actor, "reauthorized", reason))
    await uow.commit()


async def disconnect_personal(uow: UnitOfWork, zoom: ZoomGateway, principal: Principal, now: datetime) -> None:
    """R14: tokens revoked at Zoom and deleted; R7: the organization connection applies again at once."""
    connection = await uow.connections.personal(principal.org_id, principal.user_id)
    if connection is None:
        raise NotConnected("You have no personal Zoom connection.")
    await _end(uow, zoom, connection, now, principal.actor, "disconnected by the member")


# The organization connection


class Invitations(Protocol):
    """Sends an activation link to the Zoom administrator."""

    async def send(self, to: str, organization: Organization, requested_by: Member, url: str, link: ActivationLink) -> None: ...


async def create_activation_link(
    uow: UnitOfWork,
    invitations: Invitations | None,
    principal: Principal,
    org_id: str,
    token: str,
    url: str,
    zoom_admin_email: str | None,
    now: datetime,
    ttl: timedelta,
) -> ActivationLink:
    """R1, R3: owners and admins only; 256-bit token of which only the hash is stored; expires.

    With an email, the link exists only if the email went out: a failed send keeps nothing.
    """
    require_manager(principal, org_id)
    if zoom_admin_email and invitations is None:
        raise EmailUnavailable(
            "Roomlink has no mail server configured, so it cannot email the link. "
            "Create the link without an email and send it yourself."
        )
    link = ActivationLink(
        id=str(uuid.uuid4()),
        org_id=org_id,
        created_by=principal.user_id,
        zoom_admin_email=zoom_admin_email,
        created_at=now,
        expires_at=now + ttl,
    )
    await uow.activation_links.add(link, secret_hash(token))
    await uow.audit.record(
        AuditEvent(
            org_id=org_id,
            at=now,
            actor=principal.actor,
            action="activation_link_created",
            details={"activation_link_id": link.id, "emailed": zoom_admin_email is not None},
        )
    )
    if zoom_admin_email and invitations is not None:
        organization = await uow.organizations.get(org_id)
        requester = await uow.members.get(org_id, principal.user_id)
        await invitations.send(zoom_admin_email, organization, requester, url, link)
    await uow.commit()
    return link


async def revoke_activation_link(
    uow: UnitOfWork, principal: Principal, org_id: str, link_id: str, now: datetime
) -> None:
    require_manager(principal, org_id)
    link = await uow.activation_links.get(org_id, link_id)
    if link is None:
        raise ActivationLinkNotFound("There is no such activation link in this organization.")
    if link.revoked_at is None and link.used_at is None:
        await uow.activation_links.revoke(link, now)
        await uow.audit.record(
            AuditEvent(
                org_id=org_id,
                at=now,
                actor=principal.actor,
                action="activation_link_revoked",
                details={"activation_link_id": link.id},
            )
        )
    await uow.commit()


async def usable_activation_link(uow: UnitOfWork, token: str, now: datetime) -> ActivationLink:
    """R3: unknown, expired, used and revoked links each say so."""
    link = await uow.activation_links.find(secret_hash(token))
    if link is None:
        raise ActivationLinkUnknown("This activation link does not exist.")
    return _still_usable(link, now)


async def start_activation(
    uow: UnitOfWork, zoom: ZoomGateway, token: str, state: str, code_verifier: str, browser_secret: str, now: datetime
) -> str:
    """Zoom's authorize URL for the Zoom admin, the state bound at once to the browser that asked."""
    link = await usable_activation_link(uow, token, now)
    pending = OAuthState(
        purpose="activation",
        org_id=link.org_id,
        activation_link_id=link.id,
        code_verifier=code_verifier,
        expires_at=now + OAUTH_STATE_TTL,
        browser_hash=secret_hash(browser_secret),
    )
    return await _send_to_zoom(uow, zoom, ZoomApp.ADMIN, state, pending)


async def activation_link_of(uow: UnitOfWork, pending: OAuthState, now: datetime) -> ActivationLink:
    """The link an activation callback finishes, if it still works (R3); checked before Zoom is asked."""
    assert pending.purpose == "activation" and pending.activation_link_id is not None
    link = await uow.activation_links.get(pending.org_id, pending.activation_link_id)
    if link is None:
        raise ActivationLinkUnknown("This activation link does not exist.")
    return _still_usable(link, now)


async def finish_activation(
    uow: UnitOfWork, zoom: ZoomGateway, pending: OAuthState, grant: ZoomGrant, now: datetime
) -> Connection:
    """R2: only a Zoom Owner/Admin completes it; R4: it replaces the live connection; R6: personal untouched.

    Approved again for the same Zoom account, the connection keeps its row and its seats (only what
    changed in the account moves); another account replaces it whole.

    Refused, the approval is revoked, with two exceptions. The Zoom user whose earlier approval serves
    an organization just ended that approval's tokens (Zoom honours only the newest grant), so that
    organization keeps the new ones. Another admin's approval of an account serving another
    organization is dropped, not revoked: whether Zoom counts an admin-managed app's authorization per
    account is not documented, and revoking could end the other organization's.
    """
    profile = grant.profile
    actor = f"zoom:{profile.zoom_user_id}"
    holder = await uow.connections.claimed(f"account:{profile.account_id}")
    try:
        link = await activation_link_of(uow, pending, now)
        if not profile.is_account_admin or grant.users is None:
            raise NotAZoomAdmin(
                f"{profile.email} is not an owner or admin of this Zoom account, so it cannot connect Zoom for the "
                "organization. Ask your Zoom account's owner or an admin to open the same link; it still works."
            )
        if holder is not None and holder.org_id != link.org_id:
            raise ZoomAccountServesAnotherOrganization("This Zoom account is already connected to another organization.")
    except (ActivationLinkUnusable, NotAZoomAdmin, ZoomAccountServesAnotherOrganization) as refused:
        if holder is not None and holder.zoom_user_id == profile.zoom_user_id:
            await keep_newest_grant(uow, holder, grant.tokens, now, actor, f"{profile.email} approved the admin app again")
        elif not isinstance(refused, ZoomAccountServesAnotherOrganization):
            await zoom.revoke(ZoomApp.ADMIN, grant.tokens)
        raise
    previous = await uow.connections.organization(link.org_id)
    previous_tokens = await uow.connections.tokens(previous) if previous else None
    if previous is not None:
        await uow.audit.record(connection_event(previous, now, actor, "replaced", f"new activation by {profile.email}"))
    if previous is not None and previous.zoom_account_id == profile.account_id:
        connection = await uow.connections.regrant(previous, profile.zoom_user_id, profile.email, now)
    else:
        if previous is not None:
            await uow.connections.delete(previous)
        connection = new_connection(
            link.org_id, ConnectionType.ORGANIZATION, None, profile.account_id, profile.zoom_user_id, profile.email, now
        )
        await uow.connections.add(connection)
    await uow.connections.store_tokens(connection, grant.tokens)
    await uow.connections.sync_zoom_users(connection, grant.users)
    await uow.activation_links.mark_used(link, now)
    await uow.activation_links.revoke_pending(link.org_id, now)  # R3: one completed activation ends the others
    await uow.audit.record(
        connection_event(
            connection, now, actor, "connected", None, {"activation_link_id": link.id, "zoom_users": len(grant.users)}
        )
    )
    await uow.commit()
    if previous_tokens is not None and previous is not None and previous.zoom_account_id != connection.zoom_account_id:
        await zoom.revoke(ZoomApp.ADMIN, previous_tokens)
    return connection


async def disconnect_organization(
    uow: UnitOfWork, zoom: ZoomGateway, principal: Principal, org_id: str, now: datetime
) -> int:
    """R1, R12, R14: returns how many members relied on it; personal connections stay."""
    require_manager(principal, org_id)
    connection = await uow.connections.organization(org_id)
    if connection is None:
        raise NotConnected("This organization has no Zoom connection.")
    affected = await uow.members_table.count_relying_on_organization(org_id)
    await _end(uow, zoom, connection, now, principal.actor, "disconnected by an owner or admin", {"affected_members": affected})
    return affected


async def _end(
    uow: UnitOfWork,
    zoom: ZoomGateway,
    connection: Connection,
    now: datetime,
    actor: str,
    reason: str,
    details: dict[str, object] | None = None,
) -> None:
    tokens = await uow.connections.tokens(connection)
    await uow.connections.delete(connection)
    await uow.audit.record(connection_event(connection, now, actor, "disconnected", reason, details))
    await uow.commit()
    if tokens is not None:
        app = ZoomApp.USER if connection.type is ConnectionType.PERSONAL else ZoomApp.ADMIN
        await zoom.revoke(app, tokens)


def _still_usable(link: ActivationLink, now: datetime) -> ActivationLink:
    if link.revoked_at is not None:
        raise ActivationLinkRevoked("This activation link was revoked by the organization.")
    if link.used_at is not None:
        raise ActivationLinkUsed("This activation link was already used to connect Zoom.")
    if link.expires_at <= now:
        raise ActivationLinkExpired("This activation link has expired.")
    return link


def new_connection(
    org_id: str,
    type_: ConnectionType,
    user_id: str | None,
    zoom_account_id: str,
    zoom_user_id: str,
    zoom_email: str,
    now: datetime,
) -> Connection:
    return Connection(
        id=str(uuid.uuid4()),
        org_id=org_id,
        type=type_,
        user_id=user_id,
        zoom_account_id=zoom_account_id,
        zoom_user_id=zoom_user_id,
        zoom_email=zoom_email,
        status=ConnectionStatus.ACTIVE,
        status_reason=None,
        status_changed_at=now,
        connected_at=now,
        last_verified_at=now,
    )

