"""Steps the browser tests share: giving an organization Zoom, setting its policy, signing in, clicking through Zoom."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path

import httpx
from playwright.async_api import Page, expect

from domain.model import ConnectionType, Policy, ZoomUser
from persistence.database import unit_of_work
from server.clock import utcnow
from tests.support.builders import add_connection, connection, unique
from tests.support.servers import API_KEY_SECRET
from tests.support.zoom import Sandbox

#: Screenshots the browser tests take, kept after the run (CI can collect the folder).
ARTIFACTS = Path(os.environ.get("ROOMLINK_TEST_ARTIFACTS", Path(tempfile.gettempdir()) / "roomlink-test-artifacts"))


def artifact(name: str) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return str(ARTIFACTS / name)


API_KEY_HEADERS = {"Authorization": f"Bearer {API_KEY_SECRET}"}
ZOOM_ADMIN_EMAIL = "zoe.admin@acme.test"
CONNECT_ORGANIZATION = re.compile(r"^(Connect Zoom for my organization|Reconnect with another Zoom admin)$")


async def give_organization_seats(org_id: str, *emails: str) -> None:
    """An active organization connection whose Zoom account has a user for each email (R5)."""
    seats = [ZoomUser(zoom_user_id=unique("zu"), email=email) for email in emails]
    await add_connection(connection(org_id, ConnectionType.ORGANIZATION, zoom_email=ZOOM_ADMIN_EMAIL), seats)


async def allow_members_to_remove(org_id: str, allowed: bool) -> None:
    async with unit_of_work() as uow:
        await uow.organizations.set_policy(org_id, Policy(allow_members_to_remove=allowed), utcnow())
        await uow.commit()


async def open_zoom_page(page: Page, base_url: str, org_id: str, user_id: str) -> None:
    """Signs in through a launch link, as the host product sends people, and waits for the page to fill."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.post(f"/api/v1/orgs/{org_id}/members/{user_id}/launch", headers=API_KEY_HEADERS)
    assert response.status_code == 201, response.text
    await page.goto(response.json()["url"])
    await expect(page.locator("#my-zoom-headline")).to_be_visible()


async def csrf_cookie(page: Page) -> str:
    cookies = await page.context.cookies()
    return next(cookie["value"] for cookie in cookies if cookie["name"] == "roomlink_csrf")


async def members_may_remove(base_url: str, org_id: str, owner_id: str) -> bool:
    """The policy read back through the API, as the owner via the host product's key."""
    headers = {**API_KEY_HEADERS, "X-Roomlink-User": owner_id}
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.get(f"/api/v1/orgs/{org_id}/integrations/zoom", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["policy"]["allow_members_to_remove"]


# ---- Zoom, as the sandbox shows it to a person


async def zoom_user(
    sandbox: Sandbox, account_id: str, first: str, last: str, role: str = "member", email: str | None = None
) -> dict:
    """A Zoom user with a readable name; a unique email unless one is given."""
    email = email or f"{first}.{last}.{secrets.token_hex(3)}@zoom.example".lower()
    response = await sandbox.client.post(
        f"/sandbox/accounts/{account_id}/users",
        json={"email": email, "first_name": first, "last_name": last, "role": role},
    )
    assert response.status_code == 201, response.text
    return response.json()


def zoom_label(user: dict) -> str:
    """How the sandbox's sign-in page names a Zoom user: "First Last <email> Role"."""
    return f"{user['first_name']} {user['last_name']} <{user['email']}> {user['role'].title()}"


async def approve_in_zoom_as(page: Page, user: dict) -> None:
    """On the sandbox's Zoom sign-in page: choose the Zoom user by its label and approve."""
    await expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Authorize "))
    await page.get_by_label(zoom_label(user), exact=True).check()
    await page.get_by_role("button", name="Approve", exact=True).click()


# ---- Roomlink's pages


def heading(page: Page):
    return page.get_by_role("heading", level=1)


async def create_activation_link_on_page(page: Page, zoom_admin_email: str | None = None) -> str:
    """On Integrations → Zoom, as an owner or admin: the activation form, filled and sent; returns the link shown."""
    await page.get_by_role("button", name=CONNECT_ORGANIZATION).click()
    if zoom_admin_email:
        await page.get_by_label("Zoom administrator's email").fill(zoom_admin_email)
    await page.get_by_role("button", name="Create activation link").click()
    field = page.get_by_label("Activation link")
    await expect(field).to_have_value(re.compile(r"/activate/[A-Za-z0-9_-]{43,}$"))
    return await field.input_value()


async def activate_as(page: Page, link: str, zoom_user_: dict) -> None:
    """Opens the activation link, continues to Zoom, signs in as the Zoom user and approves."""
    await page.goto(link)
    await page.get_by_role("button", name="Continue to Zoom").click()
    await approve_in_zoom_as(page, zoom_user_)


async def connect_organization_in_browser(page: Page, base_url: str, org: dict, zoom_admin: dict) -> None:
    """The owner is the Zoom admin: creates a link without emailing it and follows it in the same browser."""
    await open_zoom_page(page, base_url, org["org_id"], org["owner"]["user_id"])
    link = await create_activation_link_on_page(page)
    await expect(page.locator("#activation-details")).to_contain_text("Not emailed")
    await activate_as(page, link, zoom_admin)
    await expect(heading(page)).to_have_text(f"Zoom is connected for {org['name']}")


async def open_signed_in(page: Page, base_url: str, org_id: str, user_id: str, path: str) -> None:
    """Signs in through a launch link that lands on `path`, as the host product would send a member there."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.post(
            f"/api/v1/orgs/{org_id}/members/{user_id}/launch", params={"next": path}, headers=API_KEY_HEADERS
        )
    assert response.status_code == 201, response.text
    await page.goto(response.json()["url"])


def card(scope, topic: str):
    """The item titled `topic`, in a page or a part of one."""
    page = scope if isinstance(scope, Page) else scope.page
    return scope.locator("li.item").filter(has=page.get_by_role("heading", name=topic, exact=True))
