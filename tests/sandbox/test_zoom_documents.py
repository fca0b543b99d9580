"""The schema helper must be able to say no, or the tests built on it prove nothing."""

from __future__ import annotations

import pytest

from tests.sandbox.zoom_documents import (
    assert_matches,
    response_schema,
    to_json_schema,
    validation_errors,
    webhook_schema,
)

DOCUMENT = {
    "components": {
        "schemas": {
            "Name": {"type": "string", "nullable": True, "example": {"not": "a schema"}},
            "Kind": {"type": "string", "enum": ["a", "b"], "nullable": True},
            "Person": {
                "allOf": [
                    {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
                    {"type": "object", "properties": {"name": {"$ref": "#/components/schemas/Name"}}},
                ]
            },
        }
    }
}
PERSON = {"$ref": "#/components/schemas/Person"}
ZOOM_USER = {"id": "u1", "email": "a@b.test", "type": 2, "role_id": "2", "created_at": "2030-01-01T00:00:00Z"}


def test_refs_are_resolved_and_nullable_becomes_a_null_type():
    schema = to_json_schema(DOCUMENT, PERSON, strict=True)

    assert validation_errors({"id": "1", "name": None}, schema) == []
    assert validation_errors({"id": "1", "name": "Ann"}, schema) == []
    assert validation_errors({"id": "1", "name": 3}, schema) != []


def test_nullable_enums_accept_null():
    schema = to_json_schema(DOCUMENT, {"$ref": "#/components/schemas/Kind"}, strict=True)

    assert validation_errors(None, schema) == []
    assert validation_errors("c", schema) != []


def test_strict_mode_merges_all_of_and_refuses_unlisted_properties():
    strict = to_json_schema(DOCUMENT, PERSON, strict=True)
    lenient = to_json_schema(DOCUMENT, PERSON, strict=False)

    assert validation_errors({"name": "Ann"}, strict) != []
    assert validation_errors({"id": "1", "nickname": "A"}, strict) != []
    assert validation_errors({"id": "1", "nickname": "A"}, lenient) == []


def test_a_real_zoom_user_schema_rejects_wrong_types_and_invented_fields():
    schema = response_schema("users-api.openapi.json", "/users/{userId}", "get")

    assert validation_errors(ZOOM_USER, schema) == []
    assert validation_errors(ZOOM_USER | {"type": "2"}, schema) != []
    assert validation_errors(ZOOM_USER | {"is_admin": True}, schema) != []
    assert validation_errors(ZOOM_USER | {"created_at": "2030-01-01 00:00"}, schema) != []
    with pytest.raises(AssertionError, match="type"):
        assert_matches({k: v for k, v in ZOOM_USER.items() if k != "type"}, schema)


def test_the_settings_alternatives_are_any_of_so_a_full_body_can_match():
    schema = response_schema("users-api.openapi.json", "/users/{userId}/settings", "get")

    assert validation_errors({"schedule_meeting": {"use_pmi_for_scheduled_meetings": True}}, schema) == []
    assert validation_errors({"schedule_meeting": {"use_pmi_for_scheduled_meetings": "yes"}}, schema) != []


def test_webhook_bodies_come_from_the_event_named_post():
    schema = webhook_schema("users-webhooks.openapi.json", "user.deactivated")
    event = {
        "event": "user.deactivated",
        "event_ts": 1,
        "payload": {
            "account_id": "acme",
            "operator": "olga@acme.test",
            "operator_id": "o1",
            "object": {"id": "u1", "first_name": "M", "last_name": "T", "email": "mia@acme.test", "type": 1},
        },
    }

    assert validation_errors(event, schema) == []
    assert validation_errors(event | {"payload": event["payload"] | {"operator": "not an email"}}, schema) != []
