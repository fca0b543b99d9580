"""Migration m0018: members' stored emails are keyed by domain.emails, and seats follow (R5)."""

from __future__ import annotations

import importlib

from domain.model import ConnectionType, ZoomUser
from tests.support.builders import add_connection, connection, create_organization, member, unique
from tests.support.sql import raw_sql

m0018 = importlib.import_module("persistence.migrations.m0018_emails_compared_by_the_standards")


async def test_m0018_rekeys_members_emails_stored_by_str_lower_and_a_lookalike_loses_its_seat(db):
    org_id = unique("org")
    kim = f"kim.{org_id}@acme.test"
    await create_organization(org_id, [member(f"{org_id}-kim", email=kim), member(f"{org_id}-lee", email=f"LEE.{org_id}@acme.test")])
    await add_connection(
        connection(org_id, ConnectionType.ORGANIZATION),
        [ZoomUser(zoom_user_id=unique("zu"), email=kim), ZoomUser(zoom_user_id=unique("zu"), email=f"lee.{org_id}@acme.test")],
    )
    async with raw_sql() as sql:
        # Provisioned before, as str.lower() keyed it: the Kelvin sign became a k, and was seated as Kim.
        await sql.execute(
            "UPDATE members SET email = $2::text, email_normalized = lower($2::text) WHERE org_id = $1 AND user_id LIKE '%-kim'",
            org_id,
            "\u212a" + kim[1:],
        )
        assert await sql.fetchval("SELECT seated FROM members WHERE org_id = $1 AND user_id LIKE '%-kim'", org_id) is True

        assert await m0018.recompute(sql) >= 1

        rows = {r["user_id"]: r for r in await sql.fetch("SELECT * FROM members WHERE org_id = $1", org_id)}
    assert rows[f"{org_id}-kim"]["email_normalized"] == "\u212a" + kim[1:]
    assert rows[f"{org_id}-kim"]["seated"] is False
    assert (rows[f"{org_id}-lee"]["email_normalized"], rows[f"{org_id}-lee"]["seated"]) == (f"lee.{org_id}@acme.test", True)
