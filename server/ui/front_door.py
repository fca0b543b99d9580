"""Roomlink's front door (`/`) and the page a browser gets for an address that does not exist.

In the demo the front door says where to start: the people to sign in as, the Zoom sandbox, the outbox,
the events heard and the API document. In production it says what this service is and where its
documents are; people reach their own pages from their product, through a launch link.
"""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.response import Template

from server.problems import on_http_error
from server.ui.layout import render


@get("/", name="front_door", include_in_schema=False)
async def front_door(state: State) -> Template:
    # The demo's app says where to start (server/demo_app.py).
    demo = state.get("demo_front_door") if state.settings.demo else None
    if demo is None:
        return render("front_door.html", "Roomlink", demo=False)
    return render("front_door.html", "Roomlink demo", demo=True, **demo)


def wants_a_page(request: Request) -> bool:
    """A browser asking for a page, not a program asking the API: HTML is what it prefers, and the address
    is not under the API's prefix."""
    if request.url.path.startswith("/api/"):
        return False
    return request.accept.best_match(["application/json", "text/html"], default="application/json") == "text/html"


def not_found_page() -> Template:
    return render("not_found.html", "Nothing at this address", status_code=404)


def on_not_found(request: Request, error: NotFoundException) -> Response:
    """A browser gets a page; a program, the API's answer (server/problems.py)."""
    if wants_a_page(request):
        return not_found_page()
    return on_http_error(request, error)
