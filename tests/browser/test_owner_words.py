"""What owners and members read, in their words: a disconnection said as one (when, by whom), people by
name, the time zone named, long links short with a copy button, at 1280 and 390 px (axe with the rule
that accessible names contain the visible words on)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import PHONE, VIEWPORT
from tests.browser.steps import artifact, card, heading, open_signed_in, open_zoom_page
from tests.browser.test_accessibility import AXE, BLOCKING
from tests.browser.test_phone_width import horizontal_overflow
from tests.browser.test_sessions_pages import becomes, book, put_session, tomorrow_at
from tests.support.zoom import as_member, create_activation_link

VIEWPORTS = pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["1280px", "390px"])


async def name_violations(page: Page) -> list[str]:
    """axe's serious and critical violations, with its (opt-in) rule that an accessible name holds the visible words."""
    await page.evaluate(AXE)
    results = await page.evaluate(
        "axe.run(document, {resultTypes: ['violations'], rules: {'label-content-name-mismatch': {enabled: true}}})"
    )
    return [
        f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']][:3]}"
        for violation in results["violations"]
        if violation["impact"] in BLOCKING or violation["id"] == "label-content-name-mismatch"
    ]


@VIEWPORTS
async def test_after_a_disconnect_the_owner_every_row_and_the_member_read_disconnected_with_when_and_by_whom(
    browser: Browser, viewport, pages_server, seated
):
    org_id, owner = seated["org_id"], seated["owner"]["user_id"]
    async with httpx.AsyncClient(base_url=pages_server, timeout=30) as api:
        response = await api.delete(f"/api/v1/orgs/{org_id}/integrations/zoom", headers=as_member(owner))
        assert response.status_code == 200, response.text
        await create_activation_link(api, org_id, owner)
    context = await browser.new_context(viewport=viewport, timezone_id="Europe/Paris")
    page = await context.new_page()

    await open_zoom_page(page, pages_server, org_id, owner)

    organization = page.locator("#organization-state")
    await expect(page.locator("#organization-headline")).to_have_text("Disconnected")
    await expect(organization).to_contain_text(re.compile(r"Disconnected on .+ by Olga Owner\."))
    rows = page.locator("#member-rows tr")
    await expect(rows).to_have_count(3)
    for row in await rows.all():
        await expect(row).to_contain_text("Not connected — the organization's Zoom was disconnected on")
    main = page.locator("main")
    await expect(main).not_to_contain_text("has not connected Zoom")
    impact = page.locator("#organization-impact")
    await expect(impact.locator("#impact-lost")).to_have_text("1 member lost Zoom until it is connected again")
    await expect(impact).to_contain_text("No upcoming session or meeting is affected.")
    pending = page.locator("#pending-link-list li")
    await expect(pending).to_contain_text("Not emailed: for you to open, or to send to your Zoom administrator")
    await expect(pending).to_contain_text(re.compile(r"Created .+ by Olga Owner · expires"))
    await expect(pending).not_to_contain_text(owner)
    await expect(pending).to_contain_text(re.compile(r"(CET|CEST|GMT\+[12])"))  # the zone the time is in, named
    assert await name_violations(page) == []
    if viewport is PHONE:
        assert await horizontal_overflow(page) == 0
    await page.screenshot(path=artifact(f"owner-disconnected-{viewport['width']}.png"), full_page=True)

    member_page = await context.new_page()
    await open_zoom_page(member_page, pages_server, org_id, seated["other"]["user_id"])
    await expect(member_page.locator("#my-zoom-state")).to_contain_text(
        re.compile(r"Your organization's Zoom was disconnected on .+ by Olga Owner\. Ask an owner or admin")
    )
    await member_page.screenshot(path=artifact(f"member-disconnected-{viewport['width']}.png"), full_page=True)
    await context.close()


@pytest.mark.usefixtures("workers")
@VIEWPORTS
async def test_my_day_is_in_the_browsers_time_zone_says_so_and_shows_the_join_link_short_with_a_copy_button(
    browser: Browser, viewport, pages_server, seated
):
    org_id, host = seated["org_id"], seated["member"]["user_id"]
    start = tomorrow_at(9)
    await put_session(pages_server, org_id, "yoga", host, "Evening yoga", start, capacity=8)
    await book(pages_server, org_id, "yoga", "b1", "Ada Lovelace")
    assert await becomes(pages_server, org_id, "yoga", "ready")
    context = await browser.new_context(viewport=viewport, timezone_id="Asia/Tokyo")
    page = await context.new_page()

    await open_signed_in(page, pages_server, org_id, host, f"/sessions?day={start.date().isoformat()}")

    await expect(page).to_have_url(re.compile(r"timezone=Asia%2FTokyo"))
    await expect(page.locator("#day-zone")).to_contain_text("times in Asia/Tokyo, your browser's time zone")
    yoga = card(page, "Evening yoga")
    await expect(yoga.locator(".when")).to_contain_text("18:00–18:45 (Asia/Tokyo)")
    link = yoga.locator(".join-link a")
    await expect(link).to_have_text(re.compile(r"^[^/?]+/j/\d+$"))  # no scheme, no passcode in the words
    await expect(link).to_have_attribute("href", re.compile(r"^https?://.+/j/\d+"))
    copy = yoga.get_by_role("button", name="Copy join link of Evening yoga")
    await expect(copy).to_be_visible()
    await expect(copy).to_have_text("Copy join link")
    box = await link.bounding_box()
    assert box is not None and box["height"] < 50  # one line, or two at most, never five
    if viewport is PHONE:
        assert await horizontal_overflow(page) == 0
    assert await name_violations(page) == []
    await page.screenshot(path=artifact(f"my-day-browser-zone-{viewport['width']}.png"), full_page=True)

    await page.get_by_role("link", name="Next day →").click()
    await expect(page.locator("#day-zone")).to_contain_text("Asia/Tokyo, your browser's time zone")
    await expect(heading(page)).to_have_text("My day")
    await context.close()
