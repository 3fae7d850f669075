"""OpenAPI 3.1 document of the agency one-stop-shop system (served at ``GET /openapi.json``).

Written by hand to match `mock_services.agency`; ``tests/test_agency.py`` validates it and checks that
every route the app serves is described.
"""

from __future__ import annotations

from typing import Any

from mock_services.agency_ledger import EVENT_TYPES, STATUSES
from mock_services.common.catalogue import PAYMENT_GROUPS

_STR = {"type": "string"}
_INT = {"type": "integer"}
_TIME = {"type": ["number", "null"], "description": "Unix epoch seconds, millisecond precision"}
_CODE = {"type": "string", "pattern": r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4}$"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERROR = _json(_ref("Error"), "refused; nothing was written")

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {"error": _STR, "message": _STR, "field": _STR},
    },
    "Payer": {
        "type": "object",
        "required": ["name", "cccd", "phone"],
        "properties": {"name": _STR, "cccd": {"type": "string", "pattern": r"^\d{12}$"}, "phone": _STR},
    },
    "DossierRequest": {
        "type": "object",
        "required": ["procedure_code", "payer"],
        "properties": {
            "procedure_code": {**_STR, "description": "a code of scenarios/fee-catalogue.toml"},
            "payer": _ref("Payer"),
            "group": {"enum": list(PAYMENT_GROUPS)},
            "amount_vnd": {**_INT, "minimum": 0, "description": "overrides the catalogue fee"},
            "quantity": {**_INT, "minimum": 1, "maximum": 10000, "description": "pages, for per-page fees"},
        },
    },
    "DossierCreated": {
        "type": "object",
        "required": ["dossier_code", "status", "amount_vnd", "payment"],
        "properties": {
            "dossier_code": _CODE,
            "status": {"enum": ["awaiting_payment", "no_fee"]},
            "amount_vnd": _INT,
            "payment": {
                "oneOf": [
                    {"type": "null"},
                    {"type": "object", "properties": {"payment_id": _STR, "pay_url": {"type": ["string", "null"]}}},
                ]
            },
        },
    },
    "Dossier": {
        "type": "object",
        "properties": {
            "dossier_code": _CODE,
            "procedure_code": _STR,
            "group": _STR,
            "status": {"enum": list(STATUSES)},
            "amount_vnd": _INT,
            "payment_id": {"type": ["string", "null"]},
            "pay_url": {"type": ["string", "null"]},
            "paid_via": {"enum": [None, "ipn", "reconciliation"]},
            "bank_code": {"type": ["string", "null"]},
            "bank_txn_no": {"type": ["string", "null"]},
            "bank_approved_at": _TIME,
            "ipn_acked_at": _TIME,
            "credited_at": _TIME,
            "submitted_at": _TIME,
            "credits": {**_INT, "description": "credits recorded for this dossier; never more than 1"},
        },
    },
    "Ipn": {
        "type": "object",
        "required": ["payment_id", "dossier_code", "amount_vnd", "response_code"],
        "properties": {
            "payment_id": _STR,
            "dossier_code": _STR,
            "agency_code": _STR,
            "amount_vnd": _INT,
            "bank_code": _STR,
            "bank_txn_no": _STR,
            "response_code": _STR,
            "group": _STR,
            "bank_approved_at": _TIME,
            "sent_at": _TIME,
            "attempt": _INT,
        },
    },
    "IpnAnswer": {
        "type": "object",
        "required": ["RspCode", "Message"],
        "properties": {"RspCode": {"enum": ["00", "01", "02", "04", "97", "99"]}, "Message": _STR},
    },
    "ReconcileResult": {
        "type": "object",
        "properties": {
            "date": _STR,
            "report_count": _INT,
            "already_paid": _INT,
            "recovered": _INT,
            "amount_mismatches": _INT,
            "unknown_dossiers": _INT,
            "agency_only": _INT,
            "queried": _INT,
            "query_states": {"type": "object", "additionalProperties": _INT},
            "closed_unpaid": _INT,
            "details": {"type": "object"},
        },
    },
    "Event": {
        "type": "object",
        "required": ["seq", "type", "at"],
        "properties": {
            "seq": _INT,
            "type": {"enum": list(EVENT_TYPES)},
            "at": _TIME,
            "dossier_code": {"type": ["string", "null"]},
            "payment_id": {"type": ["string", "null"]},
            "bank_code": {"type": ["string", "null"]},
            "group": {"type": ["string", "null"]},
            "amount_vnd": {"type": ["integer", "null"]},
            "bank_approved_at": _TIME,
            "ipn_acked_at": _TIME,
            "rsp_code": {"type": ["string", "null"]},
            "attempt": {"type": ["integer", "null"]},
            "detail": {"type": "object"},
        },
    },
    "Stats": {
        "type": "object",
        "properties": {
            "agency_code": _STR,
            "dossiers": _INT,
            "payments": _INT,
            "by_status": {"type": "object", "additionalProperties": _INT},
            "paid": _INT,
            "paid_by_reconciliation": _INT,
            "credits": _INT,
            "credited_vnd": _INT,
            "double_credits": _INT,
            "ipn_received": _INT,
            "ipn_by_code": {"type": "object", "additionalProperties": _INT},
            "events": _INT,
        },
    },
}

_SIGNED = [{"motcuaSignature": []}]

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Agency one-stop-shop system (Hệ thống một cửa điện tử) — mock",
        "version": "1.0.0",
        "description": "Dossiers, payment IPNs, reconciliation and the event journal. docs/contracts.md §1.",
    },
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {
            "motcuaSignature": {
                "type": "apiKey",
                "in": "header",
                "name": "X-Motcua-Signature",
                "description": "HMAC-SHA512 with X-Motcua-Key-Id and X-Motcua-Timestamp (common/signing.py)",
            }
        },
    },
    "paths": {
        "/dossiers": {
            "post": {
                "summary": "File a dossier; creates the gateway payment when the fee is above zero",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("DossierRequest")}}},
                "responses": {
                    "201": _json(_ref("DossierCreated"), "filed"),
                    "400": _ERROR,
                    "409": _json(_ref("Error"), "the agency's daily sequence (9999) is exhausted"),
                    "413": _ERROR,
                    "422": _ERROR,
                    "502": _json(_ref("Error"), "the gateway refused the payment"),
                    "503": _json(_ref("Error"), "the gateway could not be reached"),
                },
            }
        },
        "/dossiers/{code}": {
            "get": {
                "summary": "A dossier's status as an officer sees it",
                "parameters": [{"name": "code", "in": "path", "required": True, "schema": _STR}],
                "responses": {"200": _json(_ref("Dossier"), "the dossier"), "404": _ERROR},
            }
        },
        "/ipn": {
            "post": {
                "summary": "Payment notification from the gateway (signed by key id gateway)",
                "security": _SIGNED,
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Ipn")}}},
                "responses": {
                    "200": _json(_ref("IpnAnswer"), "00 confirmed, 01 not found, 02 already, 04 amount, 97 sig, 99"),
                    "400": _ERROR,
                    "413": _ERROR,
                },
            }
        },
        "/reconcile": {
            "post": {
                "summary": "Reconcile one day against the gateway's signed report (đối soát)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["date"],
                                "properties": {"date": _STR, "query_pending": {"type": "boolean"}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(_ref("ReconcileResult"), "the counts of the reconciliation"),
                    "400": _ERROR,
                    "422": _ERROR,
                    "502": _ERROR,
                    "503": _ERROR,
                },
            }
        },
        "/events": {
            "get": {
                "summary": "The event journal after a cursor",
                "parameters": [
                    {"name": "since", "in": "query", "schema": {**_INT, "minimum": 0}},
                    {"name": "limit", "in": "query", "schema": {**_INT, "minimum": 1, "maximum": 10000}},
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"events": {"type": "array", "items": _ref("Event")}, "next": _INT},
                        },
                        "events with seq > since, oldest first; pass next as since to continue",
                    ),
                    "422": _ERROR,
                },
            }
        },
        "/stats": {
            "get": {"summary": "Counts for the invariant check", "responses": {"200": _json(_ref("Stats"), "counts")}}
        },
        "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"description": "ok"}}}},
        "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text"}}}},
        "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "JSON"}}}},
        "/admin/faults": {
            "get": {
                "summary": "Faults in force (loopback, X-Admin-Token)",
                "responses": {"200": {"description": "table"}},
            },
            "put": {
                "summary": "Replace the faults (loopback, X-Admin-Token)",
                "responses": {"200": {"description": "table"}},
            },
        },
    },
}
