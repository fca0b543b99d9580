"""Connecting and disconnecting Zoom: a member's personal connection, the organization's (R1–R6, R12–R14, R18)."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

import msgspec

from domain.access import Principal, require_manager
from domain.audit import connection_event
from domain.emails import same_email
from domain.errors import (
    ActivationLinkExpired,
    ActivationLinkNotFound,
    ActivationLinkRevoked,
    ActivationLinkUnknown,
    ActivationLinkUnusable,
    ActivationLinkUsed,
    ApprovalSuperseded,
    EmailUnavailable,
    LinkToZoomSpent,
    NotAZoomAdmin,
    NotConnected,
    OAuthStateInvalid,
    OAuthStateOfAnotherBrowser,
    SignInOfAnotherMember,
    ZoomAccountServesAnotherOrganization,
    ZoomRefused,
    ZoomUserAlreadyConnected,
)
from domain.keeping import SEND_EMAIL
from domain.meeting_ports import Clock
from domain.model import (
    Connection,
    ConnectionCounts,
    ConnectionStatus,
    ConnectionType,
    Member,
    Organization,
)
from domain.ports import (
    ActivationLink,
    AuditEvent,
    OAuthState,
    UnitOfWork,
    UnitOfWorkFactory,
)
from domain.zoom import TokenSet, ZoomApp, ZoomGateway, ZoomGrant

OAUTH_STATE_TTL = timedelta(minutes=10)
#: The job that tells whoever asked for an activation that Zoom is connected (domain.connecting.tell_activation_done).
TELL_ACTIVATION_DONE = "tell_activation_done"


def secret_hash(secret: str) -> str:
    """Capability secrets (activation tokens, OAuth states) are stored only as this hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


# Personal connections


async def start_personal_connection(
    uow: UnitOfWorkFactory, principal: Principal, state: str, code_verifier: str, session_token: str | None, now: datetime
) -> None:
    """The state is bound to this member and works once, for 10 minutes, in the one browser that opens
    Roomlink's link to Zoom first (`send_browser_to_zoom`); started from a session, only that session's
    browser may open it."""
    pending = OAuthState(
        connection_type=ConnectionType.PERSONAL,
        org_id=principal.org_id,
        user_id=principal.user_id,
        code_verifier=code_verifier,
        expires_at=now + OAUTH_STATE_TTL,
        session_hash=secret_hash(session_token) if session_token else None,
    )
    async with uow() as tx:
        await tx.oauth_states.add(secret_hash(state), pending)
        await tx.commit()


class LinkToZoomFor(msgspec.Struct, frozen=True, kw_only=True):
    """Whom a personal link to Zoom connects, for the page that names them before the browser goes to Zoom."""

    member_name: str
    member_email: str
    organization_name: str
    #: The browser is already the member's own (the link was asked for in its session, or it is signed in as
    #: them): it goes straight to Zoom. Otherwise the person who opened it confirms whom it is for first.
    in_members_browser: bool


async def link_to_zoom_for(uow: UnitOfWorkFactory, state: str, session_token: str | None, now: datetime) -> LinkToZoomFor:
    """The member a personal link to Zoom was issued for, once this browser may follow it (_check_link_opener).

    A link the host product asked for over its API key may be followed outside any Roomlink session (its
    member signs in to the host product, not to Roomlink), so it is not refused there; but a forwarded link
    must not connect a stranger's Zoom silently, so the opener is told whose Zoom it connects, and a browser
    signed in to Roomlink as another member is refused."""
    async with uow(read_only=True) as tx:
        pending = await _link_pending(tx, secret_hash(state), now)
        in_members_browser = await _check_link_opener(tx, pending, session_token, now)
        member = await tx.members.get(pending.org_id, pending.user_id) if pending.user_id else None
        organization = await tx.organizations.get(pending.org_id)
    if member is None or organization is None:
        raise LinkToZoomSpent("The member this link to Zoom was made for is no longer a member. Start again from Roomlink.")
    return LinkToZoomFor(
        member_name=member.name,
        member_email=member.email,
        organization_name=organization.name,
        in_members_browser=in_members_browser,
    )


async def send_browser_to_zoom(
    uow: UnitOfWorkFactory, zoom: ZoomGateway, state: str, browser_secret: str, session_token: str | None, now: datetime
) -> str:
    """Binds the state to the browser holding `browser_secret` and returns Zoom's authorize URL for it."""
    state_hash = secret_hash(state)
    async with uow() as tx:
        pending = await _link_pending(tx, state_hash, now)
        await _check_link_opener(tx, pending, session_token, now)
        bound = await tx.oauth_states.bind(state_hash, secret_hash(browser_secret), now)
        if bound is None:
            raise _link_spent()
        await tx.commit()
    return zoom.authorize_url(_app_of(bound), state, bound.code_verifier)


async def _link_pending(tx: UnitOfWork, state_hash: str, now: datetime) -> OAuthState:
    pending = await tx.oauth_states.pending(state_hash, now)
    if pending is None or pending.browser_hash is not None or pending.connection_type is not ConnectionType.PERSONAL:
        raise _link_spent()
    return pending


def _link_spent() -> LinkToZoomSpent:
    return LinkToZoomSpent(
        "This link to Zoom works once, for 10 minutes, and was already opened or has expired. Start again from Roomlink."
    )


async def _check_link_opener(tx: UnitOfWork, pending: OAuthState, session_token: str | None, now: datetime) -> bool:
    """Whether the browser opening a personal link to Zoom is its member's own; refused when it is someone else's.

    Asked for in a Roomlink session, only that session's browser may follow it. Asked for over the API key,
    any browser may (the member need not be signed in to Roomlink), but not one signed in as another member."""
    if pending.session_hash is not None:
        if not _same_hash(pending.session_hash, session_token):
            raise OAuthStateOfAnotherBrowser(
                "This link to Zoom belongs to another browser's Roomlink session, so it was not followed. "
                "Connect Zoom from Roomlink in the browser you want to use."
            )
        return True
    session = await tx.sessions.session(secret_hash(session_token), now) if session_token else None
    if session is None:
        return False
    if (session.org_id, session.user_id) != (pending.org_id, pending.user_id):
        raise SignInOfAnotherMember(
            "This link to Zoom was made for another member, and this browser is signed in to Roomlink as you, so it "
            "was not followed. Connect your own Zoom from your Zoom settings page."
        )
    return True


async def take_oauth_state(uow: UnitOfWorkFactory, state: str, browser_secret: str | None, now: datetime) -> OAuthState:
    """The pending state, once, and only in the browser it was bound to: a callback anywhere else
    changes nothing (the state stays for its own browser)."""
    async with uow() as tx:
        found = await _take_state(tx, state, browser_secret, now)
        await tx.commit()
    return found


async def _take_state(tx: UnitOfWork, state: str, browser_secret: str | None, now: datetime) -> OAuthState:
    """The state, spent by whatever callback brings it, refused or not: a callback URL (Zoom's code in it)
    refused in one browser must not finish in another. Raising, it commits the spending itself."""
    state_hash = secret_hash(state)
    found = await tx.oauth_states.take(state_hash, secret_hash(browser_secret) if browser_secret else None, now)
    if found is not None:
        return found
    elsewhere = await tx.oauth_states.pending(state_hash, now) is not None
    await tx.oauth_states.spend(state_hash)
    await tx.commit()
    if elsewhere:
        raise OAuthStateOfAnotherBrowser(
            "This Zoom sign-in was started in another browser, so for your safety nothing was connected, and it "
            "cannot be finished anywhere now. Start again from Roomlink in the browser you approve Zoom in."
        )
    raise OAuthStateInvalid("This Zoom sign-in is unknown, was already used or took too long. Start again.")


def _same_hash(expected: str, secret: str | None) -> bool:
    return secret is not None and hmac.compare_digest(expected, secret_hash(secret))


def _app_of(pending: OAuthState) -> ZoomApp:
    return ZoomApp.serving(pending.connection_type)


async def collect_grant(zoom: ZoomGateway, pending: OAuthState, code: str) -> ZoomGrant:
    """Every Zoom call an OAuth callback needs, made before its transaction: Zoom may be slow, and an
    account of 100,000 users takes hundreds of pages."""
    app = _app_of(pending)
    tokens = await zoom.exchange_code(app, code, pending.code_verifier)
    profile = await zoom.me(tokens)
    wants_users = app is ZoomApp.ADMIN and profile.is_account_admin
    return ZoomGrant(tokens=tokens, profile=profile, users=await zoom.account_users(tokens) if wants_users else None)


# The OAuth callback: one use case for each type of connection a state is for


class ZoomCallback(msgspec.Struct, frozen=True, kw_only=True):
    """What Zoom's redirect brings back to `/oauth/zoom/callback`, and who the browser is."""

    state: str
    #: The secret the browser Roomlink sent to Zoom holds; None without the cookie.
    browser_secret: str | None
    #: None, or with `declined`, when the person did not approve in Zoom.
    code: str | None
    declined: bool = False
    #: The Roomlink session cookie the browser sent, if any (a personal sign-in must be its member's).
    session_token: str | None = None


class CallbackDone(msgspec.Struct, frozen=True, kw_only=True):
    """How a callback ended: declined in Zoom (nothing changed), or the connection made."""

    connection_type: ConnectionType
    connection: Connection | None = None
    #: The organization an activation connected (for the page that says so).
    organization_name: str | None = None

    @property
    def declined(self) -> bool:
        return self.connection is None


class CallbackZoomFailed(Exception):
    """Zoom refused or did not answer while a callback finished: `cause` is what the gateway raised."""

    def __init__(self, connection_type: ConnectionType, cause: Exception) -> None:
        super().__init__(str(cause))
        self.connection_type = connection_type
        self.cause = cause


async def complete_zoom_callback(
    cmd: ZoomCallback,
    uow: UnitOfWorkFactory,
    zoom: ZoomGateway,
    clock: Clock,
    zoom_failures: tuple[type[Exception], ...] = (ZoomRefused,),
    superseded: tuple[type[Exception], ...] = (),
) -> CallbackDone:
    """The OAuth callback of both Zoom apps, whole: the state says whether a member or an activation waits.

    1. One transaction takes the state and checks what it finishes: its own browser, an activation's
       link (R3), a personal sign-in's browser session (login CSRF). The state is spent whatever the
       outcome, refused or declined: a new attempt starts from a new link (R2: the activation link
       itself stays usable).
    2. Zoom, outside any transaction: the code exchanged, /users/me, the account's users.
    3. One transaction records what Zoom said (finish_activation, finish_personal_connection);
       the tokens it replaces are revoked at Zoom after it.

    What the gateway raises when Zoom fails (`zoom_failures`) comes out as CallbackZoomFailed, which says
    what the callback was for; refusals (R2, R3, R13) come out as themselves. What it raises when Zoom
    rejects the tokens it has just given (`superseded`) means the same Zoom user approved again in another
    sign-in at the same moment, and Zoom honours only the newest grant: ApprovalSuperseded, and that other
    sign-in decides (it connects, or is refused by R13 for both).
    """
    async with uow() as tx:
        now = clock.now()
        pending = await _take_state(tx, cmd.state, cmd.browser_secret, now)
        refused = None if cmd.declined or not cmd.code else await _callback_refusal(tx, cmd, pending, now)
        await tx.commit()
    if refused is not None:
        raise refused
    if cmd.declined or not cmd.code:
        return CallbackDone(connection_type=pending.connection_type)
    try:
        try:
            grant = await collect_grant(zoom, pending, cmd.code)
        except superseded:
            raise ApprovalSuperseded(
                "This Zoom user approved Roomlink again in another sign-in at the same moment, and Zoom honours only "
                "the newest approval, so this one was not finished. Reload to see whether the other one connected "
                "Zoom, or start again."
            ) from None
        if pending.connection_type is ConnectionType.PERSONAL:
            connection = await finish_personal_connection(uow, zoom, pending, grant, clock.now())
            return CallbackDone(connection_type=pending.connection_type, connection=connection)
        connection, organization = await _finish_activation(uow, zoom, pending, grant, clock.now())
    except zoom_failures as failed:
        raise CallbackZoomFailed(pending.connection_type, failed) from failed
    return CallbackDone(connection_type=pending.connection_type, connection=connection, organization_name=organization.name)


async def _callback_refusal(tx: UnitOfWork, cmd: ZoomCallback, pending: OAuthState, now: datetime) -> Exception | None:
    """Why the callback must stop before Zoom is asked, if it must."""
    if pending.connection_type is ConnectionType.ORGANIZATION:
        try:
            await _link_of(tx, pending, now)
        except ActivationLinkUnusable as refused:
            return refused
        return None
    if cmd.session_token:
        session = await tx.sessions.session(secret_hash(cmd.session_token), now)
        if session is not None and session.user_id != pending.user_id:
            return SignInOfAnotherMember(
                "For your safety it was not finished. Open Roomlink from your product and connect again."
            )
    return None


async def finish_personal_connection(
    uow: UnitOfWorkFactory, zoom: ZoomGateway, pending: OAuthState, grant: ZoomGrant, now: datetime
) -> Connection:
    """R13: a Zoom user already connected by someone else is refused; reconnecting replaces your own.

    Refused, the approval still ended the other person's tokens at Zoom (it honours only the newest
    grant of a Zoom user for an app), so their connection keeps the new tokens instead.
    One transaction; the replaced connection's tokens are revoked at Zoom after it.
    """
    assert pending.connection_type is ConnectionType.PERSONAL and pending.user_id is not None
    tokens, profile = grant.tokens, grant.profile
    actor = f"user:{pending.user_id}"
    async with uow() as tx:
        await tx.connections.serialize([f"member:{pending.org_id}:{pending.user_id}", f"user:{profile.zoom_user_id}"])
        holder = await tx.connections.claimed(f"user:{profile.zoom_user_id}")
        if holder is not None and (holder.org_id, holder.user_id) != (pending.org_id, pending.user_id):
            await keep_newest_grant(tx, holder, tokens, now, actor, "another person approved the same Zoom user")
            raise ZoomUserAlreadyConnected(f"The Zoom user {profile.email} is already connected by another person.")
        previous = await tx.connections.personal(pending.org_id, pending.user_id)
        previous_tokens = await tx.tokens.read(previous) if previous else None
        if previous is not None:
            await tx.connections.delete(previous)
            await tx.audit.record(connection_event(previous, now, actor, "replaced", "reconnected"))
        connection = new_connection(
            pending.org_id, ConnectionType.PERSONAL, pending.user_id, profile.account_id, profile.zoom_user_id, profile.email, now
        )
        await tx.connections.add(connection)
        await tx.tokens.store(connection, tokens)
        await tx.audit.record(connection_event(connection, now, actor, "connected", None))
        await tx.commit()
    if previous_tokens is not None and previous is not None and previous.zoom_user_id != connection.zoom_user_id:
        await zoom.revoke(ZoomApp.USER, previous_tokens)
    return connection


async def keep_newest_grant(
    tx: UnitOfWork, holder: Connection, tokens: TokenSet, now: datetime, actor: str, reason: str
) -> None:
    """The Zoom user who holds `holder` approved our app again: Zoom now honours only these tokens, so
    the connection keeps them (R18: recorded), whatever Roomlink decides about the new approval.
    A step of a use case's transaction: it commits it."""
    await tx.tokens.store(holder, tokens)
    await tx.audit.record(connection_event(holder, now, actor, "reauthorized", reason))
    await tx.commit()


#: Done with the connection still there, before it ends (its sessions' meetings cancelled in Zoom).
BeforeEnd = Callable[[Connection], Awaitable[object]]


async def disconnect_personal(
    uow: UnitOfWorkFactory, zoom: ZoomGateway, principal: Principal, now: datetime, *, before_end: BeforeEnd | None = None
) -> None:
    """R14: tokens revoked at Zoom and deleted; R7: the organization connection applies again at once."""
    async with uow() as tx:
        connection = await tx.connections.personal(principal.org_id, principal.user_id)
        if connection is None:
            raise NotConnected("You have no personal Zoom connection.")
    if before_end is not None:
        await before_end(connection)
    async with uow() as tx:
        connection = await tx.connections.personal(principal.org_id, principal.user_id)
        if connection is None:
            raise NotConnected("You have no personal Zoom connection.")
        tokens = await _end(tx, connection, now, principal.actor, "disconnected by the member")
    await _revoke_ended(zoom, connection, tokens)


# The organization connection


class Invitations(Protocol):
    """Sends an activation link to the Zoom administrator."""

    async def send(self, to: str, organization: Organization, requested_by: Member, url: str, link: ActivationLink) -> None: ...


async def create_activation_link(
    uow: UnitOfWorkFactory,
    invitations: Invitations | None,
    principal: Principal,
    org_id: str,
    token: str,
    url: str,
    emailed_to: str | None,
    now: datetime,
    ttl: timedelta,
) -> ActivationLink:
    """R1, R3: owners and admins only; 256-bit token of which only the hash is stored; expires.

    With an email, the link exists only if the email went out: a failed send keeps nothing.
    """
    async with uow() as tx:
        link = await add_activation_link(tx, invitations, principal, org_id, token, url, emailed_to, now, ttl)
        await tx.commit()
    return link


async def add_activation_link(
    tx: UnitOfWork,
    invitations: Invitations | None,
    principal: Principal,
    org_id: str,
    token: str,
    url: str,
    emailed_to: str | None,
    now: datetime,
    ttl: timedelta,
) -> ActivationLink:
    """create_activation_link's step, in the caller's transaction (which it does not commit): the email is
    sent inside it, so that a failed send keeps nothing."""
    require_manager(principal, org_id)
    if emailed_to and invitations is None:
        raise EmailUnavailable(
            "Roomlink has no mail server configured, so it cannot email the link. "
            "Create the link without an email and send it yourself."
        )
    link = ActivationLink(
        id=str(uuid.uuid4()),
        org_id=org_id,
        created_by=principal.user_id,
        emailed_to=emailed_to,
        created_at=now,
        expires_at=now + ttl,
    )
    await tx.activation_links.add(link, secret_hash(token))
    await tx.audit.record(
        AuditEvent(
            org_id=org_id,
            at=now,
            actor=principal.actor,
            action="activation_link_created",
            details={"activation_link_id": link.id, "emailed": emailed_to is not None},
        )
    )
    if emailed_to and invitations is not None:
        organization = await tx.organizations.get(org_id)
        requester = await tx.members.get(org_id, principal.user_id)
        await invitations.send(emailed_to, organization, requester, url, link)
    return link


async def revoke_activation_link(
    uow: UnitOfWorkFactory, principal: Principal, org_id: str, link_id: str, now: datetime
) -> None:
    require_manager(principal, org_id)
    async with uow() as tx:
        link = await tx.activation_links.get(org_id, link_id)
        if link is None:
            raise ActivationLinkNotFound("There is no such activation link in this organization.")
        if link.revoked_at is None and link.used_at is None:
            await tx.activation_links.revoke(link, now)
            await tx.audit.record(
                AuditEvent(
                    org_id=org_id,
                    at=now,
                    actor=principal.actor,
                    action="activation_link_revoked",
                    details={"activation_link_id": link.id},
                )
            )
        await tx.commit()


async def usable_activation_link(uow: UnitOfWorkFactory, token: str, now: datetime) -> ActivationLink:
    """R3: unknown, expired, used and revoked links each say so."""
    async with uow(read_only=True) as tx:
        return await _usable_link(tx, token, now)


async def _usable_link(tx: UnitOfWork, token: str, now: datetime) -> ActivationLink:
    link = await tx.activation_links.find(secret_hash(token))
    if link is None:
        raise ActivationLinkUnknown("This activation link does not exist.")
    return _still_usable(link, now)


class ActivationInvitation(msgspec.Struct, frozen=True, kw_only=True):
    """What the activation page tells the Zoom admin who opened a link."""

    link: ActivationLink
    organization_name: str
    #: The name of the member who created the link, if they are still a member.
    requested_by: str | None


async def open_activation_link(uow: UnitOfWorkFactory, token: str, now: datetime) -> ActivationInvitation:
    """The activation page: the link, if it still works (R3), the organization it connects and who asked."""
    async with uow(read_only=True) as tx:
        link = await _usable_link(tx, token, now)
        organization = await tx.organizations.get(link.org_id)
        requester = await tx.members.get(link.org_id, link.created_by)
    return ActivationInvitation(
        link=link, organization_name=organization.name, requested_by=requester.name if requester else None
    )


async def start_activation(
    uow: UnitOfWorkFactory, zoom: ZoomGateway, token: str, state: str, code_verifier: str, browser_secret: str, now: datetime
) -> str:
    """Zoom's authorize URL for the Zoom admin, the state bound at once to the browser that asked.
    Only the state's hash is kept, with what the callback will need; the URL carries the state."""
    async with uow() as tx:
        link = await _usable_link(tx, token, now)
        pending = OAuthState(
            connection_type=ConnectionType.ORGANIZATION,
            org_id=link.org_id,
            activation_link_id=link.id,
            code_verifier=code_verifier,
            expires_at=now + OAUTH_STATE_TTL,
            browser_hash=secret_hash(browser_secret),
        )
        await tx.oauth_states.add(secret_hash(state), pending)
        await tx.commit()
    return zoom.authorize_url(ZoomApp.ADMIN, state, pending.code_verifier)


async def activation_link_of(uow: UnitOfWorkFactory, pending: OAuthState, now: datetime) -> ActivationLink:
    """The link an activation callback finishes, if it still works (R3); checked before Zoom is asked."""
    async with uow(read_only=True) as tx:
        return await _link_of(tx, pending, now)


async def _link_of(tx: UnitOfWork, pending: OAuthState, now: datetime) -> ActivationLink:
    assert pending.connection_type is ConnectionType.ORGANIZATION and pending.activation_link_id is not None
    link = await tx.activation_links.get(pending.org_id, pending.activation_link_id)
    if link is None:
        raise ActivationLinkUnknown("This activation link does not exist.")
    return _still_usable(link, now)


async def finish_activation(
    uow: UnitOfWorkFactory, zoom: ZoomGateway, pending: OAuthState, grant: ZoomGrant, now: datetime
) -> Connection:
    """R2: only a Zoom Owner/Admin completes it; R4: it replaces the live connection; R6: personal untouched.

    Approved again for the same Zoom account, the connection keeps its row and its seats (only what
    changed in the account moves); another account replaces it whole.

    Refused, the approval is revoked, with two exceptions. The Zoom user whose earlier approval serves
    an organization just ended that approval's tokens (Zoom honours only the newest grant), so that
    organization keeps the new ones. Another admin's approval of an account serving another
    organization is dropped, not revoked: whether Zoom counts an admin-managed app's authorization per
    account is not documented, and revoking could end the other organization's.

    One transaction, which checks the link again: it may have been used (another tab) or revoked while
    Zoom was asked. Revocations at Zoom come after it.
    """
    connection, _ = await _finish_activation(uow, zoom, pending, grant, now)
    return connection


async def _finish_activation(
    uow: UnitOfWorkFactory, zoom: ZoomGateway, pending: OAuthState, grant: ZoomGrant, now: datetime
) -> tuple[Connection, Organization]:
    profile = grant.profile
    actor = f"zoom:{profile.zoom_user_id}"
    revoke_grant = False
    async with uow() as tx:
        await tx.connections.serialize([f"organization:{pending.org_id}", f"account:{profile.account_id}"])
        holder = await tx.connections.claimed(f"account:{profile.account_id}")
        try:
            link = await _link_of(tx, pending, now)
            if not profile.is_account_admin or grant.users is None:
                raise NotAZoomAdmin(
                    f"{profile.email} is not an owner or admin of this Zoom account, so it cannot connect Zoom for the "
                    "organization. Ask your Zoom account's owner or an admin to open the same link; it still works."
                )
            if holder is not None and holder.org_id != link.org_id:
                raise ZoomAccountServesAnotherOrganization("This Zoom account is already connected to another organization.")
        except (ActivationLinkUnusable, NotAZoomAdmin, ZoomAccountServesAnotherOrganization) as refused:
            if holder is not None and holder.zoom_user_id == profile.zoom_user_id:
                await keep_newest_grant(tx, holder, grant.tokens, now, actor, f"{profile.email} approved the admin app again")
            elif not isinstance(refused, ZoomAccountServesAnotherOrganization):
                revoke_grant = True
            refusal = refused
        else:
            refusal = None
            previous = await tx.connections.organization(link.org_id)
            previous_tokens = await tx.tokens.read(previous) if previous else None
            if previous is not None:
                await tx.audit.record(connection_event(previous, now, actor, "replaced", f"new activation by {profile.email}"))
            if previous is not None and previous.zoom_account_id == profile.account_id:
                connection = await tx.connections.regrant(previous, profile.zoom_user_id, profile.email, now)
            else:
                if previous is not None:
                    await tx.connections.delete(previous)
                connection = new_connection(
                    link.org_id, ConnectionType.ORGANIZATION, None, profile.account_id, profile.zoom_user_id, profile.email, now
                )
                await tx.connections.add(connection)
            await tx.tokens.store(connection, grant.tokens)
            await tx.zoom_users.sync(connection, grant.users)
            await tx.activation_links.mark_used(link, now)
            await tx.activation_links.revoke_pending(link.org_id, now)  # R3: one completed activation ends the others
            await tx.jobs.enqueue(
                TELL_ACTIVATION_DONE,
                {"org_id": link.org_id, "connection_id": connection.id, "requested_by": link.created_by,
                 "completed_by": profile.email},
                dedupe_key=f"activation-done:{link.id}",
            )
            await tx.audit.record(
                connection_event(
                    connection, now, actor, "connected", None, {"activation_link_id": link.id, "zoom_users": len(grant.users)}
                )
            )
            organization = await tx.organizations.get(connection.org_id)
            await tx.commit()
    if refusal is not None:
        if revoke_grant:
            await zoom.revoke(ZoomApp.ADMIN, grant.tokens)
        raise refusal
    if previous_tokens is not None and previous is not None and previous.zoom_account_id != connection.zoom_account_id:
        await zoom.revoke(ZoomApp.ADMIN, previous_tokens)
    return connection, organization


async def disconnect_organization(
    uow: UnitOfWorkFactory, zoom: ZoomGateway, principal: Principal, org_id: str, now: datetime
) -> int:
    """R1, R12, R14: returns how many members relied on it; personal connections stay."""
    require_manager(principal, org_id)
    async with uow() as tx:
        connection = await tx.connections.organization(org_id)
        if connection is None:
            raise NotConnected("This organization has no Zoom connection.")
        affected = await tx.members_table.count_relying_on_organization(org_id)
        tokens = await _end(
            tx, connection, now, principal.actor, "disconnected by an owner or admin", {"affected_members": affected}
        )
    await _revoke_ended(zoom, connection, tokens)
    return affected


async def _end(
    tx: UnitOfWork,
    connection: Connection,
    now: datetime,
    actor: str,
    reason: str,
    details: dict[str, object] | None = None,
) -> TokenSet | None:
    """Ends the connection and commits; its tokens, for the caller to revoke at Zoom after the transaction."""
    tokens = await tx.tokens.read(connection)
    await tx.connections.delete(connection)
    await tx.audit.record(connection_event(connection, now, actor, "disconnected", reason, details))
    await tx.commit()
    return tokens


async def _revoke_ended(zoom: ZoomGateway, connection: Connection, tokens: TokenSet | None) -> None:
    if tokens is not None:
        app = ZoomApp.serving(connection.type)
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


class ActivationDone(msgspec.Struct, frozen=True, kw_only=True):
    """A TELL_ACTIVATION_DONE job: an activation link was completed (_finish_activation queued it)."""

    #: The job's own id: the requester is emailed once per job, however often it runs.
    job_id: str
    org_id: str
    connection_id: str
    #: The owner or admin who created the link.
    requested_by: str
    #: The Zoom admin who approved it in Zoom.
    completed_by: str


#: The email telling the requester: (requester, organization, connection, counts) -> an OutgoingEmail's fields.
ActivationDoneEmail = Callable[[Member, Organization, Connection, ConnectionCounts], dict[str, object]]


async def tell_activation_done(uow: UnitOfWorkFactory, done: ActivationDone, email: ActivationDoneEmail) -> bool:
    """Whoever asked for the activation hears that Zoom is connected, and what it means for the members, unless
    they completed it themselves (they saw it), they are no longer a member, or the connection has moved on."""
    async with uow() as tx:
        requester = await tx.members.get(done.org_id, done.requested_by)
        organization = await tx.organizations.get(done.org_id)
        connection = await tx.connections.by_id(done.org_id, done.connection_id)
        if requester is None or organization is None or connection is None or connection.status is not ConnectionStatus.ACTIVE:
            return False
        if same_email(requester.email, done.completed_by):
            return False
        counts = await tx.members_table.counts(done.org_id)
        await tx.jobs.enqueue(
            SEND_EMAIL, email(requester, organization, connection, counts), dedupe_key=f"{done.job_id}:{requester.user_id}"
        )
        await tx.commit()
    return True
