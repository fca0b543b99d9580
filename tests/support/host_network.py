"""Hosts of their own on one machine, for tests of a deployment past one host.

As root where `ip netns` works: each host is a network namespace joined to this one by a veth pair on a
bridge, with an address of its own on a /24 of 10.0.0.0/8 that no route of the machine uses; this namespace
(the "gateway": PgBouncer, the Zoom sandbox, the load balancer) holds the bridge's first address and a
second one for a client that is not the load balancer. A host reaches only what listens on the bridge:
PostgreSQL on 127.0.0.1 is out of its reach. Elsewhere, the hosts are loopback addresses (127.0.0.2, …)
and the gateway 127.0.0.1. Either way every address is the test's own and on this machine.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Host:
    name: str
    address: str
    #: What runs a command inside the host (["ip", "netns", "exec", NS]), or nothing on loopback addresses.
    prefix: list[str] = field(default_factory=list)


@dataclass
class Network:
    #: "netns" or "loopback": how the hosts are kept apart (a test says which it ran on).
    kind: str
    #: This namespace's address on the hosts' network: what they reach PgBouncer and the sandbox by.
    gateway: str
    #: The load balancer's own address toward the hosts (the one ROOMLINK_TRUSTED_PROXIES names).
    balancer: str
    #: Another address of this namespace, for a client that reaches a host without the load balancer.
    stranger: str
    hosts: list[Host]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def _unused_subnet() -> ipaddress.IPv4Network:
    routes = subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True).stdout
    used = []
    for line in routes.splitlines():
        word = line.split()[1] if line.startswith(("local", "broadcast")) else line.split()[0]
        try:
            used.append(ipaddress.ip_network(word if word != "default" else "0.0.0.0/32", strict=False))
        except ValueError:
            continue
    for n in range(os.getpid() % 200, os.getpid() % 200 + 200):
        candidate = ipaddress.ip_network(f"10.{200 + n % 50}.{n % 250}.0/24")
        if not any(candidate.overlaps(route) for route in used if route.prefixlen > 0):
            return candidate
    raise RuntimeError("no free 10.x /24 for the hosts' network")


@contextmanager
def hosts_network(count: int) -> Iterator[Network]:
    """`count` hosts of their own (network namespaces, else loopback addresses) until the block ends."""
    if os.geteuid() == 0 and shutil.which("ip"):
        try:
            with _namespaces(count) as network:
                yield network
                return
        except _NoNamespaces:
            pass
    yield Network(
        kind="loopback", gateway="127.0.0.1", balancer="127.0.0.1", stranger="127.0.0.254",
        hosts=[Host(f"host-{chr(97 + i)}", f"127.0.0.{i + 2}") for i in range(count)],
    )


class _NoNamespaces(Exception):
    pass


@contextmanager
def _namespaces(count: int) -> Iterator[Network]:
    tag = f"{os.getpid() % 100000}"
    bridge = f"rlbr{tag}"
    subnet = _unused_subnet()
    addresses = [str(address) for address in subnet.hosts()]
    namespaces: list[str] = []
    try:
        try:
            _ip("link", "add", bridge, "type", "bridge")
        except (subprocess.CalledProcessError, OSError) as error:
            raise _NoNamespaces() from error
        _ip("addr", "add", f"{addresses[0]}/24", "dev", bridge)
        _ip("addr", "add", f"{addresses[-1]}/24", "dev", bridge)
        _ip("link", "set", bridge, "up")
        hosts = []
        for i in range(count):
            letter = chr(97 + i)
            namespace, outside, inside = f"roomlink-{tag}-{letter}", f"rl{tag}{letter}0", f"rl{tag}{letter}1"
            try:
                _ip("netns", "add", namespace)
            except subprocess.CalledProcessError as error:
                raise _NoNamespaces() from error
            namespaces.append(namespace)
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            _ip("link", "set", inside, "netns", namespace)
            _ip("link", "set", outside, "master", bridge, "up")
            _ip("-n", namespace, "addr", "add", f"{addresses[i + 1]}/24", "dev", inside)
            _ip("-n", namespace, "link", "set", inside, "up")
            _ip("-n", namespace, "link", "set", "lo", "up")
            hosts.append(Host(f"host-{letter}", addresses[i + 1], ["ip", "netns", "exec", namespace]))
        yield Network(kind="netns", gateway=addresses[0], balancer=addresses[0], stranger=addresses[-1], hosts=hosts)
    finally:
        for namespace in namespaces:
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        subprocess.run(["ip", "link", "del", bridge], capture_output=True)
