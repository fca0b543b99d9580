"""Keyboard only (accessibility): the three journeys' decisive steps with Tab, Space and Enter alone,
each control reached in the page's own order and showing where the focus is."""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.steps import heading, open_zoom_page, zoom_label, zoom_user

#: More presses than any of these pages has controls before the one wanted.
MAX_TABS = 60


async def tab_to(page: Page, target: Locator) -> None:
    """Tab forward until `target` has the focus, as a keyboard user would; fails if it never does."""
    handle = await target.element_handle()
    for _ in range(MAX_TABS):
        await page.keyboard.press("Tab")
        if await page.evaluate("(element) => document.activeElement === element", handle):
            outline = await target.evaluate("(element) => getComputedStyle(element).outlineStyle")
            assert outline not in ("", "none"), "the focused control shows a focus ring"
            return
    raise AssertionError(f"{target} is never reached with Tab")


@pytest.fixture
async def zoom_account(sandbox, provisioned_org) -> dict:
    org = provisioned_org
    account = await sandbox.account(f"{org['name']} Zoom")
    return {
        "admin": await zoom_user(sandbox, account, "Zoe", "Admin", "admin"),
        "owner_seat": await zoom_user(sandbox, account, "Olga", "Owner", "member", email=org["owner"]["email"]),
        "member_seat": await zoom_user(sandbox, account, "Milo", "Member", "member", email=org["member"]["email"]),
    }


async def choose_radio(page: Page, choice: Locator) -> None:
    """A group of radio buttons is one stop for Tab; the arrow keys move within it, choosing as they go."""
    handle = await choice.element_handle()
    group = await choice.get_attribute("name")
    for _ in range(MAX_TABS):
        await page.keyboard.press("Tab")
        if await page.evaluate("(name) => document.activeElement?.type === 'radio' && document.activeElement.name === name", group):
            break
    else:
        raise AssertionError(f"the radio group {group!r} is never reached with Tab")
    # The sandbox's sign-in page lists every Zoom user it holds: as many presses as the group has choices.
    for _ in range(await page.locator(f'input[type="radio"][name="{group}"]').count() + 1):
        if await page.evaluate("(element) => document.activeElement === element", handle):
            await page.keyboard.press("Space")
            return
        await page.keyboard.press("ArrowDown")
    raise AssertionError(f"{choice} is never reached with the arrow keys")


async def approve_in_zoom_with_the_keyboard(page: Page, user: dict) -> None:
    await expect(heading(page)).to_contain_text("Authorize ")
    choice = page.get_by_label(zoom_label(user), exact=True)
    await choose_radio(page, choice)
    await expect(choice).to_be_checked()
    await tab_to(page, page.get_by_role("button", name="Approve", exact=True))
    await page.keyboard.press("Enter")


async def test_keyboard_only_the_owner_connects_the_organization_and_a_member_connects_their_own_zoom(
    page: Page, new_page, pages_server, sandbox, provisioned_org, zoom_account
):
    org = provisioned_org
    # 1. The owner: the activation form, opened, sent and followed without a pointer.
    await open_zoom_page(page, pages_server, org["org_id"], org["owner"]["user_id"])
    await tab_to(page, page.get_by_role("button", name="Connect Zoom for my organization"))
    await page.keyboard.press("Enter")
    await tab_to(page, page.get_by_role("button", name="Create activation link"))
    await page.keyboard.press("Enter")
    link = page.get_by_label("Activation link")
    await expect(page.get_by_role("status")).to_have_text("Activation link created.")
    url = await link.input_value()

    # 2. The Zoom admin: the activation page, Zoom's sign-in and approval.
    admin_page = await new_page()
    await admin_page.goto(url)
    await tab_to(admin_page, admin_page.get_by_role("button", name="Continue to Zoom"))
    await admin_page.keyboard.press("Enter")
    await approve_in_zoom_with_the_keyboard(admin_page, zoom_account["admin"])
    await expect(heading(admin_page)).to_contain_text("Zoom is connected")

    # 3. A member: their own Zoom, connected then disconnected (the confirmation answered with Enter).
    own = await zoom_user(sandbox, await sandbox.account("Milo's own Zoom"), "Milo", "Own", "owner")
    member = await new_page()
    await open_zoom_page(member, pages_server, org["org_id"], org["member"]["user_id"])
    await tab_to(member, member.get_by_role("button", name="Connect my own Zoom"))
    await member.keyboard.press("Enter")
    await approve_in_zoom_with_the_keyboard(member, own)
    await expect(member.locator("#my-zoom-headline")).to_have_text("Connected — through your own Zoom")
    member.on("dialog", lambda dialog: dialog.accept())
    await tab_to(member, member.get_by_role("button", name="Disconnect my Zoom"))
    await member.keyboard.press("Enter")
    await expect(member.locator("#my-zoom-headline")).to_have_text("Connected — through your organization")
