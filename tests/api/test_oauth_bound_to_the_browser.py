"""A Zoom sign-in finishes only in the browser Roomlink sent to Zoom (issue 7 §3), end to end.

Each browser is its own httpx client with its own cookies. The attack: a member's authorize link (or the
Zoom page it leads to) forwarded to someone else, approved there with their Zoom, must not become the
member's personal Zoom, nor an organization's.
"""

from __future__ import annotations

import httpx
import pytest

from tests.support.servers import API_KEY_SECRET
from tests.support.sql import raw_sql
from tests.support.zoom import (
    approve_in_zoom,
    as_member,
    authorize_personal,
    create_activation_link,
    email,
    organization,
    path_of,
    to_zoom,
)

BINDING_COOKIE = "roomlink_oauth_browser"


@pytest.fixture
async def browser(roomlink):
    """Another browser: no Roomlink session, no cookies of the member's."""
    async with httpx.AsyncClient(base_url=roomlink, timeout=30) as client:
        yield client


@pytest.fixture
async def victims_zoom(sandbox) -> dict:
    return await sandbox.user(await sandbox.account("Victim's own"), email("victim"), "owner")


async def token_exchanges(sandbox) -> int:
    return len([c for c in await sandbox.calls() if c["path"] == "/oauth/token"])


async def pending_states(org_id: str) -> int:
    async with raw_sql() as sql:
        return await sql.fetchval("SELECT count(*) FROM oauth_states WHERE org_id = $1", org_id)


async def personal_zoom(api, user_id: str):
    return (await api.get("/api/v1/me/integrations/zoom", headers=as_member(user_id))).json()["personal"]


async def test_a_forwarded_zoom_authorize_url_approved_in_another_browser_connects_nothing(
    api, browser, org, sandbox, victims_zoom
):
    zoom_url = await to_zoom(api, await authorize_personal(api, org["member"]))
    exchanges = await token_exchanges(sandbox)

    callback = await approve_in_zoom(zoom_url, victims_zoom["email"])
    refused = await browser.get(callback)

    assert refused.status_code == 403 and "started in another browser" in refused.text
    assert "nothing was connected" in refused.text
    assert await personal_zoom(api, org["member"]) is None
    assert await token_exchanges(sandbox) == exchanges  # the victim's code was never exchanged
    assert await pending_states(org["org_id"]) == 1  # and the member's own sign-in is untouched
    as_json = await browser.get(callback, headers={"Accept": "application/json"})
    assert (as_json.status_code, as_json.json()["code"]) == (403, "oauth_state_of_another_browser")


async def test_the_link_to_zoom_binds_the_first_browser_that_opens_it_and_works_once(api, browser, org):
    authorize_url = await authorize_personal(api, org["member"])
    assert authorize_url.startswith(f"{str(api.base_url).rstrip('/')}/oauth/zoom/start/")
    first = await api.get(path_of(authorize_url))

    again = await browser.get(path_of(authorize_url))

    assert first.status_code == 303 and httpx.URL(first.headers["location"]).path.endswith("/oauth/authorize")
    cookie = first.headers["set-cookie"]
    assert BINDING_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Path=/oauth/zoom" in cookie
    assert again.status_code == 410 and "works once" in again.text
    assert BINDING_COOKIE not in browser.cookies


async def test_a_link_to_zoom_asked_for_in_a_session_is_followed_only_in_that_sessions_browser(
    api, browser, roomlink, org, sandbox
):
    own = await sandbox.user(await sandbox.account("Member's own"), email("own"), "owner")
    async with httpx.AsyncClient(base_url=roomlink, timeout=30) as members_browser:
        launch = await api.post(
            f"/api/v1/orgs/{org['org_id']}/members/{org['member']}/launch",
            headers={"Authorization": f"Bearer {API_KEY_SECRET}"},
        )
        assert (await members_browser.get(path_of(launch.json()["url"]))).status_code == 303
        started = await members_browser.post(
            "/api/v1/me/integrations/zoom/personal/authorize",
            headers={"X-CSRF-Token": members_browser.cookies["roomlink_csrf"]},
        )
        authorize_url = started.json()["authorize_url"]

        elsewhere = await browser.get(path_of(authorize_url))
        assert elsewhere.status_code == 403 and "Roomlink session, so it was not followed" in elsewhere.text

        callback = await approve_in_zoom(await to_zoom(members_browser, authorize_url), own["email"])
        done = await members_browser.get(callback)
    assert done.status_code == 303 and done.headers["location"] == "/integrations/zoom?connected=personal"
    assert (await personal_zoom(api, org["member"]))["zoom_email"] == own["email"]


async def test_an_activation_approved_in_another_browser_connects_nothing_and_the_link_still_works(
    api, browser, org, zoom_account
):
    link = await create_activation_link(api, org["org_id"], org["owner"])
    to_zoom_page = await api.post(path_of(link["url"]))
    assert BINDING_COOKIE in to_zoom_page.headers["set-cookie"]

    callback = await approve_in_zoom(to_zoom_page.headers["location"], zoom_account["admin"]["email"])
    refused = await browser.get(callback)

    assert refused.status_code == 403 and "started in another browser" in refused.text
    assert (await organization(api, org))["status"] == "not_connected"
    finished = await api.get(callback)
    assert finished.status_code == 200 and "Zoom is connected" in finished.text


async def test_one_browser_may_have_several_sign_ins_pending(api, org, sandbox):
    """The binding secret is the browser's, kept across sign-ins: a second tab does not break the first."""
    first_zoom_url = await to_zoom(api, await authorize_personal(api, org["member"]))
    await to_zoom(api, await authorize_personal(api, org["member"]))
    own = await sandbox.user(await sandbox.account("Member's own"), email("own"), "owner")

    done = await api.get(await approve_in_zoom(first_zoom_url, own["email"]))

    assert done.status_code == 303
    assert (await personal_zoom(api, org["member"]))["zoom_email"] == own["email"]
