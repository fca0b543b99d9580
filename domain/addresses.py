"""Where Roomlink may send a request of its own (events to the host product's endpoints, R24): public unicast
addresses only. Every range of IANA's special-purpose address registries is refused, with the ones those
registries dropped or never held but that still reach a private network (IPv4-compatible IPv6, site-local).

IPv6 forms that carry an IPv4 address (IPv4-mapped and -compatible, NAT64, 6to4, Teredo) are refused whole:
a translator or relay forwards them to the IPv4 address inside, which may be anything, and an endpoint on IPv4
has an A record of its own. An ISATAP interface identifier, which may follow any prefix, is refused when the
IPv4 address it carries is. Only loopback, inside or out, is allowed where loopback is (a development setting).
"""

from __future__ import annotations

import ipaddress
from typing import Final

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK: Final = "loopback"

#: IANA IPv4 Special-Purpose Address Registry (RFC 6890 and its updates), multicast, and the limited broadcast.
IPV4_SPECIAL: Final[tuple[tuple[str, str], ...]] = (
    ("0.0.0.0/8", "this network"),
    ("10.0.0.0/8", "private-use"),
    ("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
    ("127.0.0.0/8", LOOPBACK),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private-use"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation"),
    ("192.31.196.0/24", "AS112"),
    ("192.52.193.0/24", "AMT"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("192.168.0.0/16", "private-use"),
    ("192.175.48.0/24", "AS112 direct delegation"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("255.255.255.255/32", "limited broadcast"),
)

#: IANA IPv6 Special-Purpose Address Registry, with the deprecated ranges that still reach private networks,
#: multicast, and all that is not global unicast (outside 2000::/3: every range above but these is inside it).
IPV6_SPECIAL: Final[tuple[tuple[str, str], ...]] = (
    ("::1/128", LOOPBACK),
    ("::/128", "unspecified"),
    ("::ffff:0:0/96", "IPv4-mapped"),
    ("::/96", "IPv4-compatible"),
    ("64:ff9b::/96", "NAT64"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("100:0:0:1::/64", "dummy prefix"),
    ("2001::/32", "Teredo"),
    ("2001::/23", "IETF protocol assignments"),
    ("2001:db8::/32", "documentation"),
    ("2002::/16", "6to4"),
    ("2620:4f:8000::/48", "AS112 direct delegation"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing (SRv6) SIDs"),
    ("fc00::/7", "unique local"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
)

_GLOBAL_UNICAST: Final = ipaddress.IPv6Network("2000::/3")
_IPV4: Final = tuple((ipaddress.IPv4Network(net), why) for net, why in IPV4_SPECIAL)
_IPV6: Final = tuple((ipaddress.IPv6Network(net), why) for net, why in IPV6_SPECIAL)


def special_purpose(address: Address) -> str | None:
    """What `address` is reserved for (a name from the tables), or None for an ordinary public address."""
    table = _IPV4 if isinstance(address, ipaddress.IPv4Address) else _IPV6
    # The narrowest range names it: Teredo before IETF protocol assignments.
    matches = sorted(((net, why) for net, why in table if address in net), key=lambda match: -match[0].prefixlen)
    if matches:
        return matches[0][1]
    if isinstance(address, ipaddress.IPv6Address) and address not in _GLOBAL_UNICAST:
        return "not global unicast"
    return None


_CARRYING_LAST_32_BITS: Final = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("::/96"),
)
#: ISATAP's interface identifiers (RFC 5214): any prefix, then 0000:5efe or 0200:5efe and an IPv4 address.
_ISATAP_IDENTIFIERS: Final = (0x00005EFE, 0x02005EFE)


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries: IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo (the server), ISATAP."""
    if isinstance(address, ipaddress.IPv4Address) or address in (ipaddress.IPv6Address("::"), ipaddress.IPv6Address("::1")):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[0]
    bits = int(address)
    if any(address in network for network in _CARRYING_LAST_32_BITS) or (bits >> 32) & 0xFFFFFFFF in _ISATAP_IDENTIFIERS:
        return ipaddress.IPv4Address(bits & 0xFFFFFFFF)
    return None


def address_refusal(address: str, *, allow_loopback: bool) -> str | None:
    """Why Roomlink must not connect to `address` (an IP address as a resolver gives it, maybe with a `%zone`),
    or None when it may."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    inner = embedded_ipv4(ip)
    if allow_loopback and (ip.is_loopback or (inner is not None and inner.is_loopback)):
        return None
    reason = special_purpose(ip)
    if reason is not None:
        return reason if inner is None else f"{reason} (carrying {inner})"
    inner_reason = special_purpose(inner) if inner is not None else None
    return f"carrying a {inner_reason} address ({inner})" if inner_reason is not None else None
