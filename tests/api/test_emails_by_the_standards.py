"""Emails compare as the standards say (domain.emails): a lookalike is nobody's seat (R5), and what cannot be an
email is refused at provisioning, naming the field, with nothing saved."""

from __future__ import annotations

from tests.api.conftest import KEY
from tests.support.sql import raw_sql
from tests.support.zoom import activated, members_by_id


async def test_r5_a_zoom_user_with_a_lookalike_email_is_nobodys_seat(api, org, sandbox, zoom_account):
    """Kim's Zoom user is `\u212aim…` (the Kelvin sign, which str.lower() turns into a k): not Kim. Lee's
    address differs from Lee's Zoom user only in case: Lee."""
    kim, lee = f"kim.{org['org_id']}@acme.test", f"lee.{org['org_id']}@acme.test"
    for name, address in (("kim", kim), ("lee", lee.upper())):
        added = await api.put(
            f"/api/v1/orgs/{org['org_id']}/members/{org['org_id']}-{name}",
            json={"email": address, "name": name.title(), "role": "member"},
            headers=KEY,
        )
        assert added.status_code == 201, added.text
    await sandbox.user(zoom_account["id"], "\u212a" + kim[1:], "member")
    await sandbox.user(zoom_account["id"], lee, "member")

    await activated(api, org, zoom_account)

    rows = await members_by_id(api, org)
    assert (rows[f"{org['org_id']}-kim"]["connected"], rows[f"{org['org_id']}-kim"]["reason"]) == (False, "no_seat")
    assert (rows[f"{org['org_id']}-lee"]["connected"], rows[f"{org['org_id']}-lee"]["type"]) == (True, "organization")
    async with raw_sql() as sql:
        seat_emails = await sql.fetch("SELECT email_normalized FROM zoom_users WHERE org_id = $1", org["org_id"])
    assert {"\u212a" + kim[1:], lee} <= {row["email_normalized"] for row in seat_emails}


async def test_what_cannot_be_an_email_is_refused_at_provisioning_and_saves_nothing(api, org):
    path = f"/api/v1/orgs/{org['org_id']}/members"
    one = await api.put(
        f"{path}/{org['org_id']}-kim", json={"email": "\u212aim@acme.test", "name": "Kim", "role": "member"}, headers=KEY
    )
    batch = await api.post(
        f"{path}/batch",
        json={"members": [
            {"user_id": f"{org['org_id']}-ada", "email": "ada@acme.test", "name": "Ada", "role": "member"},
            {"user_id": f"{org['org_id']}-bob", "email": "bob@acme", "name": "Bob", "role": "member"},
        ]},
        headers=KEY,
    )

    assert (one.status_code, one.json()["code"]) == (400, "validation_failed")
    assert "compatibility character" in one.json()["errors"]["email"] and one.json()["detail"]
    assert (batch.status_code, list(batch.json()["errors"])) == (400, ["members[1].email"])
    async with raw_sql() as sql:
        saved = await sql.fetchval(
            "SELECT count(*) FROM members WHERE org_id = $1 AND user_id = ANY($2)",
            org["org_id"], [f"{org['org_id']}-kim", f"{org['org_id']}-ada", f"{org['org_id']}-bob"],
        )
    assert saved == 0
