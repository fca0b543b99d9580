"""/schema shows the API's documentation with no network beyond Roomlink itself."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.async_api import Page, Route, expect


async def test_the_api_docs_render_offline_under_the_pages_security_policy(page: Page, pages_server):
    roomlink = urlsplit(pages_server).netloc
    elsewhere: list[str] = []
    refused: list[str] = []

    async def only_roomlink(route: Route) -> None:
        if urlsplit(route.request.url).netloc == roomlink or route.request.url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_roomlink)
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)

    response = await page.goto(f"{pages_server}/schema")

    assert response is not None and response.status == 200
    await expect(page.get_by_role("heading", name="Create or update a member").first).to_be_visible(timeout=20_000)
    await expect(page.get_by_text("problem+json").first).to_be_visible()
    assert elsewhere == []
    # Redoc's footer asks for the Redocly logo from its CDN; the policy refuses it and Redoc hides it.
    assert [message for message in refused if "redoc.ly/redoc/logo-mini.svg" not in message] == []
