"""The emails Roomlink sends, in words."""

from __future__ import annotations

from datetime import datetime
from html import escape

from server.mail import OutgoingEmail


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
