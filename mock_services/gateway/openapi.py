"""OpenAPI 3.1 document of the gateway (served at ``GET /openapi.json``), written by hand to match
`mock_services.gateway.app`; tests/test_openapi.py validates it and checks real answers against it."""

from __future__ import annotations

from typing import Any

from motcua.mock_services.common.openapi import (
    AGENCY_CODE,
    CCCD,
    DATE,
    DOSSIER_CODE,
    EPOCH,
    EPOCH_OR_NULL,
    INTEGER,
    STRING,
    TEXT,
    URL,
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
from motcua.mock_services.gateway.vietqr import PATHS as VIETQR_PATHS
from motcua.mock_services.gateway.vnpay.openapi import PATHS as VNPAY_PATHS
from motcua.mock_services.gateway.vnpay.openapi import SCHEMAS as VNPAY_SCHEMAS

from motcua.payment_platform import PAYMENT_GROUPS

NULLABLE_STRING = {"type": ["string", "null"]}
STATES = ["created", "awaiting_bank", "awaiting_officer_confirmation", "paid", "failed", "cancelled", "expired",
          "partially_refunded", "refunded"]
BANK_CODE = {"type": "string", "pattern": "^[A-Z0-9_-]{1,32}$", "examples": ["VIETINBANK"]}
RESPONSE_CODE = {"type": "string", "pattern": "^[0-9]{2}$", "description": "VNPay-style: 00 ok, 07, 11, 24, 51, 65, 75"}

SCHEMAS: dict[str, Any] = {
    "Payer": obj(["name", "cccd", "phone"], name=TEXT, cccd=CCCD, phone=TEXT),
    "NewPayment": obj(
        ["agency_code", "dossier_code", "procedure_code", "group", "amount_vnd", "payer", "ipn_url", "return_url"],
        agency_code=AGENCY_CODE, dossier_code={**DOSSIER_CODE, "description": "must begin with agency_code"},
        procedure_code=TEXT,
        group={"enum": list(PAYMENT_GROUPS)},
        amount_vnd={**VND, "minimum": 1, "description": "whole VND above zero (0 → 422 zero_fee)"},
        payer=ref("Payer"), ipn_url=URL, return_url=URL,
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
    "Checkout": obj(["bank_code"], bank_code=BANK_CODE),
    "CheckedOut": obj(
        ["payment_id", "state", "amount_vnd", "bank_code", "charge_url", "charge_token", "expires_at"],
        payment_id=STRING, state={"const": "awaiting_bank"}, amount_vnd=VND, bank_code=STRING,
        charge_url=NULLABLE_STRING, charge_token=STRING, expires_at=EPOCH,
    ),
    "StateOnly": obj(["payment_id", "state"], payment_id=STRING, state={"enum": STATES}),
    "Refund": obj(["amount_vnd"], amount_vnd={**VND, "minimum": 1}),
    "Refunded": obj(["payment_id", "state", "refunded_vnd"], payment_id=STRING,
                    state={"enum": ["partially_refunded", "refunded"]}, refunded_vnd=VND),
    "ConfirmTransfer": obj([], approved={"type": "boolean", "default": True}, bank_txn_no=TEXT),
    "BankNotification": obj(
        ["payment_id", "bank_code", "response_code", "bank_txn_no", "amount_vnd"],
        payment_id=TEXT, bank_code=TEXT, response_code=RESPONSE_CODE, bank_txn_no=TEXT,
        amount_vnd={**VND, "minimum": 1}, approved_at=EPOCH_OR_NULL,
    ),
    "NotificationResult": obj(["payment_id", "state", "status"], payment_id=STRING, state={"enum": STATES},
                              status={"enum": ["applied", "duplicate", "ignored"]}),
    "Reconciliation": obj(
        ["agency_code", "date", "payments", "count", "total_vnd"],
        agency_code=AGENCY_CODE, date=DATE,
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
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": True,
               "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}}

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
                    query_param("date", DATE, "YYYY-MM-DD, Asia/Ho_Chi_Minh")],
        errors=(401, 422), ok={"200": json_content(ref("Reconciliation"), "the signed report")},
    )},
    "/stats": {"get": operation("Counts by state and of the IPN outbox", ok={"200": json_content(ref("Stats"),
                                                                                                  "the counts")})},
}

_BY_ID = {"payment_id": "$response.body#/payment_id"}
add_links(PATHS, "/payments", "post", ("200", "201"), {
    name: (f"/payments/{{payment_id}}{tail}", verb, _BY_ID) for name, tail, verb in (
        ("QueryPayment", "", "get"), ("Checkout", "/checkout", "post"), ("Cancel", "/cancel", "post"),
        ("Refund", "/refund", "post"), ("ManualTransfer", "/manual-transfer", "post"),
        ("ConfirmTransfer", "/confirm-transfer", "post"))
})
add_links(PATHS, "/payments/{payment_id}/checkout", "post", ("200",), {
    "QueryCheckedOut": ("/payments/{payment_id}", "get", _BY_ID),
    "CancelCheckedOut": ("/payments/{payment_id}/cancel", "post", _BY_ID),
})
add_links(PATHS, "/payments/{payment_id}/manual-transfer", "post", ("200",), {
    "ConfirmManual": ("/payments/{payment_id}/confirm-transfer", "post", _BY_ID),
})
add_links(PATHS, "/payments/{payment_id}/confirm-transfer", "post", ("200",), {
    "RefundConfirmed": ("/payments/{payment_id}/refund", "post", _BY_ID),
})

OPENAPI: dict[str, Any] = document(
    "National payment platform (gateway) — mock",
    "Payments of public-service fees, bank notifications, IPNs to agencies and reconciliation. "
    "docs/contracts.md §1; the VNPay 2.1.0 front (payment URL, return, IPN GET, querydr/refund) §1b.",
    schemas={**SCHEMAS, **VNPAY_SCHEMAS}, paths={**PATHS, **VNPAY_PATHS, **VIETQR_PATHS},
)
