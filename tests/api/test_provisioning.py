"""Provisioning over the API key: creates, updates, and refuses bad input without changing anything."""

from __future__ import annotations

import pytest

from tests.api.conftest import KEY, as_member


async def members_of(api, org) -> list[dict]:
    response = await api.get(
        f"/api/v1/orgs/{org['org_id']}/integrations/zoom/members?limit=200", headers=as_member(org["owner"])
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_put_organization_creates_then_updates(api, org):
    response = await api.put(f"/api/v1/orgs/{org['org_id']}", json={"name": "Acme Renamed"}, headers=KEY)
    assert response.status_code == 200
    assert response.json()["name"] == "Acme Renamed"


async def test_put_member_creates_then_updates(api, org):
    path = f"/api/v1/orgs/{org['org_id']}/members/{org['member']}"
    response = await api.put(path, json={"email": "New@Acme.test", "name": "New Name", "role": "admin"}, headers=KEY)
    assert response.status_code == 200
    assert (response.json()["email"], response.json()["role"]) == ("New@Acme.test", "admin")


async def test_batch_creates_and_updates(api, org):
    members = [
        {"user_id": f"{org['org_id']}-b{i}", "email": f"b{i}@acme.test", "name": f"Batch {i}", "role": "member"}
        for i in range(5)
    ] + [{"user_id": org["member"], "email": "m@acme.test", "name": "Member Again", "role": "member"}]
    response = await api.post(f"/api/v1/orgs/{org['org_id']}/members/batch", json={"members": members}, headers=KEY)
    assert response.status_code == 200
    assert response.json() == {"created": 5, "updated": 1}
    assert len(await members_of(api, org)) == 3 + 5


BAD_BATCHES = {
    "oversized": (
        [{"user_id": f"u{i}", "email": f"u{i}@x.test", "name": "N", "role": "member"} for i in range(1001)],
        413,
        "batch_too_large",
    ),
    "bad role": ([{"user_id": "ok-1", "email": "a@x.test", "name": "N", "role": "boss"}], 400, "validation_failed"),
    "malformed id": ([{"user_id": "bad id!", "email": "a@x.test", "name": "N", "role": "member"}], 400, "validation_failed"),
    "duplicate id": (
        [{"user_id": "dup", "email": "a@x.test", "name": "N", "role": "member"}] * 2,
        400,
        "validation_failed",
    ),
}


@pytest.mark.parametrize("case", BAD_BATCHES)
async def test_bad_batch_is_refused_and_changes_nothing(api, org, case):
    members, status, code = BAD_BATCHES[case]
    valid_first = [{"user_id": f"{org['org_id']}-valid", "email": "v@x.test", "name": "Valid", "role": "member"}]
    before = await members_of(api, org)
    response = await api.post(
        f"/api/v1/orgs/{org['org_id']}/members/batch", json={"members": valid_first + members}, headers=KEY
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert await members_of(api, org) == before


async def test_bad_role_names_the_field(api, org):
    response = await api.put(
        f"/api/v1/orgs/{org['org_id']}/members/x1", json={"email": "x@acme.test", "name": "X", "role": "boss"}, headers=KEY
    )
    assert response.status_code == 400
    assert "role" in response.json()["errors"]


async def test_bad_email_says_so_in_words(api, org):
    response = await api.put(
        f"/api/v1/orgs/{org['org_id']}/members/x1", json={"email": "nope", "name": "X", "role": "member"}, headers=KEY
    )
    assert response.json()["errors"] == {"email": "must be an email address"}


@pytest.mark.parametrize(
    "method, path_suffix, body, status, code",
    [
        ("PUT", "/members/bad%20id", {"email": "x@acme.test", "name": "X", "role": "member"}, 400, "invalid_identifier"),
        ("PUT", "/members/" + "x" * 129, {"email": "x@acme.test", "name": "X", "role": "member"}, 400, "invalid_identifier"),
        ("DELETE", "/members/nobody", None, 404, "member_not_found"),
        ("POST", "/members/nobody/launch", None, 404, "member_not_found"),
        ("PUT", "/members/x2", {"email": "x@acme.test", "name": "", "role": "member"}, 400, "validation_failed"),
        ("PUT", "/members/x3", {"email": "x@acme.test", "name": "X", "role": "member", "extra": 1}, 400, "validation_failed"),
    ],
)
async def test_bad_member_requests_are_refused_and_change_nothing(api, org, method, path_suffix, body, status, code):
    before = await members_of(api, org)
    response = await api.request(method, f"/api/v1/orgs/{org['org_id']}{path_suffix}", json=body, headers=KEY)
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert await members_of(api, org) == before


async def test_unknown_organization(api):
    response = await api.put(
        "/api/v1/orgs/no-such-org/members/u1", json={"email": "x@acme.test", "name": "X", "role": "member"}, headers=KEY
    )
    assert (response.status_code, response.json()["code"]) == (404, "organization_not_found")


async def test_wrong_content_type_is_refused(api, org):
    response = await api.put(
        f"/api/v1/orgs/{org['org_id']}",
        content=b"name=Other",
        headers={**KEY, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")


async def test_malformed_json_is_refused(api, org):
    response = await api.put(
        f"/api/v1/orgs/{org['org_id']}", content=b'{"name":', headers={**KEY, "Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()["code"]) == (400, "malformed_json")


async def test_a_user_belongs_to_one_organization(api, org):
    other = f"{org['org_id']}-other"
    await api.put(f"/api/v1/orgs/{other}", json={"name": "Other"}, headers=KEY)
    response = await api.put(
        f"/api/v1/orgs/{other}/members/{org['member']}", json={"email": "m@x.test", "name": "M", "role": "member"}, headers=KEY
    )
    assert (response.status_code, response.json()["code"]) == (409, "member_of_another_organization")


@pytest.mark.parametrize(
    "headers, status, code",
    [
        ({}, 401, "authentication_required"),
        ({"Authorization": "Bearer wrong-key-0000000000000"}, 401, "invalid_api_key"),
    ],
)
async def test_provisioning_needs_the_api_key(api, org, headers, status, code):
    response = await api.put(f"/api/v1/orgs/{org['org_id']}", json={"name": "Hijacked"}, headers=headers)
    assert (response.status_code, response.json()["code"]) == (status, code)


async def test_provisioning_cannot_act_as_a_member(api, org):
    response = await api.put(f"/api/v1/orgs/{org['org_id']}", json={"name": "X"}, headers=as_member(org["owner"]))
    assert (response.status_code, response.json()["code"]) == (403, "provisioning_as_member")


async def test_deleting_a_member(api, org):
    response = await api.delete(f"/api/v1/orgs/{org['org_id']}/members/{org['member']}", headers=KEY)
    assert response.status_code == 204
    assert org["member"] not in {row["user_id"] for row in await members_of(api, org)}


async def test_launch_link_rejects_an_outside_next(api, org):
    response = await api.post(
        f"/api/v1/orgs/{org['org_id']}/members/{org['member']}/launch", params={"next": "//evil.test/"}, headers=KEY
    )
    assert (response.status_code, response.json()["code"]) == (400, "validation_failed")
