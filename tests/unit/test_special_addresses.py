"""R24: events go to public unicast addresses only; every special-purpose range is refused (domain.addresses)."""

from __future__ import annotations

import ipaddress
import random

import pytest

from domain.addresses import IPV4_SPECIAL, IPV6_SPECIAL, address_refusal, embedded_ipv4, special_purpose

TABLE = [*IPV4_SPECIAL, *IPV6_SPECIAL]


@pytest.mark.parametrize(("network", "name"), TABLE, ids=[network for network, _ in TABLE])
def test_r24_every_address_of_a_special_purpose_range_is_refused(network, name):
    net = ipaddress.ip_network(network)
    inside = {net.network_address, net.broadcast_address, net.network_address + net.num_addresses // 2}
    for address in inside:
        assert address_refusal(str(address), allow_loopback=False) is not None, address


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("192.0.0.8", "IETF protocol assignments"),
        ("192.0.0.170", "IETF protocol assignments"),
        ("64:ff9b::a9fe:a9fe", "NAT64 (carrying 169.254.169.254)"),
        ("64:ff9b::808:808", "NAT64 (carrying 8.8.8.8)"),
        ("64:ff9b:1::a00:1", "local-use NAT64 (carrying 10.0.0.1)"),
        ("2002:7f00:1::1", "6to4 (carrying 127.0.0.1)"),
        ("2002:808:808::1", "6to4 (carrying 8.8.8.8)"),
        ("::a00:1", "IPv4-compatible (carrying 10.0.0.1)"),
        ("::ffff:10.0.0.1", "IPv4-mapped (carrying 10.0.0.1)"),
        ("::ffff:0:0", "IPv4-mapped (carrying 0.0.0.0)"),
        ("fec0::1", "site-local"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo (carrying 65.54.227.120)"),
        ("2001:db8::1", "documentation"),
        ("3fff::1", "documentation"),
        ("100::1", "discard-only"),
        ("5f00::1", "segment routing (SRv6) SIDs"),
        ("4000::1", "not global unicast"),
        ("2001:4860:0:1:0:5efe:a00:1", "carrying a private-use address (10.0.0.1)"),
        ("fe80::1%eth0", "link-local"),
        ("255.255.255.255", "limited broadcast"),
    ],
)
def test_r24_special_addresses_are_refused_with_what_they_are(address, why):
    assert address_refusal(address, allow_loopback=False) == why


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700::1111", "2001:4860:4860::8888", "2a00:1450::5efe:808:808"])
def test_r24_public_unicast_addresses_are_allowed(address):
    assert address_refusal(address, allow_loopback=False) is None


def test_r24_loopback_only_where_allowed_in_any_of_its_forms():
    for address in ("127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"):
        assert address_refusal(address, allow_loopback=False) is not None
        assert address_refusal(address, allow_loopback=True) is None
    for address in ("10.0.0.1", "64:ff9b::a00:1", "2002:a00:1::1", "192.0.0.8"):
        assert address_refusal(address, allow_loopback=True) is not None


def test_r24_the_table_refuses_all_that_python_does_not_call_global():
    """Python's view (the same registries) is a floor: nothing it calls non-global gets through."""
    rng = random.Random(24)
    for network, _ in TABLE:
        net = ipaddress.ip_network(network)
        for _ in range(20):
            address = net.network_address + rng.randrange(net.num_addresses)
            assert special_purpose(address) is not None, address
    for _ in range(20_000):
        address = ipaddress.IPv4Address(rng.getrandbits(32))
        if not address.is_global or address.is_multicast:
            assert address_refusal(str(address), allow_loopback=False) is not None, address


def test_embedded_ipv4_is_read_from_each_form():
    forms = {
        "::ffff:10.1.2.3": "10.1.2.3",
        "::a01:203": "10.1.2.3",
        "64:ff9b::a01:203": "10.1.2.3",
        "64:ff9b:1:0:0:0:a01:203": "10.1.2.3",
        "2002:a01:203::": "10.1.2.3",
        "2001:db8:0:1:200:5efe:a01:203": "10.1.2.3",
    }
    for address, inner in forms.items():
        assert embedded_ipv4(ipaddress.ip_address(address)) == ipaddress.IPv4Address(inner), address
    assert embedded_ipv4(ipaddress.ip_address("::1")) is None
    assert embedded_ipv4(ipaddress.ip_address("2606:4700::1111")) is None
