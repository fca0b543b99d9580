"""When two email addresses are the same person's: the one rule, used wherever Roomlink compares emails (R5 seats,
R13, bookings, who completed an activation) and kept in SQL as the `email_normalized` columns.

The standards: the domain is case-insensitive and, internationalized, compares in its ASCII form (IDNA:
`exämple.de` is `xn--exmple-cua.de`). The local part belongs to the receiving server (RFC 5321 §2.4); Zoom,
whose users Roomlink matches, treats addresses case-insensitively, so an ASCII local part is compared with
its ASCII letters lower-cased, and nothing else is folded. A non-ASCII local part (RFC 6531) is compared as
it is, and refused when Unicode compatibility normalisation (NFKC) would change it: it then holds a
lookalike of another character (the Kelvin sign K for K, fullwidth letters, ligatures), which
`str.lower()` turns into someone else's address.
"""

from __future__ import annotations

import re
import unicodedata

from domain.errors import InvalidInput

#: RFC 5321 §4.5.3.1: 64 octets of local part; a path of 256 octets, brackets included, leaves 254.
MAX_LOCAL_OCTETS = 64
MAX_ADDRESS_OCTETS = 254

# RFC 5322 dot-atom text (RFC 6531 adds any non-ASCII character): no quoted strings, no comments.
_ATOM_ASCII = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
_LDH_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


class NotAnEmail(InvalidInput):
    """What was given cannot be an email address."""


def normalized_email(address: str, field: str = "email") -> str:
    """The form two addresses of one mailbox share; raises NotAnEmail (naming `field`) for what cannot be one."""
    why = _refusal(address)
    if isinstance(why, str) and why.startswith("!"):
        raise NotAnEmail(f"`{field}` is not an email address: {why[1:]}.", errors={field: f"must be an email address: {why[1:]}"})
    return why


def email_key(address: str) -> str:
    """The key an address is matched on, for addresses Roomlink did not check itself (Zoom's, stored ones).
    One that cannot be an email keeps its own text: no address that passes `normalized_email` equals it
    (that form is its own normalisation), so it matches nobody but itself."""
    why = _refusal(address)
    return address.strip() if why.startswith("!") else why


def same_email(one: str, other: str) -> bool:
    return email_key(one) == email_key(other)


def _refusal(address: str) -> str:
    """The normalised address, or `!` and why it is none (one function, so both callers agree)."""
    address = address.strip()
    if any(unicodedata.category(character) in ("Cc", "Cf", "Zl", "Zp", "Zs") for character in address):
        return "!it holds spaces or control characters"
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return "!it needs a local part, an @ and a domain"
    if "@" in local:
        return "!it holds more than one @"
    normalized_local = _local(local)
    if normalized_local.startswith("!"):
        return normalized_local
    normalized_domain = _domain(domain)
    if normalized_domain.startswith("!"):
        return normalized_domain
    normalized = f"{normalized_local}@{normalized_domain}"
    if len(normalized.encode()) > MAX_ADDRESS_OCTETS:
        return f"!it is longer than {MAX_ADDRESS_OCTETS} octets"
    return normalized


def _local(local: str) -> str:
    if len(local.encode()) > MAX_LOCAL_OCTETS:
        return f"!its local part is longer than {MAX_LOCAL_OCTETS} octets"
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return "!its local part has a dot at an end or two in a row"
    if local.isascii():
        if not all(_ATOM_ASCII.fullmatch(atom) for atom in local.split(".")):
            return "!its local part holds a character an address cannot"
        return local.lower()
    if unicodedata.normalize("NFKC", local) != local:
        return "!its local part holds a compatibility character (a lookalike of another, such as the Kelvin sign)"
    if any(not character.isascii() and unicodedata.category(character)[0] in "CSZ" for character in local):
        return "!its local part holds a character an address cannot"
    if not all(_ATOM_ASCII.fullmatch(part) for part in re.split(r"[^\x00-\x7f]+", local.replace(".", "a")) if part):
        return "!its local part holds a character an address cannot"
    return local


def _domain(domain: str) -> str:
    domain = domain.removesuffix(".") if domain.count(".") > 1 else domain
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return "!its domain is not a valid domain name"
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LDH_LABEL.fullmatch(label) for label in labels):
        return "!its domain is not a valid domain name"
    return ascii_domain
