"""R24 on real PostgreSQL: the outbox is written with the change, fanned out in batches, delivered in order."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import timedelta

from domain import events, keeping
from domain.model import ConnectionStatus, ConnectionType, Policy, Role, ZoomUser
from persistence.database import unit_of_work
from server.clock import utcnow
from tests.support.builders import (
    add_connection,
    connection,
    create_organization,
    member,
    unique,
)
from tests.support.sql import raw_sql


async def endpoint(endpoint_id: str | None = None, org_id: str | None = None, types: list[str] | None = None) -> str:
    endpoint_id = endpoint_id or unique("endpoint")
    async with unit_of_work() as uow:
        await uow.event_endpoints.save(endpoint_id, "http://127.0.0.1:9/hook", types or [], org_id, "whsec_dGVzdA==", utcnow())
        await uow.commit()
    return endpoint_id


async def org_events(org_id: str) -> list[dict]:
    async with raw_sql() as sql:
        records = await sql.fetch(
            "SELECT type, subject, ordinal, position, data, fan_out_state FROM events WHERE org_id = $1 ORDER BY position",
            org_id,
        )
    return [{**dict(r), "data": json.loads(r["data"])} for r in records]


async def seated_organization(size: int) -> tuple[str, list[str]]:
    """An organization whose connection serves every member through a seat."""
    org_id = unique("org")
    people = [member(f"{org_id}-{n:05d}", Role.OWNER if n == 0 else Role.MEMBER) for n in range(size)]
    await create_organization(org_id, people)
    users = [ZoomUser(zoom_user_id=f"zu-{org_id}-{n}", email=p.email) for n, p in enumerate(people)]
    await add_connection(connection(org_id, ConnectionType.ORGANIZATION), users)
    return org_id, [p.user_id for p in people]


async def fan_out_all(org_id: str, batch: int = events.FAN_OUT_BATCH) -> None:
    pending = [e for e in await org_events(org_id) if e["fan_out_state"] in ("pending", "running")]
    async with raw_sql() as sql:
        ids = [str(await sql.fetchval("SELECT id FROM events WHERE position = $1", e["position"])) for e in pending]
    for event_id in ids:
        while True:
            async with unit_of_work() as uow:
                if not await events.fan_out_batch(uow, event_id, batch):
                    break


async def test_r24_breaking_an_organization_writes_one_event_and_no_member_rows(db):
    org_id, _ = await seated_organization(30)
    await fan_out_all(org_id)
    before = len(await org_events(org_id))
    async with unit_of_work() as uow:
        org_connection = await uow.connections.organization(org_id)
        await keeping.mark_broken(uow, org_connection, ConnectionStatus.ADMIN_LOST, "demoted", "test", utcnow())
        await uow.commit()
    written = (await org_events(org_id))[before:]
    assert [(e["type"], e["fan_out_state"]) for e in written] == [("organization.connection.changed", "pending")]
    assert written[0]["data"]["status"] == "admin_lost" and written[0]["data"]["before"]["status"] == "active"


async def test_r24_fan_out_in_batches_tells_each_relying_member_once(db):
    org_id, user_ids = await seated_organization(25)
    await fan_out_all(org_id)
    async with unit_of_work() as uow:
        # One member is served personally: the organization's break does not move them.
        await uow.connections.add(connection(org_id, ConnectionType.PERSONAL, user_id=user_ids[3]))
        await uow.commit()
    async with unit_of_work() as uow:
        await keeping.mark_broken(
            uow, await uow.connections.organization(org_id), ConnectionStatus.ADMIN_LOST, "demoted", "test", utcnow()
        )
        await uow.commit()
    start = len(await org_events(org_id))
    await fan_out_all(org_id, batch=10)
    written = await org_events(org_id)
    organization_event = written[start - 1]
    fanned = written[start:]
    assert organization_event["data"]["affected_members"] == 24
    assert organization_event["fan_out_state"] == "done"
    assert sorted(e["subject"] for e in fanned) == sorted(f"member:{u}" for u in user_ids if u != user_ids[3])
    assert {e["ordinal"] for e in fanned} == {organization_event["position"]}
    one = fanned[0]["data"]
    assert (one["connected"], one["type"], one["reason"]) == (False, "organization", "organization_admin_lost")
    assert one["before"] == {"connected": True, "type": "organization", "reason": None}


async def test_r24_a_members_own_change_is_one_event_with_before_and_after(db):
    org_id, user_ids = await seated_organization(3)
    await fan_out_all(org_id)
    async with unit_of_work() as uow:
        await uow.organizations.set_policy(org_id, Policy(allow_members_to_remove=True), utcnow())
        await uow.commit()
    await fan_out_all(org_id)
    start = len(await org_events(org_id))
    async with unit_of_work() as uow:
        await uow.members.set_organization_removed(org_id, user_ids[1], True, utcnow())
        await uow.commit()
    written = (await org_events(org_id))[start:]
    assert [(e["type"], e["subject"]) for e in written] == [("member.connection.changed", f"member:{user_ids[1]}")]
    assert written[0]["data"]["reason"] == "organization_removed"
    assert written[0]["data"]["before"]["connected"] is True


async def test_r24_a_seat_lost_in_a_resync_is_an_event(db):
    org_id, user_ids = await seated_organization(4)
    await fan_out_all(org_id)
    start = len(await org_events(org_id))
    async with unit_of_work() as uow:
        org_connection = await uow.connections.organization(org_id)
        kept = [ZoomUser(zoom_user_id=f"zu-{org_id}-{n}", email=f"{u}@example.test") for n, u in enumerate(user_ids) if n != 2]
        await uow.zoom_users.sync(org_connection, kept)
        await uow.commit()
    written = (await org_events(org_id))[start:]
    assert [(e["subject"], e["data"]["reason"]) for e in written] == [(f"member:{user_ids[2]}", "no_seat")]


async def test_r24_events_only_with_their_commit(db):
    org_id, user_ids = await seated_organization(2)
    await fan_out_all(org_id)
    start = len(await org_events(org_id))
    async with unit_of_work() as uow:
        await keeping.mark_broken(
            uow, await uow.connections.organization(org_id), ConnectionStatus.ADMIN_LOST, "demoted", "test", utcnow()
        )
    assert len(await org_events(org_id)) == start
    async with raw_sql() as sql:
        assert await sql.fetchval("SELECT count(*) FROM organization_fact_changes WHERE org_id = $1", org_id) == 0


async def test_r24_deliveries_for_matching_endpoints_only(db):
    org_id, user_ids = await seated_organization(2)
    await fan_out_all(org_id)
    everything = await endpoint()
    this_org_members = await endpoint(org_id=org_id, types=["member.connection.changed"])
    other_org = await endpoint(org_id=unique("org"))
    async with unit_of_work() as uow:
        await uow.members.set_organization_removed(org_id, user_ids[1], True, utcnow())
        await uow.organizations.set_policy(org_id, Policy(allow_members_to_remove=True), utcnow())
        await uow.commit()
    async with raw_sql() as sql:
        rows = await sql.fetch(
            """SELECT d.endpoint_id, v.type FROM event_deliveries d JOIN events v ON v.position = d.event_position
               WHERE d.org_id = $1 AND d.endpoint_id = ANY($2::text[])""",
            org_id,
            [everything, this_org_members, other_org],
        )
    got = sorted((r["endpoint_id"], r["type"]) for r in rows)
    # The removal was told against the policy as it was (no effect), so only the organization event.
    assert got == [(everything, "organization.connection.changed")]
    await fan_out_all(org_id)
    async with raw_sql() as sql:
        # Only this test's endpoints: one another test left hearing every organization would be listed too.
        member_deliveries = await sql.fetch(
            """SELECT endpoint_id, subject FROM event_deliveries
               WHERE org_id = $1 AND subject LIKE 'member:%' AND endpoint_id = ANY($2::text[])""",
            org_id,
            [everything, this_org_members, other_org],
        )
    assert sorted((r["endpoint_id"], r["subject"]) for r in member_deliveries) == sorted(
        [(everything, f"member:{user_ids[1]}"), (this_org_members, f"member:{user_ids[1]}")]
    )


async def claim_all(endpoint_id: str) -> list[int]:
    """What a worker would claim now, of this endpoint's deliveries (short leases: other tests' deliveries come back soon).

    The database holds every earlier test's deliveries too, still pending and due earlier: claim them all."""
    async with unit_of_work(read_only=True) as uow:
        claimed = await uow.deliveries.claim(100_000, lease_s=2)
    return [c.id for c in claimed if c.endpoint_id == endpoint_id]


async def test_r24_one_subject_is_delivered_in_order_and_claimed_by_one_worker(db):
    org_id, user_ids = await seated_organization(2)
    await fan_out_all(org_id)
    hook = await endpoint(org_id=org_id)
    async with unit_of_work() as uow:
        await uow.organizations.set_policy(org_id, Policy(allow_members_to_remove=True), utcnow())
        await uow.commit()
    await fan_out_all(org_id)
    for removed in (True, False, True):
        async with unit_of_work() as uow:
            await uow.members.set_organization_removed(org_id, user_ids[1], removed, utcnow())
            await uow.commit()
    async with raw_sql() as sql:
        queue = [r["id"] for r in await sql.fetch(
            "SELECT id FROM event_deliveries WHERE endpoint_id = $1 AND subject = $2 ORDER BY ordinal, event_position",
            hook, f"member:{user_ids[1]}")]
    assert len(queue) == 3
    first, second = await asyncio.gather(claim_all(hook), claim_all(hook))
    member_claims = [d for d in first + second if d in queue]
    assert member_claims == [queue[0]], "only the head of a subject's queue, by one worker"
    async with unit_of_work(read_only=True) as uow:
        await uow.deliveries.delivered(queue[0], 200)
    assert [d for d in await claim_all(hook) if d in queue] == [queue[1]]


async def test_r24_a_lease_that_runs_out_is_claimed_again(db):
    org_id, user_ids = await seated_organization(1)
    await fan_out_all(org_id)
    hook = await endpoint(org_id=org_id)
    async with unit_of_work() as uow:
        await uow.organizations.set_policy(org_id, Policy(allow_members_to_remove=True), utcnow())
        await uow.commit()
    assert await claim_all(hook) == [], "an organization event waits until its members are counted"
    await fan_out_all(org_id)
    async with unit_of_work(read_only=True) as uow:
        claimed = [c for c in await uow.deliveries.claim(100_000, lease_s=1.5) if c.endpoint_id == hook]
    assert len(claimed) == 1
    # Long enough a lease that a loaded machine's next claim still comes within it.
    assert await claim_all(hook) == []
    deadline = asyncio.get_running_loop().time() + 15
    while not (again := await claim_all(hook)) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
    assert again == [claimed[0].id]
    async with raw_sql() as sql:
        attempts = await sql.fetchval("SELECT attempts FROM event_deliveries WHERE id = $1", again[0])
    assert attempts == 2


async def test_r24_failed_attempts_back_off_then_fail_for_good(db):
    org_id, _ = await seated_organization(1)
    await fan_out_all(org_id)
    hook = await endpoint(org_id=org_id)
    async with unit_of_work() as uow:
        await uow.organizations.set_policy(org_id, Policy(allow_members_to_remove=True), utcnow())
        await uow.commit()
    await fan_out_all(org_id)
    (delivery,) = await claim_all(hook)
    async with unit_of_work(read_only=True) as uow:
        await uow.deliveries.failed(delivery, 500, "server error", utcnow() + timedelta(hours=1))
        assert await claim_all(hook) == []
        await uow.deliveries.failed(delivery, 500, "server error", None)
        page, _ = await uow.deliveries.page(hook, "failed", None, 10)
    assert [(d.id, d.status, d.last_status_code) for d in page] == [(delivery, "failed", 500)]


async def test_r24_a_fan_out_that_runs_late_reads_members_as_they_were_at_the_organization_change(db):
    org_id, user_ids = await seated_organization(3)
    await fan_out_all(org_id)
    async with unit_of_work() as uow:
        await keeping.mark_broken(
            uow, await uow.connections.organization(org_id), ConnectionStatus.ADMIN_LOST, "demoted", "test", utcnow()
        )
        await uow.commit()
    # Before the worker fans the break out, one member connects their own Zoom.
    async with unit_of_work() as uow:
        await uow.connections.add(connection(org_id, ConnectionType.PERSONAL, user_id=user_ids[1]))
        await uow.commit()
    start = len(await org_events(org_id))
    # This test is the worker: a worker of another fixture fanning out first would prove nothing here.
    assert [e["fan_out_state"] for e in (await org_events(org_id))[-2:]] == ["pending", None], "fanned out by another worker"
    await fan_out_all(org_id)
    written = await org_events(org_id)
    organization_event = next(e for e in written if e["data"].get("status") == "admin_lost")
    assert organization_event["data"]["affected_members"] == 3
    # In delivery order: by ordinal (the fanned-out event takes its organization event's), then position.
    told = sorted((e for e in written if e["subject"] == f"member:{user_ids[1]}"), key=lambda e: (e["ordinal"], e["position"]))[-2:]
    assert [(e["data"]["before"]["reason"], e["data"]["reason"]) for e in told] == [
        (None, "organization_admin_lost"),
        ("organization_admin_lost", None),
    ]
    assert told[0]["position"] > told[1]["position"], "written later, delivered first"
    assert len(written) - start == 3


async def test_r24_roomlink_events_lists_deliveries_and_redelivers_the_failed_ones(db):
    org_id, _ = await seated_organization(1)
    await fan_out_all(org_id)
    hook = await endpoint(org_id=org_id)
    async with unit_of_work() as uow:
        await uow.organizations.set_policy(org_id, Policy(allow_members_to_remove=True), utcnow())
        await uow.commit()
    await fan_out_all(org_id)
    (delivery,) = await claim_all(hook)
    async with unit_of_work(read_only=True) as uow:
        await uow.deliveries.failed(delivery, 503, "HTTP 503", None)
    command = [sys.executable, "-m", "server.cli", "events", hook]
    listed = subprocess.run([*command, "--status", "failed"], capture_output=True, text=True, timeout=60, check=True)
    assert str(delivery) in listed.stdout and "organization.connection.changed" in listed.stdout
    again = subprocess.run([*command, "--redeliver-failed"], capture_output=True, text=True, timeout=60, check=True)
    assert f"queued again: {delivery}" in again.stdout
    assert again.stderr.splitlines()[-1].startswith(f"redeliver to {hook}: 1/1 deliveries 100%")
    async with unit_of_work(read_only=True) as uow:
        (entry,), _ = await uow.deliveries.page(hook, None, None, 10)
    assert entry.status == "pending"
