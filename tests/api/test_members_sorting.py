"""The members table sorts either way: `sort=name` (A to Z, the default) and `sort=-name`
(Z to A) on the API and the CSV export, every filter and search in both; a cursor is a position in one order."""

from __future__ import annotations

import csv
import io

import pytest

from domain.model import ConnectionStatus, ConnectionType, ZoomUser
from tests.api.conftest import KEY, as_member
from tests.api.test_bad_input import assert_problem
from tests.support.builders import add_connection, connection

NAMES = ["Ada", "Bruno", "Chen", "Dörte", "Eve", "Zoë"]


def members_path(org_id: str) -> str:
    return f"/api/v1/orgs/{org_id}/integrations/zoom/members"


@pytest.fixture
async def crowd(api, org) -> dict[str, str]:
    """27 members with names that share words and repeat (the user id breaks the ties), in several states."""
    org_id = org["org_id"]
    batch = [
        {"user_id": f"{org_id}-p{i:02d}", "email": f"p{i:02d}@{['acme', 'lab'][i % 3 == 0]}.test",
         "name": f"{NAMES[i % len(NAMES)]} Sorted {i % 4}", "role": "member"}
        for i in range(24)
    ]
    response = await api.post(f"/api/v1/orgs/{org_id}/members/batch", json={"members": batch}, headers=KEY)
    assert response.status_code == 200, response.text
    await add_connection(
        connection(org_id, ConnectionType.ORGANIZATION),
        [ZoomUser(zoom_user_id=f"z{i}", email=f"p{i:02d}@acme.test") for i in range(0, 24, 2)],
    )
    for i in (1, 7, 13):
        await add_connection(
            connection(org_id, ConnectionType.PERSONAL, ConnectionStatus.ACTIVE, user_id=f"{org_id}-p{i:02d}")
        )
    return org


async def every_page(api, org, **params) -> list[dict]:
    """Every row, page after page by `next_cursor`, 4 a page."""
    rows, cursor = [], None
    while True:
        response = await api.get(
            members_path(org["org_id"]),
            params={"limit": 4, **params, **({"cursor": cursor} if cursor else {})},
            headers=as_member(org["owner"]),
        )
        assert response.status_code == 200, response.text
        rows += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return rows


@pytest.mark.parametrize(
    "filters",
    [{}, {"type": "organization"}, {"connected": "false"}, {"q": "sorted"}, {"q": "lab"}, {"q": "zoe 3"},
     {"type": "personal", "q": "sort"}],
)
async def test_r9_sort_minus_name_pages_through_every_row_once_in_reverse(api, crowd, filters):
    ascending = await every_page(api, crowd, **filters)
    descending = await every_page(api, crowd, sort="-name", **filters)
    assert ascending, filters
    ids = [row["user_id"] for row in descending]
    assert len(ids) == len(set(ids))  # no row twice
    assert ids == [row["user_id"] for row in ascending][::-1]  # none missing, Z to A
    assert ascending == await every_page(api, crowd, sort="name", **filters)  # `name` is the default


async def test_r9_sort_minus_name_starts_with_the_last_names_and_counts_the_same(api, crowd):
    owner = as_member(crowd["owner"])
    first = (await api.get(members_path(crowd["org_id"]), params={"sort": "-name", "limit": 3}, headers=owner)).json()
    assert [row["name"] for row in first["items"]] == ["Zoë Sorted 3", "Zoë Sorted 3", "Zoë Sorted 1"]
    assert first["items"][0]["user_id"] > first["items"][1]["user_id"]  # ties: user ids Z to A too
    assert first["total"] == 27


@pytest.mark.parametrize("given, used", [("name", "-name"), ("-name", "name"), ("-name", None)])
async def test_a_cursor_of_one_order_is_refused_in_the_other(api, crowd, given, used):
    owner = as_member(crowd["owner"])
    path = members_path(crowd["org_id"])
    cursor = (await api.get(path, params={"sort": given, "limit": 2}, headers=owner)).json()["next_cursor"]
    assert cursor
    response = await api.get(
        path, params={"cursor": cursor, "limit": 2, **({"sort": used} if used else {})}, headers=owner
    )
    problem = assert_problem(response, 400, "invalid_cursor", "cursor")
    assert "order" in problem["detail"]
    # The same cursor in its own order is the next page.
    again = await api.get(path, params={"cursor": cursor, "limit": 2, "sort": given}, headers=owner)
    assert again.status_code == 200 and len(again.json()["items"]) == 2


@pytest.mark.parametrize("sort", ["name_desc", "-email", "NAME", ""])
@pytest.mark.parametrize("export", [False, True], ids=["page", "export"])
async def test_an_unknown_sort_is_refused_naming_the_field(api, crowd, sort, export):
    path = members_path(crowd["org_id"]) + ("/export" if export else "")
    response = await api.get(path, params={"sort": sort}, headers=as_member(crowd["owner"]))
    assert_problem(response, 400, "validation_failed", "sort")


async def test_r9_export_sorts_as_the_page_does(api, crowd):
    owner = as_member(crowd["owner"])
    path = members_path(crowd["org_id"]) + "/export"
    exported = {}
    for sort in ("name", "-name"):
        response = await api.get(path, params={"sort": sort, "q": "sorted"}, headers=owner)
        assert response.status_code == 200, response.text
        exported[sort] = [row["user_id"] for row in csv.DictReader(io.StringIO(response.text))]
    assert exported["-name"] == exported["name"][::-1] and len(exported["name"]) == 24
    assert exported["name"] == [row["user_id"] for row in await every_page(api, crowd, q="sorted")]


async def test_the_openapi_document_says_how_the_members_sort(api):
    document = (await api.get("/schema/openapi.json")).json()
    for path in ("/api/v1/orgs/{org_id}/integrations/zoom/members", "/api/v1/orgs/{org_id}/integrations/zoom/members/export"):
        (sort,) = [p for p in document["paths"][path]["get"]["parameters"] if p["name"] == "sort"]
        assert sort["in"] == "query" and "Z to A" in sort["description"] and "invalid_cursor" in sort["description"]
        assert set(sort["schema"]["enum"]) == {"name", "-name"}, sort
