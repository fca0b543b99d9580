"""Each port's checks run against both of its implementations: the in-memory fake the unit tests use
(tests/unit/fakes.py) and PostgreSQL (persistence/). Where they disagree, PostgreSQL is the truth.

A check takes `backend`: the unit-of-work factory of one implementation, and what the check needs to look
at that the ports do not read back (the audit trail).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest

from domain.model import Connection, ConnectionStatus, ConnectionType, Role
from domain.ports import AuditEvent, MemberInput, UnitOfWorkFactory
from domain.zoom import TokenSet
from tests.support.builders import connection, unique
from tests.unit.fakes import FakeStore


class Backend(NamedTuple):
    name: str
    uow: UnitOfWorkFactory
    #: What the audit trail holds for an organization, oldest first (nothing reads it back but people).
    audit: Callable[[str], Awaitable[list[AuditEvent]]]


@pytest.fixture
def fake_store() -> FakeStore:
    return FakeStore()


@pytest.fixture(params=["fake", "postgres"])
def backend(request) -> Backend:
    if request.param == "fake":
        store = request.getfixturevalue("fake_store")

        async def fake_audit(org_id: str) -> list[AuditEvent]:
            return [event for event in store.audit if event.org_id == org_id]

        return Backend("fake", store.uow, fake_audit)
    database = request.getfixturevalue("db")
    return Backend("postgres", database.unit_of_work, _postgres_audit)


async def _postgres_audit(org_id: str) -> list[AuditEvent]:
    from persistence.database import connection

    async with connection() as db:
        records = await db.fetch("SELECT * FROM audit_events WHERE org_id = $1 ORDER BY id", org_id)
    return [
        AuditEvent(
            org_id=record["org_id"],
            at=record["at"],
            actor=record["actor"],
            action=record["action"],
            connection_id=str(record["connection_id"]) if record["connection_id"] else None,
            connection_type=ConnectionType(record["connection_type"]) if record["connection_type"] else None,
            user_id=record["user_id"],
            reason=record["reason"],
            details=json.loads(record["details"]),
        )
        for record in records
    ]


def now() -> datetime:
    """Whole microseconds, as PostgreSQL keeps them; near the real time, so that nothing a worker of another
    test purges as expired is ours."""
    return datetime.now(UTC)


def person(user_id: str, role: Role = Role.MEMBER, *, email: str | None = None, name: str | None = None) -> MemberInput:
    return MemberInput(user_id=user_id, email=email or f"{user_id}@example.test", name=name or f"Name {user_id}", role=role)


async def organization(backend: Backend, *people: MemberInput, at: datetime | None = None) -> str:
    """A new organization with these members (user ids made unique to it: `<org>-<given id>`); its id."""
    org_id = unique("org")
    async with backend.uow() as tx:
        await tx.organizations.save(org_id, "Contract org", at or now())
        if people:
            await tx.members.save_many(org_id, [own(org_id, p) for p in people], at or now())
        await tx.commit()
    return org_id


def own(org_id: str, given: MemberInput) -> MemberInput:
    """The member as the organization holds them: user id and email prefixed with its id (`ours`)."""
    return MemberInput(user_id=ours(org_id, given.user_id), email=ours(org_id, given.email), name=given.name, role=given.role)


def ours(org_id: str, given: str) -> str:
    return f"{org_id}-{given}"


def new_connection(
    org_id: str,
    type_: ConnectionType,
    user_id: str | None = None,
    *,
    zoom_account_id: str | None = None,
    zoom_user_id: str | None = None,
    status: ConnectionStatus = ConnectionStatus.ACTIVE,
) -> Connection:
    """tests.support.builders.connection, with a Zoom email of its own."""
    return connection(
        org_id, type_, status, user_id, zoom_account_id, zoom_user_id, zoom_email=f"{unique('zoom')}@example.test"
    )


async def connected(backend: Backend, connection: Connection, tokens: TokenSet | None = None) -> Connection:
    async with backend.uow() as tx:
        await tx.connections.add(connection)
        if tokens is not None:
            await tx.tokens.store(connection, tokens)
        await tx.commit()
    return connection


def token_set(serial: int = 1) -> TokenSet:
    return TokenSet(
        access_token=f"access-{serial}-{unique('a')}",
        refresh_token=f"refresh-{serial}-{unique('r')}",
        expires_at=now() + timedelta(hours=1),
        scope="meeting:write user:read",
    )
