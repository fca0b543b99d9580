"""Roomlink's front door and its dead ends: `/` is a page (in the demo, where to start and whom to sign in
as; in production, what this service is); an address that leads nowhere is a page for a browser and
problem+json for a program; every page that ends a journey links onward. axe at 1280 and 390 px."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from server.demo import PEOPLE, seed, seed_sandbox
from server.zoom_sandbox import create_sandbox_app
from tests.browser.conftest import PHONE, VIEWPORT
from tests.browser.steps import artifact
from tests.browser.test_accessibility import violations

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


async def opened(browser: Browser, viewport, url: str) -> tuple[Page, int]:
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()
    response = await page.goto(url)
    return page, response.status


@pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["1280px", "390px"])
async def test_the_front_door_and_the_404_page_are_pages_with_no_serious_axe_violation(
    browser: Browser, viewport, demo_server, pages_server
):
    width = viewport["width"]
    found = {}
    for name, url, status in [
        ("front-door-demo", f"{demo_server}/", 200),
        ("front-door", f"{pages_server}/", 200),
        ("not-found", f"{pages_server}/no/such/page", 404),
    ]:
        page, answered = await opened(browser, viewport, url)
        assert answered == status, name
        assert await page.get_attribute("html", "lang") == "en"
        assert (await page.title()).endswith("· Roomlink")
        await expect(page.locator("h1")).to_have_count(1)
        found[name] = await violations(page)
        await page.screenshot(path=artifact(f"{name}-{width}.png"), full_page=True)
        await page.context.close()
    assert {name: problems for name, problems in found.items() if problems} == {}


async def test_in_the_demo_the_front_door_says_where_to_start_and_signs_people_in(browser: Browser, demo_server, db):
    await seed(seed_sandbox(create_sandbox_app().state.sandbox))
    page, _ = await opened(browser, VIEWPORT, f"{demo_server}/")
    for person in PEOPLE:
        await expect(page.get_by_role("button", name=f"Sign in as {person.name}")).to_be_visible()
    for label, href in [("Sign in as anyone", "/demo"), ("The Zoom sandbox", "/zoom-sandbox/"),
                        ("The outbox", "/demo/outbox"), ("Events heard", "/demo/events"),
                        ("The API document", "/schema")]:
        await expect(page.get_by_role("link", name=label).first).to_have_attribute("href", href)
    await page.get_by_role("button", name="Sign in as Olivia Owner").click()
    await page.wait_for_url("**/integrations/zoom")
    await expect(page.get_by_role("heading", name="Zoom", exact=True)).to_be_visible()
    await page.context.close()


async def test_in_production_the_front_door_says_what_the_service_is_and_where_its_documents_are(
    browser: Browser, pages_server
):
    page, _ = await opened(browser, VIEWPORT, f"{pages_server}/")
    await expect(page.get_by_role("heading", name="Looking for your Zoom settings?")).to_be_visible()
    await expect(page.get_by_role("link", name="The API document")).to_have_attribute("href", "/schema")
    await expect(page.get_by_text("docs/")).to_be_visible()
    # Nothing of the demo: no sign-in as anyone, no sandbox.
    await expect(page.locator("a[href='/demo'], a[href^='/zoom-sandbox'], form")).to_have_count(0)
    await page.context.close()


async def test_a_missing_address_is_a_page_for_a_browser_and_problem_json_for_a_program(pages_server):
    async with httpx.AsyncClient(base_url=pages_server, timeout=10) as client:
        for accept in ("application/json", "*/*", None):
            answer = await client.get("/no/such/page", headers={"Accept": accept} if accept else {})
            assert answer.status_code == 404
            assert answer.headers["content-type"].startswith("application/problem+json"), accept
            assert answer.json()["code"] == "not_found"
        api = await client.get("/api/v1/no/such/call", headers={"Accept": BROWSER_ACCEPT})
        assert api.status_code == 404 and api.headers["content-type"].startswith("application/problem+json")
        page = await client.get("/no/such/page", headers={"Accept": BROWSER_ACCEPT})
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        assert '<html lang="en">' in page.text and 'href="/"' in page.text


@pytest.mark.parametrize(
    "path, title",
    [
        ("/integrations/zoom", "Open Roomlink from your product"),
        ("/launch/not-a-real-link", "This link no longer works"),
        ("/oauth/zoom/callback", "This Zoom sign-in is incomplete"),
        ("/oauth/zoom/callback?state=not-a-real-state&code=x", "This Zoom sign-in"),
        ("/activate/not-a-real-link", "This activation link does not exist"),
    ],
    ids=["signed-out", "used-launch-link", "callback-without-state", "callback-started-elsewhere", "unknown-activation"],
)
async def test_every_dead_end_links_onward(browser: Browser, pages_server, path, title):
    page, status = await opened(browser, VIEWPORT, f"{pages_server}{path}")
    assert status >= 400
    await expect(page.locator("h1")).to_contain_text(title)
    onward = page.locator("main a[href]")
    await expect(onward).not_to_have_count(0)
    href = await onward.first.get_attribute("href")
    await page.goto(f"{pages_server}{href}")
    await expect(page.locator("h1")).to_be_visible()
    assert await page.title() and "Nothing at this address" not in await page.title(), href
    await page.context.close()


async def test_an_owner_who_approves_the_activation_herself_is_led_back_to_the_zoom_page(
    page: Page, pages_server, sandbox, provisioned_org
):
    from tests.browser.steps import connect_organization_in_browser, zoom_user

    account = await sandbox.account(f"{provisioned_org['name']} Zoom")
    zoom_admin = await zoom_user(sandbox, account, "Zoe", "Admin", "admin")
    await connect_organization_in_browser(page, pages_server, provisioned_org, zoom_admin)
    await page.get_by_role("link", name="Open the Zoom page").click()
    await page.wait_for_url("**/integrations/zoom")
    await expect(page.locator("#organization")).to_contain_text(zoom_admin["email"])
