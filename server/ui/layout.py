"""What every Roomlink page shares: the Jinja2 templates (server/ui/templates/, base.html the frame),
the static files, and the answers that are only a message."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar.connection import ASGIConnection
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from domain.access import Principal
from server.auth import member_guard
from server.problems import Problem

STATIC_PATH = "/ui/static"
STATIC_DIRECTORY = Path(__file__).parent / "static"
TEMPLATES_DIRECTORY = Path(__file__).parent / "templates"



async def no_control_characters_in_path(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """No file of ours has a NUL or another control character in its name (the file system refuses a NUL)."""
    if any(ord(character) < 0x20 or 0x7F <= ord(character) <= 0x9F for character in connection.scope["path"]):
        raise NotFoundException()


# Revalidated on every load, so a page never runs yesterday's script against today's API.
static_files = create_static_files_router(
    path=STATIC_PATH,
    directories=[STATIC_DIRECTORY],
    name="ui_static",
    include_in_schema=False,
    cache_control=CacheControlHeader(no_cache=True),
    guards=[no_control_characters_in_path],
)


async def page_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Pages act for the person signed in in this browser (the session cookie), never for an API key: a key
    acting as a member has no session, so no CSRF token for the page's forms. Then member_guard's caller."""
    scheme, _, credentials = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        raise Problem(
            401,
            "browser_session_required",
            "Pages act for the person signed in in this browser, never for an API key: open Roomlink from your product.",
        )
    await member_guard(connection, handler)


def short_link(url: str) -> str:
    """A link as a person reads it: host and path, without the scheme or the query (a passcode, a token)."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}".rstrip("/") or url


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIRECTORY),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["static"] = STATIC_PATH
    environment.filters["short_link"] = short_link
    return environment


#: For create_app: the pages render through Litestar's template engine.
TEMPLATE_CONFIG = TemplateConfig(instance=JinjaTemplateEngine.from_environment(_environment()))


def render(template: str, title: str, *, status_code: int = 200, **context: Any) -> Template:
    """One page: its template under server/ui/templates/ and what it shows."""
    return Template(
        template_name=template,
        context={"title": title, "main_attributes": None, "nav": None, **context},
        status_code=status_code,
    )


def message_page(
    title: str, message: str, *, status_code: int = 200, next_step: tuple[str, str] | None = None
) -> Template:
    """`next_step`: (label, href) of the one thing to do next, so no page is a dead end."""
    step = {"label": next_step[0], "href": next_step[1]} if next_step else None
    return render("message.html", title, status_code=status_code, message=message, next_step=step)


#: The signed-in person's pages, in the header of each: (path, label, for owners and admins only).
MEMBER_PAGES = (
    ("/integrations/zoom", "Zoom", False),
    ("/meetings", "My meetings", False),
    ("/sessions", "My day", False),
    ("/organization/sessions", "Sessions needing attention", True),
    ("/organization/events", "Events", True),
)


def member_nav(principal: Principal, current: str) -> list[dict[str, object]]:
    """The header's links for this person; `current` is the path of the page they are on."""
    manages = principal.role.manages_organization
    return [
        {"href": path, "label": label, "current": path == current}
        for path, label, managers_only in MEMBER_PAGES
        if manages or not managers_only
    ]
