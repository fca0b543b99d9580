"""A request's line and headers are bounded in size and in time by `roomlink serve`, over raw sockets: a
stranger cannot make a server process hold megabytes of unfinished headers or keep connections open by
sending its head a byte at a time."""

from __future__ import annotations

import os
import socket
import time

import psutil
import pytest

from tests.support.servers import API_KEY, serving

HEADER_TIMEOUT_S = 2


@pytest.fixture(scope="module")
def server(db, roomlink_env):
    env = {
        **os.environ, **roomlink_env, "ROOMLINK_API_KEYS": API_KEY,
        # The size bound as shipped; the time bound shortened so the test takes seconds, not tens of them.
        "ROOMLINK_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
    }
    env.pop("ROOMLINK_MAX_HEADER_BYTES", None)
    with serving(env) as (base_url, process):
        worker = psutil.Process(process.pid).children(recursive=True)
        yield int(base_url.rsplit(":", 1)[1]), (worker[0] if worker else psutil.Process(process.pid))


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
    return sock


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (b"" for a reset)."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return received


def send_quietly(sock: socket.socket, data: bytes) -> None:
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server closed on us: what is being tested


def test_headers_beyond_64_kib_are_431_and_the_connection_closed(server):
    port, _ = server
    # Unfinished: a header that never ends.
    with connect(port) as sock:
        send_quietly(sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000)
        received = answer(sock)
    assert received.startswith(b"HTTP/1.1 431 "), received[:100]
    assert b'"code":"headers_too_large"' in received
    # Complete, but 1 MB: refused too, never handed to the app.
    with connect(port) as sock:
        send_quietly(sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n")
        received = answer(sock)
    assert received == b"" or received.startswith(b"HTTP/1.1 431 "), received[:100]
    # Many small headers count together.
    with connect(port) as sock:
        many = b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 100) for n in range(1000))
        send_quietly(sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
        assert answer(sock).startswith(b"HTTP/1.1 431 ")
    # Headers just under the bound are answered as usual.
    with connect(port) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " + b"a" * 60_000 + b"\r\n\r\n")
        assert answer(sock).startswith(b"HTTP/1.1 200 ")


def test_unfinished_headers_cost_the_server_no_memory_to_speak_of(server):
    port, worker = server
    before = worker.memory_info().rss
    socks = [connect(port) for _ in range(5)]
    try:
        for sock in socks:
            send_quietly(sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        chunk = b"a" * 1_000_000
        for _ in range(10):  # up to 10 MB each, as far as the server lets it get
            for sock in socks:
                send_quietly(sock, chunk)
        grown = worker.memory_info().rss - before
        assert all(answer(sock).startswith(b"HTTP/1.1 431 ") for sock in socks)
    finally:
        for sock in socks:
            sock.close()
    assert grown < 20 * 1024 * 1024, grown


def test_a_head_sent_slowly_is_dropped_after_the_header_timeout(server):
    port, _ = server
    socks = [connect(port) for _ in range(30)]
    idle = connect(port)  # connected, sends nothing at all
    try:
        for sock in socks:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        open_ = list(socks)
        while open_ and time.monotonic() - started < HEADER_TIMEOUT_S + 5:
            for sock in list(open_):
                try:
                    sock.sendall(b"X")  # one byte of a header that never ends
                except OSError:
                    open_.remove(sock)
            time.sleep(0.25)
        assert open_ == [], f"{len(open_)} of {len(socks)} slow connections still open"
        assert time.monotonic() - started < HEADER_TIMEOUT_S + 3
        idle.settimeout(HEADER_TIMEOUT_S + 3)
        assert answer(idle).startswith(b"HTTP/1.1 408 ")
    finally:
        for sock in [*socks, idle]:
            sock.close()


def test_a_kept_alive_connection_serves_one_request_after_another(server):
    port, _ = server
    with connect(port) as sock:
        for _ in range(3):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            received = b""
            while b'"ok"' not in received:
                received += sock.recv(65536)
            assert received.startswith(b"HTTP/1.1 200 ")
            time.sleep(HEADER_TIMEOUT_S / 2 + 0.2)  # twice that in all: only a head's own time counts
