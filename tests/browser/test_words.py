"""Every reason and organization status the API can give has words on the pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

from domain.integration import OrganizationStatus
from domain.model import Connection, ConnectionStatus, ConnectionType, Member, Organization, Policy, Reason, Role
from server.emails import incident_email
from server.ui.words import ORGANIZATION_STATUS, POLICY_HINT, REASON_ADVICE, REASON_SHORT, page_words, possessive

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_every_reason_has_advice_for_the_member_and_words_for_the_table():
    assert set(REASON_ADVICE) == set(Reason) == set(REASON_SHORT)


def test_every_organization_status_has_a_headline_and_advice():
    assert set(ORGANIZATION_STATUS) == set(get_args(OrganizationStatus))


def test_possessives_follow_the_name():
    assert possessive("Northwind Clinics") == "Northwind Clinics'"
    assert possessive("Acme") == "Acme's"


def test_the_admin_lost_email_says_clinics_and_names_the_button_the_page_shows_then():
    organization = Organization(org_id="nw", name="Northwind Clinics", policy=Policy(), created_at=NOW, updated_at=NOW)
    owner = Member(org_id="nw", user_id="olivia", email="olivia@nw.example", name="Olivia", role=Role.OWNER,
                   created_at=NOW, updated_at=NOW)
    lost = Connection(
        id="c1", org_id="nw", type=ConnectionType.ORGANIZATION, user_id=None, zoom_account_id="a", zoom_user_id="z",
        zoom_email="zoe@nw.example", status=ConnectionStatus.ADMIN_LOST, status_reason="demoted",
        status_changed_at=NOW, connected_at=NOW,
    )

    email = incident_email(owner, organization, lost, "the Zoom admin lost their role", "https://roomlink.test")

    assert "Northwind Clinics' Zoom connection" in email.text and "Clinics's" not in email.text
    assert '"Connect Zoom for my organization"' in email.text  # the page's button while not active


def test_owners_and_admins_are_never_told_to_ask_an_owner_or_admin():
    for manages in (True, False):
        advice = page_words(manages=manages)["reason_advice"]
        assert set(advice) == {reason.value for reason in Reason}
    assert not [text for text in page_words(manages=True)["reason_advice"].values() if "sk an owner" in text]


def test_the_policy_hint_of_a_checked_box_says_on():
    assert POLICY_HINT[True].startswith("On") and "off" not in POLICY_HINT[True].lower()
    assert POLICY_HINT[False].startswith("Off")
