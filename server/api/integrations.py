"""The Zoom integration as owners, admins and members see it (member calls)."""

from __future__ import annotations

import csv
import functools
import io
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, QueryParameter
from litestar.response import Stream

from domain import activation_links, connecting, impact, integration, sessions
from domain.access import Principal
from domain.errors import InvalidInput
from domain.identifiers import TEXT_PATTERN, check_identifier
from domain.model import Connection, MemberRow, Policy
from domain.ports import MembersPage, MembersQuery
from persistence.database import unit_of_work
from server.api.bodies import (
    ActivationLinkIn,
    ActivationLinkOut,
    AuthorizeOut,
    DisconnectedOut,
    MembersPageOut,
    PendingActivationLinkOut,
    PendingActivationLinksOut,
    PolicyIn,
)
from server.api.cursors import decode_cursor, encode_cursor
from server.api.encoded_once import EncodedOnce
from server.api.meetings import provide_meetings_zoom
from server.api.openapi import (
    ACTING_USER,
    MEMBER_SECURITY,
    ActivationLinkId,
    OrgId,
    answers,
)
from server.auth import (
    OAUTH_START_PATH,
    manager_guard,
    member_guard,
    new_code_verifier,
    new_secret,
    provide_principal,
    session_token,
)
from server.clock import SystemClock, utcnow
from server.emails import EmailInvitations
from server.jobs import verify_organization
from server.mail import SmtpMailer
from server.tokens import TokenKeeper
from server.zoom_client import HttpZoom

MEMBER_TYPES = ("organization", "personal", "none")
#: The members table's filters, the same for a page and for the CSV export.
MemberTypeFilter = Annotated[
    Literal["organization", "personal", "none"] | None,
    QueryParameter(name="type", description="Only members whose effective connection is of this type."),
]
ConnectedFilter = Annotated[bool | None, QueryParameter(description="Only members connected (or not).")]
SearchFilter = Annotated[
    str | None,
    QueryParameter(
        max_length=200,
        pattern=TEXT_PATTERN,
        description="Words in a name or email, accents and case aside: three letters or more anywhere,"
        " shorter ones at the start of a word.",
    ),
]
MEMBER_SORTS = ("name", "-name")
#: The members table's order, the same for a page and for the CSV export.
MemberSort = Annotated[
    Literal["name", "-name"],
    QueryParameter(
        description="`name`: by name, A to Z (then by user id); `-name`: Z to A. Every filter and search"
        " sorts either way. A `cursor` is a position in its order: one from the other order is 400"
        " `invalid_cursor`.",
    ),
]
#: Rows read per page of a CSV export.
EXPORT_PAGE_SIZE = 1000


def _members_page(page: MembersPage, sort: str) -> MembersPageOut:
    return MembersPageOut(
        items=page.items, next_cursor=encode_cursor(page.next_after, sort) if page.next_after else None, total=page.total
    )


#: A first page the read cache answers again and again is encoded once.
_members_page_body = EncodedOnce(_members_page)


class ImpactOut(msgspec.Struct, frozen=True, kw_only=True):
    affected: impact.Impact | None


class OrganizationIntegrationController(Controller):
    path = "/api/v1/orgs/{org_id:str}/integrations/zoom"
    #: Every call here is the organization's owners' and admins' (R1); manager_guard also checks `org_id`.
    guards = [manager_guard]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}
    parameters = {"acting_user": ACTING_USER}
    security = MEMBER_SECURITY
    tags = ["organization integration"]

    @get("/", operation_id="GetOrganizationZoom", summary="The organization's Zoom connection and counts")
    async def get_integration(
        self, org_id: OrgId, principal: NamedDependency[Principal]
    ) -> integration.OrganizationIntegration:
        """Its status (`not_connected`, `active`, `admin_lost`, `needs_reconnect`, `deauthorized`) and why, the
        Zoom account and admin, the policy, and how many members are connected through it, personally, or not."""
        return await integration.organization_integration(unit_of_work, principal, org_id)

    @get(
        "/impact",
        operation_id="GetOrganizationZoomImpact",
        summary="Who and what the organization's broken or disconnected Zoom leaves without Zoom",
    )
    async def get_impact(self, org_id: OrgId, principal: NamedDependency[Principal]) -> ImpactOut:
        """`affected` is null while the organization's Zoom works (or was never connected): else how many members
        lost Zoom, how many keep their own, and the upcoming sessions and meetings affected, soonest first."""
        return ImpactOut(affected=await impact.organization_impact(unit_of_work, principal, org_id, utcnow()))

    @get(
        "/members",
        operation_id="ListZoomMembers",
        summary="Members, each connected or not and through which connection",
        responses=answers({400: ("invalid_cursor",)}),
    )
    async def list_members(
        self,
        org_id: OrgId,
        principal: NamedDependency[Principal],
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="Rows per page.")] = 50,
        cursor: Annotated[
            str | None, QueryParameter(description="`next_cursor` of the previous page, with the same `sort`.")
        ] = None,
        member_type: MemberTypeFilter = None,
        connected: ConnectedFilter = None,
        q: SearchFilter = None,
        sort: MemberSort = "name",
    ) -> Response[MembersPageOut]:
        query = members_query(org_id, member_type, connected, q, limit=limit, cursor=cursor, sort=sort)
        return _members_page_body(await integration.list_members(unit_of_work, principal, query), sort)

    @get(
        "/members/export",
        operation_id="ExportZoomMembers",
        media_type="text/csv",
        summary="The filtered members as CSV, streamed",
    )
    async def export_members(
        self,
        org_id: OrgId,
        principal: NamedDependency[Principal],
        member_type: MemberTypeFilter = None,
        connected: ConnectedFilter = None,
        q: SearchFilter = None,
        sort: MemberSort = "name",
    ) -> Stream:
        """The rows the same filters list, in the same order, as CSV, streamed a page at a time: an
        organization of any size never sits in memory, and no database connection is held between pages."""
        query = members_query(org_id, member_type, connected, q, limit=EXPORT_PAGE_SIZE, sort=sort)
        first = await integration.list_members(unit_of_work, principal, query)  # refusals answer before streaming

        async def pages() -> AsyncIterator[str]:
            page = first
            yield members_csv_header()
            while True:
                yield members_csv(page.items)
                if page.next_after is None:
                    return
                page = await integration.list_members(
                    unit_of_work, principal, msgspec.structs.replace(query, after=page.next_after)
                )

        return Stream(
            pages(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="zoom-members-{org_id}.csv"'},
        )

    @post(
        "/activation-links",
        operation_id="CreateActivationLink",
        status_code=201,
        summary="An activation link for a Zoom admin to connect the organization's Zoom",
    )
    async def create_activation_link(
        self,
        org_id: OrgId,
        data: JSONBody[ActivationLinkIn],
        principal: NamedDependency[Principal],
        state: State,
        mailer: NamedDependency[SmtpMailer | None],
    ) -> ActivationLinkOut:
        """The link works once, until `expires_at`; only an owner or admin of the Zoom account can complete it.
        With `zoom_admin_email` Roomlink emails it, and the link exists only if the email went out."""
        settings = state.settings
        token = new_secret()
        url = f"{settings.base_url}/activate/{token}"
        link = await connecting.create_activation_link(
            unit_of_work,
            EmailInvitations(mailer) if mailer else None,
            principal,
            org_id,
            token,
            url,
            data.zoom_admin_email,
            utcnow(),
            timedelta(seconds=settings.activation_link_ttl_s),
        )
        return ActivationLinkOut(id=link.id, url=url, expires_at=link.expires_at, emailed_to=data.zoom_admin_email)

    @get("/activation-links", operation_id="ListActivationLinks", summary="The organization's pending activation links")
    async def list_activation_links(self, org_id: OrgId, principal: NamedDependency[Principal]) -> PendingActivationLinksOut:
        """To whom, when and until when; never the URL (only its hash is kept)."""
        links = await activation_links.pending_activation_links(unit_of_work, principal, org_id, utcnow())
        names = await integration.member_names(unit_of_work, org_id, {link.created_by for link in links})
        return PendingActivationLinksOut(
            items=[
                PendingActivationLinkOut(
                    id=link.id,
                    created_at=link.created_at,
                    expires_at=link.expires_at,
                    emailed_to=link.emailed_to,
                    created_by=link.created_by,
                    created_by_name=names.get(link.created_by),
                )
                for link in links
            ]
        )

    @post(
        "/activation-links/{link_id:str}/resend",
        operation_id="ResendActivationLink",
        status_code=201,
        summary="Email a pending activation link's Zoom administrator a fresh link",
        responses=answers({404: ("activation_link_not_found",), 409: ("activation_link_not_emailed",)}),
    )
    async def resend_activation_link(
        self,
        org_id: OrgId,
        link_id: ActivationLinkId,
        principal: NamedDependency[Principal],
        state: State,
        mailer: NamedDependency[SmtpMailer | None],
    ) -> ActivationLinkOut:
        """A fresh link emailed to the same Zoom administrator; the old one is revoked."""
        check_uuid(link_id, "id")
        settings = state.settings
        token = new_secret()
        url = f"{settings.base_url}/activate/{token}"
        link = await activation_links.resend_activation_link(
            unit_of_work,
            EmailInvitations(mailer) if mailer else None,
            principal,
            org_id,
            link_id,
            token,
            url,
            utcnow(),
            timedelta(seconds=settings.activation_link_ttl_s),
        )
        return ActivationLinkOut(id=link.id, url=url, expires_at=link.expires_at, emailed_to=link.emailed_to)

    @delete("/activation-links/{link_id:str}", operation_id="RevokeActivationLink", status_code=204)
    async def revoke_activation_link(
        self, org_id: OrgId, link_id: ActivationLinkId, principal: NamedDependency[Principal]
    ) -> None:
        check_uuid(link_id, "id")
        await connecting.revoke_activation_link(unit_of_work, principal, org_id, link_id, utcnow())

    @delete(
        "/",
        operation_id="DisconnectOrganizationZoom",
        status_code=200,
        summary="Disconnect the organization's Zoom",
        responses=answers({404: ("not_connected",), 409: ("connection_changed_concurrently",)}),
    )
    async def disconnect(
        self, org_id: OrgId, principal: NamedDependency[Principal], zoom: NamedDependency[HttpZoom]
    ) -> DisconnectedOut:
        """Its tokens are revoked at Zoom and deleted; members who relied on it are then not connected
        (`affected_members`); personal connections are untouched."""
        affected = await connecting.disconnect_organization(unit_of_work, zoom, principal, org_id, utcnow())
        return DisconnectedOut(affected_members=affected)

    @post(
        "/verify",
        operation_id="VerifyOrganizationZoom",
        status_code=200,
        summary="Check the organization's Zoom now",
        responses=answers({400: ("connection_broken",), 404: ("not_connected",)}),
    )
    async def verify(
        self, org_id: OrgId, principal: NamedDependency[Principal], keeper: NamedDependency[TokenKeeper]
    ) -> integration.OrganizationIntegration:
        """Check now, as the periodic verification does: the Zoom admin's role, then every seat.

        Holds no database connection while it waits on Zoom.
        """
        return await integration.verify_organization_now(
            unit_of_work, principal, org_id, functools.partial(verify_organization, keeper)
        )

    @patch("/policy", operation_id="SetZoomPolicy", summary="Whether members may remove the organization's Zoom for themselves")
    async def set_policy(
        self, org_id: OrgId, data: JSONBody[PolicyIn], principal: NamedDependency[Principal]
    ) -> Policy:
        """`allow_members_to_remove` takes JSON `true` or `false` only."""
        policy = Policy(allow_members_to_remove=data.allow_members_to_remove)
        return await integration.set_policy(unit_of_work, principal, org_id, policy, utcnow())


class MyIntegrationController(Controller):
    path = "/api/v1/me/integrations/zoom"
    guards = [member_guard]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}
    parameters = {"acting_user": ACTING_USER}
    security = MEMBER_SECURITY
    tags = ["my integration"]

    @get("/", operation_id="GetMyZoom", summary="The calling member's Zoom: connected or not, and through which connection")
    async def get_mine(self, principal: NamedDependency[Principal]) -> integration.MyIntegration:
        """A personal connection always wins over the organization's: `organization` is null whenever
        `personal` is present."""
        return await integration.my_integration(unit_of_work, principal)

    @post(
        "/personal/authorize",
        operation_id="AuthorizePersonalZoom",
        status_code=200,
        summary="Start connecting the member's own Zoom",
        description=(
            "Roomlink's link to Zoom's consent page for the caller's personal Zoom. Send the member's browser "
            "to it: it works once, within 10 minutes, and binds the sign-in to one browser, which alone can "
            "finish it (started from a session, only that session's browser). Opened outside the member's "
            "Roomlink session, it first shows a page naming the member it connects Zoom for and goes on when "
            "confirmed; a browser signed in as another member is refused. Treat it like a launch link."
        ),
    )
    async def authorize_personal(
        self, request: Request, state: State, principal: NamedDependency[Principal], zoom: NamedDependency[HttpZoom]
    ) -> AuthorizeOut:
        """`zoom` is asked for so that an unconfigured Zoom answers 503 here rather than at the link."""
        oauth_state = new_secret()
        await connecting.start_personal_connection(
            unit_of_work, principal, oauth_state, new_code_verifier(), session_token(request), utcnow()
        )
        return AuthorizeOut(authorize_url=f"{state.settings.base_url}{OAUTH_START_PATH}/{oauth_state}")

    @delete(
        "/personal",
        operation_id="DisconnectPersonalZoom",
        status_code=204,
        summary="Disconnect the member's own Zoom",
        responses=answers({404: ("not_connected",), 409: ("connection_changed_concurrently",)}),
    )
    async def disconnect_personal(
        self, state: State, principal: NamedDependency[Principal], zoom: NamedDependency[HttpZoom]
    ) -> None:
        """Its tokens are revoked at Zoom and deleted; the organization's connection serves the member again."""
        meetings_zoom = provide_meetings_zoom(state)

        async def before_end(connection: Connection) -> None:
            await sessions.cancel_before_another_zoom(unit_of_work, meetings_zoom, SystemClock(), principal, connection)

        await connecting.disconnect_personal(unit_of_work, zoom, principal, utcnow(), before_end=before_end)

    @delete(
        "/organization",
        operation_id="RemoveOrganizationZoomForMe",
        status_code=204,
        summary="Stop using the organization's Zoom (when the policy allows)",
        responses=answers({403: ("removal_not_allowed",), 404: ("organization_not_found", "member_not_found")}),
    )
    async def remove_organization(self, principal: NamedDependency[Principal]) -> None:
        await integration.remove_organization_for_me(unit_of_work, principal, utcnow())

    @put(
        "/organization",
        operation_id="RestoreOrganizationZoomForMe",
        status_code=204,
        summary="Use the organization's Zoom again",
        responses=answers({404: ("organization_not_found", "member_not_found")}),
    )
    async def restore_organization(self, principal: NamedDependency[Principal]) -> None:
        await integration.restore_organization_for_me(unit_of_work, principal, utcnow())


def members_query(
    org_id: str,
    member_type: str | None,
    connected: bool | None,
    q: str | None,
    *,
    limit: int,
    cursor: str | None = None,
    sort: str = "name",
) -> MembersQuery:
    check_identifier(org_id, "org_id")
    if member_type is not None and member_type not in MEMBER_TYPES:
        raise InvalidInput(
            "`type` must be organization, personal or none.", errors={"type": "organization, personal or none"}
        )
    if sort not in MEMBER_SORTS:
        raise InvalidInput("`sort` must be name or -name.", errors={"sort": "name or -name"})
    return MembersQuery(
        org_id=org_id,
        limit=limit,
        # A cursor given out before the table sorted either way is a position in name order.
        after=decode_cursor(cursor, sort, default_sort="name") if cursor else None,
        descending=sort == "-name",
        type=member_type,
        connected=connected,
        q=q.strip() or None if q else None,
    )


CSV_COLUMNS = ("name", "email", "role", "connected", "type", "status", "reason", "zoom_user_email", "user_id")


def members_csv_header() -> str:
    return members_csv_lines([list(CSV_COLUMNS)])


def members_csv(rows: list[MemberRow]) -> str:
    return members_csv_lines(
        [
            [
                row.name,
                row.email,
                row.role.value,
                "true" if row.connected else "false",
                row.type.value if row.type else "",
                row.status.value if row.status else "",
                row.reason.value if row.reason else "",
                row.zoom_user_email or "",
                row.user_id,
            ]
            for row in rows
        ]
    )


def members_csv_lines(rows: list[list[str]]) -> str:
    """A spreadsheet must not run a cell as a formula: cells starting with = + - @ are quoted as text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([[f"'{cell}" if cell[:1] in ("=", "+", "-", "@") else cell for cell in row] for row in rows])
    return out.getvalue()


def check_uuid(value: str, field: str) -> None:
    try:
        uuid.UUID(value)
    except ValueError:
        raise InvalidInput(f"`{field}` is not an identifier this API gave out.", errors={field: "not a valid id"}) from None
