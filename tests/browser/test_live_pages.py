"""Open pages follow the truth (one event stream each, fed by the change feed): the owner's page when the Zoom
admin is demoted in the sandbox, and My day when a session's link becomes ready, without a reload; through
Roomlink, its workers and the Zoom sandbox in their own processes, at 1280 and 390 px."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import PHONE, VIEWPORT
from tests.browser.steps import artifact, card, open_signed_in, open_zoom_page
from tests.browser.test_connection_impact import BROKEN, connected, demote  # noqa: F401 (a fixture)
from tests.browser.test_owner_words import name_violations
from tests.browser.test_sessions_pages import book, put_session, tomorrow_at

pytestmark = pytest.mark.usefixtures("workers")

VIEWPORTS = pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["1280px", "390px"])


async def mark_this_load(page) -> None:
    """A mark only this very load of the page holds: a reload would lose it."""
    await page.evaluate("window.loadedOnce = true")


async def still_the_same_load(page) -> bool:
    return await page.evaluate("window.loadedOnce === true")


@VIEWPORTS
async def test_r11_the_owners_open_page_shows_the_demoted_admin_without_a_reload(
    browser: Browser, viewport, pages_server, sandbox, connected  # noqa: F811
):
    org_id, owner = connected["org_id"], connected["owner"]["user_id"]
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()
    await open_zoom_page(page, pages_server, org_id, owner)
    await expect(page.locator("#organization-headline")).to_have_text("Connected")
    seated_row = page.locator("#member-rows tr").filter(has_text="Milo Member")
    await expect(seated_row).to_contain_text("Connected")
    await mark_this_load(page)

    await demote(sandbox, connected["admin"])

    await expect(page.locator("#organization-headline")).to_have_text(BROKEN, timeout=20_000)
    await expect(seated_row).to_contain_text("Not connected — the organization's Zoom admin lost their role")
    await expect(page.locator("#impact-lost")).to_have_text("1 member lost Zoom until it is connected again")
    assert await still_the_same_load(page)
    assert await name_violations(page) == []
    await page.screenshot(path=artifact(f"live-owner-page-{viewport['width']}.png"), full_page=True)

    member_page = await context.new_page()
    await open_zoom_page(member_page, pages_server, org_id, connected["member"]["user_id"])
    await expect(member_page.locator("#my-zoom-headline")).to_have_text("Not connected")
    await context.close()


@VIEWPORTS
async def test_r16_my_day_shows_a_sessions_link_becoming_ready_without_a_reload(
    browser: Browser, viewport, pages_server, connected  # noqa: F811
):
    org_id, host = connected["org_id"], connected["member"]["user_id"]
    start = tomorrow_at(9)
    await put_session(pages_server, org_id, "yoga", host, "Evening yoga", start, capacity=8)
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()
    await open_signed_in(page, pages_server, org_id, host, f"/sessions?day={start.date().isoformat()}&timezone=UTC")
    yoga = card(page, "Evening yoga")
    await expect(yoga.locator(".status")).to_have_text("No bookings yet")
    await mark_this_load(page)

    await book(pages_server, org_id, "yoga", "b1", "Ada Lovelace")

    await expect(yoga.locator(".status")).to_have_text("Ready", timeout=20_000)
    await expect(yoga.locator(".join-link a")).to_be_visible()
    await expect(yoga.get_by_role("button", name="Copy join link of Evening yoga")).to_be_visible()
    assert await still_the_same_load(page)
    await page.screenshot(path=artifact(f"live-my-day-{viewport['width']}.png"), full_page=True)
    await context.close()
