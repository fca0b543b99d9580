"""A Zoom sign-in finishes only in the browser Roomlink sent to Zoom, and only once, end to end.

Each browser is its own httpx client with its own cookies. The attack: a member's authorize link (or the
Zoom page it leads to, or the callback URL Zoom sent back) forwarded to someone else, approved or replayed
there with their Zoom, must not become the member's personal Zoom, nor an organization's.
"""

from __future__ import annotations

import contextlib

import httpx
import pytest

from tests.support.servers import API_KEY_SECRET
from tests.support.sql import raw_sql
from tests.support.zoom import (
    activate,
    approve_in_zoom,
    as_member,
    authorize_personal,
    confirmation_of,
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


async def test_a_forwarded_zoom_authorize_url_approved_in_another_browser_connects_nothing_anywhere(
    api, browser, org, sandbox, victims_zoom
):
    zoom_url = await to_zoom(api, await authorize_personal(api, org["member"]))
    exchanges = await token_exchanges(sandbox)

    callback = await approve_in_zoom(zoom_url, victims_zoom["email"])
    refused = await browser.get(callback)

    assert refused.status_code == 403 and "started in another browser" in refused.text
    assert "nothing was connected" in refused.text
    assert await pending_states(org["org_id"]) == 0  # spent: the victim's callback URL finishes nowhere now
    replayed = await api.get(callback, headers={"Accept": "application/json"})
    assert (replayed.status_code, replayed.json()["code"]) == (400, "oauth_state_invalid")
    assert await personal_zoom(api, org["member"]) is None
    assert await token_exchanges(sandbox) == exchanges  # the victim's code was never exchanged
    as_json = await browser.get(callback, headers={"Accept": "application/json"})
    assert (as_json.status_code, as_json.json()["code"]) == (400, "oauth_state_invalid")


async def test_the_link_to_zoom_binds_the_browser_that_confirms_it_and_works_once(api, browser, org):
    authorize_url = await authorize_personal(api, org["member"])
    assert authorize_url.startswith(f"{str(api.base_url).rstrip('/')}/oauth/zoom/start/")
    page = await api.get(path_of(authorize_url))
    first = await api.post(path_of(authorize_url), data={"confirm": confirmation_of(page.text)})

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
    replayed = await api.get(callback)
    assert replayed.status_code == 400 and (await organization(api, org))["status"] == "not_connected"
    finished = await activate(api, link["url"], zoom_account["admin"]["email"])  # R2: a new attempt from the link
    assert finished.status_code == 200 and "Zoom is connected" in finished.text


async def test_one_browser_may_have_several_sign_ins_pending(api, org, sandbox):
    """The binding secret is the browser's, kept across sign-ins: a second tab does not break the first."""
    first_zoom_url = await to_zoom(api, await authorize_personal(api, org["member"]))
    await to_zoom(api, await authorize_personal(api, org["member"]))
    own = await sandbox.user(await sandbox.account("Member's own"), email("own"), "owner")

    done = await api.get(await approve_in_zoom(first_zoom_url, own["email"]))

    assert done.status_code == 303
    assert (await personal_zoom(api, org["member"]))["zoom_email"] == own["email"]


@contextlib.asynccontextmanager
async def signed_in_browser(roomlink: str, org_id: str, user_id: str):
    """A browser holding `user_id`'s Roomlink session, opened from a launch link."""
    async with httpx.AsyncClient(base_url=roomlink, timeout=30) as client:
        launch = await client.post(
            f"/api/v1/orgs/{org_id}/members/{user_id}/launch", headers={"Authorization": f"Bearer {API_KEY_SECRET}"}
        )
        assert (await client.get(path_of(launch.json()["url"]))).status_code == 303
        yield client


async def bound_states(org_id: str) -> int:
    async with raw_sql() as sql:
        return await sql.fetchval("SELECT count(*) FROM oauth_states WHERE org_id = $1 AND browser_hash IS NOT NULL", org_id)


async def test_a_link_to_zoom_issued_over_the_api_names_its_member_before_going_to_zoom(api, browser, org):
    authorize_url = await authorize_personal(api, org["member"])

    page = await browser.get(path_of(authorize_url))

    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert f"You are connecting Zoom for <strong>Member Person</strong> ({org['member']}@acme.test)" in page.text
    assert await bound_states(org["org_id"]) == 0  # opening it sent nobody to Zoom yet
    went = await browser.post(path_of(authorize_url), data={"confirm": confirmation_of(page.text)})
    assert went.status_code == 303 and httpx.URL(went.headers["location"]).path.endswith("/oauth/authorize")
    assert await bound_states(org["org_id"]) == 1


async def test_a_confirmation_posted_without_the_pages_browser_is_refused(api, browser, roomlink, org):
    """Another site's form posting to the link arrives without the SameSite=Lax binding cookie."""
    authorize_url = await authorize_personal(api, org["member"])
    page = await browser.get(path_of(authorize_url))
    async with httpx.AsyncClient(base_url=roomlink, timeout=30) as elsewhere:
        forged = await elsewhere.post(path_of(authorize_url), data={"confirm": confirmation_of(page.text)})
    wrong = await browser.post(path_of(authorize_url), data={"confirm": "0" * 64})

    assert forged.status_code == 403 and wrong.status_code == 403
    assert await bound_states(org["org_id"]) == 0


async def test_a_link_to_zoom_opened_in_another_members_session_is_refused(api, roomlink, org):
    authorize_url = await authorize_personal(api, org["member"])
    async with signed_in_browser(roomlink, org["org_id"], org["owner"]) as owners_browser:
        refused = await owners_browser.get(path_of(authorize_url))
        as_json = await owners_browser.get(path_of(authorize_url), headers={"Accept": "application/json"})

    assert refused.status_code == 403 and "made for another member" in refused.text
    assert (as_json.status_code, as_json.json()["code"]) == (403, "oauth_state_invalid")
    assert await bound_states(org["org_id"]) == 0


async def test_a_link_to_zoom_opened_in_its_members_own_session_goes_straight_to_zoom(api, roomlink, org, sandbox):
    own = await sandbox.user(await sandbox.account("Member's own"), email("own"), "owner")
    authorize_url = await authorize_personal(api, org["member"])
    async with signed_in_browser(roomlink, org["org_id"], org["member"]) as members_browser:
        went = await members_browser.get(path_of(authorize_url))
        done = await members_browser.get(await approve_in_zoom(went.headers["location"], own["email"]))

    assert went.status_code == 303 and done.status_code == 303
    assert (await personal_zoom(api, org["member"]))["zoom_email"] == own["email"]


async def test_r2_a_refused_activation_callback_replayed_anywhere_connects_nothing_and_the_link_still_works(
    api, browser, org, zoom_account, sandbox
):
    link = await create_activation_link(api, org["org_id"], org["owner"])
    to_zoom_page = await api.post(path_of(link["url"]))
    # An admin demoted before Roomlink hears back is stopped by Roomlink (R2), then made admin again.
    callback = await approve_in_zoom(to_zoom_page.headers["location"], zoom_account["admin"]["email"])
    await sandbox.client.patch(f"/sandbox/users/{zoom_account['admin']['id']}", json={"role": "member"})
    refused = await api.get(callback)
    await sandbox.client.patch(f"/sandbox/users/{zoom_account['admin']['id']}", json={"role": "admin"})

    again_here, again_elsewhere = await api.get(callback), await browser.get(callback)

    assert refused.status_code == 403 and "not an admin of this Zoom account" in refused.text
    assert (again_here.status_code, again_elsewhere.status_code) == (400, 400)
    assert (await organization(api, org))["status"] == "not_connected"
    assert await pending_states(org["org_id"]) == 0
    assert (await activate(api, link["url"], zoom_account["admin"]["email"])).status_code == 200


async def test_r13_a_refused_personal_callback_replayed_connects_nothing(api, browser, org, sandbox):
    shared = await sandbox.user(await sandbox.account("Shared"), email("shared"), "owner")
    assert (await approve_and_finish(api, org["member"], shared["email"])).status_code == 303
    callback = await approve_in_zoom(await to_zoom(api, await authorize_personal(api, org["admin"])), shared["email"])
    refused = await api.get(callback)

    again_here, again_elsewhere = await api.get(callback), await browser.get(callback)

    assert refused.status_code == 409
    assert (again_here.status_code, again_elsewhere.status_code) == (400, 400)
    assert await personal_zoom(api, org["admin"]) is None
    assert await pending_states(org["org_id"]) == 0


async def test_a_declined_callback_spends_its_state(api, browser, org, sandbox, victims_zoom):
    zoom_url = await to_zoom(api, await authorize_personal(api, org["member"]))
    declined = await api.get(f"/oauth/zoom/callback?state={httpx.URL(zoom_url).params['state']}&error=access_denied")
    # The same state, now with a code the victim's approval gives: it finishes nowhere.
    callback = await approve_in_zoom(zoom_url, victims_zoom["email"])

    assert declined.status_code == 400 and "declined" in declined.text
    assert (await api.get(callback)).status_code == 400 and (await browser.get(callback)).status_code == 400
    assert await personal_zoom(api, org["member"]) is None


async def approve_and_finish(api, user_id: str, zoom_email: str) -> httpx.Response:
    return await api.get(await approve_in_zoom(await to_zoom(api, await authorize_personal(api, user_id)), zoom_email))
