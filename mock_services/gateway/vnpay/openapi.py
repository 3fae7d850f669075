"""OpenAPI 3.1 parts of the gateway's VNPay 2.1.0 front (`mock_services.gateway.vnpay`), merged into the
gateway's document by `mock_services.gateway.openapi`; contract: docs/contracts.md §1b."""

from __future__ import annotations

from typing import Any

from motcua.mock_services.bank.catalogue import DEFAULT_BANK_CODES
from motcua.mock_services.common.openapi import (
               EPOCH,
               INTEGER,
               STRING,
               VND,
               json_content,
               obj,
               operation,
               path_param,
               ref,
)
from motcua.mock_services.common.vnpay_wire import API_CODES
from motcua.mock_services.gateway.vnpay.records import PATHS as RECORDS_PATHS

VNP = {"type": "string", "description": "VNPay field, as text"}
CODE = {"type": "string", "pattern": r"^[0-9]{2}$"}
TMN_CODE = {"type": "string", "pattern": "^[A-Z0-9]{8}$", "description": "vnp_TmnCode: 8 upper-case letters or digits"}
CHOSEN_BANK = {"enum": sorted(DEFAULT_BANK_CODES),
               "description": "a code of the payer's page: the bank service's catalogue (GET /banks); this document "
                              "lists the bundled one (mock_services/banks.toml)"}
REDIRECT = {"description": "redirect (Location header)", "headers": {"Location": {"schema": STRING}}}
HTML = {"description": "an HTML page", "content": {"text/html": {"schema": STRING}}}
PAY_PARAMS = ["vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_Amount", "vnp_CurrCode", "vnp_TxnRef",
              "vnp_OrderInfo", "vnp_OrderType", "vnp_Locale", "vnp_ReturnUrl", "vnp_IpAddr", "vnp_CreateDate",
              "vnp_ExpireDate", "vnp_SecureHash"]
PAYMENT_ID = path_param("payment_id", "the gateway's payment id (from the payer's page)")
API_FIELDS = ["vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode", "vnp_TxnRef",
              "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo", "vnp_TransactionType",
              "vnp_TransactionStatus", "vnp_OrderInfo", "vnp_SecureHash"]

SCHEMAS: dict[str, Any] = {
    "VnpayPayerPage": obj(
        ["payment_id", "vnp_TxnRef", "amount_vnd", "state", "expires_at", "banks", "choose_url", "cancel_url"],
        payment_id=STRING, vnp_TxnRef=STRING, amount_vnd=VND, state=STRING, expires_at=EPOCH,
        bank_code={"type": ["string", "null"]}, choose_url=STRING, cancel_url=STRING,
        banks={"type": "array", "items": obj(["code", "name", "kind"], code=STRING, name=STRING, kind=STRING)},
    ),
    "VnpayErrorPage": obj(["code", "message"], code=CODE, message=STRING, detail=STRING,
                          field={"type": ["string", "null"]}),
    "VnpayChosen": obj(
        ["payment_id", "state", "amount_vnd", "bank_code", "charge_url", "charge_token", "return_url", "expires_at"],
        payment_id=STRING, state={"const": "awaiting_bank"}, amount_vnd=VND, bank_code=STRING,
        charge_url={"type": ["string", "null"]}, charge_token=STRING, return_url=STRING, expires_at=EPOCH,
    ),
    "VnpayTransactionRequest": {
        "type": "object", "required": ["vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TxnRef",
                                       "vnp_TransactionDate", "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo",
                                       "vnp_SecureHash"],
        "description": "querydr, or refund (adds vnp_TransactionType 02|03, vnp_Amount ×100, vnp_CreateBy, "
                       "vnp_TransactionNo?); vnp_SecureHash is HMAC-SHA512 over the fields joined by '|'",
        "additionalProperties": {"type": ["string", "integer"]},
    },
    "VnpayTransactionAnswer": {
        "type": "object", "required": ["vnp_ResponseId", "vnp_ResponseCode", "vnp_Message"],
        "properties": {**{name: VNP for name in API_FIELDS}, "vnp_Command": {"enum": ["querydr", "refund"]},
                       "vnp_ResponseCode": {"enum": sorted(API_CODES)}},
        "description": "always HTTP 200; signed when the terminal is known; absent fields are left out, never null "
                       "(vnp_Command is absent when the request named neither querydr nor refund)",
    },
    "VnpayBank": obj(["bank_code", "bank_name", "logo_link", "bank_type", "display_order"], bank_code=STRING,
                     bank_name=STRING, logo_link=STRING, bank_type=INTEGER, display_order=INTEGER),
}

PATHS: dict[str, Any] = {
    "/paymentv2/vpcpay.html": {"get": operation(
        "VNPay payment URL: checks every field and vnp_SecureHash, creates the payment (idempotent by terminal + "
        "vnp_TxnRef + day) and shows the payer's page (JSON with Accept: application/json)",
        parameters=[{"name": n, "in": "query", "required": True, "schema": STRING} for n in PAY_PARAMS]
        + [{"name": "vnp_BankCode", "in": "query", "required": False, "schema": STRING}],
        ok={"200": {"description": "the payer's page", "content": {
            "text/html": {"schema": STRING}, "application/json": {"schema": ref("VnpayPayerPage")}}},
            "302": {**REDIRECT, "description": "refused: to the error page naming the code and field; "
                    "nothing was written"}},
    )},
    "/paymentv2/Payment/Error.html": {"get": operation(
        "The payment page's error answer (code, message, field)",
        parameters=[{"name": "code", "in": "query", "required": True, "schema": CODE},
                    *({"name": n, "in": "query", "required": False, "schema": STRING} for n in ("message", "field"))],
        ok={"200": {"description": "the error page", "content": {
            "text/html": {"schema": STRING}, "application/json": {"schema": ref("VnpayErrorPage")}}},
            "400": {"description": "code missing or not two digits: a page saying so", "content": {
                "text/html": {"schema": STRING}, "application/json": {"schema": ref("Error")}}}},
    )},
    "/paymentv2/pay/{payment_id}": {"post": operation(
        "The payer chose a bank (form bank_code=… or JSON); returns the charge token for the bank",
        parameters=[PAYMENT_ID], body=obj(["bank_code"], bank_code=CHOSEN_BANK), errors=(400, 404, 409, 413, 422),
        ok={"200": json_content(ref("VnpayChosen"), "awaiting the bank")},
    )},
    "/paymentv2/cancel/{payment_id}": {"post": operation(
        "The payer cancels: redirect to vnp_ReturnUrl with vnp_ResponseCode 24", parameters=[PAYMENT_ID],
        errors=(404, 409), ok={"302": REDIRECT},
    )},
    "/paymentv2/return/{payment_id}": {"get": operation(
        "Back from the bank: redirect to vnp_ReturnUrl with the signed result (asks the bank if its notice is late)",
        parameters=[PAYMENT_ID], errors=(404,), ok={"302": REDIRECT, "202": HTML},
    )},
    "/merchant_webapi/api/transaction": {"post": operation(
        "querydr and refund (02 full, 03 partial), signed both ways", body=ref("VnpayTransactionRequest"),
        errors=(413,), ok={"200": json_content(ref("VnpayTransactionAnswer"), "the signed answer, or a code")},
    )},
    "/qrpayauth/api/merchant/get_bank_list": {"post": {
        "summary": "The banks and wallets of the payer's page (what the npm vnpay library's getBankList reads)",
        "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
            "schema": obj(["tmn_code"], tmn_code=TMN_CODE)}}},
        "responses": {"200": json_content({"type": "array", "items": ref("VnpayBank")}, "the banks"),
                      "400": json_content(ref("Error"), "tmn_code missing or not 8 upper-case letters or digits"),
                      "404": json_content(ref("Error"), "tmn_code is not a terminal of this gateway")},
    }},
}
PATHS.update(RECORDS_PATHS)
