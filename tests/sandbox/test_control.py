from __future__ import annotations

import time

import pytest

from tests.sandbox.flows import (
    ADMIN_APP,
    USER_APP,
    add_account,
    add_user,
    bearer,
    connect,
    refresh,
)

INVALID_TOKEN = {"reason": "Invalid Token!", "error": "invalid_grant"}


@pytest.fixture
def acme(client) -> dict:
    add_account(client, "Acme", "acme")
    return {
        "owner": add_user(client, "acme", "olga@acme.test", "owner"),
        "member": add_user(client, "acme", "mia@acme.test", "member"),
    }


def me_status(client, access_token: str) -> int:
    return client.get("/v2/users/me", headers=bearer(access_token)).status_code


def test_accounts_get_the_given_id_or_a_zoom_like_one(client):
    named = client.post("/sandbox/accounts", json={"id": "acme", "name": "Acme"})
    generated = client.post("/sandbox/accounts", json={"name": "Globex"})
    again = client.post("/sandbox/accounts", json={"id": "acme", "name": "Acme 2"})

    assert (named.status_code, named.json()["id"], named.json()["name"]) == (201, "acme", "Acme")
    assert generated.status_code == 201 and len(generated.json()["id"]) == 22
    assert again.status_code == 409


def test_a_new_user_gets_a_zoom_id_and_a_ten_digit_pmi(client, acme):
    member = acme["member"]

    assert len(member["id"]) == 22
    assert 10**9 <= member["pmi"] < 10**10
    assert (member["role"], member["role_id"], member["status"]) == ("member", "2", "active")
    assert member["use_pmi_for_scheduled_meetings"] is False


def test_users_need_an_existing_account(client):
    response = client.post(
        "/sandbox/accounts/nowhere/users",
        json={"email": "a@b.test", "first_name": "A", "last_name": "B", "role": "member"},
    )

    assert response.status_code == 404


@pytest.mark.parametrize("email", ["MIA@acme.test", "mia@ACME.TEST"])
def test_emails_are_unique_across_the_sandbox_in_any_case(client, acme, email):
    add_account(client, "Globex", "globex")

    response = client.post(
        "/sandbox/accounts/globex/users", json={"email": email, "first_name": "M", "last_name": "T", "role": "member"}
    )

    assert response.status_code == 409


def test_an_account_has_one_owner(client, acme):
    second = client.post(
        "/sandbox/accounts/acme/users",
        json={"email": "o2@acme.test", "first_name": "O", "last_name": "T", "role": "owner"},
    )
    promoted = client.patch(f"/sandbox/users/{acme['member']['id']}", json={"role": "owner"})

    assert second.status_code == 409
    assert promoted.status_code == 409


def test_a_batch_creates_all_users_or_none(client, acme):
    users = [{"email": f"u{n}@acme.test", "first_name": "U", "last_name": str(n), "role": "member"} for n in range(50)]

    created = client.post("/sandbox/accounts/acme/users/batch", json={"users": users})
    clashing = client.post(
        "/sandbox/accounts/acme/users/batch",
        json={"users": [{**users[0], "email": "new@acme.test"}, {**users[1], "email": "mia@acme.test"}]},
    )
    doubled = client.post(
        "/sandbox/accounts/acme/users/batch", json={"users": [users[0] | {"email": "x@acme.test"}] * 2}
    )

    assert (created.status_code, created.json()) == (201, {"created": 50})
    assert clashing.status_code == 409 and doubled.status_code == 409
    assert client.app.state.sandbox.user_by_ref("new@acme.test") is None
    assert client.app.state.sandbox.user_by_ref("x@acme.test") is None


def test_a_batch_holds_at_most_10000_users(client, acme):
    user = {"email": "u@acme.test", "first_name": "U", "last_name": "T", "role": "member"}

    response = client.post("/sandbox/accounts/acme/users/batch", json={"users": [user] * 10_001})

    assert response.status_code == 400


def test_a_deactivated_users_tokens_stop_working_until_reactivated(client, acme):
    tokens = connect(client, USER_APP, acme["member"])

    client.patch(f"/sandbox/users/{acme['member']['id']}", json={"status": "inactive"})
    while_inactive = me_status(client, tokens["access_token"])
    refused_refresh = refresh(client, USER_APP, tokens["refresh_token"])
    client.patch(f"/sandbox/users/{acme['member']['id']}", json={"status": "active"})

    assert while_inactive == 401
    assert (refused_refresh.status_code, refused_refresh.json()) == (400, INVALID_TOKEN)
    assert me_status(client, tokens["access_token"]) == 200


def test_a_deleted_users_tokens_stop_working_and_the_user_is_gone(client, acme):
    members = connect(client, USER_APP, acme["member"])
    owners = connect(client, ADMIN_APP, acme["owner"])

    deleted = client.delete(f"/sandbox/users/{acme['member']['id']}")

    assert deleted.status_code == 204
    assert me_status(client, members["access_token"]) == 401
    assert refresh(client, USER_APP, members["refresh_token"]).json() == INVALID_TOKEN
    lookup = client.get(f"/v2/users/{acme['member']['id']}", headers=bearer(owners["access_token"]))
    assert (lookup.status_code, lookup.json()["code"]) == (404, 1001)


def test_a_disassociated_user_keeps_a_personal_grant_but_loses_the_accounts(client, acme):
    personal = connect(client, USER_APP, acme["owner"])
    organization = connect(client, ADMIN_APP, acme["owner"])

    client.delete(f"/sandbox/users/{acme['owner']['id']}", params={"action": "disassociate"})

    me = client.get("/v2/users/me", headers=bearer(personal["access_token"]))
    assert me.status_code == 200 and me.json()["account_id"] != "acme"
    assert me_status(client, organization["access_token"]) == 401


def test_deauthorizing_revokes_that_apps_grants_for_that_user_only(client, acme):
    personal = connect(client, USER_APP, acme["owner"])
    organization = connect(client, ADMIN_APP, acme["owner"])
    members = connect(client, USER_APP, acme["member"])

    response = client.post(
        "/sandbox/deauthorize", json={"client_id": USER_APP.client_id, "user_id": acme["owner"]["id"]}
    )

    assert (response.status_code, response.json()) == (200, {"revoked_grants": 1})
    assert me_status(client, personal["access_token"]) == 401
    assert refresh(client, USER_APP, personal["refresh_token"]).json() == INVALID_TOKEN
    assert me_status(client, organization["access_token"]) == 200
    assert me_status(client, members["access_token"]) == 200


def test_deauthorizing_an_unknown_app_or_user_is_404(client, acme):
    unknown_app = client.post("/sandbox/deauthorize", json={"client_id": "nope", "user_id": acme["member"]["id"]})
    unknown_user = client.post("/sandbox/deauthorize", json={"client_id": USER_APP.client_id, "user_id": "nope"})

    assert unknown_app.status_code == unknown_user.status_code == 404


def test_a_fault_fails_exactly_the_next_matching_calls(client, acme):
    token = connect(client, ADMIN_APP, acme["owner"])["access_token"]
    added = client.post(
        "/sandbox/faults", json={"method": "get", "path_prefix": "/v2/users", "status": 503, "times": 2}
    )

    other_method = client.post("/v2/users/me/meetings", json={}, headers=bearer(token))
    other_path = client.get("/v2/meetings/1", headers=bearer(token))
    first = client.get("/v2/users/me", headers=bearer(token))
    left = client.get("/sandbox/faults").json()
    second = client.get("/v2/users", headers=bearer(token))
    third = client.get("/v2/users/me", headers=bearer(token))

    assert added.status_code == 201
    assert other_method.status_code == 201 and other_path.status_code == 404
    assert (first.status_code, first.json()) == (503, {"code": 503, "message": "Service Unavailable"})
    assert [fault["times"] for fault in left] == [1]
    assert second.status_code == 503
    assert third.status_code == 200
    assert client.get("/sandbox/faults").json() == []


def test_an_injected_429_carries_retry_after_and_rate_limit_headers(client, acme):
    token = connect(client, ADMIN_APP, acme["owner"])["access_token"]
    client.post(
        "/sandbox/faults",
        json={"method": "GET", "path_prefix": "/v2/users", "status": 429, "retry_after": 7, "times": 1},
    )

    limited = client.get("/v2/users", headers=bearer(token))

    assert limited.status_code == 429
    assert limited.json()["code"] == 429
    assert limited.headers["retry-after"] == "7"
    assert limited.headers["x-ratelimit-category"] == "Medium"
    assert limited.headers["x-ratelimit-type"] == "QPS"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.headers["x-ratelimit-limit"] == "60"


def test_a_fault_can_carry_a_zoom_error_code(client, acme):
    token = connect(client, ADMIN_APP, acme["owner"])["access_token"]
    client.post("/sandbox/faults", json={"method": "*", "path_prefix": "/v2/", "status": 401, "code": 124, "times": 1})

    response = client.get("/v2/users/me", headers=bearer(token))

    assert (response.status_code, response.json()) == (401, {"code": 124, "message": "Invalid access token."})


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"reason": "Invalid Token!", "error": "invalid_grant"}),
        (401, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}),
        (503, {"reason": "Service Unavailable", "error": "server_error"}),
    ],
)
def test_a_fault_on_the_token_endpoint_answers_in_oauths_shape(client, acme, status, body):
    tokens = connect(client, USER_APP, acme["member"])
    client.post("/sandbox/faults", json={"method": "POST", "path_prefix": "/oauth/token", "status": status, "times": 1})

    faulted = refresh(client, USER_APP, tokens["refresh_token"])
    after = refresh(client, USER_APP, tokens["refresh_token"])

    assert (faulted.status_code, faulted.json()) == (status, body)
    assert after.status_code == 200


def test_a_delay_fault_answers_late_and_then_normally(client, acme):
    token = connect(client, USER_APP, acme["member"])["access_token"]
    client.post("/sandbox/faults", json={"method": "GET", "path_prefix": "/v2/users/me", "delay_s": 0.3, "times": 1})

    started = time.monotonic()
    slow = client.get("/v2/users/me", headers=bearer(token))
    slow_took = time.monotonic() - started
    started = time.monotonic()
    client.get("/v2/users/me", headers=bearer(token))
    fast_took = time.monotonic() - started

    assert slow.status_code == 200
    assert slow_took >= 0.3
    assert fast_took < 0.3


def test_a_fault_needs_a_status_or_a_delay(client):
    response = client.post("/sandbox/faults", json={"method": "GET", "path_prefix": "/v2", "times": 1})

    assert response.status_code == 400


def test_clearing_faults_removes_them_all(client, acme):
    token = connect(client, USER_APP, acme["member"])["access_token"]
    client.post("/sandbox/faults", json={"method": "GET", "path_prefix": "/v2", "status": 500, "times": 5})

    cleared = client.delete("/sandbox/faults")

    assert cleared.status_code == 204
    assert me_status(client, token) == 200


def test_the_calls_log_follows_one_token_family_across_rotations(client, acme):
    client.delete("/sandbox/calls")
    first = connect(client, USER_APP, acme["member"])
    second = refresh(client, USER_APP, first["refresh_token"]).json()
    refresh(client, USER_APP, first["refresh_token"])
    third = refresh(client, USER_APP, second["refresh_token"]).json()
    client.get("/v2/users/me", headers=bearer(third["access_token"]))
    other = connect(client, USER_APP, acme["owner"])
    client.post("/sandbox/accounts", json={"name": "not a Zoom call"})

    calls = client.get("/sandbox/calls").json()

    assert [(call["method"], call["path"], call["status"], call["grant_type"]) for call in calls] == [
        ("POST", "/oauth/authorize", 302, None),
        ("POST", "/oauth/token", 200, "authorization_code"),
        ("POST", "/oauth/token", 200, "refresh_token"),
        ("POST", "/oauth/token", 400, "refresh_token"),
        ("POST", "/oauth/token", 200, "refresh_token"),
        ("GET", "/v2/users/me", 200, None),
        ("POST", "/oauth/authorize", 302, None),
        ("POST", "/oauth/token", 200, "authorization_code"),
    ]
    family = {call["token_family"] for call in calls[1:6]}
    assert len(family) == 1 and None not in family
    assert calls[7]["token_family"] not in family
    assert {call["client_id"] for call in calls} == {USER_APP.client_id}
    assert all(call["time"].endswith("Z") for call in calls)
    assert other["access_token"]


def test_the_calls_log_records_injected_faults_and_can_be_cleared(client, acme):
    client.post("/sandbox/faults", json={"method": "POST", "path_prefix": "/oauth/token", "status": 500, "times": 1})
    client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "x"}, auth=("user-app", "nope"))

    logged = client.get("/sandbox/calls").json()[-1]
    cleared = client.delete("/sandbox/calls")

    assert (logged["path"], logged["status"], logged["fault"]) == ("/oauth/token", 500, True)
    assert cleared.status_code == 204
    assert client.get("/sandbox/calls").json() == []


def test_settings_change_only_what_is_sent(client):
    before = client.get("/sandbox/settings").json()

    changed = client.put("/sandbox/settings", json={"auto_approve": True, "access_token_ttl_s": 60})
    cleared = client.put("/sandbox/settings", json={"webhook_url": None})

    assert before == {
        "auto_approve": False,
        "webhook_url": "https://roomlink.test/webhooks/zoom",
        "access_token_ttl_s": 3600,
        "daily_meeting_limit": 100,
        "enforce_qps": False,
        "qps_limits": {"Light": 80, "Medium": 60, "Heavy": 40},
        "meeting_answer_delay_s": 0.0,
        "daily_limit_status": 429,
    }
    assert changed.json() == before | {"auto_approve": True, "access_token_ttl_s": 60}
    assert cleared.json()["webhook_url"] is None
    assert client.get("/sandbox/settings").json() == cleared.json()


def test_settings_refuse_a_token_lifetime_below_a_second(client):
    assert client.put("/sandbox/settings", json={"access_token_ttl_s": 0}).status_code == 400


def test_two_sandboxes_share_nothing(config, clock):
    from litestar.testing import TestClient

    from server.zoom_sandbox import create_sandbox_app

    with (
        TestClient(create_sandbox_app(config, clock=clock)) as one,
        TestClient(create_sandbox_app(config, clock=clock)) as two,
    ):
        add_account(one, "Acme", "acme")

        assert two.post("/sandbox/accounts", json={"id": "acme", "name": "Acme"}).status_code == 201
