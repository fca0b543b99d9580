"""Member calls: who may see and change what, sessions from launch links, the members table."""

from __future__ import annotations

import httpx
import pytest

from domain.model import ConnectionStatus, ConnectionType, ZoomUser
from tests.api.conftest import KEY, as_member
from tests.support.builders import add_connection, connection


def integration(org) -> str:
    return f"/api/v1/orgs/{org['org_id']}/integrations/zoom"


@pytest.mark.parametrize(
    "method, suffix, body",
    [
        ("GET", "", None),
        ("GET", "/members", None),
        ("PATCH", "/policy", {"allow_members_to_remove": True}),
    ],
)
async def test_r1_members_get_403_on_owner_and_admin_calls(api, org, method, suffix, body):
    response = await api.request(method, integration(org) + suffix, json=body, headers=as_member(org["member"]))
    assert (response.status_code, response.json()["code"]) == (403, "owner_or_admin_required")


@pytest.mark.parametrize("role", ["owner", "admin"])
async def test_owners_and_admins_see_the_organization(api, org, role):
    response = await api.get(integration(org), headers=as_member(org[role]))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "not_connected"
    assert body["counts"] == {"organization": 0, "personal": 0, "not_connected": 3, "total": 3}


async def test_another_organizations_data_does_not_exist_for_a_member(api, org):
    other = {"org_id": org["org_id"] + "-b"}
    await api.put(f"/api/v1/orgs/{other['org_id']}", json={"name": "B"}, headers=KEY)
    for suffix in ("", "/members"):
        response = await api.get(integration(other) + suffix, headers=as_member(org["owner"]))
        assert (response.status_code, response.json()["code"]) == (404, "organization_not_found")
    response = await api.patch(integration(other) + "/policy", json={"allow_members_to_remove": True}, headers=as_member(org["owner"]))
    assert response.status_code == 404


async def test_api_key_needs_an_acting_user_for_member_calls(api, org):
    response = await api.get(integration(org), headers=KEY)
    assert (response.status_code, response.json()["code"]) == (400, "acting_user_required")


async def test_unknown_acting_user(api, org):
    response = await api.get("/api/v1/me/integrations/zoom", headers=as_member("ghost"))
    assert (response.status_code, response.json()["code"]) == (403, "unknown_member")


async def test_r10_member_removal_follows_the_policy(api, org):
    await add_connection(
        connection(org["org_id"], ConnectionType.ORGANIZATION),
        [ZoomUser(zoom_user_id="z-" + org["member"], email=f"{org['member']}@acme.test")],
    )
    me = "/api/v1/me/integrations/zoom"
    refused = await api.delete(me + "/organization", headers=as_member(org["member"]))
    assert (refused.status_code, refused.json()["code"]) == (403, "removal_not_allowed")
    assert (await api.get(me, headers=as_member(org["member"]))).json()["organization_removed"] is False

    allowed = await api.patch(integration(org) + "/policy", json={"allow_members_to_remove": True}, headers=as_member(org["admin"]))
    assert allowed.json() == {"allow_members_to_remove": True}
    assert (await api.delete(me + "/organization", headers=as_member(org["member"]))).status_code == 204
    mine = (await api.get(me, headers=as_member(org["member"]))).json()
    assert (mine["organization_removed"], mine["can_remove_organization"], mine["reason"]) == (
        True,
        True,
        "organization_removed",
    )
    assert (await api.put(me + "/organization", headers=as_member(org["member"]))).status_code == 204
    restored = (await api.get(me, headers=as_member(org["member"]))).json()
    assert (restored["organization_removed"], restored["connected"], restored["type"]) == (False, True, "organization")


async def test_bad_policy_body_changes_nothing(api, org):
    response = await api.patch(integration(org) + "/policy", json={"allow_members_to_remove": "yes"}, headers=as_member(org["owner"]))
    assert (response.status_code, response.json()["code"]) == (400, "validation_failed")
    assert "allow_members_to_remove" in response.json()["errors"]
    assert (await api.get(integration(org), headers=as_member(org["owner"]))).json()["policy"] == {
        "allow_members_to_remove": False
    }


async def test_r8_my_page_shows_only_personal_when_both_exist(api, org):
    await add_connection(
        connection(org["org_id"], ConnectionType.ORGANIZATION),
        [ZoomUser(zoom_user_id="z-" + org["member"], email=f"{org['member']}@acme.test")],
    )
    me = "/api/v1/me/integrations/zoom"
    before = (await api.get(me, headers=as_member(org["member"]))).json()
    assert (before["connected"], before["type"], before["personal"]) == (True, "organization", None)
    assert before["organization"]["seat_zoom_email"] == f"{org['member']}@acme.test"

    await add_connection(connection(org["org_id"], ConnectionType.PERSONAL, user_id=org["member"], zoom_email="me@zoom.test"))
    after = (await api.get(me, headers=as_member(org["member"]))).json()
    assert (after["connected"], after["type"], after["organization"]) == (True, "personal", None)
    assert after["personal"]["zoom_email"] == "me@zoom.test"


async def test_r9_members_table_pages_filters_and_searches(api, org):
    org_id = org["org_id"]
    batch = [
        {"user_id": f"{org_id}-p{i:02d}", "email": f"p{i:02d}@acme.test", "name": f"Zed {i:02d}", "role": "member"}
        for i in range(25)
    ]
    await api.post(f"/api/v1/orgs/{org_id}/members/batch", json={"members": batch}, headers=KEY)
    await add_connection(
        connection(org_id, ConnectionType.ORGANIZATION),
        [ZoomUser(zoom_user_id=f"z{i}", email=f"p{i:02d}@acme.test") for i in range(10)],
    )
    for i in range(3):
        await add_connection(
            connection(org_id, ConnectionType.PERSONAL, ConnectionStatus.NEEDS_RECONNECT if i == 0 else ConnectionStatus.ACTIVE, user_id=f"{org_id}-p{i + 20:02d}")
        )
    owner = as_member(org["owner"])

    seen, cursor = [], None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = (await api.get(integration(org) + "/members", params=params, headers=owner)).json()
        assert page["total"] == 28  # every page says how many the filter lists in all
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 28 and len({row["user_id"] for row in seen}) == 28
    assert [row["name"] for row in seen] == sorted(row["name"] for row in seen)

    async def ids(**params) -> set[str]:
        response = await api.get(integration(org) + "/members", params={"limit": 200, **params}, headers=owner)
        assert response.status_code == 200, response.text
        return {row["user_id"] for row in response.json()["items"]}

    assert await ids(type="organization") == {f"{org_id}-p{i:02d}" for i in range(10)}
    assert await ids(type="personal") == {f"{org_id}-p{i:02d}" for i in (21, 22)}
    assert await ids(type="personal", connected="false") == set()
    assert len(await ids(connected="false")) == 28 - 10 - 2
    assert await ids(type="none") == await ids(connected="false")
    assert await ids(q="zed 0") == {f"{org_id}-p0{i}" for i in range(10)}
    assert await ids(q="P13@ACME") == {f"{org_id}-p13"}
    assert await ids(q="%") == set()
    counts = (await api.get(integration(org), headers=owner)).json()["counts"]
    assert counts == {"organization": 10, "personal": 2, "not_connected": 16, "total": 28}
    row = next(r for r in seen if r["user_id"] == f"{org_id}-p20")
    assert (row["connected"], row["type"], row["status"], row["reason"]) == (
        False,
        None,
        "needs_reconnect",
        "personal_needs_reconnect",
    )


@pytest.mark.parametrize(
    "params, code",
    [
        ({"limit": 0}, "validation_failed"),
        ({"limit": 201}, "validation_failed"),
        ({"type": "robot"}, "validation_failed"),
        ({"connected": "maybe"}, "validation_failed"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
    ],
)
async def test_bad_members_queries_get_clear_errors(api, org, params, code):
    response = await api.get(integration(org) + "/members", params=params, headers=as_member(org["owner"]))
    assert (response.status_code, response.json()["code"]) == (400, code)
    assert response.json()["detail"]


async def launch(api, org, user: str) -> httpx.Response:
    created = await api.post(f"/api/v1/orgs/{org['org_id']}/members/{org[user]}/launch", headers=KEY)
    assert created.status_code == 201
    return await api.get(created.json()["url"].replace(str(api.base_url).rstrip("/"), ""))


async def test_launch_link_opens_a_session_once(api, org):
    first = await launch(api, org, "owner")
    assert first.status_code == 303 and first.headers["location"] == "/integrations/zoom"
    session = first.cookies["roomlink_session"]
    assert "httponly" in first.headers.get_list("set-cookie")[0].lower()
    async with httpx.AsyncClient(base_url=str(api.base_url), cookies={"roomlink_session": session}) as browser:
        assert (await browser.get(integration(org))).status_code == 200
    replay_url = first.request.url.path
    assert (await api.get(replay_url)).status_code == 410


async def test_cookie_changes_need_the_csrf_header(api, org):
    opened = await launch(api, org, "owner")
    cookies = {"roomlink_session": opened.cookies["roomlink_session"]}
    async with httpx.AsyncClient(base_url=str(api.base_url), cookies=cookies) as browser:
        refused = await browser.patch(integration(org) + "/policy", json={"allow_members_to_remove": True})
        assert (refused.status_code, refused.json()["code"]) == (403, "csrf_failed")
        assert (await browser.get(integration(org))).json()["policy"]["allow_members_to_remove"] is False
        accepted = await browser.patch(
            integration(org) + "/policy",
            json={"allow_members_to_remove": True},
            headers={"X-CSRF-Token": opened.cookies["roomlink_csrf"]},
        )
        assert accepted.status_code == 200


async def test_no_credentials_at_all(api, org):
    response = await api.get("/api/v1/me/integrations/zoom")
    assert (response.status_code, response.json()["code"]) == (401, "authentication_required")
    async with httpx.AsyncClient(base_url=str(api.base_url), cookies={"roomlink_session": "forged"}) as browser:
        forged = await browser.get("/api/v1/me/integrations/zoom")
    assert (forged.status_code, forged.json()["code"]) == (401, "session_expired")


async def test_health_readiness_and_schema(api):
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    assert (await api.get("/readyz")).status_code == 200
    schema = (await api.get("/schema/openapi.json")).json()
    operation_ids = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert {"ListZoomMembers", "GetOrganizationZoom", "BatchPutMembers", "GetMyZoom", "SetZoomPolicy"} <= operation_ids


async def test_unknown_path_is_a_problem(api):
    response = await api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
