"""Remote sessions and bookings (docs/api.md#remote-sessions-and-bookings): thin handlers over domain.sessions.

Provisioning (API key) puts sessions and bookings; member calls list what needs attention (owners and
admins) and the host's day. No handler here calls Zoom: the job does (domain.sessions.reconcile_session).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Response, delete, get, put
from litestar.di import NamedDependency, Provide
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, PathParameter, QueryParameter

from domain import sessions
from domain.access import Principal
from domain.errors import InvalidInput
from domain.identifiers import check_identifier
from domain.meeting_input import check_day, check_timezone, check_window
from domain.session_model import SessionFacts, SessionStatus, SessionView, session_view
from persistence.database import unit_of_work
from server.api.bodies import Email, Identifier, Name
from server.api.cursors import decode_time_cursor, encode_cursor
from server.api.openapi import (
    ACTING_USER,
    MEMBER_SECURITY,
    PROVISIONING_SECURITY,
    OrgId,
    answers,
)
from server.auth import (
    host_product_guard,
    manager_guard,
    member_guard,
    provide_principal,
)
from server.clock import utcnow

_ID_SCHEMA = {"pattern": r"^[A-Za-z0-9._:-]{1,128}$", "minLength": 1, "maxLength": 128}
SessionId = Annotated[
    str,
    PathParameter(
        description="The host product's id of the session: 1–128 characters of letters, digits and . _ : -",
        schema_extra=_ID_SCHEMA,
    ),
]
BookingId = Annotated[
    str,
    PathParameter(
        description="The host product's id of the booking: 1–128 characters of letters, digits and . _ : -",
        schema_extra=_ID_SCHEMA,
    ),
]

SESSION_REFUSALS = {404: ("organization_not_found", "session_not_found"), 409: ("session_cancelled",)}


class SessionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    host_user_id: Identifier
    title: Name
    #: RFC 3339; without an offset it is read in `timezone`.
    start_time: str
    duration_minutes: int
    timezone: str | None = None
    remote: bool
    #: Seats; left out for no limit. A session of one seat is an appointment: one meeting per booking.
    capacity: int | None = None
    #: Members Zoom takes as alternative hosts where it allows it (seated in the organization's Zoom account).
    co_host_user_ids: list[Identifier] = msgspec.field(default_factory=list)


class BookingIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    email: Email
    #: The participant's user id in the host product, if they have one.
    user_id: Identifier | None = None


class BookingOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    session_id: str
    join_url: str | None
    link_status: Literal["ready", "pending"]


class SessionsPageOut(msgspec.Struct, frozen=True, kw_only=True):
    items: list[SessionView]
    next_cursor: str | None


class ParticipantOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    email: str
    user_id: str | None


class HostedSessionOut(SessionView, frozen=True, kw_only=True):
    participants: list[ParticipantOut]
    #: R22: the host's start link (a Roomlink path that redirects to a start URL fetched from Zoom at the click).
    start_path: str | None


class MyDayOut(msgspec.Struct, frozen=True, kw_only=True):
    day: date
    timezone: str
    items: list[HostedSessionOut]


class SessionProvisioningController(Controller):
    path = "/api/v1/orgs/{org_id:str}/sessions/{session_id:str}"
    guards = [host_product_guard]
    security = PROVISIONING_SECURITY
    tags = ["sessions"]

    @put(
        "/",
        operation_id="PutSession",
        status_code=200,
        summary="Create or update a session",
        responses={
            201: ResponseSpec(SessionView, description="Created."),
            **answers({400: ("unknown_host",), 404: ("organization_not_found",), 409: ("session_cancelled",)}),
        },
    )
    async def put_session(
        self, org_id: OrgId, session_id: SessionId, data: JSONBody[SessionIn]
    ) -> Response[SessionView]:
        """Idempotent by the session's id: 201 when new, 200 when it existed. A new time or title updates its
        meeting once; a new host moves it to the new host's Zoom; `remote: false` cancels its meeting."""
        _check_ids(org_id, session_id)
        cmd = sessions.PutSession(
            org_id=org_id,
            session_id=session_id,
            host_user_id=data.host_user_id,
            title=data.title,
            start_time=data.start_time,
            duration_minutes=data.duration_minutes,
            timezone=data.timezone,
            remote=data.remote,
            capacity=data.capacity,
            co_host_user_ids=list(data.co_host_user_ids),
        )
        facts, created = await sessions.put_session(unit_of_work, cmd, utcnow())
        return Response(session_view(facts), status_code=201 if created else 200)

    @get("/", operation_id="GetSession", summary="A session, its status and its meeting", responses=answers(SESSION_REFUSALS))
    async def get_session(self, org_id: OrgId, session_id: SessionId) -> SessionView:
        _check_ids(org_id, session_id)
        return session_view(await sessions.get_session(unit_of_work, org_id, session_id))

    @delete(
        "/",
        operation_id="CancelSession",
        status_code=204,
        summary="Cancel a session",
        responses=answers({404: ("session_not_found",)}),
    )
    async def cancel_session(self, org_id: OrgId, session_id: SessionId) -> None:
        """Its meeting is cancelled in Zoom (by the job, within seconds); the session stays, `cancelled`."""
        _check_ids(org_id, session_id)
        await sessions.cancel_session(unit_of_work, org_id, session_id, utcnow())

    @put(
        "/bookings/{booking_id:str}",
        operation_id="PutBooking",
        status_code=200,
        summary="Book someone into a session",
        responses={
            201: ResponseSpec(BookingOut, description="Booked."),
            **answers(
                {
                    400: ("unknown_participant",),
                    404: ("session_not_found",),
                    409: ("session_cancelled", "session_not_remote", "session_full", "session_started", "booking_conflict"),
                }
            ),
        },
    )
    async def put_booking(
        self, org_id: OrgId, session_id: SessionId, booking_id: BookingId, data: JSONBody[BookingIn]
    ) -> Response[BookingOut]:
        """Never waits for Zoom: `link_status` is `pending` until the session's meeting exists, and the
        participant is emailed the join link once it does. The same id and body again answers 200."""
        _check_ids(org_id, session_id)
        check_identifier(booking_id, "booking_id")
        cmd = sessions.PutBooking(
            org_id=org_id, session_id=session_id, booking_id=booking_id, name=data.name, email=data.email,
            user_id=data.user_id,
        )
        answer = await sessions.put_booking(unit_of_work, cmd, utcnow())
        out = BookingOut(
            id=answer.booking.id, session_id=session_id, join_url=answer.join_url,
            link_status="ready" if answer.link_status == "ready" else "pending",
        )
        return Response(out, status_code=201 if answer.new else 200)

    @delete(
        "/bookings/{booking_id:str}",
        operation_id="CancelBooking",
        status_code=204,
        summary="Cancel a booking",
        responses=answers({404: ("session_not_found", "booking_not_found")}),
    )
    async def cancel_booking(self, org_id: OrgId, session_id: SessionId, booking_id: BookingId) -> None:
        """Never calls Zoom; the last booking's cancellation has the meeting cancelled in Zoom."""
        _check_ids(org_id, session_id)
        check_identifier(booking_id, "booking_id")
        await sessions.cancel_booking(unit_of_work, org_id, session_id, booking_id, utcnow())


class OrganizationSessionsController(Controller):
    path = "/api/v1/orgs/{org_id:str}/sessions"
    guards = [manager_guard]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}
    parameters = {"acting_user": ACTING_USER}
    security = MEMBER_SECURITY
    tags = ["sessions"]

    @get("/", operation_id="ListSessions", summary="The organization's sessions, e.g. those that need attention")
    async def list_sessions(
        self,
        org_id: OrgId,
        principal: NamedDependency[Principal],
        status: Annotated[SessionStatus | None, QueryParameter(description="Only sessions in this status.")] = None,
        start_from: Annotated[datetime | None, QueryParameter(name="from", description="Starting at or after.")] = None,
        start_to: Annotated[datetime | None, QueryParameter(name="to", description="Starting before.")] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> SessionsPageOut:
        """Owners and admins: by start time; `status=needs_attention` lists what a person must fix, with why."""
        check_window(**{"from": start_from, "to": start_to})
        items, next_after = await sessions.list_sessions(
            unit_of_work, org_id, status=status, start_from=start_from, start_to=start_to,
            after=decode_time_cursor(cursor) if cursor else None, limit=limit,
        )
        return SessionsPageOut(
            items=[session_view(facts) for facts in items],
            next_cursor=encode_cursor(next_after) if next_after else None,
        )


class MySessionsController(Controller):
    path = "/api/v1/me/sessions"
    guards = [member_guard]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}
    parameters = {"acting_user": ACTING_USER}
    security = MEMBER_SECURITY
    tags = ["sessions"]

    @get("/", operation_id="ListMySessions", summary="The sessions I host on a day, with who is booked")
    async def my_day(
        self,
        principal: NamedDependency[Principal],
        day: Annotated[date | None, QueryParameter(description="YYYY-MM-DD; today in `timezone` when left out.")] = None,
        timezone: Annotated[
            str, QueryParameter(max_length=64, description="The IANA time zone the day is in (Roomlink keeps none per member).")
        ] = "UTC",
    ) -> MyDayOut:
        """Each session with its participants and, once its meeting exists, `start_path`: the host's own start link."""
        errors: dict[str, str] = {}
        check_timezone(timezone, errors)
        if errors:
            raise InvalidInput("The time zone is not known; e.g. Europe/Paris.", errors=errors)
        on = check_day(day) or utcnow().astimezone(ZoneInfo(timezone)).date()
        hosted = await sessions.hosted_on(unit_of_work, principal, on, timezone)
        return MyDayOut(day=on, timezone=timezone, items=[_hosted_out(each.facts, each) for each in hosted])


def _hosted_out(facts: SessionFacts, hosted: sessions.HostedSession) -> HostedSessionOut:
    return HostedSessionOut(
        **msgspec.structs.asdict(session_view(facts)),
        participants=[
            ParticipantOut(id=booking.id, name=booking.name, email=booking.email, user_id=booking.user_id)
            for booking in hosted.participants
        ],
        start_path=f"/api/v1/me/meetings/{hosted.start_meeting_id}/start" if hosted.start_meeting_id else None,
    )


def _check_ids(org_id: str, session_id: str) -> None:
    check_identifier(org_id, "org_id")
    check_identifier(session_id, "session_id")
