"""The sandbox's meetings as Zoom documents them: lists, PMI, the daily limit, start URLs, meeting events."""

from __future__ import annotations

import json

import pytest

from tests.sandbox.flows import ADMIN_APP, USER_APP, add_account, add_user, bearer, connect
from tests.sandbox.zoom_documents import assert_matches, response_schema

MEETINGS_API = "meetings-api-2023.openapi.json"


@pytest.fixture
def acme(client) -> dict:
    add_account(client, "Acme", "acme")
    return {
        "admin": add_user(client, "acme", "adam@acme.test", "admin"),
        "member": add_user(client, "acme", "mia@acme.test", "member"),
    }


@pytest.fixture
def admin_token(client, acme) -> str:
    return connect(client, ADMIN_APP, acme["admin"])["access_token"]


def create(client, token: str, user: str = "me", **body):
    return client.post(f"/v2/users/{user}/meetings", json={"start_time": "2030-04-01T08:00:00Z", **body}, headers=bearer(token))


def events(receiver) -> list[dict]:
    return [json.loads(delivery.body) for delivery in receiver.received]


def test_upcoming_meetings_are_listed_page_by_page_like_zoom(client, acme, admin_token):
    member = acme["member"]["id"]
    made = [create(client, admin_token, member, topic=f"M{n}", agenda=f"roomlink:{n}").json()["id"] for n in range(7)]
    create(client, admin_token, member, topic="Past", start_time="2030-03-01T08:00:00Z")

    seen, token, pages = [], "", 0
    while True:
        params = {"type": "upcoming", "page_size": "3", **({"next_page_token": token} if token else {})}
        page = client.get(f"/v2/users/{member}/meetings", params=params, headers=bearer(admin_token))
        assert page.status_code == 200, page.text
        assert_matches(page.json(), response_schema(MEETINGS_API, "/users/{userId}/meetings", "get"))
        seen += [meeting["id"] for meeting in page.json()["meetings"]]
        pages += 1
        token = page.json()["next_page_token"]
        if not token:
            break
    assert seen == made and pages == 3
    assert page.json()["total_records"] == 7


def test_an_unknown_page_token_is_zooms_validation_error(client, acme, admin_token):
    answer = client.get("/v2/users/me/meetings", params={"next_page_token": "nope"}, headers=bearer(admin_token))
    assert (answer.status_code, answer.json()["code"]) == (400, 300)


def test_use_pmi_false_is_honoured_unless_an_admin_locked_the_setting(client, acme):
    member = acme["member"]
    client.patch(f"/sandbox/users/{member['id']}", json={"use_pmi_for_scheduled_meetings": True})
    token = connect(client, USER_APP, member)["access_token"]
    own = create(client, token, settings={"use_pmi": False}).json()
    client.patch(f"/sandbox/users/{member['id']}", json={"pmi_setting_locked": True})
    in_room = create(client, token, settings={"use_pmi": False})

    assert own["id"] != member["pmi"] and "pmi" not in own
    assert in_room.status_code == 201
    # "Understanding PMI": the create answer carries a unique meeting id, and the PMI beside it.
    assert in_room.json()["id"] != member["pmi"] and in_room.json()["pmi"] == member["pmi"]
    assert f"/j/{member['pmi']}?" in in_room.json()["join_url"]
    assert_matches(
        in_room.json(),
        response_schema(MEETINGS_API, "/users/{userId}/meetings", "post", "201", also_allow={"uuid": {}, "host_id": {}}),
    )


def test_a_meeting_in_the_pmi_room_is_type_4_deleted_by_its_id_and_only_the_room_itself_is_3018(client, acme):
    """The Meetings document, DELETE /meetings/{meetingId}: 400 "Error Code: 3018 Not allowed to delete PMI."
    A meeting held in the PMI room has an id of its own ("Understanding PMI"), and "Get a meeting" shows it
    as type 4, "A personal meeting room"."""
    member = acme["member"]
    client.patch(f"/sandbox/users/{member['id']}", json={"use_pmi_for_scheduled_meetings": True})
    token = connect(client, USER_APP, member)["access_token"]
    first, second = create(client, token).json(), create(client, token).json()

    assert first["id"] != second["id"] and first["join_url"] == second["join_url"]
    read = client.get(f"/v2/meetings/{first['id']}", headers=bearer(token)).json()
    assert (read["type"], read["pmi"]) == (4, str(member["pmi"]))
    refused = client.delete(f"/v2/meetings/{member['pmi']}", headers=bearer(token))
    assert (refused.status_code, refused.json()["code"]) == (400, 3018)
    assert client.delete(f"/v2/meetings/{first['id']}", headers=bearer(token)).status_code == 204
    assert [m["id"] for m in client.get(f"/sandbox/users/{member['id']}/meetings").json()] == [second["id"]]


def test_a_passcode_sent_for_a_pmi_meeting_becomes_the_pmi_passcode(client, acme):
    """Zoom: the passcode of a meeting held in the PMI room is the PMI's; setting one there changes the PMI's,
    so every meeting in that room (and the room itself) has it from then on."""
    member = acme["member"]
    client.patch(f"/sandbox/users/{member['id']}", json={"use_pmi_for_scheduled_meetings": True})
    token = connect(client, USER_APP, member)["access_token"]
    before = create(client, token).json()
    create(client, token, password="Chosen1")

    assert client.get(f"/v2/meetings/{before['id']}", headers=bearer(token)).json()["password"] == "Chosen1"


def test_the_daily_limit_as_http_300_with_the_documents_message(client, acme, admin_token):
    """The Meetings document, POST /users/{userId}/meetings and PATCH /meetings/{meetingId}: HTTP 300, "A maximum
    of {rateLimitNumber} meetings can be created/updated for a single user in one day." """
    client.put("/sandbox/settings", json={"daily_meeting_limit": 1, "daily_limit_status": 300})
    member = acme["member"]["id"]
    assert create(client, admin_token, member).status_code == 201
    refused = create(client, admin_token, member)

    assert refused.status_code == 300
    assert refused.json() == {
        "code": 300, "message": "A maximum of 1 meetings can be created/updated for a single user in one day."
    }


def test_meeting_writes_count_the_hosts_daily_limit_down_from_100(client, acme, admin_token):
    member = acme["member"]["id"]
    first = create(client, admin_token, member)
    updated = client.patch(f"/v2/meetings/{first.json()['id']}", json={"topic": "x"}, headers=bearer(admin_token))

    assert first.headers["x-ratelimit-remaining"] == "99"
    assert updated.headers["x-ratelimit-remaining"] == "98"


def test_start_urls_expire_and_each_read_hands_out_a_new_one(client, clock, acme, admin_token):
    meeting = create(client, admin_token).json()
    first = meeting["start_url"]
    again = client.get(f"/v2/meetings/{meeting['id']}", headers=bearer(admin_token)).json()["start_url"]
    path = "/" + first.split("/", 3)[3]

    assert first != again
    assert client.get(path).status_code == 200
    clock.advance(hours=2, seconds=1)
    assert client.get(path).status_code == 410


def test_a_host_changing_a_meeting_in_zoom_sends_meeting_updated_with_the_old_values(client, receiver, acme, admin_token):
    meeting = create(client, admin_token, acme["member"]["id"], topic="Before").json()
    receiver.received.clear()

    changed = client.patch(f"/sandbox/meetings/{meeting['id']}", json={"topic": "After", "duration": 50})

    assert changed.status_code == 200 and changed.json()["topic"] == "After"
    [event] = events(receiver)
    assert event["event"] == "meeting.updated"
    assert event["payload"]["object"] == {"id": meeting["id"], "uuid": meeting["uuid"], "host_id": meeting["host_id"],
                                          "topic": "After", "duration": 50}
    assert event["payload"]["old_object"] == {"id": meeting["id"], "topic": "Before", "duration": 60}
    assert receiver.received[0].headers["x-zm-signature"].startswith("v0=")
    assert create(client, admin_token, acme["member"]["id"]).headers["x-ratelimit-remaining"] == "98"


def test_deleted_in_zoom_sends_meeting_deleted_and_recovering_sends_meeting_recovered(client, receiver, acme, admin_token):
    meeting = create(client, admin_token, acme["member"]["id"]).json()
    receiver.received.clear()

    assert client.delete(f"/sandbox/meetings/{meeting['id']}").status_code == 204
    gone = client.get(f"/v2/meetings/{meeting['id']}", headers=bearer(admin_token))
    assert client.put(f"/sandbox/meetings/{meeting['id']}/recover").status_code == 200
    back = client.get(f"/v2/meetings/{meeting['id']}", headers=bearer(admin_token))

    assert (gone.status_code, gone.json()["code"]) == (404, 3001)
    assert back.status_code == 200
    assert [event["event"] for event in events(receiver)] == ["meeting.deleted", "meeting.recovered"]
    assert events(receiver)[0]["payload"]["object"]["id"] == meeting["id"]


def test_api_changes_send_meeting_events_too(client, receiver, acme, admin_token):
    meeting = create(client, admin_token, acme["member"]["id"]).json()
    receiver.received.clear()
    client.patch(f"/v2/meetings/{meeting['id']}", json={"agenda": "new"}, headers=bearer(admin_token))
    client.delete(f"/v2/meetings/{meeting['id']}", headers=bearer(admin_token))

    assert [event["event"] for event in events(receiver)] == ["meeting.updated", "meeting.deleted"]


def test_the_control_api_lists_what_zoom_holds_for_a_user(client, acme, admin_token):
    create(client, admin_token, acme["member"]["id"], topic="Held")
    held = client.get(f"/sandbox/users/{acme['member']['email']}/meetings").json()
    assert [meeting["topic"] for meeting in held] == ["Held"]
