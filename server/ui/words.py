"""What the pages say about reasons and statuses: one place, shared by the server and the page script."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.attention import Fix
from domain.integration import OrganizationStatus
from domain.meeting_hosts import CONNECTION_GONE
from domain.meeting_in_zoom import GONE_FROM_ZOOM, HOST_GONE, NOT_THE_HOST
from domain.meeting_model import MeetingStatus
from domain.model import Reason
from domain.session_model import SessionStatus

#: Told to the member about their own Zoom: why it does not work and what to do.
REASON_ADVICE: dict[Reason, str] = {
    Reason.PERSONAL_NEEDS_RECONNECT: (
        "Your own Zoom connection stopped working: Zoom no longer accepts it. Connect your own Zoom again, "
        "or disconnect it to go back to your organization's Zoom."
    ),
    Reason.ORGANIZATION_NOT_CONNECTED: (
        "Your organization has not connected Zoom yet. Ask an owner or admin of your organization to connect it, "
        "or connect your own Zoom."
    ),
    Reason.ORGANIZATION_REMOVED: (
        "You stopped using your organization's Zoom. Use it again, or connect your own Zoom."
    ),
    Reason.NO_SEAT: (
        "Your organization's Zoom account has no active user with your email address. Ask your Zoom "
        "administrator to add you with this email, or connect your own Zoom."
    ),
    Reason.ORGANIZATION_ADMIN_LOST: (
        "The Zoom administrator who connected your organization is no longer an admin of its Zoom account. "
        "An owner or admin of your organization needs to connect Zoom again; meanwhile you can connect your own Zoom."
    ),
    Reason.ORGANIZATION_NEEDS_RECONNECT: (
        "Your organization's Zoom connection stopped working. An owner or admin of your organization needs to "
        "connect it again; meanwhile you can connect your own Zoom."
    ),
    Reason.ORGANIZATION_DEAUTHORIZED: (
        "Roomlink was removed from your organization's Zoom account. An owner or admin of your organization "
        "needs to connect Zoom again; meanwhile you can connect your own Zoom."
    ),
}

#: Owners and admins reading about their own Zoom are the ones who fix the organization's: they are
#: told what to do, never to ask an owner or admin.
MANAGER_REASON_ADVICE: dict[Reason, str] = {
    Reason.ORGANIZATION_NOT_CONNECTED: (
        "Your organization has not connected Zoom yet. Connect it under Organization connection below, "
        "or connect your own Zoom."
    ),
    Reason.NO_SEAT: (
        "Your organization's Zoom account has no active user with your email address. Add a Zoom user with "
        "this email to that account, or connect your own Zoom."
    ),
    Reason.ORGANIZATION_ADMIN_LOST: (
        "The Zoom administrator who connected your organization is no longer an admin of its Zoom account. "
        "Reconnect it below with another Zoom administrator; meanwhile you can connect your own Zoom."
    ),
    Reason.ORGANIZATION_NEEDS_RECONNECT: (
        "Your organization's Zoom connection stopped working. Connect Zoom for your organization again below; "
        "meanwhile you can connect your own Zoom."
    ),
    Reason.ORGANIZATION_DEAUTHORIZED: (
        "Roomlink was removed from your organization's Zoom account. Connect Zoom for your organization again "
        "below; meanwhile you can connect your own Zoom."
    ),
}

#: Beside the policy's checkbox, saying what its current state means (checked → on).
POLICY_HINT: dict[bool, str] = {
    True: "On: members see “Stop using the organization's Zoom” on their Zoom page.",
    False: "Off, as it starts: members cannot remove it, and removals made while it was on have no effect.",
}

#: Shown to owners and admins next to "Not connected" in the members table.
REASON_SHORT: dict[Reason, str] = {
    Reason.PERSONAL_NEEDS_RECONNECT: "their own Zoom needs reconnecting",
    Reason.ORGANIZATION_NOT_CONNECTED: "the organization has not connected Zoom",
    Reason.ORGANIZATION_REMOVED: "they stopped using the organization's Zoom",
    Reason.NO_SEAT: "no Zoom user with this email in the organization's Zoom account",
    Reason.ORGANIZATION_ADMIN_LOST: "the organization's Zoom admin lost their role",
    Reason.ORGANIZATION_NEEDS_RECONNECT: "the organization's Zoom needs reconnecting",
    Reason.ORGANIZATION_DEAUTHORIZED: "Roomlink was removed from the organization's Zoom",
}

#: The organization connection's status: a headline and what an owner or admin should do.
ORGANIZATION_STATUS: dict[OrganizationStatus, tuple[str, str]] = {
    "not_connected": (
        "Not connected",
        "Connect Zoom for your organization: you get an activation link to open yourself "
        "if you are the Zoom administrator, or to send to them.",
    ),
    "active": (
        "Connected",
        "Members with a user in this Zoom account get their meetings through it.",
    ),
    "admin_lost": (
        "Needs reconnecting — the Zoom admin lost their role",
        "The Zoom user who connected it is no longer an active owner or admin of the Zoom account. "
        "Connect again with another Zoom administrator.",
    ),
    "needs_reconnect": (
        "Needs reconnecting",
        "Zoom no longer accepts this connection. Connect Zoom for your organization again.",
    ),
    "deauthorized": (
        "Removed in Zoom",
        "Roomlink was removed from the Zoom account, so members relying on it have no Zoom. "
        "Connect Zoom for your organization again to restore it.",
    ),
}


#: Once the organization's Zoom was disconnected, "not connected yet" is no longer true: what the pages say
#: instead. `{when}` is the moment (in the reader's time zone) and `{by}` who did it (DISCONNECTED_BY).
DISCONNECTED = {
    "headline": "Disconnected",
    "advice": (
        "Disconnected {when} by {by}. Members who relied on it have no Zoom until it is connected again; "
        "people who connected their own Zoom are not affected. Connect Zoom for your organization to restore it."
    ),
    "member_advice": (
        "Your organization's Zoom was disconnected {when} by {by}. Ask an owner or admin of your organization "
        "to connect it again, or connect your own Zoom."
    ),
    "manager_advice": (
        "Your organization's Zoom was disconnected {when} by {by}. Connect it again under Organization "
        "connection below, or connect your own Zoom."
    ),
    "short": "the organization's Zoom was disconnected {when}",
    #: Who, when the audit trail names no member: Zoom, or Roomlink itself.
    "by_nobody": "Roomlink or Zoom",
}


#: The organization's broken Zoom, in one place (domain.impact): `{n}` a count; the page script fills them.
IMPACT = {
    "title": "Who is affected",
    "lost": "{n} lost Zoom until it is connected again",
    "kept": "{n} with their own Zoom: not affected",
    "sessions": "Upcoming sessions affected: {n}",
    "meetings": "Upcoming meetings affected: {n}",
    "all_sessions": "See every session needing attention",
    "none_upcoming": "No upcoming session or meeting is affected.",
    "fix": "The one thing that fixes it: a new activation link, approved by an owner or admin of your Zoom account.",
    "fix_button": "Create an activation link to fix it",
}


def possessive(name: str) -> str:
    """"Northwind Clinics'", "Acme's"."""
    return f"{name}'" if name.endswith(("s", "S")) else f"{name}'s"


def page_words(*, manages: bool) -> dict[str, object]:
    """Everything the page script needs to put statuses into words, for the person reading them."""
    advice = {**REASON_ADVICE, **MANAGER_REASON_ADVICE} if manages else REASON_ADVICE
    return {
        "reason_advice": {reason.value: text for reason, text in advice.items()},
        "policy_hint": {"on": POLICY_HINT[True], "off": POLICY_HINT[False]},
        "reason_short": {reason.value: text for reason, text in REASON_SHORT.items()},
        "organization_status": {
            status: {"headline": headline, "advice": advice}
            for status, (headline, advice) in ORGANIZATION_STATUS.items()
        },
        "impact": IMPACT,
        "disconnected": {
            "headline": DISCONNECTED["headline"],
            "advice": DISCONNECTED["advice"],
            "member_advice": DISCONNECTED["manager_advice" if manages else "member_advice"],
            "short": DISCONNECTED["short"],
            "by_nobody": DISCONNECTED["by_nobody"],
        },
    }


#: A meeting's status, as its host reads it on their meetings page.
MEETING_STATUS: dict[MeetingStatus, str] = {
    MeetingStatus.SCHEDULED: "Scheduled",
    MeetingStatus.PENDING: "Link pending",
    MeetingStatus.CANCELLED: "Cancelled",
    MeetingStatus.NEEDS_ATTENTION: "Needs attention",
}

#: A remote session's status, as its host and the organization's owners and admins read it.
SESSION_STATUS: dict[SessionStatus, str] = {
    SessionStatus.NO_BOOKINGS: "No bookings yet",
    SessionStatus.LINK_PENDING: "Link pending",
    SessionStatus.READY: "Ready",
    SessionStatus.NEEDS_ATTENTION: "Needs attention",
    SessionStatus.CANCELLED: "Cancelled",
}

#: What an owner or admin does about a session needing attention (domain.attention): a sentence about the
#: host (`{host}` is their name), and whether the fix is theirs on the Zoom page.
SESSION_FIX: dict[Fix, str] = {
    Fix.CONNECT_ORGANIZATION: (
        "Reconnect the organization's Zoom: on the Zoom page, create a new activation link and have a Zoom "
        "administrator approve it. {host}'s sessions then get their links again."
    ),
    Fix.HOST_RECONNECTS_PERSONAL: (
        "{host}'s own Zoom stopped working: ask them to reconnect it on their Zoom page, or to disconnect it "
        "so the organization's Zoom serves them."
    ),
    Fix.HOST_NEEDS_SEAT: (
        "The organization's Zoom account has no user with {host}'s email: ask your Zoom administrator to add "
        "one, or ask {host} to connect their own Zoom."
    ),
    Fix.HOST_RESTORES_ORGANIZATION: (
        "{host} stopped using the organization's Zoom: ask them to use it again on their Zoom page, or to "
        "connect their own Zoom."
    ),
    Fix.HOST_RECREATES: (
        "{host} has Zoom, but this session's meeting must be made again: ask them to press "
        "“Recreate through my current Zoom” on their day of sessions."
    ),
    Fix.NEW_HOST: "{host} is no longer a member: give the session another host in your product.",
}


#: Why a session's meeting needs attention while its host has Zoom, for the host and for owners and admins
#: alike (the meeting's own reasons are written for its host on their meetings page).
SESSION_MEETING_REASON: dict[str, str] = {
    GONE_FROM_ZOOM: "Its Zoom meeting was deleted in Zoom.",
    CONNECTION_GONE: "Its Zoom meeting was made through a Zoom connection that is gone.",
    HOST_GONE: "The Zoom user that hosts its meeting is no longer in the Zoom account.",
    NOT_THE_HOST: "Zoom says the Zoom user that made its meeting is no longer its host.",
}


def session_reason(reason: str | None) -> str | None:
    return SESSION_MEETING_REASON.get(reason, reason) if reason else None


def readable_time(moment: datetime, zone: str) -> str:
    """"Wednesday 2 December 2026, 15:00 (Europe/Paris)": a person's words, with the time zone named."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} ({zone})"


def readable_span(start: datetime, minutes: int, zone: str) -> str:
    """"Wednesday 2 December 2026, 15:00–15:45 (Europe/Paris)"."""
    local = start.astimezone(ZoneInfo(zone))
    end = (start + timedelta(minutes=minutes)).astimezone(ZoneInfo(zone))
    until = f"{end:%H:%M}" if end.date() == local.date() else f"{end:%A} {end.day} {end:%B, %H:%M}"
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M}–{until} ({zone})"


def readable_day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"
