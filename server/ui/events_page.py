"""The events page (R24), for owners and admins: which of the host product's endpoints hear this organization,
and every delivery of its events with what the endpoint answered; a delivery sent again with one form.

Rendered on the server from domain.event_log; the form works without script and carries the session's CSRF
token (server.auth.page_form_guard); after it, a redirect back names its notice (never text from the query).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from litestar import Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from domain import event_log, integration
from domain.access import Principal
from domain.errors import DomainError, RoleRequired
from domain.ports import Delivery, EventEndpoint
from persistence.database import unit_of_work
from server.auth import page_form_guard, provide_principal
from server.problems import Problem, status_of
from server.ui.layout import member_nav, message_page, page_guard, render
from server.ui.zoom_page import problem_page

EVENTS_PAGE_PATH = "/organization/events"
_SHOWN = 50

_DEPENDENCIES = {"principal": Provide(provide_principal, sync_to_thread=False)}

#: The filter chips: (query value, label); None is every delivery.
FILTERS = ((None, "All"), ("failed", "Failed"), ("pending", "Retrying"), ("delivered", "Delivered"))

EVENT_WORDS = {
    "member.connection.changed": "A member's Zoom changed",
    "organization.connection.changed": "The organization's Zoom changed",
    "meeting.created": "Meeting made in Zoom",
    "meeting.updated": "Meeting changed",
    "meeting.cancelled": "Meeting cancelled",
    "session.link_ready": "Session link ready",
    "session.needs_attention": "Session needs attention",
}

DELIVERY_WORDS = {"pending": "Retrying", "delivered": "Delivered", "failed": "Failed"}
#: A delivery waiting for its first try (new, or sent again by hand): not yet retried.
WAITING = "Waiting to be sent"

#: The page's title: the host product, as the owner knows it (the software they opened Roomlink from).
EVENTS_TITLE = "Updates sent to your app"

NOTICES = {
    "redelivered": "The event will be sent again within a few seconds, in its place among the events about the same subject.",
}


@get(
    EVENTS_PAGE_PATH,
    name="organization_events_page",
    include_in_schema=False,
    guards=[page_guard],
    dependencies=_DEPENDENCIES,
    exception_handlers={Problem: problem_page, DomainError: lambda _, error: _refused(error)},
)
async def organization_events_page(
    request: Request,
    principal: NamedDependency[Principal],
    status: Annotated[str | None, QueryParameter(max_length=20)] = None,
    before: Annotated[int | None, QueryParameter()] = None,
    done: Annotated[str | None, QueryParameter(max_length=40)] = None,
) -> Template:
    log = await event_log.organization_event_log(unit_of_work, principal, status or None, before, _SHOWN)
    members = {
        delivery.subject.removeprefix("member:") for delivery in log.deliveries if delivery.subject.startswith("member:")
    }
    names = await integration.member_names(unit_of_work, principal.org_id, members)
    addresses = {endpoint.id: _address(endpoint.url) for endpoint in log.endpoints}
    return render(
        "organization_events.html",
        EVENTS_TITLE,
        nav=member_nav(principal, EVENTS_PAGE_PATH),
        notice=NOTICES.get(done or ""),
        endpoints=[_endpoint(endpoint, principal.org_id) for endpoint in log.endpoints],
        deliveries=[_delivery(delivery, names, addresses) for delivery in log.deliveries],
        filters=[
            {"label": label, "href": _page_href(value), "current": value == (status or None)} for value, label in FILTERS
        ],
        status_label=dict(FILTERS).get(status or None, "All").lower(),
        all_href=EVENTS_PAGE_PATH,
        older=_page_href(status, log.before_id) if log.before_id is not None else None,
        newest=_page_href(status) if before is not None else None,
        csrf_token=request.state.csrf_token,
    )


@post(
    f"{EVENTS_PAGE_PATH}/deliveries/{{delivery_id:int}}/redeliver",
    name="organization_event_redeliver",
    include_in_schema=False,
    status_code=303,
    guards=[page_form_guard],
    dependencies=_DEPENDENCIES,
    exception_handlers={Problem: problem_page, DomainError: lambda _, error: _refused(error)},
)
async def organization_event_redeliver(delivery_id: FromPath[int], principal: NamedDependency[Principal]) -> Redirect:
    await event_log.redeliver_for_organization(unit_of_work, principal, delivery_id)
    return Redirect(f"{EVENTS_PAGE_PATH}?done=redelivered", status_code=303)


def _page_href(status: str | None, before: int | None = None) -> str:
    query = {key: value for key, value in (("status", status), ("before", before)) if value is not None}
    return f"{EVENTS_PAGE_PATH}?{urlencode(query)}" if query else EVENTS_PAGE_PATH


def _address(url: str) -> str:
    """Only the endpoint's scheme and host: its path and query are the host product's (they may hold a secret)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _endpoint(endpoint: EventEndpoint, org_id: str) -> dict[str, object]:
    return {
        "id": endpoint.id,
        "address": _address(endpoint.url),
        "hears": (
            "Updates about your organization only"
            if endpoint.org_id == org_id
            else "Updates about your organization and the others your app serves"
        ),
        "types": ", ".join(EVENT_WORDS.get(each, each) for each in endpoint.event_types) or "Every kind of event",
        "stopped": endpoint.disabled_at is not None,
        "stopped_since": _moment(endpoint.disabled_at),
        "stopped_why": _stopped_why(endpoint.disabled_reason),
    }


def _stopped_why(reason: str | None) -> str:
    if reason and "410" in reason:
        return "Your app asked Roomlink to stop sending here, so nothing is sent until your app turns it on again."
    return "Nothing is sent here until your app turns it on again."


def _answer(delivery: Delivery) -> str:
    """What the app answered, in words: accepted, refused (with its code, for its developers), or unreachable."""
    code = delivery.last_status_code
    if code is not None:
        if 200 <= code < 300:
            return "Received"
        if code == 410:
            return "Asked Roomlink to stop sending here"
        return f"Refused it (error {code})"
    if delivery.last_error:
        return "Could not be reached"
    return "—"


def _about(subject: str, names: dict[str, str]) -> str:
    """Whom an update is about: a member by name, the organization, a meeting or a session."""
    kind, _, key = subject.partition(":")
    if kind == "member":
        return names.get(key, "a former member")
    return {"organization": "Your organization", "meeting": "A meeting", "session": "A session"}.get(kind, subject)


def _delivery(delivery: Delivery, names: dict[str, str], addresses: dict[str, str]) -> dict[str, object]:
    waiting = delivery.status == "pending" and delivery.first_attempt_at is None
    about = _about(delivery.subject, names)
    event = EVENT_WORDS.get(delivery.type, delivery.type)
    return {
        "id": delivery.id,
        "event": event,
        "about": about,
        #: The Send again button's accessible name: its visible words first, then which update.
        "send_again_label": f"Send again: {event}, {about}",
        "address": addresses.get(delivery.endpoint_id, "an address no longer in use"),
        "status": delivery.status,
        "status_label": WAITING if waiting else DELIVERY_WORDS.get(delivery.status, delivery.status),
        "attempts": delivery.attempts,
        "answered": _answer(delivery),
        "when": _moment(delivery.delivered_at or delivery.first_attempt_at) or "in the next few seconds",
        "next_attempt": _moment(delivery.next_attempt_at),
    }


def _moment(moment: datetime | None) -> str | None:
    return f"{moment.astimezone(UTC):%-d %b, %H:%M:%S} UTC" if moment else None


def _refused(error: DomainError) -> Template:
    if isinstance(error, RoleRequired):
        return message_page(
            "Only owners and admins see this page",
            "It shows what Roomlink told your product about the organization, for the people who look after "
            "the organization's Zoom.",
            status_code=403,
            next_step=("Back to Zoom", "/integrations/zoom"),
        )
    return message_page(
        "Roomlink could not do that", error.detail, status_code=status_of(error), next_step=("Back to events", EVENTS_PAGE_PATH)
    )
