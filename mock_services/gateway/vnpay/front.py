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

The payment URL's checks are `mock_services.gateway.vnpay.pay_url`; querydr and refund
`mock_services.gateway.vnpay.transaction`; the IPN records `mock_services.gateway.vnpay.records`. Signing and
encoding are `mock_services.common.vnpay_wire`; terminals `mock_services.common.vnpay_terminals`; the contract
docs/contracts.md §1b.
"""

from __future__ import annotations

import html
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from motcua.mock_services.common import vnpay_wire as wire
from motcua.mock_services.common.fastclient import HttpClient
from motcua.mock_services.common.http import json_response, parse_json_object, read_body
from motcua.mock_services.common.payments import State
from motcua.mock_services.common.vnpay_terminals import Terminal
from motcua.mock_services.errors import ApiError, PageError
from motcua.mock_services.gateway import ledger
from motcua.mock_services.gateway.requests import ipn_answer
from motcua.mock_services.gateway.vnpay.findings import Findings
from motcua.mock_services.gateway.vnpay.pay_url import checked_params, order_of
from motcua.mock_services.gateway.vnpay.records import RECORDS_PATH, DeliveryLog, records_handler
from motcua.mock_services.gateway.vnpay.transaction import TransactionApi

if TYPE_CHECKING:
    from motcua.mock_services.gateway.app import Gateway

ERROR_PATH = "/paymentv2/Payment/Error.html"
PAGE_CODE_RE = re.compile(r"^[0-9]{2}\Z")
TMN_CODE_RE = re.compile(r"^[A-Z0-9]{8}\Z")
"""An 8-character terminal code (`mock_services.common.vnpay_terminals`)."""
KIND_CARD_TYPE = {"bank": "ATM", "ewallet": "QRCODE"}
KIND_BANK_TYPE = {"bank": 1, "ewallet": 3}
"""``bank_type`` of the bank list (motcua's choice: 1 domestic bank, 3 wallet/QR)."""
UNPAID_CODES = {State.CANCELLED.value: "24", State.EXPIRED.value: "11"}
"""vnp_ResponseCode of a payment that never reached a bank: cancelled by the payer, or timed out."""
NO_BANK_CHOSEN = ("VNPAY", "QRCODE")
"""vnp_BankCode and vnp_CardType of a payment closed before the payer chose a bank (cancelled, expired): VNPay
documents both as always present, and sends these for a cancel at its payment page (docs/contracts.md §1d)."""
ORDER_CACHE_SIZE = 100_000
"""Orders kept in memory for their IPN (saves a read per IPN); older ones are read from the database."""


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

    def __init__(self, gateway: Gateway, terminals: Mapping[str, Terminal], default_ipn_url: str, *,
                 strict: bool = False) -> None:
        self.gw = gateway
        self.strict = strict
        """Refuse deviations from the documented contract (else accept and note them in `findings`)."""
        self.findings = Findings()
        """Deviations of the payment URLs received (`mock_services.gateway.vnpay.findings`)."""
        self.terminals = dict(terminals)
        self.default_ipn_url = default_ipn_url
        self.client = HttpClient(timeout_s=gateway.config.ipn_timeout_s, max_idle_per_host=1024)
        self._banks: list[dict[str, Any]] | None = None
        self._bank_kinds: dict[str, str] = {}
        self._options_html = ""
        self.deliveries = DeliveryLog()
        """Every IPN sent, with its answer (`mock_services.gateway.vnpay.records`)."""
        self._orders: OrderedDict[str, dict[str, Any]] = OrderedDict()
        """The order fields of recent payments (tmn_code, txn_ref, order_info, transaction_no), for their IPNs."""
        self.transactions = TransactionApi(gateway, self.terminals)
        """querydr and refund (`mock_services.gateway.vnpay.transaction`)."""

    async def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------------ the payment URL

    async def pay(self, request: web.Request) -> web.Response:
        now = time.time()
        tmn_code = request.query.get("vnp_TmnCode", "")

        def note(kind: str, detail: str, example: str) -> None:
            self.findings.note(tmn_code, kind, detail, example, now=now)

        try:
            terminal, params = checked_params(request, self.terminals, strict=self.strict, note=note)
            new, order, fingerprint = order_of(terminal, params, now, self.default_ipn_url, strict=self.strict,
                                               note=note)
        except PageError as exc:
            note("refused", f"{exc.code} {exc.field or ''}".strip(), exc.message)
            return self._error_redirect(exc)
        payment_id = wire.vnpay_payment_id(terminal.tmn_code, order.create_date, order.txn_ref)
        try:
            row, transaction_no = await self.gw.db.transact(lambda conn: ledger.insert_vnpay_payment(
                conn, new, order, payment_id=payment_id, fingerprint=fingerprint, now=now))
        except ApiError as exc:
            if exc.error != "idempotency_conflict":
                raise
            refusal = PageError(
                "01", f"vnp_TxnRef {order.txn_ref!r} was already used on {order.vn_day} for another order "
                "(amount, order info or return URL differ); use a new vnp_TxnRef", "vnp_TxnRef")
            note("txn_ref_reused", "", f"vnp_TxnRef={order.txn_ref} on {order.vn_day}: {order.order_info[:80]}, "
                 f"{new.amount_vnd} VND")
            note("refused", "01 vnp_TxnRef", refusal.message)
            return self._error_redirect(refusal)
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
                from motcua.mock_services.bank.catalogue import load_catalogue

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

        row = await self.gw.transact(unit)
        return_url = f"{request.scheme}://{request.host}/paymentv2/return/{payment_id}"
        return json_response(self.gw.checkout_answer(row, bank_code, now, return_url=return_url))

    async def cancel(self, request: web.Request) -> web.Response:
        payment_id = request.match_info["payment_id"]
        if ledger.vnpay_payment(self.gw.db.conn, payment_id) is None:
            raise ApiError(404, "payment_not_found", f"no VNPay payment {payment_id!r}", field="payment_id")
        now = time.time()

        def unit(conn: Any) -> Any:
            row = ledger.move(conn, payment_id, State.CANCELLED)
            ledger.enqueue_ipn(conn, payment_id, "pending", now)  # VNPay tells the merchant of a cancel too
            return row

        await self.gw.transact(unit)
        self.gw.outbox.schedule(payment_id, now)
        return self._return_redirect(payment_id)

    async def back_from_bank(self, request: web.Request) -> web.Response:
        """The browser is back from the bank: settle with the bank if its notice is late, then go to vnp_ReturnUrl."""
        payment_id = request.match_info["payment_id"]
        row = ledger.vnpay_payment(self.gw.db.conn, payment_id)
        if row is None:
            raise ApiError(404, "payment_not_found", f"no VNPay payment {payment_id!r}", field="payment_id")
        if row["state"] == State.AWAITING_BANK.value and self.gw.config.bank_url:
            await self.gw.settle_by_inquiry(payment_id, expire_if_uncharged=False)
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
            "vnp_BankCode": row["bank_code"] or NO_BANK_CHOSEN[0],
            "vnp_CardType": self.card_type(row["bank_code"]) or NO_BANK_CHOSEN[1],
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
        return await ipn_answer(self.client.request("GET", f"{url}{'&' if '?' in url else '?'}{query}", b"", {}))

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


def add_routes(app: web.Application, front: VnpayFront) -> None:
    r = app.router
    r.add_get(wire.PAY_PATH, front.pay)
    r.add_get(ERROR_PATH, front.error_page)
    r.add_post("/paymentv2/pay/{payment_id}", front.choose)
    r.add_post("/paymentv2/cancel/{payment_id}", front.cancel)
    r.add_get("/paymentv2/return/{payment_id}", front.back_from_bank)
    r.add_post(wire.TRANSACTION_PATH, front.transactions.transaction)
    r.add_post(wire.BANK_LIST_PATH, front.bank_list)
    r.add_get(RECORDS_PATH, records_handler(lambda: front.gw.db, front.deliveries, front.terminals, front.findings))
