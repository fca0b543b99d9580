"""Browser tests: real Chromium through Playwright against Roomlink running in its own process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from domain.model import Role
from tests.browser.app_with_ui import OUTBOX_PORT_ENV
from tests.support.builders import create_organization, member, unique
from tests.support.servers import free_port, running
from tests.support.zoom import KEY, Sandbox, activate, create_activation_link

VIEWPORT = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def pages_server(roomlink) -> str:
    """Roomlink with its pages, not in demo mode; its base URL."""
    return roomlink


@pytest.fixture(scope="session")
def outbox_port() -> int:
    return free_port()


@pytest.fixture(scope="package")
def demo_server(db, roomlink_env, outbox_port) -> Iterator[str]:
    # Demo mode runs a worker in the server's process, on the database every test shares: it takes any
    # queued job (an organization event's fan-out, a session's meeting among them) and leases due event
    # deliveries. So it talks to the same Zoom sandbox and mail server as the stack's workers (a session's
    # meeting it makes is made right, not left pending), and it lives only while the browser tests run,
    # not on into the suites after them that fan out and lease by hand
    # (tests/integration/test_events_outbox.py); while it runs it looks for deliveries once an hour and
    # schedules no verification of its own (the stack's workers verify).
    stack = {name: value for name, value in roomlink_env.items() if name != "ROOMLINK_BASE_URL"}
    with running(
        "tests.browser.app_with_ui:create_demo",
        {**stack, "ROOMLINK_DEMO": "1", OUTBOX_PORT_ENV: str(outbox_port), "ROOMLINK_EVENTS_POLL_S": "3600",
         "ROOMLINK_VERIFY_INTERVAL_S": "0"},
    ) as base_url:
        yield base_url


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}, and it is not installed")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=VIEWPORT)
    yield await context.new_page()
    await context.close()


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Page]:
    """A page 390 px wide, as on a phone."""
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield await context.new_page()
    await context.close()


@pytest.fixture
async def new_page(browser: Browser):
    """Opens pages in fresh browser contexts (no cookies: another person, another browser); closed at the end."""
    contexts = []

    async def open_page() -> Page:
        context = await browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        return await context.new_page()

    yield open_page
    for context in contexts:
        await context.close()


@pytest.fixture
async def sandbox(zoom_sandbox) -> AsyncIterator[Sandbox]:
    """The Zoom sandbox's control API, to create Zoom accounts and users."""
    async with httpx.AsyncClient(base_url=zoom_sandbox, timeout=10) as client:
        yield Sandbox(client)


@pytest.fixture
async def org(db) -> dict:
    """An organization with an owner and a member, neither connected yet."""
    org_id = unique("org")
    owner = member(f"{org_id}-owner", Role.OWNER, name="Olga Owner")
    plain = member(f"{org_id}-member", Role.MEMBER, name="Milo Member")
    await create_organization(org_id, [owner, plain], name="Acme Clinics")
    return {"org_id": org_id, "owner": owner, "member": plain}


@pytest.fixture
async def provisioned_org(pages_server) -> dict:
    """An organization with an owner and two members, provisioned by the host product over the API."""
    org_id = unique("org")
    people = {
        "owner": ("Olga Owner", "owner"),
        "member": ("Milo Member", "member"),
        "other": ("Nina Member", "member"),
    }
    ids: dict = {"org_id": org_id, "name": "Acme Clinics"}
    async with httpx.AsyncClient(base_url=pages_server, timeout=10) as api:
        response = await api.put(f"/api/v1/orgs/{org_id}", json={"name": ids["name"]}, headers=KEY)
        assert response.status_code == 201, response.text
        for key, (name, role) in people.items():
            person = {"user_id": f"{org_id}-{key}", "email": f"{key}.{org_id}@acme.test", "name": name, "role": role}
            response = await api.put(
                f"/api/v1/orgs/{org_id}/members/{person['user_id']}",
                json={field: person[field] for field in ("email", "name", "role")},
                headers=KEY,
            )
            assert response.status_code == 201, response.text
            ids[key] = person
    return ids


@pytest.fixture
async def seated(pages_server, sandbox, provisioned_org) -> dict:
    """The organization's Zoom connected through the sandbox; its member holds a seat (R5)."""
    account = await sandbox.account("Acme Clinics Zoom")
    admin = await sandbox.user(account, f"zoe.admin.{provisioned_org['org_id']}@zoom.example", "admin")
    seat = await sandbox.user(account, provisioned_org["member"]["email"], "member")
    async with httpx.AsyncClient(base_url=pages_server, timeout=30) as api:
        link = await create_activation_link(api, provisioned_org["org_id"], provisioned_org["owner"]["user_id"])
        assert (await activate(api, link["url"], admin["email"])).status_code == 200
    return {**provisioned_org, "seat": seat}
