"""R18: the audit event of a change to a connection."""

from __future__ import annotations

from datetime import datetime

from domain.model import Connection
from domain.ports import AuditEvent


def connection_event(
    connection: Connection,
    now: datetime,
    actor: str,
    action: str,
    reason: str | None,
    details: dict[str, object] | None = None,
) -> AuditEvent:
    return AuditEvent(
        org_id=connection.org_id,
        at=now,
        actor=actor,
        action=action,
        connection_id=connection.id,
        connection_type=connection.type,
        user_id=connection.user_id,
        reason=reason,
        details={"zoom_user_id": connection.zoom_user_id, "zoom_account_id": connection.zoom_account_id, **(details or {})},
    )
