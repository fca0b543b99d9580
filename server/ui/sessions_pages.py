"""Remote sessions on pages (R16, R21, R22): the host's day, and the sessions owners and admins must look at.

Rendered on the server from domain.sessions; the host's start link is Roomlink's own (R22), which fetches
a start URL from Zoom at the click.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from litestar import Request, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from litestar.response import Template

from domain import integration, sessions
from domain.access import Principal
from domain.attention import Fix, HostFix, fixes_for_hosts
from domain.meeting_input import check_timezone
from domain.meeting_model import MeetingStatus
from domain.model import Reason
from domain.session_model import SessionFacts, SessionStatus, live_meeting
from persistence.database import unit_of_work
from server.auth import provide_principal
from server.clock import utcnow
from server.problems import Problem
from server.ui.layout import member_nav, message_page, page_guard, render
from server.ui.meetings_page import NOTICES
from server.ui.words import (
    REASON_ADVICE,
    REASON_SHORT,
    SESSION_FIX,
    SESSION_STATUS,
    readable_day,
    readable_span,
    session_reason,
)
from server.ui.zoom_page import ZOOM_PAGE_PATH, problem_page

DAY_PAGE_PATH = "/sessions"
ATTENTION_PAGE_PATH = "/organization/sessions"
_SHOWN = 100

_DEPENDENCIES = {"principal": Provide(provide_principal, sync_to_thread=False)}

#: Which time zone My day's times are in, and where it came from.
DAY_ZONE_WORDS = {
    "browser": "times in {zone}, your browser's time zone",
    "chosen": "times in {zone}, the time zone you chose",
    "unknown": "times in {zone}: choose your own time zone below",
}


@get(
    DAY_PAGE_PATH,
    name="sessions_day_page",
    include_in_schema=False,
    guards=[page_guard],
    dependencies=_DEPENDENCIES,
    exception_handlers={Problem: problem_page},
)
async def sessions_day_page(
    request: Request,
    principal: NamedDependency[Principal],
    day: Annotated[date | None, QueryParameter()] = None,
    timezone: Annotated[str | None, QueryParameter(max_length=64)] = None,
    zone: Annotated[str | None, QueryParameter(max_length=16)] = None,
    done: Annotated[str | None, QueryParameter(max_length=40)] = None,
) -> Template:
    """The sessions the member hosts on a day (today when none is asked), in the time zone they choose; with
    none chosen, pages.js asks again with the browser's (`zone=browser` says so), and without script, UTC."""
    errors: dict[str, str] = {}
    zone_problem = None
    if timezone is None:
        zone_source = "unknown"
        timezone = "UTC"
    else:
        zone_source = "browser" if zone == "browser" else "chosen"
        check_timezone(timezone, errors)
    if errors:
        zone_problem = f"Roomlink does not know the time zone “{timezone}”; the day is shown in UTC. Use a name such as Europe/Paris."
        timezone, zone_source = "UTC", "unknown"
    on = day or utcnow().astimezone(ZoneInfo(timezone)).date()
    hosted = await sessions.hosted_on(unit_of_work, principal, on, timezone)
    my_reason = None
    if any(each.facts.session.host_problem for each in hosted):
        my_reason = (await fixes_for_hosts(unit_of_work, principal.org_id, {principal.user_id}))[principal.user_id].reason
    return render(
        "sessions_day.html",
        "My day",
        nav=member_nav(principal, DAY_PAGE_PATH),
        notice=NOTICES.get(done or ""),
        zone_problem=zone_problem,
        day=on.isoformat(),
        day_label=readable_day(on),
        timezone=timezone,
        zone_words=DAY_ZONE_WORDS[zone_source].format(zone=timezone),
        kept_zone={"timezone": timezone, **({"zone": "browser"} if zone_source == "browser" else {})},
        previous_day=(on - timedelta(days=1)).isoformat(),
        next_day=(on + timedelta(days=1)).isoformat(),
        sessions=[_hosted(each, timezone, my_reason) for each in hosted],
        csrf_token=request.state.csrf_token,
    )


@get(
    ATTENTION_PAGE_PATH,
    name="organization_sessions_page",
    include_in_schema=False,
    guards=[page_guard],
    dependencies=_DEPENDENCIES,
    exception_handlers={Problem: problem_page},
)
async def organization_sessions_page(principal: NamedDependency[Principal]) -> Template:
    """Owners and admins: the sessions needing attention, each with why and what to do about it (R21)."""
    if not principal.role.manages_organization:
        return message_page(
            "Only owners and admins see this page",
            "It lists the organization's sessions that need attention, for the people who fix the organization's "
            "Zoom. Your own sessions are on your day of sessions.",
            status_code=403,
            next_step=("My day", DAY_PAGE_PATH),
        )
    items, next_after = await sessions.list_sessions(
        unit_of_work,
        principal.org_id,
        status=SessionStatus.NEEDS_ATTENTION,
        start_from=None,
        start_to=None,
        after=None,
        limit=_SHOWN,
    )
    hosts = {facts.session.host_user_id for facts in items}
    fixes = await fixes_for_hosts(unit_of_work, principal.org_id, hosts)
    names = await integration.member_names(unit_of_work, principal.org_id, hosts)
    return render(
        "organization_sessions.html",
        "Sessions needing attention",
        nav=member_nav(principal, ATTENTION_PAGE_PATH),
        sessions=[_needing_attention(facts, fixes, names) for facts in items],
        more=next_after is not None,
        zoom_page=ZOOM_PAGE_PATH,
    )


def _hosted(hosted: sessions.HostedSession, timezone: str, my_reason: Reason | None) -> dict[str, object]:
    """`my_reason`: why the host has no Zoom now, if they have none."""
    facts = hosted.facts
    session, meeting = facts.session, live_meeting(facts.meeting)
    recreatable = (
        meeting is not None
        and meeting.status is MeetingStatus.NEEDS_ATTENTION
        and meeting.user_id == session.host_user_id
        and session.host_problem is None
    )
    reason = REASON_ADVICE[my_reason] if session.host_problem and my_reason else session_reason(session.status_reason)
    return {
        **_session_words(facts, timezone),
        "reason": reason,
        "host_without_zoom": session.host_problem is not None,
        "participants": [{"name": booking.name, "email": booking.email} for booking in hosted.participants],
        "start_path": f"/api/v1/me/meetings/{hosted.start_meeting_id}/start" if hosted.start_meeting_id else None,
        "join_url": meeting.join_url if meeting is not None and meeting.status is MeetingStatus.SCHEDULED else None,
        "recreate_meeting_id": meeting.id if recreatable and meeting is not None else None,
    }


def _needing_attention(facts: SessionFacts, fixes: dict[str, HostFix], names: dict[str, str]) -> dict[str, object]:
    session = facts.session
    host = names.get(session.host_user_id, session.host_user_id)
    host_fix = fixes[session.host_user_id]
    if host_fix.reason is not None:
        reason = f"{host} has no Zoom: {REASON_SHORT[host_fix.reason]}."
    else:
        reason = session_reason(session.status_reason)
    return {
        **_session_words(facts, session.timezone),
        "reason": reason,
        "host": host,
        "fix": SESSION_FIX[host_fix.fix].format(host=host),
        "fix_on_zoom_page": host_fix.fix is Fix.CONNECT_ORGANIZATION,
    }


def _session_words(facts: SessionFacts, timezone: str) -> dict[str, object]:
    session = facts.session
    return {
        "id": session.id,
        "title": session.title,
        "when": readable_span(session.start_time, session.duration_minutes, timezone),
        "status": session.status.value,
        "status_label": SESSION_STATUS[session.status],
        "reason": session.status_reason,
        "bookings": facts.bookings,
        "capacity": session.capacity,
        "remote": session.remote,
    }
