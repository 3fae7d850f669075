"""The gateway's own records of its VNPay IPN deliveries, for measuring a merchant system under test.

Every IPN GET the VNPay front sends (first attempt, retry, fault copy, early copy) is kept in memory with
when it left, when the answer came, the ``RspCode`` (or what went wrong) and whether a fault tampered it
(``signature``: a wrong ``vnp_SecureHash``, the merchant must answer 97; ``amount``: signed but 1,000 VND
too high, the merchant must answer 04). ``GET /vnpay/ipn-records?tmn_code=…&since=T`` gives the terminal's
bank-approved payments since epoch `T` (from the ledger) with their deliveries: what `motcua loadtest
--merchant` measures CALLBACK from (bank approval → the merchant's 00), the RspCode mix, retries per
payment, answers of 00 to tampered IPNs and second 00s (a second credit). ``unpaid`` gives the payments
that ended without money (declined ``failed``, ``cancelled`` by the payer, ``expired``) created since `T`,
with their deliveries, so a merchant's answers to failed-payment IPNs are judged too; ``findings`` the
deviations of the terminal's payment URLs (`mock_services.gateway.vnpay.findings`). The log is bounded
and lives as long as the gateway process (a load test does not restart it).
"""

from __future__ import annotations

import collections
import re
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from motcua.mock_services.common.http import json_response
from motcua.mock_services.common.openapi import EPOCH, STRING, VND, json_content, obj, operation
from motcua.mock_services.errors import ApiError
from motcua.mock_services.gateway.vnpay.findings import Findings

if TYPE_CHECKING:
    from motcua.mock_services.common.db import Database

MAX_DELIVERIES = 2_000_000
RECORDS_PATH = "/vnpay/ipn-records"
TMN_CODE_PATTERN = "[A-Z0-9]{8}"
"""A terminal code, as the terminal file declares it."""


class DeliveryLog:
    """The IPN deliveries of this gateway process, by payment (bounded: the oldest are dropped)."""

    def __init__(self, limit: int = MAX_DELIVERIES) -> None:
        self.rows: collections.deque[tuple[Any, ...]] = collections.deque(maxlen=limit)

    def record(self, payment_id: str, kind: str, tampered: str | None, sent_at: float, code: str | None,
               error: str | None) -> None:
        self.rows.append((payment_id, kind, tampered, sent_at, time.time(), code, error))

    def by_payment(self, payment_ids: set[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for payment_id, kind, tampered, sent_at, answered_at, code, error in self.rows:
            if payment_id in payment_ids:
                out.setdefault(payment_id, []).append({
                    "kind": kind, "tampered": tampered, "sent_at": sent_at, "answered_at": answered_at,
                    "rsp_code": code, "error": error,
                })  # fmt: skip
        return out


def approved_since(db: Database, tmn_code: str, since: float) -> list[dict[str, Any]]:
    """The terminal's payments the bank approved at or after `since`, with their outbox state."""
    rows = db.query(
        "SELECT p.payment_id, v.txn_ref, p.amount_vnd, p.bank_code, p.grp, p.bank_approved_at, p.state,"
        " o.status AS outbox_status, o.attempts FROM vnpay_orders v JOIN payments p USING (payment_id)"
        " LEFT JOIN ipn_outbox o USING (payment_id)"
        " WHERE v.tmn_code = ? AND p.response_code = '00' AND p.bank_approved_at >= ? ORDER BY p.bank_approved_at",
        (tmn_code, since),
    )
    return [dict(r) for r in rows]


def unpaid_since(db: Database, tmn_code: str, since: float) -> list[dict[str, Any]]:
    """The terminal's payments created at or after `since` that ended without money (failed, cancelled, expired)."""
    rows = db.query(
        "SELECT p.payment_id, v.txn_ref, p.amount_vnd, p.bank_code, p.grp, p.created_at, p.notified_at, p.state,"
        " p.response_code, o.status AS outbox_status, o.attempts FROM vnpay_orders v JOIN payments p USING (payment_id)"
        " LEFT JOIN ipn_outbox o USING (payment_id)"
        " WHERE v.tmn_code = ? AND p.state IN ('failed', 'cancelled', 'expired') AND p.created_at >= ?"
        " ORDER BY p.created_at",
        (tmn_code, since),
    )
    return [dict(r) for r in rows]


def records_handler(db_of: Any, log: DeliveryLog, terminals: Any, findings: Findings | None = None) -> Any:
    async def records(request: web.Request) -> web.Response:
        tmn_code = request.query.get("tmn_code", "")
        if not re.fullmatch(TMN_CODE_PATTERN, tmn_code):
            raise ApiError(400, "invalid_field", f"tmn_code {tmn_code[:20]!r}: 8 upper-case letters or digits",
                           field="tmn_code")
        if tmn_code not in terminals:
            raise ApiError(404, "unknown_terminal", f"tmn_code {tmn_code!r} is not a terminal of this gateway",
                           field="tmn_code")
        try:
            since = float(request.query.get("since", "0"))
        except ValueError:
            raise ApiError(422, "invalid_field", f"since must be epoch seconds, got {request.query['since']!r}",
                           field="since") from None
        approved = approved_since(db_of(), tmn_code, since)
        unpaid = unpaid_since(db_of(), tmn_code, since)
        deliveries = log.by_payment({p["payment_id"] for p in (*approved, *unpaid)})
        for payment in (*approved, *unpaid):
            payment["deliveries"] = deliveries.get(payment["payment_id"], [])
        found = findings.summary(tmn_code, since) if findings is not None else []
        return json_response({"tmn_code": tmn_code, "since": since, "approved": approved, "unpaid": unpaid,
                              "findings": found})

    return records


_DELIVERY = obj(["kind", "tampered", "sent_at", "answered_at", "rsp_code", "error"], kind=STRING,
                tampered={"type": ["string", "null"], "enum": ["signature", "amount", None]}, sent_at=EPOCH,
                answered_at=EPOCH, rsp_code={"type": ["string", "null"]}, error={"type": ["string", "null"]})
_APPROVED = obj(["payment_id", "txn_ref", "amount_vnd", "bank_approved_at", "deliveries"], payment_id=STRING,
                txn_ref=STRING, amount_vnd=VND, bank_code={"type": ["string", "null"]}, grp=STRING,
                bank_approved_at=EPOCH, state=STRING, outbox_status={"type": ["string", "null"]},
                attempts={"type": ["integer", "null"]}, deliveries={"type": "array", "items": _DELIVERY})
_UNPAID = obj(["payment_id", "txn_ref", "amount_vnd", "state", "deliveries"], payment_id=STRING, txn_ref=STRING,
              amount_vnd=VND, bank_code={"type": ["string", "null"]}, grp=STRING, created_at=EPOCH,
              notified_at={"type": ["number", "null"]}, state=STRING, response_code={"type": ["string", "null"]},
              outbox_status={"type": ["string", "null"]}, attempts={"type": ["integer", "null"]},
              deliveries={"type": "array", "items": _DELIVERY})
_FINDING = obj(["kind", "detail", "meaning", "count", "example", "first_at"], kind=STRING, detail=STRING,
               meaning=STRING, count={"type": "integer", "minimum": 1}, example=STRING, first_at=EPOCH)
PATHS = {RECORDS_PATH: {"get": operation(
    "The terminal's bank-approved VNPay payments since an epoch time, with every IPN sent and its answer "
    "(what motcua loadtest --merchant measures)",
    parameters=[{"name": "tmn_code", "in": "query", "required": True,
                 "schema": {"type": "string", "pattern": f"^{TMN_CODE_PATTERN}$"}},
                {"name": "since", "in": "query", "required": False, "schema": {"type": "number"}}],
    errors=(400, 404, 422),
    ok={"200": json_content(obj(["tmn_code", "since", "approved", "unpaid", "findings"], tmn_code=STRING,
                                since={"type": "number"}, approved={"type": "array", "items": _APPROVED},
                                unpaid={"type": "array", "items": _UNPAID},
                                findings={"type": "array", "items": _FINDING}), "the records")},
)}}
"""OpenAPI of the route, merged into the gateway's document by `mock_services.gateway.vnpay.openapi`."""
