"""The bank app paying a scanned VietQR (``POST /vietqr/pay`` of the bank mock).

Scene: at the counter the citizen scans the officer's QR with her bank's app and confirms with the OTP.
The app reads the payload (`mock_services.common.vietqr`: CRC, NAPAS tags, amount, bill number = the
gateway's payment id), the bank checks the payment out at the gateway for itself (``POST
/payments/{id}/checkout`` with its own bank code), refuses a QR whose amount differs from what the
gateway asks, and charges it like any other payment: the notification, the IPN and the reconciliation
follow unchanged. Body: ``{"payload": "...", "bank_code": "VCB", "otp": "123456"}``; the answer is the
charge's verdict (as ``POST /charge``) with the QR's bill number and amount.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
from motcua.mock_services.common import vietqr
from motcua.mock_services.common.charge_token import read_charge_token
from motcua.mock_services.common.http import require
from motcua.mock_services.errors import ApiError, ChargeTokenError, VietQrError

if TYPE_CHECKING:
    from motcua.mock_services.bank.app import Bank


async def pay_scanned(bank: Bank, body: Mapping[str, Any]) -> dict[str, Any]:
    payload, bank_code, otp = require(body, "payload"), require(body, "bank_code"), require(body, "otp")
    try:
        qr = vietqr.parse(payload)
    except VietQrError as exc:
        raise ApiError(422, "invalid_vietqr", f"payload: {exc}", field="payload") from None
    profile = bank.config.catalogue.get(bank_code)
    if profile is None:
        raise ApiError(422, "unknown_bank", f"bank_code {bank_code!r} is not in the catalogue; choose one of "
                       f"{', '.join(bank.config.catalogue)}", field="bank_code")
    if not bank.config.gateway_url:
        raise ApiError(503, "no_gateway", "this bank was started without --gateway-url: it cannot reach the payee")
    url = f"{bank.config.gateway_url.rstrip('/')}/payments/{qr.bill_number}/checkout"
    try:
        status, checkout = await bank.client.post_json(url, {"bank_code": bank_code}, signed=False)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ApiError(503, "gateway_unavailable", f"cannot check out {qr.bill_number}: {exc}") from None
    if status != 200 or not isinstance(checkout, dict) or "charge_token" not in checkout:
        raise ApiError(409, "not_payable", f"the gateway refused bill {qr.bill_number}: HTTP {status} {checkout}",
                       field="payload")
    try:
        claims = read_charge_token(checkout["charge_token"], bank.gateway_secret)
    except ChargeTokenError as exc:
        raise ApiError(502, "bad_charge_token", f"the gateway's charge token: {exc}") from None
    if claims.amount_vnd != qr.amount_vnd:
        raise ApiError(422, "amount_mismatch", f"the QR says {qr.amount_vnd} VND but the payment is "
                       f"{claims.amount_vnd} VND", field="payload")
    verdict = await bank.charge_once(claims, profile, otp)
    return {**verdict, "bill_number": qr.bill_number, "qr_amount_vnd": qr.amount_vnd}
