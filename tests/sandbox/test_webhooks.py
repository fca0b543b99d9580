from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest
from litestar.testing import TestClient

from server.zoom_sandbox import create_sandbox_app
from tests.sandbox.conftest import Received
from tests.sandbox.flows import (
    ADMIN_APP,
    USER_APP,
    WEBHOOK_URL,
    add_account,
    add_user,
    connect,
)
from tests.sandbox.zoom_documents import assert_matches, webhook_schema

USERS_WEBHOOKS = "users-webhooks.openapi.json"
MARKETPLACE_WEBHOOKS = "marketplace-webhooks.openapi.json"


@pytest.fixture
def acme(client) -> dict:
    """Acme with its admin-managed app authorized by its admin, as an organization connection."""
    add_account(client, "Acme", "acme")
    people = {
        "owner": add_user(client, "acme", "olga@acme.test", "owner"),
        "admin": add_user(client, "acme", "adam@acme.test", "admin"),
        "member": add_user(client, "acme", "mia@acme.test", "member"),
    }
    connect(client, ADMIN_APP, people["admin"])
    return people


def verified_event(received: Received, secret: str) -> dict:
    """The event body, after checking its signature the way Zoom documents it."""
    timestamp = received.headers["x-zm-request-timestamp"]
    expected = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + received.body, hashlib.sha256).hexdigest()
    assert received.headers["x-zm-signature"] == f"v0={expected}"
    assert received.headers["content-type"] == "application/json"
    return json.loads(received.body)


def test_a_role_change_sends_user_updated_signed_for_the_admin_app(client, clock, receiver, acme):
    response = client.patch(f"/sandbox/users/{acme['member']['id']}", json={"role": "admin"})

    assert response.status_code == 200
    [delivery] = receiver.received
    assert delivery.path == "/webhooks/zoom"
    assert delivery.headers["x-zm-request-timestamp"] == str(int(clock.now.timestamp()))
    event = verified_event(delivery, ADMIN_APP.webhook_secret_token)
    assert_matches(event, webhook_schema(USERS_WEBHOOKS, "user.updated"))
    assert event["event"] == "user.updated"
    assert event["event_ts"] == int(clock.now.timestamp() * 1000)
    payload = event["payload"]
    assert (payload["account_id"], payload["operator"], payload["operator_id"]) == (
        "acme",
        "olga@acme.test",
        acme["owner"]["id"],
    )
    assert payload["object"] == {"id": acme["member"]["id"], "role": "Admin"}
    assert payload["old_object"] == {"id": acme["member"]["id"], "role": "Member"}


def test_the_signature_does_not_verify_with_another_apps_secret(client, receiver, acme):
    client.patch(f"/sandbox/users/{acme['member']['id']}", json={"email": "mia.new@acme.test"})

    with pytest.raises(AssertionError):
        verified_event(receiver.received[0], USER_APP.webhook_secret_token)


def test_an_email_change_sends_the_new_and_old_email(client, receiver, acme):
    client.patch(f"/sandbox/users/{acme['member']['id']}", json={"email": "mia.new@acme.test"})

    event = verified_event(receiver.received[0], ADMIN_APP.webhook_secret_token)
    assert_matches(event, webhook_schema(USERS_WEBHOOKS, "user.updated"))
    assert event["payload"]["object"]["email"] == "mia.new@acme.test"
    assert event["payload"]["old_object"]["email"] == "mia@acme.test"


def test_deactivating_and_reactivating_send_their_events(client, receiver, acme):
    client.patch(f"/sandbox/users/{acme['member']['id']}", json={"status": "inactive"})
    client.patch(f"/sandbox/users/{acme['member']['id']}", json={"status": "active"})

    events = [verified_event(received, ADMIN_APP.webhook_secret_token) for received in receiver.received]
    assert [event["event"] for event in events] == ["user.deactivated", "user.activated"]
    for event in events:
        assert_matches(event, webhook_schema(USERS_WEBHOOKS, event["event"]))
        assert event["payload"]["object"]["email"] == "mia@acme.test"


def test_a_pmi_setting_change_sends_user_settings_updated(client, receiver, acme):
    client.patch(f"/sandbox/users/{acme['member']['id']}", json={"use_pmi_for_scheduled_meetings": True})

    [event] = [verified_event(received, ADMIN_APP.webhook_secret_token) for received in receiver.received]
    assert_matches(event, webhook_schema(USERS_WEBHOOKS, "user.settings_updated"))
    assert event["payload"]["object"]["settings"] == {"schedule_meeting": {"use_pmi_for_scheduled_meetings": True}}
    assert event["payload"]["old_object"]["settings"] == {"schedule_meeting": {"use_pmi_for_scheduled_meetings": False}}


def test_one_patch_changing_several_things_sends_each_event(client, receiver, acme):
    client.patch(
        f"/sandbox/users/{acme['member']['id']}",
        json={"role": "admin", "use_pmi_for_instant_meetings": True, "status": "inactive"},
    )

    events = [verified_event(received, ADMIN_APP.webhook_secret_token)["event"] for received in receiver.received]
    assert events == ["user.updated", "user.settings_updated", "user.deactivated"]


def test_a_patch_that_changes_nothing_sends_nothing(client, receiver, acme):
    client.patch(f"/sandbox/users/{acme['member']['id']}", json={"role": "member", "status": "active"})

    assert receiver.received == []


def test_deleting_the_approving_admin_still_tells_the_app(client, receiver, acme):
    client.delete(f"/sandbox/users/{acme['admin']['id']}")

    [event] = [verified_event(received, ADMIN_APP.webhook_secret_token) for received in receiver.received]
    assert_matches(event, webhook_schema(USERS_WEBHOOKS, "user.deleted"))
    assert event["event"] == "user.deleted"
    assert event["payload"]["object"]["id"] == acme["admin"]["id"]


def test_a_user_leaving_the_account_sends_user_disassociated(client, receiver, acme):
    client.delete(f"/sandbox/users/{acme['member']['id']}", params={"action": "disassociate"})

    [event] = [verified_event(received, ADMIN_APP.webhook_secret_token) for received in receiver.received]
    assert_matches(event, webhook_schema(USERS_WEBHOOKS, "user.disassociated"))
    assert event["payload"]["account_id"] == "acme"


def test_no_user_events_where_the_admin_app_is_not_authorized(client, receiver):
    add_account(client, "Globex", "globex")
    add_account(client, "Initech", "initech")
    globex_member = add_user(client, "globex", "gina@globex.test")
    connect(client, USER_APP, globex_member)
    connect(client, ADMIN_APP, add_user(client, "initech", "ivan@initech.test", "owner"))

    client.patch(f"/sandbox/users/{globex_member['id']}", json={"role": "admin"})

    assert receiver.received == []


def test_no_user_events_once_the_admin_apps_grant_is_revoked(client, receiver, acme):
    client.post("/sandbox/deauthorize", json={"client_id": ADMIN_APP.client_id, "user_id": acme["admin"]["id"]})
    receiver.received.clear()

    client.patch(f"/sandbox/users/{acme['member']['id']}", json={"role": "admin"})

    assert receiver.received == []


def test_deauthorizing_sends_app_deauthorized_to_that_app(client, clock, receiver):
    add_account(client, "Acme", "acme")
    member = add_user(client, "acme", "mia@acme.test")
    connect(client, USER_APP, member)

    client.post("/sandbox/deauthorize", json={"client_id": USER_APP.client_id, "user_id": member["id"]})

    [event] = [verified_event(received, USER_APP.webhook_secret_token) for received in receiver.received]
    assert_matches(event, webhook_schema(MARKETPLACE_WEBHOOKS, "app_deauthorized"))
    assert event["event"] == "app_deauthorized"
    payload = event["payload"]
    assert (payload["user_id"], payload["account_id"], payload["client_id"]) == (member["id"], "acme", "user-app")
    assert payload["deauthorization_time"] == "2030-03-14T09:30:00.000Z"
    assert payload["event_ts"] == int(clock.now.timestamp() * 1000)


def test_deauthorizing_an_app_that_was_not_authorized_sends_nothing(client, receiver):
    add_account(client, "Acme", "acme")
    member = add_user(client, "acme", "mia@acme.test")

    response = client.post("/sandbox/deauthorize", json={"client_id": USER_APP.client_id, "user_id": member["id"]})

    assert response.json() == {"revoked_grants": 0}
    assert receiver.received == []


def test_deliveries_are_recorded_with_their_status(client, acme):
    client.patch(f"/sandbox/users/{acme['member']['id']}", json={"role": "admin"})

    deliveries = client.get("/sandbox/webhooks").json()

    assert [(d["event"], d["target"], d["client_id"], d["status"], d["error"]) for d in deliveries] == [
        ("user.updated", WEBHOOK_URL, ADMIN_APP.client_id, 200, None)
    ]
    assert client.delete("/sandbox/webhooks").status_code == 204
    assert client.get("/sandbox/webhooks").json() == []


def test_an_unreachable_target_is_recorded_and_the_control_call_still_succeeds(config, clock):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    app = create_sandbox_app(config, clock=clock, webhook_transport=httpx.MockTransport(refuse))
    with TestClient(app) as client:
        add_account(client, "Acme", "acme")
        admin = add_user(client, "acme", "adam@acme.test", "admin")
        connect(client, ADMIN_APP, admin)

        response = client.patch(f"/sandbox/users/{admin['id']}", json={"status": "inactive"})

        assert response.status_code == 200
        [delivery] = client.get("/sandbox/webhooks").json()
        assert delivery["status"] is None
        assert "ConnectError" in delivery["error"]


def test_without_a_webhook_url_nothing_is_sent(client, receiver, acme):
    client.put("/sandbox/settings", json={"webhook_url": None})

    client.patch(f"/sandbox/users/{acme['member']['id']}", json={"role": "admin"})

    assert receiver.received == []
    assert client.get("/sandbox/webhooks").json() == []
