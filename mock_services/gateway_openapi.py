"""OpenAPI 3.1 document of the gateway (served at ``GET /openapi.json``), written by hand to match
`mock_services.gateway`; tests/test_openapi.py validates it and checks real answers against it."""

from __future__ import annotations

from typing import Any

from mock_services.common.openapi import (
    EPOCH,
    EPOCH_OR_NULL,
    INTEGER,
    STRING,
    VND,
    document,
    json_content,
    obj,
    operation,
    path_param,
    query_param,
    ref,
)
from mock_services.gateway_vnpay_openapi import PATHS as VNPAY_PATHS
from mock_services.gateway_vnpay_openapi import SCHEMAS as VNPAY_SCHEMAS
from motcua.payment_platform import PAYMENT_GROUPS

NULLABLE_STRING = {"type": ["string", "null"]}
STATES = ["created", "awaiting_bank", "awaiting_officer_confirmation", "paid", "failed", "cancelled", "expired",
          "partially_refunded", "refunded"]
AGENCY_CODE = {"type": "string", "pattern": r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$", "examples": ["000.00.12.H37"]}
DOSSIER_CODE = {"type": "string", "pattern": r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4}$"}
RESPONSE_CODE = {"type": "string", "pattern": r"^\d{2}$", "description": "VNPay-style: 00 ok, 07, 11, 24, 51, 65, 75"}

SCHEMAS: dict[str, Any] = {
    "Payer": obj(["name", "cccd", "phone"], name=STRING, cccd={"type": "string", "pattern": r"^\d{12}$"},
                 phone=STRING),
    "NewPayment": obj(
        ["agency_code", "dossier_code", "procedure_code", "group", "amount_vnd", "payer", "ipn_url", "return_url"],
        agency_code=AGENCY_CODE, dossier_code=DOSSIER_CODE, procedure_code=STRING,
        group={"enum": list(PAYMENT_GROUPS)},
        amount_vnd={**VND, "minimum": 1, "description": "whole VND above zero (0 → 422 zero_fee)"},
        payer=ref("Payer"), ipn_url={"type": "string", "format": "uri"}, return_url={"type": "string", "format": "uri"},
        expires_in_s={"type": "number", "exclusiveMinimum": 0, "maximum": 604800, "default": 900},
    ),
    "PaymentCreated": obj(
        ["payment_id", "state", "amount_vnd", "pay_url", "expires_at"],
        payment_id=STRING, state={"enum": STATES}, amount_vnd=VND, pay_url=STRING, expires_at=EPOCH,
    ),
    "Payment": obj(
        ["payment_id", "dossier_code", "agency_code", "group", "amount_vnd", "refunded_vnd", "state", "bank_code",
         "bank_txn_no", "response_code", "created_at", "bank_approved_at", "notified_at", "ipn_acked_at",
         "ipn_attempts"],
        payment_id=STRING, dossier_code=DOSSIER_CODE, agency_code=AGENCY_CODE, group=STRING, amount_vnd=VND,
        refunded_vnd=VND, state={"enum": STATES}, bank_code=NULLABLE_STRING, bank_txn_no=NULLABLE_STRING,
        response_code=NULLABLE_STRING, created_at=EPOCH, expires_at=EPOCH, bank_approved_at=EPOCH_OR_NULL,
        notified_at=EPOCH_OR_NULL, ipn_acked_at=EPOCH_OR_NULL, ipn_attempts=INTEGER,
    ),
    "Checkout": obj(["bank_code"], bank_code={"type": "string", "examples": ["VIETINBANK"]}),
    "CheckedOut": obj(
        ["payment_id", "state", "amount_vnd", "bank_code", "charge_url", "charge_token", "expires_at"],
        payment_id=STRING, state={"const": "awaiting_bank"}, amount_vnd=VND, bank_code=STRING,
        charge_url=NULLABLE_STRING, charge_token=STRING, expires_at=EPOCH,
    ),
    "StateOnly": obj(["payment_id", "state"], payment_id=STRING, state={"enum": STATES}),
    "Refund": obj(["amount_vnd"], amount_vnd={**VND, "minimum": 1}),
    "Refunded": obj(["payment_id", "state", "refunded_vnd"], payment_id=STRING,
                    state={"enum": ["partially_refunded", "refunded"]}, refunded_vnd=VND),
    "ConfirmTransfer": obj([], approved={"type": "boolean", "default": True}, bank_txn_no=STRING),
    "BankNotification": obj(
        ["payment_id", "bank_code", "response_code", "bank_txn_no", "amount_vnd"],
        payment_id=STRING, bank_code=STRING, response_code=RESPONSE_CODE, bank_txn_no=STRING,
        amount_vnd={**VND, "minimum": 1}, approved_at=EPOCH_OR_NULL,
    ),
    "NotificationResult": obj(["payment_id", "state", "status"], payment_id=STRING, state={"enum": STATES},
                              status={"enum": ["applied", "duplicate", "ignored"]}),
    "Reconciliation": obj(
        ["agency_code", "date", "payments", "count", "total_vnd"],
        agency_code=AGENCY_CODE, date={"type": "string", "format": "date"},
        payments={"type": "array", "items": obj(
            ["payment_id", "dossier_code", "amount_vnd", "bank_code", "bank_txn_no", "bank_approved_at"],
            payment_id=STRING, dossier_code=DOSSIER_CODE, amount_vnd=VND, bank_code=STRING, bank_txn_no=STRING,
            bank_approved_at=EPOCH)},
        count=INTEGER, total_vnd=VND,
    ),
    "Stats": obj(["payments", "by_state", "ipn"], payments=INTEGER,
                 by_state={"type": "object", "additionalProperties": INTEGER},
                 ipn=obj(["pending", "done", "gave_up", "lost", "attempts", "copies"], pending=INTEGER, done=INTEGER,
                         gave_up=INTEGER, lost=INTEGER, attempts=INTEGER, copies=INTEGER),
                 bank_results=INTEGER, db={"type": "object"}),
}

PAYMENT_ID = path_param("payment_id", "the gateway's payment id")
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": True, "schema": {**STRING, "maxLength": 255}}

PATHS: dict[str, Any] = {
    "/payments": {"post": operation(
        "Create a payment for a dossier's fee (agency)", body=ref("NewPayment"), signed=True,
        parameters=[IDEMPOTENCY], errors=(400, 401, 409, 413, 422),
        ok={"201": json_content(ref("PaymentCreated"), "created"),
            "200": json_content(ref("PaymentCreated"), "the same key and body again: the same payment")},
    )},
    "/payments/{payment_id}": {"get": operation(
        "Status query (querydr); a payment awaiting its bank is checked with the bank first", signed=True,
        parameters=[PAYMENT_ID], errors=(401, 404), ok={"200": json_content(ref("Payment"), "the payment")},
    )},
    "/payments/{payment_id}/checkout": {"post": operation(
        "The citizen chooses a bank; returns the charge token for the bank", body=ref("Checkout"),
        parameters=[PAYMENT_ID], errors=(400, 404, 409, 413, 422),
        ok={"200": json_content(ref("CheckedOut"), "awaiting the bank")},
    )},
    "/payments/{payment_id}/cancel": {"post": operation(
        "The payer cancels", parameters=[PAYMENT_ID], errors=(404, 409),
        ok={"200": json_content(ref("StateOnly"), "cancelled")},
    )},
    "/payments/{payment_id}/refund": {"post": operation(
        "Refund in full or in part (agency)", body=ref("Refund"), signed=True, parameters=[PAYMENT_ID],
        errors=(400, 401, 404, 409, 413, 422), ok={"200": json_content(ref("Refunded"), "refunded")},
    )},
    "/payments/{payment_id}/manual-transfer": {"post": operation(
        "The payer will pay by manual bank transfer; an officer must confirm it (agency)", signed=True,
        parameters=[PAYMENT_ID], errors=(400, 401, 404, 409),
        ok={"200": json_content(ref("Payment"), "awaiting officer confirmation")},
    )},
    "/payments/{payment_id}/confirm-transfer": {"post": operation(
        "An officer confirms (or rejects) the manual transfer (agency)", body=ref("ConfirmTransfer"), signed=True,
        parameters=[PAYMENT_ID], errors=(400, 401, 404, 409, 413, 422),
        ok={"200": json_content(ref("Payment"), "paid (IPN queued) or failed")},
    )},
    "/bank-notifications": {"post": operation(
        "A bank's verdict on a charge (bank); idempotent by bank_txn_no", body=ref("BankNotification"), signed=True,
        errors=(400, 401, 404, 409, 413, 422), ok={"200": json_content(ref("NotificationResult"), "recorded")},
    )},
    "/reconciliation": {"get": operation(
        "Đối soát: the bank-approved payments of one agency on one UTC+7 day; the answer is signed by `gateway` "
        "(signature headers over GET, the request path and query, and the answer's body)", signed=True,
        parameters=[query_param("agency_code", AGENCY_CODE, "the agency"),
                    query_param("date", {"type": "string", "format": "date"}, "YYYY-MM-DD, Asia/Ho_Chi_Minh")],
        errors=(401, 422), ok={"200": json_content(ref("Reconciliation"), "the signed report")},
    )},
    "/stats": {"get": operation("Counts by state and of the IPN outbox", ok={"200": json_content(ref("Stats"),
                                                                                                  "the counts")})},
}

OPENAPI: dict[str, Any] = document(
    "National payment platform (gateway) — mock",
    "Payments of public-service fees, bank notifications, IPNs to agencies and reconciliation. "
    "docs/contracts.md §1; the VNPay 2.1.0 front (payment URL, return, IPN GET, querydr/refund) §1b.",
    schemas={**SCHEMAS, **VNPAY_SCHEMAS}, paths={**PATHS, **VNPAY_PATHS},
)
