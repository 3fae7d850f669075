"""What reaches the gateway, checked: each ``validate_*`` turns a JSON request body into a validated value
or raises `ApiError` 422 naming the first bad field (a zero fee: ``zero_fee``); `ipn_answer` reads an
agency's or a merchant's answer to an IPN (either front's)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Mapping
from typing import Any

import aiohttp
from motcua.mock_services.common.fastclient import Answer
from motcua.mock_services.common.http import require
from motcua.mock_services.common.ids import DOSSIER_CODE_RE, check_agency_code, parse_cccd
from motcua.mock_services.common.money import parse_vnd
from motcua.mock_services.errors import ApiError, IdError, MoneyError
from motcua.mock_services.gateway import ledger

MAX_EXPIRES_IN_S = 7 * 86400
BANK_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def parse_day(text: str) -> str:
    """``YYYY-MM-DD`` exactly, as a valid date; ValueError otherwise."""
    if len(text) != 10:
        raise ValueError(text)
    return dt.date.fromisoformat(text).isoformat()


def _url(body: Mapping[str, Any], name: str) -> str:
    value = require(body, name)
    if not value.startswith(("http://", "https://")) or len(value) > 2048:
        raise ApiError(422, "invalid_field", f"{name} must be an http(s) URL, got {value[:80]!r}", field=name)
    return value


def validate_create(body: Mapping[str, Any]) -> ledger.NewPayment:
    """Check a create request; ApiError 422 naming the first bad field (a zero fee: ``zero_fee``)."""
    agency_code = require(body, "agency_code")
    try:
        check_agency_code(agency_code)
    except IdError as exc:
        raise ApiError(422, "invalid_field", str(exc), field="agency_code") from None
    dossier_code = require(body, "dossier_code")
    match = DOSSIER_CODE_RE.fullmatch(dossier_code)  # the form only: its date is the agency's business
    if match is None:
        raise ApiError(422, "invalid_field", f"dossier_code must look like '000.00.12.H37-240607-0001', "
                       f"got {dossier_code!r}", field="dossier_code")
    owner = match.group(1)
    if owner != agency_code:
        raise ApiError(422, "invalid_field", f"dossier_code {dossier_code!r} belongs to agency {owner}, "
                       f"not {agency_code}", field="dossier_code")
    group = require(body, "group")
    if group not in ledger.GROUPS:
        raise ApiError(422, "invalid_field", f"group must be one of {', '.join(ledger.GROUPS)}, got {group!r}",
                       field="group")
    if body.get("amount_vnd") == 0 and not isinstance(body.get("amount_vnd"), bool):
        raise ApiError(422, "zero_fee", "amount_vnd is 0: a free procedure creates no payment; "
                       "mark the dossier as no-fee instead", field="amount_vnd")
    try:
        amount = parse_vnd(body.get("amount_vnd"), "amount_vnd", allow_zero=False)
    except MoneyError as exc:
        raise ApiError(422, "invalid_amount", str(exc), field="amount_vnd") from None
    expires_in = body.get("expires_in_s", 900)
    is_number = isinstance(expires_in, int | float) and not isinstance(expires_in, bool)
    if not is_number or not 0 < expires_in <= MAX_EXPIRES_IN_S:
        raise ApiError(422, "invalid_field", f"expires_in_s must be a number of seconds in (0, {MAX_EXPIRES_IN_S}], "
                       f"got {expires_in!r}", field="expires_in_s")
    return ledger.NewPayment(
        agency_code=agency_code, dossier_code=dossier_code, procedure_code=require(body, "procedure_code"),
        group=group, amount_vnd=amount, payer=_validate_payer(body), ipn_url=_url(body, "ipn_url"),
        return_url=_url(body, "return_url"), expires_in_s=float(expires_in),
    )


def _validate_payer(body: Mapping[str, Any]) -> dict[str, str]:
    payer = require(body, "payer", dict)
    for name in ("name", "cccd", "phone"):
        if not isinstance(payer.get(name), str) or not payer[name]:
            raise ApiError(422, "invalid_field", f"payer.{name} must be a non-empty string, got {payer.get(name)!r}",
                           field=f"payer.{name}")
    try:
        parse_cccd(payer["cccd"])
    except IdError as exc:
        raise ApiError(422, "invalid_field", str(exc), field="payer.cccd") from None
    return {"name": payer["name"], "cccd": payer["cccd"], "phone": payer["phone"]}


def validate_bank_result(body: Mapping[str, Any]) -> ledger.BankResult:
    code = require(body, "response_code")
    if len(code) != 2 or not code.isdigit():
        raise ApiError(422, "invalid_field", f"response_code must be two digits such as '00', got {code!r}",
                       field="response_code")
    try:
        amount = parse_vnd(body.get("amount_vnd"), "amount_vnd", allow_zero=False)
    except MoneyError as exc:
        raise ApiError(422, "invalid_amount", str(exc), field="amount_vnd") from None
    approved = body.get("approved_at")
    if approved is not None and (isinstance(approved, bool) or not isinstance(approved, int | float)):
        raise ApiError(422, "invalid_field", f"approved_at must be epoch seconds or null, got {approved!r}",
                       field="approved_at")
    return ledger.BankResult(
        payment_id=require(body, "payment_id"), bank_code=require(body, "bank_code"), response_code=code,
        bank_txn_no=require(body, "bank_txn_no"), amount_vnd=amount,
        approved_at=None if approved is None else float(approved),
    )


async def ipn_answer(sending: Awaitable[Answer]) -> tuple[str | None, str | None]:
    """The ``RspCode`` an agency or a merchant answered to one IPN, or (None, what went wrong): the IPN got no
    answer, an HTTP status other than 200, a body that is not JSON, or JSON without a string ``RspCode``."""
    try:
        answer = await sending
    except (aiohttp.ClientError, TimeoutError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300]
    if answer.status != 200:
        return None, f"HTTP {answer.status}"
    try:
        data = json.loads(answer.body)
    except ValueError:
        return None, f"answer is not JSON: {answer.body[:200]!r}"
    code = data.get("RspCode") if isinstance(data, dict) else None
    if not isinstance(code, str):
        return None, f"answer without RspCode: {str(data)[:200]}"
    return code, None
