"""CSV export of the members table (R9): the rows the filters list, streamed, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

from domain.model import ConnectionType, ZoomUser
from tests.api.conftest import KEY, as_member
from tests.support.builders import add_connection, connection


def export_path(org_id: str) -> str:
    return f"/api/v1/orgs/{org_id}/integrations/zoom/members/export"


async def test_r9_export_streams_the_filtered_rows_as_csv(api, org):
    org_id = org["org_id"]
    batch = [
        {"user_id": f"{org_id}-x{i:04d}", "email": f"x{i:04d}@acme.test", "name": f"Export {i:04d}", "role": "member"}
        for i in range(1000)
    ] + [{"user_id": f"{org_id}-evil", "email": "evil@acme.test", "name": "=HYPERLINK(1)", "role": "member"}]
    for start in range(0, len(batch), 1000):
        response = await api.post(f"/api/v1/orgs/{org_id}/members/batch", json={"members": batch[start : start + 1000]}, headers=KEY)
        assert response.status_code == 200, response.text
    await add_connection(connection(org_id, ConnectionType.ORGANIZATION), [ZoomUser(zoom_user_id="zx1", email="x0001@acme.test")])
    await add_connection(connection(org_id, ConnectionType.PERSONAL, user_id=f"{org_id}-x0002", zoom_email="own@zoom.test"))

    async with api.stream("GET", export_path(org_id), headers=as_member(org["owner"])) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert response.headers.get("transfer-encoding") == "chunked"  # streamed, not built in memory
        assert "attachment" in response.headers["content-disposition"]
        text = (await response.aread()).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1001 + 3  # every member: the batch, plus the owner, admin and member
    by_id = {row["user_id"]: row for row in rows}
    assert (by_id[f"{org_id}-x0001"]["type"], by_id[f"{org_id}-x0001"]["zoom_user_email"]) == ("organization", "x0001@acme.test")
    assert (by_id[f"{org_id}-x0002"]["type"], by_id[f"{org_id}-x0002"]["zoom_user_email"]) == ("personal", "own@zoom.test")
    assert by_id[f"{org_id}-x0003"]["connected"] == "false" and by_id[f"{org_id}-x0003"]["reason"] == "no_seat"
    assert by_id[f"{org_id}-evil"]["name"] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet

    personal = await api.get(export_path(org_id), params={"type": "personal"}, headers=as_member(org["owner"]))
    assert [row["user_id"] for row in csv.DictReader(io.StringIO(personal.text))] == [f"{org_id}-x0002"]


async def test_r1_members_cannot_export_and_bad_filters_are_refused_before_streaming(api, org):
    refused = await api.get(export_path(org["org_id"]), headers=as_member(org["member"]))
    assert (refused.status_code, refused.json()["code"]) == (403, "owner_or_admin_required")
    bad = await api.get(export_path(org["org_id"]), params={"type": "robot"}, headers=as_member(org["owner"]))
    assert (bad.status_code, bad.json()["code"]) == (400, "validation_failed")
