"""The page that asks to confirm cancelling a meeting finds it by its id, however many meetings its member has."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from domain.meeting_model import Meeting, MeetingStatus
from tests.support.servers import API_KEY_SECRET
from tests.support.sql import unit_of_work_with_sql
from tests.support.zoom import connect_personal, email, path_of


async def many_meetings(org_id: str, user_id: str, count: int) -> list[Meeting]:
    """`count` scheduled meetings of the member, one a day from tomorrow, written as Roomlink records them."""
    now = datetime.now(UTC).replace(microsecond=0)
    async with unit_of_work_with_sql() as (uow, _):
        connection = await uow.connections.personal(org_id, user_id)
        made = [
            await uow.meetings.add(
                Meeting(
                    id=str(uuid.uuid4()), org_id=org_id, user_id=user_id, connection_id=connection.id,
                    connection_type=connection.type, zoom_user_id=connection.zoom_user_id,
                    zoom_user_email=connection.zoom_email, topic=f"Meeting {n:03}", start_time=now + timedelta(days=1 + n),
                    duration_minutes=30, timezone="UTC", agenda="", passcode="abc123", zoom_meeting_id=90_000_000 + n,
                    join_url=f"https://zoom.example/j/{90_000_000 + n}", status=MeetingStatus.SCHEDULED, status_reason=None,
                    in_personal_room=False, idempotency_key=f"many-{n}", request_hash="", attempts=1, lease_until=None,
                    not_before=None, created_at=now, updated_at=now,
                )
            )
            for n in range(count)
        ]
        await uow.commit()
    return made


@contextlib.asynccontextmanager
async def signed_in(roomlink: str, org_id: str, user_id: str):
    async with httpx.AsyncClient(base_url=roomlink, timeout=30) as browser:
        launch = await browser.post(
            f"/api/v1/orgs/{org_id}/members/{user_id}/launch", headers={"Authorization": f"Bearer {API_KEY_SECRET}"}
        )
        assert (await browser.get(path_of(launch.json()["url"]))).status_code == 303
        yield browser


async def test_the_cancel_page_finds_a_meeting_past_a_members_first_hundred(api, roomlink, org, sandbox):
    own = await sandbox.user(await sandbox.account("Own"), email("own"), "owner")
    assert (await connect_personal(api, org["member"], own["email"])).status_code == 303
    meetings = await many_meetings(org["org_id"], org["member"], 101)
    last = meetings[-1]

    async with signed_in(roomlink, org["org_id"], org["member"]) as members_browser:
        page = await members_browser.get(f"/meetings/{last.id}/cancel")
    async with signed_in(roomlink, org["org_id"], org["admin"]) as someone_else:
        not_theirs = await someone_else.get(f"/meetings/{last.id}/cancel")

    assert page.status_code == 200 and "Cancel this meeting?" in page.text and "Meeting 100" in page.text
    assert 'method="post"' in page.text and f"/meetings/{last.id}/cancel" in page.text
    assert "It was not found among your upcoming meetings." in not_theirs.text
