"""Answers at the edge of the API: what a method, a malformed address or a hostile value gets, and that such a
request changes nothing."""

from __future__ import annotations

import pytest

from tests.api.conftest import KEY


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/orgs/some-org", "/api/v1/orgs/some-org/members/someone"])
async def test_a_405_names_the_methods_the_address_accepts(api, path):
    refused = await api.request("PATCH", path, headers=KEY)
    assert refused.status_code == 405
    assert refused.json()["code"] == "method_not_allowed"
    allowed = {method.strip() for method in refused.headers["allow"].split(",")}
    assert allowed and "PATCH" not in allowed
    for method in allowed:
        assert (await api.request(method, path, headers=KEY)).status_code != 405, method
