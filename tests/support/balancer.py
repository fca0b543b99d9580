"""A small HTTP load balancer in front of several Roomlink hosts, as a deployment past one host has.

What it does, as nginx or a cloud load balancer would:
- round robin over the hosts in service; it names the host that answered in `X-Upstream`;
- `X-Forwarded-For` is the client's address (replaced, never appended: a client cannot choose its own),
  `X-Forwarded-Proto` the scheme, `Host` kept;
- a host is in service while its `/readyz` answers 200 (asked every `check_interval_s`) and it is not
  drained: `drain(name)` takes it out for new requests while those it holds finish, `restore(name)` puts
  it back; when no host is ready (the database is down for all of them) every host not drained is tried,
  so the client hears the hosts' own answer (a cloud load balancer "fails open" the same way);
- a request whose connection to a host could not be opened was never sent, so it goes to the next host
  (any method); a request that was sent and got no answer is not sent again, and answers 502.

It runs on a thread of its own (its own event loop), so a test's blocking calls never stall it.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import Counter

import httpx
import uvicorn

from tests.support.servers import free_port

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
    "transfer-encoding", "upgrade", "content-length", "content-encoding", "x-forwarded-for", "x-forwarded-proto",
    "forwarded",
}


class Balancer:
    def __init__(self, upstreams: dict[str, str], local_address: str | None = None, check_interval_s: float = 0.2) -> None:
        self.upstreams = dict(upstreams)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._local_address = local_address
        self._check_interval_s = check_interval_s
        self._ready: set[str] = set()
        self._drained: set[str] = set()
        self._turn = itertools.count()
        #: Requests each host is answering now.
        self.in_flight: Counter[str] = Counter()
        #: Answers each host gave, and requests moved to another host because a connection could not be opened.
        self.answered: Counter[str] = Counter()
        self.moved = 0
        self._client: httpx.AsyncClient | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # The test's controls (from its own thread).

    def drain(self, name: str) -> None:
        self._drained.add(name)

    def restore(self, name: str) -> None:
        self._drained.discard(name)

    def in_service(self) -> list[str]:
        return [name for name in self.upstreams if name in self._ready and name not in self._drained]

    def __enter__(self) -> Balancer:
        config = uvicorn.Config(self, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="balancer", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not (self._server.started and self.in_service()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the load balancer found no host ready: {self.upstreams}")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=10)

    # The balancer itself (an ASGI application on its thread's loop).

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._forward(scope, receive, send)

    async def _lifespan(self, receive, send) -> None:
        checks = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                transport = httpx.AsyncHTTPTransport(local_address=self._local_address, retries=0)
                self._client = httpx.AsyncClient(
                    transport=transport, timeout=60, limits=httpx.Limits(max_connections=400, max_keepalive_connections=100)
                )
                checks = asyncio.create_task(self._check_forever())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if checks is not None:
                    checks.cancel()
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _check_forever(self) -> None:
        assert self._client is not None
        while True:
            for name, url in self.upstreams.items():
                try:
                    ready = (await self._client.get(f"{url}/readyz", timeout=3)).status_code == 200
                except httpx.HTTPError:
                    ready = False
                (self._ready.add if ready else self._ready.discard)(name)
            await asyncio.sleep(self._check_interval_s)

    def _next_hosts(self) -> list[str]:
        hosts = self.in_service() or [name for name in self.upstreams if name not in self._drained]
        if not hosts:
            return []
        start = next(self._turn) % len(hosts)
        return hosts[start:] + hosts[:start]

    async def _forward(self, scope, receive, send) -> None:
        assert self._client is not None
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"] if k.decode("latin-1").lower() not in HOP_BY_HOP]
        headers += [("x-forwarded-for", scope["client"][0]), ("x-forwarded-proto", scope.get("scheme", "http"))]
        target = scope["raw_path"].decode("latin-1") + (f"?{scope['query_string'].decode('latin-1')}" if scope["query_string"] else "")
        for name in self._next_hosts():
            self.in_flight[name] += 1
            try:
                response = await self._client.request(scope["method"], self.upstreams[name] + target, headers=headers, content=body)
            except httpx.ConnectError:
                self._ready.discard(name)  # until its /readyz says otherwise
                self.moved += 1
                continue
            except httpx.HTTPError as error:
                await _answer(send, 502, f"{name}: {type(error).__name__}".encode(), name)
                return
            finally:
                self.in_flight[name] -= 1
            self.answered[name] += 1
            out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.multi_items() if k.lower() not in HOP_BY_HOP]
            out += [(b"content-length", str(len(response.content)).encode()), (b"x-upstream", name.encode())]
            await send({"type": "http.response.start", "status": response.status_code, "headers": out})
            await send({"type": "http.response.body", "body": response.content})
            return
        await _answer(send, 503, b"no host in service", "")


async def _answer(send, status: int, text: bytes, name: str) -> None:
    await send({
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(text)).encode()), (b"x-upstream", name.encode())],
    })
    await send({"type": "http.response.body", "body": text})
