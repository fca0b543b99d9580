"""The members table sorts by its Name header, at 1280 and 390 px: the header toggles A to Z /
Z to A, says which with aria-sort, keeps the filters and search, starts again at the first page, and is a
link that works without script."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from domain.model import ConnectionType, Role
from tests.browser.conftest import PHONE, VIEWPORT
from tests.browser.steps import artifact, give_organization_seats, open_zoom_page
from tests.browser.test_accessibility import violations
from tests.support.builders import (
    add_connection,
    connection,
    create_organization,
    member,
    unique,
)


@pytest.fixture
async def sorted_org(db) -> dict:
    """An owner and 30 members: 00–09 personal, 10–19 with a seat, 20–29 with no Zoom (emails carry the
    organization's id as one word starting with letters, as test_organization_zoom_page's do)."""
    org_id = unique("org")
    tag = org_id.replace("-", "")
    owner = member(f"{org_id}-owner", Role.OWNER, name="Olga Owner")
    people = [member(f"{org_id}-m{n:02}", name=f"Member {n:02}", email=f"m{n:02}.{tag}@acme.test") for n in range(30)]
    await create_organization(org_id, [owner, *people], name="Acme Clinics")
    await give_organization_seats(org_id, owner.email, *(person.email for person in people[10:20]))
    for person in people[:10]:
        await add_connection(connection(org_id, ConnectionType.PERSONAL, user_id=person.user_id))
    return {"org_id": org_id, "owner": owner}


def names(page: Page):
    return page.locator("#member-rows td:first-child")


def header(page: Page):
    return page.locator("#members th").first


@pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["1280px", "390px"])
async def test_r9_the_name_header_sorts_either_way_keeping_the_filters(browser: Browser, viewport, pages_server, sorted_org):
    context = await browser.new_context(viewport=viewport, **({"is_mobile": True, "has_touch": True} if viewport is PHONE else {}))
    page = await context.new_page()
    try:
        await open_zoom_page(page, pages_server, sorted_org["org_id"], sorted_org["owner"].user_id)
        sort = page.get_by_role("link", name="Name", exact=True)
        await expect(header(page)).to_have_attribute("aria-sort", "ascending")
        await expect(names(page).first).to_have_text("Member 00")

        # On the second page, A to Z; the header starts Z to A again at the first page.
        await page.get_by_role("button", name="Next page").click()
        await expect(page.locator("#page-number")).to_have_text("26–31 of 31")
        await sort.click()
        await expect(header(page)).to_have_attribute("aria-sort", "descending")
        await expect(page.locator("#page-number")).to_have_text("1–25 of 31")
        await expect(names(page).first).to_have_text("Olga Owner")
        await expect(names(page).nth(1)).to_have_text("Member 29")
        await expect(page).to_have_url(re.compile(r"[?&]sort=-name(&|$)"))

        # A filter and a search keep the order; the header keeps them.
        await page.get_by_label("Type").select_option("personal")
        await page.get_by_label("Search").fill("member")
        await expect(names(page)).to_have_text([f"Member {n:02}" for n in range(9, -1, -1)])
        await expect(page.locator("#export-members")).to_have_attribute("href", re.compile(r"sort=-name"))
        await sort.click()
        await expect(header(page)).to_have_attribute("aria-sort", "ascending")
        await expect(names(page)).to_have_text([f"Member {n:02}" for n in range(10)])
        await expect(page.get_by_label("Type")).to_have_value("personal")
        await expect(page.get_by_label("Search")).to_have_value("member")
        await expect(page).not_to_have_url(re.compile(r"sort="))
        await sort.click()
        await expect(names(page)).to_have_text([f"Member {n:02}" for n in range(9, -1, -1)])
        await expect(sort).to_be_in_viewport()
        assert await violations(page) == []
        await page.screenshot(path=artifact(f"members-sorted-{viewport['width']}.png"), full_page=True)
    finally:
        await context.close()


async def test_r9_the_name_header_is_a_link_to_the_other_order_without_script(browser: Browser, pages_server, sorted_org):
    context = await browser.new_context(viewport=VIEWPORT, java_script_enabled=False)
    page = await context.new_page()
    try:
        await open_zoom_page_without_script(page, pages_server, sorted_org)
        await page.goto(f"{pages_server}/integrations/zoom?type=personal&q=member")
        await expect(header(page)).to_have_attribute("aria-sort", "ascending")
        sort = page.get_by_role("link", name="Name", exact=True)
        await expect(sort).to_have_attribute("href", "/integrations/zoom?type=personal&q=member&sort=-name")
        await sort.click()
        await expect(page).to_have_url(f"{pages_server}/integrations/zoom?type=personal&q=member&sort=-name")
        await expect(header(page)).to_have_attribute("aria-sort", "descending")
        await expect(sort).to_have_attribute("href", "/integrations/zoom?type=personal&q=member")
    finally:
        await context.close()


async def open_zoom_page_without_script(page: Page, base_url: str, org: dict) -> None:
    """The launch link signs in by redirect alone; the page's frame is the server's."""
    import httpx

    from tests.browser.steps import API_KEY_HEADERS

    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.post(
            f"/api/v1/orgs/{org['org_id']}/members/{org['owner'].user_id}/launch", headers=API_KEY_HEADERS
        )
    assert response.status_code == 201, response.text
    await page.goto(response.json()["url"])
    await expect(page.get_by_role("heading", level=1)).to_have_text("Zoom")
