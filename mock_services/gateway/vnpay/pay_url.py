"""The VNPay payment URL checked: ``GET /paymentv2/vpcpay.html?vnp_…&vnp_SecureHash=…`` → a payment to create.

Every field VNPay documents is checked (vnpay.md §2: required fields, version, command, currency, locale, amount
×100, ``vnp_TxnRef``, ASCII ``vnp_OrderInfo``, return URL, IP address, dates in UTC+7 within 7 days) after the
terminal and its signature; a refusal is a `PageError` with the error page's code (03 a bad field, 70 a bad
signature, 02 an unknown terminal, 11 already expired) naming the field. Contract: docs/contracts.md §1b.

By default the front accepts what a real VNPay is known or likely to accept from production merchants
and notes each deviation (`Note`, kinds in `mock_services.gateway.vnpay.findings`): a missing
``vnp_ExpireDate``, diacritics in ``vnp_OrderInfo``, a ``vnp_CreateDate`` off the gateway's clock, a
signature made with another sample language's encoder (`mock_services.gateway.vnpay.encoders`), upper-case
hex, an ``vnp_IpAddr`` that is not an IP address, undocumented parameters. ``strict`` refuses them as the
documented contract says (docs/contracts.md §1d).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping

from aiohttp import web
from motcua.mock_services.common import vnpay_wire as wire
from motcua.mock_services.common.vnpay_terminals import Terminal
from motcua.mock_services.errors import PageError
from motcua.mock_services.gateway import ledger
from motcua.mock_services.gateway.requests import BANK_CODE_CHARS
from motcua.mock_services.gateway.vnpay.encoders import REFERENCE, hash_is_upper_case, matching_encoder

MAX_VALUE_CHARS = 255
MAX_EXPIRY_S = 7 * 86400
DEFAULT_EXPIRY_S = 900.0
"""A URL without vnp_ExpireDate gets 15 minutes, VNPay's payment page timeout."""
CLOCK_SKEW_S = 900.0
"""A vnp_CreateDate up to 15 minutes ahead of the gateway's clock is accepted (merchants' clocks drift)."""
PAY_FIELDS = {
    "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_Amount", "vnp_CurrCode", "vnp_TxnRef", "vnp_OrderInfo",
    "vnp_OrderType", "vnp_Locale", "vnp_ReturnUrl", "vnp_IpAddr", "vnp_CreateDate", "vnp_ExpireDate",
}
OPTIONAL_PAY_FIELDS = {"vnp_BankCode", "vnp_SecureHashType", "vnp_Bill_Mobile", "vnp_Bill_Email"}
TXN_REF_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")
ORDER_INFO_RE = re.compile(r"^[\x20-\x7e]{1,255}$")
"""ASCII without diacritics, as VNPay asks (``Thanh toan ho so 000.00.20.H37-240607-0001``)."""
PRINTABLE_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,255}$")
"""What the lenient front takes in vnp_OrderInfo: any printable text, diacritics included."""
Note = Callable[[str, str, str], None]
"""``note(kind, detail, example)``: record a deviation (`mock_services.gateway.vnpay.findings`)."""

FINGERPRINT_SKIP = {"vnp_CreateDate", "vnp_ExpireDate", "vnp_IpAddr", "vnp_SecureHash", "vnp_SecureHashType",
                    "vnp_BankCode", "vnp_Locale"}
"""A rebuilt URL for the same order (new dates, another IP) is the same payment; another amount is not."""


def _ignore(kind: str, detail: str, example: str) -> None:
    """The `Note` of a caller that keeps no findings."""


def checked_params(request: web.Request, terminals: Mapping[str, Terminal], *, strict: bool = True,
                   note: Note = _ignore) -> tuple[Terminal, dict[str, str]]:
    """The terminal and the parameters of a payment URL whose signature it verifies; `PageError` otherwise.
    Not `strict`: a signature made with any sample language's encoder, or in upper-case hex, is noted."""
    query = request.query
    params: dict[str, str] = {}
    for key in query:
        if key in params:
            raise PageError("03", f"{key} is given twice; give each parameter once", key)
        values = query.getall(key)
        if len(values) > 1:
            raise PageError("03", f"{key} is given {len(values)} times; give each parameter once", key)
        params[key] = values[0]
    tmn_code = params.get("vnp_TmnCode", "")
    terminal = terminals.get(tmn_code)
    if terminal is None:
        raise PageError("02", f"vnp_TmnCode {tmn_code[:20]!r} is not a terminal of this gateway", "vnp_TmnCode")
    if "vnp_SecureHash" not in params:
        raise PageError("70", "vnp_SecureHash is missing: sign the URL (HMAC-SHA512, see docs/contracts.md §1b)",
                        "vnp_SecureHash")
    encoder = matching_encoder(params, terminal.hash_secret.encode(), strict=strict)
    if encoder is None:
        raise PageError("70", "vnp_SecureHash does not match the parameters (tampered, or signed with another "
                        "secret or encoding; see docs/contracts.md §1d)", "vnp_SecureHash")
    if encoder != REFERENCE:
        note("signature_encoder", encoder, params.get("vnp_OrderInfo", ""))
    if hash_is_upper_case(params):
        note("secure_hash_upper_case", "", params["vnp_SecureHash"][:16] + "…")
    if "vnp_SecureHashType" in params:
        note("secure_hash_type_present", "", f"vnp_SecureHashType={params['vnp_SecureHashType']}")
    return terminal, params


def order_of(terminal: Terminal, p: Mapping[str, str], now: float, default_ipn_url: str, *, strict: bool = True,
             note: Note = _ignore) -> tuple[ledger.NewPayment, ledger.VnpayOrder, str]:
    """The payment, the VNPay order and the order's fingerprint (what makes a rebuilt URL the same payment);
    not `strict`: the deviations a real VNPay takes are noted instead of refused."""
    for key in p:
        if key not in PAY_FIELDS and key not in OPTIONAL_PAY_FIELDS and key != "vnp_SecureHash":
            if strict:
                raise PageError("03", f"unknown parameter {key[:40]!r}", key)
            note("unknown_parameter", key[:40], f"{key[:40]}={p[key][:60]}")
    for key in sorted(PAY_FIELDS):
        if not p.get(key):
            if key == "vnp_ExpireDate" and not strict:
                note("expire_date_missing", "", f"vnp_CreateDate={p.get('vnp_CreateDate', '')}, no vnp_ExpireDate")
                continue
            raise PageError("03", f"{key} is required", key)
    for key, value in p.items():
        if len(value) > MAX_VALUE_CHARS and key != "vnp_SecureHash":
            raise PageError("03", f"{key} is {len(value)} characters; at most {MAX_VALUE_CHARS}", key)
    _expect(p, "vnp_Version", wire.VERSION)
    _expect(p, "vnp_Command", "pay")
    _expect(p, "vnp_CurrCode", "VND")
    if p["vnp_Locale"] not in ("vn", "en"):
        raise PageError("03", f"vnp_Locale must be vn or en, got {p['vnp_Locale']!r}", "vnp_Locale")
    try:
        amount = wire.parse_wire_amount(p["vnp_Amount"])
    except ValueError as exc:
        raise PageError("03", str(exc), "vnp_Amount") from None
    if not TXN_REF_RE.match(p["vnp_TxnRef"]):
        raise PageError("03", "vnp_TxnRef must be 1–100 letters, digits, '_', '-' or '.'", "vnp_TxnRef")
    if not ORDER_INFO_RE.match(p["vnp_OrderInfo"]):
        if not strict and PRINTABLE_RE.match(p["vnp_OrderInfo"]):
            note("order_info_diacritics", "", p["vnp_OrderInfo"])
        else:
            raise PageError("03", "vnp_OrderInfo must be ASCII without diacritics (Vietnamese without accents)",
                            "vnp_OrderInfo")
    if not re.match(r"^https?://[^\s]+$", p["vnp_ReturnUrl"]):
        raise PageError("03", f"vnp_ReturnUrl must be an http(s) URL, got {p['vnp_ReturnUrl'][:60]!r}",
                        "vnp_ReturnUrl")
    try:
        ipaddress.ip_address(p["vnp_IpAddr"])
    except ValueError:
        if strict:
            raise PageError("03", f"vnp_IpAddr must be an IP address, got {p['vnp_IpAddr'][:45]!r}",
                            "vnp_IpAddr") from None
        note("ip_addr_not_ip", "", f"vnp_IpAddr={p['vnp_IpAddr']}")
    bank = p.get("vnp_BankCode", "")
    if bank and (not set(bank) <= BANK_CODE_CHARS or len(bank) > 32):
        raise PageError("03", f"vnp_BankCode must be an upper-case code such as VNBANK, got {bank!r}",
                        "vnp_BankCode")
    expires = _deadline(p, now, strict=strict, note=note)
    new = ledger.NewPayment(
        agency_code=terminal.agency_code, dossier_code=p["vnp_TxnRef"], procedure_code=p["vnp_OrderType"],
        group=terminal.group, amount_vnd=amount, payer={"ip": p["vnp_IpAddr"]},
        ipn_url=terminal.ipn_url or default_ipn_url, return_url=p["vnp_ReturnUrl"],
        expires_in_s=expires - now,
    )
    order = ledger.VnpayOrder(
        tmn_code=terminal.tmn_code, txn_ref=p["vnp_TxnRef"], vn_day=wire.vn_day_of(p["vnp_CreateDate"]),
        create_date=p["vnp_CreateDate"], order_info=p["vnp_OrderInfo"], order_type=p["vnp_OrderType"],
        locale=p["vnp_Locale"], ip_addr=p["vnp_IpAddr"],
    )
    same = {k: v for k, v in sorted(p.items()) if k not in FINGERPRINT_SKIP}
    fingerprint = hashlib.sha256(json.dumps(same).encode()).hexdigest()
    return new, order, fingerprint


def _deadline(p: Mapping[str, str], now: float, *, strict: bool, note: Note) -> float:
    """The payment's deadline (epoch s) from vnp_ExpireDate, after checking both dates."""
    try:
        created = wire.parse_vn_time(p["vnp_CreateDate"], "vnp_CreateDate")
        expires = (wire.parse_vn_time(p["vnp_ExpireDate"], "vnp_ExpireDate") if p.get("vnp_ExpireDate")
                   else now + DEFAULT_EXPIRY_S)
    except ValueError as exc:
        field = "vnp_CreateDate" if "CreateDate" in str(exc) else "vnp_ExpireDate"
        raise PageError("03", str(exc), field) from None
    if abs(created - now) > CLOCK_SKEW_S:
        hours = round((created - now) / 3600)
        note("create_date_not_utc7", f"{hours:+d} h" if hours else "off by minutes",
             f"vnp_CreateDate={p['vnp_CreateDate']} at {wire.vn_time(now)} (UTC+7)")
    if strict and created > now + CLOCK_SKEW_S:
        raise PageError("03", f"vnp_CreateDate {p['vnp_CreateDate']} is ahead of the gateway's clock "
                        f"({wire.vn_time(now)}, UTC+7); is it in UTC+7?", "vnp_CreateDate")
    if expires <= created:
        raise PageError("03", "vnp_ExpireDate must be after vnp_CreateDate", "vnp_ExpireDate")
    if expires <= now:
        raise PageError("11", f"vnp_ExpireDate {p['vnp_ExpireDate']} has passed (now {wire.vn_time(now)})",
                        "vnp_ExpireDate")
    if expires - now > MAX_EXPIRY_S:
        raise PageError("03", "vnp_ExpireDate is more than 7 days ahead", "vnp_ExpireDate")
    return expires


def _expect(p: Mapping[str, str], key: str, wanted: str) -> None:
    if p[key] != wanted:
        raise PageError("03", f"{key} must be {wanted}, got {p[key][:40]!r}", key)
