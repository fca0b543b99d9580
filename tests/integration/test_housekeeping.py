"""The periodic cleanup removes what expired and nothing that still works."""

from __future__ import annotations

from datetime import timedelta

from domain.model import ConnectionType, Role
from domain.ports import OAuthState
from server.clock import utcnow
from tests.support.builders import create_organization, member, unique


async def test_purge_removes_expired_sessions_launch_links_states_and_old_replay_records_only(db):
    org_id = unique("org")
    user_id = f"{org_id}-a"
    await create_organization(org_id, [member(user_id, Role.OWNER)])
    now = utcnow()
    past, future = now - timedelta(seconds=1), now + timedelta(hours=1)
    async with db.unit_of_work() as uow:
        for name, expires_at in (("old", past), ("live", future)):
            await uow.sessions.add_session(org_id, user_id, unique(f"session-{name}")[:64], "csrf", now, expires_at)
            await uow.sessions.add_launch_link(org_id, user_id, unique(f"launch-{name}")[:64], "/", now, expires_at)
            await uow.oauth_states.add(
                unique(f"state-{name}")[:64],
                OAuthState(connection_type=ConnectionType.PERSONAL, org_id=org_id, user_id=user_id, code_verifier="v" * 64, expires_at=expires_at),
            )
        await uow.webhooks.accept(unique("old-event")[:64], "user.updated", now - timedelta(days=2))
        await uow.webhooks.accept(unique("new-event")[:64], "user.updated", now - timedelta(minutes=10))
        await uow.commit()

    async with db.unit_of_work() as uow:
        purged = await uow.housekeeping.purge_expired(now)
        await uow.commit()
    assert purged["sessions"] >= 1 and purged["launch_links"] >= 1 and purged["oauth_states"] >= 1
    assert purged["webhook_events"] >= 1

    async with db.connection() as connection:
        for table in ("sessions", "launch_links", "oauth_states"):
            assert await connection.fetchval(f"SELECT count(*) FROM {table} WHERE expires_at <= $1", now) == 0
            assert await connection.fetchval(f"SELECT count(*) FROM {table} WHERE expires_at > $1", now) >= 1
        assert await connection.fetchval("SELECT count(*) FROM webhook_events WHERE received_at < $1", now - timedelta(days=1)) == 0
        assert await connection.fetchval("SELECT count(*) FROM webhook_events WHERE received_at > $1", now - timedelta(hours=1)) >= 1
