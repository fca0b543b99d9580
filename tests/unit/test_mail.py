from __future__ import annotations

from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime

import msgspec
import pytest

from server.mail import (
    DEFAULT_SENDER,
    MailNotSent,
    OutgoingEmail,
    SmtpMailer,
    SmtpSecurity,
    SmtpSettings,
    UnsafeHeader,
    build_message,
    parse_smtp_url,
)
from server.outbox import LocalSmtpServer, ReceivedEmail

PASSWORD = "hunter2-s3cret"

ACTIVATION = OutgoingEmail(
    to="ada@example.com",
    subject="Activate your Zoom seat",
    text="Open your activation link:\nhttps://roomlink.localhost/activate/abc\n",
    html='<p>Open your <a href="https://roomlink.localhost/activate/abc">activation link</a>.</p>\n',
)


@pytest.fixture
def outbox() -> Iterator[LocalSmtpServer]:
    with LocalSmtpServer() as server:
        yield server


def addressed_to(address: str) -> Callable[[ReceivedEmail], bool]:
    return lambda message: message.to == address


def port_with_nothing_listening() -> int:
    with LocalSmtpServer() as server:
        return server.port


async def test_mail_arrives_over_smtp_with_text_and_html(outbox: LocalSmtpServer) -> None:
    await SmtpMailer(parse_smtp_url(outbox.url)).send(ACTIVATION)

    received = await outbox.wait_for(addressed_to("ada@example.com"))
    assert received.sender == DEFAULT_SENDER
    assert received.subject == "Activate your Zoom seat"
    assert received.text == ACTIVATION.text
    assert received.html == ACTIVATION.html


async def test_text_only_mail_arrives_without_html(outbox: LocalSmtpServer) -> None:
    email = OutgoingEmail(to="grace@example.com", subject="Your seat was removed", text="Sorry.\n")

    await SmtpMailer(parse_smtp_url(outbox.url)).send(email)

    received = await outbox.wait_for(addressed_to("grace@example.com"))
    assert received.text == "Sorry.\n"
    assert received.html is None


async def test_sender_comes_from_the_url(outbox: LocalSmtpServer) -> None:
    settings = parse_smtp_url(f"{outbox.url}?from=Acme%20Rooms%20%3Crooms%40acme.example%3E")

    await SmtpMailer(settings).send(ACTIVATION)

    received = await outbox.wait_for(addressed_to("ada@example.com"))
    assert received.sender == "Acme Rooms <rooms@acme.example>"


async def test_non_ascii_subject_and_body_arrive_intact(outbox: LocalSmtpServer) -> None:
    email = OutgoingEmail(to="zoe@example.com", subject="Réunion prête ✓", text="Bonjour Zoé,\nà bientôt.\n")

    await SmtpMailer(parse_smtp_url(outbox.url)).send(email)

    received = await outbox.wait_for(addressed_to("zoe@example.com"))
    assert received.subject == "Réunion prête ✓"
    assert received.text == "Bonjour Zoé,\nà bientôt.\n"


async def test_outbox_keeps_messages_newest_last_until_cleared(outbox: LocalSmtpServer) -> None:
    mailer = SmtpMailer(parse_smtp_url(outbox.url))
    for subject in ("first", "second"):
        await mailer.send(OutgoingEmail(to="ada@example.com", subject=subject, text="."))

    await outbox.wait_for(lambda message: message.subject == "second")
    assert [message.subject for message in outbox.messages()] == ["first", "second"]
    assert all(isinstance(message, ReceivedEmail) for message in outbox.messages())

    outbox.clear()
    assert outbox.messages() == ()


async def test_wait_for_gives_up_when_nothing_matches(outbox: LocalSmtpServer) -> None:
    with pytest.raises(TimeoutError):
        await outbox.wait_for(addressed_to("nobody@example.com"), timeout=0.1)


async def test_outbox_listens_on_a_given_port() -> None:
    port = port_with_nothing_listening()

    with LocalSmtpServer(port=port) as outbox:
        assert outbox.port == port
        assert outbox.url == f"smtp://127.0.0.1:{port}"
        await SmtpMailer(parse_smtp_url(outbox.url)).send(ACTIVATION)
        await outbox.wait_for(addressed_to("ada@example.com"))


def test_stopped_outbox_has_no_port() -> None:
    outbox = LocalSmtpServer()

    with pytest.raises(RuntimeError, match="not running"):
        outbox.port


async def test_unreachable_server_is_reported_as_mail_not_sent() -> None:
    settings = parse_smtp_url(f"smtp://mailer:{PASSWORD}@127.0.0.1:{port_with_nothing_listening()}")

    with pytest.raises(MailNotSent) as caught:
        await SmtpMailer(settings).send(ACTIVATION)

    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize("scheme", ["smtp+starttls", "smtps"])
async def test_tls_settings_never_fall_back_to_plaintext(outbox: LocalSmtpServer, scheme: str) -> None:
    settings = parse_smtp_url(f"{scheme}://mailer:{PASSWORD}@127.0.0.1:{outbox.port}")

    with pytest.raises(MailNotSent):
        await SmtpMailer(settings).send(ACTIVATION)

    assert outbox.messages() == ()


async def test_header_injection_through_the_subject_is_refused(outbox: LocalSmtpServer) -> None:
    email = OutgoingEmail(to="ada@example.com", subject="Hi\r\nBcc: eve@example.com", text=".")

    with pytest.raises(UnsafeHeader):
        await SmtpMailer(parse_smtp_url(outbox.url)).send(email)

    assert outbox.messages() == ()


def test_message_carries_date_message_id_and_both_parts() -> None:
    message = build_message(ACTIVATION, sender=DEFAULT_SENDER)

    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message["Message-ID"].endswith("@roomlink.localhost>")
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://mail.example.com",
            SmtpSettings(host="mail.example.com", port=25, security=SmtpSecurity.PLAIN),
        ),
        (
            "smtp+starttls://apikey:hunter2@smtp.example.com",
            SmtpSettings(
                host="smtp.example.com",
                port=587,
                security=SmtpSecurity.STARTTLS,
                username="apikey",
                password="hunter2",
            ),
        ),
        (
            "smtps://smtp.example.com/",
            SmtpSettings(host="smtp.example.com", port=465, security=SmtpSecurity.TLS),
        ),
        (
            "smtps://me%40example.com:p%40ss%3Aw%2Fd@smtp.example.com:2465",
            SmtpSettings(
                host="smtp.example.com",
                port=2465,
                security=SmtpSecurity.TLS,
                username="me@example.com",
                password="p@ss:w/d",
            ),
        ),
        (
            "smtp://127.0.0.1:2525?from=roomlink@example.com",
            SmtpSettings(
                host="127.0.0.1", port=2525, security=SmtpSecurity.PLAIN, sender="roomlink@example.com"
            ),
        ),
        (
            "smtp://[::1]:2525?from=roomlink+alerts@example.com",
            SmtpSettings(
                host="::1", port=2525, security=SmtpSecurity.PLAIN, sender="roomlink+alerts@example.com"
            ),
        ),
    ],
    ids=["plain", "starttls", "implicit-tls", "encoded-credentials", "sender", "ipv6-plus-address"],
)
def test_smtp_url_is_parsed(url: str, expected: SmtpSettings) -> None:
    assert parse_smtp_url(url) == expected


def test_default_sender_is_roomlink_no_reply() -> None:
    assert parse_smtp_url("smtp://localhost").sender == "Roomlink <no-reply@roomlink.localhost>"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (f"http://mailer:{PASSWORD}@mail.example.com", "must start with smtp://"),
        (f"mailer:{PASSWORD}@mail.example.com", "must start with smtp://"),
        ("", "must start with smtp://"),
        (f"smtp://mailer:{PASSWORD}@", "has no host"),
        (f"smtp://mailer:{PASSWORD}@mail.example.com:99999", "port must be a number"),
        (f"smtp://mailer:{PASSWORD}@mail.example.com:25x", "port must be a number"),
        (f"smtp://mailer:{PASSWORD}@mail.example.com:0", "port must be a number"),
        (f"smtp://mailer:{PASSWORD}@mail.example.com/inbox", "no path or fragment"),
        (f"smtp://mailer:{PASSWORD}@mail.example.com#top", "no path or fragment"),
        ("smtp://mailer@mail.example.com", "both a user and a password"),
        (f"smtp://:{PASSWORD}@mail.example.com", "both a user and a password"),
        (f"smtp://mailer:{PASSWORD}@mail.example.com?to=x@example.com", "only 'from', not to"),
        (f"smtp://mailer:{PASSWORD}@mail.example.com?from=", "'from' must be one email address"),
        (f"smtp://mailer:{PASSWORD}@mail.example.com?from=roomlink", "'from' must be one email address"),
        (
            f"smtp://mailer:{PASSWORD}@mail.example.com?from=a@example.com&from=b@example.com",
            "'from' must be one email address",
        ),
        (f"smtp://mailer:{PASSWORD}@mail.example.com?from", "query is malformed"),
    ],
    ids=[
        "http",
        "no-scheme",
        "empty",
        "no-host",
        "port-range",
        "port-text",
        "port-zero",
        "path",
        "fragment",
        "user-only",
        "password-only",
        "unknown-query",
        "blank-sender",
        "sender-not-an-address",
        "two-senders",
        "bare-query-key",
    ],
)
def test_bad_smtp_url_is_refused_without_revealing_the_password(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        parse_smtp_url(url)

    assert PASSWORD not in str(caught.value)


def test_password_never_shows_in_reprs() -> None:
    settings = parse_smtp_url(f"smtp+starttls://mailer:{PASSWORD}@smtp.example.com")
    shown = repr(settings) + str(settings) + repr(SmtpMailer(settings)) + str(SmtpMailer(settings))

    assert settings.password == PASSWORD
    assert "mailer" in shown
    assert PASSWORD not in shown


@pytest.mark.parametrize(
    "field, value",
    [
        ("to", "ada@example.com\nBcc: eve@example.com"),
        ("to", "ada@example.com\r"),
        ("subject", "Connect Zoom for Acme\r\nBcc: eve@example.com"),
        ("subject", "Acme\x00"),
    ],
)
def test_a_header_value_with_a_control_character_is_refused_not_sent(field: str, value: str) -> None:
    email = msgspec.structs.replace(ACTIVATION, **{field: value})

    with pytest.raises(UnsafeHeader, match=field.title()):
        build_message(email, sender=DEFAULT_SENDER)

