"""domain.ports.AuditTrail (`tx.audit`): R18's record of every change of a connection, kept with its transaction."""

from __future__ import annotations

from datetime import timedelta

from domain.model import ConnectionType
from domain.ports import AuditEvent
from tests.contract.conftest import (
    connected,
    new_connection,
    now,
    organization,
    ours,
    person,
)


async def test_r18_a_recorded_event_reads_back_as_it_was_recorded_in_order(backend):
    org = await organization(backend, person("ada"))
    ada = await connected(backend, new_connection(org, ConnectionType.PERSONAL, ours(org, "ada")))
    at = now()
    recorded = [
        AuditEvent(
            org_id=org,
            at=at,
            actor=f"user:{ours(org, 'ada')}",
            action="connected",
            connection_id=ada.id,
            connection_type=ConnectionType.PERSONAL,
            user_id=ours(org, "ada"),
            details={"zoom_email": ada.zoom_email, "affected_members": 1, "scopes": ["meeting:write"]},
        ),
        AuditEvent(org_id=org, at=at + timedelta(seconds=1), actor="zoom", action="admin_lost", reason="demoted"),
    ]
    async with backend.uow() as tx:
        for event in recorded:
            await tx.audit.record(event)
        await tx.commit()
    assert await backend.audit(org) == recorded


async def test_r18_an_event_recorded_in_a_transaction_that_does_not_commit_is_not_kept(backend):
    org = await organization(backend)
    async with backend.uow() as tx:
        await tx.audit.record(AuditEvent(org_id=org, at=now(), actor="system", action="disconnected"))
    assert await backend.audit(org) == []
