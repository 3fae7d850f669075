"""VNPay 2.1.0 on the wire: signatures, encodings, dates, amounts and codes, for both sides of the protocol.

The gateway's VNPay front (`mock_services.gateway.vnpay`), a merchant integrating it (the agency mock in
VNPay mode) and the load test all sign and check messages with these functions, so there is one
reading of the protocol (facts: ``/work/shared/vnpay.md``; contract: docs/contracts.md §1b).

Query signature (payment URL, return URL, IPN)::

    data = "&".join(f"{form(k)}={form(v)}" for k, v in sorted(params) if v != "" and k is not a hash field)
    vnp_SecureHash = hex(HMAC-SHA512(hash_secret, data))          # lower case

where ``form`` is the WHATWG ``application/x-www-form-urlencoded`` byte encoding (keep ``A-Z a-z 0-9
* - . _``, space → ``+``, every other UTF-8 byte → ``%XX``). The query and refund API sign the values
joined by ``|`` in a fixed field order (`QUERYDR_REQUEST` …); an absent field is the empty string.

    url = payment_url("http://127.0.0.1:8080", secret, {"vnp_TmnCode": "MOTCUA01", ...})
    ok = verify_params(dict_of_query, secret)                    # constant-time
    body["vnp_SecureHash"] = pipe_hash(secret, body, QUERYDR_RESPONSE)

Amounts are integer VND on our side and ``VND × 100`` on the wire (`to_wire_amount`, `parse_wire_amount`).
Times are ``yyyyMMddHHmmss`` in Viet Nam time, UTC+7 (`vn_time`, `parse_vn_time`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote_plus

from motcua.mock_services.common.ids import payment_id_for

VERSION = "2.1.0"
VN_TZ = dt.timezone(dt.timedelta(hours=7), "Asia/Ho_Chi_Minh")
HASH_FIELDS = frozenset({"vnp_SecureHash", "vnp_SecureHashType"})
"""Never part of the signed data."""
PAY_PATH = "/paymentv2/vpcpay.html"
TRANSACTION_PATH = "/merchant_webapi/api/transaction"
BANK_LIST_PATH = "/qrpayauth/api/merchant/get_bank_list"
"""The path the npm ``vnpay`` library's ``getBankList`` POSTs ``tmn_code=…`` to."""

QUERYDR_REQUEST = ("vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TxnRef",
                   "vnp_TransactionDate", "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo")
REFUND_REQUEST = ("vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TransactionType",
                  "vnp_TxnRef", "vnp_Amount", "vnp_TransactionNo", "vnp_TransactionDate", "vnp_CreateBy",
                  "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo")
REFUND_RESPONSE = ("vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode",
                   "vnp_TxnRef", "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo",
                   "vnp_TransactionType", "vnp_TransactionStatus", "vnp_OrderInfo")
QUERYDR_RESPONSE = (*REFUND_RESPONSE, "vnp_PromotionCode", "vnp_PromotionAmount")

PAYMENT_CODES = {
    "00": "Giao dịch thành công",
    "07": "Trừ tiền thành công, giao dịch bị nghi ngờ (liên quan tới lừa đảo, giao dịch bất thường)",
    "09": "Thẻ/Tài khoản chưa đăng ký dịch vụ InternetBanking",
    "10": "Xác thực thông tin thẻ/tài khoản không đúng quá 3 lần",
    "11": "Đã hết hạn chờ thanh toán",
    "12": "Thẻ/Tài khoản bị khóa",
    "13": "Nhập sai mật khẩu xác thực giao dịch (OTP)",
    "24": "Khách hàng hủy giao dịch",
    "51": "Tài khoản không đủ số dư",
    "65": "Tài khoản đã vượt quá hạn mức giao dịch trong ngày",
    "75": "Ngân hàng thanh toán đang bảo trì",
    "79": "Nhập sai mật khẩu thanh toán quá số lần quy định",
    "99": "Lỗi khác",
}
"""``vnp_ResponseCode`` of a payment (return URL and IPN)."""
TRANSACTION_STATUS = {
    "00": "Giao dịch thành công", "01": "Giao dịch chưa hoàn tất", "02": "Giao dịch bị lỗi",
    "04": "Giao dịch đảo", "05": "VNPAY đang xử lý giao dịch này (GD hoàn tiền)",
    "06": "VNPAY đã gửi yêu cầu hoàn tiền sang Ngân hàng (GD hoàn tiền)", "07": "Giao dịch bị nghi ngờ gian lận",
    "09": "GD Hoàn trả bị từ chối",
}
PAGE_ERRORS = {
    "01": "Giao dịch đã tồn tại (Transaction already exists with other data)",
    "02": "Merchant không hợp lệ (kiểm tra lại vnp_TmnCode)",
    "03": "Dữ liệu gửi sang không đúng định dạng",
    "11": "Giao dịch đã quá thời gian chờ thanh toán",
    "70": "Sai chữ ký (Wrong checksum)",
}
"""Codes of the payment page's error answer (``/paymentv2/Payment/Error.html?code=…``)."""
API_CODES = {
    "00": "Request success", "02": "Merchant is not valid (check vnp_TmnCode)",
    "03": "Data is not in the right format", "91": "Transaction not found",
    "94": "Duplicate request (vnp_RequestId already used today)",
    "95": "Transaction is not successful at VNPAY; refund refused", "97": "Invalid checksum",
    "99": "Other errors",
}
"""``vnp_ResponseCode`` of the query/refund API."""
IPN_ANSWERS = {"00": "Confirm Success", "01": "Order not found", "02": "Order already confirmed",
               "04": "Invalid amount", "97": "Invalid signature", "99": "Unknown error"}
"""What a merchant answers to an IPN (``RspCode``); ``00`` and ``02`` end delivery."""

_VN_TIME = re.compile(r"^\d{14}$")
_DIGITS = re.compile(r"^[0-9]+$")
_FORM_SAFE = re.compile(r"[A-Za-z0-9*._-]*")
_FORM_SAFE_OR_SPACE = re.compile(r"[A-Za-z0-9*._ -]*")


# --------------------------------------------------------------------------- query signatures


def form(text: str) -> str:
    """WHATWG ``application/x-www-form-urlencoded`` (as ``URLSearchParams`` and an HTML form encode)."""
    if _FORM_SAFE.fullmatch(text):  # most keys and values: nothing to encode (the hot path)
        return text
    if _FORM_SAFE_OR_SPACE.fullmatch(text):
        return text.replace(" ", "+")
    # quote_plus keeps "~" as well; WHATWG does not.
    return quote_plus(text, safe="*").replace("~", "%7E")


def sign_data(params: Mapping[str, Any]) -> str:
    """The signed text of a query: sorted, non-empty, without the hash fields, form-encoded, joined by ``&``."""
    return "&".join(
        f"{form(key)}={form(str(value))}" for key, value in sorted(params.items())
        if key not in HASH_FIELDS and value is not None and value != ""
    )


def hmac_hex(secret: bytes, data: str) -> str:
    """Lower-case hex HMAC-SHA512 of `data` (UTF-8)."""
    return hmac.new(secret, data.encode(), hashlib.sha512).hexdigest()


def sign_params(params: Mapping[str, Any], secret: bytes) -> str:
    return hmac_hex(secret, sign_data(params))


def signed_query(params: Mapping[str, Any], secret: bytes) -> str:
    """The query string a VNPay party sends: the signed data, then ``&vnp_SecureHash=…``."""
    data = sign_data(params)
    return f"{data}&vnp_SecureHash={hmac_hex(secret, data)}"


def payment_url(base_url: str, secret: bytes, params: Mapping[str, Any]) -> str:
    """A signed ``vpcpay.html`` URL at the gateway `base_url` (what a merchant builds)."""
    return f"{base_url.rstrip('/')}{PAY_PATH}?{signed_query(params, secret)}"


def verify_params(params: Mapping[str, str], secret: bytes) -> bool:
    """True when ``vnp_SecureHash`` matches (constant time; the hex is compared as sent, lower case)."""
    given = params.get("vnp_SecureHash", "")
    return hmac.compare_digest(sign_params(params, secret).encode(), given.encode())


# --------------------------------------------------------------------------- the query/refund API


def js_string(value: object) -> str:
    """A JSON value as JavaScript's ``String()`` writes it (what clients sign); absent → empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def pipe_data(body: Mapping[str, Any], fields: Iterable[str]) -> str:
    return "|".join(js_string(body.get(name)) for name in fields)


def pipe_hash(secret: bytes, body: Mapping[str, Any], fields: Iterable[str]) -> str:
    """The ``vnp_SecureHash`` of an API message: HMAC-SHA512 over the `fields` of `body` joined by ``|``."""
    return hmac_hex(secret, pipe_data(body, fields))


def verify_pipe(secret: bytes, body: Mapping[str, Any], fields: Iterable[str]) -> bool:
    given = body.get("vnp_SecureHash")
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(pipe_hash(secret, body, fields).encode(), given.encode())


# --------------------------------------------------------------------------- amounts and times


def to_wire_amount(amount_vnd: int) -> int:
    """VND → the wire's ``vnp_Amount`` (VND × 100)."""
    return amount_vnd * 100


def parse_wire_amount(value: object, field: str = "vnp_Amount") -> int:
    """A wire ``vnp_Amount`` (digits or a JSON integer, a whole multiple of 100) → VND; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{field} must be VND × 100 as digits, got {value!r}")
    text = str(value)
    if not _DIGITS.match(text) or len(text) > 17:
        raise ValueError(f"{field} must be VND × 100 as digits (10,000 VND is 1000000), got {value!r}")
    amount = int(text)
    if amount <= 0 or amount % 100:
        raise ValueError(f"{field} must be a positive whole number of VND times 100 (10,000 VND is 1000000), "
                         f"got {value!r}")
    return amount // 100


def vn_time(epoch_s: float) -> str:
    """Epoch seconds → ``yyyyMMddHHmmss`` in Viet Nam time."""
    return dt.datetime.fromtimestamp(epoch_s, VN_TZ).strftime("%Y%m%d%H%M%S")


def parse_vn_time(value: object, field: str) -> float:
    """``yyyyMMddHHmmss`` (Viet Nam time; a JSON number is accepted as clients send one) → epoch seconds."""
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not _VN_TIME.match(text):
        raise ValueError(f"{field} must be yyyyMMddHHmmss (Viet Nam time, UTC+7), got {value!r}")
    try:
        stamp = dt.datetime(int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]),
                            int(text[12:14]), tzinfo=VN_TZ)
    except ValueError:
        raise ValueError(f"{field} is not a real date and time: {value!r}") from None
    return stamp.timestamp()


def vn_day_of(vn_stamp: str) -> str:
    """``yyyyMMddHHmmss`` → its Viet Nam calendar day ``YYYY-MM-DD``."""
    return f"{vn_stamp[:4]}-{vn_stamp[4:6]}-{vn_stamp[6:8]}"


def vnpay_payment_id(tmn_code: str, create_date: str, txn_ref: str) -> str:
    """The gateway's id of the payment of a VNPay order: it follows from the terminal, the UTC+7 day of
    ``vnp_CreateDate`` and ``vnp_TxnRef`` (a rebuilt URL of the order is the same payment; the merchant can name it)."""
    return payment_id_for(f"vnpay:{tmn_code}", f"{vn_day_of(create_date)}:{txn_ref}")
