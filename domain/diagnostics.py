"""Diagnostics: every check a pass/fail line with what fixes it (docs/api.md), for the organization and for a member.

The facts are read in a short read-only unit of work first; Zoom is asked after, outside it.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.access import Principal, require_manager
from domain.budget import DAILY_LIMIT, budget_day, next_reset
from domain.errors import (
    ConnectionBroken,
    MemberNotConnected,
    NotConnected,
    ZoomNotReached,
    ZoomRefused,
)
from domain.meeting_hosts import effective_host
from domain.meeting_model import MeetingHost
from domain.meeting_ports import MeetingsZoom, ZoomMeetingError
from domain.model import Connection, ConnectionStatus, ConnectionType
from domain.pmi import PMI_PASSCODE_SETTING, PMI_SETTING
from domain.ports import UnitOfWorkFactory
from domain.zoom import ConnectedZoom

#: What Roomlink's meeting features ask of each app's grant.
NEEDED_SCOPES = {
    ConnectionType.ORGANIZATION: ("meeting:read:admin", "meeting:write:admin", "user:read:admin"),
    ConnectionType.PERSONAL: ("meeting:read", "meeting:write", "user:read"),
}


class Check(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    ok: bool
    detail: str
    #: What to do when it fails; None when it passes.
    fix: str | None = None


class Diagnostics(msgspec.Struct, frozen=True, kw_only=True):
    checks: list[Check]


async def organization_diagnostics(
    uow: UnitOfWorkFactory, zoom: ConnectedZoom, principal: Principal, org_id: str, now: datetime
) -> Diagnostics:
    require_manager(principal, org_id)
    async with uow() as tx:
        connection = await tx.connections.organization(org_id)
        if connection is None:
            return Diagnostics(checks=[_not_connected_organization()])
        tokens = await tx.tokens.read(connection)
        counts = await tx.members_table.counts(org_id)
        used = await tx.meeting_budget.used(org_id, budget_day(now))
    checks = [_connection_check(connection), await _tokens_check(zoom, connection, want_admin=True)]
    checks.append(_scopes_check(connection, tokens.scope if tokens else ""))
    total = counts.organization + counts.personal + counts.not_connected
    checks.append(
        Check(
            name="seats_found",
            ok=counts.organization > 0 or total == 0,
            detail=f"{counts.organization} of {total} members are served through a seat in the organization's Zoom account.",
            fix=None if counts.organization > 0 or total == 0 else
            "Add Zoom users to the Zoom account with the same emails as your members (active users only).",
        )
    )
    checks.append(_budget_check(used, now))
    return Diagnostics(checks=checks)


async def my_diagnostics(
    uow: UnitOfWorkFactory, zoom: ConnectedZoom, meetings_zoom: MeetingsZoom, principal: Principal, now: datetime
) -> Diagnostics:
    """The caller's effective connection, checked as its meetings will use it, plus their PMI settings."""
    async with uow() as tx:
        try:
            host = await effective_host(tx, principal)
        except MemberNotConnected as refused:
            return Diagnostics(
                checks=[Check(name="connected", ok=False, detail=refused.detail, fix=_reconnect_fix(refused.reason))]
            )
        tokens = await tx.tokens.read(host.connection)
        used = await tx.meeting_budget.used(principal.org_id, budget_day(now))
    checks = [
        Check(
            name="connected",
            ok=True,
            detail=f"Your meetings are made through the {host.connection.type.value} connection, as {host.zoom_user_email}.",
        ),
        await _tokens_check(zoom, host.connection, want_admin=host.connection.type is ConnectionType.ORGANIZATION),
        _scopes_check(host.connection, tokens.scope if tokens else ""),
        await _pmi_check(meetings_zoom, host),
        _budget_check({host.zoom_user_id: used.get(host.zoom_user_id, 0)}, now),
    ]
    return Diagnostics(checks=checks)


def _not_connected_organization() -> Check:
    return Check(
        name="organization_connected",
        ok=False,
        detail="The organization has not connected Zoom.",
        fix="Create an activation link and have a Zoom admin of your account approve it.",
    )


def _connection_check(connection: Connection) -> Check:
    if connection.status is ConnectionStatus.ACTIVE:
        return Check(name="organization_connected", ok=True, detail=f"Connected by {connection.zoom_email}.")
    return Check(
        name="organization_connected",
        ok=False,
        detail=f"The connection is {connection.status.value}: {connection.status_reason or ''}".strip(),
        fix="Reconnect: create an activation link and have an active Zoom admin approve it.",
    )


async def _tokens_check(zoom: ConnectedZoom, connection: Connection, *, want_admin: bool) -> Check:
    try:
        profile = await zoom.me(connection)
    except (ConnectionBroken, NotConnected, ZoomRefused):
        return Check(
            name="tokens_valid",
            ok=False,
            detail="Zoom no longer accepts this connection's tokens.",
            fix="Reconnect Zoom." if connection.type is ConnectionType.PERSONAL else "Reconnect with a new activation link.",
        )
    except ZoomNotReached as unreachable:
        return Check(name="tokens_valid", ok=False, detail=str(unreachable), fix="Try again in a moment.")
    tokens = Check(name="tokens_valid", ok=True, detail=f"Zoom accepts the tokens; they act as {profile.email}.")
    if not want_admin:
        return tokens
    if profile.is_account_admin:
        admin = Check(name="zoom_admin_active", ok=True, detail=f"{profile.email} is an active owner or admin of the Zoom account.")
    else:
        admin = Check(
            name="zoom_admin_active",
            ok=False,
            detail=f"{profile.email} is no longer an active owner or admin of the Zoom account.",
            fix="Reconnect with an activation link approved by a current Zoom owner or admin.",
        )
    return Check(name="tokens_valid", ok=True, detail=f"{tokens.detail} {admin.detail}") if admin.ok else admin


def _scopes_check(connection: Connection, granted: str) -> Check:
    missing = [scope for scope in NEEDED_SCOPES[connection.type] if scope not in granted.split()]
    if not missing:
        return Check(name="scopes_sufficient", ok=True, detail="The grant holds every permission meetings need.")
    return Check(
        name="scopes_sufficient",
        ok=False,
        detail=f"The grant lacks {', '.join(missing)}.",
        fix="Reconnect Zoom and approve every permission Roomlink asks for.",
    )


async def _pmi_check(meetings_zoom: MeetingsZoom, host: MeetingHost) -> Check:
    try:
        pmi = await meetings_zoom.host_pmi(host, fresh=True)
    except (ZoomMeetingError, ZoomNotReached, ConnectionBroken) as failed:
        return Check(name="pmi_settings", ok=False, detail=f"Zoom's PMI settings could not be read ({failed}).", fix="Try again in a moment.")
    if not pmi.use_pmi_for_scheduled_meetings:
        return Check(name="pmi_settings", ok=True, detail="Meetings get ids of their own, not your Personal Meeting ID.")
    settings = f'"{PMI_SETTING}"' + (f' and "{PMI_PASSCODE_SETTING}"' if pmi.pmi_passcode_required else "")
    return Check(
        name="pmi_settings",
        ok=False,
        detail=f'"{PMI_SETTING}" is on: Zoom may put meetings in your Personal Meeting ID room, all sharing one passcode.',
        fix=f"In Zoom's settings (Meetings → Schedule Meeting), turn off {settings}; if it is locked, your Zoom admin must unlock it.",
    )


def _budget_check(used: dict[str, int], now: datetime) -> Check:
    busiest = sorted(used.items(), key=lambda item: -item[1])
    spent = [zoom_user for zoom_user, count in busiest if count >= DAILY_LIMIT]
    shown = ", ".join(f"{zoom_user}: {count}/{DAILY_LIMIT}" for zoom_user, count in busiest[:10]) or "none used"
    detail = f"Meeting creates and updates used today (UTC), per host: {shown}."
    if not spent:
        return Check(name="daily_meeting_budget", ok=True, detail=detail)
    return Check(
        name="daily_meeting_budget",
        ok=False,
        detail=detail,
        fix=f"{len(spent)} host(s) used Zoom's {DAILY_LIMIT} for today; their meetings wait until "
        f"{next_reset(now).strftime('%Y-%m-%d %H:%M')} UTC and are made then.",
    )


def _reconnect_fix(reason: str) -> str:
    fixes = {
        "personal_needs_reconnect": "Reconnect your personal Zoom.",
        "organization_not_connected": "Connect your own Zoom, or ask an owner or admin to connect the organization's.",
        "organization_removed": "Restore the organization's Zoom for yourself, or connect your own.",
        "no_seat": "Ask your Zoom admin to add a Zoom user with your email, or connect your own Zoom.",
    }
    return fixes.get(reason, "Ask an owner or admin to reconnect the organization's Zoom, or connect your own.")

