"""Meetings through each member's effective connection (R5, R7, R15, R17, R19–R23), over in-memory fakes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import connecting, meeting_changes, meetings
from domain.budget import DAILY_LIMIT, budget_day, next_reset
from domain.errors import (
    DailyBudgetSpent,
    IdempotencyKeyReused,
    InvalidInput,
    MeetingConnectionGone,
    MeetingNotFound,
    MemberNotConnected,
    ZoomNotReached,
    ZoomPermissionMissing,
)
from domain.meeting_events import handle_meeting_event
from domain.meeting_input import ChangeMeeting, CreateMeeting
from domain.meeting_model import MeetingStatus, without_marker
from domain.meeting_ports import ZoomDayLimitReached, ZoomScopeMissing
from domain.model import ConnectionStatus, ConnectionType, Role
from domain.pmi import PMI_PASSCODE_SETTING, PMI_SETTING, HostPmiSettings
from domain.zoom import ZoomApp, ZoomEvent
from tests.unit.fakes import (
    NOW,
    FakeZoom,
    activate,
    connect_personal,
    new_activation_link,
    organization_with,
    person,
    principal,
    profile_of,
    zoom_user,
)
from tests.unit.meeting_fakes import FakeClock, FakeMeetingsZoom, MeetingStore

OWNER = principal("acme", "olga", Role.OWNER)
ADA = principal("acme", "ada")
BOB = principal("acme", "bob")
CY = principal("acme", "cy")
DEE = principal("acme", "dee")
ZOOM_ADMIN = zoom_user("zu-admin", "it@acme.example", role_id="1")
ACME_ACCOUNT = [ZOOM_ADMIN, zoom_user("zu-ada", "ada@acme.example"), zoom_user("zu-bob", "bob@acme.example")]
CY_AT_HOME = profile_of(zoom_user("zu-cy-home", "cy@home.example"), "acct-cy-home")
TOMORROW = (NOW + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def zoom() -> FakeZoom:
    zoom = FakeZoom()
    zoom.accounts["acct-acme"] = ACME_ACCOUNT
    return zoom


@pytest.fixture
async def store(zoom) -> MeetingStore:
    """Acme's Zoom connected (ada and bob seated); cy connected personally; dee has no seat."""
    store = MeetingStore()
    await organization_with(
        store, "acme", person("olga", Role.OWNER), person("ada"), person("bob"), person("cy"), person("dee")
    )
    await new_activation_link(store, OWNER, "t" * 43)
    await activate(store, zoom, "t" * 43, profile_of(ZOOM_ADMIN, "acct-acme"))
    await connect_personal(store, zoom, CY, CY_AT_HOME)
    return store


@pytest.fixture
def meetings_zoom() -> FakeMeetingsZoom:
    return FakeMeetingsZoom()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def ask(who=BOB, **overrides) -> CreateMeeting:
    fields = {"principal": who, "topic": "Weekly 1:1", "start_time": TOMORROW, "duration_minutes": 30} | overrides
    return CreateMeeting(**fields)


async def create(store, zoom, clock, cmd=None):
    return await meetings.create_meeting(cmd or ask(), store.uow, zoom, clock)


# R5, R7: which Zoom makes it


async def test_r5_seated_member_meeting_belongs_to_their_own_zoom_user_through_the_organization(store, meetings_zoom, clock):
    created = await create(store, meetings_zoom, clock)
    meeting = created.meeting
    assert created.new and meeting.status is MeetingStatus.SCHEDULED
    assert meeting.connection_type is ConnectionType.ORGANIZATION and meeting.zoom_user_id == "zu-bob"
    assert [call.user_ref for call in meetings_zoom.calls if call.name == "create"] == ["zu-bob"]
    assert meetings_zoom.meetings_of("zu-bob") and not meetings_zoom.meetings_of("zu-admin")


async def test_r7_personal_connection_makes_it_as_users_me(store, meetings_zoom, clock):
    meeting = (await create(store, meetings_zoom, clock, ask(CY))).meeting
    assert meeting.connection_type is ConnectionType.PERSONAL and meeting.zoom_user_id == "zu-cy-home"
    assert [call.user_ref for call in meetings_zoom.calls if call.name == "create"] == ["me"]


async def test_r7_member_without_effective_connection_gets_not_connected_with_reason_and_no_zoom_call(store, meetings_zoom, clock):
    with pytest.raises(MemberNotConnected) as refused:
        await create(store, meetings_zoom, clock, ask(DEE))
    assert refused.value.reason == "no_seat"
    assert meetings_zoom.calls == [] and store.meetings == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"start_time": "tomorrow at noon"}, "start_time"),
        ({"start_time": "2020-01-01T10:00:00Z"}, "start_time"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 24 * 60 + 1}, "duration_minutes"),
        ({"topic": "x" * 201}, "topic"),
        ({"passcode": "has space"}, "passcode"),
        ({"passcode": "elevenchars"}, "passcode"),
    ],
)
async def test_bad_input_names_the_field_changes_nothing_and_calls_no_zoom(store, meetings_zoom, clock, overrides, field):
    with pytest.raises(InvalidInput) as refused:
        await create(store, meetings_zoom, clock, ask(**overrides))
    assert field in refused.value.errors
    assert meetings_zoom.calls == [] and store.meetings == []


async def test_local_start_time_is_read_in_the_meetings_time_zone(store, meetings_zoom, clock):
    meeting = (await create(store, meetings_zoom, clock, ask(start_time="2026-03-05T09:00:00", timezone="Europe/Paris"))).meeting
    assert meeting.start_time.isoformat() == "2026-03-05T08:00:00+00:00" and meeting.timezone == "Europe/Paris"


# R23: exactly once


async def test_r23_same_key_same_body_answers_the_same_meeting_without_a_second_zoom_create(store, meetings_zoom, clock):
    first = await create(store, meetings_zoom, clock, ask(idempotency_key="k-1"))
    again = await create(store, meetings_zoom, clock, ask(idempotency_key="k-1"))
    assert again.meeting.id == first.meeting.id and not again.new
    assert meetings_zoom.made() == 1


async def test_r23_same_key_other_body_is_refused(store, meetings_zoom, clock):
    await create(store, meetings_zoom, clock, ask(idempotency_key="k-1"))
    with pytest.raises(IdempotencyKeyReused):
        await create(store, meetings_zoom, clock, ask(idempotency_key="k-1", topic="Another"))
    assert meetings_zoom.made() == 1


async def test_r23_intent_is_recorded_before_zoom_is_called(store, meetings_zoom, clock):
    seen = []
    meetings_zoom.after_create = lambda: seen.extend(store.meetings)
    await create(store, meetings_zoom, clock)
    assert [m.status for m in seen] == [MeetingStatus.PENDING]
    assert seen[0].lease_until is not None and seen[0].attempts == 1


async def test_r23_retry_after_a_caller_died_between_zoom_and_commit_finds_the_meeting_in_zoom(store, meetings_zoom, clock):
    class Died(Exception):
        pass

    def die():
        raise Died

    meetings_zoom.after_create = die
    with pytest.raises(Died):
        await create(store, meetings_zoom, clock, ask(idempotency_key="k-9"))
    assert len(meetings_zoom.meetings_of("zu-bob")) == 1
    clock.current += meetings.DEFAULT_LEASE
    again = await create(store, meetings_zoom, clock, ask(idempotency_key="k-9"))
    assert again.meeting.status is MeetingStatus.SCHEDULED
    assert len(meetings_zoom.meetings_of("zu-bob")) == 1 and meetings_zoom.made() == 1
    assert meetings_zoom.made("list_upcoming") == 1
    assert again.meeting.zoom_meeting_id == meetings_zoom.meetings_of("zu-bob")[0].zoom_meeting_id


async def test_r23_a_second_caller_waits_for_the_lease_holder_instead_of_creating(store, meetings_zoom, clock):
    intent = (await create(store, meetings_zoom, clock, ask(idempotency_key="k-2"))).meeting
    async with store.uow() as tx:
        held = await tx.meetings.get("acme", intent.id)
        import msgspec

        await tx.meetings.save(
            msgspec.structs.replace(held, status=MeetingStatus.PENDING, lease_until=clock.now() + timedelta(seconds=1))
        )
        await tx.commit()
    again = await meetings.create_meeting(ask(idempotency_key="k-2"), store.uow, meetings_zoom, clock)
    assert clock.slept >= 1 and again.meeting.status is MeetingStatus.SCHEDULED
    assert meetings_zoom.made() == 1 and meetings_zoom.made("list_upcoming") == 1


async def test_r23_zoom_unreachable_keeps_the_intent_pending_for_a_retried_job(store, meetings_zoom, clock):
    meetings_zoom.failures["create"] = ZoomNotReached("Zoom answered 503")
    with pytest.raises(ZoomNotReached):
        await create(store, meetings_zoom, clock, ask(idempotency_key="k-3"))
    [pending] = store.meetings
    assert pending.status is MeetingStatus.PENDING and pending.lease_until is None
    assert [job.kind for job in store.jobs if job.kind == meetings.MAKE_MEETING] == [meetings.MAKE_MEETING]
    made = await meetings.bring_to_zoom("acme", pending.id, store.uow, meetings_zoom, clock)
    assert made.status is MeetingStatus.SCHEDULED and meetings_zoom.made("list_upcoming") == 1


# R20: the daily budget


async def test_r20_the_101st_create_of_a_day_waits_for_midnight_without_asking_zoom(store, meetings_zoom, clock):
    for n in range(DAILY_LIMIT):
        await create(store, meetings_zoom, clock, ask(topic=f"Call {n}"))
    with pytest.raises(DailyBudgetSpent) as limited:
        await create(store, meetings_zoom, clock, ask(topic="One too many"))
    assert limited.value.retry_at == next_reset(NOW)
    assert meetings_zoom.made() == DAILY_LIMIT
    waiting = [m for m in store.meetings if m.topic == "One too many"]
    assert waiting[0].status is MeetingStatus.PENDING and "00:00 UTC" in waiting[0].status_reason
    clock.current = next_reset(NOW) + timedelta(seconds=1)
    made = await meetings.bring_to_zoom("acme", waiting[0].id, store.uow, meetings_zoom, clock)
    assert made.status is MeetingStatus.SCHEDULED and meetings_zoom.made() == DAILY_LIMIT + 1


async def test_r20_budget_is_per_zoom_user(store, meetings_zoom, clock):
    for n in range(DAILY_LIMIT):
        await create(store, meetings_zoom, clock, ask(topic=f"Call {n}"))
    assert (await create(store, meetings_zoom, clock, ask(ADA))).meeting.status is MeetingStatus.SCHEDULED


async def test_r20_zoom_saying_the_day_is_spent_closes_the_ledger(store, meetings_zoom, clock):
    meetings_zoom.failures["create"] = ZoomDayLimitReached(next_reset(NOW))
    with pytest.raises(DailyBudgetSpent):
        await create(store, meetings_zoom, clock)
    assert store.budget_used("zu-bob", budget_day(NOW)) == DAILY_LIMIT


async def test_r20_patch_sends_only_what_changed_and_nothing_when_nothing_did(store, meetings_zoom, clock):
    meeting = (await create(store, meetings_zoom, clock)).meeting
    spent = store.budget_used("zu-bob", budget_day(NOW))
    same = await meeting_changes.update_meeting(store.uow, meetings_zoom, clock, BOB, meeting.id, ChangeMeeting(topic="Weekly 1:1"))
    assert same == meeting and meetings_zoom.made("update") == 0
    assert store.budget_used("zu-bob", budget_day(NOW)) == spent
    updated = await meeting_changes.update_meeting(
        store.uow, meetings_zoom, clock, BOB, meeting.id, ChangeMeeting(topic="Weekly 1:1", duration_minutes=45)
    )
    assert updated.duration_minutes == 45
    [call] = [call for call in meetings_zoom.calls if call.name == "update"]
    assert call.changes == {"duration_minutes": 45}
    assert store.budget_used("zu-bob", budget_day(NOW)) == spent + 1


async def test_r20_two_changes_at_once_make_one_zoom_update_and_the_other_looks_again_later(store, meetings_zoom, clock):
    import asyncio

    from domain.errors import MeetingBeingChanged

    meeting = (await create(store, meetings_zoom, clock)).meeting
    in_zoom, answer = asyncio.Event(), asyncio.Event()
    update = meetings_zoom.update

    async def slow_update(host, zoom_meeting_id, changes):
        in_zoom.set()
        await answer.wait()
        await update(host, zoom_meeting_id, changes)

    meetings_zoom.update = slow_update
    longer = ChangeMeeting(topic="Weekly 1:1", duration_minutes=45)
    first = asyncio.ensure_future(meeting_changes.update_meeting(store.uow, meetings_zoom, clock, BOB, meeting.id, longer))
    await in_zoom.wait()
    with pytest.raises(MeetingBeingChanged):  # at once: without the lease it would wait in Zoom too, and time out
        await asyncio.wait_for(meeting_changes.update_meeting(store.uow, meetings_zoom, clock, BOB, meeting.id, longer), 5)
    answer.set()
    assert (await first).duration_minutes == 45
    again = await meeting_changes.update_meeting(store.uow, meetings_zoom, clock, BOB, meeting.id, longer)
    assert again.duration_minutes == 45 and again.lease_until is None
    assert meetings_zoom.made("update") == 1


async def test_r20_a_change_zoom_did_not_take_can_be_sent_again_at_once(store, meetings_zoom, clock):
    meeting = (await create(store, meetings_zoom, clock)).meeting
    meetings_zoom.failures["update"] = ZoomNotReached("timed out")
    longer = ChangeMeeting(topic="Weekly 1:1", duration_minutes=45)
    with pytest.raises(ZoomNotReached):
        await meeting_changes.update_meeting(store.uow, meetings_zoom, clock, BOB, meeting.id, longer)
    assert (await meeting_changes.update_meeting(store.uow, meetings_zoom, clock, BOB, meeting.id, longer)).duration_minutes == 45


# R17: PMI


async def test_r17_meeting_in_the_pmi_room_is_marked_with_the_words_that_fix_it(store, meetings_zoom, clock):
    meetings_zoom.pmi["zu-bob"] = HostPmiSettings(pmi="5550001111", use_pmi_for_scheduled_meetings=True, pmi_passcode_required=True)
    meetings_zoom.locked_pmi.add("zu-bob")
    meeting = (await create(store, meetings_zoom, clock)).meeting
    assert meeting.in_personal_room and meeting.zoom_meeting_id != 5550001111 and "/j/5550001111?" in meeting.join_url
    assert PMI_SETTING in meeting.status_reason and PMI_PASSCODE_SETTING in meeting.status_reason
    assert "Zoom admin" in meeting.status_reason
    assert meeting.passcode == "pmi-pass"


async def test_r17_cancelling_a_meeting_held_in_the_pmi_room_deletes_it_by_its_own_id(store, meetings_zoom, clock):
    meetings_zoom.pmi["zu-bob"] = HostPmiSettings(pmi="5550001111", use_pmi_for_scheduled_meetings=True)
    meetings_zoom.locked_pmi.add("zu-bob")
    meeting = (await create(store, meetings_zoom, clock)).meeting
    assert meeting.in_personal_room and meeting.zoom_meeting_id != 5550001111
    cancelled = await meeting_changes.cancel_meeting(store.uow, meetings_zoom, clock, BOB, meeting.id)
    assert cancelled.status is MeetingStatus.CANCELLED and meetings_zoom.made("delete") == 1
    assert meetings_zoom.meetings_of("zu-bob") == []


async def test_r17_a_pmi_meetings_passcode_is_never_sent_so_the_pmi_passcode_stays(store, meetings_zoom, clock):
    meetings_zoom.pmi["zu-bob"] = HostPmiSettings(pmi="5550001111", use_pmi_for_scheduled_meetings=True)
    meetings_zoom.locked_pmi.add("zu-bob")
    await create(store, meetings_zoom, clock, ask(passcode="Mine123"))
    assert meetings_zoom.pmi_passcodes == {}


async def test_r17_unlocked_pmi_setting_gets_a_meeting_of_its_own(store, meetings_zoom, clock):
    meetings_zoom.pmi["zu-bob"] = HostPmiSettings(pmi="5550001111", use_pmi_for_scheduled_meetings=True)
    meeting = (await create(store, meetings_zoom, clock)).meeting
    assert not meeting.in_personal_room and meeting.status_reason is None


def test_r17_each_signal_alone_is_enough():
    from domain.pmi import CreatedInZoom, personal_room_signals

    host = HostPmiSettings(pmi="5550001111")
    own = CreatedInZoom(zoom_meeting_id=81000000001, join_url="https://zoom.test/j/81000000001")
    assert personal_room_signals(own, host) == []
    assert personal_room_signals(CreatedInZoom(zoom_meeting_id=1, join_url="", pmi="5550001111"), HostPmiSettings())
    assert personal_room_signals(CreatedInZoom(zoom_meeting_id=1, join_url="", use_pmi=True), HostPmiSettings())
    assert personal_room_signals(CreatedInZoom(zoom_meeting_id=1, join_url="https://z/j/5550001111"), host)
    assert personal_room_signals(CreatedInZoom(zoom_meeting_id=5550001111, join_url=""), host)


# R19: meetings stay with their connection


async def test_r19_update_goes_through_the_connection_that_made_it_after_the_effective_one_changed(store, zoom, meetings_zoom, clock):
    meeting = (await create(store, meetings_zoom, clock)).meeting
    await connect_personal(store, zoom, BOB, profile_of(zoom_user("zu-bob-home", "bob@home.example"), "acct-bob"))
    await meeting_changes.update_meeting(store.uow, meetings_zoom, clock, BOB, meeting.id, ChangeMeeting(duration_minutes=50))
    [call] = [call for call in meetings_zoom.calls if call.name == "update"]
    assert call.user_ref == "zu-bob"


async def test_r19_meeting_whose_connection_is_gone_says_so_and_nothing_switches_accounts(store, zoom, meetings_zoom, clock):
    meeting = (await create(store, meetings_zoom, clock, ask(CY))).meeting
    await connecting.disconnect_personal(store.uow, zoom, CY, NOW)
    with pytest.raises(MeetingConnectionGone):
        await meeting_changes.update_meeting(store.uow, meetings_zoom, clock, CY, meeting.id, ChangeMeeting(duration_minutes=50))
    fresh = await meeting_changes.get_meeting(store.uow, meetings_zoom, clock, CY, meeting.id)
    assert fresh.meeting.status is MeetingStatus.NEEDS_ATTENTION and "gone" in fresh.meeting.status_reason
    assert meetings_zoom.made("update") == 0 and meetings_zoom.made("get") == 0


# R21, R22: fresh reads, events, start


async def test_r21_get_reads_zoom_now_and_shows_a_meeting_deleted_there_as_needing_attention(store, meetings_zoom, clock):
    meeting = (await create(store, meetings_zoom, clock)).meeting
    meetings_zoom.held["zu-bob"].clear()
    fresh = await meeting_changes.get_meeting(store.uow, meetings_zoom, clock, BOB, meeting.id)
    assert fresh.meeting.status is MeetingStatus.NEEDS_ATTENTION and fresh.fetched_at == NOW


async def test_r21_get_shows_what_changed_in_zoom(store, meetings_zoom, clock):
    import msgspec

    meeting = (await create(store, meetings_zoom, clock, ask(agenda="Bring notes"))).meeting
    held = meetings_zoom.held["zu-bob"][meeting.zoom_meeting_id]
    meetings_zoom.held["zu-bob"][meeting.zoom_meeting_id] = msgspec.structs.replace(held, topic="Renamed in Zoom")
    fresh = await meeting_changes.get_meeting(store.uow, meetings_zoom, clock, BOB, meeting.id)
    assert fresh.meeting.topic == "Renamed in Zoom" and fresh.meeting.agenda == "Bring notes"
    assert [m.topic for m in store.meetings] == ["Renamed in Zoom"]


async def test_r21_meeting_events_keep_the_record_true(store, meetings_zoom, clock):
    meeting = (await create(store, meetings_zoom, clock)).meeting

    def event(name, **fields):
        return ZoomEvent(
            event=name, app=ZoomApp.ADMIN, account_id="acct-acme", zoom_user_id=str(meeting.zoom_meeting_id),
            object={"id": meeting.zoom_meeting_id, "host_id": "zu-bob", **fields},
        )

    async with store.uow() as tx:
        await handle_meeting_event(tx, event("meeting.updated", topic="From Zoom"), NOW)
    assert store.meetings[0].topic == "From Zoom"
    async with store.uow() as tx:
        await handle_meeting_event(tx, event("meeting.deleted"), NOW)
    assert store.meetings[0].status is MeetingStatus.NEEDS_ATTENTION
    async with store.uow() as tx:
        await handle_meeting_event(tx, event("meeting.recovered"), NOW)
    assert store.meetings[0].status is MeetingStatus.SCHEDULED


async def test_r22_start_url_is_fetched_now_for_the_host_only(store, meetings_zoom, clock):
    meeting = (await create(store, meetings_zoom, clock)).meeting
    url = await meeting_changes.start_url(store.uow, meetings_zoom, clock, BOB, meeting.id)
    assert url.startswith("https://zoom.test/s/")
    assert all("zak" not in repr(m) for m in store.meetings)
    with pytest.raises(MeetingNotFound):
        await meeting_changes.start_url(store.uow, meetings_zoom, clock, ADA, meeting.id)


async def test_missing_scope_breaks_the_connection_naming_the_permission(store, meetings_zoom, clock):
    meetings_zoom.failures["create"] = ZoomScopeMissing("meeting:write:admin")
    with pytest.raises(ZoomPermissionMissing) as refused:
        await create(store, meetings_zoom, clock)
    assert "meeting:write:admin" in str(refused.value)
    async with store.uow() as tx:
        organization = await tx.connections.organization("acme")
    assert organization.status is ConnectionStatus.NEEDS_RECONNECT


def test_marker_is_kept_out_of_the_agenda_shown():
    from domain.meeting_model import with_marker

    assert without_marker(with_marker("Bring notes", "roomlink:abc")) == "Bring notes"
    assert without_marker(with_marker("", "roomlink:abc")) == ""


async def test_r19_recreate_makes_it_again_through_the_current_connection_once(store, zoom, meetings_zoom, clock):
    meeting = (await create(store, meetings_zoom, clock, ask(CY))).meeting
    await connecting.disconnect_personal(store.uow, zoom, CY, NOW)
    await meeting_changes.get_meeting(store.uow, meetings_zoom, clock, CY, meeting.id)
    await connect_personal(store, zoom, CY, profile_of(zoom_user("zu-cy-new", "cy@new.example"), "acct-cy-new"))

    again = await meetings.recreate_meeting(store.uow, meetings_zoom, clock, CY, meeting.id)
    twice = await meetings.recreate_meeting(store.uow, meetings_zoom, clock, CY, meeting.id)

    assert again.new and not twice.new and twice.meeting.id == again.meeting.id
    assert again.meeting.status is MeetingStatus.SCHEDULED and again.meeting.zoom_user_id == "zu-cy-new"
    assert len(meetings_zoom.meetings_of("zu-cy-new")) == 1
    old = next(m for m in store.meetings if m.id == meeting.id)
    assert old.status is MeetingStatus.CANCELLED and again.meeting.id in old.status_reason


# R24: the host product hears every change of a meeting it can see


async def test_r24_a_meeting_is_told_when_made_in_zoom_changed_and_cancelled(store, meetings_zoom, clock):
    meeting = (await create(store, meetings_zoom, clock)).meeting
    await meeting_changes.update_meeting(store.uow, meetings_zoom, clock, BOB, meeting.id, ChangeMeeting(topic="Renamed"))
    await meeting_changes.update_meeting(store.uow, meetings_zoom, clock, BOB, meeting.id, ChangeMeeting(topic="Renamed"))
    await meeting_changes.cancel_meeting(store.uow, meetings_zoom, clock, BOB, meeting.id)
    told = store.events()
    assert [event.type for event in told] == ["meeting.created", "meeting.updated", "meeting.cancelled"]
    assert {event.subject for event in told} == {f"meeting:{meeting.id}"}
    created, renamed, cancelled = (event.data for event in told)
    assert created["join_url"] == meeting.join_url and created["user_id"] == "bob"
    assert created["connection"] == {"type": "organization", "zoom_user_email": "bob@acme.example"}
    assert renamed["topic"] == "Renamed" and cancelled["status"] == "cancelled"
    assert not any("start_url" in data or "start" in str(data.get("join_url")) for data in (created, renamed))


async def test_r24_a_meeting_waiting_for_the_daily_limit_is_told_once_when_it_is_made(store, meetings_zoom, clock):
    for n in range(DAILY_LIMIT):
        await create(store, meetings_zoom, clock, ask(topic=f"Call {n}"))
    with pytest.raises(DailyBudgetSpent):
        await create(store, meetings_zoom, clock, ask(topic="One too many"))
    waiting = next(m for m in store.meetings if m.topic == "One too many")
    assert [e for e in store.events() if e.subject == f"meeting:{waiting.id}"] == []
    clock.current = next_reset(NOW) + timedelta(seconds=1)
    await meetings.bring_to_zoom("acme", waiting.id, store.uow, meetings_zoom, clock)
    assert [e.type for e in store.events() if e.subject == f"meeting:{waiting.id}"] == ["meeting.created"]


async def test_r24_a_meeting_deleted_in_zoom_is_told_as_needing_attention(store, meetings_zoom, clock):
    meeting = (await create(store, meetings_zoom, clock)).meeting
    deleted = ZoomEvent(
        event="meeting.deleted", app=ZoomApp.ADMIN, account_id="acct-acme", zoom_user_id=str(meeting.zoom_meeting_id),
        object={"id": meeting.zoom_meeting_id, "host_id": "zu-bob"},
    )
    async with store.uow() as tx:
        await handle_meeting_event(tx, deleted, NOW)
    last = store.events()[-1]
    assert (last.type, last.data["status"]) == ("meeting.updated", "needs_attention")
