"""The OpenAPI document's promises, checked on the document itself; schemathesis checks the answers."""

from __future__ import annotations

import pytest

from server.app import create_app
from server.config import Settings

PROBLEM = {"$ref": "#/components/schemas/ProblemOut"}


@pytest.fixture(scope="module")
def document() -> dict:
    return create_app(Settings()).openapi_schema.to_schema()


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def test_every_refusal_is_documented_as_problem_json_never_litestars_default(document):
    off = [
        (method, path, status)
        for path, method, operation in operations(document)
        for status, response in operation["responses"].items()
        # /readyz answers its Health body either way (docs/api.md); /launch's refusal is a page.
        if int(status) >= 400 and path != "/readyz" and "text/html" not in response.get("content", {})
        if response.get("content") != {"application/problem+json": {"schema": PROBLEM}}
    ]
    assert off == []
    assert "ValidationException" not in str(document)


def test_every_api_call_documents_the_rate_limit_and_the_database(document):
    missing = [
        (method, path)
        for path, method, operation in operations(document)
        if path.startswith("/api/") and not {"429", "503"} <= operation["responses"].keys()
    ]
    assert missing == []


def test_refusals_name_their_codes(document):
    put_member = document["paths"]["/api/v1/orgs/{org_id}/members/{user_id}"]["put"]["responses"]
    assert "`member_of_another_organization`" in put_member["409"]["description"]
    assert "`invalid_api_key`" in put_member["401"]["description"]
    assert "`database_unavailable`" in put_member["503"]["description"]
    assert {"200", "201"} <= put_member.keys()


def test_member_calls_document_the_acting_user_header_and_ids_their_pattern(document):
    for path, method, operation in operations(document):
        if not path.startswith("/api/"):
            continue
        parameters = {parameter["name"]: parameter for parameter in operation.get("parameters", [])}
        if path.startswith(("/api/v1/me/", "/api/v1/orgs/{org_id}/integrations/")):
            header = parameters["X-Roomlink-User"]
            assert (header["in"], header["required"]) == ("header", False), (method, path)
            assert operation["security"] == [{"apiKey": []}, {"session": []}]
        for name in ("org_id", "user_id"):
            if name in parameters:
                assert parameters[name]["schema"]["pattern"] == "^[A-Za-z0-9._:-]{1,128}$", (method, path, name)


def test_every_operation_says_what_it_does(document):
    unexplained = [(method, path) for path, method, operation in operations(document) if not operation.get("summary")]
    assert unexplained == []
    assert "Provisioning" in document["info"]["description"]
