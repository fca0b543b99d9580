"""When the organization's Zoom breaks, its owner's page and the incident email say in one place who lost Zoom,
who keeps their own, the upcoming sessions and meetings affected, and the one action that fixes it; through
Roomlink, its workers and the Zoom sandbox in their own processes, at 1280 and 390 px."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from domain.model import ConnectionType
from tests.browser.conftest import PHONE, VIEWPORT
from tests.browser.steps import artifact, open_zoom_page
from tests.browser.test_meetings_page import create_meeting
from tests.browser.test_owner_words import name_violations
from tests.browser.test_phone_width import horizontal_overflow
from tests.browser.test_sessions_pages import put_session, tomorrow_at
from tests.support.builders import add_connection, connection
from tests.support.zoom import activate, create_activation_link

pytestmark = pytest.mark.usefixtures("workers")

BROKEN = "Needs reconnecting — the Zoom admin lost their role"


@pytest.fixture
async def connected(pages_server, sandbox, provisioned_org) -> dict:
    """The organization's Zoom connected by its Zoom admin; the member holds a seat, the other member their own Zoom."""
    org_id = provisioned_org["org_id"]
    account = await sandbox.account("Acme Clinics Zoom")
    admin = await sandbox.user(account, f"zoe.admin.{org_id}@zoom.example", "admin")
    await sandbox.user(account, provisioned_org["member"]["email"], "member")
    async with httpx.AsyncClient(base_url=pages_server, timeout=30) as api:
        link = await create_activation_link(api, org_id, provisioned_org["owner"]["user_id"])
        assert (await activate(api, link["url"], admin["email"])).status_code == 200
    await add_connection(connection(org_id, ConnectionType.PERSONAL, user_id=provisioned_org["other"]["user_id"]))
    return {**provisioned_org, "admin": admin}


async def demote(sandbox, admin: dict) -> None:
    response = await sandbox.client.patch(f"/sandbox/users/{admin['id']}", json={"role": "member"})
    assert response.status_code == 200, response.text


async def reload_until_broken(page: Page) -> None:
    for _ in range(20):
        await page.reload()
        headline = page.locator("#organization-headline")
        await expect(headline).to_be_visible()
        if await headline.inner_text() == BROKEN:
            return
        await page.wait_for_timeout(500)
    raise AssertionError("the organization's Zoom never showed as broken")


@pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["1280px", "390px"])
async def test_r11_the_owner_sees_who_lost_zoom_what_is_affected_and_the_one_fix(
    browser: Browser, viewport, pages_server, sandbox, connected
):
    org_id, owner, host = connected["org_id"], connected["owner"]["user_id"], connected["member"]["user_id"]
    start = tomorrow_at(9)
    for number, title in enumerate(("Morning physio", "Lunch pilates", "Evening yoga", "Late stretch")):
        await put_session(pages_server, org_id, f"s{number}", host, title, start + timedelta(hours=number))
    await create_meeting(pages_server, host, topic="Intake call")
    context = await browser.new_context(viewport=viewport, timezone_id="UTC")
    page = await context.new_page()
    await open_zoom_page(page, pages_server, org_id, owner)
    await expect(page.locator("#organization-headline")).to_have_text("Connected")
    await expect(page.locator("#organization-impact")).to_be_hidden()

    await demote(sandbox, connected["admin"])
    await reload_until_broken(page)

    impact = page.locator("#organization-impact")
    await expect(impact.get_by_role("heading", name="Who is affected")).to_be_visible()
    await expect(impact.locator("#impact-lost")).to_have_text("1 member lost Zoom until it is connected again")
    await expect(impact.locator("#impact-kept")).to_have_text("1 member with their own Zoom: not affected")
    await expect(impact).to_contain_text("Upcoming sessions affected: 4")
    await expect(impact.locator("#impact-sessions li")).to_have_text(
        [re.compile(r"^Morning physio — .+, Milo Member$"), re.compile("^Lunch pilates"), re.compile("^Evening yoga"),
         "and 1 more"]
    )
    await expect(impact.get_by_role("link", name="See every session needing attention")).to_have_attribute(
        "href", "/organization/sessions"
    )
    await expect(impact).to_contain_text("Upcoming meetings affected: 1")
    await expect(impact.locator("#impact-meetings li")).to_have_text([re.compile(r"^Intake call — .+, Milo Member$")])
    if viewport is PHONE:
        assert await horizontal_overflow(page) == 0
    assert await name_violations(page) == []
    await page.screenshot(path=artifact(f"organization-impact-{viewport['width']}.png"), full_page=True)

    await impact.get_by_role("button", name="Create an activation link to fix it").click()
    await expect(page.get_by_label("Zoom administrator's email")).to_be_focused()
    await context.close()


async def test_r11_the_incident_email_says_who_lost_zoom_and_which_sessions_and_meetings(
    pages_server, sandbox, outbox, connected
):
    org_id, host = connected["org_id"], connected["member"]["user_id"]
    await put_session(pages_server, org_id, "physio", host, "Morning physio", tomorrow_at(9))
    await create_meeting(pages_server, host, topic="Intake call")

    await demote(sandbox, connected["admin"])

    owner_email = connected["owner"]["email"]
    message = await outbox.wait_for(lambda each: each.to == owner_email and "needs attention" in each.subject, timeout=20)
    assert "1 member lost Zoom; 1 member with their own Zoom is not affected." in message.text
    assert re.search(r"1 upcoming session affected, the soonest:\n- Morning physio, .+ \(UTC\), hosted by Milo Member", message.text)
    assert f"All sessions needing attention: {pages_server}/organization/sessions" in message.text or "/organization/sessions" in message.text
    assert re.search(r"1 upcoming meeting affected, the soonest:\n- Intake call, .+, hosted by Milo Member", message.text)
    assert "Connect Zoom for my organization" in message.text
