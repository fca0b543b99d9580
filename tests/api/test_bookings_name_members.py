"""A booking's `user_id`, when given, names a member of the session's organization; nothing is booked otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.api.conftest import KEY, provision_organization


def tomorrow() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_a_booking_for_someone_not_a_member_of_the_organization_is_refused_and_books_nothing(api, org):
    other = await provision_organization(api)
    session = f"/api/v1/orgs/{org['org_id']}/sessions/yoga-1"
    body = {"host_user_id": org["member"], "title": "Yoga", "start_time": tomorrow(), "duration_minutes": 30, "remote": True}
    assert (await api.put(session, json=body, headers=KEY)).status_code == 201
    participant = {"name": "Pat", "email": "pat@people.test"}

    answers = [
        await api.put(f"{session}/bookings/b1", json={**participant, "user_id": user_id}, headers=KEY)
        for user_id in (other["member"], "nobody-at-all")
    ]

    for answer in answers:
        assert (answer.status_code, answer.json()["code"]) == (400, "unknown_participant"), answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "not a member of this organization" in answer.json()["errors"]["user_id"]
    assert (await api.get(session, headers=KEY)).json()["bookings"] == 0
    member = await api.put(f"{session}/bookings/b1", json={**participant, "user_id": org["admin"]}, headers=KEY)
    anonymous = await api.put(f"{session}/bookings/b2", json=participant, headers=KEY)
    assert (member.status_code, anonymous.status_code) == (201, 201)
    assert (await api.get(session, headers=KEY)).json()["bookings"] == 2
