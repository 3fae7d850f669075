"""The gateway's VNPay 2.1.0 front: VNPay's wire format over the gateway's one ledger.

Scenario: a merchant (an agency's system built against VNPay) sends the citizen's browser to a signed
``/paymentv2/vpcpay.html`` URL. The gateway checks every field and the signature, creates the payment
(idempotent by terminal + ``vnp_TxnRef`` + the UTC+7 day of ``vnp_CreateDate``) and shows the payer's page
for choosing a bank or wallet. From there the payment is the same as any other: checkout, the bank's
charge and notification, the state machine, the durable IPN outbox with its retry schedule and faults.
Only the wire differs: the browser comes back through ``/paymentv2/return/{id}`` and is redirected to
``vnp_ReturnUrl`` with signed ``vnp_*`` parameters, and the IPN is a signed ``GET`` to the terminal's IPN
URL, answered ``{"RspCode", "Message"}``. ``POST /merchant_webapi/api/transaction`` answers querydr and
refund, signed both ways.

Signing and encoding are `mock_services.common.vnpay_wire`; terminals `mock_services.common.vnpay_terminals`;
the contract docs/contracts.md §1b.
"""

from __future__ import annotations

import hashlib
import html
import ipaddress
import json
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from motcua.mock_services import gateway_ledger as ledger
from motcua.mock_services.common import vnpay_wire as wire
from motcua.mock_services.common.charge_token import ChargeClaims, make_charge_token
from motcua.mock_services.common.fastclient import HttpClient
from motcua.mock_services.common.http import ApiError, json_response, parse_json_object, read_body
from motcua.mock_services.common.payments import IllegalTransition, State
from motcua.mock_services.common.vnpay_terminals import Terminal
from motcua.mock_services.gateway_requests import BANK_CODE_CHARS, payment_id_for
from motcua.mock_services.gateway_vnpay_records import RECORDS_PATH, DeliveryLog, records_handler

if TYPE_CHECKING:
    from motcua.mock_services.gateway import Gateway

ERROR_PATH = "/paymentv2/Payment/Error.html"
MAX_VALUE_CHARS = 255
MAX_EXPIRY_S = 7 * 86400
CLOCK_SKEW_S = 900.0
"""A vnp_CreateDate up to 15 minutes ahead of the gateway's clock is accepted (merchants' clocks drift)."""
PAY_FIELDS = {
    "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_Amount", "vnp_CurrCode", "vnp_TxnRef", "vnp_OrderInfo",
    "vnp_OrderType", "vnp_Locale", "vnp_ReturnUrl", "vnp_IpAddr", "vnp_CreateDate", "vnp_ExpireDate",
}
OPTIONAL_PAY_FIELDS = {"vnp_BankCode", "vnp_SecureHashType", "vnp_Bill_Mobile", "vnp_Bill_Email"}
PAGE_CODE_RE = re.compile(r"^[0-9]{2}\Z")
TMN_CODE_RE = re.compile(r"^[A-Z0-9]{8}\Z")
"""An 8-character terminal code (`mock_services.common.vnpay_terminals`)."""
TXN_REF_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")
ORDER_INFO_RE = re.compile(r"^[\x20-\x7e]{1,255}$")
"""ASCII without diacritics, as VNPay asks (``Thanh toan ho so 000.00.20.H37-240607-0001``)."""
KIND_CARD_TYPE = {"bank": "ATM", "ewallet": "QRCODE"}
KIND_BANK_TYPE = {"bank": 1, "ewallet": 3}
"""``bank_type`` of the bank list (motcua's choice: 1 domestic bank, 3 wallet/QR)."""
FINGERPRINT_SKIP = {"vnp_CreateDate", "vnp_ExpireDate", "vnp_IpAddr", "vnp_SecureHash", "vnp_SecureHashType",
                    "vnp_BankCode", "vnp_Locale"}
"""A rebuilt URL for the same order (new dates, another IP) is the same payment; another amount is not."""
UNPAID_CODES = {State.CANCELLED.value: "24", State.EXPIRED.value: "11"}
"""vnp_ResponseCode of a payment that never reached a bank: cancelled by the payer, or timed out."""
ORDER_CACHE_SIZE = 100_000
"""Orders kept in memory for their IPN (saves a read per IPN); older ones are read from the database."""


class PageError(Exception):
    """A payment URL refused: the error page's code (`wire.PAGE_ERRORS`), the field at fault and why."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


class ApiRefusal(Exception):
    """A query/refund request refused with a documented code (`wire.API_CODES`)."""

    def __init__(self, code: str, message: str, terminal: Terminal | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.terminal = code, message, terminal


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


def _page(title: str, body: str, status: int = 200) -> web.Response:
    text = (f"<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"</head><body><h1>{html.escape(title)}</h1>{body}</body></html>")
    return web.Response(text=text, status=status, content_type="text/html")


class VnpayFront:
    """The VNPay routes of one gateway; payments go through the gateway's ledger and outbox."""

    def __init__(self, gateway: Gateway, terminals: Mapping[str, Terminal], default_ipn_url: str) -> None:
        self.gw = gateway
        self.terminals = dict(terminals)
        self.default_ipn_url = default_ipn_url
        self.client = HttpClient(timeout_s=gateway.config.ipn_timeout_s, max_idle_per_host=1024)
        self._banks: list[dict[str, Any]] | None = None
        self._bank_kinds: dict[str, str] = {}
        self._options_html = ""
        self.deliveries = DeliveryLog()
        """Every IPN sent, with its answer (`mock_services.gateway_vnpay_records`)."""
        self._orders: OrderedDict[str, dict[str, Any]] = OrderedDict()
        """The order fields of recent payments (tmn_code, txn_ref, order_info, transaction_no), for their IPNs."""

    async def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------------ the payment URL

    async def pay(self, request: web.Request) -> web.Response:
        now = time.time()
        try:
            terminal, params = self._checked_params(request)
            new, order, fingerprint = self._order(terminal, params, now)
        except PageError as exc:
            return self._error_redirect(exc)
        payment_id = payment_id_for(f"vnpay:{terminal.tmn_code}", f"{order.vn_day}:{order.txn_ref}")
        try:
            row, transaction_no = await self.gw.db.transact(lambda conn: ledger.insert_vnpay_payment(
                conn, new, order, payment_id=payment_id, fingerprint=fingerprint, now=now))
        except ApiError as exc:
            if exc.error != "idempotency_conflict":
                raise
            return self._error_redirect(PageError(
                "01", f"vnp_TxnRef {order.txn_ref!r} was already used on {order.vn_day} for another order "
                "(amount, order info or return URL differ); use a new vnp_TxnRef", "vnp_TxnRef"))
        if transaction_no is not None:
            self._remember(payment_id, {"tmn_code": order.tmn_code, "txn_ref": order.txn_ref,
                                        "order_info": order.order_info, "transaction_no": transaction_no})
        return await self._payer_page(request, row, params.get("vnp_BankCode", ""))

    def _remember(self, payment_id: str, order: dict[str, Any]) -> None:
        self._orders[payment_id] = order
        if len(self._orders) > ORDER_CACHE_SIZE:
            self._orders.popitem(last=False)

    def forget(self, payment_id: str) -> None:
        """The payment's IPN delivery has ended: its order need not stay in memory."""
        self._orders.pop(payment_id, None)

    def _order_row(self, payment_id: str, row: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The payment (`row`, if the caller has it fresh) with its order, from memory when possible."""
        order = self._orders.get(payment_id)
        if order is not None and row is not None:
            return {**dict(row), **order}
        full = ledger.vnpay_payment(self.gw.db.conn, payment_id)
        if full is None:
            return None
        return {**dict(full), **(dict(row) if row is not None else {})}

    def _checked_params(self, request: web.Request) -> tuple[Terminal, dict[str, str]]:
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
        terminal = self.terminals.get(tmn_code)
        if terminal is None:
            raise PageError("02", f"vnp_TmnCode {tmn_code[:20]!r} is not a terminal of this gateway", "vnp_TmnCode")
        if "vnp_SecureHash" not in params:
            raise PageError("70", "vnp_SecureHash is missing: sign the URL (HMAC-SHA512, see docs/contracts.md §1b)",
                            "vnp_SecureHash")
        if not wire.verify_params(params, terminal.hash_secret.encode()):
            raise PageError("70", "vnp_SecureHash does not match the parameters (tampered, or signed with another "
                            "secret or encoding)", "vnp_SecureHash")
        return terminal, params

    def _order(self, terminal: Terminal, p: Mapping[str, str], now: float
               ) -> tuple[ledger.NewPayment, ledger.VnpayOrder, str]:
        for key in p:
            if key not in PAY_FIELDS and key not in OPTIONAL_PAY_FIELDS and key != "vnp_SecureHash":
                raise PageError("03", f"unknown parameter {key[:40]!r}", key)
        for key in sorted(PAY_FIELDS):
            if not p.get(key):
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
            raise PageError("03", "vnp_OrderInfo must be ASCII without diacritics (Vietnamese without accents)",
                            "vnp_OrderInfo")
        if not re.match(r"^https?://[^\s]+$", p["vnp_ReturnUrl"]):
            raise PageError("03", f"vnp_ReturnUrl must be an http(s) URL, got {p['vnp_ReturnUrl'][:60]!r}",
                            "vnp_ReturnUrl")
        try:
            ipaddress.ip_address(p["vnp_IpAddr"])
        except ValueError:
            raise PageError("03", f"vnp_IpAddr must be an IP address, got {p['vnp_IpAddr'][:45]!r}",
                            "vnp_IpAddr") from None
        bank = p.get("vnp_BankCode", "")
        if bank and (not set(bank) <= BANK_CODE_CHARS or len(bank) > 32):
            raise PageError("03", f"vnp_BankCode must be an upper-case code such as VNBANK, got {bank!r}",
                            "vnp_BankCode")
        expires = self._dates(p, now)
        new = ledger.NewPayment(
            agency_code=terminal.agency_code, dossier_code=p["vnp_TxnRef"], procedure_code=p["vnp_OrderType"],
            group=terminal.group, amount_vnd=amount, payer={"ip": p["vnp_IpAddr"]},
            ipn_url=terminal.ipn_url or self.default_ipn_url, return_url=p["vnp_ReturnUrl"],
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

    @staticmethod
    def _dates(p: Mapping[str, str], now: float) -> float:
        """The payment's deadline (epoch s) from vnp_ExpireDate, after checking both dates."""
        try:
            created = wire.parse_vn_time(p["vnp_CreateDate"], "vnp_CreateDate")
            expires = wire.parse_vn_time(p["vnp_ExpireDate"], "vnp_ExpireDate")
        except ValueError as exc:
            field = "vnp_CreateDate" if "CreateDate" in str(exc) else "vnp_ExpireDate"
            raise PageError("03", str(exc), field) from None
        if created > now + CLOCK_SKEW_S:
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

    @staticmethod
    def _error_redirect(exc: PageError) -> web.Response:
        """VNPay answers a refused payment URL by sending the browser to its error page; nothing was written."""
        query = {"code": exc.code, "message": exc.message, **({"field": exc.field} if exc.field else {})}
        return _redirect(f"{ERROR_PATH}?{urlencode(query)}")

    async def error_page(self, request: web.Request) -> web.Response:
        code = request.query.get("code", "")
        if not PAGE_CODE_RE.match(code):
            problem = f"code must be two digits such as 03, got {code[:20]!r}"
            if _wants_json(request):
                raise ApiError(400, "invalid_field", problem, field="code")
            return _page("Thông báo lỗi — mã không hợp lệ", f"<p id=\"detail\">{html.escape(problem)}</p>", status=400)
        message = wire.PAGE_ERRORS.get(code, "Lỗi khác")
        detail, field = request.query.get("message", ""), request.query.get("field")
        if _wants_json(request):
            return json_response({"code": code, "message": message, "detail": detail, "field": field})
        body = (f"<p id=\"code\">{html.escape(code)}</p><p id=\"message\">{html.escape(message)}</p>"
                f"<p id=\"field\">{html.escape(field or '')}</p><p id=\"detail\">{html.escape(detail)}</p>")
        return _page(f"Thông báo lỗi — mã {code}", body)

    # ------------------------------------------------------------------ the payer's page

    async def banks(self) -> list[dict[str, Any]]:
        """The bank service's catalogue (code, name, kind), fetched once."""
        if self._banks is None:
            banks = None
            if self.gw.config.bank_url:
                try:
                    status, data = await self.gw.bank_client.get_json(f"{self.gw.config.bank_url.rstrip('/')}/banks")
                    banks = data if status == 200 and isinstance(data, list) else None
                except (aiohttp.ClientError, TimeoutError):
                    banks = None
            if banks is None:
                from motcua.mock_services.bank import load_catalogue

                found = [{"code": b.code, "name": b.name, "kind": b.kind} for b in load_catalogue().values()]
            else:
                found = [{"code": b["code"], "name": b["name"], "kind": b["kind"]} for b in banks]
            self._bank_kinds = {b["code"]: b["kind"] for b in found}
            self._options_html = self._options(found, "")
            if banks is None:
                return found  # the bank may come up later: ask it again next time
            self._banks = found
        return self._banks

    @staticmethod
    def _options(banks: list[dict[str, Any]], preselected: str) -> str:
        return "".join(
            f"<option value=\"{html.escape(b['code'])}\"{' selected' if b['code'] == preselected else ''}>"
            f"{html.escape(b['name'])}</option>" for b in banks)

    def card_type(self, bank_code: str | None) -> str:
        """vnp_CardType of a bank or wallet: ATM for a bank, QRCODE for a wallet."""
        return KIND_CARD_TYPE.get(self._bank_kinds.get(bank_code or "", "bank"), "ATM") if bank_code else ""

    async def _payer_page(self, request: web.Request, row: Any, preselected: str) -> web.Response:
        banks = await self.banks()
        payment_id = row["payment_id"]
        view = {
            "payment_id": payment_id, "vnp_TxnRef": row["dossier_code"], "amount_vnd": row["amount_vnd"],
            "state": row["state"], "expires_at": ledger.ms(row["expires_at"]), "bank_code": preselected or None,
            "banks": banks, "choose_url": f"/paymentv2/pay/{payment_id}",
            "cancel_url": f"/paymentv2/cancel/{payment_id}",
        }
        if _wants_json(request):
            return json_response(view)
        options = self._options(banks, preselected) if preselected else self._options_html
        body = (f"<p>Số tiền: <span id=\"amount_vnd\">{row['amount_vnd']}</span> VND — mã đơn "
                f"<span id=\"vnp_TxnRef\">{html.escape(row['dossier_code'])}</span> — "
                f"<span id=\"state\">{html.escape(row['state'])}</span></p>"
                f"<form id=\"vnpay-choose\" method=\"post\" action=\"{view['choose_url']}\">"
                f"<select name=\"bank_code\">{options}</select><button type=\"submit\">Thanh toán</button></form>"
                f"<form id=\"vnpay-cancel\" method=\"post\" action=\"{view['cancel_url']}\">"
                f"<button type=\"submit\">Hủy giao dịch</button></form>")
        return _page("Chọn phương thức thanh toán", body)

    async def choose(self, request: web.Request) -> web.Response:
        """The payer chose a bank (form ``bank_code=…`` or JSON): the charge token for the bank, as JSON."""
        raw = await read_body(request)
        if request.content_type == "application/x-www-form-urlencoded":
            bank_code = (await request.post()).get("bank_code", "")
        else:
            bank_code = parse_json_object(raw).get("bank_code", "")
        await self.banks()
        if not isinstance(bank_code, str) or bank_code not in self._bank_kinds:
            raise ApiError(422, "invalid_field", f"bank_code must be one of {', '.join(self._bank_kinds)}, "
                           f"got {bank_code!r}", field="bank_code")
        payment_id = request.match_info["payment_id"]
        now = time.time()

        def unit(conn: Any) -> Any:
            row = ledger.checkout(conn, payment_id, bank_code, now)
            if row["protocol"] != ledger.VNPAY:  # undone: this unit raises
                raise ApiError(404, "payment_not_found", f"no VNPay payment {payment_id!r}; JSON-API payments "
                               "check out at POST /payments/{payment_id}/checkout", field="payment_id")
            return row

        row = await self.gw._transact(unit)
        return_url = f"{request.scheme}://{request.host}/paymentv2/return/{payment_id}"
        claims = ChargeClaims(payment_id=payment_id, amount_vnd=row["amount_vnd"], bank_code=bank_code,
                              return_url=return_url, expires_at=row["expires_at"])
        bank = (self.gw.config.bank_url or "").rstrip("/")
        return json_response({
            "payment_id": payment_id, "state": row["state"], "amount_vnd": row["amount_vnd"], "bank_code": bank_code,
            "charge_url": f"{bank}/charge" if bank else None,
            "charge_token": make_charge_token(claims, self.gw.secret, int(now)),
            "return_url": return_url, "expires_at": ledger.ms(row["expires_at"]),
        })

    async def cancel(self, request: web.Request) -> web.Response:
        payment_id = request.match_info["payment_id"]
        if ledger.vnpay_payment(self.gw.db.conn, payment_id) is None:
            raise ApiError(404, "payment_not_found", f"no VNPay payment {payment_id!r}", field="payment_id")
        await self.gw._transact(lambda conn: ledger.move(conn, payment_id, State.CANCELLED))
        return self._return_redirect(payment_id)

    async def back_from_bank(self, request: web.Request) -> web.Response:
        """The browser is back from the bank: settle with the bank if its notice is late, then go to vnp_ReturnUrl."""
        payment_id = request.match_info["payment_id"]
        row = ledger.vnpay_payment(self.gw.db.conn, payment_id)
        if row is None:
            raise ApiError(404, "payment_not_found", f"no VNPay payment {payment_id!r}", field="payment_id")
        if row["state"] == State.AWAITING_BANK.value and self.gw.config.bank_url:
            await self.gw._settle_by_inquiry(payment_id, expire_if_uncharged=False)
        return self._return_redirect(payment_id)

    def _return_redirect(self, payment_id: str) -> web.Response:
        row = ledger.vnpay_payment(self.gw.db.conn, payment_id)
        if row is None:
            raise ApiError(404, "payment_not_found", f"no VNPay payment {payment_id!r}", field="payment_id")
        if row["state"] in (State.CREATED.value, State.AWAITING_BANK.value):
            return _page("Giao dịch đang xử lý", f"<p id=\"state\">{row['state']}</p>", status=202)
        terminal = self.terminals.get(row["tmn_code"])
        if terminal is None:
            raise ApiError(409, "terminal_gone", f"terminal {row['tmn_code']} of this payment is no longer configured")
        query = wire.signed_query(self.result_params(row), terminal.hash_secret.encode())
        separator = "&" if "?" in row["return_url"] else "?"
        return _redirect(f"{row['return_url']}{separator}{query}")

    # ------------------------------------------------------------------ return parameters and IPN

    def result_params(self, row: Any, *, amount_bump_vnd: int = 0) -> dict[str, str]:
        """The signed parameters of the return URL and the IPN (vnpay.md §3); nothing but ``vnp_*``."""
        paid = row["response_code"] == "00" and row["state"] != State.FAILED.value
        code = row["response_code"] or UNPAID_CODES.get(row["state"], "99")
        params = {
            "vnp_TmnCode": row["tmn_code"],
            "vnp_Amount": str(wire.to_wire_amount(row["amount_vnd"] + amount_bump_vnd)),
            "vnp_BankCode": row["bank_code"] or "",
            "vnp_CardType": self.card_type(row["bank_code"]),
            "vnp_OrderInfo": row["order_info"],
            "vnp_PayDate": wire.vn_time(row["bank_approved_at"] or row["notified_at"] or time.time()),
            "vnp_ResponseCode": code,
            "vnp_TransactionNo": str(row["transaction_no"]) if row["state"] != State.CANCELLED.value else "0",
            "vnp_TransactionStatus": "00" if paid else "02",
            "vnp_TxnRef": row["txn_ref"],
        }
        if paid:
            params["vnp_BankTranNo"] = row["bank_txn_no"]
        return {k: v for k, v in params.items() if v != ""}

    async def send_ipn(self, payment_id: str, row: Mapping[str, Any] | None, *, bad_signature: bool,
                       amount_bump_vnd: int) -> tuple[str | None, str | None]:
        """One IPN GET to the terminal's IPN URL; (RspCode, None) or (None, what went wrong).

        `row` is the payment as the caller has it (just committed, or a fault's early copy), or None to read it.
        """
        data = self._order_row(payment_id, row)
        if data is None:
            return None, "no VNPay order for this payment"
        terminal = self.terminals.get(data["tmn_code"])
        if terminal is None:
            return None, f"terminal {data['tmn_code']} is no longer configured"
        query = wire.signed_query(self.result_params(data, amount_bump_vnd=amount_bump_vnd),
                                  terminal.hash_secret.encode())
        if bad_signature:  # fault "tampered": the receiver must answer 97
            query = query[:-128] + secrets.token_hex(64)
        url = data["ipn_url"]
        try:
            status, body = await self.client.post(f"{url}{'&' if '?' in url else '?'}{query}", b"", {},
                                                  method="GET")
        except (aiohttp.ClientError, TimeoutError) as exc:
            return None, f"{type(exc).__name__}: {exc}"[:300]
        if status != 200:
            return None, f"HTTP {status}"
        try:
            answer = json.loads(body)
        except ValueError:
            return None, f"answer is not JSON: {body[:200]!r}"
        code = answer.get("RspCode") if isinstance(answer, dict) else None
        if not isinstance(code, str):
            return None, f"answer without RspCode: {str(answer)[:200]}"
        return code, None

    # ------------------------------------------------------------------ bank list

    async def bank_list(self, request: web.Request) -> web.Response:
        form = await request.post()
        tmn_code = form.get("tmn_code", "")
        if not isinstance(tmn_code, str) or not TMN_CODE_RE.match(tmn_code):
            raise ApiError(400, "invalid_field", f"tmn_code must be 8 upper-case letters or digits (vnp_TmnCode), "
                           f"got {str(tmn_code)[:20]!r}", field="tmn_code")
        if tmn_code not in self.terminals:
            raise ApiError(404, "invalid_merchant", f"tmn_code {tmn_code!r} is not a terminal of this gateway",
                           field="tmn_code")
        banks = await self.banks()
        return json_response([
            {"bank_code": b["code"], "bank_name": b["name"], "logo_link": f"/images/bank/{b['code'].lower()}.svg",
             "bank_type": KIND_BANK_TYPE.get(b["kind"], 1), "display_order": i + 1}
            for i, b in enumerate(banks)
        ])

    # ------------------------------------------------------------------ querydr and refund

    async def transaction(self, request: web.Request) -> web.Response:
        raw = await read_body(request)
        body: dict[str, Any] = {}
        try:
            try:
                body = parse_json_object(raw)
            except ApiError as exc:
                raise ApiRefusal("03", exc.message) from None
            command = body.get("vnp_Command")
            if command == "querydr":
                answer = await self._querydr(body)
            elif command == "refund":
                answer = await self._refund(body)
            else:
                raise ApiRefusal("03", f"vnp_Command must be querydr or refund, got {command!r}")
        except ApiRefusal as exc:
            answer = self._refusal(body, exc)
        return json_response(answer)

    def _refusal(self, body: Mapping[str, Any], exc: ApiRefusal) -> dict[str, Any]:
        command = body.get("vnp_Command")
        out: dict[str, Any] = {
            "vnp_ResponseId": secrets.token_hex(16),
            "vnp_Command": command if command in ("querydr", "refund") else "",
            "vnp_ResponseCode": exc.code,
            "vnp_Message": f"{wire.API_CODES.get(exc.code, 'Other errors')}: {exc.message}"[:255],
        }
        if exc.terminal is not None:
            out["vnp_TmnCode"] = exc.terminal.tmn_code
            fields = wire.QUERYDR_RESPONSE if command == "querydr" else wire.REFUND_RESPONSE
            out["vnp_SecureHash"] = wire.pipe_hash(exc.terminal.hash_secret.encode(), out, fields)
        return {k: v for k, v in out.items() if v != ""}

    def _checked_api(self, body: Mapping[str, Any], fields: tuple[str, ...], required: tuple[str, ...]) -> Terminal:
        terminal = self.terminals.get(str(body.get("vnp_TmnCode", "")))
        if terminal is None:
            raise ApiRefusal("02", f"vnp_TmnCode {str(body.get('vnp_TmnCode'))[:20]!r} is not a terminal here")
        for key, value in body.items():
            if value is None or isinstance(value, dict | list | float | bool):
                raise ApiRefusal("03", f"{key} must be a string or an integer, got {value!r}", terminal)
        secret = terminal.hash_secret.encode()
        ok = wire.verify_pipe(secret, body, fields)
        if not ok and "vnp_TransactionNo" in fields and "vnp_TransactionNo" not in body:
            # The npm vnpay library signs a refund without vnp_TransactionNo as "0" and leaves the field out.
            ok = wire.verify_pipe(secret, {**body, "vnp_TransactionNo": "0"}, fields)
        if not ok:
            raise ApiRefusal("97", "vnp_SecureHash does not match (fields joined by '|' in the documented order)",
                             terminal)
        for key in required:
            if body.get(key) in (None, ""):
                raise ApiRefusal("03", f"{key} is required", terminal)
        if body.get("vnp_Version") != wire.VERSION:
            raise ApiRefusal("03", f"vnp_Version must be {wire.VERSION}, got {body.get('vnp_Version')!r}", terminal)
        for key in ("vnp_TransactionDate", "vnp_CreateDate"):
            try:
                wire.parse_vn_time(body[key], key)
            except ValueError as exc:
                raise ApiRefusal("03", str(exc), terminal) from None
        for key in ("vnp_RequestId", "vnp_TxnRef", "vnp_OrderInfo", "vnp_IpAddr", "vnp_CreateBy"):
            if len(str(body.get(key, ""))) > MAX_VALUE_CHARS:
                raise ApiRefusal("03", f"{key} is longer than {MAX_VALUE_CHARS} characters", terminal)
        return terminal

    async def _claim_and_find(self, terminal: Terminal, body: Mapping[str, Any]) -> Any:
        """Claim the vnp_RequestId (94 if used today) and find the payment (91 if none)."""
        tmn, request_id = terminal.tmn_code, str(body["vnp_RequestId"])
        today = wire.vn_day_of(wire.vn_time(time.time()))
        fresh = await self.gw.db.transact(lambda conn: ledger.claim_request_id(conn, tmn, today, request_id))
        if not fresh:
            raise ApiRefusal("94", f"vnp_RequestId {request_id!r} was already used today by {tmn}", terminal)
        txn_date = str(body["vnp_TransactionDate"])
        row = ledger.find_vnpay_payment(self.gw.db.conn, tmn, wire.vn_day_of(txn_date), str(body["vnp_TxnRef"]))
        if row is None or row["create_date"] != txn_date:
            raise ApiRefusal("91", f"no transaction {body['vnp_TxnRef']!r} created at {txn_date} for {tmn}", terminal)
        return row

    async def _querydr(self, body: Mapping[str, Any]) -> dict[str, Any]:
        terminal = self._checked_api(body, wire.QUERYDR_REQUEST, wire.QUERYDR_REQUEST)
        row = await self._claim_and_find(terminal, body)
        if row["state"] == State.AWAITING_BANK.value and self.gw.config.bank_url:
            await self.gw._settle_by_inquiry(row["payment_id"], expire_if_uncharged=False)
            row = ledger.vnpay_payment(self.gw.db.conn, row["payment_id"])
        answer = self._transaction_view(row, "querydr")
        answer["vnp_SecureHash"] = wire.pipe_hash(terminal.hash_secret.encode(), answer, wire.QUERYDR_RESPONSE)
        return answer

    async def _refund(self, body: Mapping[str, Any]) -> dict[str, Any]:
        required = tuple(f for f in wire.REFUND_REQUEST if f != "vnp_TransactionNo")
        terminal = self._checked_api(body, wire.REFUND_REQUEST, required)
        kind = body.get("vnp_TransactionType")
        if kind not in ("02", "03"):
            raise ApiRefusal("03", f"vnp_TransactionType must be 02 (full) or 03 (partial), got {kind!r}", terminal)
        try:
            amount = wire.parse_wire_amount(body["vnp_Amount"])
        except ValueError as exc:
            raise ApiRefusal("03", str(exc), terminal) from None
        row = await self._claim_and_find(terminal, body)
        given_no = body.get("vnp_TransactionNo")
        if given_no not in (None, "", 0, "0") and str(given_no) != str(row["transaction_no"]):
            raise ApiRefusal("91", f"vnp_TransactionNo {given_no} is not the transaction of {row['txn_ref']}",
                             terminal)
        left = row["amount_vnd"] - row["refunded_vnd"]
        if row["state"] not in (State.PAID.value, State.PARTIALLY_REFUNDED.value):
            raise ApiRefusal("95", f"transaction {row['txn_ref']} is {row['state']}, not paid: no refund", terminal)
        if kind == "02" and amount != left:
            raise ApiRefusal("03", f"a full refund (02) must be the {left * 100} (×100) still refundable, "
                             f"got {body['vnp_Amount']}", terminal)
        if (kind == "03" and amount >= row["amount_vnd"]) or amount > left:
            raise ApiRefusal("03", f"a partial refund (03) must be below the amount and at most the {left * 100} "
                             f"(×100) left, got {body['vnp_Amount']}", terminal)
        payment_id = row["payment_id"]
        try:
            await self.gw.db.transact(lambda conn: ledger.refund(conn, payment_id, amount))
        except (IllegalTransition, ApiError) as exc:
            raise ApiRefusal("95", str(exc), terminal) from None
        answer = self._transaction_view(ledger.vnpay_payment(self.gw.db.conn, payment_id), "refund",
                                        amount_vnd=amount, kind=str(kind))
        signed = dict(answer)
        if terminal.refund_amount_signing == "vnd":
            signed["vnp_Amount"] = amount  # what the npm vnpay library's refund check recomputes (÷ 100)
        answer["vnp_SecureHash"] = wire.pipe_hash(terminal.hash_secret.encode(), signed, wire.REFUND_RESPONSE)
        return answer

    @staticmethod
    def _transaction_view(row: Any, command: str, *, amount_vnd: int | None = None, kind: str = "01"
                          ) -> dict[str, Any]:
        """A query/refund answer (before its hash): absent values are left out, never JSON null."""
        state = row["state"]
        status = {State.PAID.value: "00", State.CREATED.value: "01", State.AWAITING_BANK.value: "01",
                  State.PARTIALLY_REFUNDED.value: "06", State.REFUNDED.value: "06"}.get(state, "02")
        if command == "refund":
            status = "06"
        elif state in (State.REFUNDED.value, State.PARTIALLY_REFUNDED.value):
            kind = "02" if state == State.REFUNDED.value else "03"
        out = {
            "vnp_ResponseId": secrets.token_hex(16),
            "vnp_Command": command,
            "vnp_ResponseCode": "00",
            "vnp_Message": wire.API_CODES["00"],
            "vnp_TmnCode": row["tmn_code"],
            "vnp_TxnRef": row["txn_ref"],
            "vnp_Amount": str(wire.to_wire_amount(row["amount_vnd"] if amount_vnd is None else amount_vnd)),
            "vnp_BankCode": row["bank_code"] or "",
            "vnp_PayDate": wire.vn_time(row["bank_approved_at"]) if row["bank_approved_at"] else "",
            "vnp_TransactionNo": str(row["transaction_no"]),
            "vnp_TransactionType": kind,
            "vnp_TransactionStatus": status,
            "vnp_OrderInfo": row["order_info"],
        }
        return {k: v for k, v in out.items() if v != ""}


def _expect(p: Mapping[str, str], key: str, wanted: str) -> None:
    if p[key] != wanted:
        raise PageError("03", f"{key} must be {wanted}, got {p[key][:40]!r}", key)


def add_routes(app: web.Application, front: VnpayFront) -> None:
    r = app.router
    r.add_get(wire.PAY_PATH, front.pay)
    r.add_get(ERROR_PATH, front.error_page)
    r.add_post("/paymentv2/pay/{payment_id}", front.choose)
    r.add_post("/paymentv2/cancel/{payment_id}", front.cancel)
    r.add_get("/paymentv2/return/{payment_id}", front.back_from_bank)
    r.add_post(wire.TRANSACTION_PATH, front.transaction)
    r.add_post(wire.BANK_LIST_PATH, front.bank_list)
    r.add_get(RECORDS_PATH, records_handler(lambda: front.gw.db, front.deliveries, front.terminals))
