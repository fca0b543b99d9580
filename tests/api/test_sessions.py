"""Remote sessions and bookings end to end: HTTP to real Roomlink processes, workers, the Zoom sandbox in its
own process, a real SMTP inbox (R12, R16, R19–R24)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from persistence.database import unit_of_work
from tests.support.jobs import settled
from tests.support.sql import raw_sql
from tests.support.zoom import (
    activate,
    activated,
    as_member,
    create_activation_link,
    eventually,
)

pytestmark = pytest.mark.usefixtures("workers")

KEY_HEADERS = as_member("")  # the API key alone: provisioning calls act as no member
KEY = {"Authorization": KEY_HEADERS["Authorization"]}


def later(hours: int = 24) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def session_body(host: str, **overrides) -> dict:
    return {"host_user_id": host, "title": "Morning yoga", "start_time": later(), "duration_minutes": 45, "remote": True,
            **overrides}


def person(org: dict, n: int) -> dict:
    """Participants' emails are the organization's own: the inbox is shared by every test."""
    return {"name": f"Participant {n}", "email": f"p{n}.{org['org_id']}@people.test"}


@pytest.fixture
async def seated(api, org, zoom_account) -> dict:
    """The organization connected; the session host (`member`) holds the seat `seat_member` (R5)."""
    await activated(api, org, zoom_account)
    return zoom_account["seat_member"]


def session_path(org: dict, session_id: str) -> str:
    return f"/api/v1/orgs/{org['org_id']}/sessions/{session_id}"


async def put_session(api, org, session_id: str, **overrides) -> httpx.Response:
    return await api.put(session_path(org, session_id), json=session_body(org["member"], **overrides), headers=KEY)


async def book(api, org, session_id: str, n: int, **body) -> httpx.Response:
    return await api.put(f"{session_path(org, session_id)}/bookings/b{n}", json={**person(org, n), **body}, headers=KEY)


async def session_of(api, org, session_id: str) -> dict:
    return (await api.get(session_path(org, session_id), headers=KEY)).json()


async def ready(api, org, session_id: str) -> dict | None:
    session = await session_of(api, org, session_id)
    return session if session["status"] == "ready" else None


async def status_is(api, org, session_id: str, status: str) -> dict | None:
    session = await session_of(api, org, session_id)
    return session if session["status"] == status else None


async def held(sandbox, zoom_user_id: str) -> list[dict]:
    return (await sandbox.client.get(f"/sandbox/users/{zoom_user_id}/meetings")).json()


async def creates(sandbox, zoom_user_id: str) -> int:
    """Meetings Zoom made for this Zoom user (the sandbox's log is shared by every test)."""
    return sum(
        1 for c in await sandbox.calls()
        if c["method"] == "POST" and c["path"] == f"/v2/users/{zoom_user_id}/meetings" and c["status"] == 201
    )


async def changes(sandbox, method: str, zoom_meeting_id: int) -> int:
    return sum(
        1 for c in await sandbox.calls()
        if c["method"] == method and c["path"] == f"/v2/meetings/{zoom_meeting_id}" and c["status"] < 300
    )


async def test_r16_100_concurrent_first_bookings_on_two_processes_make_one_meeting_everyone_shares(
    api, org, sandbox, seated, roomlink, second_roomlink, outbox
):
    assert (await put_session(api, org, "yoga-1")).status_code == 201
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(base_url=roomlink, timeout=60, limits=limits) as one, httpx.AsyncClient(
        base_url=second_roomlink, timeout=60, limits=limits
    ) as two:
        answers = await asyncio.gather(*(book(client, org, "yoga-1", n) for n, client in enumerate([one, two] * 50)))
    assert sorted(a.status_code for a in answers) == [201] * 100, {a.status_code: a.text for a in answers}
    assert {a.json()["link_status"] for a in answers} <= {"pending", "ready"}

    session = await eventually(lambda: ready(api, org, "yoga-1"), timeout=30)
    assert session and session["bookings"] == 100 and session["meeting"]["join_url"]
    [in_zoom] = await held(sandbox, seated["id"])
    assert in_zoom["id"] == session["meeting"]["zoom_meeting_id"] and in_zoom["topic"] == "Morning yoga"
    assert await creates(sandbox, seated["id"]) == 1
    again = await asyncio.gather(*(book(api, org, "yoga-1", n) for n in range(100)))
    assert {(a.status_code, a.json()["join_url"], a.json()["link_status"]) for a in again} == {
        (200, session["meeting"]["join_url"], "ready")
    }
    assert "start_url" not in again[0].text and "zak=" not in again[0].text
    for n in range(100):
        mail = await outbox.wait_for(lambda m, to=person(org, n)["email"]: m.to == to, timeout=30)
        assert mail.subject == "Your Zoom link for Morning yoga"
        assert session["meeting"]["join_url"] in mail.text and "zak=" not in mail.text
    await settled(org["org_id"])
    emailed = [m.to for m in outbox.messages() if m.to.endswith(f".{org['org_id']}@people.test")]
    assert sorted(emailed) == sorted(person(org, n)["email"] for n in range(100))  # one each, never twice


async def test_r16_30_bookings_then_30_cancellations_are_1_create_0_updates_1_delete(api, org, sandbox, seated):
    await put_session(api, org, "spin-1", title="Spin class")
    for n in range(30):
        assert (await book(api, org, "spin-1", n)).status_code == 201
    made = await eventually(lambda: ready(api, org, "spin-1"))
    zoom_id = made["meeting"]["zoom_meeting_id"]
    for n in range(30):
        cancelled = await api.delete(f"{session_path(org, 'spin-1')}/bookings/b{n}", headers=KEY)
        assert cancelled.status_code == 204, cancelled.text
    assert await eventually(lambda: status_is(api, org, "spin-1", "no_bookings"))
    await settled(org["org_id"])
    assert await held(sandbox, seated["id"]) == []
    assert (await creates(sandbox, seated["id"]), await changes(sandbox, "PATCH", zoom_id),
            await changes(sandbox, "DELETE", zoom_id)) == (1, 0, 1)

    rebooked = await book(api, org, "spin-1", 99)
    assert rebooked.status_code == 201 and rebooked.json()["link_status"] == "pending"
    assert await eventually(lambda: ready(api, org, "spin-1"))
    assert await creates(sandbox, seated["id"]) == 2 and len(await held(sandbox, seated["id"])) == 1


async def _none(awaitable) -> bool:
    return not await awaitable


async def test_r16_session_changes_reach_zoom_once_and_follow_the_host(api, org, sandbox, seated, zoom_account):
    await put_session(api, org, "demo-1", title="Product demo")
    await book(api, org, "demo-1", 1)
    first = await eventually(lambda: ready(api, org, "demo-1"))
    zoom_id = first["meeting"]["zoom_meeting_id"]

    same = await put_session(api, org, "demo-1", title="Product demo", start_time=first["start_time"].replace("+00:00", "Z"))
    assert same.status_code == 200
    moved = await put_session(api, org, "demo-1", title="Product demo (new time)", start_time=later(30))
    assert moved.status_code == 200 and moved.json()["title"] == "Product demo (new time)"

    async def renamed_in_zoom():
        return [m for m in await held(sandbox, seated["id"]) if m["topic"] == "Product demo (new time)"]

    assert await eventually(renamed_in_zoom)
    await settled(org["org_id"])
    assert await changes(sandbox, "PATCH", zoom_id) == 1

    # A new host: the old host's meeting is cancelled in Zoom, the new host's is made and everyone gets its link.
    changed = await api.put(
        session_path(org, "demo-1"),
        json=session_body(org["admin"], title="Product demo (new time)", start_time=later(30)),
        headers=KEY,
    )
    assert changed.status_code == 200, changed.text

    async def on_new_host():
        session = await ready(api, org, "demo-1")
        return session if session and session["meeting"]["zoom_meeting_id"] != zoom_id else None

    session = await eventually(on_new_host, timeout=20)
    assert session["host_user_id"] == org["admin"]
    assert await held(sandbox, seated["id"]) == []
    [new] = await held(sandbox, zoom_account["seat_admin"]["id"])
    assert new["id"] == session["meeting"]["zoom_meeting_id"]

    off = await api.put(session_path(org, "demo-1"), json=session_body(org["admin"], remote=False,
                        title="Product demo (new time)", start_time=later(30)), headers=KEY)
    assert off.status_code == 200 and off.json()["meeting"] is None
    assert await eventually(lambda: _none(held(sandbox, zoom_account["seat_admin"]["id"])))


async def test_r16_deleting_a_session_cancels_its_meeting_and_it_stays_cancelled(api, org, sandbox, seated):
    await put_session(api, org, "talk-1")
    await book(api, org, "talk-1", 1)
    assert await eventually(lambda: ready(api, org, "talk-1"))

    assert (await api.delete(session_path(org, "talk-1"), headers=KEY)).status_code == 204
    assert (await api.delete(session_path(org, "talk-1"), headers=KEY)).status_code == 204
    assert (await session_of(api, org, "talk-1"))["status"] == "cancelled"
    assert await eventually(lambda: _none(held(sandbox, seated["id"])))
    again = await put_session(api, org, "talk-1")
    assert again.status_code == 409 and again.json()["code"] == "session_cancelled"
    late = await book(api, org, "talk-1", 2)
    assert late.status_code == 409 and late.json()["code"] == "session_cancelled"


async def test_bad_bookings_and_sessions_are_refused_with_nothing_written_and_no_zoom_call(api, org, sandbox, seated):
    other = "other-" + org["org_id"]
    assert (await api.put(f"/api/v1/orgs/{other}", json={"name": "Other"}, headers=KEY)).status_code == 201
    assert (await api.put(f"/api/v1/orgs/{other}/members/{other}-host", json={
        "email": "host@other.test", "name": "Other host", "role": "member"}, headers=KEY)).status_code == 201
    cases = {
        "unknown host": (await api.put(session_path(org, "bad-1"), json=session_body("nobody"), headers=KEY), 400, "unknown_host"),
        "host of another organization": (
            await api.put(session_path(org, "bad-2"), json=session_body(f"{other}-host"), headers=KEY), 400, "unknown_host"),
        "in the past": (await put_session(api, org, "bad-3", start_time=later(-2)), 400, "validation_failed"),
        "no such time zone": (await put_session(api, org, "bad-4", timezone="Mars/Olympus"), 400, "validation_failed"),
        "zero seats": (await put_session(api, org, "bad-5", capacity=0), 400, "validation_failed"),
        "remote as a string": (await put_session(api, org, "bad-6", remote="true"), 400, "validation_failed"),
        "bad id": (await api.put(session_path(org, "bad%20id"), json=session_body(org["member"]), headers=KEY), 400,
                   "invalid_identifier"),
    }
    for name, (answer, status, code) in cases.items():
        assert (answer.status_code, answer.json()["code"]) == (status, code), (name, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json") and answer.json()["detail"]
    for n in range(1, 7):
        assert (await api.get(session_path(org, f"bad-{n}"), headers=KEY)).status_code == 404

    await put_session(api, org, "full-1", capacity=1)
    await put_session(api, org, "offline-1", remote=False)
    assert (await book(api, org, "full-1", 1)).status_code == 201
    bookings = {
        "full": (await book(api, org, "full-1", 2), 409, "session_full"),
        "not remote": (await book(api, org, "offline-1", 1), 409, "session_not_remote"),
        "no such session": (await book(api, org, "nope", 1), 404, "session_not_found"),
        "same id, other body": (await book(api, org, "full-1", 1, name="Someone else"), 409, "booking_conflict"),
        "bad email": (await book(api, org, "full-1", 3, email="not-an-email"), 400, "validation_failed"),
    }
    for name, (answer, status, code) in bookings.items():
        assert (answer.status_code, answer.json()["code"]) == (status, code), (name, answer.text)
    assert (await session_of(api, org, "full-1"))["bookings"] == 1
    cancel_unknown = await api.delete(f"{session_path(org, 'full-1')}/bookings/b42", headers=KEY)
    assert cancel_unknown.status_code == 404 and cancel_unknown.json()["code"] == "booking_not_found"
    await eventually(lambda: ready(api, org, "full-1"))
    await settled(org["org_id"])
    assert await creates(sandbox, seated["id"]) == 1  # the one good booking's session, nothing for the refused ones


async def test_r16_a_slow_or_down_zoom_loses_no_booking(api, org, sandbox, seated):
    await sandbox.client.post("/sandbox/faults", json={"method": "POST", "path_prefix": "/v2/users", "status": 503, "times": 6})
    await put_session(api, org, "slow-1")
    booked = await book(api, org, "slow-1", 1)
    assert booked.status_code == 201 and booked.json() == {
        "id": "b1", "session_id": "slow-1", "join_url": None, "link_status": "pending"}

    session = await eventually(lambda: ready(api, org, "slow-1"), timeout=60)
    assert session["meeting"]["join_url"] and len(await held(sandbox, seated["id"])) == 1


async def test_r21_admin_lost_flags_future_sessions_lists_them_and_a_new_activation_restores_them_with_the_same_link(
    api, org, sandbox, seated, zoom_account, outbox
):
    await put_session(api, org, "class-1", title="Pilates")
    await book(api, org, "class-1", 7)
    session = await eventually(lambda: ready(api, org, "class-1"))
    to = person(org, 7)["email"]
    await outbox.wait_for(lambda m: m.to == to, timeout=15)

    await sandbox.client.patch(f"/sandbox/users/{zoom_account['admin']['id']}", json={"role": "member"})

    flagged = await eventually(lambda: status_is(api, org, "class-1", "needs_attention"), timeout=30)
    assert flagged and "admin" in flagged["status_reason"].lower()
    listed = await api.get(f"/api/v1/orgs/{org['org_id']}/sessions", params={"status": "needs_attention"},
                           headers=as_member(org["owner"]))
    assert listed.status_code == 200 and [s["id"] for s in listed.json()["items"]] == ["class-1"]
    member_refused = await api.get(f"/api/v1/orgs/{org['org_id']}/sessions", headers=as_member(org["member"]))
    assert member_refused.status_code == 403

    link = await create_activation_link(api, org["org_id"], org["owner"])
    assert (await activate(api, link["url"], zoom_account["owner"]["email"])).status_code == 200

    restored = await eventually(lambda: ready(api, org, "class-1"), timeout=30)
    assert restored["meeting"]["join_url"] == session["meeting"]["join_url"]

    await settled(org["org_id"])
    # The same link as before: participants hold it already, so nobody is emailed it again.
    assert len([m for m in outbox.messages() if m.to == to]) == 1


async def test_r22_the_hosts_day_lists_bookings_and_a_start_link_only_the_host_can_use(api, org, sandbox, seated):
    start = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    await put_session(api, org, "today-1", start_time=start.strftime("%Y-%m-%dT%H:%M:%SZ"))
    await book(api, org, "today-1", 1)
    await eventually(lambda: ready(api, org, "today-1"))

    day = start.date().isoformat()
    mine = await api.get("/api/v1/me/sessions", params={"day": day}, headers=as_member(org["member"]))
    assert mine.status_code == 200, mine.text
    [item] = mine.json()["items"]
    assert item["id"] == "today-1" and [p["email"] for p in item["participants"]] == [person(org, 1)["email"]]
    assert item["start_path"].endswith("/start") and "zak=" not in mine.text

    started = await api.get(item["start_path"], headers=as_member(org["member"]))
    assert started.status_code == 302 and "zak=" in started.headers["location"]
    for someone in ("owner", "admin"):
        refused = await api.get(item["start_path"], headers=as_member(org[someone]))
        assert refused.status_code == 404
    others = await api.get("/api/v1/me/sessions", params={"day": day}, headers=as_member(org["admin"]))
    assert others.json()["items"] == []
    bad_zone = await api.get("/api/v1/me/sessions", params={"timezone": "Nowhere/Land"}, headers=as_member(org["member"]))
    assert bad_zone.status_code == 400 and bad_zone.json()["code"] == "validation_failed"


async def test_r20_a_session_over_the_hosts_daily_budget_waits_for_midnight_then_is_made(api, org, sandbox, seated):
    async with unit_of_work() as uow:
        for _ in range(100):
            assert await uow.meeting_budget.spend(org["org_id"], seated["id"], datetime.now(UTC).date())
        await uow.commit()

    await put_session(api, org, "late-1")
    await book(api, org, "late-1", 1)

    async def waiting():
        session = await session_of(api, org, "late-1")
        return session if "00:00 UTC" in (session["status_reason"] or "") else None

    session = await eventually(waiting, timeout=30)
    assert session["status"] == "link_pending" and await held(sandbox, seated["id"]) == []

    async with raw_sql() as sql:
        meeting_id = str(await sql.fetchval(
            "SELECT id FROM meetings WHERE org_id = $1 AND session_id = 'late-1'", org["org_id"]
        ))

    async def held_for_midnight() -> bool:
        async with raw_sql() as sql:
            return bool(await sql.fetchval(
                """
                SELECT count(*) FROM pgqueuer WHERE entrypoint = 'make_meeting' AND status = 'queued'
                  AND execute_after > now() + interval '1 minute' AND convert_from(payload, 'UTF8') LIKE '%' || $1 || '%'
                """,
                meeting_id,
            ))

    assert await eventually(held_for_midnight, timeout=30), "the meeting's own job waits for 00:00 UTC"
    # Midnight: the ledger starts a new day, and the meeting's own job runs.
    async with raw_sql() as sql, sql.transaction():
        await sql.execute("UPDATE meeting_budget SET day = day - 1 WHERE org_id = $1", org["org_id"])
        await sql.execute("UPDATE meetings SET not_before = now() WHERE id = $1::uuid", meeting_id)
        await sql.execute(
            """
            UPDATE pgqueuer SET execute_after = now() WHERE entrypoint = 'make_meeting' AND status = 'queued'
              AND convert_from(payload, 'UTF8') LIKE '%' || $1 || '%'
            """,
            meeting_id,
        )

    made = await eventually(lambda: ready(api, org, "late-1"), timeout=30)
    assert made and len(await held(sandbox, seated["id"])) == 1


async def test_r24_the_host_product_hears_the_link_ready_and_a_meeting_deleted_in_zoom(api, org, sandbox, seated):
    from tests.support.receiver import start_receiver, verifies

    receiver, server = start_receiver()
    try:
        registered = await api.put(
            f"/api/v1/event-endpoints/sessions-{org['org_id']}",
            json={"url": receiver.url, "org_id": org["org_id"], "event_types": ["session.link_ready", "session.needs_attention"]},
            headers=KEY,
        )
        assert registered.status_code == 201, registered.text
        await put_session(api, org, "heard-1", title="Heard")
        await book(api, org, "heard-1", 1)
        session = await eventually(lambda: ready(api, org, "heard-1"))

        await sandbox.client.delete(f"/sandbox/meetings/{session['meeting']['zoom_meeting_id']}")
        flagged = await eventually(lambda: status_is(api, org, "heard-1", "needs_attention"), timeout=20)
        assert "deleted in Zoom" in flagged["status_reason"]

        def both(got):
            return {r.event["type"] for r in got} >= {"session.link_ready", "session.needs_attention"}

        await receiver.wait_for(both, timeout=30)
        got = {r.event["type"]: r for r in receiver.received}
        assert all(verifies(r, registered.json()["secret"]) for r in receiver.received)
        link_ready = got["session.link_ready"].event
        assert link_ready["data"]["id"] == "heard-1" and link_ready["data"]["meeting"]["join_url"] == session["meeting"]["join_url"]
        assert b"zak=" not in got["session.link_ready"].body and b"start_url" not in got["session.link_ready"].body
        assert got["session.needs_attention"].event["data"]["status"] == "needs_attention"

        # R19's offer, for the host: the meeting made again; the session is ready with the new link.
        host = as_member(org["member"])
        [gone] = [m for m in (await api.get("/api/v1/me/meetings", headers=host)).json()["items"]
                  if m["topic"] == "Heard" and m["status"] == "needs_attention"]
        remade = await api.post(f"/api/v1/me/meetings/{gone['id']}/recreate", headers=host)
        assert remade.status_code == 201, remade.text
        again = await eventually(lambda: ready(api, org, "heard-1"))
        assert again["meeting"]["zoom_meeting_id"] == remade.json()["zoom_meeting_id"] != session["meeting"]["zoom_meeting_id"]
    finally:
        server.shutdown()


async def test_r12_disconnected_organization_flags_sessions_and_a_personal_zoom_remakes_them_with_a_new_link(
    api, org, sandbox, seated, outbox
):
    from tests.support.zoom import connect_personal, email

    await put_session(api, org, "moved-1", title="Salsa")
    await book(api, org, "moved-1", 1)
    first = await eventually(lambda: ready(api, org, "moved-1"))
    to = person(org, 1)["email"]
    await outbox.wait_for(lambda m: m.to == to, timeout=15)

    disconnected = await api.delete(f"/api/v1/orgs/{org['org_id']}/integrations/zoom", headers=as_member(org["owner"]))
    assert disconnected.status_code == 200, disconnected.text
    flagged = await eventually(lambda: status_is(api, org, "moved-1", "needs_attention"), timeout=20)
    assert flagged["status_reason"].startswith("The host has no Zoom")

    own = await sandbox.user(await sandbox.account("own"), email("own"), "owner")
    assert (await connect_personal(api, org["member"], own["email"])).status_code in (200, 303)

    async def remade():
        session = await ready(api, org, "moved-1")
        return session if session and session["meeting"]["zoom_meeting_id"] != first["meeting"]["zoom_meeting_id"] else None

    session = await eventually(remade, timeout=30)
    [in_zoom] = await held(sandbox, own["id"])
    assert in_zoom["id"] == session["meeting"]["zoom_meeting_id"]

    async def new_link_emailed():
        return [m for m in outbox.messages() if m.to == to and session["meeting"]["join_url"] in m.text]

    assert await eventually(new_link_emailed, timeout=20)


async def test_r19_a_sessions_meeting_is_changed_through_its_session_not_the_meetings_api(api, org, sandbox, seated):
    await put_session(api, org, "owned-1")
    await book(api, org, "owned-1", 1)
    await eventually(lambda: ready(api, org, "owned-1"))
    host = as_member(org["member"])
    [meeting] = [m for m in (await api.get("/api/v1/me/meetings", headers=host)).json()["items"]
                 if m["topic"] == "Morning yoga"]

    patched = await api.patch(f"/api/v1/me/meetings/{meeting['id']}", json={"topic": "Mine now"}, headers=host)
    deleted = await api.delete(f"/api/v1/me/meetings/{meeting['id']}", headers=host)

    for refused in (patched, deleted):
        assert refused.status_code == 409 and refused.json()["code"] == "meeting_not_changeable"
        assert "owned-1" in refused.json()["detail"]
    assert (await session_of(api, org, "owned-1"))["status"] == "ready"


async def test_co_hosts_seated_in_the_hosts_zoom_account_become_its_alternative_hosts(
    api, org, sandbox, seated, zoom_account
):
    """The admin is seated in the organization's Zoom account, the owner is not: only the admin can be one."""
    answer = await put_session(api, org, "cohost-1", co_host_user_ids=[org["admin"], org["owner"]])
    assert answer.status_code == 201, answer.text
    await book(api, org, "cohost-1", 1)
    session = await eventually(lambda: ready(api, org, "cohost-1"))

    assert session["co_hosts"] == [
        {"user_id": org["admin"], "alternative_host": True},
        {"user_id": org["owner"], "alternative_host": False},
    ]
    [in_zoom] = await held(sandbox, seated["id"])
    assert in_zoom["alternative_hosts"] == zoom_account["seat_admin"]["email"]

    await put_session(api, org, "cohost-1", co_host_user_ids=[])

    async def cleared():
        return [m for m in await held(sandbox, seated["id"]) if m["alternative_hosts"] == ""]

    assert await eventually(cleared)
    await settled(org["org_id"])
    assert await changes(sandbox, "PATCH", in_zoom["id"]) == 1
    assert (await session_of(api, org, "cohost-1"))["co_hosts"] == []

    stranger = await put_session(api, org, "cohost-2", co_host_user_ids=["nobody-here"])
    assert stranger.status_code == 400 and stranger.json()["code"] == "unknown_host"
    assert "nobody-here" in stranger.json()["errors"]["co_host_user_ids"]


async def test_r23_reconnecting_the_same_zoom_account_keeps_every_sessions_meeting_and_its_link(
    api, org, sandbox, seated, zoom_account, outbox
):
    """Disconnected, then connected again to the same Zoom account: Zoom holds one meeting per session, the one
    whose link participants were sent, and nobody is emailed a second time."""
    firsts = {}
    for n, session_id in enumerate(("kept-1", "kept-2"), start=1):
        await put_session(api, org, session_id, title=f"Pilates {n}")
        await book(api, org, session_id, n)
        firsts[session_id] = await eventually(lambda s=session_id: ready(api, org, s))
        await outbox.wait_for(lambda m, to=person(org, n)["email"]: m.to == to, timeout=15)

    disconnected = await api.delete(f"/api/v1/orgs/{org['org_id']}/integrations/zoom", headers=as_member(org["owner"]))
    assert disconnected.status_code == 200, disconnected.text
    for session_id in firsts:
        waiting = await eventually(lambda s=session_id: status_is(api, org, s, "needs_attention"), timeout=20)
        # Still in Zoom, and its link still what participants hold, while the host has no Zoom.
        assert waiting["meeting"]["join_url"] == firsts[session_id]["meeting"]["join_url"]

    await activated(api, org, zoom_account)
    for session_id, first in firsts.items():
        again = await eventually(lambda s=session_id: ready(api, org, s), timeout=30)
        assert again["meeting"] == first["meeting"]
    await settled()
    in_zoom = await held(sandbox, seated["id"])
    assert sorted(m["id"] for m in in_zoom) == sorted(f["meeting"]["zoom_meeting_id"] for f in firsts.values())
    assert await creates(sandbox, seated["id"]) == 2
    for n in (1, 2):
        assert len([m for m in outbox.messages() if m.to == person(org, n)["email"]]) == 1
    left = await api.get(f"/api/v1/orgs/{org['org_id']}/meetings/left-in-zoom", headers=as_member(org["owner"]))
    assert left.status_code == 200 and left.json() == {"items": []}


async def test_r23_a_different_zoom_leaves_the_old_meeting_listed_for_owners_to_cancel_in_zoom(
    api, org, sandbox, seated, outbox
):
    from tests.support.zoom import connect_personal, email

    await put_session(api, org, "elsewhere-1", title="Tango")
    await book(api, org, "elsewhere-1", 1)
    first = await eventually(lambda: ready(api, org, "elsewhere-1"))
    await api.delete(f"/api/v1/orgs/{org['org_id']}/integrations/zoom", headers=as_member(org["owner"]))
    await eventually(lambda: status_is(api, org, "elsewhere-1", "needs_attention"), timeout=20)

    own = await sandbox.user(await sandbox.account("own"), email("own"), "owner")
    assert (await connect_personal(api, org["member"], own["email"])).status_code in (200, 303)

    async def remade():
        session = await ready(api, org, "elsewhere-1")
        return session if session and session["meeting"]["zoom_meeting_id"] != first["meeting"]["zoom_meeting_id"] else None

    await eventually(remade, timeout=30)
    [old] = await held(sandbox, seated["id"])
    assert old["id"] == first["meeting"]["zoom_meeting_id"]
    member = as_member(org["member"])
    left = await api.get(f"/api/v1/orgs/{org['org_id']}/meetings/left-in-zoom", headers=member)
    assert left.status_code == 403
    left = await api.get(f"/api/v1/orgs/{org['org_id']}/meetings/left-in-zoom", headers=as_member(org["owner"]))
    [item] = left.json()["items"]
    assert item["host_user_id"] == org["member"] and item["session_id"] == "elsewhere-1"
    assert item["meeting"]["join_url"] == first["meeting"]["join_url"]
    assert item["meeting"]["status"] == "cancelled" and item["meeting"]["left_in_zoom"] is True
    assert "Cancel it in Zoom" in item["meeting"]["status_reason"]


async def test_r23_disconnecting_a_personal_zoom_cancels_its_sessions_meetings_in_zoom_before_the_organizations_follow(
    api, org, sandbox, seated
):
    """Roomlink can still cancel them, so it does: Zoom never keeps a meeting nobody will use beside the new one."""
    from tests.support.zoom import connect_personal, email

    own = await sandbox.user(await sandbox.account("own"), email("own"), "owner")
    assert (await connect_personal(api, org["member"], own["email"])).status_code in (200, 303)
    await put_session(api, org, "handed-1", title="Boxing")
    await book(api, org, "handed-1", 1)
    first = await eventually(lambda: ready(api, org, "handed-1"))
    [mine] = await held(sandbox, own["id"])
    assert mine["id"] == first["meeting"]["zoom_meeting_id"]

    gone = await api.delete("/api/v1/me/integrations/zoom/personal", headers=as_member(org["member"]))
    assert gone.status_code == 204, gone.text

    async def remade():
        session = await ready(api, org, "handed-1")
        return session if session and session["meeting"]["zoom_meeting_id"] != mine["id"] else None

    session = await eventually(remade, timeout=30)
    assert await held(sandbox, own["id"]) == []
    [in_org] = await held(sandbox, seated["id"])
    assert in_org["id"] == session["meeting"]["zoom_meeting_id"]
    left = await api.get(f"/api/v1/orgs/{org['org_id']}/meetings/left-in-zoom", headers=as_member(org["owner"]))
    assert left.json() == {"items": []}


async def test_r23_the_app_removed_in_zoom_and_added_again_keeps_the_sessions_meeting_and_its_link(
    api, org, sandbox, seated, zoom_account, outbox
):
    from tests.support.servers import ZOOM_APPS

    await put_session(api, org, "readded-1", title="Barre")
    await book(api, org, "readded-1", 1)
    first = await eventually(lambda: ready(api, org, "readded-1"))
    await outbox.wait_for(lambda m: m.to == person(org, 1)["email"], timeout=15)

    removed = await sandbox.client.post(
        "/sandbox/deauthorize",
        json={"client_id": ZOOM_APPS["ZOOM_ADMIN_APP_CLIENT_ID"], "user_id": zoom_account["admin"]["id"]},
    )
    assert removed.status_code == 200, removed.text
    waiting = await eventually(lambda: status_is(api, org, "readded-1", "needs_attention"), timeout=20)
    assert waiting["meeting"]["join_url"] == first["meeting"]["join_url"]

    await activated(api, org, zoom_account)
    again = await eventually(lambda: ready(api, org, "readded-1"), timeout=30)
    assert again["meeting"] == first["meeting"]
    await settled(org["org_id"])
    assert [m["id"] for m in await held(sandbox, seated["id"])] == [first["meeting"]["zoom_meeting_id"]]
    assert len([m for m in outbox.messages() if m.to == person(org, 1)["email"]]) == 1
