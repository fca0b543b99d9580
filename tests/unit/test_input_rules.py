"""What the API takes from a host product, and how a refusal reads: pure rules, no server."""

from __future__ import annotations

import json

import msgspec
import pytest

from domain.errors import InvalidIdentifier
from domain.identifiers import check_identifier, has_control_characters
from server.api.bodies import ActivationLinkIn, BatchIn, MemberIn, OrganizationIn, PolicyIn
from server.problems import Problem, plain_words, validation_problem
from server.webhooks import MAX_DEPTH, parse_notification

CONTROL = ["\x00", "\n", "\r", "\t", "\x1b", "\x7f", "\x85"]


def decode(body: object, body_type: type) -> object:
    return msgspec.json.decode(json.dumps(body), type=body_type, strict=True)


@pytest.mark.parametrize("character", CONTROL)
def test_names_refuse_control_characters(character):
    with pytest.raises(msgspec.ValidationError, match=r"\$\.name"):
        decode({"name": f"Acme{character}Clinics"}, OrganizationIn)


@pytest.mark.parametrize("name", ["Zoë Ångström", "株式会社", "O'Brien & Co — Ärzte"])
def test_names_take_any_printable_text(name):
    assert decode({"name": name}, OrganizationIn).name == name


@pytest.mark.parametrize(
    "email",
    ["ada@acme.test\n", "ada@acme.test\r\nBcc: eve@evil.test", "ad\x00a@acme.test", "ada@acme.test\x1b", "ada@acme.test\x85"],
)
def test_emails_refuse_control_characters_even_a_final_newline(email):
    with pytest.raises(msgspec.ValidationError, match=r"\$\.email"):
        decode({"email": email, "name": "Ada", "role": "member"}, MemberIn)
    with pytest.raises(msgspec.ValidationError, match=r"\$\.zoom_admin_email"):
        decode({"zoom_admin_email": email}, ActivationLinkIn)


def test_an_email_is_taken_as_sent():
    assert decode({"email": "Ada.L+zoom@Acme.test", "name": "Ada", "role": "owner"}, MemberIn).email == "Ada.L+zoom@Acme.test"


@pytest.mark.parametrize("value", ["abc\n", "a\x00b", "a b", "", "x" * 129, "ü"])
def test_identifiers_are_checked_whole_so_a_final_newline_is_refused(value):
    with pytest.raises(InvalidIdentifier):
        check_identifier(value, "user_id")


def test_identifiers_take_the_host_products_alphabet():
    assert check_identifier("Org_1.team:a-b", "org_id") == "Org_1.team:a-b"


@pytest.mark.parametrize("flag", [1, 0, "true", "false", None, "yes", [True]])
def test_the_policy_flag_is_only_json_true_or_false(flag):
    with pytest.raises(msgspec.ValidationError):
        decode({"allow_members_to_remove": flag}, PolicyIn)
    assert decode({"allow_members_to_remove": False}, PolicyIn).allow_members_to_remove is False


def test_control_characters_are_c0_del_and_c1():
    assert [has_control_characters(c) for c in CONTROL] == [True] * len(CONTROL)
    assert not has_control_characters("plain text, é, 日本, emoji 🙂")


MESSAGES = {
    "Expected `bool`, got `int` - at `$.allow_members_to_remove`": ("allow_members_to_remove", "must be true or false"),
    "Expected `bool | null`, got `str` - at `$.x`": ("x", "must be true or false or null"),
    "Expected `str` of length >= 1 - at `$.members[0].name`": ("members[0].name", "must not be empty"),
    "Expected `str` of length <= 200 - at `$.name`": ("name", "must be at most 200 characters"),
    "Expected `array` of length <= 1000 - at `$.members`": ("members", "must hold at most 1000 items"),
    "Expected `int` >= 1": ("", "must be at least 1"),
    "Invalid enum value 'boss' - at `$.members[3].role`": ("members[3].role", "must be owner, admin or member"),
    "Object missing required field `name`": ("name", "is required"),
    "Object missing required field `role` - at `$.members[0]`": ("members[0].role", "is required"),
    "Object contains unknown field `extra`": ("extra", "is not a field this API takes"),
    "Expected `object`, got `array`": ("", "must be an object"),
    "Expected `array`, got `object` - at `$.members`": ("members", "must be a list"),
}


@pytest.mark.parametrize("message", MESSAGES)
def test_msgspec_messages_become_plain_words_under_the_apis_field_names(message):
    assert plain_words(message) == MESSAGES[message]


@pytest.mark.parametrize(
    "body, body_type",
    [
        ({"members": [{"user_id": "u1", "email": "u1@acme.test\n", "name": "U", "role": "member"}]}, BatchIn),
        ({"email": "x@acme.test", "name": "A\x00", "role": "member"}, MemberIn),
        ({"allow_members_to_remove": "true"}, PolicyIn),
    ],
)
def test_a_refusal_names_the_field_and_never_shows_library_wording(body, body_type):
    with pytest.raises(msgspec.ValidationError) as raised:
        decode(body, body_type)
    problem = validation_problem(str(raised.value))
    (field,) = problem.errors
    assert f"`{field}`" in problem.detail
    for leak in ("Expected", "regex", "$.", "`str`", "`bool`", "(?!"):
        assert leak not in problem.detail and leak not in problem.errors[field]


def envelope(event: object = "user.updated", payload: object = None, **extra: object) -> bytes:
    return json.dumps({"event": event, "payload": {"account_id": "a1"} if payload is None else payload, **extra}).encode()


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


MALFORMED_NOTIFICATIONS = {
    "event is a number": envelope(event=42),
    "event is an object": envelope(event={"name": "user.updated"}),
    "event is over-long": envelope(event="user." + "x" * 200),
    "event is empty": envelope(event=""),
    "event has a control character": envelope(event="user.updated\n"),
    "payload is a string": envelope(payload="user.updated"),
    "payload is a list": envelope(payload=[1, 2]),
    "url validation with a string payload": envelope(event="endpoint.url_validation", payload="abc"),
    "url validation with a non-string token": envelope(event="endpoint.url_validation", payload={"plainToken": {"a": 1}}),
    "object is a string": envelope(payload={"account_id": "a1", "object": "u1"}),
    "nested too deep": envelope(payload={"object": nested(MAX_DEPTH + 1)}),
    "nested past the parser": b'{"event":"user.updated","payload":{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
    "no payload": json.dumps({"event": "user.updated"}).encode(),
    "not an object": b"[]",
    "not JSON": b"\xff\xfe",
}


@pytest.mark.parametrize("case", MALFORMED_NOTIFICATIONS)
def test_a_malformed_notification_is_a_400_not_a_job(case):
    with pytest.raises(Problem) as raised:
        parse_notification(MALFORMED_NOTIFICATIONS[case])
    assert (raised.value.status, raised.value.code) == (400, "webhook_malformed")


def test_zoom_shaped_notifications_pass():
    user = envelope(payload={"account_id": "a1", "operator": "x", "object": {"id": "u1", "email": "a@b.c"}}, event_ts=1)
    assert parse_notification(user).payload.object == {"id": "u1", "email": "a@b.c"}
    check = envelope(event="endpoint.url_validation", payload={"plainToken": "abc123"})
    assert parse_notification(check).payload.plainToken == "abc123"


@pytest.mark.parametrize(
    "body, body_type, words",
    [
        ({"name": "A\nB"}, OrganizationIn, "must not contain control characters (line breaks, tabs, NUL…)"),
        ({"email": "nope", "name": "N", "role": "member"}, MemberIn, "must be an email address"),
        ({"members": [{"user_id": "a b", "email": "a@b.c", "name": "N", "role": "member"}]}, BatchIn, "must be 1–128 characters of letters, digits and . _ : -"),
    ],
)
def test_a_pattern_refusal_says_what_the_pattern_means(body, body_type, words):
    with pytest.raises(msgspec.ValidationError) as raised:
        decode(body, body_type)
    assert plain_words(str(raised.value))[1] == words
