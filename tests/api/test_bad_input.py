"""Bad input is a clear 4xx (or 503) in problem+json that names the field, and it changes nothing."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime

import httpx
import pytest

from domain.model import ConnectionType
from domain.zoom import TokenSet
from persistence.database import unit_of_work
from persistence.token_cipher import KeyRing
from tests.api.conftest import KEY, as_member
from tests.support.builders import (
    add_connection,
    connection,
    create_organization,
    member,
    unique,
)
from tests.support.servers import ZOOM_APPS, free_port, running
from tests.support.sql import raw_sql
from tests.support.tcp_proxy import database_behind_proxy
from tests.support.zoom import signed

ADMIN_SECRET = ZOOM_APPS["ZOOM_ADMIN_APP_WEBHOOK_SECRET"]
LIBRARY_WORDING = ("Expected", "regex", "$.", "`str`", "`bool", "(?!", "msgspec")


def assert_problem(response: httpx.Response, status: int, code: str, field: str | None = None) -> dict:
    assert (response.status_code, response.headers["content-type"]) == (status, "application/problem+json"), response.text
    problem = response.json()
    assert (problem["status"], problem["code"]) == (status, code), problem
    assert problem["detail"]
    if field is not None:
        assert field in problem["errors"], problem
        assert f"`{field}`" in problem["detail"], problem
    for leak in LIBRARY_WORDING:
        assert leak not in json.dumps(problem), problem
    return problem


async def snapshot(org: dict) -> dict:
    """Everything bad input could have touched in the organization."""
    async with raw_sql() as db:
        return {
            "organization": dict(await db.fetchrow("SELECT name, updated_at FROM organizations WHERE org_id = $1", org["org_id"])),
            "members": [
                dict(row)
                for row in await db.fetch(
                    "SELECT user_id, email, name, role, updated_at FROM members WHERE org_id = $1 ORDER BY user_id",
                    org["org_id"],
                )
            ],
            "policy": await db.fetchval("SELECT allow_members_to_remove FROM organizations WHERE org_id = $1", org["org_id"]),
            "activation_links": await db.fetchval("SELECT count(*) FROM activation_links WHERE org_id = $1", org["org_id"]),
            "launch_links": await db.fetchval("SELECT count(*) FROM launch_links WHERE org_id = $1", org["org_id"]),
            "audit": await db.fetchval("SELECT count(*) FROM audit_events WHERE org_id = $1", org["org_id"]),
        }


NUL, LF, CR, ESC = "\x00", "\n", "\r", "\x1b"


def member_body(**changes: str) -> dict:
    return {"email": "new@acme.test", "name": "New Person", "role": "member", **changes}


BAD_BODIES = {
    "NUL in an organization's name": ("PUT", "", {"name": f"Acme{NUL}"}, "name"),
    "LF in an organization's name": ("PUT", "", {"name": f"Acme{LF}Evil"}, "name"),
    "ESC in a member's name": ("PUT", "/members/new-1", member_body(name=f"New{ESC}[31m"), "name"),
    "NUL in a member's email": ("PUT", "/members/new-1", member_body(email=f"new{NUL}@acme.test"), "email"),
    "an email ending in a newline": ("PUT", "/members/new-1", member_body(email=f"new@acme.test{LF}"), "email"),
    "an email carrying a header": ("PUT", "/members/new-1", member_body(email=f"new@acme.test{CR}{LF}Bcc: eve@evil.test"), "email"),
    "a batch email ending in a newline": (
        "POST",
        "/members/batch",
        {"members": [{"user_id": "b-1", "email": f"b1@acme.test{LF}", "name": "B", "role": "member"}]},
        "members[0].email",
    ),
    "a batch user_id ending in a newline": (
        "POST",
        "/members/batch",
        {"members": [{"user_id": f"b-1{LF}", "email": "b1@acme.test", "name": "B", "role": "member"}]},
        "members[0].user_id",
    ),
    "NUL in a batch user_id": (
        "POST",
        "/members/batch",
        {"members": [{"user_id": f"b{NUL}1", "email": "b1@acme.test", "name": "B", "role": "member"}]},
        "members[0].user_id",
    ),
    "a batch name with a control character": (
        "POST",
        "/members/batch",
        {"members": [{"user_id": "b-1", "email": "b1@acme.test", "name": f"B{CR}", "role": "member"}]},
        "members[0].name",
    ),
    "a name that is a number": ("PUT", "", {"name": 42}, "name"),
    "a missing role": ("PUT", "/members/new-1", {"email": "new@acme.test", "name": "N"}, "role"),
}


@pytest.mark.parametrize("case", BAD_BODIES)
async def test_bad_provisioning_bodies_are_refused_naming_the_field_and_change_nothing(api, org, case):
    method, suffix, body, field = BAD_BODIES[case]
    before = await snapshot(org)

    response = await api.request(method, f"/api/v1/orgs/{org['org_id']}{suffix}", json=body, headers=KEY)

    assert_problem(response, 400, "validation_failed", field)
    assert await snapshot(org) == before


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("PUT", "/api/v1/orgs/{org}/members/a%00b", member_body()),
        ("PUT", "/api/v1/orgs/{org}/members/ab%0A", member_body()),
        ("DELETE", "/api/v1/orgs/{org}/members/a%1Bb", None),
        ("POST", "/api/v1/orgs/{org}/members/a%00b/launch", None),
        ("PUT", "/api/v1/orgs/x%00y", {"name": "X"}),
    ],
)
async def test_control_characters_in_path_ids_are_refused(api, org, method, path, body):
    before = await snapshot(org)

    response = await api.request(method, path.format(org=org["org_id"]), json=body, headers=KEY)

    assert_problem(response, 400, "invalid_identifier")
    assert await snapshot(org) == before


@pytest.mark.parametrize(
    "next_path, why",
    [("/integrations/zoom?" + "x" * 600, "over 512 characters"), ("/integrations/zoom\r\nSet-Cookie: a=b", "a line break")],
)
async def test_a_launch_links_next_is_a_short_roomlink_path(api, org, next_path, why):
    before = await snapshot(org)

    response = await api.post(
        f"/api/v1/orgs/{org['org_id']}/members/{org['member']}/launch", params={"next": next_path}, headers=KEY
    )

    assert_problem(response, 400, "validation_failed", "next")
    assert await snapshot(org) == before


async def test_a_launch_links_next_of_512_characters_is_taken(api, org):
    next_path = "/integrations/zoom?" + "x" * (512 - len("/integrations/zoom?"))
    response = await api.post(
        f"/api/v1/orgs/{org['org_id']}/members/{org['member']}/launch", params={"next": next_path}, headers=KEY
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("ending", [LF, f"{CR}{LF}Bcc: eve@evil.test", ESC])
async def test_control_characters_in_zoom_admin_email_are_refused_and_nothing_is_sent(api, org, outbox, ending):
    address = f"{unique('zoom-admin')}@acme.test"
    before = await snapshot(org)

    response = await api.post(
        f"/api/v1/orgs/{org['org_id']}/integrations/zoom/activation-links",
        json={"zoom_admin_email": address + ending},
        headers=as_member(org["owner"]),
    )

    assert_problem(response, 400, "validation_failed", "zoom_admin_email")
    assert await snapshot(org) == before
    # The email goes out inside the request, before its answer: had it been sent, it would be here.
    assert not [message for message in outbox.messages() if address in message.to or "evil" in message.to]


@pytest.mark.parametrize("flag", [1, 0, "true", "false", None, "yes"])
async def test_the_policy_flag_takes_only_json_true_or_false(api, org, flag):
    before = await snapshot(org)

    response = await api.patch(
        f"/api/v1/orgs/{org['org_id']}/integrations/zoom/policy",
        json={"allow_members_to_remove": flag},
        headers=as_member(org["owner"]),
    )

    problem = assert_problem(response, 400, "validation_failed", "allow_members_to_remove")
    assert problem["errors"] == {"allow_members_to_remove": "must be true or false"}
    assert await snapshot(org) == before


async def test_the_policy_flag_true_is_taken(api, org):
    response = await api.patch(
        f"/api/v1/orgs/{org['org_id']}/integrations/zoom/policy",
        json={"allow_members_to_remove": True},
        headers=as_member(org["owner"]),
    )
    assert (response.status_code, response.json()) == (200, {"allow_members_to_remove": True})


@pytest.mark.parametrize(
    "params, field, code",
    [
        ({"q": f"ada{NUL}"}, "q", "validation_failed"),
        ({"q": "x" * 201}, "q", "validation_failed"),
        ({"cursor": "WyJhXHUwMDAwIiwiYiJd"}, "cursor", "invalid_cursor"),  # ["a\u0000","b"]
        ({"limit": "0"}, "limit", "validation_failed"),
        ({"type": "everyone"}, "type", "validation_failed"),
    ],
)
async def test_bad_member_list_queries_are_refused_naming_the_parameter(api, org, params, field, code):
    response = await api.get(
        f"/api/v1/orgs/{org['org_id']}/integrations/zoom/members", params=params, headers=as_member(org["owner"])
    )
    assert_problem(response, 400, code, field)


@pytest.mark.parametrize(
    "body, code",
    [(b"[" * 100_000, "validation_failed"), (b'{"name": ' + b"[" * 100_000, "validation_failed"), (b'{"name": "A', "malformed_json")],
)
async def test_a_deep_or_broken_body_is_a_400_before_any_work(api, org, body, code):
    before = await snapshot(org)
    response = await api.put(f"/api/v1/orgs/{org['org_id']}", content=body, headers={**KEY, "Content-Type": "application/json"})
    assert_problem(response, 400, code)
    assert await snapshot(org) == before


def nested(depth: int) -> dict:
    value: dict = {"id": "u1"}
    for _ in range(depth):
        value = {"a": value}
    return value


MALFORMED_WEBHOOKS = {
    "event is a number": {"event": 7, "payload": {"account_id": "a"}},
    "event is over-long": {"event": "user." + "x" * 300, "payload": {"account_id": "a"}},
    "payload is a string": {"event": "user.updated", "payload": "user.updated"},
    "payload is a list": {"event": "app_deauthorized", "payload": ["a"]},
    "url validation with a string payload": {"event": "endpoint.url_validation", "payload": "plainToken"},
    "url validation with a list payload": {"event": "endpoint.url_validation", "payload": [1]},
    "url validation without a token": {"event": "endpoint.url_validation", "payload": {}},
    "object is a string": {"event": "user.updated", "payload": {"account_id": "a", "object": "u1"}},
    "deep nesting": {"event": "user.updated", "payload": {"account_id": "a", "object": nested(200)}},
}


async def webhook_left_a_trace(body: bytes, marker: str) -> bool:
    async with raw_sql() as sql:
        recorded = await sql.fetchval(
            "SELECT count(*) FROM webhook_events WHERE event_key = $1", hashlib.sha256(body).hexdigest()
        )
        queued = await sql.fetchval(
            "SELECT count(*) FROM pgqueuer WHERE position($1::bytea IN payload) > 0", marker.encode()
        )
    return bool(recorded or queued)


@pytest.mark.parametrize("case", MALFORMED_WEBHOOKS)
async def test_a_validly_signed_but_malformed_webhook_is_a_400_and_queues_no_job(api, case):
    marker = unique("marker")
    body = json.dumps({**MALFORMED_WEBHOOKS[case], "event_ts": 1, "marker": marker}).encode()

    response = await api.post("/webhooks/zoom", content=body, headers=signed(body, ADMIN_SECRET))

    assert_problem(response, 400, "webhook_malformed")
    assert not await webhook_left_a_trace(body, marker)


async def test_a_well_formed_webhook_is_still_queued(api):
    """The check above can fail: the same probe finds a job that was queued."""
    marker = unique("marker")
    body = json.dumps({"event": "user.updated", "payload": {"account_id": "nobody", "object": {"id": "u"}}, "marker": marker})
    response = await api.post("/webhooks/zoom", content=body.encode(), headers=signed(body.encode(), ADMIN_SECRET))
    assert response.json() == {"status": "accepted"}
    assert await webhook_left_a_trace(body.encode(), marker)


async def test_the_database_down_is_503_with_retry_after_and_readyz_says_so(db, roomlink_env):
    org_id = unique("org")
    with database_behind_proxy(os.environ["DATABASE_URL"]) as (proxied_url, proxy):
        env = {**roomlink_env, "DATABASE_URL": proxied_url}
        with running("server.app:create_app", env, free_port()) as base_url:
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
                assert (await client.put(f"/api/v1/orgs/{org_id}", json={"name": "Up"}, headers=KEY)).status_code == 201
                assert (await client.get("/readyz")).status_code == 200
                proxy.cut()

                for request in (
                    client.build_request("PUT", f"/api/v1/orgs/{org_id}", json={"name": "Down"}, headers=KEY),
                    client.build_request("GET", f"/api/v1/orgs/{org_id}/integrations/zoom", headers=as_member("x")),
                    client.build_request("PUT", f"/api/v1/orgs/{org_id}", json={"name": "Still down"}, headers=KEY),
                ):
                    response = await client.send(request)
                    assert_problem(response, 503, "database_unavailable")
                    assert int(response.headers["retry-after"]) > 0
                assert (await client.get("/readyz")).status_code == 503
                assert (await client.get("/healthz")).status_code == 200
    async with raw_sql() as sql:
        assert await sql.fetchval("SELECT name FROM organizations WHERE org_id = $1", org_id) == "Up"


async def test_a_token_sealed_under_a_key_the_server_lacks_is_503_and_readyz_says_so(db, roomlink, roomlink_env):
    org_id = unique("org")
    user_id = f"{org_id}-m"
    await create_organization(org_id, [member(user_id)])
    personal = connection(org_id, ConnectionType.PERSONAL, user_id=user_id)
    await add_connection(personal)
    async with unit_of_work() as uow:
        tokens = TokenSet(access_token="a-secret", refresh_token="r-secret", expires_at=datetime.now(UTC))
        await uow.tokens.store(personal, tokens)
        await uow.commit()

    other_ring = {**roomlink_env, "ROOMLINK_TOKEN_KEYS": f"elsewhere:{KeyRing.generate_key()}"}
    with running("server.app:create_app", other_ring, free_port()) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            response = await client.delete(f"/api/v1/orgs/{org_id}/members/{user_id}", headers=KEY)
            problem = assert_problem(response, 503, "token_key_missing")
            assert "ROOMLINK_TOKEN_KEYS" in problem["detail"]
            assert int(response.headers["retry-after"]) > 0
            assert (await client.get("/readyz")).status_code == 503
    async with httpx.AsyncClient(base_url=roomlink) as client:
        assert (await client.get("/readyz")).status_code == 200
    async with unit_of_work(read_only=True) as uow:
        assert await uow.members.get(org_id, user_id) is not None
