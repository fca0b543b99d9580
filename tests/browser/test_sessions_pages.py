"""The host's day and the sessions owners and admins must look at, through Roomlink, its workers and the Zoom
sandbox in their own processes (R16, R21, R22), at 1280 and 390 px."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from domain.model import Reason
from server.ui.words import REASON_ADVICE
from tests.browser.conftest import PHONE, VIEWPORT
from tests.browser.steps import artifact, card, heading, open_signed_in
from tests.browser.test_accessibility import violations
from tests.browser.test_phone_width import horizontal_overflow, within_the_width
from tests.support.zoom import KEY, as_member, eventually

pytestmark = pytest.mark.usefixtures("workers")


def in_hours(hours: float) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)


def tomorrow_at(hour: int) -> datetime:
    """A time of tomorrow (UTC): sessions an hour or two apart then fall on one day, whenever the test runs."""
    return (datetime.now(UTC) + timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0)


async def put_session(base_url: str, org_id: str, session_id: str, host: str, title: str, start: datetime, **more) -> None:
    body = {
        "host_user_id": host, "title": title, "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_minutes": 45, "remote": True, **more,
    }
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as api:
        response = await api.put(f"/api/v1/orgs/{org_id}/sessions/{session_id}", json=body, headers=KEY)
    assert response.status_code == 201, response.text


async def book(base_url: str, org_id: str, session_id: str, booking_id: str, name: str) -> None:
    body = {"name": name, "email": f"{booking_id}.{org_id}@people.test"}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as api:
        response = await api.put(f"/api/v1/orgs/{org_id}/sessions/{session_id}/bookings/{booking_id}", json=body, headers=KEY)
    assert response.status_code == 201, response.text


async def status_of(base_url: str, org_id: str, session_id: str) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as api:
        return (await api.get(f"/api/v1/orgs/{org_id}/sessions/{session_id}", headers=KEY)).json()["status"]


async def becomes(base_url: str, org_id: str, session_id: str, status: str) -> bool:
    async def check() -> bool:
        return await status_of(base_url, org_id, session_id) == status

    return await eventually(check, timeout=30)


@pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["1280px", "390px"])
async def test_r16_r22_the_hosts_day_lists_each_session_with_status_participants_and_the_start_link(
    browser: Browser, viewport, pages_server, seated
):
    org_id, host = seated["org_id"], seated["member"]["user_id"]
    start = tomorrow_at(9)  # in_hours(2) put the follow-up an hour later on the next day after 21:00 UTC
    await put_session(pages_server, org_id, "physio", host, "Morning physio group", start, capacity=8)
    await put_session(pages_server, org_id, "follow-up", host, "Follow-up appointment", start + timedelta(hours=1), capacity=1)
    for booking_id, name in (("b1", "Ada Lovelace"), ("b2", "Grace Hopper")):
        await book(pages_server, org_id, "physio", booking_id, name)
    assert await becomes(pages_server, org_id, "physio", "ready")
    day = start.date().isoformat()
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()

    await open_signed_in(page, pages_server, org_id, host, f"/sessions?day={day}&timezone=UTC")

    await expect(heading(page)).to_have_text("My day")
    physio = card(page, "Morning physio group")
    await expect(physio.locator(".status")).to_have_text("Ready")
    await expect(physio.locator(".when")).to_contain_text(f"{start:%H:%M}–{start + timedelta(minutes=45):%H:%M} (UTC)")
    await expect(physio.locator(".participants li")).to_have_text(
        [f"Ada Lovelace b1.{org_id}@people.test", f"Grace Hopper b2.{org_id}@people.test"]
    )
    await expect(physio).to_contain_text("2 of 8 seats")
    start_link = physio.get_by_role("link", name="Start as host")
    await expect(start_link).to_have_attribute("href", re.compile(r"^/api/v1/me/meetings/[0-9a-f-]{36}/start$"))
    follow_up = card(page, "Follow-up appointment")
    await expect(follow_up.locator(".status")).to_have_text("No bookings yet")
    await expect(follow_up.get_by_role("link", name="Start as host")).to_have_count(0)
    if viewport is PHONE:
        assert await horizontal_overflow(page) == 0
        assert await within_the_width(page, physio.locator(".status"))
    assert await violations(page) == []
    await page.screenshot(path=artifact(f"my-day-{viewport['width']}.png"), full_page=True)

    started = await page.request.get(f"{pages_server}{await start_link.get_attribute('href')}", max_redirects=0)
    assert started.status == 302 and "zak=" in started.headers["location"]
    await page.get_by_role("link", name="Next day →").click()
    await expect(page.locator("main")).to_contain_text("You host no remote sessions on this day.")
    await page.get_by_role("link", name="← Previous day").click()
    await expect(card(page, "Morning physio group")).to_be_visible()
    await context.close()


async def test_r21_a_session_whose_meeting_was_deleted_in_zoom_is_recreated_by_its_host_from_their_day(
    page: Page, pages_server, sandbox, seated
):
    org_id, host = seated["org_id"], seated["member"]["user_id"]
    start = in_hours(3)
    await put_session(pages_server, org_id, "yoga", host, "Evening yoga", start)
    await book(pages_server, org_id, "yoga", "b1", "Ada Lovelace")
    assert await becomes(pages_server, org_id, "yoga", "ready")
    [in_zoom] = (await sandbox.client.get(f"/sandbox/users/{seated['seat']['id']}/meetings")).json()
    assert (await sandbox.client.delete(f"/sandbox/meetings/{in_zoom['id']}")).status_code == 204
    assert await becomes(pages_server, org_id, "yoga", "needs_attention")

    await open_signed_in(page, pages_server, org_id, host, f"/sessions?day={start.date().isoformat()}&timezone=UTC")
    yoga = card(page, "Evening yoga")
    await expect(yoga.locator(".status")).to_have_text("Needs attention")
    await expect(yoga).to_contain_text("deleted in Zoom")
    await yoga.get_by_role("button", name="Recreate through my current Zoom").click()

    await expect(page.get_by_role("status")).to_contain_text("made again through your current Zoom")
    await expect(heading(page)).to_have_text("My day")
    assert await becomes(pages_server, org_id, "yoga", "ready")
    [remade] = (await sandbox.client.get(f"/sandbox/users/{seated['seat']['id']}/meetings")).json()
    assert remade["id"] != in_zoom["id"]


@pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["1280px", "390px"])
async def test_r21_owners_see_the_sessions_needing_attention_with_why_and_what_to_do(
    browser: Browser, viewport, pages_server, seated
):
    org_id, no_seat = seated["org_id"], seated["other"]
    await put_session(pages_server, org_id, "intro", no_seat["user_id"], "Intro to pilates", in_hours(5))
    await book(pages_server, org_id, "intro", "b1", "Ada Lovelace")
    assert await becomes(pages_server, org_id, "intro", "needs_attention")
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()

    await open_signed_in(page, pages_server, org_id, seated["owner"]["user_id"], "/organization/sessions")

    await expect(heading(page)).to_have_text("Sessions needing attention")
    intro = card(page, "Intro to pilates")
    await expect(intro.locator(".status")).to_have_text("Needs attention")
    await expect(intro).to_contain_text(f"hosted by {no_seat['name']}")
    await expect(intro.locator(".reason")).to_have_text(
        f"Why: {no_seat['name']} has no Zoom: no Zoom user with this email in the organization's Zoom account."
    )
    await expect(intro.locator(".fix")).to_have_text(
        f"What to do: The organization's Zoom account has no user with {no_seat['name']}'s email: ask your Zoom "
        f"administrator to add one, or ask {no_seat['name']} to connect their own Zoom."
    )
    await expect(page.get_by_role("link", name="Sessions needing attention")).to_have_attribute("aria-current", "page")
    if viewport is PHONE:
        assert await horizontal_overflow(page) == 0
        assert await within_the_width(page, intro.locator(".status"))
    assert await violations(page) == []
    await page.screenshot(path=artifact(f"organization-sessions-{viewport['width']}.png"), full_page=True)
    await context.close()


async def test_r21_a_host_without_zoom_reads_why_on_their_day_and_where_to_fix_it(page: Page, pages_server, seated):
    org_id, no_seat = seated["org_id"], seated["other"]
    start = in_hours(6)
    await put_session(pages_server, org_id, "stretch", no_seat["user_id"], "Stretch class", start)
    await book(pages_server, org_id, "stretch", "b1", "Ada Lovelace")
    assert await becomes(pages_server, org_id, "stretch", "needs_attention")

    await open_signed_in(page, pages_server, org_id, no_seat["user_id"], f"/sessions?day={start.date().isoformat()}&timezone=UTC")

    stretch = card(page, "Stretch class")
    await expect(stretch.locator(".status")).to_have_text("Needs attention")
    await expect(stretch.locator(".reason")).to_have_text(REASON_ADVICE[Reason.NO_SEAT])
    await stretch.get_by_role("link", name="Open my Zoom settings").click()
    await expect(page).to_have_url(f"{pages_server}/integrations/zoom")


async def test_r1_a_member_is_refused_the_owners_sessions_page_in_words(page: Page, pages_server, seated):
    await open_signed_in(page, pages_server, seated["org_id"], seated["member"]["user_id"], "/organization/sessions")

    await expect(heading(page)).to_have_text("Only owners and admins see this page")
    await expect(page.get_by_role("link", name="My day")).to_be_visible()
    await expect(page.get_by_role("link", name="Sessions needing attention")).to_have_count(0)
    async with httpx.AsyncClient(base_url=pages_server, timeout=30) as api:
        refused = await api.get("/organization/sessions", headers=as_member(seated["member"]["user_id"]))
    assert refused.status_code == 401  # pages act for the browser's session only, never for an API key
