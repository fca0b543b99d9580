"""R7: which connection serves a member. The one place this rule is decided."""

from __future__ import annotations

from domain.model import ConnectionStatus, ConnectionType, EffectiveConnection, Reason

_ORGANIZATION_BROKEN_REASON = {
    ConnectionStatus.ADMIN_LOST: Reason.ORGANIZATION_ADMIN_LOST,
    ConnectionStatus.NEEDS_RECONNECT: Reason.ORGANIZATION_NEEDS_RECONNECT,
    ConnectionStatus.DEAUTHORIZED: Reason.ORGANIZATION_DEAUTHORIZED,
}


def effective_connection(
    *,
    personal: ConnectionStatus | None,
    organization: ConnectionStatus | None,
    has_seat: bool,
    removed_organization: bool,
    members_may_remove: bool,
) -> EffectiveConnection:
    """Personal first, even broken; then the organization's for a seated member who kept it."""
    if personal is not None:
        if personal is ConnectionStatus.ACTIVE:
            return EffectiveConnection(connected=True, type=ConnectionType.PERSONAL, reason=None)
        return _not_connected(Reason.PERSONAL_NEEDS_RECONNECT, ConnectionType.PERSONAL)
    if organization is None:
        return _not_connected(Reason.ORGANIZATION_NOT_CONNECTED)
    if removed_organization and members_may_remove:
        return _not_connected(Reason.ORGANIZATION_REMOVED)
    if not has_seat:
        return _not_connected(Reason.NO_SEAT)
    if organization is not ConnectionStatus.ACTIVE:
        return _not_connected(_ORGANIZATION_BROKEN_REASON[organization], ConnectionType.ORGANIZATION)
    return EffectiveConnection(connected=True, type=ConnectionType.ORGANIZATION, reason=None)


def _not_connected(reason: Reason, type_: ConnectionType | None = None) -> EffectiveConnection:
    return EffectiveConnection(connected=False, type=type_, reason=reason)
