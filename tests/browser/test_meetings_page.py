"""My meetings, through Roomlink and the Zoom sandbox in their own processes (R17, R19, R22), at 1280 and 390 px."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from domain.pmi import PMI_SETTING
from tests.browser.conftest import PHONE, VIEWPORT
from tests.browser.steps import artifact, card, heading, open_signed_in
from tests.browser.test_accessibility import violations
from tests.browser.test_phone_width import horizontal_overflow, within_the_width
from tests.support.zoom import as_member

MEETINGS = "/api/v1/me/meetings"


def in_days(days: int, hour: int) -> str:
    moment = (datetime.now(UTC) + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def create_meeting(base_url: str, user_id: str, **body) -> dict:
    fields = {"topic": "Weekly 1:1", "start_time": in_days(2, 14), "duration_minutes": 30, **body}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as api:
        response = await api.post(MEETINGS, json=fields, headers=as_member(user_id))
    assert response.status_code == 201, response.text
    return response.json()


async def held(sandbox, zoom_user_id: str) -> list[dict]:
    return (await sandbox.client.get(f"/sandbox/users/{zoom_user_id}/meetings")).json()


@pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["1280px", "390px"])
async def test_r17_r22_my_meetings_say_when_through_which_zoom_with_status_start_link_and_the_pmi_fix(
    browser: Browser, viewport, pages_server, sandbox, seated
):
    member = seated["member"]["user_id"]
    review = await create_meeting(
        pages_server, member, topic="Quarterly review", start_time=in_days(1, 9), timezone="Europe/Paris"
    )
    await sandbox.client.patch(
        f"/sandbox/users/{seated['seat']['id']}", json={"use_pmi_for_scheduled_meetings": True, "pmi_setting_locked": True}
    )
    in_room = await create_meeting(pages_server, member, topic="Drop-in hour", start_time=in_days(3, 16))
    assert in_room["in_personal_room"] is True
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()

    await open_signed_in(page, pages_server, seated["org_id"], member, "/meetings")

    await expect(heading(page)).to_have_text("My meetings")
    await expect(page.get_by_role("link", name="My meetings")).to_have_attribute("aria-current", "page")
    review_card = card(page, "Quarterly review")
    local = datetime.fromisoformat(review["start_time"]).astimezone(ZoneInfo("Europe/Paris"))
    await expect(review_card.locator(".when")).to_have_text(
        f"{local:%A} {local.day} {local:%B %Y, %H:%M}–{local + timedelta(minutes=30):%H:%M} (Europe/Paris)"
    )
    await expect(review_card).to_contain_text(f"Your organization's Zoom, as {seated['seat']['email']}")
    await expect(review_card.locator(".status")).to_have_text("Scheduled")
    await expect(review_card.get_by_role("link", name="Start")).to_have_attribute(
        "href", f"/api/v1/me/meetings/{review['id']}/start"
    )
    warning = page.locator("#pmi-warning")
    await expect(warning).to_contain_text(PMI_SETTING)
    await expect(warning).to_contain_text("Your Zoom admin has locked this setting on: ask them to unlock it.")
    await expect(warning).to_contain_text("Drop-in hour")
    await expect(page.locator("body")).not_to_contain_text("in_personal_room")
    if viewport is PHONE:
        assert await horizontal_overflow(page) == 0
        assert await within_the_width(page, review_card.locator(".status"))
    assert await violations(page) == []
    await page.screenshot(path=artifact(f"my-meetings-{viewport['width']}.png"), full_page=True)

    started = await page.request.get(f"{pages_server}/api/v1/me/meetings/{review['id']}/start", max_redirects=0)
    assert started.status == 302 and "zak=" in started.headers["location"]
    await context.close()


async def test_r19_a_meeting_deleted_in_zoom_is_recreated_through_my_current_zoom_from_the_page(
    page: Page, pages_server, sandbox, seated
):
    member = seated["member"]["user_id"]
    meeting = await create_meeting(pages_server, member, topic="Case conference")
    assert (await sandbox.client.delete(f"/sandbox/meetings/{meeting['zoom_meeting_id']}")).status_code == 204
    async with httpx.AsyncClient(base_url=pages_server, timeout=30) as api:
        fresh = (await api.get(f"{MEETINGS}/{meeting['id']}", headers=as_member(member))).json()
    assert fresh["status"] == "needs_attention"

    await open_signed_in(page, pages_server, seated["org_id"], member, "/meetings")
    attention = page.locator("#needs-attention")
    await expect(card(attention, "Case conference").locator(".status")).to_have_text("Needs attention")
    await expect(attention).to_contain_text("The meeting was deleted in Zoom")
    await page.get_by_role("button", name="Recreate through my current Zoom").click()

    await expect(page.get_by_role("status")).to_have_text(
        "The meeting was made again through your current Zoom; its new join link is below."
    )
    await expect(page.locator("#needs-attention")).to_have_count(0)
    remade = card(page.locator("#upcoming"), "Case conference")
    await expect(remade.locator(".status")).to_have_text("Scheduled")
    [in_zoom] = await held(sandbox, seated["seat"]["id"])
    assert in_zoom["id"] != meeting["zoom_meeting_id"]
    await expect(remade.locator(f"a[href*='/j/{in_zoom['id']}']")).to_be_visible()


async def test_cancel_asks_first_and_then_cancels_the_meeting_in_zoom(page: Page, pages_server, sandbox, seated):
    member = seated["member"]["user_id"]
    await create_meeting(pages_server, member, topic="Intake call")
    await open_signed_in(page, pages_server, seated["org_id"], member, "/meetings")

    await card(page, "Intake call").get_by_role("link", name="Cancel meeting…").click()
    await expect(heading(page)).to_have_text("Cancel this meeting?")
    await expect(page.locator("main")).to_contain_text("Intake call")
    await expect(page.locator("main")).to_contain_text(
        f"made through your organization's Zoom, as {seated['seat']['email']}. Its join link then stops working"
    )
    assert "((" not in await page.locator("main").inner_text()
    await page.get_by_role("link", name="No, keep it").click()
    await expect(card(page, "Intake call")).to_be_visible()
    assert len(await held(sandbox, seated["seat"]["id"])) == 1

    await card(page, "Intake call").get_by_role("link", name="Cancel meeting…").click()
    await page.get_by_role("button", name="Yes, cancel the meeting").click()

    await expect(page.get_by_role("status")).to_have_text("The meeting was cancelled in Zoom.")
    await expect(card(page, "Intake call")).to_have_count(0)
    await expect(page.locator("#upcoming")).to_contain_text("No upcoming meetings")
    assert await held(sandbox, seated["seat"]["id"]) == []


async def test_a_page_form_without_the_sessions_csrf_token_changes_nothing(page: Page, pages_server, sandbox, seated):
    member = seated["member"]["user_id"]
    meeting = await create_meeting(pages_server, member, topic="Kept")
    await open_signed_in(page, pages_server, seated["org_id"], member, "/meetings")

    refused = await page.request.post(
        f"{pages_server}/meetings/{meeting['id']}/cancel", form={"csrf_token": "not-the-token"}, max_redirects=0
    )

    assert refused.status == 403
    assert "reload the page" in await refused.text()
    assert len(await held(sandbox, seated["seat"]["id"])) == 1
    async with httpx.AsyncClient(base_url=pages_server, timeout=30) as api:
        listed = (await api.get(MEETINGS, headers=as_member(member))).json()["items"]
    assert [item["status"] for item in listed] == ["scheduled"]
