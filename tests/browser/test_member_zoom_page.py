"""A member's own Zoom on the Integrations → Zoom page (R7, R8, R10)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from playwright.async_api import Page, expect

from domain.model import ConnectionStatus, ConnectionType
from tests.browser.steps import (
    allow_members_to_remove,
    csrf_cookie,
    give_organization_seats,
    open_zoom_page,
)
from tests.support.builders import add_connection, connection


async def test_r7_member_with_a_seat_is_connected_through_their_organization(page: Page, pages_server, org):
    await give_organization_seats(org["org_id"], org["member"].email)

    await open_zoom_page(page, pages_server, org["org_id"], org["member"].user_id)

    await expect(page.locator("#my-zoom-headline")).to_have_text("Connected — through your organization")
    await expect(page.locator("#my-zoom")).to_contain_text("Acme Clinics")
    await expect(page.locator("#my-zoom")).to_contain_text(org["member"].email)
    await expect(page.get_by_role("button", name="Connect my own Zoom")).to_be_visible()


async def test_r7_not_connected_says_why_and_what_to_do(page: Page, pages_server, org):
    await give_organization_seats(org["org_id"], "somebody-else@acme.test")

    await open_zoom_page(page, pages_server, org["org_id"], org["member"].user_id)

    await expect(page.locator("#my-zoom-headline")).to_have_text("Not connected")
    await expect(page.locator("#my-zoom")).to_contain_text("has no active user with your email address")


async def test_r8_personal_connection_hides_the_organization(page: Page, pages_server, org):
    org_id, user_id = org["org_id"], org["member"].user_id
    await give_organization_seats(org_id, org["member"].email)
    await allow_members_to_remove(org_id, True)
    await add_connection(connection(org_id, ConnectionType.PERSONAL, user_id=user_id, zoom_email="milo@own.test"))

    await open_zoom_page(page, pages_server, org_id, user_id)

    mine = page.locator("#my-zoom")
    await expect(page.locator("#my-zoom-headline")).to_have_text("Connected — through your own Zoom")
    await expect(mine).to_contain_text("milo@own.test")
    await expect(mine).not_to_contain_text("Acme Clinics")
    await expect(page.get_by_role("button", name="Disconnect my Zoom")).to_be_visible()
    await expect(page.get_by_role("button", name="Stop using the organization's Zoom")).to_have_count(0)


async def test_r7_broken_personal_asks_to_reconnect(page: Page, pages_server, org):
    org_id, user_id = org["org_id"], org["member"].user_id
    await give_organization_seats(org_id, org["member"].email)
    broken = connection(org_id, ConnectionType.PERSONAL, ConnectionStatus.NEEDS_RECONNECT, user_id=user_id)
    await add_connection(broken)

    await open_zoom_page(page, pages_server, org_id, user_id)

    await expect(page.locator("#my-zoom-headline")).to_have_text("Not connected")
    await expect(page.locator("#my-zoom")).to_contain_text("Your own Zoom connection stopped working")
    await expect(page.get_by_role("button", name="Reconnect my own Zoom")).to_be_visible()


async def test_member_does_not_see_the_organization_section(page: Page, pages_server, org):
    await open_zoom_page(page, pages_server, org["org_id"], org["member"].user_id)

    await expect(page.get_by_role("heading", name="Your Zoom")).to_be_visible()
    await expect(page.get_by_role("heading", name="Organization connection")).to_have_count(0)
    await expect(page.get_by_role("table")).to_have_count(0)


async def test_r10_member_stops_and_restores_the_organization_zoom(page: Page, pages_server, org):
    await give_organization_seats(org["org_id"], org["member"].email)
    await allow_members_to_remove(org["org_id"], True)
    await open_zoom_page(page, pages_server, org["org_id"], org["member"].user_id)

    await page.get_by_role("button", name="Stop using the organization's Zoom").click()
    await expect(page.locator("#my-zoom-headline")).to_have_text("Not connected")
    await expect(page.locator("#my-zoom")).to_contain_text("You stopped using your organization's Zoom")

    await page.get_by_role("button", name="Use the organization's Zoom again").click()
    await expect(page.locator("#my-zoom-headline")).to_have_text("Connected — through your organization")
    await expect(page.get_by_role("status")).to_have_text("You use the organization's Zoom again.")


async def test_a_refused_change_shows_the_api_detail(page: Page, pages_server, org):
    await give_organization_seats(org["org_id"], org["member"].email)
    await allow_members_to_remove(org["org_id"], True)
    await open_zoom_page(page, pages_server, org["org_id"], org["member"].user_id)
    await allow_members_to_remove(org["org_id"], False)

    await page.get_by_role("button", name="Stop using the organization's Zoom").click()

    await expect(page.get_by_role("alert")).to_have_text(
        "Your organization does not allow members to remove its Zoom connection."
    )


async def test_connect_my_own_zoom_goes_to_the_authorize_url(page: Page, pages_server, zoom_sandbox, org):
    """The page asks Roomlink for the authorize URL (with its CSRF header) and takes the browser there; Roomlink
    binds the sign-in to this browser on the way to Zoom."""
    await open_zoom_page(page, pages_server, org["org_id"], org["member"].user_id)

    async with page.expect_request("**/api/v1/me/integrations/zoom/personal/authorize") as asked:
        await page.get_by_role("button", name="Connect my own Zoom").click()

    await expect(page).to_have_url(re.compile(rf"^{re.escape(zoom_sandbox)}/oauth/authorize\?"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Authorize test-user-app")
    query = parse_qs(urlsplit(page.url).query)
    assert query["client_id"] == ["test-user-app"]
    assert query["redirect_uri"] == [f"{pages_server}/oauth/zoom/callback"]
    assert query["code_challenge_method"] == ["S256"] and query["state"]
    request = await asked.value
    assert request.method == "POST"
    assert request.headers["x-csrf-token"] == await csrf_cookie(page)
    binding = [c for c in await page.context.cookies() if c["name"] == "roomlink_oauth_browser"]
    assert binding and binding[0]["httpOnly"] and binding[0]["sameSite"] == "Lax"
