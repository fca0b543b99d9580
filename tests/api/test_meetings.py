"""Meetings end to end: HTTP to a real Roomlink, the Zoom sandbox in its own process (R5, R7, R15, R17, R19–R23)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.servers import ZOOM_APPS, log_file
from tests.support.zoom import activated, as_member, connect_personal, email, eventually

pytestmark = pytest.mark.usefixtures("workers")

MEETINGS = "/api/v1/me/meetings"


def tomorrow(hours: int = 0) -> str:
    return (datetime.now(UTC) + timedelta(days=1, hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def body(**overrides) -> dict:
    return {"topic": "Weekly 1:1", "start_time": tomorrow(), "duration_minutes": 30, **overrides}


@pytest.fixture
async def seated(api, org, zoom_account) -> dict:
    """The organization connected; its member holds the seat `seat_member` (R5)."""
    await activated(api, org, zoom_account)
    return zoom_account["seat_member"]


@pytest.fixture(scope="module")
async def refusing(roomlink, zoom_sandbox) -> dict:
    """One organization connected with its member seated, shared by the bad-input cases: each is refused before
    anything is written or Zoom is asked (which each checks), so none sees another's traces; connecting one per
    case cost an activation through the sandbox each."""
    from tests.api.conftest import open_zoom_account, provision_organization
    from tests.support.zoom import Sandbox

    async with httpx.AsyncClient(base_url=roomlink, timeout=30) as api, httpx.AsyncClient(base_url=zoom_sandbox) as client:
        org = await provision_organization(api)
        await activated(api, org, await open_zoom_account(Sandbox(client), org))
    return org


async def zoom_calls(sandbox, method: str, path: str) -> list[dict]:
    return [call for call in await sandbox.calls() if call["method"] == method and call["path"] == path]


async def meeting_calls(sandbox) -> list[dict]:
    """Zoom's meeting calls so far (workers' periodic verification calls Zoom too, for other things)."""
    return [call for call in await sandbox.calls() if "/meetings" in call["path"] or "/settings" in call["path"]]


async def held(sandbox, zoom_user_id: str) -> list[dict]:
    return (await sandbox.client.get(f"/sandbox/users/{zoom_user_id}/meetings")).json()


async def test_r5_seated_members_meeting_is_created_as_their_own_zoom_user_with_the_organizations_token(
    api, org, sandbox, seated
):
    created = await api.post(MEETINGS, json=body(agenda="Bring notes"), headers=as_member(org["member"]))

    assert created.status_code == 201, created.text
    meeting = created.json()
    assert meeting["status"] == "scheduled" and meeting["connection"]["type"] == "organization"
    assert meeting["connection"]["zoom_user_email"] == seated["email"].lower()
    assert meeting["join_url"] and meeting["passcode"] and meeting["agenda"] == "Bring notes"
    assert "start_url" not in created.text and "zak=" not in created.text
    [call] = await zoom_calls(sandbox, "POST", f"/v2/users/{seated['id']}/meetings")
    assert call["client_id"] == ZOOM_APPS["ZOOM_ADMIN_APP_CLIENT_ID"] and call["status"] == 201
    [in_zoom] = await held(sandbox, seated["id"])
    assert in_zoom["id"] == meeting["zoom_meeting_id"] and in_zoom["in_personal_room"] is False
    listed = (await api.get(MEETINGS, headers=as_member(org["member"]))).json()
    assert [item["id"] for item in listed["items"]] == [meeting["id"]]


async def test_r7_personal_connection_creates_through_users_me_with_the_personal_token(api, org, sandbox, seated):
    own = await sandbox.user(await sandbox.account("own"), email("own"), "owner")
    await connect_personal(api, org["member"], own["email"])

    created = await api.post(MEETINGS, json=body(), headers=as_member(org["member"]))

    assert created.status_code == 201, created.text
    assert created.json()["connection"] == {"type": "personal", "zoom_user_email": own["email"]}
    # The sandbox's log is shared by every test: this account's calls only.
    [call] = [c for c in await zoom_calls(sandbox, "POST", "/v2/users/me/meetings") if c["account_id"] == own["account_id"]]
    assert call["client_id"] == ZOOM_APPS["ZOOM_USER_APP_CLIENT_ID"]
    assert len(await held(sandbox, own["id"])) == 1 and await held(sandbox, seated["id"]) == []


async def test_r7_no_effective_connection_is_409_not_connected_with_the_reason(api, org, sandbox, seated):
    before = len(await meeting_calls(sandbox))
    refused = await api.post(MEETINGS, json=body(), headers=as_member(org["owner"]))

    assert refused.status_code == 409
    assert (refused.json()["code"], refused.json()["reason"]) == ("not_connected", "no_seat")
    assert len(await meeting_calls(sandbox)) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"start_time": "next tuesday"}, "start_time"),
        ({"start_time": "2020-01-01T09:00:00Z"}, "start_time"),
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 1441}, "duration_minutes"),
        ({"topic": "t" * 201}, "topic"),
        ({"passcode": "no spaces!"}, "passcode"),
    ],
)
async def test_bad_input_is_400_naming_the_field_and_no_zoom_call(api, sandbox, refusing, overrides, field):
    member = refusing["member"]
    before = len(await meeting_calls(sandbox))
    refused = await api.post(MEETINGS, json=body(**overrides), headers=as_member(member))

    assert refused.status_code == 400, refused.text
    assert field in refused.json()["errors"]
    assert len(await meeting_calls(sandbox)) == before
    assert (await api.get(MEETINGS, headers=as_member(member))).json()["items"] == []


async def test_r17_pmi_host_gets_a_marked_meeting_with_the_words_that_fix_it_and_cancelling_deletes_it_in_zoom(
    api, org, sandbox, seated
):
    """Zoom's "Understanding PMI": a meeting Zoom puts in the PMI room has a unique id of its own, and stays
    scheduled there unless it is deleted by that id; its events name it by the PMI (and its uuid)."""
    await sandbox.client.patch(
        f"/sandbox/users/{seated['id']}", json={"use_pmi_for_scheduled_meetings": True, "pmi_setting_locked": True}
    )
    created = await api.post(MEETINGS, json=body(), headers=as_member(org["member"]))

    meeting = created.json()
    assert created.status_code == 201 and meeting["in_personal_room"] is True
    assert meeting["zoom_meeting_id"] != seated["pmi"] and f"/j/{seated['pmi']}?" in meeting["join_url"]
    assert "Use Personal Meeting ID (PMI) when scheduling a meeting" in meeting["status_reason"]
    assert "PMI passcode" in meeting["status_reason"] and "Zoom admin" in meeting["status_reason"]
    [settings_read] = await zoom_calls(sandbox, "GET", f"/v2/users/{seated['id']}/settings")
    assert settings_read["status"] == 200

    cancelled = await api.delete(f"{MEETINGS}/{meeting['id']}", headers=as_member(org["member"]))

    assert cancelled.status_code == 204
    assert [c["status"] for c in await zoom_calls(sandbox, "DELETE", f"/v2/meetings/{meeting['zoom_meeting_id']}")] == [204]
    assert await held(sandbox, seated["id"]) == []
    after = (await api.get(f"{MEETINGS}/{meeting['id']}", headers=as_member(org["member"]))).json()
    assert after["status"] == "cancelled"

    # Deleted in Zoom: the event names the PMI as the meeting's id; its uuid finds it.
    second = (await api.post(MEETINGS, json=body(topic="Second"), headers=as_member(org["member"]))).json()
    assert (await sandbox.client.delete(f"/sandbox/meetings/{second['zoom_meeting_id']}")).status_code in (200, 204)

    async def flagged():
        read = (await api.get(f"{MEETINGS}/{second['id']}", headers=as_member(org["member"]))).json()
        return read if read["status"] == "needs_attention" else None

    assert "deleted in Zoom" in (await eventually(flagged, timeout=15))["status_reason"]


async def test_r17_no_passcode_is_sent_for_a_host_whose_meetings_may_land_in_the_pmi_room(api, org, sandbox, seated):
    """Zoom: a passcode sent with a meeting held in the PMI room becomes the PMI's passcode, for every meeting."""
    await sandbox.client.patch(
        f"/sandbox/users/{seated['id']}", json={"use_pmi_for_scheduled_meetings": True, "pmi_setting_locked": True}
    )
    created = await api.post(MEETINGS, json=body(passcode="Mine123"), headers=as_member(org["member"]))

    assert created.status_code == 201 and created.json()["in_personal_room"] is True
    [in_zoom] = await held(sandbox, seated["id"])
    assert created.json()["passcode"] == in_zoom["password"] != "Mine123"


async def test_r20_the_101st_create_of_a_day_waits_for_midnight(api, org, sandbox, seated):
    member = as_member(org["member"])
    for n in range(100):
        answer = await api.post(MEETINGS, json=body(topic=f"Class {n}", start_time=tomorrow(n)), headers=member)
        assert answer.status_code == 201, answer.text

    over = await api.post(MEETINGS, json=body(topic="One too many"), headers=member)

    assert over.status_code == 429 and over.json()["code"] == "zoom_daily_limit"
    midnight = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert abs(int(over.headers["retry-after"]) - (midnight - datetime.now(UTC)).total_seconds()) < 30
    assert len(await zoom_calls(sandbox, "POST", f"/v2/users/{seated['id']}/meetings")) == 100
    page = (await api.get(MEETINGS, params={"limit": 200}, headers=member)).json()["items"]
    [waiting] = [m for m in page if m["topic"] == "One too many"]
    assert waiting["status"] == "pending" and "00:00 UTC" in waiting["status_reason"]


async def test_r20_patch_sends_only_what_changed_and_nothing_when_nothing_did(api, org, sandbox, seated):
    member = as_member(org["member"])
    meeting = (await api.post(MEETINGS, json=body(), headers=member)).json()
    path = f"/v2/meetings/{meeting['zoom_meeting_id']}"

    same = await api.patch(f"{MEETINGS}/{meeting['id']}", json={"topic": "Weekly 1:1"}, headers=member)
    assert same.status_code == 200 and await zoom_calls(sandbox, "PATCH", path) == []

    changed = await api.patch(f"{MEETINGS}/{meeting['id']}", json={"topic": "Weekly 1:1", "duration_minutes": 45}, headers=member)
    assert changed.status_code == 200 and changed.json()["duration_minutes"] == 45
    assert len(await zoom_calls(sandbox, "PATCH", path)) == 1
    [in_zoom] = await held(sandbox, seated["id"])
    assert in_zoom["duration"] == 45


async def test_r21_get_reads_zoom_now_changes_and_deletions_made_there(api, org, sandbox, seated):
    member = as_member(org["member"])
    meeting = (await api.post(MEETINGS, json=body(), headers=member)).json()
    await sandbox.client.patch(f"/sandbox/meetings/{meeting['zoom_meeting_id']}", json={"topic": "Renamed in Zoom"})

    fresh = (await api.get(f"{MEETINGS}/{meeting['id']}", headers=member)).json()
    assert fresh["topic"] == "Renamed in Zoom" and fresh["fetched_at"]

    assert (await sandbox.client.delete(f"/sandbox/meetings/{meeting['zoom_meeting_id']}")).status_code == 204
    gone = (await api.get(f"{MEETINGS}/{meeting['id']}", headers=member)).json()
    assert gone["status"] == "needs_attention" and "deleted in Zoom" in gone["status_reason"]


async def test_r21_zooms_meeting_webhooks_keep_the_records_true(api, org, sandbox, seated):
    member = as_member(org["member"])
    meeting = (await api.post(MEETINGS, json=body(), headers=member)).json()

    async def listed_status() -> str:
        items = (await api.get(MEETINGS, headers=member)).json()["items"]
        return items[0]["status"]

    await sandbox.client.delete(f"/sandbox/meetings/{meeting['zoom_meeting_id']}")
    assert await eventually(lambda: _is(listed_status, "needs_attention"))
    await sandbox.client.put(f"/sandbox/meetings/{meeting['zoom_meeting_id']}/recover")
    assert await eventually(lambda: _is(listed_status, "scheduled"))


async def _is(read, expected) -> bool:
    return await read() == expected


async def test_r22_start_redirects_the_host_to_a_fresh_start_url_and_nobody_else(api, org, sandbox, seated, ports):
    member = as_member(org["member"])
    meeting = (await api.post(MEETINGS, json=body(), headers=member)).json()

    started = await api.get(f"{MEETINGS}/{meeting['id']}/start", headers=member)
    again = await api.get(f"{MEETINGS}/{meeting['id']}/start", headers=member)
    other = await api.get(f"{MEETINGS}/{meeting['id']}/start", headers=as_member(org["admin"]))

    assert started.status_code == 302 and "zak=" in started.headers["location"]
    assert started.headers["location"] != again.headers["location"]
    assert started.headers["cache-control"] == "no-store"
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(started.headers["location"])).status_code == 200
    assert other.status_code == 404
    shown = (await api.get(f"{MEETINGS}/{meeting['id']}", headers=member)).text
    assert "zak=" not in shown and "start_url" not in shown
    host_key = started.headers["location"].split("zak=", 1)[1]
    assert host_key not in log_file(ports["roomlink"]).read_text()


async def test_r19_a_meeting_whose_connection_is_gone_says_so(api, org, sandbox, seated):
    own = await sandbox.user(await sandbox.account("own"), email("own"), "owner")
    await connect_personal(api, org["member"], own["email"])
    member = as_member(org["member"])
    meeting = (await api.post(MEETINGS, json=body(), headers=member)).json()
    assert (await api.delete("/api/v1/me/integrations/zoom/personal", headers=member)).status_code == 204

    refused = await api.patch(f"{MEETINGS}/{meeting['id']}", json={"duration_minutes": 50}, headers=member)
    shown = (await api.get(f"{MEETINGS}/{meeting['id']}", headers=member)).json()

    assert refused.status_code == 409 and refused.json()["code"] == "meeting_connection_gone"
    assert shown["status"] == "needs_attention" and "connection that is gone" in shown["status_reason"]
    assert await zoom_calls(sandbox, "PATCH", f"/v2/meetings/{meeting['zoom_meeting_id']}") == []
    assert len(await held(sandbox, own["id"])) == 1 and await held(sandbox, seated["id"]) == []

    recreated = await api.post(f"{MEETINGS}/{meeting['id']}/recreate", headers=member)

    assert recreated.status_code == 201, recreated.text
    assert recreated.json()["connection"]["type"] == "organization" and recreated.json()["status"] == "scheduled"
    assert [m["id"] for m in await held(sandbox, seated["id"])] == [recreated.json()["zoom_meeting_id"]]
    assert (await api.get(f"{MEETINGS}/{meeting['id']}", headers=member)).json()["status"] == "cancelled"


async def test_r23_same_key_and_body_is_the_same_meeting_other_body_is_refused(api, org, sandbox, seated):
    member = {**as_member(org["member"]), "Idempotency-Key": "booking-7"}
    asked = body()
    first = await api.post(MEETINGS, json=asked, headers=member)
    again = await api.post(MEETINGS, json=asked, headers=member)
    other = await api.post(MEETINGS, json={**asked, "topic": "Something else"}, headers=member)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert len(await held(sandbox, seated["id"])) == 1


async def test_diagnostics_show_todays_budget_per_host_and_the_pmi_setting_to_turn_off(api, org, sandbox, seated):
    member = as_member(org["member"])
    assert (await api.post(MEETINGS, json=body(), headers=member)).status_code == 201
    await sandbox.client.patch(f"/sandbox/users/{seated['id']}", json={"use_pmi_for_scheduled_meetings": True})

    mine = await api.get("/api/v1/me/integrations/zoom/diagnostics", headers=member)
    theirs = await api.get(f"/api/v1/orgs/{org['org_id']}/integrations/zoom/diagnostics", headers=as_member(org["owner"]))
    refused = await api.get(f"/api/v1/orgs/{org['org_id']}/integrations/zoom/diagnostics", headers=member)

    assert mine.status_code == 200, mine.text
    checks = {check["name"]: check for check in mine.json()["checks"]}
    assert checks["connected"]["ok"] and checks["tokens_valid"]["ok"] and checks["scopes_sufficient"]["ok"]
    assert checks["pmi_settings"]["ok"] is False
    assert "Use Personal Meeting ID (PMI) when scheduling a meeting" in checks["pmi_settings"]["fix"]
    assert f"{seated['id']}: 1/100" in checks["daily_meeting_budget"]["detail"]
    organization = {check["name"]: check for check in theirs.json()["checks"]}
    assert all(check["ok"] for check in organization.values()), organization
    assert set(organization) == {"organization_connected", "tokens_valid", "scopes_sufficient", "seats_found", "daily_meeting_budget"}
    assert refused.status_code == 403
