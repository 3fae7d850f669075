"""The agency's one-stop-shop system integrating the gateway the VNPay 2.1.0 way (``--protocol vnpay``).

Scene: the agency signed up with "VNPay" and got a terminal (``vnp_TmnCode`` and its secret). When a
citizen files a dossier with a fee, the system builds a signed ``vpcpay.html`` URL (``vnp_TxnRef`` = the
dossier code, ``vnp_CreateDate`` = the moment of filing, Viet Nam time) and sends the citizen's browser
there; nothing is asked of the gateway beforehand. The gateway's IPN is a signed ``GET /vnpay/ipn``,
answered in VNPay's documented order: 97 bad signature → 99 ill-typed fields → 01 order not found →
04 wrong amount → 02 already confirmed → 00 confirmed. The credit is the agency's one credit+journal
transaction (`mock_services.agency.ledger.handle_ipn`), so a dossier is credited at most once however
many copies arrive. ``GET /vnpay/return`` is the page the browser comes back to. Reconciliation asks
the gateway about each dossier still awaiting payment with ``querydr`` (signed both ways) and credits
the ones it reports paid, as ``paid_by_reconciliation``.

One home for VNPay signing and the payment id of an order: `mock_services.common.vnpay_wire`. Contract:
docs/contracts.md §1c.
"""

from __future__ import annotations

import asyncio
import collections
import html
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from motcua.mock_services.agency import ledger
from motcua.mock_services.common import vnpay_wire as wire
from motcua.mock_services.common.http import json_response
from motcua.mock_services.common.vnpay_terminals import DEFAULT_TERMINALS, Terminal, load_terminals

from motcua.errors import ConfigError

if TYPE_CHECKING:
    from motcua.mock_services.agency.app import Agency

IPN_PATH = "/vnpay/ipn"
RETURN_PATH = "/vnpay/return"
QUERY_CONCURRENCY = 16
_TWO_DIGITS = re.compile(r"^\d{2}$")
_DIGITS = re.compile(r"^\d{1,20}$")


@dataclass(frozen=True)
class VnpayIpn:
    """An IPN's fields, typed (after its signature was checked)."""

    txn_ref: str
    amount_vnd: int
    response_code: str
    transaction_status: str
    bank_code: str | None
    bank_txn_no: str | None
    paid_at: float | None
    transaction_no: str


def parse_ipn(params: Mapping[str, str]) -> VnpayIpn:
    """The typed fields of an IPN query; ValueError naming the first ill-typed one (answered 99)."""
    txn_ref = params.get("vnp_TxnRef", "")
    if not txn_ref or len(txn_ref) > 100:
        raise ValueError(f"vnp_TxnRef must be 1–100 characters, got {txn_ref[:40]!r}")
    amount = wire.parse_wire_amount(params.get("vnp_Amount"))
    for key in ("vnp_ResponseCode", "vnp_TransactionStatus"):
        if not _TWO_DIGITS.match(params.get(key, "")):
            raise ValueError(f"{key} must be two digits, got {params.get(key)!r}")
    transaction_no = params.get("vnp_TransactionNo", "")
    if not _DIGITS.match(transaction_no):
        raise ValueError(f"vnp_TransactionNo must be digits, got {transaction_no[:30]!r}")
    pay_date = params.get("vnp_PayDate")
    paid_at = wire.parse_vn_time(pay_date, "vnp_PayDate") if pay_date else None
    return VnpayIpn(
        txn_ref=txn_ref, amount_vnd=amount, response_code=params["vnp_ResponseCode"],
        transaction_status=params["vnp_TransactionStatus"], bank_code=params.get("vnp_BankCode") or None,
        bank_txn_no=params.get("vnp_BankTranNo") or None, paid_at=paid_at, transaction_no=transaction_no,
    )  # fmt: skip


class VnpayIntegration:
    """The agency's VNPay side: payment URLs, the IPN and return routes, and querydr reconciliation."""

    def __init__(self, agency: Agency, terminal: Terminal) -> None:
        self.agency = agency
        self.terminal = terminal
        self.secret = terminal.hash_secret.encode()
        self.gateway_url = agency.config.gateway_url.rstrip("/")

    # ------------------------------------------------------------------ the payment URL

    def payment_for(self, dossier_code: str, amount_vnd: int, now: float, payer_ip: str = "127.0.0.1"
                    ) -> dict[str, Any]:
        """The signed vpcpay.html URL of a dossier (what ``POST /dossiers`` returns as ``pay_url``)."""
        create_date = wire.vn_time(now)
        params = {
            "vnp_Version": wire.VERSION, "vnp_Command": "pay", "vnp_TmnCode": self.terminal.tmn_code,
            "vnp_Amount": str(wire.to_wire_amount(amount_vnd)), "vnp_CurrCode": "VND", "vnp_TxnRef": dossier_code,
            "vnp_OrderInfo": f"Thanh toan le phi ho so {dossier_code}", "vnp_OrderType": "other",
            "vnp_Locale": "vn", "vnp_ReturnUrl": f"{self.agency.config.public_url}{RETURN_PATH}",
            "vnp_IpAddr": payer_ip, "vnp_CreateDate": create_date,
            "vnp_ExpireDate": wire.vn_time(now + self.agency.config.expires_in_s),
        }  # fmt: skip
        return {
            "payment_id": wire.vnpay_payment_id(self.terminal.tmn_code, create_date, dossier_code),
            "pay_url": wire.payment_url(self.gateway_url, self.secret, params),
        }

    # ------------------------------------------------------------------ IPN

    async def ipn(self, request: web.Request) -> web.Response:
        params = dict(parse_qsl(request.query_string, keep_blank_values=True))
        agency = self.agency
        if not wire.verify_params(params, self.secret) or params.get("vnp_TmnCode") != self.terminal.tmn_code:
            # Counted in SQLite before the answer, as the JSON IPN's 97 (it survives kill -9); nothing else is written.
            await agency.db.transact(lambda conn: ledger.count_refusal(conn, "97"))
            return self._answer(ledger.IpnOutcome("97", "Invalid signature"))
        now = time.time()
        try:
            ipn = parse_ipn(params)
        except ValueError as exc:
            problem = str(exc)
            ref = params.get("vnp_TxnRef") or None

            def reject(conn: Any) -> ledger.IpnOutcome:
                ledger.journal(conn, "ipn_rejected", now, dossier_code=ref, rsp_code="99", detail={"reason": problem})
                return ledger.IpnOutcome("99", f"Unknown error: {problem}")

            return self._answer(await agency.db.transact(reject))
        return self._answer(await agency.db.transact(lambda conn: _apply_ipn(conn, ipn, now)))

    def _answer(self, outcome: ledger.IpnOutcome) -> web.Response:
        self.agency.ipn_counter.labels(outcome.code).inc()
        return json_response(outcome.body())

    # ------------------------------------------------------------------ return page

    async def return_page(self, request: web.Request) -> web.Response:
        """Where the browser lands after paying: the verified result and the dossier's status."""
        params = dict(parse_qsl(request.query_string, keep_blank_values=True))
        verified = wire.verify_params(params, self.secret)
        code = params.get("vnp_TxnRef", "")
        view = ledger.dossier_view(self.agency.db.conn, code) if verified else None
        answer = {
            "verified": verified, "dossier_code": code if verified else None,
            "response_code": params.get("vnp_ResponseCode") if verified else None,
            "status": view["status"] if view else None,
        }  # fmt: skip
        if "application/json" in request.headers.get("Accept", ""):
            return json_response(answer)
        if not verified:
            text = "<p id=\"verified\">false</p><p>Chữ ký không hợp lệ (invalid signature)</p>"
        else:
            text = (f"<p id=\"verified\">true</p><p>Hồ sơ <span id=\"dossier_code\">{html.escape(code)}</span>: "
                    f"<span id=\"status\">{html.escape(str(answer['status']))}</span> (mã "
                    f"<span id=\"response_code\">{html.escape(str(answer['response_code']))}</span>)</p>")
        return web.Response(text=f"<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Kết quả "
                            f"thanh toán</title></head><body>{text}</body></html>", content_type="text/html")

    # ------------------------------------------------------------------ reconciliation by querydr

    async def reconcile(self, day: str) -> dict[str, Any]:
        """Ask the gateway (querydr) about each dossier of `day` awaiting payment; credit those it reports paid."""
        rows = _awaiting(self.agency.db.conn, day)
        semaphore = asyncio.Semaphore(QUERY_CONCURRENCY)

        async def ask(row: Any) -> dict[str, Any] | str:
            async with semaphore:
                return await self.querydr(row["dossier_code"], wire.vn_time(row["submitted_at"]))

        answers = await asyncio.gather(*(ask(r) for r in rows))
        paid: list[Mapping[str, Any]] = []
        closing: dict[str, str] = {}
        states: collections.Counter[str] = collections.Counter()
        for row, answer in zip(rows, answers, strict=True):
            status = answer if isinstance(answer, str) else f"status {answer.get('vnp_TransactionStatus')}"
            states[status] += 1
            if isinstance(answer, str):
                continue
            if answer.get("vnp_TransactionStatus") == "00":
                paid.append({
                    "dossier_code": row["dossier_code"], "payment_id": row["payment_id"],
                    "amount_vnd": wire.parse_wire_amount(answer.get("vnp_Amount")),
                    "bank_code": answer.get("vnp_BankCode"),
                    "bank_approved_at": wire.parse_vn_time(answer["vnp_PayDate"], "vnp_PayDate")
                    if answer.get("vnp_PayDate") else None,
                })  # fmt: skip
            elif answer.get("vnp_TransactionStatus") == "02":
                closing[row["payment_id"]] = "failed"
        now = time.time()

        def apply(conn: Any) -> dict[str, Any]:
            result = ledger.reconcile(conn, day, paid, now)
            result["closed_unpaid"] = ledger.close_unpaid(conn, closing)
            return result

        result = await self.agency.db.transact(apply)
        # querydr is asked about the dossiers awaiting payment only: "agency_only" is not checked this way
        result["agency_only"] = 0
        result["details"]["agency_only"] = []
        return {**result, "protocol": "vnpay", "queried": len(rows), "query_states": dict(states)}

    async def querydr(self, txn_ref: str, transaction_date: str) -> dict[str, Any] | str:
        """One signed querydr; the verified answer, or a word on what went wrong."""
        now = time.time()
        body = {
            "vnp_RequestId": secrets.token_hex(16), "vnp_Version": wire.VERSION, "vnp_Command": "querydr",
            "vnp_TmnCode": self.terminal.tmn_code, "vnp_TxnRef": txn_ref, "vnp_TransactionDate": transaction_date,
            "vnp_CreateDate": wire.vn_time(now), "vnp_IpAddr": "127.0.0.1",
            "vnp_OrderInfo": f"Doi soat ho so {txn_ref}",
        }  # fmt: skip
        body["vnp_SecureHash"] = wire.pipe_hash(self.secret, body, wire.QUERYDR_REQUEST)
        timeout = aiohttp.ClientTimeout(total=self.agency.config.gateway_timeout_s)
        try:
            async with self.agency.gateway.session.post(
                f"{self.gateway_url}{wire.TRANSACTION_PATH}", json=body, timeout=timeout
            ) as resp:
                answer = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return f"unreachable ({type(exc).__name__})"
        if not isinstance(answer, dict):
            return "not a JSON object"
        if answer.get("vnp_ResponseCode") != "00":
            return f"querydr {answer.get('vnp_ResponseCode')}"
        if not wire.verify_pipe(self.secret, answer, wire.QUERYDR_RESPONSE):
            return "answer signature invalid"
        return answer


def _apply_ipn(conn: Any, ipn: VnpayIpn, now: float) -> ledger.IpnOutcome:
    """01 → 04 → 02 → 00 through the agency's one credit+journal unit (`mock_services.agency.ledger.handle_ipn`)."""
    row = conn.execute("SELECT payment_id FROM dossiers WHERE dossier_code = ?", (ipn.txn_ref,)).fetchone()
    paid = ipn.response_code == "00" and ipn.transaction_status == "00"
    return ledger.handle_ipn(conn, {
        "dossier_code": ipn.txn_ref, "payment_id": row["payment_id"] if row else None,
        "response_code": "00" if paid else ipn.response_code if ipn.response_code != "00" else ipn.transaction_status,
        "amount_vnd": ipn.amount_vnd, "bank_code": ipn.bank_code, "bank_txn_no": ipn.bank_txn_no,
        "bank_approved_at": ipn.paid_at, "attempt": None,
    }, now)  # fmt: skip


def _awaiting(conn: Any, day: str) -> list[Any]:
    """The dossiers filed on `day` (Viet Nam) still awaiting payment: code, payment id, amount, filing time."""
    payment_ids = ledger.awaiting_on_day(conn, day)
    rows = []
    for start in range(0, len(payment_ids), 500):
        chunk = payment_ids[start:start + 500]
        rows += conn.execute(
            "SELECT dossier_code, payment_id, amount_vnd, submitted_at FROM dossiers WHERE payment_id IN "
            f"({','.join('?' * len(chunk))})", chunk,
        ).fetchall()
    return rows


def add_routes(app: web.Application, integration: VnpayIntegration) -> None:
    app.router.add_get(IPN_PATH, integration.ipn)
    app.router.add_get(RETURN_PATH, integration.return_page)


def terminal_from(path: str | None, tmn_code: str | None) -> Terminal:
    """The agency's terminal: `tmn_code` of the terminal file `path` (default: the bundled file's first);
    ConfigError naming the file if it has no such terminal."""
    terminals = load_terminals(path or DEFAULT_TERMINALS)
    if tmn_code is None:
        return next(iter(terminals.values()))
    if tmn_code not in terminals:
        raise ConfigError(str(path or DEFAULT_TERMINALS), "--tmn-code", tmn_code,
                            f"is not a terminal of the file; terminals: {', '.join(terminals)}")
    return terminals[tmn_code]


_VNP_QUERY = [{"name": "vnp_…", "in": "query", "required": False, "schema": {"type": "string"},
               "description": "the signed vnp_* parameters (vnpay.md §3)"}]
OPENAPI_PATHS: dict[str, Any] = {
    IPN_PATH: {"get": {
        "summary": "VNPay IPN from the gateway (VNPay mode): 97 → 99 → 01 → 04 → 02 → 00",
        "parameters": _VNP_QUERY,
        "responses": {"200": {"description": "the answer", "content": {"application/json": {"schema": {
            "type": "object", "required": ["RspCode", "Message"],
            "properties": {"RspCode": {"type": "string", "pattern": r"^\d{2}$"}, "Message": {"type": "string"}}}}}}},
    }},
    RETURN_PATH: {"get": {
        "summary": "Where the browser comes back from the gateway (VNPay mode): the verified result",
        "parameters": _VNP_QUERY,
        "responses": {"200": {"description": "JSON {verified, dossier_code, response_code, status} or HTML"}},
    }},
}
"""The agency's VNPay-mode routes, added to its /openapi.json when it runs with --protocol vnpay."""


def with_vnpay_routes(document: dict[str, Any], protocol: str) -> dict[str, Any]:
    """The agency's OpenAPI document, with the VNPay routes in VNPay mode."""
    if protocol != "vnpay":
        return document
    return {**document, "paths": {**document["paths"], **OPENAPI_PATHS}}
