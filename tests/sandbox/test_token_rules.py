"""Zoom's token and rate-limit rules that Roomlink depends on (zoom-reference/README.md):
re-authorization ends earlier grants, a Member cannot install an admin-managed app, per-second
limits answer 429 without Retry-After, a daily limit names its reset as an ISO 8601 time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.sandbox.flows import (
    ADMIN_APP,
    USER_APP,
    Pkce,
    add_account,
    add_user,
    authorize_params,
    bearer,
    connect,
    refresh,
)
from tests.sandbox.zoom_documents import load_document

INVALID_TOKEN = {"reason": "Invalid Token!", "error": "invalid_grant"}
RATE_LIMIT_HEADERS = ("x-ratelimit-category", "x-ratelimit-type", "x-ratelimit-limit", "x-ratelimit-remaining")


@pytest.fixture
def acme(client) -> dict:
    add_account(client, "Acme", "acme")
    return {
        "owner": add_user(client, "acme", "olga@acme.test", "owner"),
        "admin": add_user(client, "acme", "adam@acme.test", "admin"),
        "member": add_user(client, "acme", "mia@acme.test", "member"),
    }


def me(client, access_token: str):
    return client.get("/v2/users/me", headers=bearer(access_token))


# Re-authorization: "the last token issued is considered valid, and the previous ones are invalidated"


@pytest.mark.parametrize("app, approver", [(USER_APP, "member"), (ADMIN_APP, "admin")])
def test_approving_the_same_app_again_ends_the_earlier_grant(client, acme, app, approver):
    first = connect(client, app, acme[approver])
    second = connect(client, app, acme[approver])

    old = me(client, first["access_token"])

    assert (old.status_code, old.json()["code"]) == (401, 4741)
    assert refresh(client, app, first["refresh_token"]).json() == INVALID_TOKEN
    assert me(client, second["access_token"]).status_code == 200
    assert refresh(client, app, second["refresh_token"]).status_code == 200


def test_re_authorization_leaves_other_apps_and_other_users_alone(client, acme):
    personal = connect(client, USER_APP, acme["admin"])
    colleague = connect(client, ADMIN_APP, acme["owner"])
    connect(client, ADMIN_APP, acme["admin"])
    connect(client, ADMIN_APP, acme["admin"])

    assert me(client, personal["access_token"]).status_code == 200
    assert me(client, colleague["access_token"]).status_code == 200


def test_the_ended_grant_is_no_longer_live_for_deauthorization(client, acme):
    connect(client, USER_APP, acme["member"])
    connect(client, USER_APP, acme["member"])

    response = client.post("/sandbox/deauthorize", json={"client_id": USER_APP.client_id, "user_id": acme["member"]["id"]})

    assert response.json() == {"revoked_grants": 1}


# An admin-managed app needs an account Owner or Admin to install it


def test_a_member_approving_the_admin_managed_app_is_stopped_on_zooms_page_without_a_code(client, acme):
    form = authorize_params(ADMIN_APP, Pkce.new()) | {"zoom_user_id": acme["member"]["id"], "decision": "approve"}

    response = client.post("/oauth/authorize", data=form, follow_redirects=False)

    assert response.status_code == 403 and "location" not in response.headers
    assert "An account admin is required to install this type of app" in response.text
    assert "mia@acme.test" in response.text
    assert client.app.state.sandbox.codes == {}


def test_auto_approve_stops_a_member_too(client, acme):
    client.put("/sandbox/settings", json={"auto_approve": True})
    params = authorize_params(ADMIN_APP, Pkce.new(), login_hint="mia@acme.test")

    response = client.get("/oauth/authorize", params=params, follow_redirects=False)

    assert response.status_code == 403 and "install this type of app" in response.text
    assert client.app.state.sandbox.codes == {}


def test_a_member_may_still_install_the_user_managed_app(client, acme):
    assert me(client, connect(client, USER_APP, acme["member"])["access_token"]).status_code == 200


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_install_the_admin_managed_app(client, acme, role):
    assert ":admin" in connect(client, ADMIN_APP, acme[role])["scope"]


# Rate limits


def test_every_answer_of_a_labelled_operation_reports_the_per_second_budget(client, acme):
    token = connect(client, ADMIN_APP, acme["admin"])["access_token"]

    answers = [client.get("/v2/users", headers=bearer(token)) for _ in range(3)]

    assert all(answer.headers["x-ratelimit-type"] == "QPS" for answer in answers)
    assert [answer.headers["x-ratelimit-remaining"] for answer in answers] == ["59", "58", "57"]
    assert {answer.headers["x-ratelimit-category"] for answer in answers} == {"Medium"}


def test_past_the_per_second_limit_zoom_answers_429_without_retry_after(client, clock, acme):
    client.put("/sandbox/settings", json={"enforce_qps": True, "qps_limits": {"Medium": 2}})
    token = connect(client, ADMIN_APP, acme["admin"])["access_token"]

    within = [client.get("/v2/users", headers=bearer(token)) for _ in range(2)]
    over = client.get("/v2/users", headers=bearer(token))
    clock.advance(seconds=1)
    next_second = client.get("/v2/users", headers=bearer(token))

    assert [answer.status_code for answer in within] == [200, 200]
    assert (over.status_code, over.json()["code"]) == (429, 429)
    assert "retry-after" not in over.headers
    assert {name: over.headers[name] for name in RATE_LIMIT_HEADERS} == {
        "x-ratelimit-category": "Medium",
        "x-ratelimit-type": "QPS",
        "x-ratelimit-limit": "2",
        "x-ratelimit-remaining": "0",
    }
    assert next_second.status_code == 200
    # Zoom documents 429 for this operation; its body has the REST API's error shape.
    assert "429" in load_document("users-api.openapi.json")["paths"]["/users"]["get"]["responses"]


def test_per_second_limits_are_counted_per_zoom_account(client, acme):
    client.put("/sandbox/settings", json={"enforce_qps": True, "qps_limits": {"Medium": 1}})
    add_account(client, "Globex", "globex")
    acme_token = connect(client, ADMIN_APP, acme["admin"])["access_token"]
    globex_token = connect(client, ADMIN_APP, add_user(client, "globex", "gil@globex.test", "owner"))["access_token"]

    assert client.get("/v2/users", headers=bearer(acme_token)).status_code == 200
    assert client.get("/v2/users", headers=bearer(globex_token)).status_code == 200
    assert client.get("/v2/users", headers=bearer(acme_token)).status_code == 429


def test_settings_change_one_label_of_the_per_second_limits(client):
    changed = client.put("/sandbox/settings", json={"qps_limits": {"Heavy": 5}})

    assert changed.json()["qps_limits"] == {"Light": 80, "Medium": 60, "Heavy": 5}
    assert client.put("/sandbox/settings", json={"qps_limits": {"Huge": 5}}).status_code == 400


def test_an_injected_qps_429_has_no_retry_after(client, acme):
    token = connect(client, ADMIN_APP, acme["admin"])["access_token"]
    client.post("/sandbox/faults", json={"method": "GET", "path_prefix": "/v2/users", "status": 429})

    limited = client.get("/v2/users", headers=bearer(token))

    assert (limited.status_code, limited.headers["x-ratelimit-type"]) == (429, "QPS")
    assert "retry-after" not in limited.headers


def test_an_injected_daily_limit_names_the_next_utc_midnight_in_iso_8601(client, clock, acme):
    token = connect(client, ADMIN_APP, acme["admin"])["access_token"]
    client.post(
        "/sandbox/faults",
        json={"method": "GET", "path_prefix": "/v2/users", "status": 429, "rate_limit_type": "Daily-limit"},
    )

    limited = client.get("/v2/users", headers=bearer(token))

    assert limited.status_code == 429 and limited.json()["code"] == 429
    assert limited.headers["x-ratelimit-type"] == "Daily-limit"
    resets = datetime.fromisoformat(limited.headers["retry-after"].replace("Z", "+00:00"))
    assert resets == datetime(2030, 3, 15, tzinfo=UTC) and clock.now.date().day == 14
    assert limited.headers["retry-after"] == "2030-03-15T00:00:00Z"


def test_an_injected_daily_limit_may_reset_sooner_for_a_test(client, acme):
    token = connect(client, ADMIN_APP, acme["admin"])["access_token"]
    client.post(
        "/sandbox/faults",
        json={"method": "GET", "path_prefix": "/v2/users", "status": 429, "rate_limit_type": "Daily-limit", "retry_after": 90},
    )

    assert client.get("/v2/users", headers=bearer(token)).headers["retry-after"] == "2030-03-14T09:31:30Z"
