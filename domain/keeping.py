"""Keeping connections true over time (R11, R12, R14, R18): Zoom's events, periodic verification, incidents."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import msgspec

from domain.audit import connection_event
from domain.errors import (
    ConnectionBroken,
    DomainError,
    NotConnected,
    ZoomRefused,
    ZoomScopesMissing,
    ZoomUserNotFound,
)
from domain.impact import Impact, impact_of
from domain.model import (
    Connection,
    ConnectionStatus,
    ConnectionType,
    Member,
    Organization,
    ZoomUser,
)
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.zoom import ConnectedZoom, ZoomApp, ZoomEvent, ZoomProfile

#: The job that tells the people concerned, once per incident.
NOTIFY_INCIDENT = "notify_incident"
#: The job that checks an organization's Zoom admin and resyncs its seats through Zoom's API.
VERIFY_ORGANIZATION = "verify_organization"
#: The periodic job that asks for every organization's verification, the tokens' keep-alive and the purge.
VERIFY_ALL = "verify_all"
#: The job that refreshes tokens before Zoom lets them die unused (domain.token_refresh.keep_all_alive).
KEEP_TOKENS_ALIVE = "keep_tokens_alive"
#: The job that deletes what has expired (OAuth states, launch links, old webhook records...).
PURGE_EXPIRED = "purge_expired"
#: The job that sends one email.
SEND_EMAIL = "send_email"

_ADMIN_GONE = {
    "user.deactivated": "the Zoom admin who connected it was deactivated in Zoom",
    "user.deleted": "the Zoom admin who connected it was deleted from the Zoom account",
    "user.disassociated": "the Zoom admin who connected it left the Zoom account",
}


async def mark_broken(
    uow: UnitOfWork, connection: Connection, status: ConnectionStatus, reason: str, actor: str, now: datetime
) -> bool:
    """One write to the connection, whatever the organization's size; members read it through R7.

    Returns False when this is no new incident: the connection is already in that state, or already
    broken for another reason (people were told the first cause; only the app's removal in Zoom,
    which no reconnect-by-link undoes silently, is news again). The state is read again under the
    row's lock, so two workers learning of the same incident make one.
    """
    current = await uow.connections.locked(connection)
    if current is None:
        return False
    if current.status is status or (current.status is not ConnectionStatus.ACTIVE and status is not ConnectionStatus.DEAUTHORIZED):
        if status in (ConnectionStatus.DEAUTHORIZED, ConnectionStatus.NEEDS_RECONNECT):
            await uow.tokens.forget(connection)
        return False
    await uow.connections.set_status(connection, status, reason, now)
    if status in (ConnectionStatus.DEAUTHORIZED, ConnectionStatus.NEEDS_RECONNECT):
        await uow.tokens.forget(connection)
    await uow.audit.record(connection_event(connection, now, actor, status.value, reason))
    await uow.jobs.enqueue(
        NOTIFY_INCIDENT,
        {"org_id": connection.org_id, "connection_id": connection.id, "status": status.value, "reason": reason},
        dedupe_key=f"incident:{connection.id}:{status.value}:{now.isoformat()}",
    )
    return True


async def recover(uow: UnitOfWork, connection: Connection, actor: str, reason: str, now: datetime) -> None:
    current = await uow.connections.locked(connection)
    if current is None or current.status is ConnectionStatus.ACTIVE:
        return
    await uow.connections.set_status(connection, ConnectionStatus.ACTIVE, None, now)
    await uow.audit.record(connection_event(connection, now, actor, "recovered", reason))


async def handle_zoom_event(uow: UnitOfWork, event: ZoomEvent, now: datetime) -> None:
    """Zoom says something changed; only what concerns a live connection of ours is acted on."""
    if event.event == "app_deauthorized":
        await _deauthorized(uow, event, now)
    elif event.event.startswith("user.") and event.app is ZoomApp.ADMIN:
        connection = await uow.connections.claimed(f"account:{event.account_id}")
        if connection is not None:
            await _user_changed(uow, connection, event, now)
    await uow.commit()


async def verify_organization(
    uow: UnitOfWorkFactory,
    zoom: ConnectedZoom,
    org_id: str,
    now: Callable[[], datetime],
    on_page: Callable[[int, int], None] | None = None,
) -> None:
    """R11 without waiting for webhooks: is the activating admin still an admin? Then the seats are resynced.

    The flow's shape (docs/design.md#architecture): the connection is read, Zoom is asked outside any transaction, and what
    Zoom said is applied in a second one. A grant Zoom refuses has already broken the connection (the token
    keeper); Zoom unreachable changes nothing; a refusal that says what is wrong is applied (apply_refusal).
    """
    async with uow() as tx:
        connection = await tx.connections.organization(org_id)
    if connection is None or connection.status not in (ConnectionStatus.ACTIVE, ConnectionStatus.ADMIN_LOST):
        return
    admin: ZoomProfile | None = None
    try:
        admin = await zoom.me(connection)
        users = await zoom.account_users(connection, on_page) if admin.is_account_admin else None
    except (ConnectionBroken, NotConnected):
        return
    except ZoomRefused as refused:
        if admin is not None and admin.is_account_admin and (demoted := await _demoted_since(zoom, connection)):
            # Demoted between the two calls: Zoom refuses a member the user list, and that is not the
            # connection's fault (needs_reconnect) but its admin's role (admin_lost).
            async with uow() as tx:
                await apply_verification(tx, connection, demoted, None, now())
            return
        async with uow() as tx:
            if await apply_refusal(tx, connection, refused, now()):
                return
        raise
    async with uow() as tx:
        await apply_verification(tx, connection, admin, users, now())


async def _demoted_since(zoom: ConnectedZoom, connection: Connection) -> ZoomProfile | None:
    """The activating admin as Zoom has them now, if no longer an admin; None when still one or unknown."""
    try:
        profile = await zoom.me(connection)
    except DomainError:
        return None
    return None if profile.is_account_admin else profile


async def incident_recipients(uow: UnitOfWork, connection: Connection) -> list[Member]:
    """Who is told of an incident (R11, R12): the member, for their own connection; owners and admins, for the
    organization's."""
    if connection.type is ConnectionType.PERSONAL:
        assert connection.user_id is not None
        member = await uow.members.get(connection.org_id, connection.user_id)
        return [member] if member is not None else []
    return list(await uow.members.managers(connection.org_id))


async def apply_verification(
    uow: UnitOfWork, connection: Connection, admin: ZoomProfile, users: list[ZoomUser] | None, now: datetime
) -> None:
    """R11 without webhooks: the activating admin checked through Zoom's API, seats resynced.

    What Zoom said is applied to the connection as it is now (read under its lock), and not at all
    if it ended meanwhile: the Zoom calls ran outside any transaction.
    """
    current = await uow.connections.locked(connection)
    if current is None:
        return
    if not admin.is_account_admin:
        await mark_broken(uow, current, ConnectionStatus.ADMIN_LOST, _role_reason(admin), "system:verification", now)
    elif current.status is ConnectionStatus.ADMIN_LOST:
        await recover(uow, current, "system:verification", f"{admin.email} is an admin of the Zoom account again", now)
    if users is not None:
        await uow.zoom_users.sync(connection, users)
    await uow.connections.mark_verified(connection, now)
    await uow.commit()


async def apply_refusal(uow: UnitOfWork, connection: Connection, refused: ZoomRefused, now: datetime) -> bool:
    """Zoom refused verifying the connection; its code says what is wrong, and so what fixes it.

    Missing scopes (4711) need a reconnect that approves every permission; a Zoom admin who no longer
    exists (1001) is an admin lost, which another admin's activation restores. Any other refusal is
    not the connection's fault: False, nothing changes.
    """
    if isinstance(refused, ZoomScopesMissing):
        status, reason = ConnectionStatus.NEEDS_RECONNECT, refused.detail
    elif isinstance(refused, ZoomUserNotFound):
        status, reason = ConnectionStatus.ADMIN_LOST, "the Zoom admin who connected it no longer exists in the Zoom account"
    else:
        return False
    await mark_broken(uow, connection, status, reason, "system:verification", now)
    await uow.commit()
    return True


async def _deauthorized(uow: UnitOfWork, event: ZoomEvent, now: datetime) -> None:
    claim = f"account:{event.account_id}" if event.app is ZoomApp.ADMIN else f"user:{event.zoom_user_id}"
    connection = await uow.connections.claimed(claim)
    if connection is None:
        return
    who = "the organization's Zoom admin" if connection.type is ConnectionType.ORGANIZATION else "you"
    await mark_broken(
        uow, connection, ConnectionStatus.DEAUTHORIZED, f"Roomlink's app was removed in Zoom by {who}", "zoom:webhook", now
    )


async def _user_changed(uow: UnitOfWork, connection: Connection, event: ZoomEvent, now: datetime) -> None:
    if event.zoom_user_id == connection.zoom_user_id:
        reason = _ADMIN_GONE.get(event.event)
        if reason is None and event.event == "user.updated" and event.new_role_is_admin is False:
            reason = f"the Zoom admin who connected it is now a {event.object.get('role', 'member')} in Zoom"
        if reason is not None:
            await mark_broken(uow, connection, ConnectionStatus.ADMIN_LOST, reason, "zoom:webhook", now)
        elif connection.status is ConnectionStatus.ADMIN_LOST and _may_be_admin_again(event):
            # Zoom's word on the role is checked through its API before anything is restored.
            await uow.jobs.enqueue(
                VERIFY_ORGANIZATION,
                {"org_id": connection.org_id, "connection_id": connection.id},
                dedupe_key=f"verify:{connection.id}",
            )
    await _reseat(uow, connection, event)


def _may_be_admin_again(event: ZoomEvent) -> bool:
    return event.event == "user.activated" or (event.event == "user.updated" and event.new_role_is_admin is True)


async def _reseat(uow: UnitOfWork, connection: Connection, event: ZoomEvent) -> None:
    """R5: the one Zoom user the event is about; everyone else's seat stays as it is."""
    email = event.object.get("email")
    if event.event in ("user.deleted", "user.disassociated"):
        await uow.zoom_users.delete(connection, event.zoom_user_id)
    elif event.event == "user.created" and isinstance(email, str):
        # Invited by email ("create"), a user is pending until they accept: no seat yet.
        status = "pending" if event.object.get("creation_type") == "create" else "active"
        user = ZoomUser(zoom_user_id=event.zoom_user_id, email=email, status=status)
        await uow.zoom_users.upsert(connection, user)
    elif event.event == "user.invitation_accepted":
        await uow.zoom_users.update(connection, event.zoom_user_id, None, "active")
    elif event.event == "user.deactivated":
        await uow.zoom_users.update(connection, event.zoom_user_id, None, "inactive")
    elif event.event == "user.activated":
        await uow.zoom_users.update(connection, event.zoom_user_id, None, "active")
    elif event.event == "user.updated" and isinstance(email, str):
        await uow.zoom_users.update(connection, event.zoom_user_id, email, None)


def _role_reason(admin: ZoomProfile) -> str:
    if admin.status != "active":
        return f"the Zoom admin who connected it ({admin.email}) is {admin.status} in Zoom"
    return f"the Zoom admin who connected it ({admin.email}) is no longer an owner or admin of the Zoom account"



# The worker's use cases: each job's whole sequence, its transactions included.


class IncidentNotice(msgspec.Struct, frozen=True, kw_only=True):
    """A NOTIFY_INCIDENT job: one incident of one connection (domain.keeping.mark_broken queued it)."""

    #: The job's own id: each person is emailed once per job, however often it runs.
    job_id: str
    org_id: str
    connection_id: str
    #: The status the incident put the connection in.
    status: str
    reason: str


#: An incident's email to one person, as the SEND_EMAIL job's payload; with the organization connection's
#: impact (domain.impact) when it is the organization's that broke.
IncidentEmail = Callable[[Member, Organization, Connection, str, Impact | None], dict[str, object]]


async def ask_for_verification(uow: UnitOfWorkFactory) -> None:
    """The worker's timer: one VERIFY_ALL queued (once, however many workers tick)."""
    async with uow() as tx:
        await tx.jobs.enqueue(VERIFY_ALL, {}, dedupe_key=VERIFY_ALL)
        await tx.commit()


async def verify_all(uow: UnitOfWorkFactory) -> int:
    """R11 without waiting for webhooks: every live organization connection's verification queued, with the
    tokens' keep-alive and the purge of what expired. Returns how many verifications were asked for."""
    async with uow() as tx:
        connections = await tx.connections.live_organization_connections()
        for connection in connections:
            await tx.jobs.enqueue(
                VERIFY_ORGANIZATION,
                {"org_id": connection.org_id, "connection_id": connection.id},
                dedupe_key=f"verify:{connection.id}",
            )
        await tx.jobs.enqueue(KEEP_TOKENS_ALIVE, {}, dedupe_key=KEEP_TOKENS_ALIVE)
        await tx.jobs.enqueue(PURGE_EXPIRED, {}, dedupe_key=PURGE_EXPIRED)
        await tx.commit()
    return len(connections)


async def purge_expired(uow: UnitOfWorkFactory, now: datetime) -> dict[str, int]:
    """What has expired is deleted in one transaction; rows deleted per table."""
    async with uow() as tx:
        purged = await tx.housekeeping.purge_expired(now)
        await tx.commit()
    return purged


async def tell_of_incident(uow: UnitOfWorkFactory, notice: IncidentNotice, email: IncidentEmail, now: datetime) -> int:
    """R11, R12: the people concerned (incident_recipients) each get one email, queued, of an incident that is
    still the connection's state; nothing when the connection ended or has moved on since. Returns how many."""
    async with uow() as tx:
        connection = await tx.connections.by_id(notice.org_id, notice.connection_id)
        organization = await tx.organizations.get(notice.org_id)
        if connection is None or organization is None or connection.status.value != notice.status:
            return 0
        recipients = await incident_recipients(tx, connection)
        impact = await impact_of(tx, notice.org_id, now) if connection.type is ConnectionType.ORGANIZATION else None
        for person in recipients:
            await tx.jobs.enqueue(
                SEND_EMAIL,
                email(person, organization, connection, notice.reason, impact),
                dedupe_key=f"{notice.job_id}:{person.user_id}",
            )
        await tx.commit()
    return len(recipients)
