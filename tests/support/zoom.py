"""Scripted journeys through Roomlink and the Zoom sandbox, as a browser would make them."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import time

import httpx

from tests.support.servers import API_KEY_SECRET

KEY = {"Authorization": f"Bearer {API_KEY_SECRET}"}


def as_member(user_id: str) -> dict[str, str]:
    return {**KEY, "X-Roomlink-User": user_id}


def signed(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Zoom would send with `body`, signed with one app's webhook secret."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body.decode()}".encode(), hashlib.sha256).hexdigest()
    return {"x-zm-signature": f"v0={digest}", "x-zm-request-timestamp": str(timestamp), "content-type": "application/json"}


class Sandbox:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def account(self, name: str = "Zoom account") -> str:
        response = await self.client.post("/sandbox/accounts", json={"name": name})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def user(self, account_id: str, email: str, role: str = "member") -> dict:
        first, _, last = email.partition("@")[0].partition(".")
        response = await self.client.post(
            f"/sandbox/accounts/{account_id}/users",
            json={"email": email, "first_name": first or "Zoom", "last_name": last or "User", "role": role},
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def calls(self) -> list[dict]:
        return (await self.client.get("/sandbox/calls")).json()


async def approve_in_zoom(authorize_url: str, zoom_email: str) -> str:
    """The sandbox approves at once for `login_hint` (auto-approve); returns the callback URL it redirects to."""
    async with httpx.AsyncClient() as browser:
        response = await browser.get(httpx.URL(authorize_url).copy_merge_params({"login_hint": zoom_email}))
    assert response.status_code in (302, 303), response.text
    return response.headers["location"]


async def to_zoom(browser: httpx.AsyncClient, authorize_url: str) -> str:
    """A browser (a client that keeps cookies) opens Roomlink's link to Zoom, which binds the sign-in to it;
    returns Zoom's authorize URL it is sent to."""
    response = await browser.get(path_of(authorize_url))
    if response.status_code == 200:  # outside the member's own browser, the page naming them asks to confirm first
        response = await browser.post(path_of(authorize_url), data={"confirm": confirmation_of(response.text)})
    assert response.status_code == 303, response.text
    return response.headers["location"]


def confirmation_of(page: str) -> str:
    """The confirm field of the page a personal link to Zoom shows before going to Zoom."""
    match = re.search(r'name="confirm" value="([0-9a-f]{64})"', page)
    assert match, page
    return match.group(1)


async def authorize_personal(api: httpx.AsyncClient, user_id: str) -> str:
    """The host product asks for a member's authorize URL (Roomlink's link to Zoom)."""
    started = await api.post("/api/v1/me/integrations/zoom/personal/authorize", headers=as_member(user_id))
    assert started.status_code == 200, started.text
    return started.json()["authorize_url"]


async def connect_personal(api: httpx.AsyncClient, user_id: str, zoom_email: str) -> httpx.Response:
    """A member connects their own Zoom, in one browser (`api`); returns Roomlink's answer to the OAuth callback."""
    callback = await approve_in_zoom(await to_zoom(api, await authorize_personal(api, user_id)), zoom_email)
    return await api.get(callback)


async def create_activation_link(api: httpx.AsyncClient, org_id: str, by: str, **body) -> dict:
    response = await api.post(
        f"/api/v1/orgs/{org_id}/integrations/zoom/activation-links", json=body, headers=as_member(by)
    )
    assert response.status_code == 201, response.text
    return response.json()


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


async def activate(api: httpx.AsyncClient, link_url: str, zoom_email: str) -> httpx.Response:
    """The Zoom admin opens the link, continues to Zoom and approves; returns Roomlink's final page."""
    landing = await api.get(path_of(link_url))
    assert landing.status_code == 200, landing.text
    to_zoom = await api.post(path_of(link_url))
    assert to_zoom.status_code == 303, to_zoom.text
    callback = await approve_in_zoom(to_zoom.headers["location"], zoom_email)
    return await api.get(callback)


async def activate_through(client: httpx.AsyncClient, org_id: str, by: str, zoom_email: str, **headers: str) -> None:
    """The activation with every step, Zoom's callback included, answered by `client`'s own server
    (the callback URL names ROOMLINK_BASE_URL, which may be another process of the same stack)."""
    link = await create_activation_link(client, org_id, by)
    assert (await client.get(path_of(link["url"]))).status_code == 200
    to_zoom = await client.post(path_of(link["url"]))
    callback = await approve_in_zoom(to_zoom.headers["location"], zoom_email)
    assert (await client.get(path_of(callback), headers=headers)).status_code == 200


def signed_webhook(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Zoom signs a webhook with (`v0=` HMAC-SHA256 of `v0:{timestamp}:{body}`)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body.decode()}".encode(), hashlib.sha256).hexdigest()
    return {"x-zm-signature": f"v0={digest}", "x-zm-request-timestamp": str(timestamp), "content-type": "application/json"}


def email(prefix: str) -> str:
    return f"{prefix}.{secrets.token_hex(3)}@zoom.example"


async def members_by_id(api, org) -> dict[str, dict]:
    response = await api.get(
        f"/api/v1/orgs/{org['org_id']}/integrations/zoom/members?limit=200", headers=as_member(org["owner"])
    )
    return {row["user_id"]: row for row in response.json()["items"]}


async def organization(api, org) -> dict:
    return (await api.get(f"/api/v1/orgs/{org['org_id']}/integrations/zoom", headers=as_member(org["owner"]))).json()


async def activated(api, org, zoom_account) -> dict:
    link = await create_activation_link(api, org["org_id"], org["owner"])
    page = await activate(api, link["url"], zoom_account["admin"]["email"])
    assert page.status_code == 200, page.text
    return link


#: How often `eventually` looks again. Each look is a request or two to a server of the stack; background work
#: that is done is seen within this, on average half of it.
EVENTUALLY_POLL_S = 0.1


async def eventually(check, timeout: float = 15.0):
    """Background work is asynchronous: poll until `check()` returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(EVENTUALLY_POLL_S)
