"""The caller's own meetings (docs/api.md#meetings): thin handlers over domain.meetings and domain.meeting_changes.

The caller is authenticated by the guard before anything runs; each flow opens its own short
transactions (the use case decides them) and holds no database connection while it waits on Zoom.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, Request, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect, Response

from domain import meeting_changes, meetings
from domain.access import Principal
from domain.errors import InvalidCursor, MeetingNotFound
from domain.meeting_input import ChangeMeeting, CreateMeeting, check_window
from persistence.database import unit_of_work
from server.api.cursors import decode_time_cursor, encode_cursor
from server.api.meeting_bodies import (
    LeftInZoomOut,
    MeetingIn,
    MeetingOut,
    MeetingPatch,
    MeetingsPageOut,
    left_in_zoom_out,
    meeting_out,
)
from server.api.openapi import ACTING_USER, MEMBER_SECURITY, OrgId, answers
from server.auth import manager_guard, member_guard, provide_principal
from server.clock import SystemClock
from server.services import provide_keeper
from server.zoom_meetings import ZoomMeetings

IDEMPOTENCY_KEY = "Idempotency-Key"
CLOCK = SystemClock()


def provide_meetings_zoom(state: State) -> ZoomMeetings:
    """One per process, so the hosts' PMI settings are cached between requests."""
    keeper = provide_keeper(state)
    if getattr(state, "meetings_zoom", None) is None:
        state.meetings_zoom = ZoomMeetings(keeper, state.zoom)
    return state.meetings_zoom


class MyMeetingsController(Controller):
    path = "/api/v1/me/meetings"
    guards = [member_guard]
    dependencies = {
        "principal": Provide(provide_principal, sync_to_thread=False),
        "meetings_zoom": Provide(provide_meetings_zoom, sync_to_thread=False),
    }
    parameters = {"acting_user": ACTING_USER}
    security = MEMBER_SECURITY
    tags = ["meetings"]

    @post("/", operation_id="CreateMeeting")
    async def create(
        self,
        request: Request,
        state: State,
        data: JSONBody[MeetingIn],
        principal: NamedDependency[Principal],
        meetings_zoom: NamedDependency[ZoomMeetings],
    ) -> Response[MeetingOut]:
        """201 the meeting; the same `Idempotency-Key` and body again answers the same meeting, 200."""
        cmd = CreateMeeting(
            principal=principal,
            topic=data.topic,
            start_time=data.start_time,
            duration_minutes=data.duration_minutes,
            timezone=data.timezone,
            agenda=data.agenda,
            passcode=data.passcode,
            idempotency_key=request.headers.get(IDEMPOTENCY_KEY),
        )
        created = await meetings.create_meeting(
            cmd, unit_of_work, meetings_zoom, CLOCK, lease=state.settings.meeting_lease
        )
        return Response(meeting_out(created.meeting), status_code=201 if created.new else 200)

    @get("/", operation_id="ListMyMeetings")
    async def list_mine(
        self,
        principal: NamedDependency[Principal],
        start_from: Annotated[datetime | None, QueryParameter(name="from")] = None,
        start_to: Annotated[datetime | None, QueryParameter(name="to")] = None,
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> MeetingsPageOut:
        check_window(**{"from": start_from, "to": start_to})
        page = await meeting_changes.list_meetings(
            unit_of_work,
            principal,
            start_from=start_from,
            start_to=start_to,
            after=_meeting_cursor(cursor) if cursor else None,
            limit=limit,
        )
        return MeetingsPageOut(
            items=[meeting_out(meeting) for meeting in page.items],
            next_cursor=encode_cursor(page.next_after) if page.next_after else None,
        )

    @get("/{meeting_id:str}", operation_id="GetMeeting", responses=answers({404: ("meeting_not_found",), 409: ("meeting_connection_gone", "needs_reconnect")}))
    async def get_one(
        self,
        meeting_id: FromPath[str],
        principal: NamedDependency[Principal],
        meetings_zoom: NamedDependency[ZoomMeetings],
    ) -> MeetingOut:
        """As Zoom has it now (`fetched_at`); a meeting deleted in Zoom answers `needs_attention`."""
        fresh = await meeting_changes.get_meeting(unit_of_work, meetings_zoom, CLOCK, principal, meeting_uuid(meeting_id))
        return meeting_out(fresh.meeting, fresh.fetched_at)

    @patch(
        "/{meeting_id:str}",
        operation_id="UpdateMeeting",
        responses=answers({404: ("meeting_not_found",), 409: ("meeting_being_created", "meeting_connection_gone", "needs_reconnect")}),
    )
    async def update(
        self,
        meeting_id: FromPath[str],
        data: JSONBody[MeetingPatch],
        principal: NamedDependency[Principal],
        meetings_zoom: NamedDependency[ZoomMeetings],
    ) -> MeetingOut:
        """Only what changed is sent to Zoom; nothing changed, no Zoom call."""
        change = ChangeMeeting(
            topic=data.topic,
            start_time=data.start_time,
            duration_minutes=data.duration_minutes,
            timezone=data.timezone,
            agenda=data.agenda,
        )
        updated = await meeting_changes.update_meeting(
            unit_of_work, meetings_zoom, CLOCK, principal, meeting_uuid(meeting_id), change
        )
        return meeting_out(updated)

    @delete(
        "/{meeting_id:str}",
        operation_id="CancelMeeting",
        status_code=204,
        responses=answers({404: ("meeting_not_found",), 409: ("meeting_being_created", "meeting_connection_gone", "needs_reconnect")}),
    )
    async def cancel(
        self,
        meeting_id: FromPath[str],
        principal: NamedDependency[Principal],
        meetings_zoom: NamedDependency[ZoomMeetings],
    ) -> None:
        """Cancelled in Zoom; a meeting in the host's PMI room is not deleted there (R17)."""
        await meeting_changes.cancel_meeting(unit_of_work, meetings_zoom, CLOCK, principal, meeting_uuid(meeting_id))

    @post(
        "/{meeting_id:str}/recreate",
        operation_id="RecreateMeeting",
        responses=answers({404: ("meeting_not_found",), 409: ("meeting_not_changeable", "not_connected")}),
    )
    async def recreate(
        self,
        state: State,
        meeting_id: FromPath[str],
        principal: NamedDependency[Principal],
        meetings_zoom: NamedDependency[ZoomMeetings],
    ) -> Response[MeetingOut]:
        """R19: a meeting that needs attention (its connection is gone, or it was deleted in Zoom) made again
        through the caller's current Zoom; 201 the new meeting (200 when asked again), the old one cancelled."""
        created = await meetings.recreate_meeting(
            unit_of_work, meetings_zoom, CLOCK, principal, meeting_uuid(meeting_id), lease=state.settings.meeting_lease
        )
        return Response(meeting_out(created.meeting), status_code=201 if created.new else 200)

    @get(
        "/{meeting_id:str}/start",
        operation_id="StartMeeting",
        status_code=302,
        responses=answers({404: ("meeting_not_found",), 409: ("meeting_connection_gone", "needs_reconnect")}),
    )
    async def start(
        self,
        meeting_id: FromPath[str],
        principal: NamedDependency[Principal],
        meetings_zoom: NamedDependency[ZoomMeetings],
    ) -> Redirect:
        """R22: 302 to a start URL fetched from Zoom now, for the host only; never in JSON, never stored."""
        url = await meeting_changes.start_url(unit_of_work, meetings_zoom, CLOCK, principal, meeting_uuid(meeting_id))
        return Redirect(url, status_code=302, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def meeting_uuid(value: str) -> str:
    """Ids this API did not give out are simply not found."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise MeetingNotFound(f"Meeting {value!r} was not found.") from None


def _meeting_cursor(cursor: str) -> tuple[datetime, str]:
    start, meeting_id = decode_time_cursor(cursor)
    try:
        return start, str(uuid.UUID(meeting_id))
    except ValueError:
        raise InvalidCursor("`cursor` is not one this API gave out.", errors={"cursor": "not a cursor this API gave out"}) from None


class OrganizationMeetingsController(Controller):
    path = "/api/v1/orgs/{org_id:str}/meetings"
    guards = [manager_guard]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}
    parameters = {"acting_user": ACTING_USER}
    security = MEMBER_SECURITY
    tags = ["meetings"]

    @get("/left-in-zoom", operation_id="ListMeetingsLeftInZoom", summary="Meetings still in Zoom that Roomlink can no longer cancel")
    async def left_in_zoom(self, org_id: OrgId, principal: NamedDependency[Principal]) -> LeftInZoomOut:
        """Owners and admins: meetings not over whose connection is gone while their host's Zoom is now another
        Zoom user. Each is still in Zoom with a working link: cancel it there (the Zoom user and link say which)."""
        return left_in_zoom_out(await meeting_changes.left_in_zoom(unit_of_work, principal, org_id, CLOCK.now()))
