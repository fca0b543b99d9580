"""My meetings (R17, R19, R22): a member's upcoming meetings, rendered on the server from domain.meeting_changes
(listed, cancelled) and domain.meetings (recreated).

Every action is a form that works without script: recreate posts at once; cancel first shows a page that
asks to confirm. Each form carries the session's CSRF token as a field (server.auth.page_form_guard), and
answers with a redirect back to the list and a notice named in the query (never text taken from it).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from domain import meeting_changes, meetings
from domain.access import Principal
from domain.errors import DomainError, MeetingNotFound
from domain.meeting_model import Meeting, MeetingStatus
from domain.model import ConnectionType
from persistence.database import unit_of_work
from server.api.meetings import CLOCK, meeting_uuid, provide_meetings_zoom
from server.auth import page_form_guard, provide_principal
from server.problems import Problem, status_of
from server.ui.layout import member_nav, message_page, page_guard, render
from server.ui.words import MEETING_STATUS, readable_span, session_reason
from server.ui.zoom_page import problem_page
from server.zoom_meetings import ZoomMeetings

MEETINGS_PAGE_PATH = "/meetings"
#: A meeting still running is upcoming until it ends: Zoom allows meetings of up to a day.
_LONGEST_MEETING = timedelta(hours=24)
_SHOWN = 100

#: The notice after an action, by the name the redirect carries.
NOTICES = {
    "cancelled": "The meeting was cancelled in Zoom.",
    "cancelled_in_personal_room": (
        "The meeting was cancelled here. It was in your Personal Meeting ID room, which Roomlink leaves as it "
        "is in Zoom."
    ),
    "recreated": "The meeting was made again through your current Zoom; its new join link is below.",
    "recreate_pending": "The meeting is being made again through your current Zoom; its link appears here when Zoom answers.",
}

_PAGE_DEPENDENCIES = {
    "principal": Provide(provide_principal, sync_to_thread=False),
    "meetings_zoom": Provide(provide_meetings_zoom, sync_to_thread=False),
}


@get(
    MEETINGS_PAGE_PATH,
    name="meetings_page",
    include_in_schema=False,
    guards=[page_guard],
    dependencies={"principal": Provide(provide_principal, sync_to_thread=False)},
    exception_handlers={Problem: problem_page},
)
async def meetings_page(
    request: Request,
    principal: NamedDependency[Principal],
    done: Annotated[str | None, QueryParameter(max_length=40)] = None,
) -> Template:
    now = CLOCK.now()
    page = await meeting_changes.list_meetings(
        unit_of_work, principal, start_from=now - _LONGEST_MEETING, start_to=None, after=None, limit=_SHOWN
    )
    upcoming = [
        meeting
        for meeting in page.items
        if meeting.status is not MeetingStatus.CANCELLED
        and meeting.start_time + timedelta(minutes=meeting.duration_minutes) > now
    ]
    return render(
        "meetings.html",
        "My meetings",
        nav=member_nav(principal, MEETINGS_PAGE_PATH),
        notice=NOTICES.get(done or ""),
        meetings=[_shown(meeting) for meeting in upcoming],
        in_personal_room=[_shown(meeting) for meeting in upcoming if meeting.in_personal_room],
        more=page.next_after is not None,
        csrf_token=request.state.csrf_token,
    )


@get(
    f"{MEETINGS_PAGE_PATH}/{{meeting_id:str}}/cancel",
    name="meeting_cancel_page",
    include_in_schema=False,
    guards=[page_guard],
    dependencies={"principal": Provide(provide_principal, sync_to_thread=False)},
    exception_handlers={Problem: problem_page, DomainError: lambda _, error: _refused(error)},
)
async def meeting_cancel_page(
    request: Request, meeting_id: FromPath[str], principal: NamedDependency[Principal]
) -> Template:
    """The confirmation: the meeting named, what cancelling does, and the form that does it. The meeting is
    found by its id, however many the member has."""
    meeting = await _own_meeting(principal, meeting_uuid(meeting_id))
    if (
        meeting is None
        or meeting.status is MeetingStatus.CANCELLED
        or meeting.start_time + timedelta(minutes=meeting.duration_minutes) <= CLOCK.now()
    ):
        return _refused_words("This meeting cannot be cancelled", "It was not found among your upcoming meetings.")
    return render(
        "meeting_cancel.html",
        "Cancel this meeting?",
        nav=member_nav(principal, MEETINGS_PAGE_PATH),
        meeting=_shown(meeting),
        csrf_token=request.state.csrf_token,
    )


@post(
    f"{MEETINGS_PAGE_PATH}/{{meeting_id:str}}/cancel",
    name="meeting_cancel",
    include_in_schema=False,
    status_code=303,
    guards=[page_form_guard],
    dependencies=_PAGE_DEPENDENCIES,
    exception_handlers={Problem: problem_page, DomainError: lambda _, error: _refused(error)},
)
async def meeting_cancel(
    meeting_id: FromPath[str], principal: NamedDependency[Principal], meetings_zoom: NamedDependency[ZoomMeetings]
) -> Redirect:
    cancelled = await meeting_changes.cancel_meeting(unit_of_work, meetings_zoom, CLOCK, principal, meeting_uuid(meeting_id))
    done = "cancelled_in_personal_room" if cancelled.status_reason == meeting_changes.PERSONAL_ROOM_LEFT_ALONE else "cancelled"
    return Redirect(f"{MEETINGS_PAGE_PATH}?done={done}", status_code=303)


@post(
    f"{MEETINGS_PAGE_PATH}/{{meeting_id:str}}/recreate",
    name="meeting_recreate",
    include_in_schema=False,
    status_code=303,
    guards=[page_form_guard],
    dependencies=_PAGE_DEPENDENCIES,
    exception_handlers={Problem: problem_page, DomainError: lambda _, error: _refused(error)},
)
async def meeting_recreate(
    state: State,
    meeting_id: FromPath[str],
    principal: NamedDependency[Principal],
    meetings_zoom: NamedDependency[ZoomMeetings],
    day: Annotated[date | None, QueryParameter()] = None,
    timezone: Annotated[str | None, QueryParameter(max_length=64)] = None,
) -> Redirect:
    """R19's offer, for a meeting of the list, or a session's meeting from the host's `day`."""
    created = await meetings.recreate_meeting(
        unit_of_work, meetings_zoom, CLOCK, principal, meeting_uuid(meeting_id), lease=state.settings.meeting_lease
    )
    done = "recreated" if created.meeting.status is MeetingStatus.SCHEDULED else "recreate_pending"
    if day is not None:
        back = {"day": day.isoformat(), "timezone": timezone or "UTC", "done": done}
        return Redirect(f"/sessions?{urlencode(back)}", status_code=303)
    return Redirect(f"{MEETINGS_PAGE_PATH}?done={done}", status_code=303)


async def _own_meeting(principal: Principal, meeting_id: str) -> Meeting | None:
    try:
        return await meeting_changes.meeting_record(unit_of_work, principal, meeting_id)
    except MeetingNotFound:
        return None


def _shown(meeting: Meeting) -> dict[str, object]:
    """A meeting in the words its host reads."""
    whose = "Your own Zoom" if meeting.connection_type is ConnectionType.PERSONAL else "Your organization's Zoom"
    through = f"{whose}, as {meeting.zoom_user_email}" if meeting.zoom_user_email else whose
    return {
        "id": meeting.id,
        "topic": meeting.topic,
        "when": readable_span(meeting.start_time, meeting.duration_minutes, meeting.timezone),
        "through": through,
        "through_in_sentence": through[0].lower() + through[1:],
        "status": meeting.status.value,
        "status_label": MEETING_STATUS[meeting.status],
        "reason": session_reason(meeting.status_reason) if meeting.session_id else meeting.status_reason,
        "in_personal_room": meeting.in_personal_room,
        "join_url": meeting.join_url,
        "passcode": meeting.passcode,
        "startable": meeting.status is MeetingStatus.SCHEDULED and meeting.zoom_meeting_id is not None,
        "recreatable": meeting.status is MeetingStatus.NEEDS_ATTENTION,
        #: A session's meeting follows its session: it is cancelled with the session, in the host product.
        "session": meeting.session_id is not None,
        "start_path": f"/api/v1/me/meetings/{meeting.id}/start",
    }


def _refused(error: DomainError) -> Template:
    return message_page(
        "Roomlink could not do that",
        error.detail,
        status_code=status_of(error),
        next_step=("Back to my meetings", MEETINGS_PAGE_PATH),
    )


def _refused_words(title: str, detail: str) -> Template:
    return message_page(title, detail, status_code=404, next_step=("Back to my meetings", MEETINGS_PAGE_PATH))
