"""The journeys of docs/design.md, clicked through like a person: Roomlink's pages, the Zoom sandbox's pages, real email.

Only provisioning (the host product's API), the sandbox's Zoom users (its control API) and launch links
(how the host product signs people in) are scripted; everything else is a click.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.steps import (
    activate_as,
    approve_in_zoom_as,
    artifact,
    connect_organization_in_browser,
    create_activation_link_on_page,
    heading,
    open_zoom_page,
    zoom_user,
)

ACTIVATION_SCREENSHOT = artifact("activation-page-1280.png")
CONSENT_SCREENSHOT = artifact("zoom-consent-1280.png")
LINK_IN_TEXT = re.compile(r"https?://\S+/activate/[A-Za-z0-9_-]+")


@pytest.fixture
async def zoom_account(sandbox, provisioned_org) -> dict:
    """The organization's Zoom account: an Admin, a plain Member, and seats for the owner and Milo (not Nina)."""
    org = provisioned_org
    account = await sandbox.account(f"{org['name']} Zoom")
    return {
        "id": account,
        "admin": await zoom_user(sandbox, account, "Zoe", "Admin", "admin"),
        "member": await zoom_user(sandbox, account, "Zack", "Member", "member"),
        "owner_seat": await zoom_user(sandbox, account, "Olga", "Owner", "member", email=org["owner"]["email"]),
        "member_seat": await zoom_user(sandbox, account, "Milo", "Member", "member", email=org["member"]["email"]),
    }


def member_row(page: Page, name: str):
    """Name to Type of the member's row."""
    return page.locator("#member-rows tr").filter(has=page.get_by_role("cell", name=name, exact=True)).locator("td:nth-child(-n+5)")


# ---- 1. Organization owner


async def test_journey_owner_gets_an_activation_link_emailed_to_their_zoom_admin(
    page: Page, pages_server, outbox, provisioned_org
):
    org, zoom_admin_email = provisioned_org, f"it.{provisioned_org['org_id']}@acme.test"
    await open_zoom_page(page, pages_server, org["org_id"], org["owner"]["user_id"])
    await expect(page.locator("#organization-headline")).to_have_text("Not connected")

    link = await create_activation_link_on_page(page, zoom_admin_email)

    assert link.startswith(f"{pages_server}/activate/")
    await expect(page.get_by_role("status")).to_have_text("Activation link created.")
    await expect(page.locator("#activation-details")).to_contain_text(f"Emailed to {zoom_admin_email}.")
    await expect(page.locator("#activation-details")).to_contain_text("Expires ")
    received = await outbox.wait_for(lambda message: message.to == zoom_admin_email, timeout=5)
    assert received.subject == f"Connect Zoom for {org['name']}"
    assert f"{org['owner']['name']} asks you to connect Zoom for {org['name']}" in received.text
    assert LINK_IN_TEXT.findall(received.text) == [link]


# ---- 2. Zoom administrator (R2, R5)


async def test_journey_zoom_admin_opens_the_emailed_link_is_stopped_by_zoom_as_a_member_then_connects_as_admin(
    page: Page, new_page, pages_server, outbox, provisioned_org, zoom_account
):
    org, admin = provisioned_org, zoom_account["admin"]
    await open_zoom_page(page, pages_server, org["org_id"], org["owner"]["user_id"])
    await create_activation_link_on_page(page, admin["email"])
    received = await outbox.wait_for(lambda message: message.to == admin["email"], timeout=5)
    (link,) = LINK_IN_TEXT.findall(received.text)

    # Another person, another browser: no Roomlink session.
    zoom_admin = await new_page()
    await zoom_admin.goto(link)
    await expect(heading(zoom_admin)).to_have_text(f"Connect Zoom for {org['name']}")
    await expect(zoom_admin.locator("main")).to_contain_text("Only an owner or admin of the Zoom account can approve")
    await expect(zoom_admin.locator("main")).to_contain_text("People who connected their own Zoom keep it")
    await zoom_admin.screenshot(path=ACTIVATION_SCREENSHOT, full_page=True)
    await zoom_admin.get_by_role("button", name="Continue to Zoom").click()

    await expect(heading(zoom_admin)).to_have_text("Authorize test-admin-app")
    await zoom_admin.screenshot(path=CONSENT_SCREENSHOT, full_page=True)
    await approve_in_zoom_as(zoom_admin, zoom_account["member"])

    # Zoom itself stops a Member: an admin-managed app needs an Owner or Admin, and it never calls back.
    await expect(heading(zoom_admin)).to_have_text("An account admin is required to install this type of app")

    await activate_as(zoom_admin, link, admin)

    await expect(heading(zoom_admin)).to_have_text(f"Zoom is connected for {org['name']}")
    await expect(zoom_admin.locator("main")).to_contain_text(admin["email"])

    await page.reload()
    await expect(page.locator("#organization-headline")).to_have_text("Connected")
    await expect(page.locator("#organization")).to_contain_text(admin["email"])
    await expect(page.get_by_role("button", name="Reconnect with another Zoom admin")).to_be_visible()
    await expect(page.get_by_role("button", name="Disconnect organization")).to_be_visible()
    await expect(page.locator("#counts li")).to_have_text(
        ["3 members", "2 through the organization", "0 personal", "1 not connected"]
    )
    await page.get_by_role("button", name="Check now").click()
    await expect(page.locator("#notice")).to_have_text(
        "Checked with Zoom just now: the connection works and seats are up to date."
    )
    await expect(page.locator("#organization")).not_to_contain_text("not yet")
    await expect(member_row(page, "Olga Owner")).to_have_text(
        ["Olga Owner", org["owner"]["email"], "Owner", "Connected", "Organization"]
    )
    await expect(member_row(page, "Milo Member")).to_have_text(
        ["Milo Member", org["member"]["email"], "Member", "Connected", "Organization"]
    )
    await expect(member_row(page, "Nina Member")).to_have_text(
        [
            "Nina Member",
            org["other"]["email"],
            "Member",
            "Not connected — no Zoom user with this email in the organization's Zoom account",
            "—",
        ]
    )


async def test_journey_owner_reconnects_with_another_zoom_admin(
    page: Page, new_page, pages_server, outbox, sandbox, provisioned_org, zoom_account
):
    """R4: a new activation replaces the organization connection."""
    org = provisioned_org
    await connect_organization_in_browser(page, pages_server, org, zoom_account["admin"])
    zoom_owner = await zoom_user(sandbox, zoom_account["id"], "Otto", "Zoomowner", "owner")

    await open_zoom_page(page, pages_server, org["org_id"], org["owner"]["user_id"])
    await expect(page.locator("#organization")).to_contain_text(zoom_account["admin"]["email"])
    await create_activation_link_on_page(page, zoom_owner["email"])
    received = await outbox.wait_for(lambda message: message.to == zoom_owner["email"], timeout=5)
    (link,) = LINK_IN_TEXT.findall(received.text)
    other_browser = await new_page()
    await activate_as(other_browser, link, zoom_owner)
    await expect(heading(other_browser)).to_have_text(f"Zoom is connected for {org['name']}")

    await page.reload()
    await expect(page.locator("#organization-headline")).to_have_text("Connected")
    await expect(page.locator("#organization")).to_contain_text(zoom_owner["email"])
    await expect(page.locator("#organization")).not_to_contain_text(zoom_account["admin"]["email"])
    await expect(member_row(page, "Milo Member")).to_have_text(
        ["Milo Member", org["member"]["email"], "Member", "Connected", "Organization"]
    )


# ---- 3. Member (R7, R8, R13)


async def test_journey_member_connects_their_own_zoom_then_disconnects_and_the_organization_applies_again(
    page: Page, new_page, pages_server, sandbox, provisioned_org, zoom_account
):
    org = provisioned_org
    await connect_organization_in_browser(await new_page(), pages_server, org, zoom_account["admin"])
    own = await zoom_user(sandbox, await sandbox.account("Milo's own Zoom"), "Milo", "Own", "owner")

    await open_zoom_page(page, pages_server, org["org_id"], org["member"]["user_id"])
    mine = page.locator("#my-zoom")
    await expect(page.locator("#my-zoom-headline")).to_have_text("Connected — through your organization")
    await page.get_by_role("button", name="Connect my own Zoom").click()
    await expect(heading(page)).to_have_text("Authorize test-user-app")
    await approve_in_zoom_as(page, own)

    await expect(page.locator("#notice")).to_have_text("Your own Zoom is connected. Your meetings now go through it.")
    await expect(page).to_have_url(f"{pages_server}/integrations/zoom")
    await expect(page.locator("#my-zoom-headline")).to_have_text("Connected — through your own Zoom")
    await expect(mine).to_contain_text(own["email"])
    await expect(mine.locator("dt")).to_have_text(["Your own Zoom", "First connected"])  # R8: no organization facts
    await expect(mine).not_to_contain_text(org["name"])
    await expect(page.get_by_role("button", name="Connect my own Zoom")).to_have_count(0)

    questions: list[str] = []

    async def accept(dialog) -> None:
        questions.append(dialog.message)
        await dialog.accept()

    page.on("dialog", accept)
    await page.get_by_role("button", name="Disconnect my Zoom").click()

    await expect(page.get_by_role("status")).to_have_text("Your own Zoom is disconnected.")
    await expect(page.locator("#my-zoom-headline")).to_have_text("Connected — through your organization")
    await expect(mine.locator("dt")).to_have_text(["Organization", "Your Zoom user"])
    await expect(mine).to_contain_text(org["name"])
    await expect(mine).to_contain_text(org["member"]["email"])
    await expect(mine).not_to_contain_text(own["email"])
    await expect(page.get_by_role("button", name="Connect my own Zoom")).to_be_visible()
    assert questions == ["Disconnect your own Zoom? Your organization's Zoom serves you again if it can."]


async def test_journey_member_cannot_connect_a_zoom_user_someone_else_already_connected(
    page: Page, new_page, pages_server, sandbox, provisioned_org
):
    org = provisioned_org
    shared = await zoom_user(sandbox, await sandbox.account("Shared Zoom"), "Shared", "Zoomuser", "owner")
    nina = await new_page()
    await open_zoom_page(nina, pages_server, org["org_id"], org["other"]["user_id"])
    await nina.get_by_role("button", name="Connect my own Zoom").click()
    await approve_in_zoom_as(nina, shared)
    await expect(nina.locator("#my-zoom-headline")).to_have_text("Connected — through your own Zoom")

    await open_zoom_page(page, pages_server, org["org_id"], org["member"]["user_id"])
    await page.get_by_role("button", name="Connect my own Zoom").click()
    await approve_in_zoom_as(page, shared)

    await expect(heading(page)).to_have_text("This Zoom user is already connected by someone else")
    await expect(page.get_by_role("link", name="Back to my Zoom settings")).to_have_attribute("href", "/integrations/zoom")
    await expect(page.locator("main")).to_contain_text("Sign in to Zoom with your own user and connect again")
    await page.goto(f"{pages_server}/integrations/zoom")
    await expect(page.locator("#my-zoom-headline")).to_have_text("Not connected")
    await expect(page.get_by_role("button", name="Connect my own Zoom")).to_be_visible()
