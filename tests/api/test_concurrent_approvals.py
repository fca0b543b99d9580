"""Two approvals of one Zoom user reaching Roomlink at the same moment: one wins, the other is refused in words
(R13) or finds the same connection made; never a server error."""

from __future__ import annotations

import asyncio

import httpx

from tests.api.conftest import KEY, provision_organization
from tests.support.sql import raw_sql
from tests.support.zoom import approve_in_zoom, authorize_personal, create_activation_link, email, path_of, to_zoom

ROUNDS = 3


async def activation_callback(roomlink: str, org_id: str, owner: str, zoom_email: str) -> tuple[httpx.AsyncClient, str]:
    """A browser that continued an activation link to Zoom, and the callback Zoom sends it back with."""
    browser = httpx.AsyncClient(base_url=roomlink, timeout=60)
    link = await create_activation_link(browser, org_id, owner)
    to_zoom_page = await browser.post(path_of(link["url"]))
    return browser, await approve_in_zoom(to_zoom_page.headers["location"], zoom_email)


async def personal_callback(roomlink: str, user_id: str, zoom_email: str) -> tuple[httpx.AsyncClient, str]:
    browser = httpx.AsyncClient(base_url=roomlink, timeout=60)
    return browser, await approve_in_zoom(await to_zoom(browser, await authorize_personal(browser, user_id)), zoom_email)


async def finish_together(pending: list[tuple[httpx.AsyncClient, str]]) -> list[httpx.Response]:
    try:
        return list(await asyncio.gather(*(browser.get(path_of(callback)) for browser, callback in pending)))
    finally:
        for browser, _ in pending:
            await browser.aclose()


async def connections_of(org_ids: list[str], type_: str) -> int:
    async with raw_sql() as sql:
        return await sql.fetchval("SELECT count(*) FROM connections WHERE org_id = ANY($1) AND type = $2", org_ids, type_)


async def test_r13_two_organizations_activated_at_once_by_one_zoom_admin_one_wins_one_is_told(api, roomlink, sandbox):
    for _ in range(ROUNDS):
        one, two = await provision_organization(api), await provision_organization(api)
        account = await sandbox.account("Shared Zoom")
        admin = await sandbox.user(account, email("zoom.admin"), "admin")
        pending = [await activation_callback(roomlink, org["org_id"], org["owner"], admin["email"]) for org in (one, two)]

        answers = await finish_together(pending)

        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [200, 409], [answer.text[:300] for answer in answers]
        refused = next(answer for answer in answers if answer.status_code == 409).text
        assert "already serves another organization" in refused or "approved twice at the same moment" in refused
        assert await connections_of([one["org_id"], two["org_id"]], "organization") == 1


async def test_r4_two_activation_links_of_one_organization_approved_at_once_connect_it_once(api, roomlink, sandbox):
    for _ in range(ROUNDS):
        org = await provision_organization(api)
        account = await sandbox.account("Acme Zoom")
        admin = await sandbox.user(account, email("zoom.admin"), "admin")
        pending = [await activation_callback(roomlink, org["org_id"], org["owner"], admin["email"]) for _ in range(2)]

        answers = await finish_together(pending)

        assert all(answer.status_code < 500 for answer in answers), [answer.text[:300] for answer in answers]
        assert 200 in [answer.status_code for answer in answers]
        assert await connections_of([org["org_id"]], "organization") == 1
        status = await api.get(
            f"/api/v1/orgs/{org['org_id']}/integrations/zoom", headers={**KEY, "X-Roomlink-User": org["owner"]}
        )
        assert status.json()["status"] == "active" and status.json()["zoom_account_id"] == account


async def test_r13_one_zoom_user_connected_personally_by_two_members_at_once_one_wins_one_is_told(api, roomlink, sandbox):
    for _ in range(ROUNDS):
        org = await provision_organization(api)
        shared = await sandbox.user(await sandbox.account("Shared"), email("shared"), "owner")
        pending = [await personal_callback(roomlink, org[who], shared["email"]) for who in ("member", "admin")]

        answers = await finish_together(pending)

        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [303, 409], [answer.text[:300] for answer in answers]
        refused = next(answer for answer in answers if answer.status_code == 409).text
        assert "already connected by someone else" in refused or "approved twice at the same moment" in refused
        assert await connections_of([org["org_id"]], "personal") == 1
