"""At phone width (390 px) the pages fit: the members table's Status and Type show without scrolling sideways."""

from __future__ import annotations

from playwright.async_api import Page, expect

from domain.model import ConnectionType, Role
from server.demo import PEOPLE, seed, seed_sandbox
from server.zoom_sandbox import create_sandbox_app
from tests.browser.steps import artifact, give_organization_seats, open_zoom_page
from tests.support.builders import add_connection, connection, create_organization, member, unique


async def horizontal_overflow(page: Page) -> int:
    """How many pixels the page is wider than its viewport (0: nothing to scroll sideways)."""
    return await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


async def within_the_width(page: Page, locator) -> bool:
    box = await locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]


async def test_r9_at_390_px_every_row_shows_status_and_type_without_scrolling_sideways(phone: Page, pages_server, db):
    org_id = unique("org")
    owner = member(f"{org_id}-owner", Role.OWNER, name="Olga Owner")
    people = [
        member(f"{org_id}-a", name="Ana Personal-Longname", email=f"ana.with.a.long.address.{org_id}@clinics.example"),
        member(f"{org_id}-b", name="Ben Seated", email=f"ben.{org_id}@acme.test"),
        member(f"{org_id}-c", name="Cy Nobody", email=f"cy.{org_id}@acme.test"),
    ]
    await create_organization(org_id, [owner, *people], name="Northwind Clinics")
    await give_organization_seats(org_id, people[1].email)
    await add_connection(connection(org_id, ConnectionType.PERSONAL, user_id=people[0].user_id))

    await open_zoom_page(phone, pages_server, org_id, owner.user_id)

    rows = phone.locator("#member-rows tr")
    await expect(rows).to_have_count(4)
    for index in range(4):
        for column in (4, 5):  # Status, Type
            cell = rows.nth(index).locator(f"td:nth-child({column})")
            await expect(cell).to_be_visible()
            assert await within_the_width(phone, cell), (index, column)
    await expect(rows.filter(has_text="Cy Nobody").locator("td:nth-child(5)")).to_have_text("—")
    assert await horizontal_overflow(phone) == 0
    await phone.screenshot(path=artifact("owner-390.png"), full_page=True)


async def test_the_demo_sign_in_page_fits_390_px(phone: Page, demo_server, db):
    await seed(seed_sandbox(create_sandbox_app().state.sandbox))

    await phone.goto(f"{demo_server}/demo")

    await expect(phone.get_by_role("button", name="Sign in as")).to_have_count(len(PEOPLE))
    assert await horizontal_overflow(phone) == 0
    assert await within_the_width(phone, phone.get_by_role("button", name="Sign in as").last)
    await phone.screenshot(path=artifact("demo-390.png"), full_page=True)
