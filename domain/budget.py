"""R20: Zoom's daily limit as a budget — 100 meeting creates and updates per host per UTC day.

Zoom counts against the host's Zoom user, whoever's token calls, and resets at 00:00 UTC. Roomlink
keeps its own ledger of what it spent so it never asks past the limit; what is over it waits for
the next UTC day. When Zoom itself says the day is spent (someone else used the host's budget),
the ledger is closed for the rest of that day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

#: Meeting creates and updates Zoom allows one host per UTC day.
DAILY_LIMIT = 100


def budget_day(now: datetime) -> date:
    return now.astimezone(UTC).date()


def next_reset(now: datetime) -> datetime:
    """00:00 UTC after `now`: when a spent budget is whole again."""
    return datetime.combine(budget_day(now) + timedelta(days=1), time(), tzinfo=UTC)


def over_budget_reason(now: datetime) -> str:
    return (
        f"Zoom allows {DAILY_LIMIT} meeting creates and updates per host per day and today's are used up; "
        f"it will be made after {next_reset(now).strftime('%Y-%m-%d %H:%M')} UTC."
    )
