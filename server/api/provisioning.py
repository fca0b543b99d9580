"""Provisioning by the host product (API key)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, QueryParameter

from domain import provisioning
from domain.identifiers import MAX_NEXT_PATH, check_identifier, has_control_characters
from domain.model import Member, Organization
from domain.ports import MemberInput
from persistence.database import unit_of_work
from server.api.bodies import BatchIn, BatchOut, LaunchLinkOut, MemberIn, OrganizationIn
from server.api.openapi import PROVISIONING_SECURITY, ZOOM, OrgId, UserId, answers
from server.auth import host_product_guard, provide_api_key
from server.clock import utcnow
from server.config import ApiKey
from server.launch import issue_launch_link
from server.problems import Problem

MEMBER_ZOOM_PAGE = "/integrations/zoom"


class ProvisioningController(Controller):
    path = "/api/v1/orgs/{org_id:str}"
    guards = [host_product_guard]
    dependencies = {"api_key": Provide(provide_api_key, sync_to_thread=False)}
    security = PROVISIONING_SECURITY
    tags = ["provisioning"]

    @put(
        "/",
        operation_id="PutOrganization",
        status_code=200,
        summary="Create or rename an organization",
        responses={201: ResponseSpec(Organization, description="Created.")},
    )
    async def put_organization(self, org_id: OrgId, data: JSONBody[OrganizationIn]) -> Response[Organization]:
        """Idempotent: 201 when the organization is new, 200 when it existed (its name is updated)."""
        organization, created = await provisioning.provision_organization(unit_of_work, org_id, data.name, utcnow())
        return Response(organization, status_code=201 if created else 200)

    @put(
        "/members/{user_id:str}",
        operation_id="PutMember",
        status_code=200,
        summary="Create or update a member",
        responses={
            201: ResponseSpec(Member, description="Created."),
            **answers({409: ("member_of_another_organization",)}),
        },
    )
    async def put_member(
        self, org_id: OrgId, user_id: UserId, data: JSONBody[MemberIn]
    ) -> Response[Member]:
        """Idempotent: 201 when the member is new, 200 when they existed. A user belongs to one organization."""
        check_identifier(org_id, "org_id")
        member_input = MemberInput(user_id=user_id, email=data.email, name=data.name, role=data.role)
        member, created = await provisioning.provision_member(unit_of_work, org_id, member_input, utcnow())
        return Response(member, status_code=201 if created else 200)

    @post(
        "/members/batch",
        operation_id="BatchPutMembers",
        status_code=200,
        summary="Create or update up to 1,000 members at once",
        responses=answers({409: ("member_of_another_organization",), 413: ("batch_too_large",)}),
    )
    async def batch_members(self, org_id: OrgId, data: JSONBody[BatchIn]) -> BatchOut:
        """All or nothing: one invalid member (named in `errors`, e.g. `members[3].email`) and none is saved."""
        check_identifier(org_id, "org_id")
        members = [
            MemberInput(user_id=item.user_id, email=item.email, name=item.name, role=item.role)
            for item in data.members
        ]
        result = await provisioning.provision_members(unit_of_work, org_id, members, utcnow())
        return BatchOut(created=result.created, updated=result.updated)

    @delete(
        "/members/{user_id:str}",
        operation_id="DeleteMember",
        status_code=204,
        summary="Remove a member",
        responses=answers({404: ("member_not_found",)}, ZOOM),
    )
    async def delete_member(
        self, org_id: OrgId, user_id: UserId, api_key: NamedDependency[ApiKey], state: State
    ) -> None:
        """Their personal Zoom connection ends with them: its tokens are revoked at Zoom and deleted."""
        check_identifier(org_id, "org_id")
        check_identifier(user_id, "user_id")
        await provisioning.delete_member(unit_of_work, state.zoom, org_id, user_id, f"api_key:{api_key.label}", utcnow())

    @post(
        "/members/{user_id:str}/launch",
        operation_id="CreateLaunchLink",
        status_code=201,
        summary="A one-time link that opens Roomlink as this member",
        responses=answers({404: ("member_not_found",)}),
    )
    async def create_launch_link(
        self,
        org_id: OrgId,
        user_id: UserId,
        state: State,
        next_path: Annotated[
            str,
            QueryParameter(
                name="next",
                max_length=MAX_NEXT_PATH,
                description="The Roomlink page to land on: a path starting with `/`.",
            ),
        ] = MEMBER_ZOOM_PAGE,
    ) -> LaunchLinkOut:
        """Hand `url` to the member's browser: it works once, within minutes, sets the member's session
        cookie and lands on their Zoom page (or `next`)."""
        check_identifier(org_id, "org_id")
        check_identifier(user_id, "user_id")
        _check_next_path(next_path)
        return await issue_launch_link(state.settings, org_id, user_id, next_path)


def _check_next_path(next_path: str) -> None:
    """Only Roomlink's own pages, in a link of bounded length: a launch link must never redirect elsewhere."""
    if not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path:
        raise Problem(400, "validation_failed", "`next` must be a path on Roomlink.", {"next": "a path starting with /"})
    if len(next_path) > MAX_NEXT_PATH or has_control_characters(next_path):
        raise Problem(
            400,
            "validation_failed",
            f"`next` must be at most {MAX_NEXT_PATH} characters, without control characters.",
            {"next": f"at most {MAX_NEXT_PATH} characters, no control characters"},
        )
