"""The members table's SQL computes exactly what domain.precedence decides, for every combination."""

from __future__ import annotations

import itertools

import pytest

from domain.model import ConnectionStatus, ConnectionType, Policy, ZoomUser
from domain.ports import MembersQuery
from domain.precedence import effective_connection
from persistence.database import unit_of_work
from server.clock import utcnow
from tests.support.builders import (
    add_connection,
    connection,
    create_organization,
    member,
    unique,
)

PERSONAL = (None, ConnectionStatus.ACTIVE, ConnectionStatus.NEEDS_RECONNECT, ConnectionStatus.DEAUTHORIZED)
ORGANIZATION = (None, *ConnectionStatus)
BOOLS = (True, False)


class Case:
    def __init__(self, org_id, user_id, personal, organization, seat, removed, allowed):
        self.org_id, self.user_id = org_id, user_id
        self.inputs = dict(
            personal=personal,
            organization=organization,
            has_seat=seat,
            removed_organization=removed,
            members_may_remove=allowed,
        )
        self.expected = effective_connection(**self.inputs)


@pytest.fixture(scope="module")
async def cases(db) -> list[Case]:
    """One organization per (organization status, policy); one member per (personal, seat, removed)."""
    built: list[Case] = []
    for organization, allowed in itertools.product(ORGANIZATION, BOOLS):
        org_id = unique("r7")
        combos = list(itertools.product(PERSONAL, BOOLS, BOOLS))
        members = [member(f"{org_id}-m{index}") for index in range(len(combos))]
        await create_organization(org_id, members)
        seated = []
        async with unit_of_work() as uow:
            await uow.organizations.set_policy(org_id, Policy(allow_members_to_remove=allowed), utcnow())
            for person, (personal, seat, removed) in zip(members, combos, strict=True):
                if removed:
                    await uow.members.set_organization_removed(org_id, person.user_id, True, utcnow())
                if personal is not None:
                    await uow.connections.add(
                        connection(
                            org_id, ConnectionType.PERSONAL, personal, user_id=person.user_id,
                            zoom_email=f"own.{person.user_id}@zoom.example",
                        )
                    )
                if seat:
                    seated.append(ZoomUser(zoom_user_id=unique("zu"), email=person.email.upper()))
                built.append(Case(org_id, person.user_id, personal, organization, seat, removed, allowed))
            await uow.commit()
        if organization is not None:
            # Inactive Zoom users with the unseated members' emails must not give seats.
            inactive = [
                ZoomUser(zoom_user_id=unique("zu"), email=person.email, status="inactive")
                for person, (_, seat, _) in zip(members, combos, strict=True)
                if not seat
            ]
            await add_connection(connection(org_id, ConnectionType.ORGANIZATION, organization), seated + inactive)
    return built


async def all_rows(org_id: str, descending: bool = False, **filters) -> dict:
    """Every row the filters list, page after page by the cursor, in the order read; Z to A (descending),
    checked to be the A to Z rows reversed, none twice."""
    rows, after, read = {}, None, []
    while True:
        async with unit_of_work() as uow:
            page = await uow.members_table.page(
                MembersQuery(org_id=org_id, limit=7, after=after, descending=descending, **filters)
            )
        rows.update({row.user_id: row for row in page.items})
        read += [row.user_id for row in page.items]
        if page.next_after is None:
            break
        after = page.next_after
    assert len(read) == len(rows)
    if descending:
        assert read == list(await all_rows(org_id, **filters))[::-1], filters
    return rows


DIRECTIONS = pytest.mark.parametrize("descending", [False, True], ids=["name", "-name"])


def test_every_combination_is_built(cases):
    # organization none/4 statuses × policy × personal none/active/2 broken × seat × removed
    assert len(cases) == 5 * 2 * 4 * 2 * 2


@DIRECTIONS
async def test_r7_members_table_rows_agree_with_precedence(cases, descending):
    for org_id in {case.org_id for case in cases}:
        rows = await all_rows(org_id, descending)
        for case in (c for c in cases if c.org_id == org_id):
            row = rows[case.user_id]
            assert (row.connected, row.type, row.reason) == (
                case.expected.connected,
                case.expected.type if case.expected.connected else None,
                case.expected.reason,
            ), case.inputs


@pytest.mark.parametrize(
    "filters, keep",
    [
        ({"type": "organization"}, lambda e: e.connected and e.type is ConnectionType.ORGANIZATION),
        ({"type": "personal"}, lambda e: e.connected and e.type is ConnectionType.PERSONAL),
        ({"type": "none"}, lambda e: not e.connected),
        ({"connected": True}, lambda e: e.connected),
        ({"connected": False}, lambda e: not e.connected),
        ({"type": "organization", "connected": False}, lambda e: False),
        ({"type": "personal", "connected": True}, lambda e: e.connected and e.type is ConnectionType.PERSONAL),
    ],
)
@DIRECTIONS
async def test_r9_filters_select_what_precedence_says(cases, filters, keep, descending):
    for org_id in {case.org_id for case in cases}:
        rows = await all_rows(org_id, descending, **filters)
        expected = {c.user_id for c in cases if c.org_id == org_id and keep(c.expected)}
        assert set(rows) == expected, (filters, org_id)


async def test_r9_counts_agree_with_precedence(cases):
    for org_id in {case.org_id for case in cases}:
        mine = [c.expected for c in cases if c.org_id == org_id]
        async with unit_of_work() as uow:
            counts = await uow.members_table.counts(org_id)
        assert counts.organization == sum(1 for e in mine if e.connected and e.type is ConnectionType.ORGANIZATION)
        assert counts.personal == sum(1 for e in mine if e.connected and e.type is ConnectionType.PERSONAL)
        assert counts.not_connected == sum(1 for e in mine if not e.connected)
        assert counts.total == len(mine)


async def test_r9_each_count_is_the_number_of_rows_its_filter_lists(cases):
    """docs/design.md#r9: the page shows each count as the filter that lists it."""
    for org_id in {case.org_id for case in cases}:
        async with unit_of_work() as uow:
            counts = await uow.members_table.counts(org_id)
        assert (counts.organization, counts.personal, counts.not_connected, counts.total) == (
            len(await all_rows(org_id, type="organization", connected=True)),
            len(await all_rows(org_id, type="personal", connected=True)),
            len(await all_rows(org_id, connected=False)),
            len(await all_rows(org_id)),
        )
        assert counts.organization + counts.personal + counts.not_connected == counts.total


@pytest.mark.parametrize(
    "filters",
    [{}, {"type": "organization"}, {"type": "personal"}, {"type": "none"}, {"connected": True}, {"connected": False}],
)
@DIRECTIONS
async def test_r9_a_page_says_how_many_rows_its_filter_lists_in_all(cases, filters, descending):
    for org_id in {case.org_id for case in cases}:
        async with unit_of_work() as uow:
            first = await uow.members_table.page(
                MembersQuery(org_id=org_id, limit=3, descending=descending, **filters)
            )
            searched = await uow.members_table.page(
                MembersQuery(org_id=org_id, limit=3, q="m1", descending=descending, **filters)
            )
        assert first.total == len(await all_rows(org_id, descending, **filters)), (filters, org_id)
        assert searched.total is None


async def test_r5_r9_each_row_names_the_zoom_user_that_serves_it(cases):
    for org_id in {case.org_id for case in cases}:
        rows = await all_rows(org_id)
        for case in (c for c in cases if c.org_id == org_id):
            row = rows[case.user_id]
            if case.expected.type is ConnectionType.PERSONAL:
                assert row.zoom_user_email == f"own.{case.user_id}@zoom.example", case.inputs
            elif case.expected.type is ConnectionType.ORGANIZATION:
                assert row.zoom_user_email == row.email.lower(), case.inputs
            else:
                assert row.zoom_user_email is None, case.inputs
