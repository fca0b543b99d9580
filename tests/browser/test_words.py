"""Every reason and organization status the API can give has words on the pages."""

from __future__ import annotations

from typing import get_args

from domain.integration import OrganizationStatus
from domain.model import Reason
from server.ui.words import ORGANIZATION_STATUS, REASON_ADVICE, REASON_SHORT


def test_every_reason_has_advice_for_the_member_and_words_for_the_table():
    assert set(REASON_ADVICE) == set(Reason) == set(REASON_SHORT)


def test_every_organization_status_has_a_headline_and_advice():
    assert set(ORGANIZATION_STATUS) == set(get_args(OrganizationStatus))
