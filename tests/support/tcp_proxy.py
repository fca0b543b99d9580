"""A TCP relay a test can cut, so a server process loses its database as if PostgreSQL went down, and heal,
as if it came back."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


class TcpProxy:
    """Listens on `host` (127.0.0.1) and relays to `target`: (host, port), or a Unix socket path."""

    def __init__(self, target: tuple[str, int] | str, host: str = "127.0.0.1") -> None:
        self._target = target
        self._host = host
        self._listener = socket.create_server((host, 0))
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._cut = False
        self._port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    @property
    def port(self) -> int:
        return self._port

    def cut(self) -> None:
        """Every relayed connection is reset and no new one is taken: the database is gone."""
        with self._lock:
            self._cut = True
            self._listener.close()
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._sockets.clear()

    def heal(self) -> None:
        """After `cut()`: connections are taken again, on the same port (PostgreSQL is back)."""
        with self._lock:
            if not self._cut:
                return
            self._listener = socket.create_server((self._host, self._port))
            self._cut = False
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = _connect(self._target)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._cut:
                    client.close()
                    upstream.close()
                    return
                self._sockets += [client, upstream]
            threading.Thread(target=_pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()


def _connect(target: tuple[str, int] | str) -> socket.socket:
    if isinstance(target, tuple):
        return socket.create_connection(target)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(target)
    return sock


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@contextmanager
def database_behind_proxy(url: str) -> Iterator[tuple[str, TcpProxy]]:
    """(the same database's URL through a proxy, the proxy): PostgreSQL over TCP or a Unix socket."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    socket_dir = query.pop("host", None)
    port = parts.port or 5432
    target: tuple[str, int] | str = f"{socket_dir}/.s.PGSQL.{port}" if socket_dir else (parts.hostname or "127.0.0.1", port)
    proxy = TcpProxy(target)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{proxy.port}" if credentials else f"127.0.0.1:{proxy.port}"
    try:
        yield urlunsplit(parts._replace(netloc=netloc, query=urlencode(query))), proxy
    finally:
        proxy.cut()
