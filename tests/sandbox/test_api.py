from __future__ import annotations

import pytest

from tests.sandbox.flows import (
    ADMIN_APP,
    USER_APP,
    Pkce,
    add_account,
    add_user,
    approve,
    bearer,
    connect,
    exchange,
)
from tests.sandbox.zoom_documents import assert_matches, response_schema

USERS_API = "users-api.openapi.json"
MEETINGS_API = "meetings-api-2023.openapi.json"
#: Zoom returns these on create too, though the 2023 document lists them only for "Get a meeting".
CREATE_UNDOCUMENTED = {"uuid": {"type": "string"}, "host_id": {"type": "string"}}
RATE_LIMIT_HEADERS = ("x-ratelimit-category", "x-ratelimit-type", "x-ratelimit-limit", "x-ratelimit-remaining")


@pytest.fixture
def acme(client) -> dict:
    """Acme's Zoom account: an owner, an admin, a member; plus a user of another account."""
    add_account(client, "Acme", "acme")
    add_account(client, "Globex", "globex")
    return {
        "owner": add_user(client, "acme", "olga@acme.test", "owner"),
        "admin": add_user(client, "acme", "adam@acme.test", "admin"),
        "member": add_user(client, "acme", "mia@acme.test", "member"),
        "stranger": add_user(client, "globex", "sam@globex.test", "owner"),
    }


@pytest.fixture
def admin_token(client, acme) -> str:
    return connect(client, ADMIN_APP, acme["admin"])["access_token"]


def zoom_error(response) -> tuple[int, int]:
    return response.status_code, response.json()["code"]


def test_me_answers_like_zooms_get_a_user(client, acme):
    token = connect(client, USER_APP, acme["member"])["access_token"]

    me = client.get("/v2/users/me", headers=bearer(token))

    assert me.status_code == 200
    body = me.json()
    assert_matches(body, response_schema(USERS_API, "/users/{userId}", "get"))
    assert body["id"] == acme["member"]["id"]
    assert body["email"] == "mia@acme.test"
    assert (body["role_id"], body["role_name"], body["account_id"]) == ("2", "Member", "acme")
    assert body["pmi"] == acme["member"]["pmi"]
    assert 10**9 <= body["pmi"] < 10**10


@pytest.mark.parametrize(("role", "role_id", "role_name"), [("owner", "0", "Owner"), ("admin", "1", "Admin")])
def test_role_ids_follow_zooms_built_in_roles(client, acme, admin_token, role, role_id, role_name):
    user = client.get(f"/v2/users/{acme[role]['id']}", headers=bearer(admin_token)).json()

    assert (user["role_id"], user["role_name"]) == (role_id, role_name)


def test_a_user_is_found_by_id_or_by_email_in_any_case(client, acme, admin_token):
    by_id = client.get(f"/v2/users/{acme['member']['id']}", headers=bearer(admin_token))
    by_email = client.get("/v2/users/MIA@Acme.test", headers=bearer(admin_token))

    assert by_id.json() == by_email.json()


def test_settings_answer_like_zoom_and_show_the_pmi_settings(client, acme):
    client.patch(f"/sandbox/users/{acme['member']['id']}", json={"use_pmi_for_scheduled_meetings": True})
    token = connect(client, USER_APP, acme["member"])["access_token"]

    settings = client.get("/v2/users/me/settings", headers=bearer(token))

    assert settings.status_code == 200
    assert_matches(settings.json(), response_schema(USERS_API, "/users/{userId}/settings", "get"))
    schedule = settings.json()["schedule_meeting"]
    assert schedule["use_pmi_for_scheduled_meetings"] is True
    assert schedule["use_pmi_for_instant_meetings"] is False


def test_listing_users_pages_with_next_page_token(client, acme, admin_token):
    client.post(
        "/sandbox/accounts/acme/users/batch",
        json={
            "users": [
                {"email": f"u{n}@acme.test", "first_name": "U", "last_name": str(n), "role": "member"} for n in range(4)
            ]
        },
    )
    seen, token, pages = [], None, []
    while token != "":
        params = {"page_size": 3} | ({"next_page_token": token} if token else {})
        page = client.get("/v2/users", params=params, headers=bearer(admin_token))
        assert page.status_code == 200, page.text
        assert_matches(page.json(), response_schema(USERS_API, "/users", "get"))
        pages.append(page.json())
        seen += [user["email"] for user in page.json()["users"]]
        token = page.json()["next_page_token"]

    assert [len(page["users"]) for page in pages] == [3, 3, 1]
    assert {(page["total_records"], page["page_count"], page["page_size"]) for page in pages} == {(7, 3, 3)}
    assert seen[:3] == ["olga@acme.test", "adam@acme.test", "mia@acme.test"]
    assert len(set(seen)) == 7
    assert "sam@globex.test" not in seen


def test_listing_users_defaults_to_30_and_clamps_page_size_to_300(client, acme, admin_token):
    users = [{"email": f"u{n}@acme.test", "first_name": "U", "last_name": str(n), "role": "member"} for n in range(310)]
    client.post("/sandbox/accounts/acme/users/batch", json={"users": users})

    default = client.get("/v2/users", headers=bearer(admin_token)).json()
    large = client.get("/v2/users", params={"page_size": 1000}, headers=bearer(admin_token)).json()
    rest = client.get(
        "/v2/users",
        params={"page_size": 1000, "next_page_token": large["next_page_token"]},
        headers=bearer(admin_token),
    ).json()

    assert (default["page_size"], len(default["users"])) == (30, 30)
    assert (large["page_size"], len(large["users"]), large["total_records"]) == (300, 300, 313)
    assert (len(rest["users"]), rest["next_page_token"]) == (13, "")


@pytest.mark.parametrize("page_size", ["0", "-1", "many"])
def test_a_meaningless_page_size_is_a_validation_error(client, admin_token, page_size):
    response = client.get("/v2/users", params={"page_size": page_size}, headers=bearer(admin_token))

    assert zoom_error(response) == (400, 300)


def test_an_unknown_or_expired_next_page_token_is_refused(client, clock, acme, admin_token):
    first = client.get("/v2/users", params={"page_size": 1}, headers=bearer(admin_token)).json()

    unknown = client.get("/v2/users", params={"next_page_token": "made-up"}, headers=bearer(admin_token))
    clock.advance(minutes=15)
    expired = client.get("/v2/users", params={"next_page_token": first["next_page_token"]}, headers=bearer(admin_token))

    for response in (unknown, expired):
        assert response.status_code == 400
        assert response.json() == {"code": 300, "message": "The next page token is invalid or expired."}


def test_listing_filters_by_status_and_role(client, acme, admin_token):
    client.patch(f"/sandbox/users/{acme['member']['id']}", json={"status": "inactive"})

    active = client.get("/v2/users", headers=bearer(admin_token)).json()["users"]
    inactive = client.get("/v2/users", params={"status": "inactive"}, headers=bearer(admin_token)).json()["users"]
    owners = client.get("/v2/users", params={"role_id": "0"}, headers=bearer(admin_token)).json()["users"]

    assert [user["email"] for user in active] == ["olga@acme.test", "adam@acme.test"]
    assert [(user["email"], user["status"]) for user in inactive] == [("mia@acme.test", "inactive")]
    assert [user["email"] for user in owners] == ["olga@acme.test"]


def test_a_user_managed_token_acts_only_as_its_user(client, acme):
    token = connect(client, USER_APP, acme["admin"])["access_token"]

    own = [
        client.get(f"/v2/users/{ref}", headers=bearer(token)) for ref in ("me", acme["admin"]["id"], "ADAM@acme.test")
    ]
    colleague = client.get(f"/v2/users/{acme['member']['id']}", headers=bearer(token))
    listing = client.get("/v2/users", headers=bearer(token))
    meeting = client.post(f"/v2/users/{acme['member']['id']}/meetings", json={}, headers=bearer(token))

    assert [response.status_code for response in own] == [200, 200, 200]
    for response in (colleague, listing, meeting):
        assert zoom_error(response) == (400, 4711)
    assert "user:read:admin" in colleague.json()["message"]
    assert "meeting:write:admin" in meeting.json()["message"]


def test_an_admin_managed_token_of_an_admin_acts_for_its_account_only(client, acme, admin_token):
    colleague = client.get(f"/v2/users/{acme['member']['id']}", headers=bearer(admin_token))
    meeting = client.post(f"/v2/users/{acme['member']['id']}/meetings", json={}, headers=bearer(admin_token))
    stranger = client.get(f"/v2/users/{acme['stranger']['id']}", headers=bearer(admin_token))
    stranger_by_email = client.get("/v2/users/sam@globex.test/settings", headers=bearer(admin_token))

    assert colleague.status_code == 200
    assert (meeting.status_code, meeting.json()["host_id"]) == (201, acme["member"]["id"])
    for response in (stranger, stranger_by_email):
        assert zoom_error(response) == (404, 1001)


def test_an_admin_managed_token_of_an_admin_demoted_before_the_code_exchange_reads_only_me(client, acme):
    pkce = Pkce.new()
    code = approve(client, ADMIN_APP, acme["admin"], pkce)
    client.patch(f"/sandbox/users/{acme['admin']['id']}", json={"role": "member"})
    answer = exchange(client, ADMIN_APP, code, pkce.verifier).json()

    me = client.get("/v2/users/me", headers=bearer(answer["access_token"]))
    colleague = client.get(f"/v2/users/{acme['owner']['id']}", headers=bearer(answer["access_token"]))

    assert ":admin" not in answer["scope"]
    assert me.status_code == 200
    assert zoom_error(colleague) == (400, 4711)


def test_an_admin_who_is_demoted_loses_the_account_scope_at_once(client, acme, admin_token):
    client.patch(f"/sandbox/users/{acme['admin']['id']}", json={"role": "member"})

    colleague = client.get(f"/v2/users/{acme['member']['id']}", headers=bearer(admin_token))
    me = client.get("/v2/users/me", headers=bearer(admin_token))

    assert zoom_error(colleague) == (400, 4711)
    assert me.status_code == 200


def test_an_unknown_user_is_1001(client, admin_token):
    response = client.get("/v2/users/nobody@acme.test", headers=bearer(admin_token))

    assert response.status_code == 404
    assert response.json() == {"code": 1001, "message": "User does not exist: nobody@acme.test."}


@pytest.mark.parametrize("authorization", [None, "Bearer ", "Bearer made-up", "Basic abc"])
def test_a_missing_or_unknown_token_is_124(client, authorization):
    headers = {"Authorization": authorization} if authorization else {}

    response = client.get("/v2/users/me", headers=headers)

    assert response.status_code == 401
    assert response.json() == {"code": 124, "message": "Invalid access token."}


def test_every_v2_answer_carries_rate_limit_headers(client, acme, admin_token):
    answers = {
        "light": client.get("/v2/users/me", headers=bearer(admin_token)),
        "medium": client.get("/v2/users", headers=bearer(admin_token)),
        "not found": client.get("/v2/users/nobody", headers=bearer(admin_token)),
        "bad token": client.get("/v2/users/me"),
        "meeting not found": client.get("/v2/meetings/123", headers=bearer(admin_token)),
    }

    for name, response in answers.items():
        assert all(header in response.headers for header in RATE_LIMIT_HEADERS), name
        assert response.headers["x-ratelimit-type"] == "QPS", name
    assert answers["light"].headers["x-ratelimit-category"] == "Light"
    assert answers["medium"].headers["x-ratelimit-category"] == "Medium"


def test_rate_limit_remaining_counts_down_within_a_second_per_account(client, clock, acme, admin_token):
    other = connect(client, ADMIN_APP, acme["stranger"])["access_token"]

    def remaining(token: str) -> int:
        return int(client.get("/v2/users/me", headers=bearer(token)).headers["x-ratelimit-remaining"])

    counted = [remaining(admin_token), remaining(admin_token), remaining(other)]
    clock.advance(seconds=1)
    counted.append(remaining(admin_token))

    assert counted == [79, 78, 79, 79]


def create_meeting(client, token: str, user: str = "me", **body):
    return client.post(f"/v2/users/{user}/meetings", json=body, headers=bearer(token))


def test_meetings_are_created_read_updated_and_deleted_like_zoom(client, acme, admin_token):
    created = create_meeting(
        client, admin_token, acme["member"]["id"], topic="Pilates", start_time="2030-04-01T08:00:00Z", duration=45
    )
    assert created.status_code == 201, created.text
    meeting = created.json()
    assert_matches(
        meeting,
        response_schema(MEETINGS_API, "/users/{userId}/meetings", "post", "201", also_allow=CREATE_UNDOCUMENTED),
    )
    assert 10**9 <= meeting["id"] < 10**11
    assert (meeting["topic"], meeting["start_time"], meeting["duration"]) == ("Pilates", "2030-04-01T08:00:00Z", 45)
    assert meeting["host_id"] == acme["member"]["id"]
    assert "pmi" not in meeting and meeting["settings"]["use_pmi"] is False
    assert meeting["join_url"].startswith(f"http://testserver.local/j/{meeting['id']}?pwd=")

    fetched = client.get(f"/v2/meetings/{meeting['id']}", headers=bearer(admin_token))
    assert fetched.status_code == 200
    assert_matches(fetched.json(), response_schema(MEETINGS_API, "/meetings/{meetingId}", "get"))
    assert {key: fetched.json()[key] for key in ("uuid", "join_url", "password")} == {
        key: meeting[key] for key in ("uuid", "join_url", "password")
    }

    updated = client.patch(
        f"/v2/meetings/{meeting['id']}", json={"topic": "Yoga", "duration": 60}, headers=bearer(admin_token)
    )
    assert (updated.status_code, updated.content) == (204, b"")
    after = client.get(f"/v2/meetings/{meeting['id']}", headers=bearer(admin_token)).json()
    assert (after["topic"], after["duration"], after["start_time"]) == ("Yoga", 60, "2030-04-01T08:00:00Z")

    deleted = client.delete(f"/v2/meetings/{meeting['id']}", headers=bearer(admin_token))
    assert deleted.status_code == 204
    for response in (
        client.get(f"/v2/meetings/{meeting['id']}", headers=bearer(admin_token)),
        client.patch(f"/v2/meetings/{meeting['id']}", json={"topic": "x"}, headers=bearer(admin_token)),
        client.delete(f"/v2/meetings/{meeting['id']}", headers=bearer(admin_token)),
    ):
        assert response.status_code == 404
        assert response.json() == {"code": 3001, "message": f"Meeting does not exist: {meeting['id']}."}


def test_a_local_start_time_is_read_in_the_meetings_timezone(client, acme, admin_token):
    meeting = create_meeting(
        client, admin_token, start_time="2030-07-01T10:00:00", timezone="Europe/Berlin", duration=30
    ).json()

    assert (meeting["start_time"], meeting["timezone"]) == ("2030-07-01T08:00:00Z", "Europe/Berlin")


def test_another_hosts_meeting_answers_3003_you_are_not_the_meeting_host(client, acme, admin_token):
    """The Meetings document, PATCH and DELETE /meetings/{meetingId}: 400, "Error Code: 3003 You are not the
    meeting host." A user-level token acting on someone else's meeting is not missing a scope (4711)."""
    meeting = create_meeting(client, admin_token, acme["owner"]["id"]).json()
    members_token = connect(client, USER_APP, acme["member"])["access_token"]
    strangers_token = connect(client, ADMIN_APP, acme["stranger"])["access_token"]

    assert zoom_error(client.get(f"/v2/meetings/{meeting['id']}", headers=bearer(members_token))) == (400, 3003)
    assert zoom_error(client.delete(f"/v2/meetings/{meeting['id']}", headers=bearer(members_token))) == (400, 3003)
    assert zoom_error(client.patch(f"/v2/meetings/{meeting['id']}", json={"topic": "x"}, headers=bearer(members_token))) == (400, 3003)
    assert zoom_error(client.get(f"/v2/meetings/{meeting['id']}", headers=bearer(strangers_token))) == (404, 3001)


def test_a_host_using_pmi_gets_every_scheduled_meeting_in_the_personal_room(client, acme):
    member = acme["member"]
    client.patch(f"/sandbox/users/{member['id']}", json={"use_pmi_for_scheduled_meetings": True})
    token = connect(client, USER_APP, member)["access_token"]
    pmi_password = client.get("/v2/users/me/settings", headers=bearer(token)).json()["schedule_meeting"]["pmi_password"]

    first = create_meeting(client, token, topic="A").json()
    second = create_meeting(client, token, topic="B").json()
    opted_out = create_meeting(client, token, topic="C", settings={"use_pmi": False}).json()
    fetched = client.get(f"/v2/meetings/{first['id']}", headers=bearer(token)).json()

    # "Understanding PMI": each has a unique meeting id; they share the PMI room's link and passcode.
    assert len({first["id"], second["id"], member["pmi"]}) == 3
    assert first["pmi"] == second["pmi"] == member["pmi"]
    assert first["password"] == second["password"] == pmi_password
    assert first["join_url"] == second["join_url"]
    assert first["settings"]["use_pmi"] is True
    assert opted_out["id"] != member["pmi"] and "pmi" not in opted_out
    assert (fetched["pmi"], fetched["type"]) == (str(member["pmi"]), 4)
    # This 2023 document lists types 1, 2, 3 and 8 only; Zoom's meeting webhooks document 4, "A personal meeting
    # room", and "Understanding PMI" says a meeting made in the PMI room reads as one.
    assert_matches(
        fetched,
        response_schema(MEETINGS_API, "/meetings/{meetingId}", "get", also_allow={"type": {"enum": [1, 2, 3, 4, 8]}}),
    )


def test_instant_meetings_follow_the_instant_pmi_setting(client, acme):
    member = acme["member"]
    client.patch(f"/sandbox/users/{member['id']}", json={"use_pmi_for_scheduled_meetings": True})
    token = connect(client, USER_APP, member)["access_token"]

    instant = create_meeting(client, token, type=1).json()

    assert instant["id"] != member["pmi"]


def test_the_hosts_daily_create_and_update_limit_answers_429_until_midnight(client, clock, acme, admin_token):
    client.put("/sandbox/settings", json={"daily_meeting_limit": 3})
    meeting = create_meeting(client, admin_token, acme["member"]["id"]).json()
    client.patch(f"/v2/meetings/{meeting['id']}", json={"topic": "again"}, headers=bearer(admin_token))
    create_meeting(client, admin_token, acme["member"]["id"])

    refused = create_meeting(client, admin_token, acme["member"]["id"])
    refused_update = client.patch(f"/v2/meetings/{meeting['id']}", json={"topic": "x"}, headers=bearer(admin_token))
    other_host = create_meeting(client, admin_token, acme["owner"]["id"])
    clock.advance(hours=15)
    next_day = create_meeting(client, connect(client, ADMIN_APP, acme["admin"])["access_token"], acme["member"]["id"])

    for response, category in ((refused, "Medium"), (refused_update, "Light")):
        assert zoom_error(response) == (429, 429)
        assert response.headers["retry-after"] == "2030-03-15T00:00:00Z"
        assert response.headers["x-ratelimit-type"] == "Daily-limit"
        assert (response.headers["x-ratelimit-limit"], response.headers["x-ratelimit-remaining"]) == ("3", "0")
        assert response.headers["x-ratelimit-category"] == category
    assert other_host.status_code == 201
    assert next_day.status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [({"duration": "long"}, "duration"), ({"topic": "x" * 201}, "topic"), ({"start_time": "soon"}, "start_time")],
)
def test_an_invalid_meeting_body_is_zooms_validation_error(client, admin_token, body, field):
    response = create_meeting(client, admin_token, **body)

    assert zoom_error(response) == (400, 300)
    assert response.json()["errors"][0]["field"] == field


def test_a_body_that_is_not_json_is_refused(client, admin_token):
    response = client.post("/v2/users/me/meetings", content=b"{nope", headers=bearer(admin_token))

    assert zoom_error(response) == (400, 300)
