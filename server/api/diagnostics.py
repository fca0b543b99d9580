"""Diagnostics (docs/api.md): every check a pass/fail line with its fix, for the organization and for the caller."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency, Provide

from domain import diagnostics
from domain.access import Principal
from persistence.database import unit_of_work
from server.api.meetings import provide_meetings_zoom
from server.api.openapi import ACTING_USER, MEMBER_SECURITY, OrgId
from server.auth import manager_guard, member_guard, provide_principal
from server.clock import utcnow
from server.tokens import TokenKeeper
from server.zoom_meetings import KeptZoom, ZoomMeetings


class _Diagnostics(Controller):
    path = "/api/v1"
    dependencies = {
        "principal": Provide(provide_principal, sync_to_thread=False),
        "meetings_zoom": Provide(provide_meetings_zoom, sync_to_thread=False),
    }
    parameters = {"acting_user": ACTING_USER}
    security = MEMBER_SECURITY
    tags = ["diagnostics"]


class OrganizationDiagnosticsController(_Diagnostics):
    #: One guard per controller: Litestar would run a controller's guard and a route's both.
    guards = [manager_guard]

    @get("/orgs/{org_id:str}/integrations/zoom/diagnostics", operation_id="DiagnoseOrganizationZoom")
    async def organization(
        self, org_id: OrgId, principal: NamedDependency[Principal], keeper: NamedDependency[TokenKeeper]
    ) -> diagnostics.Diagnostics:
        """Owners and admins: tokens, scopes, the Zoom admin, seats, and today's meeting budget per host."""
        return await diagnostics.organization_diagnostics(unit_of_work, KeptZoom(keeper), principal, org_id, utcnow())



class MyDiagnosticsController(_Diagnostics):
    guards = [member_guard]

    @get("/me/integrations/zoom/diagnostics", operation_id="DiagnoseMyZoom")
    async def mine(
        self,
        principal: NamedDependency[Principal],
        keeper: NamedDependency[TokenKeeper],
        meetings_zoom: NamedDependency[ZoomMeetings],
    ) -> diagnostics.Diagnostics:
        """The caller's effective connection as their meetings use it, their PMI settings, their budget today."""
        return await diagnostics.my_diagnostics(unit_of_work, KeptZoom(keeper), meetings_zoom, principal, utcnow())
