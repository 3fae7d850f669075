"""VNPay's merchant API at the gateway: ``POST /merchant_webapi/api/transaction`` answers querydr and refund.

Scene: a merchant asks what became of an order (querydr) or gives money back (refund, 02 full or 03 partial).
The request is JSON, signed with the fields joined by ``|`` in VNPay's documented order (vnpay.md §4); so is
the answer. A refused request is answered ``200`` with a documented ``vnp_ResponseCode`` (`ApiRefusal`: 02
unknown terminal, 03 a bad field, 91 no such transaction, 94 a ``vnp_RequestId`` used today, 95 not
refundable, 97 a bad signature), signed when the terminal is known. querydr of a payment still awaiting its
bank first asks the bank (the gateway's inquiry). Contract: docs/contracts.md §1b.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web
from motcua.mock_services.common import vnpay_wire as wire
from motcua.mock_services.common.http import json_response, parse_json_object, read_body
from motcua.mock_services.common.payments import State
from motcua.mock_services.common.vnpay_terminals import Terminal
from motcua.mock_services.errors import ApiError, ApiRefusal, IllegalTransition
from motcua.mock_services.gateway import ledger
from motcua.mock_services.gateway.vnpay.pay_url import MAX_VALUE_CHARS

if TYPE_CHECKING:
    from motcua.mock_services.gateway.app import Gateway


class TransactionApi:
    """querydr and refund of one gateway's VNPay terminals."""

    def __init__(self, gateway: Gateway, terminals: Mapping[str, Terminal]) -> None:
        self.gw = gateway
        self.terminals = terminals

    async def transaction(self, request: web.Request) -> web.Response:
        """The route: the answer to a querydr or a refund, or the refusal with its code."""
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
            await self.gw.settle_by_inquiry(row["payment_id"], expire_if_uncharged=False)
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

