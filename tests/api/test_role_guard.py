"""R1 at the edge: the organization's owner-and-admin calls refuse a member before reading a parameter or a body of
theirs (server.auth.manager_guard, which applies domain.access.require_manager)."""

from __future__ import annotations

import pytest

from tests.api.conftest import as_member


def org_path(org, suffix: str) -> str:
    return f"/api/v1/orgs/{org['org_id']}{suffix}"


@pytest.mark.parametrize(
    "method, suffix, body",
    [
        ("GET", "/integrations/zoom/members?limit=0&type=nobody", None),
        ("GET", "/integrations/zoom/members/export?connected=maybe", None),
        ("PATCH", "/integrations/zoom/policy", {"allow_members_to_remove": "yes"}),
        ("POST", "/integrations/zoom/activation-links", {"zoom_admin_email": "not an email"}),
        ("GET", "/integrations/zoom/diagnostics", None),
        ("GET", "/sessions?limit=0", None),
    ],
)
async def test_r1_a_member_is_refused_before_their_parameters_or_body_are_read(api, org, method, suffix, body):
    as_the_member = await api.request(method, org_path(org, suffix), json=body, headers=as_member(org["member"]))
    as_the_owner = await api.request(method, org_path(org, suffix), json=body, headers=as_member(org["owner"]))

    assert (as_the_member.status_code, as_the_member.json()["code"]) == (403, "owner_or_admin_required")
    assert as_the_owner.status_code in (200, 400) and as_the_owner.status_code != 403


async def test_r1_another_organization_still_does_not_exist_and_a_malformed_id_is_named(api, org):
    elsewhere = await api.get("/api/v1/orgs/elsewhere/integrations/zoom/members", headers=as_member(org["owner"]))
    malformed = await api.get("/api/v1/orgs/a%00b/integrations/zoom/members", headers=as_member(org["owner"]))

    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "organization_not_found")
    assert malformed.status_code == 400 and "org_id" in malformed.json()["errors"]
