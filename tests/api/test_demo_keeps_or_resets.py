"""`roomlink demo` resets its data at every start and says so; `--keep` keeps it between runs and says so,
with the sandbox's Zoom kept in step (a kept connection still makes meetings)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.api.test_demo_stops import serving, wait_for
from tests.support.servers import free_port

KEY = {"Authorization": "Bearer demo-api-key-not-for-production"}


class Demo:
    def __init__(self, data: Path, *flags: str) -> None:
        self.port = free_port()
        self.log = data.parent / f"demo-{self.port}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "demo", "--port", str(self.port), "--data", str(data), *flags],
                stdout=out, stderr=subprocess.STDOUT,
            )
        self.url = f"http://127.0.0.1:{self.port}"
        wait_for(lambda: serving(f"{self.url}/readyz") or self.process.poll() is not None, 90, "the demo answered")
        assert self.process.poll() is None, self.log.read_text()

    def said(self) -> str:
        return next(line for line in self.log.read_text().splitlines() if line.startswith("Data: "))

    def put_organization(self, org_id: str) -> int:
        return httpx.put(f"{self.url}/api/v1/orgs/{org_id}", json={"name": "Acme"}, headers=KEY).status_code

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=20)


def test_the_demo_resets_unless_asked_to_keep_and_says_which(tmp_path):
    data = tmp_path / "demo"
    first = Demo(data, "--keep")
    try:
        assert "nothing kept yet" in first.said() and "--keep" in first.said()
        assert first.put_organization("acme") == 201
    finally:
        first.stop()

    kept = Demo(data, "--keep")
    try:
        assert kept.said().startswith("Data: kept from the last run")
        assert kept.put_organization("acme") == 200, "the organization made in the last run is still there"
        # Northwind's connections and the sandbox's Zoom were kept together: Li's seat still makes meetings.
        made = httpx.post(
            f"{kept.url}/api/v1/me/meetings",
            json={"topic": "Kept", "start_time": "2030-01-15T09:00:00Z", "duration_minutes": 30},
            headers={**KEY, "X-Roomlink-User": "li"}, timeout=30,
        )
        assert made.status_code == 201 and made.json()["status"] == "scheduled", made.text
    finally:
        kept.stop()

    reset = Demo(data)
    try:
        assert reset.said().startswith("Data: reset") and "--keep" in reset.said()
        assert reset.put_organization("acme") == 201, "a reset starts from the seed alone"
        members = httpx.get(f"{reset.url}/api/v1/orgs/northwind/integrations/zoom",
                            headers={**KEY, "X-Roomlink-User": "olivia"})
        assert members.json()["counts"]["total"] == 7
    finally:
        reset.stop()
