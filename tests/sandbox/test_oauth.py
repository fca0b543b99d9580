from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.sandbox.flows import (
    ADMIN_APP,
    REDIRECT_URI,
    USER_APP,
    Pkce,
    add_account,
    add_user,
    approve,
    authorize_params,
    bearer,
    connect,
    exchange,
    refresh,
)

INVALID_TOKEN = {"reason": "Invalid Token!", "error": "invalid_grant"}
INVALID_CLIENT = {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}


@pytest.fixture
def alice(client) -> dict:
    add_account(client, "Acme", "acme")
    return add_user(client, "acme", "alice@acme.test", "owner")


def redirect_query(response) -> dict[str, list[str]]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return parse_qs(urlsplit(location).query)


def test_authorize_page_lists_active_users_grouped_by_account_with_roles(client):
    add_account(client, "Acme", "acme")
    add_account(client, "Globex", "globex")
    add_user(client, "acme", "olga@acme.test", "owner")
    add_user(client, "acme", "mia@acme.test", "member")
    add_user(client, "globex", "adam@globex.test", "admin")
    gone = add_user(client, "globex", "gone@globex.test", "member")
    client.patch(f"/sandbox/users/{gone['id']}", json={"status": "inactive"})

    page = client.get("/oauth/authorize", params=authorize_params(USER_APP, Pkce.new()))

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert html.index("Acme") < html.index("olga@acme.test") < html.index("Globex") < html.index("adam@globex.test")
    assert "Owner" in html and "Member" in html and "Admin" in html
    assert "gone@globex.test" not in html
    assert 'action="/oauth/authorize"' in html
    assert 'value="approve"' in html and 'value="deny"' in html


def test_approving_redirects_to_the_redirect_uri_with_code_and_state(client, alice):
    pkce = Pkce.new()
    form = authorize_params(USER_APP, pkce, state="s-42") | {"zoom_user_id": alice["id"], "decision": "approve"}

    query = redirect_query(client.post("/oauth/authorize", data=form, follow_redirects=False))

    assert query["state"] == ["s-42"]
    assert len(query["code"][0]) >= 32


def test_denying_redirects_with_access_denied(client, alice):
    form = authorize_params(USER_APP, Pkce.new()) | {"zoom_user_id": alice["id"], "decision": "deny"}

    query = redirect_query(client.post("/oauth/authorize", data=form, follow_redirects=False))

    assert query == {"error": ["access_denied"], "state": ["state-1"]}


def test_approving_without_choosing_a_user_shows_the_page_again(client, alice):
    form = authorize_params(USER_APP, Pkce.new()) | {"decision": "approve"}

    response = client.post("/oauth/authorize", data=form, follow_redirects=False)

    assert response.status_code == 400
    assert "Choose an active Zoom user" in response.text


@pytest.mark.parametrize(
    "redirect_uri",
    [REDIRECT_URI + "/", REDIRECT_URI + "?x=1", "https://evil.test/oauth/zoom/callback", ""],
)
def test_unregistered_redirect_uri_gets_an_error_page_and_no_redirect(client, redirect_uri):
    params = authorize_params(USER_APP, Pkce.new()) | {"redirect_uri": redirect_uri}

    shown = client.get("/oauth/authorize", params=params, follow_redirects=False)
    posted = client.post("/oauth/authorize", data=params | {"decision": "deny"}, follow_redirects=False)

    for response in (shown, posted):
        assert response.status_code == 400
        assert "location" not in response.headers
        assert "Invalid redirect URL" in response.text


def test_unknown_client_gets_an_error_page(client):
    params = authorize_params(USER_APP, Pkce.new()) | {"client_id": "nobody"}

    response = client.get("/oauth/authorize", params=params, follow_redirects=False)

    assert response.status_code == 400
    assert "Invalid client_id" in response.text


def test_plain_pkce_is_refused_back_to_the_client(client):
    params = authorize_params(USER_APP, Pkce.new()) | {"code_challenge_method": "plain"}

    query = redirect_query(client.get("/oauth/authorize", params=params, follow_redirects=False))

    assert query["error"] == ["invalid_request"]


def test_login_hint_with_auto_approve_redirects_straight_back_with_a_code(client, alice):
    client.put("/sandbox/settings", json={"auto_approve": True})
    pkce = Pkce.new()
    params = authorize_params(USER_APP, pkce, login_hint="ALICE@acme.test")

    query = redirect_query(client.get("/oauth/authorize", params=params, follow_redirects=False))

    token = exchange(client, USER_APP, query["code"][0], pkce.verifier)
    me = client.get("/v2/users/me", headers=bearer(token.json()["access_token"]))
    assert me.json()["id"] == alice["id"]


def test_login_hint_without_auto_approve_preselects_the_user_on_the_page(client, alice):
    add_user(client, "acme", "bob@acme.test")
    params = authorize_params(USER_APP, Pkce.new(), login_hint="bob@acme.test")

    page = client.get("/oauth/authorize", params=params, follow_redirects=False)

    assert page.status_code == 200
    checked = page.text.split(" checked>")[1]
    assert checked.lstrip().startswith("Bob Tester &lt;bob@acme.test&gt;")


def test_token_answer_has_zoom_fields(client, alice):
    answer = connect(client, USER_APP, alice)

    assert set(answer) == {"access_token", "token_type", "refresh_token", "expires_in", "scope"}
    assert answer["token_type"] == "bearer"
    assert answer["expires_in"] == 3600
    assert answer["access_token"] != answer["refresh_token"]


def test_wrong_code_verifier_is_refused_and_burns_the_code(client, alice):
    pkce = Pkce.new()
    code = approve(client, USER_APP, alice, pkce)

    wrong = exchange(client, USER_APP, code, Pkce.new().verifier)
    retried = exchange(client, USER_APP, code, pkce.verifier)

    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert retried.status_code == 400


def test_missing_code_verifier_is_refused_when_a_challenge_was_sent(client, alice):
    pkce = Pkce.new()
    code = approve(client, USER_APP, alice, pkce)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}

    response = client.post("/oauth/token", data=form, auth=(USER_APP.client_id, USER_APP.client_secret))

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_code_works_once(client, alice):
    pkce = Pkce.new()
    code = approve(client, USER_APP, alice, pkce)

    first = exchange(client, USER_APP, code, pkce.verifier)
    second = exchange(client, USER_APP, code, pkce.verifier)

    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(("seconds", "status"), [(299, 200), (300, 400), (301, 400)])
def test_a_code_expires_after_five_minutes(client, clock, alice, seconds, status):
    pkce = Pkce.new()
    code = approve(client, USER_APP, alice, pkce)

    clock.advance(seconds=seconds)

    assert exchange(client, USER_APP, code, pkce.verifier).status_code == status


def test_the_token_redirect_uri_must_equal_the_authorize_one(client, alice):
    pkce = Pkce.new()
    code = approve(client, USER_APP, alice, pkce)

    response = exchange(client, USER_APP, code, pkce.verifier, redirect_uri=REDIRECT_URI + "/")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_code_works_only_for_the_app_it_was_issued_to(client, alice):
    pkce = Pkce.new()
    code = approve(client, USER_APP, alice, pkce)

    response = exchange(client, ADMIN_APP, code, pkce.verifier)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_refresh_rotates_and_the_old_refresh_token_then_fails(client, alice):
    first = connect(client, USER_APP, alice)

    rotated = refresh(client, USER_APP, first["refresh_token"])
    replayed = refresh(client, USER_APP, first["refresh_token"])
    again = refresh(client, USER_APP, rotated.json()["refresh_token"])

    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != first["refresh_token"]
    assert rotated.json()["access_token"] != first["access_token"]
    assert (replayed.status_code, replayed.json()) == (400, INVALID_TOKEN)
    assert again.status_code == 200
    assert client.get("/v2/users/me", headers=bearer(again.json()["access_token"])).status_code == 200


def test_a_refresh_token_works_only_for_its_app(client, alice):
    tokens = connect(client, USER_APP, alice)

    response = refresh(client, ADMIN_APP, tokens["refresh_token"])

    assert (response.status_code, response.json()) == (400, INVALID_TOKEN)


def test_refresh_tokens_expire_after_90_days(client, clock, alice):
    tokens = connect(client, USER_APP, alice)

    clock.advance(days=90)

    assert (refresh(client, USER_APP, tokens["refresh_token"]).json()) == INVALID_TOKEN


def test_access_tokens_expire_after_the_configured_ttl(client, clock, alice):
    client.put("/sandbox/settings", json={"access_token_ttl_s": 600})
    tokens = connect(client, USER_APP, alice)

    clock.advance(seconds=599)
    still = client.get("/v2/users/me", headers=bearer(tokens["access_token"]))
    clock.advance(seconds=1)
    expired = client.get("/v2/users/me", headers=bearer(tokens["access_token"]))

    assert tokens["expires_in"] == 600
    assert still.status_code == 200
    assert (expired.status_code, expired.json()) == (401, {"code": 124, "message": "Access token is expired."})


@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
def test_revoking_either_token_ends_the_whole_grant(client, alice, which):
    tokens = connect(client, USER_APP, alice)
    newer = refresh(client, USER_APP, tokens["refresh_token"]).json()

    revoked = client.post(
        "/oauth/revoke", data={"token": newer[which]}, auth=(USER_APP.client_id, USER_APP.client_secret)
    )

    assert (revoked.status_code, revoked.json()) == (200, {"status": "success"})
    for access_token in (tokens["access_token"], newer["access_token"]):
        answer = client.get("/v2/users/me", headers=bearer(access_token))
        assert (answer.status_code, answer.json()["code"]) == (401, 124)
    assert refresh(client, USER_APP, newer["refresh_token"]).json() == INVALID_TOKEN


def test_revoking_leaves_other_grants_alone(client, alice):
    first = connect(client, USER_APP, alice)
    second = connect(client, USER_APP, add_user(client, "acme", "bob@acme.test", "member"))

    client.post(
        "/oauth/revoke", data={"token": first["access_token"]}, auth=(USER_APP.client_id, USER_APP.client_secret)
    )

    assert client.get("/v2/users/me", headers=bearer(second["access_token"])).status_code == 200


def test_an_app_cannot_revoke_another_apps_token(client, alice):
    tokens = connect(client, USER_APP, alice)

    client.post(
        "/oauth/revoke", data={"token": tokens["access_token"]}, auth=(ADMIN_APP.client_id, ADMIN_APP.client_secret)
    )

    assert client.get("/v2/users/me", headers=bearer(tokens["access_token"])).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic " + base64.b64encode(b"user-app:wrong-secret").decode(),
        "Basic " + base64.b64encode(b"nobody:user-app-secret").decode(),
        "Basic " + base64.b64encode(b"user-app").decode(),
        "Basic not-base64!",
        "Bearer " + base64.b64encode(b"user-app:user-app-secret").decode(),
    ],
)
@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke"])
def test_bad_client_authentication_gets_zooms_invalid_client(client, alice, authorization, path):
    headers = {"Authorization": authorization} if authorization else {}
    form = {"grant_type": "refresh_token", "refresh_token": "x", "token": "x"}

    response = client.post(path, data=form, headers=headers)

    assert (response.status_code, response.json()) == (401, INVALID_CLIENT)


def test_unknown_grant_type_is_refused(client):
    response = client.post(
        "/oauth/token", data={"grant_type": "password"}, auth=(USER_APP.client_id, USER_APP.client_secret)
    )

    assert (response.status_code, response.json()["error"]) == (400, "unsupported_grant_type")
