"""Roomlink's front door (`/`) and the page a browser gets for an address that does not exist.

In the demo the front door says where to start: the people to sign in as, the Zoom sandbox, the outbox,
the events heard and the API document. In production it says what this service is and where its
documents are; people reach their own pages from their product, through a launch link.
"""

from __future__ import annotations

from litestar import Request, get
from litestar.datastructures import State
from litestar.response import Template

from server.ui.layout import render

#: What each seeded demo person shows, in the words of the pages (server/demo.py's states).
_DEMO_STATES = {
    "seat": "Zoom through the organization",
    "personal": "their own Zoom",
    "personal_broken": "their own Zoom, which needs reconnecting",
    "none": "not connected: no user with their email in the organization's Zoom account",
    "removed": "not connected: they stopped using the organization's Zoom",
}


@get("/", name="front_door", include_in_schema=False)
async def front_door(state: State) -> Template:
    if not state.settings.demo:
        return render("front_door.html", "Roomlink", demo=False)
    from server.demo import PEOPLE
    from server.ui.demo_pages import OUTBOX_PATH, SANDBOX_PATH
    from server.ui.demo_receiver import EVENTS_PAGE_PATH

    people = [
        {"user_id": person.user_id, "name": person.name, "role": person.role, "zoom": _DEMO_STATES[person.state]}
        for person in PEOPLE
    ]
    return render(
        "front_door.html",
        "Roomlink demo",
        demo=True,
        people=people,
        sandbox_path=SANDBOX_PATH,
        outbox_path=OUTBOX_PATH if state.get("outbox") is not None else None,
        events_path=EVENTS_PAGE_PATH,
    )


def wants_a_page(request: Request) -> bool:
    """A browser asking for a page, not a program asking the API: HTML is what it prefers, and the address
    is not under the API's prefix."""
    if request.url.path.startswith("/api/"):
        return False
    return request.accept.best_match(["application/json", "text/html"], default="application/json") == "text/html"


def not_found_page() -> Template:
    return render("not_found.html", "Nothing at this address", status_code=404)
