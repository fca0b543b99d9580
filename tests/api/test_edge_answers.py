"""Answers at the edge of the API: what a method, a malformed address or a hostile value gets, and that such a
request changes nothing."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import KEY, as_member
from tests.support.zoom import activated

MEETINGS = "/api/v1/me/meetings"


def tomorrow() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def meeting_body(**overrides) -> dict:
    return {"topic": "Weekly 1:1", "start_time": tomorrow(), "duration_minutes": 30, **overrides}


@pytest.fixture
async def seated(api, org, zoom_account) -> dict:
    """The organization connected; its member holds the seat `seat_member` (R5)."""
    await activated(api, org, zoom_account)
    return zoom_account["seat_member"]


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/orgs/some-org", "/api/v1/orgs/some-org/members/someone"])
async def test_a_405_names_the_methods_the_address_accepts(api, path):
    refused = await api.request("PATCH", path, headers=KEY)
    assert refused.status_code == 405
    assert refused.json()["code"] == "method_not_allowed"
    allowed = {method.strip() for method in refused.headers["allow"].split(",")}
    assert allowed and "PATCH" not in allowed
    for method in allowed:
        assert (await api.request(method, path, headers=KEY)).status_code != 405, method


PAGES = [
    ("GET", "/integrations/zoom"), ("GET", "/meetings"), ("GET", "/meetings/m-1/cancel"), ("POST", "/meetings/m-1/cancel"),
    ("POST", "/meetings/m-1/recreate"), ("GET", "/sessions"), ("GET", "/organization/sessions"),
    ("GET", "/organization/events"), ("POST", "/organization/events/deliveries/1/redeliver"),
]


@pytest.mark.parametrize("role", ["owner", "member"])
async def test_pages_are_for_the_browsers_session_and_refuse_an_api_key_acting_as_a_member(api, org, role):
    for method, path in PAGES:
        refused = await api.request(method, path, headers=as_member(org[role]))
        assert refused.status_code == 401, (method, path, refused.text[:200])
        assert refused.headers["content-type"].startswith("text/html"), path
        assert "Open Roomlink from your product" in refused.text, path
    # The same member's API calls are still answered for the key.
    assert (await api.get("/api/v1/me/integrations/zoom", headers=as_member(org[role]))).status_code == 200


CONTROL_CHARACTERS = ["\x00", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\u009f"]


async def test_a_meeting_topic_with_a_control_character_is_refused_and_zoom_is_not_asked(api, org, seated, sandbox):
    before = len(await sandbox.calls())
    for character in CONTROL_CHARACTERS:
        refused = await api.post(MEETINGS, json=meeting_body(topic=f"Weekly{character}1:1"), headers=as_member(org["member"]))
        assert refused.status_code == 400, (repr(character), refused.text)
        assert refused.json()["code"] == "validation_failed"
        assert "control characters" in refused.json()["errors"]["topic"]
    refused = await api.post(MEETINGS, json=meeting_body(agenda="Line one\nline two\x00"), headers=as_member(org["member"]))
    assert (refused.status_code, list(refused.json()["errors"])) == (400, ["agenda"])
    assert (await api.get(MEETINGS, headers=as_member(org["member"]))).json()["items"] == []
    assert [call for call in (await sandbox.calls())[before:] if "/meetings" in call["path"]] == []
    # Lines and tabs in an agenda are taken.
    taken = await api.post(MEETINGS, json=meeting_body(agenda="Line one\n\tline two"), headers=as_member(org["member"]))
    assert taken.status_code == 201, taken.text


async def test_a_session_title_with_a_control_character_is_refused_and_nothing_is_stored(api, org):
    for character in ("\x00", "\n", "\x85"):
        path = f"/api/v1/orgs/{org['org_id']}/sessions/s-control"
        body = {"host_user_id": org["member"], "title": f"Yoga{character}class", "start_time": tomorrow(),
                "duration_minutes": 45, "remote": False}
        refused = await api.put(path, json=body, headers=KEY)
        assert refused.status_code == 400, (repr(character), refused.text)
        assert refused.json()["code"] == "validation_failed" and "title" in refused.json()["errors"]
        assert (await api.get(path, headers=KEY)).status_code == 404


def nested(depth: int) -> str:
    return base64.urlsafe_b64encode(b"[" * depth).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [nested(1500), nested(20_000)], ids=["deeper-than-the-parser", "long"])
async def test_a_cursor_of_deeply_nested_json_is_a_400(api, org, cursor):
    for path in (f"/api/v1/orgs/{org['org_id']}/integrations/zoom/members", MEETINGS):
        refused = await api.get(path, params={"cursor": cursor}, headers=as_member(org["owner"]))
        assert refused.status_code == 400, (path, refused.text[:200])
        assert refused.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    ("params", "field"),
    [({"day": "9999-12-31"}, "day"), ({"day": "0001-01-01", "timezone": "Asia/Tokyo"}, "day")],
)
async def test_a_day_at_the_end_of_the_calendar_is_a_400_naming_it(api, org, params, field):
    refused = await api.get("/api/v1/me/sessions", params=params, headers=as_member(org["member"]))
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == "validation_failed" and field in refused.json()["errors"]
    assert (await api.get("/api/v1/me/sessions", params={"day": "9999-12-30"}, headers=as_member(org["member"]))).json()["items"] == []


@pytest.mark.parametrize(("name", "moment"), [("from", "9999-12-31T23:59:59-10:00"), ("to", "0001-01-01T00:00:00+10:00")])
async def test_list_times_beyond_what_converts_to_utc_are_a_400_naming_them(api, org, name, moment):
    for path in (f"/api/v1/orgs/{org['org_id']}/sessions", MEETINGS):
        refused = await api.get(path, params={name: moment}, headers=as_member(org["owner"]))
        assert refused.status_code == 400, (path, refused.text)
        assert list(refused.json()["errors"]) == [name]


@pytest.mark.parametrize("path", ["/ui/static/zoom.js%00.png", "/ui/static/roomlink.css%00", "/ui/static/%01"])
async def test_a_static_file_name_with_a_control_character_is_not_found(api, path):
    refused = await api.get(path)
    assert (refused.status_code, refused.json()["code"]) == (404, "not_found")
    assert (await api.get("/ui/static/roomlink.css")).status_code == 200
