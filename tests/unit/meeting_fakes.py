"""In-memory stand-ins for the meeting ports (tests/unit/fakes.py style), and a scripted Zoom for meetings.

The store's units of work are async context managers, as the meeting use cases open them; the
promises the database keeps are kept here too: one Idempotency-Key per member, the budget never
past its limit.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import msgspec

from domain.budget import DAILY_LIMIT
from domain.meeting_model import (
    Meeting,
    MeetingHost,
    ZoomMeeting,
    ZoomMeetingRequest,
    has_marker,
)
from domain.meeting_ports import ZoomMeetingGone, ZoomPersonalRoom
from domain.pmi import HostPmiSettings
from domain.ports import OutboxEvent
from tests.unit.fakes import NOW, FakeStore, FakeUnitOfWork, Tables


class MeetingStore(FakeStore):
    def __init__(self) -> None:
        super().__init__()
        self.tables.meetings = {}
        self.tables.budget = {}
        self.tables.events = []

    def uow(self, read_only: bool = False) -> MeetingUnitOfWork:
        return MeetingUnitOfWork(self)

    @property
    def meetings(self) -> list[Meeting]:
        return list(self.tables.meetings.values())

    def events(self, type_prefix: str = "meeting.") -> list[OutboxEvent]:
        """What the host product was told, committed, in order."""
        return [event for event in self.tables.events if event.type.startswith(type_prefix)]

    def budget_used(self, zoom_user_id: str, day: date) -> int:
        return sum(used for (_, user, d), used in self.tables.budget.items() if user == zoom_user_id and d == day)


class MeetingUnitOfWork(FakeUnitOfWork):
    def __init__(self, store: MeetingStore) -> None:
        super().__init__(store)
        self.meetings = FakeMeetings(self._tables)
        self.meeting_budget = FakeBudget(self._tables)
        self.outbox = FakeMeetingOutbox(self._tables)

    async def __aenter__(self) -> MeetingUnitOfWork:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class FakeMeetings:
    def __init__(self, tables: Tables) -> None:
        self._m: dict[str, Meeting] = tables.meetings

    async def add(self, meeting: Meeting) -> Meeting:
        if meeting.idempotency_key is not None:
            earlier = await self.by_idempotency_key(meeting.org_id, meeting.user_id, meeting.idempotency_key)
            if earlier is not None:
                return earlier
        self._m[meeting.id] = meeting
        return meeting

    async def by_idempotency_key(self, org_id: str, user_id: str, key: str) -> Meeting | None:
        return next(
            (m for m in self._m.values() if (m.org_id, m.user_id, m.idempotency_key) == (org_id, user_id, key)), None
        )

    async def get(self, org_id: str, meeting_id: str) -> Meeting | None:
        meeting = self._m.get(meeting_id)
        return meeting if meeting is not None and meeting.org_id == org_id else None

    locked = get

    async def save(self, meeting: Meeting) -> None:
        assert meeting.id in self._m
        self._m[meeting.id] = meeting

    async def of_member(self, org_id, user_id, *, start_from, start_to, after, limit) -> list[Meeting]:
        rows = sorted(
            (m for m in self._m.values() if m.org_id == org_id and m.user_id == user_id),
            key=lambda m: (m.start_time, m.id),
        )
        rows = [
            m
            for m in rows
            if (start_from is None or m.start_time >= start_from)
            and (start_to is None or m.start_time < start_to)
            and (after is None or (m.start_time, m.id) > after)
        ]
        return rows[:limit]

    async def by_zoom_id(self, org_id: str, zoom_meeting_id: int) -> list[Meeting]:
        return [m for m in self._m.values() if m.org_id == org_id and m.zoom_meeting_id == zoom_meeting_id]

    async def by_zoom_uuid(self, org_id: str, zoom_uuid: str) -> list[Meeting]:
        return [m for m in self._m.values() if m.org_id == org_id and m.zoom_uuid == zoom_uuid]


class FakeMeetingOutbox:
    def __init__(self, tables: Tables) -> None:
        self._events: list[OutboxEvent] = tables.events

    async def add(self, event: OutboxEvent) -> None:
        self._events.append(event)


class FakeBudget:
    def __init__(self, tables: Tables) -> None:
        self._b: dict[tuple[str, str, date], int] = tables.budget

    async def spend(self, org_id: str, zoom_user_id: str, day: date) -> bool:
        used = self._b.get((org_id, zoom_user_id, day), 0)
        if used >= DAILY_LIMIT:
            return False
        self._b[(org_id, zoom_user_id, day)] = used + 1
        return True

    async def close_day(self, org_id: str, zoom_user_id: str, day: date) -> None:
        self._b[(org_id, zoom_user_id, day)] = DAILY_LIMIT

    async def used(self, org_id: str, day: date) -> dict[str, int]:
        return {user: used for (org, user, d), used in self._b.items() if org == org_id and d == day}


class FakeClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.current = now
        self.slept = 0.0

    def now(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.current += timedelta(seconds=seconds)


class ZoomCall(msgspec.Struct, frozen=True):
    name: str
    user_ref: str
    zoom_meeting_id: int | None = None
    changes: dict[str, object] | None = None


class FakeMeetingsZoom:
    """Zoom's meetings as the domain sees them: per Zoom user, PMI as Zoom documents it."""

    def __init__(self) -> None:
        #: Zoom user id → meetings Zoom holds for them.
        self.held: dict[str, dict[int, ZoomMeeting]] = {}
        #: Zoom user id → the PMI passcode a request set (a passcode sent for a PMI meeting becomes the PMI's).
        self.pmi_passcodes: dict[str, str] = {}
        #: Zoom user id → their PMI settings.
        self.pmi: dict[str, HostPmiSettings] = {}
        #: Zoom user ids whose "use PMI" setting is locked on: use_pmi false is ignored.
        self.locked_pmi: set[str] = set()
        self.calls: list[ZoomCall] = []
        #: Raised by the next matching call (by name), once.
        self.failures: dict[str, Exception] = {}
        #: Called after Zoom made a meeting, before answering (a caller dying in between).
        self.after_create = None
        self._ids = itertools.count(81_000_000_001)

    def _fail(self, name: str) -> None:
        if name in self.failures:
            raise self.failures.pop(name)

    def meetings_of(self, zoom_user_id: str) -> list[ZoomMeeting]:
        return list(self.held.get(zoom_user_id, {}).values())

    async def host_pmi(self, host: MeetingHost, *, fresh: bool = False) -> HostPmiSettings:
        self.calls.append(ZoomCall("host_pmi", host.user_ref))
        self._fail("host_pmi")
        return self.pmi.get(host.zoom_user_id, HostPmiSettings())

    async def create(self, host: MeetingHost, request: ZoomMeetingRequest) -> ZoomMeeting:
        self.calls.append(ZoomCall("create", host.user_ref))
        self._fail("create")
        settings = self.pmi.get(host.zoom_user_id, HostPmiSettings())
        in_room = host.zoom_user_id in self.locked_pmi and settings.pmi is not None
        # "Understanding PMI": a meeting of its own id, held in the PMI room (whose number its link has).
        meeting_id = next(self._ids)
        if in_room and request.passcode:
            self.pmi_passcodes[host.zoom_user_id] = request.passcode
        made = ZoomMeeting(
            zoom_meeting_id=meeting_id,
            topic=request.topic,
            start_time=request.start_time,
            duration_minutes=request.duration_minutes,
            timezone=request.timezone,
            agenda=request.agenda,
            join_url=f"https://zoom.test/j/{settings.pmi if in_room else meeting_id}?pwd=x",
            passcode=self.pmi_passcodes.get(host.zoom_user_id, "pmi-pass") if in_room else (request.passcode or "abc123"),
            pmi=settings.pmi if in_room else None,
            use_pmi=in_room,
        )
        self.held.setdefault(host.zoom_user_id, {})[meeting_id] = made
        if self.after_create is not None:
            hook, self.after_create = self.after_create, None
            hook()
        return made

    async def find_upcoming(self, host: MeetingHost, marker: str) -> ZoomMeeting | None:
        self.calls.append(ZoomCall("list_upcoming", host.user_ref))
        self._fail("list_upcoming")
        return next((m for m in self.meetings_of(host.zoom_user_id) if has_marker(m.agenda, marker)), None)

    async def get(self, host: MeetingHost, zoom_meeting_id: int) -> ZoomMeeting:
        self.calls.append(ZoomCall("get", host.user_ref, zoom_meeting_id))
        self._fail("get")
        meeting = self.held.get(host.zoom_user_id, {}).get(zoom_meeting_id)
        if meeting is None:
            raise ZoomMeetingGone(str(zoom_meeting_id))
        return meeting

    async def update(self, host: MeetingHost, zoom_meeting_id: int, changes: dict[str, object]) -> None:
        self.calls.append(ZoomCall("update", host.user_ref, zoom_meeting_id, changes))
        self._fail("update")
        meeting = await self.get(host, zoom_meeting_id)
        self.calls.pop()
        self.held[host.zoom_user_id][zoom_meeting_id] = msgspec.structs.replace(meeting, **changes)

    async def delete(self, host: MeetingHost, zoom_meeting_id: int) -> None:
        self.calls.append(ZoomCall("delete", host.user_ref, zoom_meeting_id))
        self._fail("delete")
        settings = self.pmi.get(host.zoom_user_id, HostPmiSettings())
        if settings.pmi is not None and str(zoom_meeting_id) == settings.pmi:
            raise ZoomPersonalRoom(str(zoom_meeting_id))
        if self.held.get(host.zoom_user_id, {}).pop(zoom_meeting_id, None) is None:
            raise ZoomMeetingGone(str(zoom_meeting_id))

    async def start_url(self, host: MeetingHost, zoom_meeting_id: int) -> str:
        self.calls.append(ZoomCall("start_url", host.user_ref, zoom_meeting_id))
        await self.get(host, zoom_meeting_id)
        self.calls.pop()
        return f"https://zoom.test/s/{zoom_meeting_id}?zak=fresh"

    def made(self, name: str = "create") -> int:
        return sum(1 for call in self.calls if call.name == name)

