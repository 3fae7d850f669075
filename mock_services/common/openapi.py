"""Small builders for the hand-written OpenAPI 3.1 documents of the mock services.

Each service writes its own document next to its handlers (``gateway/openapi.py``, ``bank/openapi.py``)
with these helpers, so the shared parts (the error body, the signature scheme, the built-in routes)
are written once::

    doc = document("Gateway", "what it is", schemas={...}, paths={...})
    ref("Payment")                      # {"$ref": "#/components/schemas/Payment"}
    json_content(ref("Payment"), "the payment")
    operation("Create a payment", ok={"201": json_content(...)}, body=ref("NewPayment"), signed=True,
              errors=(400, 401, 409, 413, 422))
"""

from __future__ import annotations

from typing import Any

from motcua.mock_services.common.faults import FaultFile

from motcua.typed_config import schema_parts

STRING: dict[str, Any] = {"type": "string"}
TEXT: dict[str, Any] = {"type": "string", "minLength": 1, "description": "a non-empty string"}
INTEGER: dict[str, Any] = {"type": "integer"}
EPOCH: dict[str, Any] = {"type": "number", "description": "Unix epoch seconds, millisecond precision"}
EPOCH_OR_NULL: dict[str, Any] = {"type": ["number", "null"], "description": "Unix epoch seconds, or null"}
VND: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": 10**15,
                       "description": "whole Vietnamese đồng (at most 10^15, mock_services.common.money)"}
URL: dict[str, Any] = {"type": "string", "pattern": "^https?://", "maxLength": 2048, "description": "an http(s) URL"}
DATE: dict[str, Any] = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                        "description": "YYYY-MM-DD"}
CCCD: dict[str, Any] = {"type": "string", "pattern": "^[0-9]{3}[0-5][0-9]{8}$",
                        "description": "12 digits: province, century/sex (0–5), year, serial"}
AGENCY_CODE: dict[str, Any] = {"type": "string", "pattern": r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}$",
                               "examples": ["000.00.12.H37"]}
DOSSIER_CODE: dict[str, Any] = {"type": "string",
                                "pattern": r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}-[0-9]{6}-[0-9]{4}$"}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "machine-readable code"},
        "message": {"type": "string", "description": "what is wrong and how to fix it"},
        "field": {"type": "string", "description": "the field at fault, when there is one"},
    },
}

_FAULT_TABLE, FAULT_SCHEMAS = schema_parts(FaultFile, ref_prefix="#/components/schemas/", nullable=True)
FAULT_TABLE_SCHEMA: dict[str, Any] = {
    **_FAULT_TABLE,
    "description": "the fault table, same shape as the TOML fault file (docs/contracts.md §2), generated from the "
                   "one declaration of that shape (mock_services.common.faults.FaultFile, read by "
                   "motcua.typed_config); cross-field rules (uniform max_ms ≥ min_ms, lognormal 0 < p50_ms ≤ p95_ms) "
                   "are checked too (422)",
}
"""The fault table's schema; the classes it uses (`FAULT_SCHEMAS`: ``LatencyRule``, ``GatewayFaults``…) are
components of every document too."""


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: list[str], **properties: Any) -> dict[str, Any]:
    """An object schema listing its properties; `required` names the ones that must be present."""
    return {"type": "object", "required": required, "properties": properties}


def json_content(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR_TEXTS = {
    400: "malformed JSON or a missing header; nothing was written",
    401: "signature missing, wrong or outside the time window (replay); nothing was written",
    403: "not allowed (admin endpoints: loopback and token only)",
    404: "no such resource",
    409: "conflict: an illegal state transition or an idempotency key reused with another body",
    413: "body larger than 64 KiB; nothing was written",
    422: "a field is invalid (the answer names it); nothing was written",
    502: "an upstream service answered wrongly",
    503: "unavailable (fault injection or an upstream outage)",
}


def operation(
    summary: str, *, ok: dict[str, Any], body: dict[str, Any] | None = None, signed: bool = False,
    errors: tuple[int, ...] = (), parameters: list[dict[str, Any]] | None = None, description: str | None = None,
) -> dict[str, Any]:
    responses = dict(ok)
    for status in errors:
        responses[str(status)] = json_content(ref("Error"), ERROR_TEXTS[status])
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if description:
        op["description"] = description
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if signed:
        op["security"] = [{"motcuaSignature": []}]
    if parameters:
        op["parameters"] = parameters
    return op


def add_links(paths: dict[str, Any], path: str, method: str, statuses: tuple[str, ...],
              targets: dict[str, tuple[str, str, dict[str, str]]]) -> None:
    """Add OpenAPI links to the answers `statuses` of ``method path``: name → (target path, method, parameters
    as runtime expressions such as ``$response.body#/payment_id``), so a stateful tester can chain calls."""
    links = {
        name: {"operationRef": "#/paths/" + target.replace("~", "~0").replace("/", "~1") + "/" + verb,
               "parameters": parameters}
        for name, (target, verb, parameters) in targets.items()
    }
    for status in statuses:
        paths[path][method]["responses"][status].setdefault("links", {}).update(links)


def path_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": STRING, "description": description}


def query_param(name: str, schema: dict[str, Any], description: str, required: bool = True) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def builtin_paths() -> dict[str, Any]:
    """The routes every service serves (mock_services.common.http.create_app)."""
    admin = [{"name": "X-Admin-Token", "in": "header", "required": True, "schema": STRING}]
    return {
        "/healthz": {"get": operation("Liveness", ok={"200": json_content(
            obj(["status", "service"], status={"const": "ok"}, service=STRING), "alive")})},
        "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {
            "200": {"description": "Prometheus text format", "content": {"text/plain": {"schema": STRING}}}}}},
        "/openapi.json": {"get": {"summary": "This document", "responses": {
            "200": json_content({"type": "object"}, "OpenAPI 3.1")}}},
        "/admin/faults": {
            "get": operation("The fault table in force (loopback and token only)", parameters=admin,
                             ok={"200": json_content(ref("FaultTable"), "the table")}, errors=(401, 403)),
            "put": operation("Replace the fault table at run time", parameters=admin, body=ref("FaultTable"),
                             ok={"200": json_content(ref("FaultTable"), "the new table")},
                             errors=(400, 401, 403, 413, 422)),
        },
    }


def document(title: str, description: str, *, schemas: dict[str, Any], paths: dict[str, Any]) -> dict[str, Any]:
    """A complete OpenAPI 3.1 document with the shared schemas, the signature scheme and the built-in routes."""
    shared = {"Error": ERROR_SCHEMA, "FaultTable": FAULT_TABLE_SCHEMA, **FAULT_SCHEMAS}
    clash = sorted(set(shared) & set(schemas))
    if clash:
        raise ValueError(f"{title}: schema names {clash} are the shared ones'; rename the service's")
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1.0.0", "description": description},
        "components": {
            "schemas": {**shared, **schemas},
            "securitySchemes": {
                "motcuaSignature": {
                    "type": "apiKey", "in": "header", "name": "X-Motcua-Signature",
                    "description": "HMAC-SHA512 over timestamp, method, path and body hash, with headers "
                                   "X-Motcua-Key-Id and X-Motcua-Timestamp (mock_services/common/signing.py)",
                },
            },
        },
        "paths": {**paths, **builtin_paths()},
    }
