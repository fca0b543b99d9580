"""R5, R13: when two email addresses are one person's (domain.emails), and what cannot be an email."""

from __future__ import annotations

import pytest

from domain.emails import NotAnEmail, email_key, normalized_email, same_email


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        ("Kim@Acme.Test", "kim@acme.test"),
        ("  kim@acme.test ", "kim@acme.test"),
        ("user+tag@Sub.Example.co.uk", "user+tag@sub.example.co.uk"),
        ("kim@acme.test.", "kim@acme.test"),
        ("kim@Exämple.DE", "kim@xn--exmple-cua.de"),
        ("kim@xn--exmple-cua.de", "kim@xn--exmple-cua.de"),
        ("Ünal@example.de", "Ünal@example.de"),
        ("o'brien@example.com", "o'brien@example.com"),
    ],
)
def test_r5_emails_compare_by_their_domain_in_ascii_and_ascii_letters_folded(given, normalized):
    assert normalized_email(given) == normalized
    assert normalized_email(normalized) == normalized  # its own normalisation


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("\u212aim@acme.test", "compatibility character"),  # the Kelvin sign, which str.lower() made a k
        ("\uff4bim@acme.test", "compatibility character"),  # fullwidth k
        ("\ufb01ona@acme.test", "compatibility character"),  # the fi ligature
        ("kim@acme", "domain"),
        ("kim@-acme.test", "domain"),
        ("kim@[192.0.2.1]", "domain"),
        ("a..b@acme.test", "dot"),
        (".kim@acme.test", "dot"),
        ('"kim smith"@acme.test', "spaces"),
        ("kim(comment)@acme.test", "character"),
        ("kim@acme@test.test", "more than one @"),
        ("kim\u200b@acme.test", "control"),
        ("@acme.test", "local part"),
        ("k" * 65 + "@acme.test", "64 octets"),
    ],
)
def test_what_cannot_be_an_email_is_refused_naming_the_field(given, why):
    with pytest.raises(NotAnEmail) as refused:
        normalized_email(given, "members[3].email")
    assert why in refused.value.errors["members[3].email"]
    assert refused.value.code == "validation_failed"


def test_r5_a_lookalike_address_matches_nobody_but_itself():
    assert not same_email("\u212aim@acme.test", "kim@acme.test")
    assert not same_email("\uff4bim@acme.test", "kim@acme.test")
    assert email_key("\u212aim@acme.test") == "\u212aim@acme.test"
    assert same_email("\u212aim@acme.test", " \u212aim@acme.test")
    assert same_email("KIM@ACME.TEST", "kim@acme.test") and same_email("kim@exämple.de", "kim@xn--exmple-cua.de")


def test_r13_non_ascii_local_parts_are_compared_as_they_are():
    """Only ASCII letters fold: no standard says Ü and ü name one mailbox, so they are two people, never one."""
    assert not same_email("Ünal@example.de", "ünal@example.de")
