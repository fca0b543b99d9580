"""The frame every Roomlink page shares: head, header, main, the stylesheet and scripts."""

from __future__ import annotations

from html import escape
from pathlib import Path

from litestar import MediaType, Response
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router

STATIC_PATH = "/ui/static"
STATIC_DIRECTORY = Path(__file__).parent / "static"

# Revalidated on every load, so a page never runs yesterday's script against today's API.
static_files = create_static_files_router(
    path=STATIC_PATH,
    directories=[STATIC_DIRECTORY],
    name="ui_static",
    include_in_schema=False,
    cache_control=CacheControlHeader(no_cache=True),
)

_LAYOUT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Roomlink</title>
<link rel="stylesheet" href="{static}/roomlink.css">
{head}
</head>
<body>
<header class="site"><div class="bar"><span class="brand">Roomlink</span></div></header>
<main{main_attributes}>
{body}
</main>
</body>
</html>"""


def page(
    title: str,
    body_html: str,
    *,
    status_code: int = 200,
    head_html: str = "",
    main_attributes: dict[str, str] | None = None,
) -> Response[str]:
    attributes = "".join(f' {name}="{escape(value)}"' for name, value in (main_attributes or {}).items())
    html = _LAYOUT.format(
        title=escape(title), static=STATIC_PATH, head=head_html, main_attributes=attributes, body=body_html
    )
    return Response(html, status_code=status_code, media_type=MediaType.HTML)


def message_page(
    title: str, message: str, *, status_code: int = 200, next_step: tuple[str, str] | None = None
) -> Response[str]:
    """`next_step`: (label, href) of the one thing to do next, so no page is a dead end."""
    action = f'<p><a class="button" href="{escape(next_step[1])}">{escape(next_step[0])}</a></p>' if next_step else ""
    return page(
        title,
        f'<h1>{escape(title)}</h1><p class="lead">{escape(message)}</p>{action}',
        status_code=status_code,
    )


def script_tag(name: str) -> str:
    return f'<script src="{STATIC_PATH}/{escape(name)}" defer></script>'
