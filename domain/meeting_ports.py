"""What the meeting use cases need from storage (in domain.ports.UnitOfWork) and from Zoom; persistence/ and
server/ implement them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from domain.impact_model import UpcomingAffected
from domain.meeting_model import Meeting, MeetingHost, ZoomMeeting, ZoomMeetingRequest
from domain.pmi import HostPmiSettings


class MeetingRepository(Protocol):
    async def upcoming_through_organization(self, org_id: str, now: datetime, first: int) -> UpcomingAffected:
        """Meetings still to come, not a session's, made through the organization's Zoom: how many, and the soonest."""

    async def add(self, meeting: Meeting) -> Meeting:
        """Stores a new intent; when its Idempotency-Key is already taken, returns the meeting holding it."""

    async def by_idempotency_key(self, org_id: str, user_id: str, key: str) -> Meeting | None: ...

    async def get(self, org_id: str, meeting_id: str) -> Meeting | None: ...

    async def locked(self, org_id: str, meeting_id: str) -> Meeting | None:
        """The meeting, its row locked until the transaction ends."""

    async def save(self, meeting: Meeting) -> None: ...

    async def of_member(
        self,
        org_id: str,
        user_id: str,
        *,
        start_from: datetime | None,
        start_to: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Meeting]:
        """By start time then id, from `after` (exclusive)."""

    async def by_zoom_id(self, org_id: str, zoom_meeting_id: int) -> list[Meeting]: ...

    async def by_zoom_uuid(self, org_id: str, zoom_uuid: str) -> list[Meeting]: ...

    async def left_in_zoom(self, org_id: str, now: datetime, limit: int) -> list[Meeting]:
        """Meetings not over that Roomlink closed but that are still in Zoom, by start time (at most `limit`)."""


class MeetingBudget(Protocol):
    """R20's ledger: creates and updates spent per Zoom user per UTC day."""

    async def spend(self, org_id: str, zoom_user_id: str, day: date) -> bool:
        """One create or update, if the day's budget has one left."""

    async def close_day(self, org_id: str, zoom_user_id: str, day: date) -> None:
        """Zoom said the day is spent (someone else used it): nothing more is asked today."""

    async def used(self, org_id: str, day: date) -> dict[str, int]:
        """Spent today, per Zoom user of the organization."""


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class ZoomMeetingError(Exception):
    """Zoom refused a meeting call; each subclass is one answer a person can act on."""


class ZoomMeetingGone(ZoomMeetingError):
    """3001: no such meeting (deleted or expired)."""


class ZoomNotTheHost(ZoomMeetingError):
    """3003: the Zoom user is not this meeting's host."""


class ZoomHostGone(ZoomMeetingError):
    """1001: the Zoom user no longer exists in the account."""


class ZoomScopeMissing(ZoomMeetingError):
    """4711: the grant lacks a scope."""

    def __init__(self, scope: str) -> None:
        super().__init__(scope)
        self.scope = scope


class ZoomPersonalRoom(ZoomMeetingError):
    """3018: Zoom will not delete a host's PMI room."""


class ZoomDayLimitReached(ZoomMeetingError):
    """Zoom's own daily limit answer (429 Daily-limit, or 300 with code 429)."""

    def __init__(self, retry_at: datetime | None) -> None:
        super().__init__("daily limit")
        self.retry_at = retry_at


class MeetingsZoom(Protocol):
    """Zoom's meeting calls through a connection: tokens refreshed as needed (124 refreshes once).

    Raises ZoomMeetingError subclasses, domain.errors.ZoomNotReached, or ConnectionBroken.
    """

    async def host_pmi(self, host: MeetingHost, *, fresh: bool = False) -> HostPmiSettings:
        """Read before each create and cached briefly; `fresh` reads Zoom now (diagnostics)."""

    async def create(self, host: MeetingHost, request: ZoomMeetingRequest) -> ZoomMeeting:
        """Always asks for a meeting of its own (`use_pmi: false`)."""

    async def find_upcoming(self, host: MeetingHost, marker: str) -> ZoomMeeting | None:
        """The host's upcoming meeting whose agenda ends with `marker`, through every page."""

    async def get(self, host: MeetingHost, zoom_meeting_id: int) -> ZoomMeeting: ...

    async def update(self, host: MeetingHost, zoom_meeting_id: int, changes: dict[str, object]) -> None:
        """`changes` by ZoomMeetingRequest's field names; only those are sent."""

    async def delete(self, host: MeetingHost, zoom_meeting_id: int) -> None: ...

    async def start_url(self, host: MeetingHost, zoom_meeting_id: int) -> str:
        """Fetched now; never stored (R15, R22)."""
