"""The sandbox's own page at /zoom-sandbox/: accounts, users, roles, PMI settings, calls, and scenario buttons
that work as plain forms and make the same changes, with the same webhooks, as the control API."""

from __future__ import annotations

import json

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.zoom_sandbox import mount_sandbox
from tests.sandbox.flows import ADMIN_APP, Pkce, add_account, add_user, approve, exchange

PREFIX = "/zoom-sandbox"


@pytest.fixture
def mounted(sandbox_app):
    with TestClient(Litestar(route_handlers=[mount_sandbox(sandbox_app, PREFIX)])) as client:
        yield client


@pytest.fixture
def acme(mounted) -> dict:
    """A Zoom account whose admin approved the admin-managed app: its user events go to that app."""
    add_account(mounted, "Acme Clinics Zoom", "acme", prefix=PREFIX)
    people = {
        "admin": add_user(mounted, "acme", "zoe.admin@acme.test", "admin", prefix=PREFIX),
        "member": add_user(mounted, "acme", "milo@acme.test", "member", prefix=PREFIX),
    }
    pkce = Pkce.new()
    code = approve(mounted, ADMIN_APP, people["admin"], pkce, prefix=PREFIX)
    assert exchange(mounted, ADMIN_APP, code, pkce.verifier, prefix=PREFIX).status_code == 200
    return people


def scenario(mounted, user: dict, change: str):
    return mounted.post(f"{PREFIX}/sandbox/page/users/{user['id']}", data={"change": change}, follow_redirects=False)


def test_the_page_lists_accounts_users_roles_pmi_settings_and_calls(mounted, acme):
    page = mounted.get(f"{PREFIX}/")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text
    assert "Acme Clinics Zoom" in page.text and "zoe.admin@acme.test" in page.text
    assert "<td data-label=\"Role\">Admin</td>" in page.text
    assert f"{acme['member']['pmi']} · not used for scheduled meetings" in page.text
    assert "<code>POST /oauth/token</code>" in page.text  # the admin app's code exchange, a call to Zoom
    assert mounted.get(f"{PREFIX}/sandbox/").status_code == 200


def test_demoting_the_admin_on_the_page_sends_user_updated_like_the_control_api(mounted, acme, receiver, sandbox_app):
    answer = scenario(mounted, acme["admin"], "make_member")

    assert answer.status_code == 303
    assert answer.headers["location"] == f"{PREFIX}/sandbox/?done=make_member&who=zoe.admin%40acme.test"
    assert sandbox_app.state.sandbox.users[acme["admin"]["id"]].role == "member"
    [delivery] = receiver.received
    assert json.loads(delivery.body)["event"] == "user.updated"
    assert "zoe.admin@acme.test is now a member of its Zoom account." in mounted.get(answer.headers["location"]).text


@pytest.mark.parametrize(
    "change, event, check",
    [
        ("deactivate", "user.deactivated", lambda user: user.status == "inactive"),
        ("pmi_on", "user.settings_updated", lambda user: user.use_pmi_for_scheduled_meetings),
        ("delete", "user.deleted", lambda user: user is None),
    ],
)
def test_each_scenario_button_makes_its_change_and_sends_its_webhook(mounted, acme, receiver, sandbox_app, change, event, check):
    assert scenario(mounted, acme["member"], change).status_code == 303

    assert check(sandbox_app.state.sandbox.users.get(acme["member"]["id"]))
    assert [json.loads(delivery.body)["event"] for delivery in receiver.received] == [event]


def test_removing_the_app_on_the_page_revokes_its_grant_and_sends_app_deauthorized(mounted, acme, receiver, sandbox_app):
    page = mounted.get(f"{PREFIX}/")
    assert "Remove the admin-managed app" in page.text

    answer = mounted.post(
        f"{PREFIX}/sandbox/page/deauthorize",
        data={"client_id": ADMIN_APP.client_id, "user_id": acme["admin"]["id"]},
        follow_redirects=False,
    )

    assert answer.status_code == 303
    assert sandbox_app.state.sandbox.live_grants(user_id=acme["admin"]["id"]) == []
    assert [json.loads(delivery.body)["event"] for delivery in receiver.received] == ["app_deauthorized"]


def test_values_on_the_page_are_escaped(mounted):
    add_account(mounted, "<script>alert(1)</script>", "evil", prefix=PREFIX)
    page = mounted.get(f"{PREFIX}/")
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_deleting_a_meeting_on_the_page_sends_meeting_deleted_like_the_control_api(mounted, acme, receiver, sandbox_app):
    from tests.sandbox.flows import bearer

    pkce = Pkce.new()
    code = approve(mounted, ADMIN_APP, acme["admin"], pkce, prefix=PREFIX)
    token = exchange(mounted, ADMIN_APP, code, pkce.verifier, prefix=PREFIX).json()["access_token"]
    made = mounted.post(
        f"{PREFIX}/v2/users/{acme['member']['id']}/meetings",
        json={"topic": "Weekly 1:1", "type": 2, "start_time": "2030-01-07T10:00:00Z", "duration": 30},
        headers=bearer(token),
    )
    assert made.status_code == 201, made.text
    meeting_id = made.json()["id"]
    receiver.received.clear()
    page = mounted.get(f"{PREFIX}/")
    assert f"Delete in Zoom: Weekly 1:1 ({meeting_id})" in page.text

    answer = mounted.post(f"{PREFIX}/sandbox/page/meetings/{meeting_id}/delete", follow_redirects=False)

    assert answer.status_code == 303
    assert meeting_id not in sandbox_app.state.sandbox.meetings
    assert [json.loads(delivery.body)["event"] for delivery in receiver.received] == ["meeting.deleted"]
    assert f"Meeting {meeting_id} is deleted in Zoom" in mounted.get(answer.headers["location"]).text
    assert mounted.post(f"{PREFIX}/sandbox/page/meetings/{meeting_id}/delete", follow_redirects=False).status_code == 404
