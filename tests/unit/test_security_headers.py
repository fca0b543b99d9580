"""Every Roomlink answer carries the security headers; the Zoom sandbox mounted beside it (demo mode) keeps its
own pages' inline styles, so its answers carry none of Roomlink's policy."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.testing import TestClient

from server.security_headers import security_headers_hook
from server.zoom_sandbox import create_sandbox_app, mount_sandbox
from server.zoom_sandbox.pages import document


@get("/roomlink-page", sync_to_thread=False)
def roomlink_page() -> str:
    return "a page"


def test_roomlink_answers_carry_the_policy_and_the_mounted_sandbox_answers_do_not():
    app = Litestar(
        route_handlers=[roomlink_page, mount_sandbox(create_sandbox_app())],
        before_send=[security_headers_hook("http://zoom.test")],
    )
    with TestClient(app) as client:
        ours = client.get("/roomlink-page")
        sandbox_page = client.get("/zoom-sandbox/")

    assert "default-src 'self'" in ours.headers["content-security-policy"]
    assert ours.headers["x-frame-options"] == "DENY"
    assert sandbox_page.status_code == 200 and "<style>" in sandbox_page.text
    assert "content-security-policy" not in sandbox_page.headers


def test_the_sandbox_pages_fit_a_phone_and_escape_their_title():
    page = document("Sign in <as> admin", "<p>body</p>")

    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "<title>Sign in &lt;as&gt; admin</title>" in page


def test_an_https_base_url_asks_browsers_to_keep_to_https_and_an_http_one_does_not():
    def answer(base_url: str):
        app = Litestar(route_handlers=[roomlink_page], before_send=[security_headers_hook(None, base_url)])
        with TestClient(app) as client:
            return client.get("/roomlink-page")

    assert answer("https://roomlink.acme.example").headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert "strict-transport-security" not in answer("http://127.0.0.1:8000").headers


def test_the_app_sends_hsts_when_its_configured_base_url_is_https():
    from server.app import create_app
    from server.config import Settings

    for base_url, expected in (("https://roomlink.acme.example", True), ("http://127.0.0.1:8000", False)):
        # Not entered: no lifespan, so no database or Zoom; /healthz needs neither.
        headers = TestClient(create_app(Settings(base_url=base_url))).get("/healthz").headers
        assert ("strict-transport-security" in headers) is expected, base_url
