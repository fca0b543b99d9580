"""Production logs (ROOMLINK_LOG_FORMAT=json): every line a server or worker writes is one JSON object, none
holds a secret (tokens, capability URLs, credentials), and a request's id follows it into its Zoom calls
and into the jobs it enqueues, and theirs."""

from __future__ import annotations

import json
import os
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from persistence.database import unit_of_work
from tests.support.servers import API_KEY_SECRET, ZOOM_APPS, free_port, log_file, running, worker
from tests.support.zoom import (
    KEY,
    activate_through,
    approve_in_zoom,
    as_member,
    authorize_personal,
    email,
    eventually,
    organization,
    path_of,
    signed_webhook,
    to_zoom,
)


@pytest.fixture(scope="module")
def json_stack(roomlink, roomlink_env):
    # No periodic verification: the test's own webhook demotes the admin while the sandbox still says admin,
    # and a verification (every second in roomlink_env, of every connection the suite left) would restore
    # the connection before the test sees it lost.
    env = {**roomlink_env, "ROOMLINK_LOG_FORMAT": "json", "ROOMLINK_DB_POOL_SIZE": "3", "ROOMLINK_VERIFY_INTERVAL_S": "0"}
    port = free_port()
    with running("server.app:create_app", env, port) as base_url, worker(env) as process:
        yield base_url, port, process


def json_lines(path) -> list[dict]:
    lines = path.read_text().splitlines()
    assert lines, f"{path} is empty"
    parsed = []
    for number, line in enumerate(lines, 1):
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"{path.name} line {number} is not JSON: {line[:200]}")
        assert isinstance(parsed[-1], dict) and {"time", "level", "logger", "message"} <= parsed[-1].keys()
    return parsed


async def test_every_log_line_is_json_without_a_secret_and_the_request_id_follows_into_zoom_and_jobs(
    json_stack, org, zoom_account, sandbox, outbox
):
    base_url, port, worker_process = json_stack
    seen_secrets = {API_KEY_SECRET, *ZOOM_APPS.values(), os.environ["ROOMLINK_TOKEN_KEYS"].split(":", 1)[1]}
    callback_id, webhook_id = f"logs-callback-{secrets.token_hex(4)}", f"logs-webhook-{secrets.token_hex(4)}"
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        await activate_through(client, org["org_id"], org["owner"], zoom_account["admin"]["email"])

        own = await sandbox.user(await sandbox.account("own"), email("own"), "owner")
        authorize_url = await authorize_personal(client, org["member"])
        seen_secrets.add(authorize_url.rsplit("/", 1)[1])
        callback = await approve_in_zoom(await to_zoom(client, authorize_url), own["email"])
        query = parse_qs(urlsplit(callback).query)
        seen_secrets |= {query["code"][0], query["state"][0]}
        answer = await client.get(path_of(callback), headers={"X-Request-Id": callback_id})
        assert answer.status_code in (200, 303) and answer.headers["x-request-id"] == callback_id

        launch = await client.post(f"/api/v1/orgs/{org['org_id']}/members/{org['member']}/launch", headers=KEY)
        seen_secrets.add(launch.json()["url"].rsplit("/", 1)[1])
        assert (await client.get(path_of(launch.json()["url"]))).status_code in (302, 303)
        members = await client.get(f"/api/v1/orgs/{org['org_id']}/integrations/zoom/members", headers=as_member(org["owner"]))
        assert members.status_code == 200
        nowhere = await client.get("/api/v1/orgs/nowhere/integrations/zoom/members", headers=KEY)
        assert nowhere.status_code in (400, 403, 404)

        body = json.dumps(
            {
                "event": "user.updated",
                "event_ts": 1,
                "payload": {
                    "account_id": zoom_account["id"],
                    "object": {"id": zoom_account["admin"]["id"], "role": "member"},
                    "old_object": {"id": zoom_account["admin"]["id"], "role": "admin"},
                },
            }
        ).encode()
        headers = {**signed_webhook(body, ZOOM_APPS["ZOOM_ADMIN_APP_WEBHOOK_SECRET"]), "X-Request-Id": webhook_id}
        assert (await client.post("/webhooks/zoom", content=body, headers=headers)).status_code == 200
        assert await eventually(lambda: _admin_lost(client, org))
        await outbox.wait_for(lambda m: m.to == f"{org['owner']}@acme.test" and "needs attention" in m.subject, timeout=20)

    async with unit_of_work(read_only=True) as uow:
        connections = [
            await uow.connections.organization(org["org_id"]),
            await uow.connections.personal(org["org_id"], org["member"]),
        ]
        for connection in connections:
            tokens = await uow.tokens.read(connection) if connection else None
            if tokens is not None:
                seen_secrets |= {tokens.access_token, tokens.refresh_token}
    assert len(seen_secrets) >= 12

    server_lines = json_lines(_server_log(port))
    worker_lines = await _worker_lines_with(worker_process, webhook_id, "send_email")
    for line in [*server_lines, *worker_lines]:
        text = json.dumps(line)
        leaked = [secret for secret in seen_secrets if secret in text]
        assert leaked == [], f"secret in log line {text[:300]}"

    zoom_calls = {line.get("zoom_operation") for line in server_lines if line.get("request_id") == callback_id}
    assert {"POST /oauth/token", "GET /users/me"} <= zoom_calls
    access = [e for e in server_lines if e["logger"] == "uvicorn.access" and e.get("request_id") == webhook_id]
    assert [(line["method"], line["path"], line["status"]) for line in access] == [("POST", "/webhooks/zoom", 200)]
    jobs = {line.get("job_kind") for line in worker_lines if line.get("request_id") == webhook_id}
    assert {"zoom_event", "notify_incident", "send_email"} <= jobs
    assert any("/activate/[redacted]" in line.get("path", "") for line in server_lines)


async def _admin_lost(client, org) -> bool:
    return (await organization(client, org))["status"] == "admin_lost"


def _server_log(port: int):
    return log_file(port)


async def _worker_lines_with(process, request: str, kind: str) -> list[dict]:
    """The worker writes a job's line when it ends: wait for it, then read every line."""

    async def written():
        lines = json_lines(process.log_path)
        return lines if any(e.get("request_id") == request and e.get("job_kind") == kind for e in lines) else None

    lines = await eventually(written, timeout=20)
    assert lines, f"no {kind} line for request {request} in {process.log_path}"
    return lines
