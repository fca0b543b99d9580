"""A host product's event endpoint for tests: a real HTTP server that records what it gets.

Its signature check is written here from the Standard Webhooks specification with hmac and
base64, independently of the `standardwebhooks` package Roomlink signs with.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    #: time.monotonic() when it arrived.
    at: float = field(default_factory=time.monotonic)

    @property
    def event(self) -> dict:
        return json.loads(self.body)


def verifies(received: Received, secret: str) -> bool:
    """`webhook-signature` holds `v1,<base64 HMAC-SHA256 of id.timestamp.body>` under the decoded `whsec_` secret."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{received.headers['webhook-id']}.{received.headers['webhook-timestamp']}.".encode() + received.body
    expected = hmac.new(key, signed, hashlib.sha256).digest()
    offered = [part.split(",", 1) for part in received.headers["webhook-signature"].split(" ")]
    return any(version == "v1" and hmac.compare_digest(base64.b64decode(sig), expected) for version, sig in offered)


@dataclass
class Receiver:
    """`status` is what it answers (200 up, 503 down, 410 gone); `hold` makes it keep requests waiting;
    `delay_s` makes it answer each request that late (a slow endpoint)."""

    status: int = 200
    delay_s: float = 0.0
    hold: threading.Event = field(default_factory=threading.Event)
    holding: threading.Event = field(default_factory=threading.Event)
    received: list[Received] = field(default_factory=list)
    #: Every request, answered or not, 2xx or not.
    attempts: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def events(self) -> list[dict]:
        with self.lock:
            return [r.event for r in self.received]

    async def wait_for(self, check, timeout: float = 30.0):
        """Polls `check(received)` until it returns something truthy."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                result = check(list(self.received))
            if result:
                return result
            await asyncio.sleep(0.05)
        with self.lock:
            raise AssertionError(f"not received in {timeout} s; got {[(r.event['type'], r.event['data']) for r in self.received]}")


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real endpoint would

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            got = Received(headers={k.lower(): v for k, v in self.headers.items()}, body=body)
            with receiver.lock:
                receiver.attempts.append(got)
            if receiver.hold.is_set():
                receiver.holding.set()
                while receiver.hold.is_set():
                    time.sleep(0.05)
                self.close_connection = True
                return
            if receiver.delay_s:
                receiver.holding.set()
                time.sleep(receiver.delay_s)
            status = receiver.status
            if 200 <= status < 300:
                with receiver.lock:
                    receiver.received.append(got)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    class Server(ThreadingHTTPServer):
        # The socketserver default backlog of 5 resets connections when a hundred deliveries arrive at once.
        request_queue_size = 256

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/roomlink-events"
    return receiver, server
