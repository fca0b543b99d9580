"""The emails Roomlink sends, in words."""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from domain.impact import Impact
from domain.meeting_model import Meeting
from domain.model import (
    Connection,
    ConnectionCounts,
    ConnectionType,
    Member,
    Organization,
)
from domain.ports import ActivationLink
from domain.session_model import Booking, RemoteSession
from server.mail import OutgoingEmail, SmtpMailer
from server.ui.words import possessive, readable_time


class EmailInvitations:
    """domain.connecting.Invitations over SMTP."""

    def __init__(self, mailer: SmtpMailer) -> None:
        self._mailer = mailer

    async def send(self, to: str, organization: Organization, requested_by: Member, url: str, link: ActivationLink) -> None:
        await self._mailer.send(activation_email(to, organization.name, requested_by.name, url, link.expires_at))


def activation_email(to: str, organization: str, requested_by: str, url: str, expires_at: datetime) -> OutgoingEmail:
    expires = expires_at.strftime("%d %B %Y, %H:%M UTC")
    text = (
        f"{requested_by} asks you to connect Zoom for {organization}.\n\n"
        f"As an owner or admin of your organization's Zoom account, open this link and approve in Zoom:\n\n"
        f"  {url}\n\n"
        f"Approving lets Roomlink create Zoom meetings for the people of {organization} whose email matches a "
        f"user of your Zoom account. People who connected their own Zoom keep it.\n\n"
        f"The link works once and until {expires}. If you did not expect this, you can ignore it."
    )
    html = (
        f"<p>{escape(requested_by)} asks you to connect Zoom for <strong>{escape(organization)}</strong>.</p>"
        f"<p>As an owner or admin of your organization's Zoom account, "
        f'<a href="{escape(url)}">open this link and approve in Zoom</a>.</p>'
        f"<p>Approving lets Roomlink create Zoom meetings for the people of {escape(organization)} whose email "
        f"matches a user of your Zoom account. People who connected their own Zoom keep it.</p>"
        f"<p>The link works once and until {escape(expires)}.</p>"
    )
    return OutgoingEmail(to=to, subject=f"Connect Zoom for {organization}", text=text, html=html)


def activation_done_email(
    person: Member, organization: Organization, connection: Connection, counts: ConnectionCounts, base_url: str
) -> OutgoingEmail:
    """Whoever asked for the activation: Zoom is connected, by whom, and what it means for the members now."""
    page = f"{base_url}/integrations/zoom"
    not_connected = (
        f"{counts.not_connected} {'is' if counts.not_connected == 1 else 'are'} not connected: the Zoom page "
        "says why for each of them (most often no Zoom user with their email in the account)."
        if counts.not_connected
        else "Everyone is connected."
    )
    text = (
        f"Hello {person.name},\n\nZoom is connected for {organization.name}: {connection.zoom_email} approved the "
        f"activation link you created.\n\n"
        f"{counts.organization} of {counts.total} {'member has' if counts.total == 1 else 'members have'} their meetings "
        f"created through the organization's Zoom now, {counts.personal} through their own. {not_connected}\n\n"
        f"See everyone on the Zoom page: {page}"
    )
    return OutgoingEmail(to=person.email, subject=f"Zoom is connected for {organization.name}", text=text, html=None)


def incident_email(
    person: Member,
    organization: Organization,
    connection: Connection,
    reason: str,
    base_url: str,
    impact: Impact | None = None,
) -> OutgoingEmail:
    """R11, R12: who is affected and how to fix it, with a link to the page that fixes it."""
    page = f"{base_url}/integrations/zoom"
    if connection.type is ConnectionType.PERSONAL:
        subject = "Your Zoom connection needs reconnecting"
        text = (
            f"Hello {person.name},\n\nRoomlink can no longer reach your own Zoom account ({connection.zoom_email}): "
            f"{reason}.\n\nUntil you reconnect it, your meetings are not created through Zoom. "
            f"Open Roomlink from {possessive(organization.name)} product and choose \"Connect my own Zoom\": {page}"
        )
    else:
        subject = f"Zoom for {organization.name} needs attention"
        affected = (
            "\n\n".join(impact_lines(impact, base_url))
            if impact
            else "Members who rely on it are shown as not connected until it is fixed; people who connected their "
            "own Zoom are not affected."
        )
        text = (
            f"Hello {person.name},\n\n{possessive(organization.name)} Zoom connection stopped working: {reason}.\n\n"
            f"{affected}\n\nTo fix it, create a new activation link and have an owner or admin "
            f"of your Zoom account approve it (\"Connect Zoom for my organization\" on the Zoom page): {page}"
        )
    return OutgoingEmail(to=person.email, subject=subject, text=text, html=None)


def impact_lines(impact: Impact, base_url: str) -> list[str]:
    """Who lost Zoom, who keeps their own, and the upcoming sessions and meetings affected (domain.impact)."""
    lines = [
        f"{_members(impact.members_lost_zoom)} lost Zoom; {_members(impact.members_keeping_personal_zoom)} "
        f"with their own Zoom {'is' if impact.members_keeping_personal_zoom == 1 else 'are'} not affected."
    ]
    for label, affected, more in (
        ("upcoming session", impact.sessions, f"All sessions needing attention: {base_url}/organization/sessions"),
        ("upcoming meeting", impact.meetings, None),
    ):
        if not affected.total:
            continue
        said = f"{affected.total} {label}{'' if affected.total == 1 else 's'} affected, the soonest:\n" + "\n".join(
            f"- {each.title}, {readable_time(each.start_time, each.timezone)}"
            + (f", hosted by {each.host}" if each.host else "")
            for each in affected.first
        )
        lines.append(f"{said}\n{more}" if more else said)
    return lines


def _members(count: int) -> str:
    return "1 member" if count == 1 else f"{count} members"


def session_link_email(
    participant: Booking, session: RemoteSession, meeting: Meeting, organization: Organization
) -> OutgoingEmail:
    """R16: the join link everyone booked shares; never the host's start link (R22)."""
    zone = ZoneInfo(session.timezone)
    when = session.start_time.astimezone(zone).strftime("%A %d %B %Y, %H:%M") + f" ({session.timezone})"
    passcode = f"\nPasscode: {meeting.passcode}" if meeting.passcode else ""
    text = (
        f"Hello {participant.name},\n\nYou are booked into {session.title} with {organization.name}, "
        f"on {when}, for {session.duration_minutes} minutes.\n\nJoin on Zoom: {meeting.join_url}{passcode}\n\n"
        f"Everyone booked into this session joins through the same link."
    )
    html = (
        f"<p>Hello {escape(participant.name)},</p><p>You are booked into <strong>{escape(session.title)}</strong> "
        f"with {escape(organization.name)}, on {escape(when)}, for {session.duration_minutes} minutes.</p>"
        f'<p><a href="{escape(meeting.join_url or "")}">Join on Zoom</a>'
        + (f"<br>Passcode: {escape(meeting.passcode)}" if meeting.passcode else "")
        + "</p><p>Everyone booked into this session joins through the same link.</p>"
    )
    return OutgoingEmail(to=participant.email, subject=f"Your Zoom link for {session.title}", text=text, html=html)
