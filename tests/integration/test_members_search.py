"""R9 search on real PostgreSQL: any part of a name or email, whatever its accents and case."""

from __future__ import annotations

import pytest

from domain.model import ConnectionStatus, ConnectionType, ZoomUser
from domain.ports import MembersQuery
from persistence import members_table
from persistence.database import unit_of_work
from tests.support.builders import add_connection, connection, create_organization, member, unique

PEOPLE = [
    ("Hana Tanaka", "hana.tanaka@clinic.example"),
    ("Oliver Stone", "oliver@clinic.example"),
    ("Óliver Ñúñez", "oliver.nunez@clinic.example"),
    ("Olivia Owner", "olivia@north.example"),
    ("Kai Moreau", "k.moreau@north.example"),
    ("Jan Kowalski", "jk@kowalski-family.example"),
    ("Zoë Müller", "zoe.mueller@clinic.example"),
    ("Bo Lind", "bo@lind.example"),
]


@pytest.fixture(scope="module")
async def org(db) -> str:
    org_id = unique("search")
    await create_organization(
        org_id, [member(f"{org_id}-{i}", name=name, email=email) for i, (name, email) in enumerate(PEOPLE)]
    )
    return org_id


async def names(org_id: str, q: str, limit: int = 50, **filters) -> list[str]:
    found, after = [], None
    while True:
        async with unit_of_work() as uow:
            page = await uow.members_table.page(MembersQuery(org_id=org_id, limit=limit, after=after, q=q, **filters))
        found += [row.name for row in page.items]
        if page.next_after is None:
            return found
        after = page.next_after


@pytest.mark.parametrize(
    "q, expected",
    [
        ("naka", ["Hana Tanaka"]),  # inside a word
        ("TaNaKa", ["Hana Tanaka"]),  # case aside
        ("Óli", ["Oliver Stone", "Olivia Owner", "Óliver Ñúñez"]),  # the accent typed, not in the name
        ("oli", ["Oliver Stone", "Olivia Owner", "Óliver Ñúñez"]),  # in the name, not typed
        ("nunez", ["Óliver Ñúñez"]),
        ("zoe mull", ["Zoë Müller"]),
        ("ller", ["Zoë Müller"]),
        ("owalsk", ["Jan Kowalski"]),  # inside the name and the email
        ("family", ["Jan Kowalski"]),  # a part of an email only
        ("north.example", ["Kai Moreau", "Olivia Owner"]),
        ("k.moreau@north", ["Kai Moreau"]),
        ("tanaka hana", ["Hana Tanaka"]),  # any order
        ("ka", ["Kai Moreau"]),  # short words match starts of words: not Tanaka
        ("ko", ["Jan Kowalski"]),
        ("bo", ["Bo Lind"]),
        ("naka zzz", []),
        ("%_", []),
    ],
)
async def test_r9_search_finds_any_part_of_a_name_or_email(org, q, expected):
    assert sorted(await names(org, q)) == sorted(expected)


async def test_r9_search_pages_in_name_order(org):
    assert await names(org, "example", limit=3) == sorted(name for name, _ in PEOPLE)


@pytest.fixture(scope="module")
async def crowd(db) -> str:
    """Enough members in several states that each way of reading a search can be compared."""
    org_id = unique("crowd")
    people = [
        member(f"{org_id}-{i:03d}", name=f"{['Åsa', 'Bruno', 'Chen', 'Dörte'][i % 4]} Person {i:03d}",
               email=f"p{i:03d}@{['clinic', 'lab'][i % 7 == 0]}.example")
        for i in range(120)
    ]
    await create_organization(org_id, people)
    await add_connection(
        connection(org_id, ConnectionType.ORGANIZATION),
        [ZoomUser(zoom_user_id=f"z{i}", email=person.email) for i, person in enumerate(people) if i % 3]
    )
    for i in range(0, 120, 11):
        status = ConnectionStatus.NEEDS_RECONNECT if i % 2 else ConnectionStatus.ACTIVE
        await add_connection(connection(org_id, ConnectionType.PERSONAL, status, user_id=people[i].user_id))
    return org_id


QUERIES = ["person", "asa", "lab", "pers 1", "dorte 01", "son 11", "p0", "chen lab", "nobody"]
FILTERS = [{}, {"type": "personal"}, {"connected": False}, {"type": "organization", "connected": True}]


@pytest.mark.parametrize("filters", FILTERS)
async def test_r9_each_way_of_reading_a_search_lists_the_same_rows(crowd, filters, monkeypatch):
    """All states read in order; the name index walked a few rows at a time; the trigram index."""
    expected = {q: await names(crowd, q, limit=7, **filters) for q in QUERIES}
    assert expected["person"] and expected["lab"] and not expected["nobody"]
    monkeypatch.setattr(members_table, "SMALL_SELECTION", 0)
    for walk_rows in (5, 40, 1000):
        monkeypatch.setattr(members_table, "WALK_ROWS", walk_rows)
        for q in QUERIES:
            assert await names(crowd, q, limit=7, **filters) == expected[q], (q, walk_rows)


async def test_r9_search_agrees_with_listing_and_filters(crowd):
    everyone = await names(crowd, "example", limit=200)
    async with unit_of_work() as uow:
        listed = await uow.members_table.page(MembersQuery(org_id=crowd, limit=200))
    assert everyone == [row.name for row in listed.items] and len(everyone) == 120
    assert len(await names(crowd, "lab")) == len(range(0, 120, 7))
