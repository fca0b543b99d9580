"""R24 end to end: the host product hears every change at a real local receiver, signed, in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.model import ConnectionType, ZoomUser
from tests.support.builders import add_connection, connection, unique
from tests.support.receiver import start_receiver, verifies
from tests.support.servers import API_KEY_SECRET
from tests.support.zoom import activated, as_member, connect_personal, email, eventually

KEY = {"Authorization": f"Bearer {API_KEY_SECRET}"}
ME = "/api/v1/me/integrations/zoom"


@pytest.fixture
def receiver():
    receiver, server = start_receiver()
    yield receiver
    receiver.hold.clear()
    server.shutdown()


async def register(api, org_id: str, url: str, **body) -> dict:
    endpoint_id = unique("endpoint")
    response = await api.put(f"/api/v1/event-endpoints/{endpoint_id}", json={"url": url, "org_id": org_id, **body}, headers=KEY)
    assert response.status_code == 201, response.text
    return response.json()


def once(received) -> list:
    """At least once: a receiver keeps the first of each `webhook-id` (a lease that ran out on a loaded machine sends again)."""
    seen: set[str] = set()
    return [r for r in received if not (r.headers["webhook-id"] in seen or seen.add(r.headers["webhook-id"]))]


def of_org(received, org_id: str) -> list:
    return [r for r in once(received) if r.event["org_id"] == org_id]


def per_member(received, user_id: str) -> list[dict]:
    return [
        r.event["data"]
        for r in once(received)
        if r.event["type"] == "member.connection.changed" and r.event["data"]["user_id"] == user_id
    ]


async def set_policy(api, org, allow: bool) -> None:
    response = await api.patch(
        f"/api/v1/orgs/{org['org_id']}/integrations/zoom/policy",
        json={"allow_members_to_remove": allow},
        headers=as_member(org["owner"]),
    )
    assert response.status_code == 200, response.text


@pytest.mark.usefixtures("workers")
async def test_r24_admin_demoted_tells_the_organization_once_and_each_relying_member(
    api, org, zoom_account, sandbox, receiver
):
    endpoint = await register(api, org["org_id"], receiver.url)
    await activated(api, org, zoom_account)
    own = await sandbox.user(await sandbox.account("own"), email("own"), "owner")
    await connect_personal(api, org["admin"], own["email"])
    await receiver.wait_for(lambda got: len(per_member(got, org["admin"])) == 2)

    demoted = await sandbox.client.patch(f"/sandbox/users/{zoom_account['admin']['id']}", json={"role": "member"})
    assert demoted.status_code == 200, demoted.text

    def broken(got):
        return [r for r in of_org(got, org["org_id"]) if r.event["data"].get("status") == "admin_lost"]

    # Each subject's events come in order, subjects in no order among themselves: wait for every one asserted.
    await receiver.wait_for(
        lambda got: broken(got) and len(per_member(got, org["member"])) == 2 and per_member(got, org["owner"])
    )
    got = of_org(receiver.received, org["org_id"])
    assert all(verifies(r, endpoint["secret"]) for r in got), "every event signed with the endpoint's secret"
    (organization_event,) = [r.event for r in broken(got)]
    assert organization_event["type"] == "organization.connection.changed"
    assert organization_event["data"]["affected_members"] == 1
    assert organization_event["data"]["before"]["status"] == "active"
    assert "zoom admin who connected it" in organization_event["data"]["status_reason"].lower()
    member_events = per_member(got, org["member"])
    assert [(e["connected"], e["type"], e["reason"]) for e in member_events] == [
        (True, "organization", None),
        (False, "organization", "organization_admin_lost"),
    ]
    assert member_events[1]["before"] == {"connected": True, "type": "organization", "reason": None}
    # The admin is served personally: the break moves nothing for them, so no event.
    assert [(e["type"], e["before"]["type"]) for e in per_member(got, org["admin"])] == [
        ("organization", None),
        ("personal", "organization"),
    ]
    # No seat: never connected; activation only changed why (no Zoom user has their email), the break nothing.
    assert [(e["connected"], e["reason"], e["before"]["reason"]) for e in per_member(got, org["owner"])] == [
        (False, "no_seat", "organization_not_connected")
    ]
    assert {r.headers["webhook-id"] for r in got} == {r.event["id"] for r in got}


@pytest.mark.usefixtures("workers")
async def test_r24_receiver_down_then_back_gets_every_event_in_order_per_member(api, org, receiver):
    receiver.status = 503
    endpoint = await register(api, org["org_id"], receiver.url)
    await add_connection(
        connection(org["org_id"], ConnectionType.ORGANIZATION),
        [ZoomUser(zoom_user_id=unique("zu"), email=f"{org[who]}@acme.test") for who in ("member", "admin")],
    )
    await set_policy(api, org, True)
    for _ in range(3):
        assert (await api.delete(ME + "/organization", headers=as_member(org["member"]))).status_code == 204
        assert (await api.put(ME + "/organization", headers=as_member(org["member"]))).status_code == 204
    await set_policy(api, org, False)
    await receiver.wait_for(lambda _: len(receiver.attempts) >= 3, timeout=15)
    receiver.status = 200

    log = f"/api/v1/event-endpoints/{endpoint['id']}/deliveries"

    async def settled():
        pending = (await api.get(log, params={"status": "pending"}, headers=KEY)).json()["items"]
        return not pending

    def policies(got) -> list[dict]:
        return [r.event["data"]["policy"] for r in of_org(got, org["org_id"]) if r.event["type"] == "organization.connection.changed"]

    # Order holds per subject only: the organization's events may come after its members' (retries are jittered).
    await receiver.wait_for(lambda got: len(per_member(got, org["member"])) == 7 and len(policies(got)) == 3)
    member_events = per_member(receiver.received, org["member"])
    assert [e["reason"] for e in member_events] == [None] + ["organization_removed", None] * 3
    assert all(later["before"] == {k: earlier[k] for k in ("connected", "type", "reason")}
               for earlier, later in zip(member_events, member_events[1:], strict=False)), "each before is the last after"
    assert policies(receiver.received) == [{"allow_members_to_remove": allow} for allow in (False, True, False)]
    assert await eventually(settled)
    items = (await api.get(log, headers=KEY)).json()["items"]
    assert {d["status"] for d in items} == {"delivered"}
    assert max(d["attempts"] for d in items) > 1, "the first attempts met a receiver that was down"


@pytest.mark.usefixtures("workers")
async def test_r24_410_disables_the_endpoint_and_a_failed_delivery_is_redelivered(api, org, receiver):
    receiver.status = 410
    endpoint = await register(api, org["org_id"], receiver.url)
    await set_policy(api, org, True)
    await receiver.wait_for(lambda _: receiver.attempts)
    path = f"/api/v1/event-endpoints/{endpoint['id']}"

    async def disabled():
        return (await api.get(path, headers=KEY)).json()["disabled_at"]

    assert await eventually(disabled)
    (failed,) = (await api.get(path + "/deliveries", params={"status": "failed"}, headers=KEY)).json()["items"]
    assert (failed["last_status_code"], failed["type"]) == (410, "organization.connection.changed")
    refused = await api.post(f"{path}/deliveries/{failed['id']}/redeliver", headers=KEY)
    assert (refused.status_code, refused.json()["code"]) == (409, "endpoint_disabled")

    receiver.status = 200
    again = await api.put(path, json={"url": receiver.url, "org_id": org["org_id"]}, headers=KEY)
    assert again.status_code == 200 and "secret" not in again.json() and again.json()["disabled_at"] is None
    assert (await api.post(f"{path}/deliveries/{failed['id']}/redeliver", headers=KEY)).status_code == 202
    (delivered, *_) = await receiver.wait_for(lambda got: of_org(got, org["org_id"]))
    assert delivered.headers["webhook-id"] == failed["event_id"] == receiver.attempts[0].headers["webhook-id"]
    assert verifies(delivered, endpoint["secret"])


@pytest.mark.usefixtures("workers")
async def test_r24_a_rotated_secret_and_the_old_one_both_sign_during_the_grace_period(api, org, receiver):
    endpoint = await register(api, org["org_id"], receiver.url, event_types=["organization.connection.changed"])
    assert endpoint["secret"].startswith("whsec_") and endpoint["event_types"] == ["organization.connection.changed"]
    rotated = await api.post(f"/api/v1/event-endpoints/{endpoint['id']}/rotate-secret", json={"grace_period_s": 600}, headers=KEY)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != endpoint["secret"]
    await set_policy(api, org, True)
    (got, *_) = await receiver.wait_for(lambda got: of_org(got, org["org_id"]))
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert verifies(got, new_secret) and verifies(got, endpoint["secret"])
    assert not verifies(got, "whsec_" + "A" * 44)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://127.0.0.1/hook", "https"),
        ("https://10.1.2.3/hook", "public"),
        ("https://192.168.0.10/hook", "public"),
        ("https://169.254.169.254/latest/meta-data", "public"),
        ("https://[fd00::1]/hook", "public"),
        ("https://[::ffff:10.0.0.1]/hook", "public"),
        ("https://[64:ff9b::a00:1]/hook", "NAT64"),
        ("https://[64:ff9b:1::1]/hook", "NAT64"),
        ("https://[2002:a00:1::1]/hook", "6to4"),
        ("https://[::a00:1]/hook", "IPv4-compatible"),
        ("https://[::ffff:93.184.216.34]/hook", "IPv4-mapped"),
        ("https://192.0.0.8/hook", "IETF protocol assignments"),
        ("https://[fec0::1]/hook", "site-local"),
        ("https://93.184.216.34:0/hook", "port"),
        ("http://93.184.216.34/hook", "https"),
        ("https://user:pw@127.0.0.1/hook", "credentials"),
        ("not a url", "https"),
    ],
)
async def test_r24_endpoints_only_to_public_https_addresses(api, url, why):
    endpoint_id = unique("endpoint")
    response = await api.put(f"/api/v1/event-endpoints/{endpoint_id}", json={"url": url}, headers=KEY)
    assert (response.status_code, response.json()["code"]) == (400, "endpoint_url_not_allowed"), response.text
    assert why in response.json()["errors"]["url"]
    assert (await api.get(f"/api/v1/event-endpoints/{endpoint_id}", headers=KEY)).status_code == 404


async def test_r24_unknown_event_types_are_refused_and_nothing_is_stored(api):
    endpoint_id = unique("endpoint")
    response = await api.put(
        f"/api/v1/event-endpoints/{endpoint_id}",
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["member.connection.changed", "member.deleted"]},
        headers=KEY,
    )
    assert (response.status_code, response.json()["code"]) == (400, "validation_failed")
    assert "member.deleted" in response.json()["errors"]["event_types"]
    assert (await api.get(f"/api/v1/event-endpoints/{endpoint_id}", headers=KEY)).status_code == 404


async def test_r24_a_cursor_or_delivery_id_past_64_bits_is_refused_not_a_server_error(api, org):
    registered = await register(api, org["org_id"], "http://127.0.0.1:9/hook")
    path = f"/api/v1/event-endpoints/{registered['id']}"
    for cursor in (str(2**63), "9" * 30, "\u00b2"):  # "²" is a digit to str.isdigit
        page = await api.get(f"{path}/deliveries", params={"cursor": cursor}, headers=KEY)
        assert (page.status_code, page.json()["code"]) == (400, "invalid_cursor"), cursor
    for delivery_id in (2**63, 10**30):
        again = await api.post(f"{path}/deliveries/{delivery_id}/redeliver", headers=KEY)
        assert (again.status_code, again.json()["code"]) == (404, "delivery_not_found"), delivery_id
    assert (await api.get(f"{path}/deliveries", params={"cursor": str(2**63 - 1)}, headers=KEY)).status_code == 200


async def test_r24_endpoints_need_the_api_key(api):
    response = await api.put("/api/v1/event-endpoints/x", json={"url": "http://127.0.0.1:9/"})
    assert response.status_code == 401
    assert (await api.delete("/api/v1/event-endpoints/x", headers=KEY)).status_code == 404


async def test_r24_rotation_grace_is_bounded_and_needs_a_known_endpoint(api, org):
    registered = await register(api, org["org_id"], "http://127.0.0.1:9/hook")
    path = f"/api/v1/event-endpoints/{registered['id']}/rotate-secret"
    too_long = await api.post(path, json={"grace_period_s": 8 * 86400}, headers=KEY)
    assert (too_long.status_code, too_long.json()["code"]) == (400, "validation_failed")
    # Past what a timedelta holds, either way (schemathesis found a 500 here).
    for beyond in (2**63 + 1, -(2**63) - 1):
        refused = await api.post(path, json={"grace_period_s": beyond}, headers=KEY)
        assert (refused.status_code, refused.json()["code"], list(refused.json()["errors"])) == (
            400, "validation_failed", ["grace_period_s"]
        )
    assert (await api.post(path, json={}, headers=KEY)).status_code == 200
    unknown = await api.post("/api/v1/event-endpoints/nobody/rotate-secret", json={}, headers=KEY)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "event_endpoint_not_found")
    assert (await api.delete(f"/api/v1/event-endpoints/{registered['id']}", headers=KEY)).status_code == 204


@pytest.mark.usefixtures("workers")
async def test_r24_a_meeting_is_heard_when_made_changed_in_zoom_and_cancelled(api, org, zoom_account, sandbox, receiver):
    endpoint = await register(api, org["org_id"], receiver.url, event_types=["meeting.created", "meeting.updated", "meeting.cancelled"])
    await activated(api, org, zoom_account)
    mine = as_member(org["member"])
    start = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    created = await api.post("/api/v1/me/meetings", json={"topic": "Intro", "start_time": start, "duration_minutes": 30}, headers=mine)
    assert created.status_code == 201, created.text
    meeting = created.json()
    changed_in_zoom = await sandbox.client.patch(f"/sandbox/meetings/{meeting['zoom_meeting_id']}", json={"topic": "Renamed in Zoom"})
    assert changed_in_zoom.status_code in (200, 204), changed_in_zoom.text
    await receiver.wait_for(lambda got: any(r.event["data"].get("topic") == "Renamed in Zoom" for r in of_org(got, org["org_id"])))
    assert (await api.delete(f"/api/v1/me/meetings/{meeting['id']}", headers=mine)).status_code == 204

    def told(got):
        return [r for r in of_org(got, org["org_id"]) if r.event["data"].get("id") == meeting["id"]]

    await receiver.wait_for(lambda got: any(r.event["type"] == "meeting.cancelled" for r in told(got)))
    got = told(receiver.received)
    # Zoom's own meeting.deleted for the cancellation arrives while it is under way: not news of its own.
    assert [r.event["type"] for r in got] == ["meeting.created", "meeting.updated", "meeting.cancelled"]
    assert got[1].event["data"]["topic"] == "Renamed in Zoom"
    assert all(verifies(r, endpoint["secret"]) for r in got)
    assert got[0].event["data"]["join_url"] == meeting["join_url"] and got[0].event["data"]["user_id"] == org["member"]
    assert all(b"start_url" not in r.body and b"zak=" not in r.body for r in got)
