"""Integrations → Zoom: the page frame (templates/zoom.html). What it shows comes from the JSON API,
fetched by zoom.js, so the page and the API never disagree."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from litestar import Request, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from litestar.response import Template

from domain.access import Principal
from server.auth import provide_principal
from server.problems import Problem
from server.ui.layout import member_nav, message_page, page_guard, render
from server.ui.words import POLICY_HINT, page_words

ZOOM_PAGE_PATH = "/integrations/zoom"
#: The members table's filters, kept in the page's address (zoom.js) and by the Name header's link.
MEMBER_FILTERS = ("type", "connected", "q")


def problem_page(_: Request, problem: Problem) -> Template:
    """A person, not a program, opened this page: answer in HTML, never problem+json."""
    if problem.status == 401:
        return message_page(
            "Open Roomlink from your product",
            "This page belongs to the product you use (its Integrations settings). Open it from there "
            "and you will be signed in here for a few hours.",
            status_code=401,
        )
    return message_page("Roomlink cannot show this page", problem.detail, status_code=problem.status)


@get(
    ZOOM_PAGE_PATH,
    name="zoom_page",
    include_in_schema=False,
    guards=[page_guard],
    dependencies={"principal": Provide(provide_principal, sync_to_thread=False)},
    exception_handlers={Problem: problem_page},
)
async def zoom_page(
    request: Request,
    principal: NamedDependency[Principal],
    sort: Annotated[str | None, QueryParameter(description="The members table's order")] = None,
) -> Template:
    """`sort=-name`: the members table Z to A (anything else, A to Z, as the API's default)."""
    manages = principal.role.manages_organization
    return render(
        "zoom.html",
        "Zoom",
        nav=member_nav(principal, ZOOM_PAGE_PATH),
        manages=manages,
        org_id=principal.org_id,
        words=page_words(manages=manages),
        policy_hint=POLICY_HINT[False],
        name_sort=name_sort(request, descending=sort == "-name"),
        main_attributes={
            "data-org-id": principal.org_id,
            "data-manager": "true" if manages else "false",
            "data-follow": "script",
        },
    )


def name_sort(request: Request, *, descending: bool) -> dict[str, str]:
    """The Name header: its aria-sort, and its link to the other order with the same filters and search
    (and the first page), so that it works without script too; zoom.js keeps both up to date."""
    kept = [(name, request.query_params[name]) for name in MEMBER_FILTERS if request.query_params.get(name)]
    query = urlencode(kept if descending else [*kept, ("sort", "-name")])
    return {
        "aria_sort": "descending" if descending else "ascending",
        "value": "-name" if descending else "",
        "href": f"{ZOOM_PAGE_PATH}?{query}" if query else ZOOM_PAGE_PATH,
    }
