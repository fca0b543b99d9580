"""Northwind Clinics, the demo's organization: who is in it, and what the demo's seed gives each of them."""

from __future__ import annotations

import msgspec

DEMO_ORG = "northwind"


class DemoPerson(msgspec.Struct, frozen=True):
    user_id: str
    name: str
    role: str
    #: What the seed gives them: "personal", "personal_broken", "seat", "removed" or "none".
    state: str

    @property
    def email(self) -> str:
        return f"{self.user_id}@northwind.example"

    @property
    def personal_zoom_email(self) -> str:
        return f"{self.user_id}@personal.example"

    @property
    def in_northwind_zoom(self) -> bool:
        return self.state != "none"


PEOPLE = (
    DemoPerson("olivia", "Olivia Owner", "owner", "seat"),
    DemoPerson("arjun", "Arjun Admin", "admin", "seat"),
    DemoPerson("maria", "Maria Personal", "member", "personal"),
    DemoPerson("li", "Li Organization", "member", "seat"),
    DemoPerson("sam", "Sam Reconnect", "member", "personal_broken"),
    DemoPerson("noah", "Noah Noseat", "member", "none"),
    DemoPerson("emma", "Emma Removed", "member", "removed"),
)
