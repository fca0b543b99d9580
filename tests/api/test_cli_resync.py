"""`roomlink resync ORG`: the organization's Zoom admin checked and its seats resynced now, with progress."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.zoom import activated, members_by_id


def resync(org_id: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "resync", org_id],
        capture_output=True,
        text=True,
        env={**os.environ, **env, "ROOMLINK_DB_POOL_SIZE": "2"},
        timeout=120,
    )


async def test_r11_a_forced_resync_lists_zoom_users_with_progress_and_seats_a_new_zoom_user(
    api, org, zoom_account, sandbox, roomlink_env
):
    await activated(api, org, zoom_account)
    await sandbox.client.put("/sandbox/settings", json={"webhook_url": None})
    try:
        joined = await sandbox.user(zoom_account["id"], f"{org['owner']}@acme.test", "member")
        assert (await members_by_id(api, org))[org["owner"]]["reason"] == "no_seat"

        result = resync(org["org_id"], roomlink_env)
    finally:
        webhooks = f"{roomlink_env['ROOMLINK_BASE_URL']}/webhooks/zoom"
        await sandbox.client.put("/sandbox/settings", json={"webhook_url": webhooks})

    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1].startswith(f"resync {org['org_id']}: list Zoom users: 6/6 users 100%")
    assert lines[-1].endswith("seats synced; the organization connection is active")
    owner = (await members_by_id(api, org))[org["owner"]]
    assert (owner["connected"], owner["type"]) == (True, "organization"), joined


def test_a_resync_of_an_organization_without_a_connection_is_refused(roomlink_env):
    result = resync("no-such-org", roomlink_env)
    assert result.returncode == 1
    assert result.stderr.strip() == "roomlink: organization 'no-such-org' has no organization connection"
