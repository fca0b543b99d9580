"""Demo mode: sign in as any seeded person; read the emails Roomlink sent."""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage

import httpx
from playwright.async_api import Page, expect

from server.demo import PEOPLE, seed, seed_sandbox
from server.zoom_sandbox import create_sandbox_app


def send_to_outbox(port: int, subject: str, text: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "roomlink@demo.test", "zoe@northwind.example", subject
    message.set_content(text)
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.send_message(message)


async def test_demo_sign_in_lists_the_seeded_people_and_signs_in(page: Page, demo_server, db):
    await seed(seed_sandbox(create_sandbox_app().state.sandbox))
    await page.goto(f"{demo_server}/demo")

    await expect(page.get_by_role("button", name="Sign in as")).to_have_count(len(PEOPLE))
    maria = page.get_by_role("row").filter(has_text="Maria Personal")
    await expect(maria).to_contain_text("Member")
    await expect(maria).to_contain_text("Connected — through their own Zoom")
    sam = page.get_by_role("row").filter(has_text="Sam Reconnect")
    await expect(sam).to_contain_text("Not connected — their own Zoom needs reconnecting")
    await expect(page.get_by_role("link", name="Zoom sandbox")).to_have_attribute("href", "/zoom-sandbox/")

    await page.get_by_role("button", name="Sign in as Maria Personal").click()

    await expect(page).to_have_url(f"{demo_server}/integrations/zoom")
    await expect(page.locator("#my-zoom-headline")).to_have_text("Connected — through your own Zoom")


async def test_demo_outbox_lists_emails_newest_first_with_clickable_links(page: Page, demo_server, outbox_port):
    send_to_outbox(outbox_port, "First", "Nothing to click.")
    send_to_outbox(outbox_port, "Activate Zoom for Northwind", "Open https://roomlink.test/activate/abc. Thanks!")

    await page.goto(f"{demo_server}/demo/outbox")

    subjects = await page.locator("article h2").all_inner_texts()
    assert subjects.index("Activate Zoom for Northwind") < subjects.index("First")
    link = page.get_by_role("link", name="https://roomlink.test/activate/abc")
    await expect(link).to_have_attribute("href", "https://roomlink.test/activate/abc")
    await page.goto(f"{demo_server}/demo")
    await expect(page.get_by_role("link", name="Outbox")).to_have_attribute("href", "/demo/outbox")


async def test_demo_pages_do_not_exist_outside_demo_mode(pages_server):
    async with httpx.AsyncClient(base_url=pages_server, timeout=10) as client:
        sign_in_page = await client.get("/demo")
        sign_in = await client.post("/demo/sign-in", data={"user_id": "olivia"})
        outbox = await client.get("/demo/outbox")
    assert [sign_in_page.status_code, sign_in.status_code, outbox.status_code] == [404, 404, 404]
    assert "roomlink_session" not in sign_in.cookies


async def test_demo_shortcuts_open_the_seeded_meetings_and_sessions_signed_in_as_their_person(
    page: Page, demo_server, db
):
    await seed(seed_sandbox(create_sandbox_app().state.sandbox))
    await page.goto(f"{demo_server}/demo")

    await page.get_by_role("button", name=re.compile(r"^Li's day")).click()

    await expect(page).to_have_url(f"{demo_server}/sessions")
    await expect(page.get_by_role("heading", level=1)).to_have_text("My day")
    await page.goto(f"{demo_server}/demo")
    await page.get_by_role("button", name=re.compile(r"^The sessions needing attention")).click()
    await expect(page).to_have_url(f"{demo_server}/organization/sessions")
    await expect(page.get_by_role("link", name="Sessions needing attention")).to_have_attribute("aria-current", "page")


async def test_demo_sign_in_opens_only_the_persons_own_pages(demo_server, db):
    async with httpx.AsyncClient(base_url=demo_server, timeout=10) as client:
        elsewhere = await client.post("/demo/sign-in", data={"user_id": "li", "next": "https://elsewhere.example/"})
    assert elsewhere.status_code == 400 and "roomlink_session" not in elsewhere.cookies
