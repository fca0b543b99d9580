"""Demo mode: the events Roomlink sends to the host product arrive at the demo's receiver, and its page shows
them with their signatures checked by the Standard Webhooks library (R24)."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.support.builders import unique
from tests.support.servers import API_KEY_SECRET

KEY = {"Authorization": f"Bearer {API_KEY_SECRET}"}

pytestmark = pytest.mark.usefixtures("workers")


async def test_the_demo_hears_a_policy_change_signed_and_refuses_to_vouch_for_a_forgery(page: Page, demo_server):
    org_id, owner, endpoint = unique("heard"), unique("owner"), unique("demo-endpoint")
    async with httpx.AsyncClient(base_url=demo_server, timeout=30) as api:
        assert (await api.put(f"/api/v1/orgs/{org_id}", json={"name": "Heard Inc"}, headers=KEY)).status_code == 201
        member = {"email": f"{owner}@heard.test", "name": "Owner", "role": "owner"}
        assert (await api.put(f"/api/v1/orgs/{org_id}/members/{owner}", json=member, headers=KEY)).status_code == 201
        registered = await api.put(
            f"/api/v1/event-endpoints/{endpoint}",
            json={"url": f"{demo_server}/demo/receiver/{endpoint}", "org_id": org_id},
            headers=KEY,
        )
        assert registered.status_code == 201, registered.text
        changed = await api.patch(
            f"/api/v1/orgs/{org_id}/integrations/zoom/policy",
            json={"allow_members_to_remove": True},
            headers={**KEY, "X-Roomlink-User": owner},
        )
        assert changed.status_code == 200, changed.text
        forged = await api.post(
            f"/demo/receiver/{endpoint}",
            content=b'{"type":"member.connection.changed","org_id":"x","data":{}}',
            headers={"webhook-id": "msg_forged", "webhook-timestamp": "1700000000", "webhook-signature": "v1,AAAA"},
        )
        assert forged.status_code == 204
        gone = await api.post("/demo/receiver/no-such-endpoint", content=b"{}")
        assert gone.status_code == 410

    await page.goto(f"{demo_server}/demo/events")
    heard = page.locator("article").filter(has_text="organization.connection.changed")
    for _ in range(30):
        if await heard.count():
            break
        await page.wait_for_timeout(500)
        await page.reload()
    await expect(heard.first).to_contain_text("signature verified")
    await expect(heard.first).to_contain_text("not_connected")
    await expect(page.locator("article").filter(has_text="msg_forged")).to_contain_text("signature does not verify")
