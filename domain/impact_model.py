"""What the repositories count of an organization's broken Zoom (domain.impact): plain structs, so that the
ports can name them."""

from __future__ import annotations

from datetime import datetime

import msgspec


class Upcoming(msgspec.Struct, frozen=True, kw_only=True):
    """A session or meeting still to come, as a list of those affected names it."""

    title: str
    start_time: datetime
    timezone: str
    #: The name of its host, while they are a member.
    host: str | None


class UpcomingAffected(msgspec.Struct, frozen=True, kw_only=True):
    total: int
    #: The soonest, at most FIRST_FEW.
    first: list[Upcoming]


class CutOff(msgspec.Struct, frozen=True, kw_only=True):
    #: Members the organization's Zoom would serve, who have none while it is broken.
    lost_zoom: int
    #: Members with their own working Zoom: unaffected (R7).
    keep_personal: int
