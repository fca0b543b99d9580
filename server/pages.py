"""Server-rendered pages."""

from __future__ import annotations

from html import escape

from litestar import MediaType, Response

_LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Roomlink</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2330}}
h1{{font-size:1.5rem}} table{{border-collapse:collapse;width:100%}} th,td{{text-align:left;padding:.4rem;border-bottom:1px solid #ddd}}
.ok{{color:#11703a}} .bad{{color:#a4262c}} .muted{{color:#667}} button,.button{{padding:.45rem .9rem;border-radius:6px;border:1px solid #2d5be3;background:#2d5be3;color:#fff;cursor:pointer;text-decoration:none}}
</style></head><body>{body}</body></html>"""


def page(title: str, body_html: str, status_code: int = 200) -> Response[str]:
    return Response(
        _LAYOUT.format(title=escape(title), body=body_html), status_code=status_code, media_type=MediaType.HTML
    )


def message_page(title: str, message: str, status_code: int = 200) -> Response[str]:
    return page(title, f"<h1>{escape(title)}</h1><p>{escape(message)}</p>", status_code)
