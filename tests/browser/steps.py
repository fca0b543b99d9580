"""Steps the browser tests share: giving an organization Zoom, setting its policy, signing in."""

from __future__ import annotations

import httpx
from playwright.async_api import Page, expect

from domain.model import ConnectionType, Policy, ZoomUser
from persistence.database import unit_of_work
from server.clock import utcnow
from tests.support.builders import add_connection, connection, unique
from tests.support.servers import API_KEY_SECRET

API_KEY_HEADERS = {"Authorization": f"Bearer {API_KEY_SECRET}"}
ZOOM_ADMIN_EMAIL = "zoe.admin@acme.test"


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


async def members_may_remove(base_url: str, org_id: str, owner_id: str) -> bool:
    """The policy read back through the API, as the owner via the host product's key."""
    headers = {**API_KEY_HEADERS, "X-Roomlink-User": owner_id}
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.get(f"/api/v1/orgs/{org_id}/integrations/zoom", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["policy"]["allow_members_to_remove"]
