"""Headers every Roomlink answer carries: no framing, no sniffing, no referrer leaking capability URLs,
nothing cached that shows a secret."""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

#: Zoom's stand-in has its own pages (demo mode) and is not Roomlink's to police.
SANDBOX_MOUNT = "/zoom-sandbox"
#: Revalidated static assets keep their own Cache-Control.
STATIC_PREFIX = "/ui/static/"
#: The API documentation (Redoc, served by Roomlink itself) writes its styles at run time and searches in a
#: worker: that page alone also allows inline styles and blob: workers. Its scripts are Roomlink's files.
DOCS_PAGE = "/schema"
DOCS_ALLOWANCES = ["style-src 'self' 'unsafe-inline'", "worker-src 'self' blob:"]
#: Served over https:// (the configured base URL says so): browsers keep to https for a year, subdomains too.
HSTS = "max-age=31536000; includeSubDomains"


def content_security_policy(zoom_oauth_base_url: str | None) -> str:
    """Scripts, styles and fetches from Roomlink only; forms may lead to Zoom's sign-in (the activation page
    posts to Roomlink, which redirects to Zoom, and browsers hold the redirect to `form-action`)."""
    form_targets = ["'self'"]
    if zoom_oauth_base_url:
        parts = urlsplit(zoom_oauth_base_url)
        form_targets.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join(
        [
            "default-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            f"form-action {' '.join(form_targets)}",
            "frame-ancestors 'none'",
        ]
    )


def security_headers_hook(zoom_oauth_base_url: str | None, base_url: str = ""):
    """`base_url`: Roomlink's public address (Settings.base_url); https:// adds Strict-Transport-Security."""
    policy = content_security_policy(zoom_oauth_base_url)
    over_https = base_url.lower().startswith("https://")
    docs_policy = "; ".join([policy, *DOCS_ALLOWANCES])

    async def add_headers(message: Message, scope: Scope) -> None:
        # A mount strips its prefix from scope["path"] before this hook sees it; raw_path is the request's own.
        requested = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        if message["type"] != "http.response.start" or requested.startswith(SANDBOX_MOUNT):
            return
        headers = MutableScopeHeaders.from_message(message)
        on_docs = scope["path"] in (DOCS_PAGE, f"{DOCS_PAGE}/redoc")
        headers["Content-Security-Policy"] = docs_policy if on_docs else policy
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        # Activation, launch and OAuth URLs are capabilities: no page may pass its address on.
        headers["Referrer-Policy"] = "no-referrer"
        if over_https:
            headers["Strict-Transport-Security"] = HSTS
        if not scope["path"].startswith(STATIC_PREFIX) and "cache-control" not in headers:
            headers["Cache-Control"] = "no-store"

    return add_headers
