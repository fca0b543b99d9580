"""Meetings and the daily budget on real PostgreSQL: the constraints and locks R20 and R23 rely on."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import asyncpg
import msgspec
import pytest

from domain.budget import DAILY_LIMIT
from domain.meeting_model import Meeting, MeetingStatus
from domain.model import ConnectionType, Role
from persistence.database import unit_of_work
from server.clock import utcnow
from tests.support.builders import create_organization, member, unique

DAY = date(2026, 12, 1)


@pytest.fixture
async def host(db) -> tuple[str, str]:
    org_id = unique("org")
    await create_organization(org_id, [member(f"{org_id}-host", Role.MEMBER)])
    return org_id, f"{org_id}-host"


def intent(org_id: str, user_id: str, key: str | None = None, **changes) -> Meeting:
    now = utcnow()
    meeting = Meeting(
        id=str(uuid.uuid4()), org_id=org_id, user_id=user_id, connection_id=str(uuid.uuid4()),
        connection_type=ConnectionType.ORGANIZATION, zoom_user_id="zu-1", zoom_user_email="host@example.test",
        topic="Planning", start_time=now + timedelta(days=1), duration_minutes=30, timezone="UTC", agenda="",
        passcode=None, zoom_meeting_id=None, join_url=None, status=MeetingStatus.PENDING, status_reason=None,
        in_personal_room=False, idempotency_key=key, request_hash="h1", attempts=0, lease_until=None,
        not_before=None, created_at=now, updated_at=now,
    )
    return msgspec.structs.replace(meeting, **changes)


async def add(meeting: Meeting) -> Meeting:
    async with unit_of_work() as uow:
        stored = await uow.meetings.add(meeting)
        await uow.commit()
    return stored


async def test_r23_meeting_round_trips_and_saves(host):
    org_id, user_id = host
    meeting = await add(intent(org_id, user_id, "k"))
    scheduled = msgspec.structs.replace(meeting, status=MeetingStatus.SCHEDULED, zoom_meeting_id=81234567890)
    async with unit_of_work() as uow:
        await uow.meetings.save(scheduled)
        await uow.commit()
    async with unit_of_work(read_only=True) as uow:
        assert await uow.meetings.get(org_id, meeting.id) == scheduled
        assert await uow.meetings.by_zoom_id(org_id, 81234567890) == [scheduled]
        assert await uow.meetings.get("another-org", meeting.id) is None


async def test_r23_two_connections_racing_with_one_key_store_one_intent(host):
    org_id, user_id = host
    first, second = intent(org_id, user_id, "same-key"), intent(org_id, user_id, "same-key")
    async with unit_of_work() as one, unit_of_work() as two:
        assert (await one.meetings.add(first)).id == first.id
        # The second insert waits on the first transaction's uncommitted key...
        racing = asyncio.create_task(two.meetings.add(second))
        await asyncio.sleep(0)
        assert not racing.done()
        await one.commit()
        # ...and, once it commits, finds the key taken: it gets the first intent back.
        assert (await racing).id == first.id
    async with unit_of_work(read_only=True) as uow:
        rows = await uow.meetings.of_member(org_id, user_id, start_from=None, start_to=None, after=None, limit=10)
    assert [row.id for row in rows] == [first.id]


async def test_meetings_without_a_key_are_many(host):
    org_id, user_id = host
    await add(intent(org_id, user_id))
    await add(intent(org_id, user_id))
    async with unit_of_work(read_only=True) as uow:
        rows = await uow.meetings.of_member(org_id, user_id, start_from=None, start_to=None, after=None, limit=10)
    assert len(rows) == 2


async def test_r23_a_locked_intent_holds_a_second_claimant_until_the_first_commits(host):
    org_id, user_id = host
    meeting = await add(intent(org_id, user_id, "lock"))
    async with unit_of_work() as one, unit_of_work() as two:
        await one.meetings.locked(org_id, meeting.id)
        waiting = asyncio.create_task(two.meetings.locked(org_id, meeting.id))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await one.meetings.save(msgspec.structs.replace(meeting, attempts=1, lease_until=utcnow() + timedelta(minutes=1)))
        await one.commit()
        assert (await waiting).attempts == 1


async def test_zoom_duration_is_checked_by_the_database(host):
    org_id, user_id = host
    with pytest.raises(asyncpg.CheckViolationError):
        await add(intent(org_id, user_id, duration_minutes=0))


async def test_r20_budget_never_passes_100_even_when_spent_from_many_connections_at_once(host):
    org_id, _ = host

    async def spend() -> bool:
        async with unit_of_work() as uow:
            spent = await uow.meeting_budget.spend(org_id, "zu-busy", DAY)
            await uow.commit()
        return spent

    results = await asyncio.gather(*(spend() for _ in range(DAILY_LIMIT + 20)))
    assert results.count(True) == DAILY_LIMIT
    async with unit_of_work(read_only=True) as uow:
        assert await uow.meeting_budget.used(org_id, DAY) == {"zu-busy": DAILY_LIMIT}
        assert await uow.meeting_budget.used(org_id, DAY + timedelta(days=1)) == {}


async def test_r20_zoom_closing_the_day_spends_what_is_left(host):
    org_id, _ = host
    async with unit_of_work() as uow:
        assert await uow.meeting_budget.spend(org_id, "zu-2", DAY)
        await uow.meeting_budget.close_day(org_id, "zu-2", DAY)
        assert not await uow.meeting_budget.spend(org_id, "zu-2", DAY)
        assert await uow.meeting_budget.spend(org_id, "zu-2", DAY + timedelta(days=1))
        await uow.commit()
