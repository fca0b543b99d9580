"""The owner's and admin's side of Integrations → Zoom: the organization connection and the members table (R1, R9, R10, R12)."""

from __future__ import annotations

import json

import pytest
from playwright.async_api import Dialog, Page, Route, expect

from domain.model import ConnectionType, Role
from tests.browser.steps import ZOOM_ADMIN_EMAIL, give_organization_seats, members_may_remove, open_zoom_page
from tests.support.builders import add_connection, connection, create_organization, member, unique

SCREENSHOT = "/tmp/roomlink-owner.png"
COLUMNS = ["Name", "Email", "Role", "Status", "Type"]
PAGE_SIZE = 25


@pytest.fixture
async def big_org(db) -> dict:
    """An owner with a seat and 30 members: 00–09 personal, 10–19 with a seat, 20–29 with no Zoom."""
    org_id = unique("org")
    owner = member(f"{org_id}-owner", Role.OWNER, name="Olga Owner")
    people = [member(f"{org_id}-m{n:02}", name=f"Member {n:02}", email=f"m{n:02}.{org_id}@acme.test") for n in range(30)]
    await create_organization(org_id, [owner, *people], name="Acme Clinics")
    await give_organization_seats(org_id, owner.email, *(person.email for person in people[10:20]))
    for person in people[:10]:
        await add_connection(connection(org_id, ConnectionType.PERSONAL, user_id=person.user_id))
    return {"org_id": org_id, "owner": owner, "people": people}


def rows(page: Page):
    return page.locator("#member-rows tr")


def cells(page: Page, name: str):
    return rows(page).filter(has=page.get_by_role("cell", name=name, exact=True)).locator("td")


def column(page: Page, name: str):
    """The cells of one column; expecting their texts waits for the table to show the latest answer."""
    return page.locator(f"#member-rows td:nth-child({COLUMNS.index(name) + 1})")


async def test_r9_owner_sees_the_connection_counts_and_the_type_column(page: Page, pages_server, big_org):
    await open_zoom_page(page, pages_server, big_org["org_id"], big_org["owner"].user_id)

    await expect(page.locator("#organization-headline")).to_have_text("Connected")
    await expect(page.locator("#organization")).to_contain_text(ZOOM_ADMIN_EMAIL)
    await expect(page.locator("#counts li")).to_have_text(
        ["11 through the organization", "10 personal", "10 not connected"]
    )
    await expect(page.locator("#members th")).to_have_text(COLUMNS)
    await expect(rows(page)).to_have_count(PAGE_SIZE)
    people = big_org["people"]
    await expect(cells(page, "Member 00")).to_have_text(["Member 00", people[0].email, "Member", "Connected", "Personal"])
    await expect(cells(page, "Member 10")).to_have_text(
        ["Member 10", people[10].email, "Member", "Connected", "Organization"]
    )
    no_seat = "Not connected — no Zoom user with this email in the organization's Zoom account"
    await expect(cells(page, "Member 20")).to_have_text(["Member 20", people[20].email, "Member", no_seat, "—"])
    await page.screenshot(path=SCREENSHOT, full_page=True)


async def test_r9_members_table_filters_by_type_and_status(page: Page, pages_server, big_org):
    await open_zoom_page(page, pages_server, big_org["org_id"], big_org["owner"].user_id)

    await page.get_by_label("Type").select_option("personal")
    await expect(column(page, "Type")).to_have_text(["Personal"] * 10)

    await page.get_by_label("Type").select_option("")
    await page.get_by_label("Status").select_option("false")
    await expect(column(page, "Name")).to_have_text([f"Member {n}" for n in range(20, 30)])

    await page.get_by_label("Type").select_option("organization")
    await expect(rows(page)).to_have_text(["No members match these filters."])


async def test_r9_members_table_searches_by_name_or_email(page: Page, pages_server, big_org):
    await open_zoom_page(page, pages_server, big_org["org_id"], big_org["owner"].user_id)

    await page.get_by_label("Search").fill("member 07")
    await expect(column(page, "Name")).to_have_text(["Member 07"])

    await page.get_by_label("Search").fill(f"m15.{big_org['org_id']}")
    await expect(column(page, "Name")).to_have_text(["Member 15"])


async def test_r9_members_table_pages_forward_and_back(page: Page, pages_server, big_org):
    await open_zoom_page(page, pages_server, big_org["org_id"], big_org["owner"].user_id)
    previous, following = page.get_by_role("button", name="Previous page"), page.get_by_role("button", name="Next page")
    await expect(rows(page)).to_have_count(PAGE_SIZE)
    await expect(previous).to_be_disabled()

    await following.click()
    await expect(page.locator("#page-number")).to_have_text("Page 2")
    await expect(column(page, "Name")).to_have_text(["Member 25", "Member 26", "Member 27", "Member 28", "Member 29", "Olga Owner"])
    await expect(following).to_be_disabled()

    await previous.click()
    await expect(page.locator("#page-number")).to_have_text("Page 1")
    await expect(column(page, "Name")).to_have_text([f"Member {n:02}" for n in range(PAGE_SIZE)])
    await expect(previous).to_be_disabled()


async def test_r10_policy_toggle_changes_and_persists_after_reload(page: Page, pages_server, org):
    await open_zoom_page(page, pages_server, org["org_id"], org["owner"].user_id)
    toggle = page.get_by_label("Members may remove the organization connection for themselves")
    await expect(page.locator("#organization-headline")).to_have_text("Not connected")
    await expect(toggle).not_to_be_checked()

    await toggle.check()
    await expect(page.get_by_role("status")).to_have_text(
        "Saved: members may remove the organization connection for themselves."
    )
    await page.reload()

    await expect(page.locator("#organization-headline")).to_have_text("Not connected")
    await expect(toggle).to_be_checked()
    assert await members_may_remove(pages_server, org["org_id"], org["owner"].user_id) is True


async def test_r1_activation_link_form_sends_the_admin_email_and_shows_the_link(page: Page, pages_server, org):
    """POST activation-links is answered here as API.md specifies: the page is checked against the contract."""
    await open_zoom_page(page, pages_server, org["org_id"], org["owner"].user_id)
    sent: list[dict] = []

    async def answer(route: Route) -> None:
        sent.append({"headers": route.request.headers, "body": route.request.post_data_json})
        link = {"id": "l1", "url": "http://roomlink.test/activate/abc", "expires_at": "2030-01-08T09:00:00Z",
                "emailed_to": "zoe@acme.test"}
        await route.fulfill(status=201, content_type="application/json", body=json.dumps(link))

    await page.route("**/integrations/zoom/activation-links", answer)
    await page.get_by_role("button", name="Connect Zoom for my organization").click()
    await page.get_by_label("Zoom administrator's email").fill("zoe@acme.test")
    await page.get_by_role("button", name="Create activation link").click()

    await expect(page.get_by_label("Activation link")).to_have_value("http://roomlink.test/activate/abc")
    await expect(page.locator("#activation-details")).to_contain_text("Emailed to zoe@acme.test.")
    assert sent[0]["body"] == {"zoom_admin_email": "zoe@acme.test"}
    assert sent[0]["headers"]["x-csrf-token"] == await csrf_cookie(page)


async def test_r12_disconnecting_asks_first_and_tells_how_many_members_were_affected(page: Page, pages_server, org):
    """DELETE of the organization connection is answered here as API.md specifies."""
    await give_organization_seats(org["org_id"], org["member"].email)
    await open_zoom_page(page, pages_server, org["org_id"], org["owner"].user_id)
    questions: list[str] = []

    async def accept(dialog: Dialog) -> None:
        questions.append(dialog.message)
        await dialog.accept()

    async def answer(route: Route) -> None:
        if route.request.method != "DELETE":
            await route.fallback()
            return
        await route.fulfill(status=200, content_type="application/json", body=json.dumps({"affected_members": 1}))

    page.on("dialog", accept)
    await page.route(f"**/api/v1/orgs/{org['org_id']}/integrations/zoom", answer)
    await page.get_by_role("button", name="Disconnect organization").click()

    await expect(page.get_by_role("status")).to_have_text("Organization disconnected. 1 member was relying on it.")
    assert "Personal connections are not affected" in questions[0]


async def csrf_cookie(page: Page) -> str:
    cookies = await page.context.cookies()
    return next(cookie["value"] for cookie in cookies if cookie["name"] == "roomlink_csrf")
