from __future__ import annotations

import httpx
import pytest

from tests.support.servers import API_KEY_SECRET

KEY = {"Authorization": f"Bearer {API_KEY_SECRET}"}


def as_member(user_id: str) -> dict[str, str]:
    return {**KEY, "X-Roomlink-User": user_id}


@pytest.fixture(scope="package")
def second_roomlink(roomlink, roomlink_env):
    """Another server process on the same database, as production runs several (one for the modules that
    want it: a server holds nothing of one test that another could trip over, and each start costs seconds)."""
    from tests.support.servers import free_port, running

    with running("server.app:create_app", roomlink_env, free_port()) as base_url:
        yield base_url


@pytest.fixture
async def api(roomlink):
    async with httpx.AsyncClient(base_url=roomlink, timeout=30) as client:
        yield client


async def provision_organization(api: httpx.AsyncClient) -> dict[str, str]:
    """An organization with an owner, an admin and a member, provisioned through the API; their ids."""
    from tests.support.builders import unique

    org_id = unique("org")
    ids = {"org_id": org_id, "owner": f"{org_id}-owner", "admin": f"{org_id}-admin", "member": f"{org_id}-member"}
    assert (await api.put(f"/api/v1/orgs/{org_id}", json={"name": "Acme"}, headers=KEY)).status_code == 201
    for role in ("owner", "admin", "member"):
        response = await api.put(
            f"/api/v1/orgs/{org_id}/members/{ids[role]}",
            json={"email": f"{ids[role]}@acme.test", "name": f"{role.title()} Person", "role": role},
            headers=KEY,
        )
        assert response.status_code == 201, response.text
    return ids


@pytest.fixture
async def org(api) -> dict[str, str]:
    """An organization with an owner, an admin and a member, provisioned through the API."""
    return await provision_organization(api)


@pytest.fixture
async def sandbox(zoom_sandbox):
    """The Zoom sandbox's control API."""
    from tests.support.zoom import Sandbox

    async with httpx.AsyncClient(base_url=zoom_sandbox) as client:
        yield Sandbox(client)


async def open_zoom_account(sandbox, org: dict[str, str]) -> dict:
    """The organization's Zoom account in the sandbox: an Owner, an Admin, a Member, and Zoom users for the org's
    admin and member."""
    from tests.support.zoom import email

    account = await sandbox.account("Acme Zoom")
    people = {
        "owner": await sandbox.user(account, email("zoom.owner"), "owner"),
        "admin": await sandbox.user(account, email("zoom.admin"), "admin"),
        "member": await sandbox.user(account, email("zoom.member"), "member"),
        "seat_admin": await sandbox.user(account, f"{org['admin']}@acme.test", "member"),
        "seat_member": await sandbox.user(account, f"{org['member']}@acme.test", "member"),
    }
    return {"id": account, **people}


@pytest.fixture
async def zoom_account(sandbox, org) -> dict:
    """The organization's Zoom account: an Owner, an Admin, a Member, and Zoom users for the org's admin and member."""
    return await open_zoom_account(sandbox, org)
