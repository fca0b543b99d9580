"""docs/api.md's examples run against the demo and answer as the guide says, so they cannot rot.

Each ```sh block of the guide is one of two kinds:
- a request: one `curl …` command followed by `# → STATUS {fields}`; the answer must have that status and
  every field shown (`"…"` matches any value, an object matches the same fields of the answer's);
- a setting: `export …` or `NAME=$(curl …)`; what it sets is passed on to the blocks after it.
A GET is asked again for a while until it matches, since some answers follow work done by a job.
The guide's Python signature check is run on a delivery signed with Standard Webhooks' own library.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
ANY = "…"
EXPECTED = re.compile(r"^# → (\d{3})(?: (.*))?$", re.MULTILINE)
ASSIGNMENT = re.compile(r"^(export [A-Z_]+=|[A-Z_]+=\$\()")
#: How long a GET may take to show what a job does after the request before it.
SETTLE_S = 30


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", GUIDE.read_text(), re.MULTILINE | re.DOTALL)


class Request:
    def __init__(self, block: str) -> None:
        found = EXPECTED.search(block)
        assert found, f"a curl example without its `# → status` answer:\n{block}"
        self.command = block[: found.start()].strip()
        self.status = int(found.group(1))
        self.fields = json.loads(found.group(2)) if found.group(2) else {}
        assert self.command.startswith("curl ") and self.command.count("curl ") == 1, self.command
        self.is_read = " -X " not in self.command

    def __repr__(self) -> str:
        return self.command.splitlines()[0]


def parse_guide() -> list[Request | str]:
    steps: list[Request | str] = []
    for block in blocks("sh"):
        steps.append(block if ASSIGNMENT.match(block) else Request(block))
    return steps


def matches(expected, actual) -> bool:
    if expected == ANY:
        return actual is not None
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and matches(v, actual[k]) for k, v in expected.items())
    return expected == actual


def test_the_guide_shows_an_answer_for_every_request_and_reads_as_the_test_does():
    steps = parse_guide()
    requests = [step for step in steps if isinstance(step, Request)]
    assert len(requests) >= 30, "the guide lost its examples"
    # Every journey the guide promises has its example.
    commands = "\n".join(request.command for request in requests)
    for path in ("/members/batch", "/activation-links", "/integrations/zoom/members", "/launch", "/api/v1/me/meetings",
                 "/sessions/", "/bookings/", "/event-endpoints/", "/redeliver", "/rotate-secret"):
        assert path in commands, path
    assert matches({"a": ANY, "b": {"c": 1}}, {"a": 2, "b": {"c": 1, "d": 3}, "e": 4})
    assert not matches({"a": ANY}, {"a": None}) and not matches({"b": {"c": 1}}, {"b": {"c": 2}})


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`roomlink demo` as a reader starts it, once its seeded meetings and sessions are in."""
    port = free_port()
    data = tmp_path_factory.mktemp("demo")
    log = (data / "demo.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "demo", "--port", str(port), "--data", str(data / "data")],
        stdout=log, stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    key = {"Authorization": "Bearer demo-api-key-not-for-production"}
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, (data / "demo.log").read_text()
        try:
            seeded = httpx.get(f"{base_url}/api/v1/orgs/northwind/sessions/pilates", headers=key, timeout=2)
            heard = httpx.get(f"{base_url}/api/v1/event-endpoints/demo-receiver/deliveries?status=delivered",
                              headers=key, timeout=2)
            if seeded.status_code == 200 and heard.status_code == 200 and heard.json()["items"]:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the demo did not seed within 120 s:\n" + (data / "demo.log").read_text()
        time.sleep(0.5)
    try:
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def run(command: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", command], env=env, capture_output=True, text=True,
                          timeout=60, **kwargs)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the guide's examples are curl commands; curl is not installed")
def test_every_example_answers_as_the_guide_says(demo, tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    body = tmp_path / "body"
    for step in parse_guide():
        if isinstance(step, str):
            # The guide's address is the demo's default; this demo listens where the test started it.
            settings = step.replace("http://127.0.0.1:8000", demo)
            done = run(f'set -a\n{settings}\nenv -0 > "$RL_ENV_OUT"', {**env, "RL_ENV_OUT": str(tmp_path / "env")})
            assert done.returncode == 0, f"{step}\n{done.stderr}"
            for entry in (tmp_path / "env").read_text().split("\0"):
                name, _, value = entry.partition("=")
                if name and name != "RL_ENV_OUT":
                    assert value or name not in ("LINK_ID", "MEETING_ID", "DELIVERY_ID"), f"{step} set {name} to nothing"
                    env[name] = value
            continue
        measured = step.command.replace("curl ", f"curl -s -o '{body}' -w '%{{http_code}}' ", 1)
        deadline = time.monotonic() + (SETTLE_S if step.is_read else 0)
        while True:
            done = run(measured, env)
            assert done.returncode == 0, f"{step}: curl failed: {done.stderr}"
            status, text = int(done.stdout), body.read_text() if body.exists() else ""
            answer = json.loads(text) if text.strip().startswith(("{", "[")) else None
            if status == step.status and (not step.fields or matches(step.fields, answer)):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"{step}\nanswered {status} {text[:2000]}\nthe guide says {step.status} {step.fields}")
            time.sleep(0.5)
        body.unlink(missing_ok=True)


def test_the_guides_signature_check_accepts_a_real_delivery_and_refuses_a_forged_one():
    from standardwebhooks.webhooks import Webhook

    namespace: dict = {}
    (source,) = blocks("python")
    exec(compile(source, str(GUIDE), "exec"), namespace)
    verify = namespace["verify"]
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"type":"member.connection.changed"}'
    signed_at = int(time.time())
    signature = Webhook(secret).sign("msg_1", datetime.fromtimestamp(signed_at, UTC), body)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(signed_at), "webhook-signature": signature}
    assert verify(secret, headers, body)
    assert verify(secret, {**headers, "webhook-signature": f"v1,forged {signature}"}, body)
    assert not verify(secret, headers, body + b" ")
    assert not verify(secret, {**headers, "webhook-id": "msg_2"}, body)
    assert not verify(secret, {**headers, "webhook-timestamp": str(signed_at - 3600)}, body)
