"""Roomlink past one host, on this machine and without containers: the topology of ops/compose.yaml.

- PostgreSQL (the test run's server), reached through a TCP relay the tests can cut: "PostgreSQL" for every
  process below is the relay, so cutting it is PostgreSQL becoming unreachable, without touching the server
  the machine shares;
- PgBouncer in transaction mode in front of it, for the app hosts only (tests/support/pgbouncer.py);
- `roomlink migrate` once, connected directly, then two app hosts, each `roomlink serve --no-migrate` in
  its own process group and its own network namespace with an address of its own (tests/support/
  host_network.py; loopback addresses where namespaces cannot be made), reaching the database only through
  PgBouncer;
- two `roomlink worker` processes, connected directly, each kept running by a supervisor as systemd or
  compose's restart policy would (a worker that loses PostgreSQL exits, and is started again);
- the Zoom sandbox, reachable from the hosts, sending its webhooks through the load balancer;
- a small load balancer in front of the hosts (tests/support/balancer.py) that sets X-Forwarded-For, whose
  address is the hosts' ROOMLINK_TRUSTED_PROXIES.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.support.balancer import Balancer
from tests.support.database import create_scratch_database, drop_scratch_database, server_url
from tests.support.host_network import Host, Network, hosts_network
from tests.support.pgbouncer import PgBouncer, pgbouncer, pgbouncer_binary
from tests.support.servers import API_KEY, ZOOM_APPS, free_port, log_file, running, stop
from tests.support.tcp_proxy import TcpProxy, database_behind_proxy

ROOT = Path(__file__).resolve().parents[2]
METRICS_TOKEN = "deploy-metrics-token-0123456789"
#: Failed attempts per client address per minute, per process: low, so the tests can see whose they are.
FAILED_ATTEMPTS_PER_MINUTE = 6


class AppHost:
    """`roomlink serve` on one host, in a process group of its own; started again after a stop."""

    def __init__(self, host: Host, env: dict[str, str]) -> None:
        self.name = host.name
        self.host = host
        self.port = free_port()
        self.url = f"http://{host.address}:{self.port}"
        self.env = env
        self.process: subprocess.Popen | None = None
        self.log_path = log_file(self.port).with_name(f"{host.name}-{os.getpid()}-{self.port}.log")

    def start(self) -> None:
        command = [sys.executable, "-m", "server.cli", "serve", "--no-migrate", "--workers", "1",
                   "--host", self.host.address, "--port", str(self.port)]
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [*self.host.prefix, *command], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def ready(self, timeout: float = 30) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with httpx.AsyncClient(timeout=1) as client:
            while loop.time() < deadline:
                assert self.process is not None and self.process.poll() is None, self.tail()
                try:
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"{self.name} was not ready in {timeout} s: {self.tail()}")

    def signal(self, number: int) -> None:
        assert self.process is not None
        try:
            os.killpg(self.process.pid, number)
        except ProcessLookupError:
            pass

    async def stopped(self, timeout: float = 15) -> int:
        """SIGTERM to its process group, as an orchestrator stops a host; its exit code."""
        assert self.process is not None
        self.signal(signal.SIGTERM)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.process.poll() is None:
            if loop.time() > deadline:
                self.signal(signal.SIGKILL)
                raise AssertionError(f"{self.name} did not stop within {timeout} s of SIGTERM")
            await asyncio.sleep(0.05)
        return self.process.returncode

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.signal(signal.SIGKILL)
            self.process.wait()

    def tail(self) -> str:
        return self.log_path.read_text()[-3000:] if self.log_path.exists() else ""


class SupervisedWorker:
    """`roomlink worker` under a supervisor: started again a second after it exits, until the block ends."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.restarts = 0
        self.log_path = log_file(0).with_name(f"worker-{os.getpid()}-{free_port()}.log")
        self._process: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._supervise, daemon=True)

    def __enter__(self) -> SupervisedWorker:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        if self._process is not None:
            self._process.terminate()
        self._thread.join(timeout=30)

    def _supervise(self) -> None:
        with self.log_path.open("a") as log:
            while not self._stopping.is_set():
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "server.cli", "worker"], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
                )
                if self._stopping.is_set():
                    break
                self._process.wait()
                if self._stopping.wait(1):
                    break
                self.restarts += 1
            if self._process is not None:
                stop(self._process)


@dataclass
class Topology:
    network: Network
    database_url: str
    relay: TcpProxy
    bouncer: PgBouncer
    sandbox_url: str
    hosts: list[AppHost]
    balancer: Balancer
    workers: list[SupervisedWorker]

    def host(self, name: str) -> AppHost:
        return next(host for host in self.hosts if host.name == name)


def _set_on_the_database(url: str) -> None:
    """What Roomlink's connections ask for at start, which PgBouncer cannot carry: set on the database."""

    async def alter() -> None:
        connection = await asyncpg.connect(url)
        try:
            name = await connection.fetchval("SELECT current_database()")
            for setting, value in (("statement_timeout", "30s"), ("idle_in_transaction_session_timeout", "60s"), ("jit", "off")):
                await connection.execute(f'ALTER DATABASE "{name}" SET {setting} = \'{value}\'')
        finally:
            await connection.close()

    asyncio.run(alter())


@pytest.fixture(scope="package")
def topology(outbox) -> Iterator[Topology]:
    if pgbouncer_binary() is None:
        pytest.skip("PgBouncer is not installed (apt-get install pgbouncer): the topology past one host needs it")
    server = server_url()
    scratch = create_scratch_database(server)
    try:
        _set_on_the_database(scratch)
        with database_behind_proxy(scratch) as (direct_url, relay), hosts_network(2) as network, pgbouncer(
            ("127.0.0.1", relay.port), [network.gateway]
        ) as bouncer:
            yield from _stack(network, direct_url, relay, bouncer, outbox)
    finally:
        drop_scratch_database(server, scratch)


def _stack(network: Network, direct_url: str, relay: TcpProxy, bouncer: PgBouncer, outbox) -> Iterator[Topology]:
    database = direct_url.rsplit("/", 1)[1].split("?")[0]
    subprocess.run(
        [sys.executable, "-m", "server.cli", "migrate"], env={**os.environ, "DATABASE_URL": direct_url}, cwd=ROOT,
        check=True, capture_output=True, timeout=120,
    )
    balancer = Balancer({}, local_address=network.balancer)
    mail_relay = TcpProxy(("127.0.0.1", outbox.port), host=network.gateway)
    sandbox_env = {
        **ZOOM_APPS,
        "ROOMLINK_BASE_URL": balancer.url,
        "ZOOM_SANDBOX_AUTO_APPROVE": "1",
        "ZOOM_SANDBOX_WEBHOOK_URL": f"{balancer.url}/webhooks/zoom",
    }
    with running("server.zoom_sandbox.app:create_sandbox_app", sandbox_env, free_port(), "/sandbox/settings",
                 host=network.gateway) as sandbox_url:
        common = {
            **os.environ,
            **ZOOM_APPS,
            "ROOMLINK_API_KEYS": API_KEY,
            "ROOMLINK_BASE_URL": balancer.url,
            "ZOOM_OAUTH_BASE_URL": sandbox_url,
            "ZOOM_API_BASE_URL": f"{sandbox_url}/v2",
            "ROOMLINK_ZOOM_TIMEOUT_S": "2",
            "ROOMLINK_VERIFY_INTERVAL_S": "0",
            "ROOMLINK_DB_ACQUIRE_TIMEOUT_S": "30",
            "ROOMLINK_LOG_FORMAT": "json",
        }
        host_env = {
            **common,
            "DATABASE_URL": bouncer.url(network.gateway, database),
            "PICCOLO_CONF": "tests.deploy.pooled_piccolo_conf",
            "SMTP_URL": f"smtp://{network.gateway}:{mail_relay.port}",
            "ROOMLINK_TRUSTED_PROXIES": network.balancer,
            "ROOMLINK_FAILED_ATTEMPTS_PER_MINUTE": str(FAILED_ATTEMPTS_PER_MINUTE),
            "ROOMLINK_METRICS_TOKEN": METRICS_TOKEN,
        }
        hosts = [AppHost(host, host_env) for host in network.hosts]
        try:
            for host in hosts:
                host.start()

            async def all_ready() -> None:
                await asyncio.gather(*(host.ready() for host in hosts))

            asyncio.run(all_ready())
            balancer.upstreams.update({host.name: host.url for host in hosts})
            worker_env = {**common, "DATABASE_URL": direct_url, "SMTP_URL": outbox.url}
            with SupervisedWorker(worker_env) as one, SupervisedWorker(worker_env) as two, balancer:
                yield Topology(network, direct_url, relay, bouncer, sandbox_url, hosts, balancer, [one, two])
        finally:
            for host in hosts:
                host.kill()
            mail_relay.cut()
