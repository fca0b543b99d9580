"""axe-core on every page at 1280 and 390 px: no serious or critical violation. Focus rings stand out (≥ 3:1).

The meetings and sessions pages are checked here empty, and full (with meetings, sessions, warnings and
forms) where their own tests fill them (test_meetings_page.py, test_sessions_pages.py).

axe's script comes from a PyPI package (axe-playwright-python ships axe-core), never a CDN; it is
evaluated in the page through Playwright, which Roomlink's strict CSP does not govern.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Awaitable, Callable

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from server.demo import seed, seed_sandbox
from server.zoom_sandbox import create_sandbox_app
from tests.browser.conftest import PHONE, VIEWPORT
from tests.browser.steps import artifact, give_organization_seats, open_signed_in, open_zoom_page
from tests.support.zoom import KEY, create_activation_link

AXE = importlib.resources.files("axe_playwright_python").joinpath("axe.min.js").read_text()
BLOCKING = {"serious", "critical"}


async def violations(page: Page) -> list[str]:
    await page.evaluate(AXE)
    results = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']][:3]}"
        for violation in results["violations"]
        if violation["impact"] in BLOCKING
    ]


def contrast(first: tuple[float, ...], second: tuple[float, ...]) -> float:
    def luminance(rgb: tuple[float, ...]) -> float:
        channels = [c / 255 for c in rgb[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


RGB = "(color) => color.match(/[\\d.]+/g).slice(0, 3).map(Number)"


@pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["1280px", "390px"])
async def test_every_page_has_no_serious_or_critical_axe_violation(
    browser: Browser, viewport, pages_server, demo_server, zoom_sandbox, sandbox, org, db
):
    await give_organization_seats(org["org_id"], org["owner"].email)
    async with httpx.AsyncClient(base_url=pages_server, timeout=10) as api:
        link = await create_activation_link(api, org["org_id"], org["owner"].user_id)
        assert (await api.put(f"/api/v1/orgs/{org['org_id']}", json={"name": "Acme Clinics"}, headers=KEY)).status_code == 200
    await seed(seed_sandbox(create_sandbox_app().state.sandbox))
    account = await sandbox.account("Acme Clinics Zoom")
    await sandbox.user(account, f"zoe.admin.{org['org_id']}@acme.test", "admin")
    width = viewport["width"]
    found: dict[str, list[str]] = {}

    async def owner_page(page: Page) -> None:
        await open_zoom_page(page, pages_server, org["org_id"], org["owner"].user_id)
        await expect(page.locator("#member-rows tr")).to_have_count(2)

    async def member_page(page: Page) -> None:
        await open_zoom_page(page, pages_server, org["org_id"], org["member"].user_id)

    def signed_in(user_id: str, path: str) -> Callable[[Page], Awaitable[None]]:
        async def go(page: Page) -> None:
            await open_signed_in(page, pages_server, org["org_id"], user_id, path)

        return go

    async def visit(url: str) -> Callable[[Page], Awaitable[None]]:
        async def go(page: Page) -> None:
            await page.goto(url)

        return go

    pages = {
        "owner-zoom-page": owner_page,
        "member-zoom-page": member_page,
        "empty-meetings-page": signed_in(org["owner"].user_id, "/meetings"),
        "empty-day-page": signed_in(org["owner"].user_id, "/sessions"),
        "empty-organization-sessions": signed_in(org["owner"].user_id, "/organization/sessions"),
        "organization-sessions-refused": signed_in(org["member"].user_id, "/organization/sessions"),
        "empty-organization-events": signed_in(org["owner"].user_id, "/organization/events"),
        "activation-page": await visit(link["url"]),
        "expired-launch-link": await visit(f"{pages_server}/launch/not-a-real-link"),
        "demo-sign-in": await visit(f"{demo_server}/demo"),
        "demo-outbox": await visit(f"{demo_server}/demo/outbox"),
        "demo-events": await visit(f"{demo_server}/demo/events"),
        "zoom-sandbox": await visit(f"{zoom_sandbox}/"),
    }
    for name, open_page in pages.items():
        context = await browser.new_context(viewport=viewport)
        page = await context.new_page()
        await open_page(page)
        found[name] = await violations(page)
        await page.screenshot(path=artifact(f"{name}-{width}.png"), full_page=True)
        await context.close()

    assert {name: problems for name, problems in found.items() if problems} == {}


async def test_focus_rings_stand_out_at_least_3_to_1(page: Page, pages_server, org):
    await open_zoom_page(page, pages_server, org["org_id"], org["owner"].user_id)
    for target in ("#connect-organization", "#filter-q", "#allow-members-to-remove"):
        await page.focus(target)
        await page.keyboard.press("Shift+Tab")
        await page.keyboard.press("Tab")  # a keyboard focus, so :focus-visible applies
        element = page.locator(target)
        await expect(element).to_be_focused()
        ring = await element.evaluate(f"(el) => ({RGB})(getComputedStyle(el).outlineColor)")
        style = await element.evaluate("(el) => getComputedStyle(el).outlineStyle")
        card = await element.evaluate(f"(el) => ({RGB})(getComputedStyle(el.closest('.card')).backgroundColor)")
        assert style != "none", target
        assert contrast(tuple(ring), tuple(card)) >= 3, (target, ring, card)
