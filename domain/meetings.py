"""Meetings through each member's effective connection: create, read fresh, update, cancel, start.

Every flow that calls Zoom has the same shape (STYLE.md): a short transaction decides and records
the intent, Zoom is called outside any transaction, a second short one records the answer.

Exactly once (R23): the intent row exists before Zoom is called (an Idempotency-Key is unique per
member in the database). One caller at a time holds the intent's lease while it calls Zoom;
others wait for the answer. Any attempt after the first — a retry after a timeout, a 5xx, a caller
or worker that died holding the lease — first searches the host's upcoming meetings in Zoom for the
intent's marker and creates only if it is not there.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import UNSET, UnsetType

from domain.access import Principal
from domain.budget import budget_day, next_reset, over_budget_reason
from domain.errors import (
    ConnectionBroken,
    DailyBudgetSpent,
    IdempotencyKeyReused,
    InvalidInput,
    MeetingBeingChanged,
    MeetingBeingCreated,
    MeetingConnectionGone,
    MeetingNotChangeable,
    MeetingNotFound,
    MemberNotConnected,
    MemberNotFound,
    OrganizationNotFound,
    ZoomNotReached,
    ZoomPermissionMissing,
)
from domain.events import meeting_event
from domain.keeping import mark_broken
from domain.meeting_model import (
    Meeting,
    MeetingHost,
    MeetingStatus,
    ZoomMeeting,
    ZoomMeetingRequest,
    with_marker,
    without_marker,
)
from domain.meeting_ports import (
    Clock,
    MeetingsZoom,
    ZoomDayLimitReached,
    ZoomHostGone,
    ZoomMeetingError,
    ZoomMeetingGone,
    ZoomNotTheHost,
    ZoomPersonalRoom,
    ZoomScopeMissing,
)
from domain.model import Connection, ConnectionStatus, ConnectionType, Reason
from domain.pmi import (
    CreatedInZoom,
    HostPmiSettings,
    personal_room_fix,
    personal_room_signals,
)
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.precedence import effective_connection
from domain.session_refresh import follow_meeting
from domain.zoom import ZoomEvent

#: The job that makes a pending meeting in Zoom (after Zoom was unreachable, or after 00:00 UTC).
MAKE_MEETING = "make_meeting"

TOPIC_MAX = 200
#: Zoom's agenda holds 2,000 characters; the intent's marker takes some.
AGENDA_MAX = 1900
DURATION_MAX = 24 * 60
PASSCODE = re.compile(r"^[A-Za-z0-9@\-_*]{1,10}$")
#: How long one caller may hold an intent while it calls Zoom, unless told otherwise.
DEFAULT_LEASE = timedelta(seconds=60)
#: How often a caller waiting on another's lease looks again.
WAIT_STEP_S = 0.05

GONE_FROM_ZOOM = "The meeting was deleted in Zoom; recreate it or cancel it here."
CONNECTION_GONE = (
    "Created through a connection that is gone; nothing switches Zoom accounts silently. "
    "Recreate it through your current Zoom, or cancel it."
)
NOT_THE_HOST = "Zoom says this Zoom user is no longer the meeting's host."
HOST_GONE = "The Zoom user that hosts this meeting is no longer in the Zoom account."
BEING_CREATED = "Being created in Zoom."
ZOOM_UNREACHABLE = "Zoom could not be reached; Roomlink tries again shortly."
PERSONAL_ROOM_LEFT_ALONE = (
    "Cancelled here. It was in your Personal Meeting ID room, which Roomlink leaves as it is in Zoom."
)

_NOT_CONNECTED_WORDS = {
    Reason.PERSONAL_NEEDS_RECONNECT: "Your personal Zoom connection needs reconnecting.",
    Reason.ORGANIZATION_NOT_CONNECTED: "Neither you nor your organization has connected Zoom.",
    Reason.ORGANIZATION_REMOVED: "You removed your organization's Zoom for yourself; restore it or connect your own.",
    Reason.NO_SEAT: "Your organization's Zoom account has no active user with your email.",
    Reason.ORGANIZATION_ADMIN_LOST: "Your organization's Zoom connection needs reconnecting: its Zoom admin lost the role.",
    Reason.ORGANIZATION_NEEDS_RECONNECT: "Your organization's Zoom connection needs reconnecting.",
    Reason.ORGANIZATION_DEAUTHORIZED: "Roomlink's app was removed from your organization's Zoom.",
}


class CreateMeeting(msgspec.Struct, frozen=True, kw_only=True):
    principal: Principal
    topic: str
    #: RFC 3339; a time without an offset is read in `timezone`.
    start_time: str
    duration_minutes: int
    timezone: str | None = None
    agenda: str | None = None
    passcode: str | None = None
    idempotency_key: str | None = None


class ChangeMeeting(msgspec.Struct, frozen=True, kw_only=True):
    """A PATCH: UNSET fields are left as they are."""

    topic: str | UnsetType = UNSET
    start_time: str | UnsetType = UNSET
    duration_minutes: int | UnsetType = UNSET
    timezone: str | UnsetType = UNSET
    agenda: str | UnsetType = UNSET


class Created(msgspec.Struct, frozen=True, kw_only=True):
    meeting: Meeting
    #: False when the Idempotency-Key named a meeting made before: the same answer again.
    new: bool


class MeetingsPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Meeting]
    next_after: tuple[datetime, str] | None


class FreshMeeting(msgspec.Struct, frozen=True, kw_only=True):
    meeting: Meeting
    #: When Zoom was read; None when there was nothing in Zoom to read.
    fetched_at: datetime | None


# Input


def parse_start_time(
    value: str, timezone: str, now: datetime, errors: dict[str, str], *, unchanged: datetime | None = None
) -> datetime | None:
    """UTC; a time without an offset is read in `timezone`. A past time is refused, except `unchanged` (what is
    stored already, sent again)."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        errors["start_time"] = "must be an RFC 3339 date-time, e.g. 2026-12-24T15:00:00Z"
        return None
    if moment.tzinfo is None:
        try:
            moment = moment.replace(tzinfo=ZoneInfo(timezone))
        except (ZoneInfoNotFoundError, ValueError):
            return None
    moment = moment.astimezone(UTC)
    if moment <= now and moment != unchanged:
        errors["start_time"] = "is in the past"
        return None
    return moment


def check_timezone(value: str, errors: dict[str, str]) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = "is not a known IANA time zone, e.g. Europe/Paris"
    return value


def check_topic(value: str, errors: dict[str, str]) -> str:
    topic = value.strip()
    if not topic:
        errors["topic"] = "must not be empty"
    elif len(topic) > TOPIC_MAX:
        errors["topic"] = f"must be at most {TOPIC_MAX} characters (Zoom's limit)"
    return topic


def check_duration(value: int, errors: dict[str, str]) -> int:
    if value <= 0 or value > DURATION_MAX:
        errors["duration_minutes"] = f"must be between 1 and {DURATION_MAX} minutes"
    return value


def check_agenda(value: str, errors: dict[str, str]) -> str:
    if len(value) > AGENDA_MAX:
        errors["agenda"] = f"must be at most {AGENDA_MAX} characters"
    return value


def _invalid(errors: dict[str, str]) -> InvalidInput:
    return InvalidInput("The meeting is invalid; nothing was changed and Zoom was not called.", errors=errors)


class MeetingRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What a meeting is asked to be, checked."""

    topic: str
    start_time: datetime
    duration_minutes: int
    timezone: str
    agenda: str
    passcode: str | None


def checked(cmd: CreateMeeting, now: datetime) -> MeetingRequest:
    errors: dict[str, str] = {}
    timezone = check_timezone(cmd.timezone or "UTC", errors)
    topic = check_topic(cmd.topic, errors)
    start_time = parse_start_time(cmd.start_time, timezone, now, errors)
    duration = check_duration(cmd.duration_minutes, errors)
    agenda = check_agenda(cmd.agenda or "", errors)
    if cmd.passcode is not None and not PASSCODE.fullmatch(cmd.passcode):
        errors["passcode"] = "must be 1–10 characters of letters, digits and @ - _ *"
    if cmd.idempotency_key is not None and not 1 <= len(cmd.idempotency_key) <= 255:
        errors["Idempotency-Key"] = "must be 1–255 characters"
    if errors or start_time is None:
        raise _invalid(errors)
    return MeetingRequest(
        topic=topic, start_time=start_time, duration_minutes=duration, timezone=timezone, agenda=agenda, passcode=cmd.passcode
    )


def request_hash(request: MeetingRequest) -> str:
    """What an Idempotency-Key promises: the same key comes with the same request."""
    text = "\x1f".join(
        [request.topic, request.start_time.isoformat(), str(request.duration_minutes), request.timezone, request.agenda,
         request.passcode or ""]
    )
    return hashlib.sha256(text.encode()).hexdigest()


# Create


async def create_meeting(
    cmd: CreateMeeting, uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, *, lease: timedelta = DEFAULT_LEASE
) -> Created:
    request = checked(cmd, clock.now())
    async with uow() as tx:
        intent, new = await plan_meeting(tx, cmd, request, clock.now())
        await tx.commit()
    meeting = await bring_to_zoom(intent.org_id, intent.id, uow, zoom, clock, lease=lease)
    return Created(meeting=meeting, new=new)


async def plan_meeting(
    tx: UnitOfWork, cmd: CreateMeeting, request: MeetingRequest, now: datetime
) -> tuple[Meeting, bool]:
    """The intent, recorded; or the meeting its Idempotency-Key already names (False)."""
    digest = request_hash(request)
    principal = cmd.principal
    if cmd.idempotency_key is not None:
        earlier = await tx.meetings.by_idempotency_key(principal.org_id, principal.user_id, cmd.idempotency_key)
        if earlier is not None:
            return _same_request(earlier, digest), False
    intent = new_intent(
        principal.org_id, principal.user_id, await effective_host(tx, principal), request, now,
        idempotency_key=cmd.idempotency_key, request_hash=digest,
    )
    stored = await tx.meetings.add(intent)
    if stored.id == intent.id:
        return stored, True
    return _same_request(stored, digest), False


def new_intent(
    org_id: str,
    user_id: str,
    host: MeetingHost,
    request: MeetingRequest,
    now: datetime,
    *,
    idempotency_key: str | None,
    request_hash: str,
    session_id: str | None = None,
    alternative_hosts: str = "",
) -> Meeting:
    """A meeting asked for and not in Zoom yet: recorded before Zoom is called (R23)."""
    return Meeting(
        id=str(uuid.uuid4()),
        org_id=org_id,
        user_id=user_id,
        connection_id=host.connection.id,
        connection_type=host.connection.type,
        zoom_user_id=host.zoom_user_id,
        zoom_user_email=host.zoom_user_email,
        topic=request.topic,
        start_time=request.start_time,
        duration_minutes=request.duration_minutes,
        timezone=request.timezone,
        agenda=request.agenda,
        passcode=request.passcode,
        zoom_meeting_id=None,
        join_url=None,
        status=MeetingStatus.PENDING,
        status_reason=BEING_CREATED,
        in_personal_room=False,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        attempts=0,
        lease_until=None,
        not_before=None,
        created_at=now,
        updated_at=now,
        session_id=session_id,
        alternative_hosts=alternative_hosts,
    )


def _same_request(earlier: Meeting, digest: str) -> Meeting:
    if earlier.request_hash != digest:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for another request; use a new key for a new meeting.",
            errors={"Idempotency-Key": "already used with a different body"},
        )
    return earlier


async def effective_host(tx: UnitOfWork, principal: Principal) -> MeetingHost:
    """R7 and R5: which connection serves the member now, and as which Zoom user."""
    organization = await tx.organizations.get(principal.org_id)
    if organization is None:
        raise OrganizationNotFound(f"Organization {principal.org_id!r} was not found.")
    member = await tx.members.get(principal.org_id, principal.user_id)
    if member is None:
        raise MemberNotFound(f"Member {principal.user_id!r} was not found.")
    personal = await tx.connections.personal(member.org_id, member.user_id)
    organization_connection = await tx.connections.organization(member.org_id)
    seat = await tx.zoom_users.seat(member.org_id, member.email) if organization_connection else None
    effective = effective_connection(
        personal=personal.status if personal else None,
        organization=organization_connection.status if organization_connection else None,
        has_seat=seat is not None,
        removed_organization=member.organization_removed,
        members_may_remove=organization.policy.allow_members_to_remove,
    )
    if not effective.connected:
        assert effective.reason is not None
        raise MemberNotConnected(_NOT_CONNECTED_WORDS[effective.reason], reason=effective.reason.value)
    if effective.type is ConnectionType.PERSONAL:
        assert personal is not None
        return MeetingHost(connection=personal, zoom_user_id=personal.zoom_user_id, zoom_user_email=personal.zoom_email)
    assert organization_connection is not None and seat is not None
    return MeetingHost(connection=organization_connection, zoom_user_id=seat.zoom_user_id, zoom_user_email=seat.zoom_email)


async def bring_to_zoom(
    org_id: str, meeting_id: str, uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, *, lease: timedelta = DEFAULT_LEASE
) -> Meeting:
    """Make a pending meeting in Zoom, exactly once, or say why it waits."""
    while True:
        async with uow() as tx:
            meeting = await tx.meetings.locked(org_id, meeting_id)
            if meeting is None:
                raise MeetingNotFound("The meeting was not found.")
            now = clock.now()
            if meeting.status is not MeetingStatus.PENDING:
                return meeting
            if meeting.lease_until is None or meeting.lease_until <= now:
                claimed = await _claim(tx, meeting, now, lease)
                await tx.commit()
                break
        if meeting.lease_until > now + lease:
            raise MeetingBeingCreated("The meeting is being created in Zoom; try again in a moment.")
        await clock.sleep(WAIT_STEP_S)
    host, look_first = claimed
    return await _make_in_zoom(meeting, host, look_first, uow, zoom, clock)


async def _claim(
    tx: UnitOfWork, meeting: Meeting, now: datetime, lease: timedelta
) -> tuple[MeetingHost, bool]:
    if meeting.not_before is not None and meeting.not_before > now:
        raise DailyBudgetSpent(meeting.status_reason or over_budget_reason(now), retry_at=meeting.not_before)
    host = await host_of(tx, meeting, now)
    if not await tx.meeting_budget.spend(meeting.org_id, meeting.zoom_user_id, budget_day(now)):
        await _wait_for_reset(tx, meeting, next_reset(now), now)
        await tx.commit()
        raise DailyBudgetSpent(over_budget_reason(now), retry_at=next_reset(now))
    await save_meeting(
        tx, meeting, msgspec.structs.replace(meeting, attempts=meeting.attempts + 1, lease_until=now + lease, updated_at=now), now
    )
    return host, meeting.attempts > 0


async def save_meeting(tx: UnitOfWork, before: Meeting, after: Meeting, now: datetime) -> None:
    """Every change of a meeting is stored here, and the host product hears what it can see of it (R24),
    in the same transaction."""
    await tx.meetings.save(after)
    if (event := meeting_event(before, after, now)) is not None:
        await tx.outbox.add(event)
    if after.session_id is not None:
        await follow_meeting(tx, after, now)


async def _wait_for_reset(tx: UnitOfWork, meeting: Meeting, retry_at: datetime, now: datetime) -> None:
    await save_meeting(
        tx,
        meeting,
        msgspec.structs.replace(
            meeting, status_reason=over_budget_reason(now), not_before=retry_at, lease_until=None, updated_at=now
        ),
        now,
    )
    await tx.jobs.enqueue(MAKE_MEETING, {"org_id": meeting.org_id, "meeting_id": meeting.id}, dedupe_key=f"make:{meeting.id}")


async def _make_in_zoom(
    meeting: Meeting, host: MeetingHost, look_first: bool, uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock
) -> Meeting:
    try:
        pmi = await _host_pmi(zoom, host)
        found = await zoom.find_upcoming(host, meeting.marker) if look_first else None
        made = found or await zoom.create(host, zoom_request(meeting))
    except ZoomDayLimitReached as limited:
        retry_at = limited.retry_at or next_reset(clock.now())
        async with uow() as tx:
            await tx.meeting_budget.close_day(meeting.org_id, meeting.zoom_user_id, budget_day(clock.now()))
            current = await tx.meetings.locked(meeting.org_id, meeting.id)
            if current is not None:
                await _wait_for_reset(tx, current, retry_at, clock.now())
            await tx.commit()
        raise DailyBudgetSpent(over_budget_reason(clock.now()), retry_at=retry_at) from None
    except ZoomNotReached:
        await _release(uow, meeting, ZOOM_UNREACHABLE, clock.now(), retry=True)
        raise
    except (ZoomMeetingError, ConnectionBroken) as refused:
        raise await _refused(uow, meeting, host, refused, clock.now()) from None
    async with uow() as tx:
        current = await tx.meetings.locked(meeting.org_id, meeting.id)
        duplicate = current is None or current.status is not MeetingStatus.PENDING
        if not duplicate:
            recorded = recorded_in_zoom(current, made, pmi, clock.now())
            await save_meeting(tx, current, recorded, clock.now())
            await tx.commit()
            return recorded
    # Our lease ran out and another attempt recorded its own answer: ours must not stay in Zoom.
    if not found and current is not None and current.zoom_meeting_id != made.zoom_meeting_id:
        try:
            await zoom.delete(host, made.zoom_meeting_id)
        except (ZoomMeetingError, ZoomNotReached, ConnectionBroken):
            pass
    if current is None:
        raise MeetingNotFound("The meeting was not found.")
    return current


async def _host_pmi(zoom: MeetingsZoom, host: MeetingHost) -> HostPmiSettings:
    """Read before creating; a Zoom that will not show the settings does not stop the meeting."""
    try:
        return await zoom.host_pmi(host)
    except (ZoomMeetingError, ZoomNotReached):
        return HostPmiSettings()


async def _release(uow: UnitOfWorkFactory, meeting: Meeting, reason: str, now: datetime, *, retry: bool) -> None:
    async with uow() as tx:
        current = await tx.meetings.locked(meeting.org_id, meeting.id)
        if current is not None and current.status is MeetingStatus.PENDING:
            await save_meeting(
                tx, current, msgspec.structs.replace(current, status_reason=reason, lease_until=None, updated_at=now), now
            )
            if retry:
                await tx.jobs.enqueue(MAKE_MEETING, {"org_id": current.org_id, "meeting_id": current.id}, dedupe_key=f"make:{current.id}")
        await tx.commit()


async def _refused(
    uow: UnitOfWorkFactory, meeting: Meeting, host: MeetingHost, refused: Exception, now: datetime
) -> Exception:
    """Zoom will not make it through this connection: the meeting needs a person; the error says why."""
    error = _zoom_error_for(refused, host)
    async with uow() as tx:
        current = await tx.meetings.locked(meeting.org_id, meeting.id)
        if current is not None:
            await save_meeting(
                tx,
                current,
                msgspec.structs.replace(
                    current, status=MeetingStatus.NEEDS_ATTENTION, status_reason=str(error), lease_until=None, updated_at=now
                ),
                now,
            )
        if isinstance(refused, ZoomScopeMissing):
            await mark_broken(tx, host.connection, ConnectionStatus.NEEDS_RECONNECT, str(error), "zoom:meetings", now)
        await tx.commit()
    return error


def _zoom_error_for(refused: Exception, host: MeetingHost) -> Exception:
    reconnect = _reconnect_reason(host.connection)
    if isinstance(refused, ZoomScopeMissing):
        return ZoomPermissionMissing(
            f"Zoom refused: the connection lacks the permission {refused.scope}; reconnect Zoom to grant it.",
            errors={"permission": refused.scope},
        )
    if isinstance(refused, ConnectionBroken):
        return MemberNotConnected("Zoom no longer accepts this connection; it needs reconnecting.", reason=reconnect)
    if isinstance(refused, ZoomHostGone):
        return MeetingNotChangeable(HOST_GONE)
    if isinstance(refused, ZoomNotTheHost):
        return MeetingNotChangeable(NOT_THE_HOST)
    if isinstance(refused, ZoomMeetingGone):
        return MeetingNotChangeable(GONE_FROM_ZOOM)
    return MeetingNotChangeable(f"Zoom refused: {refused}")


def _reconnect_reason(connection: Connection) -> str:
    if connection.type is ConnectionType.PERSONAL:
        return Reason.PERSONAL_NEEDS_RECONNECT.value
    return Reason.ORGANIZATION_NEEDS_RECONNECT.value


def zoom_request(meeting: Meeting) -> ZoomMeetingRequest:
    return ZoomMeetingRequest(
        topic=meeting.topic,
        start_time=meeting.start_time,
        duration_minutes=meeting.duration_minutes,
        timezone=meeting.timezone,
        agenda=with_marker(meeting.agenda, meeting.marker),
        passcode=meeting.passcode,
        alternative_hosts=meeting.alternative_hosts,
    )


def recorded_in_zoom(meeting: Meeting, made: ZoomMeeting, pmi: HostPmiSettings, now: datetime) -> Meeting:
    """R15: what Zoom answered that the features need; R17: whether it landed in the PMI room."""
    signals = personal_room_signals(
        CreatedInZoom(zoom_meeting_id=made.zoom_meeting_id, join_url=made.join_url, pmi=made.pmi, use_pmi=made.use_pmi),
        pmi,
    )
    in_room = bool(signals)
    return msgspec.structs.replace(
        meeting,
        zoom_meeting_id=made.zoom_meeting_id,
        join_url=made.join_url,
        passcode=made.passcode,
        start_time=made.start_time or meeting.start_time,
        status=MeetingStatus.SCHEDULED,
        # Roomlink sent use_pmi: false; a meeting in the PMI room anyway means the setting is locked on.
        status_reason=personal_room_fix(pmi, locked=True) if in_room else None,
        in_personal_room=in_room,
        lease_until=None,
        not_before=None,
        updated_at=now,
    )


async def host_of(tx: UnitOfWork, meeting: Meeting, now: datetime) -> MeetingHost:
    """R19: the connection and Zoom user that made the meeting, or why they can no longer act."""
    connection = await tx.connections.by_id(meeting.org_id, meeting.connection_id)
    if connection is None:
        raise MeetingConnectionGone(CONNECTION_GONE)
    if connection.status is not ConnectionStatus.ACTIVE:
        raise MemberNotConnected(
            f"The Zoom connection that made this meeting needs reconnecting ({connection.status_reason or connection.status.value}).",
            reason=_reconnect_reason(connection),
        )
    return MeetingHost(connection=connection, zoom_user_id=meeting.zoom_user_id, zoom_user_email=meeting.zoom_user_email)


async def recreate_meeting(
    uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, principal: Principal, meeting_id: str,
    *, lease: timedelta = DEFAULT_LEASE,
) -> Created:
    """R19's offer: a meeting that needs attention, made again through the member's current effective
    connection; the old one is cancelled here. Asking twice recreates once (the new intent's key is the old id)."""
    now = clock.now()
    async with uow() as tx:
        old = await _own(tx, principal, meeting_id, lock=True)
        again = await tx.meetings.by_idempotency_key(principal.org_id, principal.user_id, f"recreate:{old.id}")
        if again is None:
            if old.status is not MeetingStatus.NEEDS_ATTENTION:
                raise MeetingNotChangeable("Only a meeting that needs attention is recreated.")
            if old.start_time <= now:
                raise MeetingNotChangeable("The meeting's time has passed; create a new one.")
            host = await effective_host(tx, principal)
            again = await tx.meetings.add(
                msgspec.structs.replace(
                    old,
                    id=str(uuid.uuid4()),
                    connection_id=host.connection.id,
                    connection_type=host.connection.type,
                    zoom_user_id=host.zoom_user_id,
                    zoom_user_email=host.zoom_user_email,
                    zoom_meeting_id=None,
                    join_url=None,
                    status=MeetingStatus.PENDING,
                    status_reason=BEING_CREATED,
                    in_personal_room=False,
                    idempotency_key=f"recreate:{old.id}",
                    attempts=0,
                    lease_until=None,
                    not_before=None,
                    created_at=now,
                    updated_at=now,
                )
            )
            await save_meeting(
                tx,
                old,
                msgspec.structs.replace(
                    old, status=MeetingStatus.CANCELLED, status_reason=f"Recreated through your current Zoom as {again.id}.",
                    updated_at=now,
                ),
                now,
            )
            await tx.commit()
            new = True
        else:
            new = False
    meeting = await bring_to_zoom(again.org_id, again.id, uow, zoom, clock, lease=lease)
    return Created(meeting=meeting, new=new)


# Read, update, cancel, start


async def _own(tx: UnitOfWork, principal: Principal, meeting_id: str, *, lock: bool = False) -> Meeting:
    """A member's meetings are theirs alone: anyone else's is not found."""
    read = tx.meetings.locked if lock else tx.meetings.get
    meeting = await read(principal.org_id, meeting_id)
    if meeting is None or meeting.user_id != principal.user_id:
        raise MeetingNotFound(f"Meeting {meeting_id!r} was not found.")
    return meeting


async def _host_or_attention(uow: UnitOfWorkFactory, meeting: Meeting, now: datetime) -> MeetingHost:
    """The meeting's host; when its connection is gone, the meeting is marked (R19) and the error raised."""
    async with uow() as tx:
        try:
            return await host_of(tx, meeting, now)
        except MeetingConnectionGone:
            await _mark(tx, meeting, MeetingStatus.NEEDS_ATTENTION, CONNECTION_GONE, now)
            await tx.commit()
            raise


async def _mark(tx: UnitOfWork, meeting: Meeting, status: MeetingStatus, reason: str | None, now: datetime) -> Meeting:
    current = await tx.meetings.locked(meeting.org_id, meeting.id) or meeting
    marked = msgspec.structs.replace(current, status=status, status_reason=reason, lease_until=None, updated_at=now)
    if marked != current:
        await save_meeting(tx, current, marked, now)
    return marked


async def list_meetings(
    uow: UnitOfWorkFactory,
    principal: Principal,
    *,
    start_from: datetime | None,
    start_to: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> MeetingsPage:
    async with uow() as tx:
        items = await tx.meetings.of_member(
            principal.org_id, principal.user_id, start_from=start_from, start_to=start_to, after=after, limit=limit + 1
        )
    more = len(items) > limit
    items = items[:limit]
    return MeetingsPage(items=items, next_after=(items[-1].start_time, items[-1].id) if more else None)


async def get_meeting(
    uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, principal: Principal, meeting_id: str
) -> FreshMeeting:
    """The meeting as Zoom has it now (R21); what changed in Zoom is recorded."""
    async with uow() as tx:
        meeting = await _own(tx, principal, meeting_id)
    if meeting.zoom_meeting_id is None or meeting.status is MeetingStatus.CANCELLED:
        return FreshMeeting(meeting=meeting, fetched_at=None)
    try:
        host = await _host_or_attention(uow, meeting, clock.now())
    except MeetingConnectionGone:
        async with uow() as tx:
            return FreshMeeting(meeting=await _own(tx, principal, meeting_id), fetched_at=None)
    except MemberNotConnected:
        return FreshMeeting(meeting=meeting, fetched_at=None)
    try:
        in_zoom = await zoom.get(host, meeting.zoom_meeting_id)
    except (ZoomMeetingGone, ZoomHostGone, ZoomNotTheHost) as gone:
        reason = {ZoomHostGone: HOST_GONE, ZoomNotTheHost: NOT_THE_HOST}.get(type(gone), GONE_FROM_ZOOM)
        async with uow() as tx:
            marked = await _mark(tx, meeting, MeetingStatus.NEEDS_ATTENTION, reason, clock.now())
            await tx.commit()
        return FreshMeeting(meeting=marked, fetched_at=clock.now())
    except (ZoomMeetingError, ConnectionBroken) as refused:
        raise _zoom_error_for(refused, host) from None
    fresh = as_in_zoom(meeting, in_zoom, clock.now())
    if fresh != meeting:
        async with uow() as tx:
            current = await tx.meetings.locked(meeting.org_id, meeting.id)
            if current is not None:
                fresh = as_in_zoom(current, in_zoom, clock.now())
                await save_meeting(tx, current, fresh, clock.now())
                await tx.commit()
    return FreshMeeting(meeting=fresh, fetched_at=clock.now())


def as_in_zoom(meeting: Meeting, in_zoom: ZoomMeeting, now: datetime) -> Meeting:
    status, reason = meeting.status, meeting.status_reason
    if status is MeetingStatus.NEEDS_ATTENTION and reason in (GONE_FROM_ZOOM, HOST_GONE, NOT_THE_HOST):
        status, reason = MeetingStatus.SCHEDULED, None
    fresh = msgspec.structs.replace(
        meeting,
        topic=in_zoom.topic,
        start_time=in_zoom.start_time or meeting.start_time,
        duration_minutes=in_zoom.duration_minutes,
        timezone=in_zoom.timezone or meeting.timezone,
        agenda=without_marker(in_zoom.agenda),
        join_url=in_zoom.join_url,
        passcode=in_zoom.passcode,
        status=status,
        status_reason=reason,
    )
    return fresh if fresh == meeting else msgspec.structs.replace(fresh, updated_at=now)


def changes_of(meeting: Meeting, change: ChangeMeeting, now: datetime) -> dict[str, object]:
    """Only what differs from the meeting (R20: Zoom is asked for nothing it doesn't need)."""
    errors: dict[str, str] = {}
    changes: dict[str, object] = {}
    timezone = meeting.timezone if change.timezone is UNSET else check_timezone(change.timezone, errors)
    if change.topic is not UNSET:
        changes["topic"] = check_topic(change.topic, errors)
    if change.start_time is not UNSET:
        start = parse_start_time(change.start_time, timezone, now, errors)
        if start is not None:
            changes["start_time"] = start
    if change.duration_minutes is not UNSET:
        changes["duration_minutes"] = check_duration(change.duration_minutes, errors)
    if change.timezone is not UNSET:
        changes["timezone"] = timezone
    if change.agenda is not UNSET:
        changes["agenda"] = check_agenda(change.agenda, errors)
    if errors:
        raise _invalid(errors)
    return {name: value for name, value in changes.items() if getattr(meeting, name) != value}


async def update_meeting(
    uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, principal: Principal, meeting_id: str, change: ChangeMeeting
) -> Meeting:
    async with uow() as tx:
        meeting = await _own(tx, principal, meeting_id)
    _not_a_session_meeting(meeting, "changed")
    changes = changes_of(meeting, change, clock.now())
    if not changes:
        return meeting
    return await change_meeting(uow, zoom, clock, meeting.org_id, meeting.id, changes)


def _not_a_session_meeting(meeting: Meeting, done: str) -> None:
    """A session's meeting follows its session (domain.sessions): it is changed or cancelled through the session."""
    if meeting.session_id is not None:
        raise MeetingNotChangeable(
            f"This meeting belongs to the session {meeting.session_id!r}; it is {done} through the session "
            "(PUT or DELETE /api/v1/orgs/{org_id}/sessions/{session_id}), not here."
        )


async def change_meeting(
    uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, org_id: str, meeting_id: str, wanted: dict[str, object]
) -> Meeting:
    """Zoom is sent only what differs from the meeting now (R20), through the connection that made it (R19)."""
    now = clock.now()
    async with uow() as tx:
        meeting = await tx.meetings.locked(org_id, meeting_id)
        if meeting is None:
            raise MeetingNotFound(f"Meeting {meeting_id!r} was not found.")
        changes = {name: value for name, value in wanted.items() if getattr(meeting, name) != value}
        if not changes:
            return meeting
        if meeting.status is MeetingStatus.PENDING:
            return await _change_intent(tx, meeting, changes, now)
        if meeting.status is not MeetingStatus.SCHEDULED or meeting.zoom_meeting_id is None:
            raise MeetingNotChangeable(f"A {meeting.status.value} meeting cannot be changed; {meeting.status_reason or ''}".strip())
        if meeting.lease_until is not None and meeting.lease_until > now:
            # Two callers at once would each send the same change: one Zoom update, the other looks again later.
            raise MeetingBeingChanged("The meeting is being changed in Zoom; try again in a moment.")
        host = await host_of(tx, meeting, now)
        if not await tx.meeting_budget.spend(meeting.org_id, meeting.zoom_user_id, budget_day(now)):
            raise DailyBudgetSpent(over_budget_reason(now).replace("it will be made", "it can be changed"), retry_at=next_reset(now))
        meeting = msgspec.structs.replace(meeting, lease_until=now + CHANGE_LEASE)
        await save_meeting(tx, meeting, meeting, now)
        await tx.commit()
    sent = {**changes, "agenda": with_marker(changes["agenda"], meeting.marker)} if "agenda" in changes else changes
    try:
        await zoom.update(host, meeting.zoom_meeting_id, sent)
    except ZoomDayLimitReached as limited:
        async with uow() as tx:
            await tx.meeting_budget.close_day(meeting.org_id, meeting.zoom_user_id, budget_day(now))
            await _end_change_lease(tx, meeting, clock.now())
            await tx.commit()
        raise DailyBudgetSpent(over_budget_reason(now), retry_at=limited.retry_at or next_reset(now)) from None
    except (ZoomMeetingGone, ZoomHostGone, ZoomNotTheHost) as gone:
        error = _zoom_error_for(gone, host)
        async with uow() as tx:
            await _mark(tx, meeting, MeetingStatus.NEEDS_ATTENTION, str(error), clock.now())
            await tx.commit()
        raise error from None
    except BaseException as failed:
        # Not sent, or not known to be (a timeout): the next caller may send it again at once.
        async with uow() as tx:
            await _end_change_lease(tx, meeting, clock.now())
            await tx.commit()
        if isinstance(failed, ZoomMeetingError | ConnectionBroken):
            raise _zoom_error_for(failed, host) from None
        raise
    async with uow() as tx:
        current = await tx.meetings.locked(meeting.org_id, meeting.id) or meeting
        ours = current.lease_until == meeting.lease_until
        updated = msgspec.structs.replace(
            current, **changes, lease_until=None if ours else current.lease_until, updated_at=clock.now()
        )
        await save_meeting(tx, current, updated, clock.now())
        await tx.commit()
    return updated


async def _end_change_lease(tx: UnitOfWork, leased: Meeting, now: datetime) -> None:
    """The lease change_meeting took, given back unless someone else's replaced it since (a cancellation's)."""
    current = await tx.meetings.locked(leased.org_id, leased.id)
    if current is not None and current.lease_until == leased.lease_until:
        released = msgspec.structs.replace(current, lease_until=None)
        await save_meeting(tx, released, released, now)


async def _change_intent(tx: UnitOfWork, meeting: Meeting, changes: dict[str, object], now: datetime) -> Meeting:
    """Not in Zoom yet: the intent itself changes, and Zoom gets the new values when it is made."""
    if meeting.lease_until is not None and meeting.lease_until > now:
        raise MeetingBeingCreated("The meeting is being created in Zoom; change it in a moment.")
    updated = msgspec.structs.replace(meeting, **changes, updated_at=now)
    await save_meeting(tx, meeting, updated, now)
    await tx.commit()
    return updated


#: How long a cancellation's Zoom call may take before a meeting.deleted from Zoom is read as someone else's.
CANCEL_LEASE = timedelta(minutes=2)
#: How long one change of a meeting may be under way in Zoom before another caller may send it again.
CHANGE_LEASE = timedelta(minutes=2)


async def cancel_meeting(
    uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, principal: Principal, meeting_id: str
) -> Meeting:
    """Cancelled in Zoom through the connection that made it; the PMI room itself is never deleted (R17)."""
    async with uow() as tx:
        meeting = await _own(tx, principal, meeting_id)
    _not_a_session_meeting(meeting, "cancelled")
    return await end_meeting(uow, zoom, clock, meeting.org_id, meeting.id)


async def end_meeting(uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, org_id: str, meeting_id: str) -> Meeting:
    """cancel_meeting's work, for any meeting of the organization (a session's too)."""
    now = clock.now()
    async with uow() as tx:
        meeting = await tx.meetings.locked(org_id, meeting_id)
        if meeting is None:
            raise MeetingNotFound(f"Meeting {meeting_id!r} was not found.")
        if meeting.status is MeetingStatus.CANCELLED:
            return meeting
        if meeting.zoom_meeting_id is None:
            if meeting.lease_until is not None and meeting.lease_until > now:
                raise MeetingBeingCreated("The meeting is being created in Zoom; cancel it in a moment.")
            cancelled = await _mark(tx, meeting, MeetingStatus.CANCELLED, None, now)
            await tx.commit()
            return cancelled
        # Zoom tells of the deletion (meeting.deleted) while it is under way: the lease says it is ours.
        meeting = msgspec.structs.replace(meeting, lease_until=now + CANCEL_LEASE)
        await save_meeting(tx, meeting, meeting, now)
        await tx.commit()
    reason = None
    if meeting.in_personal_room:
        reason = PERSONAL_ROOM_LEFT_ALONE
    else:
        host = await _host_or_attention(uow, meeting, now)
        try:
            await zoom.delete(host, meeting.zoom_meeting_id)
        except ZoomMeetingGone:
            pass
        except ZoomPersonalRoom:
            reason = PERSONAL_ROOM_LEFT_ALONE
        except (ZoomMeetingError, ConnectionBroken) as refused:
            raise _zoom_error_for(refused, host) from None
    async with uow() as tx:
        cancelled = await _mark(tx, meeting, MeetingStatus.CANCELLED, reason, clock.now())
        await tx.commit()
    return cancelled


async def start_url(uow: UnitOfWorkFactory, zoom: MeetingsZoom, clock: Clock, principal: Principal, meeting_id: str) -> str:
    """R22: only the host (a member sees only their own meetings), a start URL fetched from Zoom now."""
    async with uow() as tx:
        meeting = await _own(tx, principal, meeting_id)
    if meeting.zoom_meeting_id is None or meeting.status is MeetingStatus.CANCELLED:
        raise MeetingNotChangeable(f"A {meeting.status.value} meeting cannot be started.")
    host = await _host_or_attention(uow, meeting, clock.now())
    try:
        return await zoom.start_url(host, meeting.zoom_meeting_id)
    except (ZoomMeetingGone, ZoomHostGone, ZoomNotTheHost) as gone:
        error = _zoom_error_for(gone, host)
        async with uow() as tx:
            await _mark(tx, meeting, MeetingStatus.NEEDS_ATTENTION, str(error), clock.now())
            await tx.commit()
        raise error from None
    except (ZoomMeetingError, ConnectionBroken) as refused:
        raise _zoom_error_for(refused, host) from None


# Zoom's meeting events (R21)


async def handle_meeting_event(tx: UnitOfWork, event: ZoomEvent, now: datetime) -> int:
    """meeting.updated / .deleted / .recovered keep the records true; returns how many changed."""
    meeting_id = event.object.get("id")
    if not str(meeting_id or "").isdigit():
        return 0
    host_id = str(event.object.get("host_id") or "")
    claim = f"account:{event.account_id}" if event.app.value == "admin" else f"user:{host_id}"
    connection = await tx.connections.claimed(claim)
    if connection is None:
        return 0
    changed = 0
    for found in await tx.meetings.by_zoom_id(connection.org_id, int(str(meeting_id))):
        # Locked: a cancellation committing meanwhile is seen, not overwritten.
        meeting = await tx.meetings.locked(found.org_id, found.id) or found
        updated = _after_event(meeting, event, now)
        if updated != meeting:
            await save_meeting(tx, meeting, updated, now)
            changed += 1
    await tx.commit()
    return changed


def _after_event(meeting: Meeting, event: ZoomEvent, now: datetime) -> Meeting:
    if meeting.status is MeetingStatus.CANCELLED:
        return meeting
    if event.event == "meeting.deleted":
        being_cancelled = meeting.lease_until is not None and meeting.lease_until > now
        if meeting.in_personal_room or being_cancelled:
            return meeting
        return msgspec.structs.replace(meeting, status=MeetingStatus.NEEDS_ATTENTION, status_reason=GONE_FROM_ZOOM, updated_at=now)
    if event.event == "meeting.recovered" and meeting.status is MeetingStatus.NEEDS_ATTENTION:
        return msgspec.structs.replace(meeting, status=MeetingStatus.SCHEDULED, status_reason=None, updated_at=now)
    if event.event == "meeting.updated":
        return _with_zoom_fields(meeting, event.object, now)
    return meeting


def _with_zoom_fields(meeting: Meeting, fields: dict[str, object], now: datetime) -> Meeting:
    changes: dict[str, object] = {}
    if isinstance(fields.get("topic"), str):
        changes["topic"] = fields["topic"]
    if isinstance(fields.get("duration"), int):
        changes["duration_minutes"] = fields["duration"]
    if isinstance(fields.get("timezone"), str) and fields["timezone"]:
        changes["timezone"] = fields["timezone"]
    if isinstance(fields.get("agenda"), str):
        changes["agenda"] = without_marker(str(fields["agenda"]))
    if isinstance(fields.get("start_time"), str):
        try:
            changes["start_time"] = datetime.fromisoformat(str(fields["start_time"])).astimezone(UTC)
        except ValueError:
            pass
    if isinstance(fields.get("join_url"), str):
        changes["join_url"] = fields["join_url"]
    if isinstance(fields.get("password"), str):
        changes["passcode"] = fields["password"]
    updated = msgspec.structs.replace(meeting, **changes)
    return updated if updated == meeting else msgspec.structs.replace(updated, updated_at=now)

