"""OpenAPI 3.1 document of the agency one-stop-shop system (served at ``GET /openapi.json``).

Written by hand to match `mock_services.agency.app` with the shared builders of `mock_services.common.openapi`
(error body, signature scheme, built-in routes). The procedure codes a dossier may name come from the
fee catalogue the service runs with (`openapi_for`); `OPENAPI` is the document with the bundled catalogue.
``tests/test_agency.py`` validates it and checks that every route the app serves is described;
``tests/test_fuzz_services.py`` fuzzes every operation against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from motcua.mock_services.agency.ledger import EVENT_TYPES, STATUSES
from motcua.mock_services.common.catalogue import PAYMENT_GROUPS, load_fee_catalogue
from motcua.mock_services.common.openapi import (
    CCCD,
    DOSSIER_CODE,
    EPOCH_OR_NULL,
    INTEGER,
    STRING,
    TEXT,
    VND,
    add_links,
    document,
    json_content,
    obj,
    operation,
    path_param,
    query_param,
    ref,
)

NULLABLE_STRING = {"type": ["string", "null"]}
SPOKEN = {"type": "string", "pattern": r"\S", "description": "not blank"}
RECONCILE_DAY = {
    "type": "string", "format": "date", "pattern": "^20[0-9]{2}-[0-9]{2}-[0-9]{2}$",
    "description": "YYYY-MM-DD (Asia/Ho_Chi_Minh) within 2000–2099, the days a dossier code can name",
}  # fmt: skip
COUNT = {"type": "integer", "minimum": 0}


def _schemas(procedure_codes: list[str]) -> dict[str, Any]:
    return {
        "Payer": obj(["name", "cccd", "phone"], name=SPOKEN, cccd=CCCD, phone=SPOKEN),
        "DossierRequest": obj(
            ["procedure_code", "payer"],
            procedure_code={"enum": procedure_codes, "description": "a code of the fee catalogue"},
            payer=ref("Payer"),
            group={"enum": list(PAYMENT_GROUPS), "description": "default: the procedure's group"},
            amount_vnd={**VND, "description": "overrides the catalogue fee (0: no payment)"},
            quantity={"type": "integer", "minimum": 1, "maximum": 10_000, "description": "pages, for per-page fees"},
        ),
        "DossierCreated": obj(
            ["dossier_code", "status", "amount_vnd", "payment"],
            dossier_code=DOSSIER_CODE, status={"enum": ["awaiting_payment", "no_fee"]}, amount_vnd=VND,
            payment={"oneOf": [{"type": "null"}, obj(["payment_id", "pay_url"], payment_id=TEXT,
                                                        pay_url=NULLABLE_STRING)]},
        ),
        "Dossier": obj(
            ["dossier_code", "procedure_code", "group", "status", "amount_vnd", "payment_id", "pay_url", "paid_via",
             "bank_code", "bank_txn_no", "bank_approved_at", "ipn_acked_at", "credited_at", "submitted_at",
             "credits"],
            dossier_code=DOSSIER_CODE, procedure_code=STRING, group=STRING, status={"enum": list(STATUSES)},
            amount_vnd=VND, payment_id=NULLABLE_STRING, pay_url=NULLABLE_STRING,
            paid_via={"enum": [None, "ipn", "reconciliation"]}, bank_code=NULLABLE_STRING,
            bank_txn_no=NULLABLE_STRING, bank_approved_at=EPOCH_OR_NULL, ipn_acked_at=EPOCH_OR_NULL,
            credited_at=EPOCH_OR_NULL, submitted_at=EPOCH_OR_NULL,
            credits={"type": "integer", "minimum": 0, "maximum": 1, "description": "never more than 1"},
        ),
        "Ipn": obj(
            ["payment_id", "dossier_code", "amount_vnd", "response_code"],
            payment_id=TEXT, dossier_code=TEXT, agency_code=STRING, amount_vnd=VND, bank_code=STRING,
            bank_txn_no=STRING, response_code=TEXT, group=STRING, bank_approved_at=EPOCH_OR_NULL,
            sent_at=EPOCH_OR_NULL, attempt={"type": ["integer", "null"]},
        ),
        "IpnAnswer": obj(["RspCode", "Message"], RspCode={"enum": ["00", "01", "02", "04", "97", "99"]},
                         Message=STRING),
        "Reconcile": obj(["date"], date=RECONCILE_DAY, query_pending={"type": "boolean", "default": False}),
        "ReconcileResult": obj(
            ["date", "report_count", "already_paid", "recovered", "amount_mismatches", "unknown_dossiers",
             "agency_only", "queried", "query_states", "closed_unpaid", "details"],
            date=STRING, report_count=COUNT, already_paid=COUNT, recovered=COUNT, amount_mismatches=COUNT,
            unknown_dossiers=COUNT, agency_only=COUNT, queried=COUNT,
            query_states={"type": "object", "additionalProperties": COUNT}, closed_unpaid=COUNT,
            details=obj(["recovered", "amount_mismatches", "unknown_dossiers", "agency_only"],
                        **{k: {"type": "array", "items": NULLABLE_STRING}
                           for k in ("recovered", "amount_mismatches", "unknown_dossiers", "agency_only")}),
        ),
        "Event": obj(
            ["seq", "type", "at"],
            seq=INTEGER, type={"enum": list(EVENT_TYPES)}, at=EPOCH_OR_NULL, dossier_code=NULLABLE_STRING,
            payment_id=NULLABLE_STRING, bank_code=NULLABLE_STRING, group=NULLABLE_STRING,
            amount_vnd={"type": ["integer", "null"]}, bank_approved_at=EPOCH_OR_NULL, ipn_acked_at=EPOCH_OR_NULL,
            rsp_code=NULLABLE_STRING, attempt={"type": ["integer", "null"]}, detail={"type": "object"},
        ),
        "Events": obj(["events", "next"], events={"type": "array", "items": ref("Event")}, next=COUNT),
        "Stats": obj(
            ["agency_code", "dossiers", "payments", "by_status", "paid", "paid_by_reconciliation", "credits",
             "credited_vnd", "double_credits", "ipn_received", "ipn_by_code", "events"],
            agency_code=STRING, dossiers=COUNT, payments=COUNT,
            by_status={"type": "object", "additionalProperties": COUNT}, paid=COUNT,
            paid_by_reconciliation=COUNT, credits=COUNT, credited_vnd=COUNT, double_credits=COUNT,
            ipn_received=COUNT, ipn_by_code={"type": "object", "additionalProperties": COUNT}, events=COUNT,
        ),
    }


PATHS: dict[str, Any] = {
    "/dossiers": {"post": operation(
        "File a dossier; creates the gateway payment when the fee is above zero", body=ref("DossierRequest"),
        errors=(400, 409, 413, 422, 502, 503), ok={"201": json_content(ref("DossierCreated"), "filed")},
        description="409 dossier_sequence_exhausted: the agency's 9,999th dossier of the day was filed; "
                    "502 the gateway refused the payment, 503 it could not be reached (nothing filed).",
    )},
    "/dossiers/{code}": {"get": operation(
        "A dossier's status as an officer sees it", parameters=[path_param("code", "the dossier code")],
        errors=(404,), ok={"200": json_content(ref("Dossier"), "the dossier")},
    )},
    "/ipn": {"post": operation(
        "Payment notification from the gateway (signed by key id gateway)", body=ref("Ipn"), signed=True,
        errors=(400, 413), ok={"200": json_content(
            ref("IpnAnswer"), "00 confirmed, 01 not found, 02 already confirmed, 04 amount, 97 signature, "
                              "99 ill-typed fields: every delivery is answered 200 with its RspCode")},
    )},
    "/reconcile": {"post": operation(
        "Reconcile one day against the gateway's signed report (đối soát)", body=ref("Reconcile"),
        errors=(400, 413, 422, 502, 503), ok={"200": json_content(ref("ReconcileResult"), "the counts")},
    )},
    "/events": {"get": operation(
        "The event journal after a cursor", errors=(422,),
        parameters=[query_param("since", {"type": "integer", "minimum": 0, "maximum": 2**62}, "cursor (seq)",
                                required=False),
                    query_param("limit", {"type": "integer", "minimum": 1, "maximum": 10_000}, "page size",
                                required=False)],
        ok={"200": json_content(ref("Events"), "events with seq > since, oldest first; pass next as since")},
    )},
    "/stats": {"get": operation("Counts for the invariant check", ok={"200": json_content(ref("Stats"), "counts")})},
}
add_links(PATHS, "/dossiers", "post", ("201",), {
    "GetDossier": ("/dossiers/{code}", "get", {"code": "$response.body#/dossier_code"}),
})


def openapi_for(procedure_codes: Iterable[str]) -> dict[str, Any]:
    """The document of an agency whose fee catalogue has these procedure codes."""
    return document(
        "Agency one-stop-shop system (Hệ thống một cửa điện tử) — mock",
        "Dossiers, payment IPNs, reconciliation and the event journal. docs/contracts.md §1.",
        schemas=_schemas(sorted(procedure_codes)), paths=PATHS,
    )


OPENAPI: dict[str, Any] = openapi_for(p.code for p in load_fee_catalogue())
"""The document with the bundled fee catalogue (scenarios/fee-catalogue.toml)."""
