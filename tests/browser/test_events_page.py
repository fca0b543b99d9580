"""The events page (R24): an owner sees where the organization's events go and what the endpoint answered,
and sends one again, through Roomlink and its workers in their own processes, at 1280 and 390 px."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import PHONE, VIEWPORT
from tests.browser.steps import artifact, heading, open_signed_in
from tests.browser.test_owner_words import name_violations
from tests.browser.test_phone_width import horizontal_overflow
from tests.support.builders import unique
from tests.support.servers import free_port
from tests.support.zoom import KEY, eventually

pytestmark = pytest.mark.usefixtures("workers")


async def attempts_of(base_url: str, endpoint_id: str) -> list[dict]:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as api:
        response = await api.get(f"/api/v1/event-endpoints/{endpoint_id}/deliveries", headers=KEY)
    assert response.status_code == 200, response.text
    return response.json()["items"]


@pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["1280px", "390px"])
async def test_r24_an_owner_sees_what_the_product_was_told_and_what_it_answered_and_sends_it_again(
    browser: Browser, viewport, pages_server, provisioned_org
):
    org_id, owner = provisioned_org["org_id"], provisioned_org["owner"]["user_id"]
    endpoint_id = unique("crm")
    # Nothing listens on this port: every attempt fails, and the delivery is retried.
    url = f"http://127.0.0.1:{free_port()}/hooks/roomlink?token=never-shown"
    async with httpx.AsyncClient(base_url=pages_server, timeout=30) as api:
        registered = await api.put(f"/api/v1/event-endpoints/{endpoint_id}", json={"url": url, "org_id": org_id}, headers=KEY)
        assert registered.status_code == 201, registered.text
        changed = await api.patch(
            f"/api/v1/orgs/{org_id}/integrations/zoom/policy",
            json={"allow_members_to_remove": True},
            headers={**KEY, "X-Roomlink-User": owner},
        )
        assert changed.status_code == 200, changed.text

    async def tried() -> bool:
        return any(item["attempts"] >= 1 and item["last_error"] for item in await attempts_of(pages_server, endpoint_id))

    try:
        assert await eventually(tried, timeout=30)
        context = await browser.new_context(viewport=viewport)
        page = await context.new_page()
        await open_signed_in(page, pages_server, org_id, owner, "/organization/events")
        await expect(heading(page)).to_have_text("Updates sent to your app")
        await expect(page.locator("main")).not_to_contain_text("your product")
        await expect(page.locator("main")).not_to_contain_text(endpoint_id)  # the app's ids are its developers'
        await expect(page.locator("main")).not_to_contain_text("HTTP ")
        endpoint = page.locator(f"#endpoint-{endpoint_id}")
        await expect(endpoint).to_contain_text("Receiving")
        await expect(endpoint).to_contain_text(url.split("/hooks")[0])
        await expect(endpoint).not_to_contain_text("never-shown")  # the endpoint's path and query stay the product's
        # Another test's endpoint hearing every organization may list the same event: this endpoint's row.
        row = page.locator("#deliveries-table tbody tr").filter(has_text="The organization's Zoom changed").filter(
            has_text=url.split("/hooks")[0]
        )
        await expect(row).to_have_count(1)
        await expect(row).to_contain_text("Retrying")
        await expect(row).to_contain_text("Your organization")
        await expect(row).to_contain_text("Could not be reached")
        await expect(row).to_contain_text(url.split("/hooks")[0])
        assert await name_violations(page) == []
        if viewport is PHONE:
            assert await horizontal_overflow(page) == 0
        await page.screenshot(path=artifact(f"organization-events-{viewport['width']}.png"), full_page=True)

        await page.get_by_role("link", name="Delivered", exact=True).click()
        await expect(page.locator("#deliveries-table")).to_have_count(0)
        await expect(page.get_by_text("No delivered updates.")).to_be_visible()
        await page.get_by_role("link", name="Retrying", exact=True).click()
        await row.get_by_role("button", name="Send again: The organization's Zoom changed, Your organization").click()
        await expect(page.get_by_role("status")).to_contain_text("will be sent again")
        await expect(page.locator("main")).not_to_contain_text("not sent yet")
        await context.close()
    finally:
        async with httpx.AsyncClient(base_url=pages_server, timeout=10) as api:
            await api.delete(f"/api/v1/event-endpoints/{endpoint_id}", headers=KEY)


async def test_r24_a_member_is_told_the_events_page_is_for_owners_and_admins(browser: Browser, pages_server, provisioned_org):
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    await open_signed_in(page, pages_server, provisioned_org["org_id"], provisioned_org["member"]["user_id"], "/organization/events")
    await expect(heading(page)).to_have_text("Only owners and admins see this page")
    assert await page.get_by_role("link", name="Events", exact=True).count() == 0  # not in a member's header either
    await context.close()
