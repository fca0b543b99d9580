"""The sandbox mounted inside another Litestar app, as `demo` mounts it at /zoom-sandbox."""

from __future__ import annotations

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from server.zoom_sandbox import mount_sandbox
from tests.sandbox.flows import (
    ADMIN_APP,
    Pkce,
    add_account,
    add_user,
    approve,
    authorize_params,
    bearer,
    exchange,
)

PREFIX = "/zoom-sandbox"
HOST = "http://testserver.local"


@get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@pytest.fixture
def mounted(sandbox_app):
    host = Litestar(route_handlers=[healthz, mount_sandbox(sandbox_app, PREFIX)])
    with TestClient(host) as client:
        yield client


@pytest.fixture
def admin(mounted) -> dict:
    add_account(mounted, "Acme", "acme", prefix=PREFIX)
    return add_user(mounted, "acme", "adam@acme.test", "admin", prefix=PREFIX)


@pytest.fixture
def admin_token(mounted, admin) -> str:
    pkce = Pkce.new()
    code = approve(mounted, ADMIN_APP, admin, pkce, prefix=PREFIX)
    return exchange(mounted, ADMIN_APP, code, pkce.verifier, prefix=PREFIX).json()["access_token"]


def test_the_host_app_keeps_its_own_routes(mounted):
    assert mounted.get("/healthz").json() == {"status": "ok"}


def test_the_authorize_form_posts_back_under_the_prefix(mounted, admin):
    page = mounted.get(f"{PREFIX}/oauth/authorize", params=authorize_params(ADMIN_APP, Pkce.new()))

    assert page.status_code == 200
    assert f'action="{PREFIX}/oauth/authorize"' in page.text


def test_the_api_answers_under_the_prefix_with_urls_under_it(mounted, admin_token):
    me = mounted.get(f"{PREFIX}/v2/users/me", headers=bearer(admin_token))

    assert me.status_code == 200
    assert me.json()["personal_meeting_url"].startswith(f"{HOST}{PREFIX}/j/")


def test_meeting_urls_point_under_the_prefix_and_lead_to_the_meeting(mounted, admin_token):
    meeting = mounted.post(
        f"{PREFIX}/v2/users/me/meetings", json={"topic": "Mounted"}, headers=bearer(admin_token)
    ).json()

    assert meeting["join_url"].startswith(f"{HOST}{PREFIX}/j/{meeting['id']}?pwd=")
    assert meeting["start_url"].startswith(f"{HOST}{PREFIX}/s/{meeting['id']}?zak=")
    for url in (meeting["join_url"], meeting["start_url"]):
        room = mounted.get(url.removeprefix(HOST))
        assert room.status_code == 200 and "Mounted" in room.text


def test_calls_and_faults_use_paths_relative_to_the_sandbox(mounted, admin):
    mounted.post(f"{PREFIX}/sandbox/faults", json={"method": "GET", "path_prefix": "/oauth/authorize", "status": 503})

    faulted = mounted.get(f"{PREFIX}/oauth/authorize", params=authorize_params(ADMIN_APP, Pkce.new()))
    calls = mounted.get(f"{PREFIX}/sandbox/calls").json()

    assert faulted.status_code == 503
    assert [(call["path"], call["status"]) for call in calls] == [("/oauth/authorize", 503)]


def test_an_asgi_root_path_from_the_server_is_honoured(sandbox_app):
    with TestClient(sandbox_app, root_path="/behind-proxy") as client:
        page = client.get("/oauth/authorize", params=authorize_params(ADMIN_APP, Pkce.new()))

    assert 'action="/behind-proxy/oauth/authorize"' in page.text
