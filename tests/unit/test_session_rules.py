"""R16, R19, R21: a session's state and its meeting's next step, decided from its facts alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from domain.meeting_model import Meeting, MeetingStatus
from domain.model import ConnectionType
from domain.session_model import (
    RemoteSession,
    SessionFacts,
    SessionStatus,
    Step,
    next_step,
    session_state,
    session_view,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def session(**changes) -> RemoteSession:
    base = RemoteSession(
        org_id="org", id="s1", host_user_id="host", title="Yoga", start_time=NOW + timedelta(days=1),
        duration_minutes=45, timezone="UTC", remote=True, capacity=None, status=SessionStatus.NO_BOOKINGS,
        status_reason=None, host_problem=None, link_generation=0, cancelled_at=None, created_at=NOW, updated_at=NOW,
    )
    return msgspec.structs.replace(base, **changes)


def meeting(**changes) -> Meeting:
    base = Meeting(
        id="m1", org_id="org", user_id="host", connection_id="c1", connection_type=ConnectionType.ORGANIZATION,
        zoom_user_id="z1", zoom_user_email="host@zoom.test", topic="Yoga", start_time=NOW + timedelta(days=1),
        duration_minutes=45, timezone="UTC", agenda="", passcode="abc", zoom_meeting_id=123,
        join_url="https://zoom.test/j/123", status=MeetingStatus.SCHEDULED, status_reason=None, in_personal_room=False,
        idempotency_key=None, request_hash="", attempts=1, lease_until=None, not_before=None, created_at=NOW,
        updated_at=NOW, session_id="s1",
    )
    return msgspec.structs.replace(base, **changes)


def facts(s: RemoteSession | None = None, bookings: int = 1, m: Meeting | None = None) -> SessionFacts:
    return SessionFacts(session=s or session(), bookings=bookings, meeting=m)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (facts(session(cancelled_at=NOW), m=meeting()), SessionStatus.CANCELLED),
        (facts(bookings=0), SessionStatus.NO_BOOKINGS),
        (facts(), SessionStatus.LINK_PENDING),
        (facts(m=meeting(status=MeetingStatus.PENDING, join_url=None, status_reason="Zoom could not be reached")),
         SessionStatus.LINK_PENDING),
        (facts(m=meeting()), SessionStatus.READY),
        (facts(m=meeting(status=MeetingStatus.CANCELLED)), SessionStatus.LINK_PENDING),
        # A new host: the old host's meeting is not the session's link any more.
        (facts(m=meeting(user_id="old-host")), SessionStatus.LINK_PENDING),
        (facts(m=meeting(status=MeetingStatus.NEEDS_ATTENTION, status_reason="deleted in Zoom")), SessionStatus.NEEDS_ATTENTION),
        # A host without Zoom needs attention even before anyone books (R21: flagged before it is too late).
        (facts(session(host_problem="The host has no Zoom: …"), bookings=0), SessionStatus.NEEDS_ATTENTION),
        (facts(session(host_problem="The host has no Zoom: …"), m=meeting()), SessionStatus.NEEDS_ATTENTION),
    ],
)
def test_session_state_follows_its_facts(case, expected):
    assert session_state(case)[0] is expected


def test_waiting_says_why_and_ready_in_a_pmi_room_names_the_setting():
    waiting = facts(m=meeting(status=MeetingStatus.PENDING, join_url=None, status_reason="after 00:00 UTC"))
    assert session_state(waiting) == (SessionStatus.LINK_PENDING, "after 00:00 UTC")
    in_room = facts(m=meeting(in_personal_room=True, status_reason="Turn off “Use PMI”"))
    assert session_state(in_room) == (SessionStatus.READY, "Turn off “Use PMI”")


@pytest.mark.parametrize(
    ("case", "reachable", "expected"),
    [
        (facts(), True, Step.CREATE),
        (facts(m=meeting(status=MeetingStatus.CANCELLED)), True, Step.CREATE),
        (facts(m=meeting()), True, Step.NOTHING),
        # Booking or cancelling a seat is not a change of the meeting (R16: no update spent on it).
        (facts(bookings=30, m=meeting()), True, Step.NOTHING),
        (facts(bookings=0, m=meeting()), True, Step.CANCEL),
        (facts(session(remote=False), m=meeting()), True, Step.CANCEL),
        (facts(session(cancelled_at=NOW), m=meeting()), True, Step.CANCEL),
        (facts(session(title="Yoga, new time", start_time=NOW + timedelta(days=2)), m=meeting()), True, Step.UPDATE),
        (facts(session(host_user_id="new-host"), m=meeting()), True, Step.CANCEL),
        # Unreachable, and the host's Zoom now is another Zoom user: closed here, left in Zoom, remade.
        (facts(m=meeting()), False, Step.CLOSE_HERE),
        # Unreachable while the host has no Zoom: kept, its link works, and the same Zoom back takes it over.
        (facts(session(host_problem="The host has no Zoom: …"), m=meeting()), False, Step.NOTHING),
        (facts(session(host_problem="The host has no Zoom: …", cancelled_at=NOW), m=meeting()), False, Step.CLOSE_HERE),
        (facts(m=meeting(status=MeetingStatus.PENDING, join_url=None, zoom_meeting_id=None)), True, Step.MAKE),
        (facts(m=meeting(status=MeetingStatus.PENDING, join_url=None, not_before=NOW + timedelta(hours=3))), True,
         Step.NOTHING),
        # A meeting deleted in Zoom waits for a person (R21); it is not remade behind anyone's back.
        (facts(m=meeting(status=MeetingStatus.NEEDS_ATTENTION)), True, Step.NOTHING),
        # Over: nothing is cancelled or made any more.
        (facts(session(start_time=NOW - timedelta(hours=2)), bookings=0, m=meeting()), True, Step.NOTHING),
        (facts(session(start_time=NOW - timedelta(hours=2)), m=meeting()), False, Step.NOTHING),
    ],
)
def test_next_step_matches_the_meeting_to_the_session(case, reachable, expected):
    assert next_step(case, reachable, NOW) is expected


def test_the_view_never_shows_a_meeting_nobody_should_join():
    assert session_view(facts(m=meeting())).meeting is not None
    for gone in (session(remote=False), session(cancelled_at=NOW), session(host_user_id="new-host")):
        assert session_view(facts(gone, m=meeting())).meeting is None
    assert "start_url" not in msgspec.json.encode(session_view(facts(m=meeting()))).decode()


def test_every_reason_a_host_can_lack_zoom_has_words_for_the_owner():
    from domain.model import Reason
    from domain.sessions import HOST_NOT_CONNECTED

    assert set(HOST_NOT_CONNECTED) == set(Reason)
    assert all(words.startswith("The host has no Zoom") and " you" not in words for words in HOST_NOT_CONNECTED.values())


def test_a_past_start_is_refused_unless_it_is_the_one_stored_sent_again():
    from domain.meeting_input import parse_start_time

    past = NOW - timedelta(hours=1)
    refused: dict[str, str] = {}
    assert parse_start_time(past.isoformat(), "UTC", NOW, refused) is None
    assert refused == {"start_time": "is in the past"}
    again: dict[str, str] = {}
    assert parse_start_time(past.isoformat(), "UTC", NOW, again, unchanged=past) == past and again == {}
    moved: dict[str, str] = {}
    assert parse_start_time((past - timedelta(minutes=5)).isoformat(), "UTC", NOW, moved, unchanged=past) is None
