"""The owner's and admin's side of Integrations → Zoom: the organization connection and the members table (R1, R9, R10, R12)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Dialog, Page, expect

from domain.model import ConnectionType, Role
from tests.browser.steps import (
    ZOOM_ADMIN_EMAIL,
    artifact,
    csrf_cookie,
    give_organization_seats,
    members_may_remove,
    open_zoom_page,
)
from tests.support.builders import (
    add_connection,
    connection,
    create_organization,
    member,
    unique,
)
from tests.support.zoom import activate, create_activation_link, email

SCREENSHOT = artifact("owner-1280.png")
COLUMNS = ["Name", "Email", "Role", "Status", "Type", "Zoom user"]
PAGE_SIZE = 25


@pytest.fixture
async def big_org(db) -> dict:
    """An owner with a seat and 30 members: 00–09 personal, 10–19 with a seat, 20–29 with no Zoom.

    Their emails carry the organization's random id as one word that starts with letters ("org1f07…"): a
    short search word ("07") matches the start of any word, so the id's random hex as a word of its own,
    starting "07" one run in 256, made a search for "member 07" match every member.
    """
    org_id = unique("org")
    tag = org_id.replace("-", "")
    owner = member(f"{org_id}-owner", Role.OWNER, name="Olga Owner")
    people = [member(f"{org_id}-m{n:02}", name=f"Member {n:02}", email=f"m{n:02}.{tag}@acme.test") for n in range(30)]
    await create_organization(org_id, [owner, *people], name="Acme Clinics")
    await give_organization_seats(org_id, owner.email, *(person.email for person in people[10:20]))
    for person in people[:10]:
        await add_connection(connection(org_id, ConnectionType.PERSONAL, user_id=person.user_id))
    return {"org_id": org_id, "tag": tag, "owner": owner, "people": people}


def rows(page: Page):
    return page.locator("#member-rows tr")


def cells(page: Page, name: str):
    """Name to Type of the member's row (the Zoom user column is checked on its own)."""
    return rows(page).filter(has=page.get_by_role("cell", name=name, exact=True)).locator("td:nth-child(-n+5)")


def column(page: Page, name: str):
    """The cells of one column; expecting their texts waits for the table to show the latest answer."""
    return page.locator(f"#member-rows td:nth-child({COLUMNS.index(name) + 1})")


async def test_r9_owner_sees_the_connection_counts_and_the_type_column(page: Page, pages_server, big_org):
    await open_zoom_page(page, pages_server, big_org["org_id"], big_org["owner"].user_id)

    await expect(page.locator("#organization-headline")).to_have_text("Connected")
    await expect(page.locator("#organization")).to_contain_text(ZOOM_ADMIN_EMAIL)
    await expect(page.locator("#counts li")).to_have_text(
        ["31 members", "11 through the organization", "10 personal", "10 not connected"]
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
    zoom_user = rows(page).filter(has=page.get_by_role("cell", name="Member 10", exact=True)).locator("td:nth-child(6)")
    await expect(zoom_user).to_have_text(people[10].email.lower())  # R5: the seat is the Zoom user with their email
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


async def test_r9_each_count_is_the_filter_that_lists_its_members(page: Page, pages_server, big_org):
    await open_zoom_page(page, pages_server, big_org["org_id"], big_org["owner"].user_id)

    await page.get_by_role("link", name="10 personal").click()
    await expect(column(page, "Type")).to_have_text(["Personal"] * 10)
    await expect(page.get_by_role("link", name="10 personal")).to_have_attribute("aria-current", "true")
    assert "type=personal" in page.url and "connected=true" in page.url
    async with page.expect_download() as download:  # the export lists what the filters list
        await page.get_by_role("link", name="Download these members as CSV").click()
    exported = Path(await (await download.value).path()).read_text()
    assert len(exported.splitlines()) == 1 + 10 and ",personal," in exported

    await page.get_by_role("link", name="10 not connected").click()
    await expect(column(page, "Type")).to_have_text(["—"] * 10)
    await expect(page.get_by_label("Status")).to_have_value("false")

    await page.reload()  # the filters are in the address
    await expect(column(page, "Type")).to_have_text(["—"] * 10)
    await page.get_by_label("Status").select_option("")
    await page.get_by_label("Type").select_option(label="— (not connected)")
    await expect(column(page, "Type")).to_have_text(["—"] * 10)


async def test_r9_members_table_searches_by_name_or_email(page: Page, pages_server, big_org):
    await open_zoom_page(page, pages_server, big_org["org_id"], big_org["owner"].user_id)

    await page.get_by_label("Search").fill("member 07")
    await expect(column(page, "Name")).to_have_text(["Member 07"])

    await page.get_by_label("Search").fill(f"m15.{big_org['tag']}")
    await expect(column(page, "Name")).to_have_text(["Member 15"])


async def test_r9_members_table_pages_forward_and_back(page: Page, pages_server, big_org):
    await open_zoom_page(page, pages_server, big_org["org_id"], big_org["owner"].user_id)
    previous, following = page.get_by_role("button", name="Previous page"), page.get_by_role("button", name="Next page")
    await expect(rows(page)).to_have_count(PAGE_SIZE)
    await expect(previous).to_be_disabled()

    await following.click()
    await expect(page.locator("#page-number")).to_have_text("26–31 of 31")
    await expect(page.locator("#members-table")).to_be_focused()  # the new rows start at the table's top
    await expect(column(page, "Name")).to_have_text(["Member 25", "Member 26", "Member 27", "Member 28", "Member 29", "Olga Owner"])
    await expect(following).to_be_disabled()

    await previous.click()
    await expect(page.locator("#page-number")).to_have_text("1–25 of 31")
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
    await expect(page.locator("#policy-hint")).to_have_text(re.compile("^On: "))
    await page.reload()

    await expect(page.locator("#organization-headline")).to_have_text("Not connected")
    await expect(toggle).to_be_checked()
    await expect(page.locator("#policy-hint")).to_have_text(re.compile("^On: "))
    assert await members_may_remove(pages_server, org["org_id"], org["owner"].user_id) is True


async def test_r1_activation_link_form_sends_the_admin_email_and_shows_the_link(page: Page, pages_server, outbox, org):
    await open_zoom_page(page, pages_server, org["org_id"], org["owner"].user_id)
    zoom_admin_email = f"zoe.{org['org_id']}@acme.test"

    await page.get_by_role("button", name="Connect Zoom for my organization").click()
    await page.get_by_label("Zoom administrator's email").fill(zoom_admin_email)
    async with page.expect_request("**/integrations/zoom/activation-links") as sent:
        await page.get_by_role("button", name="Create activation link").click()

    link = page.get_by_label("Activation link")
    await expect(link).to_have_value(re.compile(rf"^{re.escape(pages_server)}/activate/[A-Za-z0-9_-]{{43,}}$"))
    await expect(page.locator("#activation-details")).to_contain_text(f"Emailed to {zoom_admin_email}.")
    await expect(page.get_by_role("button", name="Create activation link")).to_be_hidden()
    request = await sent.value
    assert request.method == "POST" and request.post_data_json == {"zoom_admin_email": zoom_admin_email}
    assert request.headers["x-csrf-token"] == await csrf_cookie(page)
    url = await link.input_value()
    await outbox.wait_for(lambda message: message.to == zoom_admin_email and url in message.text, timeout=5)


async def test_a_refused_email_is_said_beside_its_field_and_the_next_action_clears_it(page: Page, pages_server, org):
    await open_zoom_page(page, pages_server, org["org_id"], org["owner"].user_id)
    field = page.get_by_label("Zoom administrator's email")
    await page.get_by_role("button", name="Connect Zoom for my organization").click()
    await field.fill("zoe@acme")  # the browser's check lets it pass; Roomlink's does not

    await page.get_by_role("button", name="Create activation link").click()

    await expect(page.get_by_role("alert")).to_have_text("Nothing was changed: see the field marked below.")
    await expect(page.locator("#zoom-admin-email-error")).to_have_text(
        "The Zoom administrator's email must be an email address."
    )
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("main")).not_to_contain_text("zoom_admin_email")

    await field.fill("")
    await page.get_by_role("button", name="Create activation link").click()

    await expect(page.get_by_role("status")).to_have_text("Activation link created.")
    await expect(page.locator("#problem")).to_be_empty()
    await expect(page.locator("#zoom-admin-email-error")).to_be_empty()
    await expect(field).not_to_have_attribute("aria-invalid", "true")


async def test_r3_pending_activation_links_outlive_a_reload_and_can_be_revoked(page: Page, pages_server, org):
    async with httpx.AsyncClient(base_url=pages_server, timeout=10) as api:
        await create_activation_link(api, org["org_id"], org["owner"].user_id)
    await open_zoom_page(page, pages_server, org["org_id"], org["owner"].user_id)
    pending = page.locator("#pending-link-list li")
    await expect(pending).to_have_count(1)
    await expect(pending).to_contain_text("Not emailed: for you to open, or to send to your Zoom administratorCreated")
    await expect(pending).to_contain_text(f"by {org['owner'].name} · expires")
    await expect(pending.get_by_role("button", name=re.compile("^Resend"))).to_have_count(0)

    await pending.get_by_role("button", name=re.compile("^Revoke")).click()

    await expect(page.get_by_role("status")).to_have_text("Activation link revoked: it no longer works.")
    await expect(page.locator("#pending-links")).to_be_hidden()


async def test_r12_disconnecting_asks_first_and_tells_how_many_members_were_affected(
    page: Page, pages_server, sandbox, org
):
    """The organization connected for real (scripted Zoom sign-in); the owner disconnects it on the page."""
    account = await sandbox.account("Acme Clinics Zoom")
    zoom_admin = await sandbox.user(account, email("zoom.admin"), "admin")
    await sandbox.user(account, org["member"].email, "member")
    async with httpx.AsyncClient(base_url=pages_server, timeout=10) as api:
        link = await create_activation_link(api, org["org_id"], org["owner"].user_id)
        assert (await activate(api, link["url"], zoom_admin["email"])).status_code == 200
    await open_zoom_page(page, pages_server, org["org_id"], org["owner"].user_id)
    await expect(page.locator("#organization-headline")).to_have_text("Connected")
    await expect(cells(page, "Milo Member")).to_have_text(
        ["Milo Member", org["member"].email, "Member", "Connected", "Organization"]
    )
    questions: list[str] = []

    async def accept(dialog: Dialog) -> None:
        questions.append(dialog.message)
        await dialog.accept()

    page.on("dialog", accept)
    await page.get_by_role("button", name="Disconnect organization").click()

    await expect(page.get_by_role("status")).to_have_text("Organization disconnected. 1 member was relying on it.")
    assert "Personal connections are not affected" in questions[0]
    await expect(page.locator("#organization-headline")).to_have_text("Disconnected")
    await expect(page.locator("#organization")).not_to_contain_text(zoom_admin["email"])
    await expect(page.get_by_role("button", name="Connect Zoom for my organization")).to_be_visible()
    await expect(cells(page, "Milo Member")).to_have_text(
        ["Milo Member", org["member"].email, "Member",
         re.compile(r"^Not connected — the organization's Zoom was disconnected on .+"), "—"]
    )
    assert await revoked_grants_of_account(sandbox, account)  # R14: the tokens were revoked at Zoom


async def test_disconnect_organization_is_offered_only_while_connected(page: Page, pages_server, org):
    await open_zoom_page(page, pages_server, org["org_id"], org["owner"].user_id)
    # The headline and the button's `hidden` are set in the same step of zoom.js: no waiting needed.
    await expect(page.locator("#organization-headline")).to_have_text("Not connected")

    assert not await page.get_by_role("button", name="Disconnect organization").is_visible()


async def revoked_grants_of_account(sandbox, account_id: str) -> set[str]:
    """The sandbox's grants for this Zoom account that Roomlink revoked (a grant id is its token family)."""
    calls = await sandbox.calls()
    granted = {call["token_family"] for call in calls if call["path"] == "/oauth/token" and call["account_id"] == account_id}
    return {call["token_family"] for call in calls if call["path"] == "/oauth/revoke" and call["status"] == 200} & granted
