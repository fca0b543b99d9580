"""Signing in to the pages, and CSRF protection of every change made from them."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.steps import members_may_remove, open_zoom_page

PATCH_POLICY = """async ({path, withHeader}) => {
    const token = document.cookie.split("; ").find((c) => c.startsWith("roomlink_csrf=")).split("=")[1];
    const headers = {"Content-Type": "application/json"};
    if (withHeader) headers["X-CSRF-Token"] = decodeURIComponent(token);
    const response = await fetch(path, {
        method: "PATCH", credentials: "same-origin", headers,
        body: JSON.stringify({allow_members_to_remove: true}),
    });
    return {status: response.status, body: await response.json()};
}"""


async def test_without_a_session_the_page_says_to_open_roomlink_from_the_product(page: Page, pages_server):
    response = await page.goto(f"{pages_server}/integrations/zoom")

    assert response is not None and response.status == 401
    assert response.headers["content-type"].startswith("text/html")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Open Roomlink from your product")


async def patch_policy_from_the_page(page: Page, org, *, with_header: bool) -> dict:
    path = f"/api/v1/orgs/{org['org_id']}/integrations/zoom/policy"
    return await page.evaluate(PATCH_POLICY, {"path": path, "withHeader": with_header})


async def test_csrf_a_change_without_the_header_is_refused(page: Page, pages_server, org):
    await open_zoom_page(page, pages_server, org["org_id"], org["owner"].user_id)

    refused = await patch_policy_from_the_page(page, org, with_header=False)

    assert (refused["status"], refused["body"]["code"]) == (403, "csrf_failed")
    assert await members_may_remove(pages_server, org["org_id"], org["owner"].user_id) is False


async def test_csrf_the_same_change_with_the_header_is_accepted(page: Page, pages_server, org):
    await open_zoom_page(page, pages_server, org["org_id"], org["owner"].user_id)

    accepted = await patch_policy_from_the_page(page, org, with_header=True)

    assert accepted["status"] == 200
    assert await members_may_remove(pages_server, org["org_id"], org["owner"].user_id) is True
