"""Outgoing email over SMTP, configured by one URL such as `smtp+starttls://user:pass@host`."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

import aiosmtplib
import msgspec

from domain.identifiers import has_control_characters

DEFAULT_SENDER = "Roomlink <no-reply@roomlink.localhost>"


class OutgoingEmail(msgspec.Struct, frozen=True, kw_only=True):
    to: str
    subject: str
    text: str
    html: str | None = None


class SmtpSecurity(enum.StrEnum):
    PLAIN = "plain"
    STARTTLS = "starttls"
    TLS = "tls"


_SCHEMES: dict[str, tuple[SmtpSecurity, int]] = {
    "smtp": (SmtpSecurity.PLAIN, 25),
    "smtp+starttls": (SmtpSecurity.STARTTLS, 587),
    "smtps": (SmtpSecurity.TLS, 465),
}


# A dataclass rather than a Struct: it can leave the password out of repr.
@dataclass(frozen=True, kw_only=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    security: SmtpSecurity
    sender: str = DEFAULT_SENDER
    username: str | None = None
    password: str | None = field(default=None, repr=False)


class MailNotSent(Exception):
    """The SMTP server could not be reached or refused the message."""


class UnsafeHeader(MailNotSent):
    """A header value holds a line break or another control character: sent, it could add headers."""


def parse_smtp_url(url: str) -> SmtpSettings:
    """Settings from `smtp://`, `smtp+starttls://` or `smtps://[user:pass@]host[:port][?from=...]`."""
    # Messages never quote the URL: it may carry the password.
    parts = urlsplit(url.strip())
    if parts.scheme not in _SCHEMES:
        raise ValueError("SMTP URL must start with smtp://, smtp+starttls:// or smtps://")
    if not parts.hostname:
        raise ValueError("SMTP URL has no host")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("SMTP URL takes no path or fragment")
    security, default_port = _SCHEMES[parts.scheme]
    username, password = _credentials(parts.username, parts.password)
    return SmtpSettings(
        host=parts.hostname,
        port=_port(parts, default_port),
        security=security,
        sender=_sender(parts.query),
        username=username,
        password=password,
    )


class SmtpMailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings

    async def send(self, email: OutgoingEmail) -> None:
        settings = self._settings
        message = build_message(email, sender=settings.sender)
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.host,
                port=settings.port,
                username=settings.username,
                password=settings.password,
                use_tls=settings.security is SmtpSecurity.TLS,
                # Explicit, so a plain relay is never upgraded by surprise and a STARTTLS one
                # never falls back to plaintext.
                start_tls=settings.security is SmtpSecurity.STARTTLS,
            )
        # OSError: aiosmtplib lets TLS errors such as an untrusted certificate at STARTTLS through.
        except (aiosmtplib.SMTPException, OSError) as error:
            raise MailNotSent(
                f"SMTP server {settings.host}:{settings.port} did not take the message"
            ) from error


def build_message(email: OutgoingEmail, *, sender: str) -> EmailMessage:
    """Refuses (UnsafeHeader) any header value with a control character, whatever checked it before."""
    message = EmailMessage()
    for header, value in (("From", sender), ("To", email.to), ("Subject", email.subject)):
        if has_control_characters(value):
            raise UnsafeHeader(f"the {header} header holds a control character; the message was not sent")
        message[header] = value
    message["Date"] = format_datetime(datetime.now(UTC))
    # The sender's domain, not the default `socket.getfqdn()`, which may wait on DNS.
    message["Message-ID"] = make_msgid(domain=_domain_of(sender))
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    return message


def _credentials(username: str | None, password: str | None) -> tuple[str | None, str | None]:
    if username is None and password is None:
        return None, None
    if not username or password is None:
        raise ValueError("SMTP URL must give both a user and a password, or neither")
    return unquote(username), unquote(password)


def _port(parts: SplitResult, default: int) -> int:
    problem = "SMTP URL port must be a number from 1 to 65535"
    try:
        port = parts.port
    except ValueError:
        raise ValueError(problem) from None
    # urlsplit accepts port 0, where no server can listen.
    if port == 0:
        raise ValueError(problem)
    return default if port is None else port


def _sender(query: str) -> str:
    # '+' stays literal, as in any URL, so plus-addressed senders survive form decoding.
    try:
        fields = parse_qs(query.replace("+", "%2B"), keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ValueError("SMTP URL query is malformed") from None
    unknown = sorted(set(fields) - {"from"})
    if unknown:
        raise ValueError(f"SMTP URL query takes only 'from', not {', '.join(unknown)}")
    senders = fields.get("from", [DEFAULT_SENDER])
    if len(senders) != 1 or "@" not in parseaddr(senders[0])[1]:
        raise ValueError(
            "SMTP URL 'from' must be one email address, e.g. Roomlink <roomlink@example.com>"
        )
    return senders[0]


def _domain_of(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2]
