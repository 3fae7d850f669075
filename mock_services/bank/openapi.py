"""OpenAPI 3.1 document of the bank service (served at ``GET /openapi.json``), written by hand to match
`mock_services.bank.app`; tests/test_openapi.py validates it and checks real answers against it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from motcua.mock_services.bank.catalogue import DEFAULT_BANK_CODES
from motcua.mock_services.common.openapi import (
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
    ref,
)

RESPONSE_CODE = {"enum": ["00", "07", "11", "24", "51", "65", "75"],
                 "description": "00 ok, 07 suspicious, 11 expired, 24 cancelled by the payer, 51 insufficient funds, "
                                "65 over limit, 75 under maintenance"}
MS = {"type": "number", "minimum": 0, "description": "milliseconds"}

SCHEMAS: dict[str, Any] = {
    "Bank": obj(
        ["code", "name", "kind", "p50_ms", "p95_ms", "max_ms", "notify_p50_ms", "notify_p95_ms", "notify_max_ms",
         "decline_mix"],
        code=STRING, name=STRING, kind={"enum": ["bank", "ewallet"]}, p50_ms=MS, p95_ms=MS, max_ms=MS, notify_p50_ms=MS,
        notify_p95_ms=MS, notify_max_ms=MS, decline_mix={"type": "object", "additionalProperties": {"type": "number"}},
    ),
    "VietqrPayment": obj(["payload", "bank_code", "otp"],
                         payload={"type": "string", "minLength": 1, "maxLength": 512,
                                  "description": "the scanned EMVCo payload (its CRC and tags are checked)"},
                         bank_code=TEXT,
                         otp={"type": "string", "pattern": "^[0-9]{6}$", "description": "000000 is always wrong"}),
    "Charge": obj(["charge_token", "bank_code", "otp"], charge_token=TEXT, bank_code=TEXT,
                  otp={"type": "string", "pattern": "^[0-9]{6}$", "description": "000000 is always wrong"}),
    "Verdict": obj(
        ["payment_id", "bank_code", "response_code", "bank_txn_no", "amount_vnd", "approved_at"],
        payment_id=STRING, bank_code=STRING, response_code=RESPONSE_CODE, bank_txn_no=STRING, amount_vnd=VND,
        approved_at=EPOCH_OR_NULL,
    ),
    "ChargeResult": obj(
        ["payment_id", "bank_code", "response_code", "bank_txn_no", "amount_vnd", "approved_at", "message",
         "return_url"],
        payment_id=STRING, bank_code=STRING, response_code=RESPONSE_CODE, bank_txn_no=STRING, amount_vnd=VND,
        approved_at=EPOCH_OR_NULL, message=STRING, return_url=STRING,
    ),
    "BankStats": obj(["charges", "by_code", "notify", "notify_attempts"], charges=INTEGER,
                     by_code={"type": "object", "additionalProperties": INTEGER},
                     notify={"type": "object", "additionalProperties": INTEGER}, notify_attempts=INTEGER),
}

PATHS: dict[str, Any] = {
    "/banks": {"get": operation("The catalogue of banks and e-wallets (ASSUMED figures)", ok={
        "200": json_content({"type": "array", "items": ref("Bank")}, "the catalogue")})},
    "/charge": {"post": operation(
        "Charge the citizen with the gateway's charge token and an OTP; answers after the bank's latency; a charge "
        "is made once per payment (a repeat returns the first verdict)",
        body=ref("Charge"), errors=(400, 401, 413, 422),
        ok={"200": json_content(ref("ChargeResult"), "the bank's verdict (declines too)")},
    )},
    "/charges/{payment_id}": {"get": operation(
        "Inquiry by the gateway: the verdict on a payment's charge", signed=True,
        parameters=[path_param("payment_id", "the gateway's payment id")], errors=(401, 404),
        ok={"200": json_content(ref("Verdict"), "the verdict")},
    )},
    "/stats": {"get": operation("Counts of charges and notifications", ok={
        "200": json_content(ref("BankStats"), "the counts")})},
    "/vietqr/pay": {"post": operation(
        "The bank app pays a scanned dynamic VietQR: checks its CRC and tags, checks the payment out at the gateway "
        "(bill number = payment id), refuses another amount, and charges it like POST /charge",
        body=ref("VietqrPayment"),
        errors=(400, 409, 413, 422, 503),
        ok={"200": json_content(ref("ChargeResult"), "the bank's verdict, with bill_number and qr_amount_vnd")},
    )},
}

add_links(PATHS, "/charge", "post", ("200",), {
    "Inquiry": ("/charges/{payment_id}", "get", {"payment_id": "$response.body#/payment_id"}),
})


def openapi_for(bank_codes: Iterable[str]) -> dict[str, Any]:
    """The document of a bank service whose catalogue has these codes (a charge names one of them)."""
    bank_code = {"enum": sorted(bank_codes), "description": "a code of the catalogue (GET /banks)"}
    schemas = dict(SCHEMAS)
    for name in ("Charge", "VietqrPayment"):  # both name a bank of this catalogue
        schemas[name] = {**SCHEMAS[name], "properties": {**SCHEMAS[name]["properties"], "bank_code": bank_code}}
    return document(
        "Banks and e-wallets — mock",
        "Charges with VNPay-style response codes and signed notifications to the gateway. docs/contracts.md §1.",
        schemas=schemas, paths=PATHS,
    )


OPENAPI: dict[str, Any] = openapi_for(DEFAULT_BANK_CODES)
"""The document with the default catalogue (mock_services/banks.toml)."""
