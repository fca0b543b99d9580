"""Building organizations, members and connections straight into the database for tests."""

from __future__ import annotations

import secrets
import uuid

from domain.model import Connection, ConnectionStatus, ConnectionType, Role, ZoomUser
from domain.ports import MemberInput
from persistence.database import unit_of_work
from server.clock import utcnow
from tests.support.sql import raw_sql


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def member(user_id: str, role: Role = Role.MEMBER, name: str | None = None, email: str | None = None) -> MemberInput:
    return MemberInput(
        user_id=user_id, email=email or f"{user_id}@example.test", name=name or f"Name {user_id}", role=role
    )


def connection(
    org_id: str,
    type_: ConnectionType,
    status: ConnectionStatus = ConnectionStatus.ACTIVE,
    user_id: str | None = None,
    zoom_account_id: str | None = None,
    zoom_user_id: str | None = None,
    zoom_email: str = "zoom@example.test",
) -> Connection:
    now = utcnow()
    return Connection(
        id=str(uuid.uuid4()),
        org_id=org_id,
        type=type_,
        user_id=user_id,
        zoom_account_id=zoom_account_id or unique("acct"),
        zoom_user_id=zoom_user_id or unique("zu"),
        zoom_email=zoom_email,
        status=status,
        status_reason=None if status is ConnectionStatus.ACTIVE else f"test: {status.value}",
        status_changed_at=now,
        connected_at=now,
    )


async def create_organization(org_id: str, members: list[MemberInput], name: str = "Test org") -> None:
    async with unit_of_work() as uow:
        await uow.organizations.save(org_id, name, utcnow())
        await uow.members.save_many(org_id, members, utcnow())
        await uow.commit()


async def add_connection(connection_: Connection, zoom_users: list[ZoomUser] | None = None) -> None:
    async with unit_of_work() as uow:
        await uow.connections.add(connection_)
        if zoom_users is not None:
            await uow.zoom_users.sync(connection_, zoom_users)
        await uow.commit()


async def expire_access_token(org_id: str) -> None:
    async with raw_sql() as sql:
        await sql.execute(
            "UPDATE connections SET access_token_expires_at = now() - interval '1 minute' "
            "WHERE org_id = $1 AND type = 'organization'",
            org_id,
        )


async def job_status(entrypoint: str, status: str) -> bool:
    async with raw_sql() as sql:
        return bool(await sql.fetchval(
            "SELECT count(*) FROM pgqueuer WHERE entrypoint = $1 AND status = $2", entrypoint, status
        ))
