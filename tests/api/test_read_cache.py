"""Two server processes on one database, each with its read cache (persistence/cached_reads.py): a change made
through one, or straight in the database, is what the very next request to the other answers — never an
answer its cache kept from before."""

from __future__ import annotations

import httpx

from tests.api.conftest import KEY, as_member, provision_organization
from tests.support.sql import raw_sql


async def test_a_change_through_one_server_is_what_the_other_answers_next(api, second_roomlink):
    ids = await provision_organization(api)
    org_id, admin = ids["org_id"], ids["admin"]
    members_page = f"/api/v1/orgs/{org_id}/integrations/zoom/members?limit=50"
    counts = f"/api/v1/orgs/{org_id}/integrations/zoom"
    async with httpx.AsyncClient(base_url=second_roomlink, timeout=30) as other:
        for round_ in range(8):
            role = ("member", "admin")[round_ % 2]
            for _ in range(2):  # kept by the other server's cache: who the admin is, the page, the counts
                assert (await other.get(members_page, headers=as_member(ids["owner"]))).status_code == 200
                assert (await other.get(counts, headers=as_member(admin))).status_code == (200 if role == "member" else 403)
            changed = await api.put(
                f"/api/v1/orgs/{org_id}/members/{admin}",
                json={"email": f"{admin}@acme.test", "name": f"Admin {round_}", "role": role},
                headers=KEY,
            )
            assert changed.status_code == 200, changed.text
            # At once, on the other server: the role the admin has now, the name the page shows now.
            assert (await other.get(counts, headers=as_member(admin))).status_code == (200 if role == "admin" else 403)
            page = (await other.get(members_page, headers=as_member(ids["owner"]))).json()
            assert {row["user_id"]: row["name"] for row in page["items"]}[admin] == f"Admin {round_}"

        removed = await api.delete(f"/api/v1/orgs/{org_id}/members/{admin}", headers=KEY)
        assert removed.status_code == 204, removed.text
        refused = await other.get("/api/v1/me/integrations/zoom", headers=as_member(admin))
        assert refused.status_code == 403 and refused.json()["code"] == "unknown_member"
        page = (await other.get(members_page, headers=as_member(ids["owner"]))).json()
        assert admin not in {row["user_id"] for row in page["items"]} and page["total"] == 2
        assert (await other.get(counts, headers=as_member(ids["owner"]))).json()["counts"]["not_connected"] == 2


async def test_a_change_made_straight_in_the_database_is_what_the_next_request_answers(api):
    ids = await provision_organization(api)
    org_id = ids["org_id"]
    counts = f"/api/v1/orgs/{org_id}/integrations/zoom"
    for round_ in range(8):
        allowed = round_ % 2 == 0
        for _ in range(2):
            assert (await api.get(counts, headers=as_member(ids["owner"]))).json()["policy"]["allow_members_to_remove"] is not allowed
        async with raw_sql() as sql:
            await sql.execute("UPDATE organizations SET allow_members_to_remove = $2 WHERE org_id = $1", org_id, allowed)
        answer = (await api.get(counts, headers=as_member(ids["owner"]))).json()
        assert answer["policy"]["allow_members_to_remove"] is allowed
