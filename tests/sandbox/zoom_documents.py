"""Zoom's published OpenAPI documents as JSON Schemas, so tests check the sandbox answers like Zoom.

`response_schema` and `webhook_schema` pull one body schema out of a document, resolve its
``$ref``s and turn OpenAPI's dialect into JSON Schema (``nullable`` becomes a ``null`` type;
``oneOf`` becomes ``anyOf`` because Zoom's alternatives overlap, e.g. the settings answer
offers an empty object as one of them, so no real body would match exactly one).

Strict mode also forbids properties the document does not list (merging ``allOf`` parts
first, so a property of one part is allowed in the whole): otherwise a sandbox inventing
fields, or misspelling one, would still pass.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

Schema = dict[str, Any]

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_REFERENCE = Path("/work/shared/zoom-reference")
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
COMBINATORS = ("allOf", "anyOf", "oneOf", "not")
#: Keywords whose values are data, not schemas: converting them would corrupt examples.
DATA_KEYWORDS = ("example", "examples", "default", "enum", "const")

format_checker = FormatChecker()


@format_checker.checks("date-time")
def is_rfc3339(value: object) -> bool:
    # jsonschema skips date-time unless an optional package is installed; check it regardless.
    return not isinstance(value, str) or RFC3339.fullmatch(value) is not None


def reference_dir() -> Path:
    """Where Zoom's documents are: ``ZOOM_REFERENCE_DIR``, the repo's ``tests/zoom_reference/``, or the shared copy."""
    candidates = [Path(os.environ["ZOOM_REFERENCE_DIR"])] if "ZOOM_REFERENCE_DIR" in os.environ else []
    candidates += [REPO_ROOT / "tests" / "zoom_reference", SHARED_REFERENCE]
    for candidate in candidates:
        if (candidate / "users-api.openapi.json").is_file():
            return candidate
    raise FileNotFoundError(f"Zoom's OpenAPI documents are not in any of {[str(c) for c in candidates]}")


@cache
def load_document(name: str) -> Schema:
    return json.loads((reference_dir() / name).read_text())


def response_schema(
    document: str,
    path: str,
    method: str,
    status: str = "200",
    *,
    strict: bool = True,
    also_allow: Mapping[str, Schema] | None = None,
) -> Schema:
    """The JSON body schema of one answer; ``also_allow`` adds top-level properties Zoom sends undocumented."""
    doc = load_document(document)
    schema = doc["paths"][path][method.lower()]["responses"][status]["content"]["application/json"]["schema"]
    converted = to_json_schema(doc, schema, strict=strict)
    if also_allow:
        converted["properties"] = {**converted.get("properties", {}), **also_allow}
    return converted


def webhook_schema(document: str, event: str, *, strict: bool = True) -> Schema:
    """The body schema of one event: Zoom's webhook documents describe each as a POST to the event name."""
    doc = load_document(document)
    schema = doc["paths"][event]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return to_json_schema(doc, schema, strict=strict)


def to_json_schema(document: Schema, schema: Schema, *, strict: bool) -> Schema:
    return convert(resolve_refs(document, schema, ()), strict)


def resolve_refs(document: Schema, node: Any, resolving: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [resolve_refs(document, item, resolving) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if ref in resolving:
            raise ValueError(f"recursive $ref {ref} cannot be inlined")
        return resolve_refs(document, pointer(document, ref), (*resolving, ref))
    return {key: resolve_refs(document, value, resolving) for key, value in node.items()}


def pointer(document: Schema, ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported, not {ref}")
    target: Any = document
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return target


def convert(node: Any, strict: bool) -> Any:
    if isinstance(node, list):
        return [convert(item, strict) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {
        key: value if key in DATA_KEYWORDS else convert_child(key, value, strict)
        for key, value in node.items()
        if key != "nullable"
    }
    if node.get("nullable") is True:
        converted = allow_null(converted)
    if "oneOf" in converted:
        converted["anyOf"] = converted.pop("oneOf")
    if strict and mergeable(converted.get("allOf")):
        converted = merge_all_of(converted)
    if strict and "properties" in converted and "additionalProperties" not in converted:
        converted["additionalProperties"] = False
    return converted


def convert_child(key: str, value: Any, strict: bool) -> Any:
    if key == "properties" and isinstance(value, dict):
        return {name: convert(schema, strict) for name, schema in value.items()}
    return convert(value, strict)


def allow_null(schema: Schema) -> Schema:
    nullable = dict(schema)
    if "type" in nullable:
        types = nullable["type"] if isinstance(nullable["type"], list) else [nullable["type"]]
        nullable["type"] = [*types, "null"]
    if "enum" in nullable:
        nullable["enum"] = [*nullable["enum"], None]
    return nullable


def mergeable(parts: Any) -> bool:
    return isinstance(parts, list) and all(
        isinstance(part, dict) and part.get("type", "object") == "object" and not any(c in part for c in COMBINATORS)
        for part in parts
    )


def merge_all_of(schema: Schema) -> Schema:
    merged = {key: value for key, value in schema.items() if key != "allOf"}
    merged["type"] = "object"
    properties: Schema = {}
    required: list[str] = []
    for part in schema["allOf"]:
        properties.update(part.get("properties", {}))
        required += [name for name in part.get("required", []) if name not in required]
    merged["properties"] = properties
    if required:
        merged["required"] = required
    return merged


def validation_errors(instance: Any, schema: Schema) -> list[str]:
    validator = Draft202012Validator(schema, format_checker=format_checker)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(instance), key=lambda error: list(map(str, error.absolute_path)))
    ]


def assert_matches(instance: Any, schema: Schema) -> None:
    errors = validation_errors(instance, schema)
    assert not errors, "does not match Zoom's document:\n" + "\n".join(errors)
