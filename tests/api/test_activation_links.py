"""Pending activation links over HTTP: listed without their URL, revoked, resent, ended by a completed activation (R1, R3)."""

from __future__ import annotations

from tests.support.zoom import activate, as_member, create_activation_link, path_of


def links_path(org: dict) -> str:
    return f"/api/v1/orgs/{org['org_id']}/integrations/zoom/activation-links"


async def pending(api, org) -> list[dict]:
    response = await api.get(links_path(org), headers=as_member(org["admin"]))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_r3_pending_links_are_listed_without_their_url_and_revoked_ones_leave_the_list(api, org, outbox):
    copied = await create_activation_link(api, org["org_id"], org["owner"])
    emailed = await create_activation_link(api, org["org_id"], org["admin"], zoom_admin_email="it@acme.example")

    items = await pending(api, org)
    assert [(item["id"], item["emailed_to"], item["created_by"]) for item in items] == [
        (emailed["id"], "it@acme.example", org["admin"]),
        (copied["id"], None, org["owner"]),
    ]
    assert items[0]["expires_at"] == emailed["expires_at"] and items[0]["created_at"] < items[0]["expires_at"]
    assert "url" not in items[0] and copied["url"].rsplit("/", 1)[1] not in str(items)

    revoked = await api.delete(f"{links_path(org)}/{copied['id']}", headers=as_member(org["owner"]))
    assert revoked.status_code == 204
    assert [item["id"] for item in await pending(api, org)] == [emailed["id"]]


async def test_r1_members_cannot_list_activation_links(api, org):
    response = await api.get(links_path(org), headers=as_member(org["member"]))
    assert (response.status_code, response.json()["code"]) == (403, "owner_or_admin_required")


async def test_r3_completing_an_activation_revokes_the_other_pending_links(api, org, zoom_account):
    older = await create_activation_link(api, org["org_id"], org["owner"])
    used = await create_activation_link(api, org["org_id"], org["admin"])

    assert (await activate(api, used["url"], zoom_account["admin"]["email"])).status_code == 200

    assert await pending(api, org) == []
    page = await api.get(path_of(older["url"]))
    assert page.status_code == 410 and "revoked" in page.text


async def test_r3_resending_emails_a_fresh_link_and_the_old_one_stops_working(api, org, outbox):
    old = await create_activation_link(api, org["org_id"], org["owner"], zoom_admin_email="zoomadmin@acme.example")

    response = await api.post(f"{links_path(org)}/{old['id']}/resend", headers=as_member(org["admin"]))

    assert response.status_code == 201, response.text
    new = response.json()
    assert new["emailed_to"] == "zoomadmin@acme.example" and new["url"] != old["url"]
    await outbox.wait_for(lambda m: m.to == "zoomadmin@acme.example" and new["url"] in m.text, timeout=5)
    assert [item["id"] for item in await pending(api, org)] == [new["id"]]
    assert (await api.get(path_of(old["url"]))).status_code == 410
    assert (await api.get(path_of(new["url"]))).status_code == 200


async def test_a_link_that_was_not_emailed_cannot_be_resent(api, org):
    copied = await create_activation_link(api, org["org_id"], org["owner"])

    response = await api.post(f"{links_path(org)}/{copied['id']}/resend", headers=as_member(org["owner"]))

    assert (response.status_code, response.json()["code"]) == (409, "activation_link_not_emailed")
    assert [item["id"] for item in await pending(api, org)] == [copied["id"]]
