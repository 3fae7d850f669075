"""The national payment platform (nền tảng thanh toán của Cổng Dịch vụ công Quốc gia), as a mock.

Scenario: an agency's dossier system asks the gateway to collect a fee (create, signed by the agency,
idempotent by ``Idempotency-Key``); the citizen opens the pay URL, chooses a bank (checkout) and is
charged at the bank with a gateway-signed charge token and an OTP. The bank tells the gateway the
verdict (a signed bank notification); the gateway marks the payment paid and notifies the agency by
IPN — at least once, retried on anything but ``00``/``02`` per a schedule (VNPay's: 10 attempts,
5 minutes apart; ``--ipn-schedule`` and ``--time-scale`` compress it for load tests). The IPN outbox
lives in SQLite, so pending IPNs survive a restart. Agencies may query a payment (querydr), refund it,
use a manual bank transfer that an officer confirms, and pull a signed daily reconciliation report
(đối soát) to find what their IPNs missed. Unpaid payments expire; one that waits at a bank past its
deadline is settled by asking the bank (inquiry) rather than guessed.

The same ledger also speaks VNPay 2.1.0 (`mock_services.gateway.vnpay`: payment URL, return URL, IPN GET,
querydr/refund) for the merchant terminals of ``--terminals FILE``: one implementation of payments, two
wire formats.

The HTTP contract is docs/contracts.md §1 (VNPay front §1b); the OpenAPI document is
`mock_services.gateway.openapi`.
Run: ``python -m motcua.mock_services.gateway --port P --data-dir D [--faults FILE] [--seed N]
[--time-scale X] [--bank-url URL] [--host 127.0.0.1] [--ipn-schedule 300,300,...]
[--terminals FILE] [--default-ipn-url URL]`` (the options: `mock_services.gateway.config`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from motcua.mock_services.common import signing
from motcua.mock_services.common.charge_token import ChargeClaims, make_charge_token
from motcua.mock_services.common.db import Database
from motcua.mock_services.common.faults import ServiceFaults
from motcua.mock_services.common.http import (
    create_app,
    current_faults,
    json_response,
    metrics_registry,
    parse_json_object,
    read_body,
    require,
)
from motcua.mock_services.common.ids import check_agency_code, payment_id_for
from motcua.mock_services.common.money import parse_vnd
from motcua.mock_services.common.outbox import DelayQueue
from motcua.mock_services.common.payments import State
from motcua.mock_services.common.service_config import serve
from motcua.mock_services.common.signed_http import SignedClient, verify_signed
from motcua.mock_services.errors import ApiError, IdError, IllegalTransition, MoneyError, SignatureError
from motcua.mock_services.gateway import ledger
from motcua.mock_services.gateway.config import GatewayConfig
from motcua.mock_services.gateway.openapi import OPENAPI
from motcua.mock_services.gateway.requests import (
    BANK_CODE_CHARS,
    ipn_answer,
    parse_day,
    validate_bank_result,
    validate_create,
)
from motcua.mock_services.gateway.vietqr import add_routes as add_vietqr_routes
from motcua.mock_services.gateway.vnpay.front import VnpayFront, add_routes
from prometheus_client import Counter

log = logging.getLogger("motcua.mock_services.gateway")

ACK_CODES = ("00", "02")
"""RspCodes that end IPN delivery: confirmed, or already confirmed."""


def _keys_for(keys: Mapping[str, bytes], prefix: str) -> dict[str, bytes]:
    return {k: v for k, v in keys.items() if k == prefix or k.startswith(prefix + ":")}


class Gateway:
    """The gateway's handlers, its ledger and its two background jobs (IPN outbox, expiry sweep)."""

    def __init__(self, config: GatewayConfig, app: web.Application) -> None:
        self.config = config
        self.app = app
        self.db = Database(Path(config.data_dir) / "gateway.sqlite", ledger.SCHEMA,
                           linger_s=config.commit_linger_ms / 1000)
        self.agency_keys = _keys_for(config.keys, "agency")
        self.bank_keys = _keys_for(config.keys, "bank")
        self.secret = config.keys["gateway"]
        self.ipn_client = SignedClient("gateway", self.secret, timeout_s=config.ipn_timeout_s, limit=1024)
        self.bank_client = SignedClient("gateway", self.secret, timeout_s=5.0, limit=64)
        self.outbox = DelayQueue(self._deliver_ipn, concurrency=512)
        self.ipn_sent = Counter(
            "motcua_gateway_ipn_sent", "IPN requests sent to agencies, by kind (attempt, copy, early)",
            ["kind"], registry=metrics_registry(app),
        )
        self.ipn_results = Counter(
            "motcua_gateway_ipn_results", "IPN attempts by the agency's RspCode (or timeout/error)",
            ["code"], registry=metrics_registry(app),
        )
        self._ipn_sent = {kind: self.ipn_sent.labels(kind) for kind in ("attempt", "copy", "early")}
        self._ipn_result_children: dict[str, Any] = {}
        self._first_ipn: dict[str, Any] = {}
        """Payments just committed as paid, by id: their first IPN needs no read from the database."""
        self._sweeper: asyncio.Task[None] | None = None
        self._background: set[asyncio.Future[None]] = set()
        self.vnpay = VnpayFront(self, config.terminals, config.default_ipn_url, strict=config.vnpay_strict)

    # ------------------------------------------------------------------ life cycle

    async def start(self, _app: web.Application) -> None:
        self.outbox.start()
        for row in self.db.query("SELECT payment_id, next_at FROM ipn_outbox WHERE status = 'pending'"):
            self.outbox.schedule(row["payment_id"], row["next_at"])  # pending IPNs survive a restart
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def stop(self, _app: web.Application) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        await self.outbox.stop()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.ipn_client.close()
        await self.bank_client.close()
        await self.vnpay.close()
        await self.db.drain()
        self.db.close()

    # ------------------------------------------------------------------ signatures

    def _verify(self, request: web.Request, raw: bytes, keys: Mapping[str, bytes], who: str) -> str:
        try:
            return verify_signed(request, raw, keys)
        except SignatureError as exc:
            raise ApiError(401, "bad_signature", f"request must be signed by the {who} key: {exc}") from None

    async def _signed_json(self, request: web.Request, keys: Mapping[str, bytes], who: str) -> dict[str, Any]:
        raw = await read_body(request)
        self._verify(request, raw, keys, who)
        return parse_json_object(raw) if raw else {}

    async def transact(self, unit: Any) -> Any:
        """Run a ledger unit in one transaction; a move the state machine forbids is answered 409."""
        try:
            return await self.db.transact(unit)
        except IllegalTransition as exc:
            raise ApiError(409, "illegal_transition", str(exc)) from None

    # ------------------------------------------------------------------ agency routes

    async def create_payment(self, request: web.Request) -> web.Response:
        raw = await read_body(request)
        key_id = self._verify(request, raw, self.agency_keys, "agency")
        body = parse_json_object(raw)
        key = request.headers.get("Idempotency-Key", "")
        if not key or len(key) > 255:
            raise ApiError(
                400, "missing_idempotency_key",
                f"header Idempotency-Key is required (1–255 characters), got {key[:40]!r}; send one per payment",
                field="Idempotency-Key",
            )
        new = validate_create(body)
        fingerprint = hashlib.sha256(raw).hexdigest()  # "the same body": the same bytes, as a retry sends them
        payment_id = payment_id_for(key_id, key)
        now = time.time()
        row, created = await self.db.transact(lambda conn: ledger.insert_payment(
            conn, new, payment_id=payment_id, idempotency_key=f"{key_id}:{key}", fingerprint=fingerprint, now=now,
        ))
        origin = f"{request.scheme}://{request.host}"
        return json_response({
            "payment_id": row["payment_id"],
            "state": row["state"],
            "amount_vnd": row["amount_vnd"],
            "pay_url": f"{origin}/payments/{row['payment_id']}/checkout",
            "expires_at": ledger.ms(row["expires_at"]),
        }, status=201 if created else 200)

    async def query_payment(self, request: web.Request) -> web.Response:
        """querydr: a payment still awaiting its bank is first checked with the bank."""
        self._verify(request, await read_body(request), self.agency_keys, "agency")
        payment_id = request.match_info["payment_id"]
        view = ledger.payment_view(self.db.conn, payment_id)
        if view is None:
            raise ApiError(404, "payment_not_found", f"no payment {payment_id!r} at this gateway", field="payment_id")
        if view["state"] == State.AWAITING_BANK.value and self.config.bank_url:
            await self.settle_by_inquiry(payment_id, expire_if_uncharged=False)
            view = ledger.payment_view(self.db.conn, payment_id)
        return json_response(view)

    async def refund(self, request: web.Request) -> web.Response:
        body = await self._signed_json(request, self.agency_keys, "agency")
        try:
            amount = parse_vnd(body.get("amount_vnd"), "amount_vnd", allow_zero=False)
        except MoneyError as exc:
            raise ApiError(422, "invalid_amount", str(exc), field="amount_vnd") from None
        payment_id = request.match_info["payment_id"]
        row = await self.transact(lambda conn: ledger.refund(conn, payment_id, amount))
        return json_response({"payment_id": payment_id, "state": row["state"], "refunded_vnd": row["refunded_vnd"]})

    async def manual_transfer(self, request: web.Request) -> web.Response:
        await self._signed_json(request, self.agency_keys, "agency")
        payment_id = request.match_info["payment_id"]
        await self.transact(
            lambda conn: ledger.move(conn, payment_id, State.AWAITING_OFFICER_CONFIRMATION, bank_code="MANUAL")
        )
        return json_response(ledger.payment_view(self.db.conn, payment_id))

    async def confirm_transfer(self, request: web.Request) -> web.Response:
        body = await self._signed_json(request, self.agency_keys, "agency")
        approved = body.get("approved", True)
        if not isinstance(approved, bool):
            raise ApiError(422, "invalid_field", f"approved must be true or false, got {approved!r}", field="approved")
        payment_id = request.match_info["payment_id"]
        txn = body.get("bank_txn_no", f"MANUAL-{payment_id}")
        if not isinstance(txn, str) or not txn:
            raise ApiError(422, "invalid_field", f"bank_txn_no must be a non-empty string, got {txn!r}",
                           field="bank_txn_no")
        now = time.time()
        status = self._ipn_status(payment_id)
        row = await self.transact(lambda conn: ledger.confirm_transfer(
            conn, payment_id, approved=approved, bank_txn_no=txn, now=now, ipn_status=status,
        ))
        if row["state"] == State.PAID.value and status == "pending":
            self.outbox.schedule(payment_id, now)
        return json_response(ledger.payment_view(self.db.conn, payment_id))

    async def reconciliation(self, request: web.Request) -> web.Response:
        raw = await read_body(request)
        self._verify(request, raw, self.agency_keys, "agency")
        agency_code = request.query.get("agency_code", "")
        day = request.query.get("date", "")
        try:
            check_agency_code(agency_code)
        except IdError as exc:
            raise ApiError(422, "invalid_field", str(exc), field="agency_code") from None
        try:
            day = parse_day(day)
        except ValueError:
            raise ApiError(422, "invalid_field", f"date must be YYYY-MM-DD (a UTC+7 day), got {day!r}",
                           field="date") from None
        report = ledger.reconciliation(self.db.conn, agency_code, day)
        body = json.dumps(report, separators=(",", ":"), ensure_ascii=False).encode()
        # The report itself is signed, so an agency can trust it as evidence (docs/contracts.md §1).
        headers = signing.sign("gateway", self.secret, "GET", request.raw_path, body)
        return web.Response(body=body, content_type="application/json", headers=headers)

    # ------------------------------------------------------------------ citizen routes

    async def checkout(self, request: web.Request) -> web.Response:
        body = parse_json_object(await read_body(request))
        bank_code = require(body, "bank_code")
        if not set(bank_code) <= BANK_CODE_CHARS or len(bank_code) > 32:
            raise ApiError(422, "invalid_field", f"bank_code must be an upper-case code such as 'VIETINBANK', "
                           f"got {bank_code!r}; see GET /banks at the bank service", field="bank_code")
        payment_id = request.match_info["payment_id"]
        now = time.time()
        row = await self.transact(lambda conn: ledger.checkout(conn, payment_id, bank_code, now))
        return json_response(self.checkout_answer(row, bank_code, now))

    def checkout_answer(self, row: Any, bank_code: str, now: float, *, return_url: str | None = None
                        ) -> dict[str, Any]:
        """The answer to a checkout: where to charge the payer (``charge_url``) and the signed charge token.

        The bank sends the browser back to `return_url` (the VNPay front's own return page, also echoed in the
        answer) or, without one, to the payment's return URL.
        """
        claims = ChargeClaims(
            payment_id=row["payment_id"], amount_vnd=row["amount_vnd"], bank_code=bank_code,
            return_url=return_url or row["return_url"], expires_at=row["expires_at"],
        )
        bank = (self.config.bank_url or "").rstrip("/")
        answer = {
            "payment_id": row["payment_id"],
            "state": row["state"],
            "amount_vnd": row["amount_vnd"],
            "bank_code": bank_code,
            "charge_url": f"{bank}/charge" if bank else None,
            "charge_token": make_charge_token(claims, self.secret, int(now)),
        }
        if return_url is not None:
            answer["return_url"] = return_url
        answer["expires_at"] = ledger.ms(row["expires_at"])
        return answer

    async def cancel(self, request: web.Request) -> web.Response:
        payment_id = request.match_info["payment_id"]
        row = await self.transact(lambda conn: ledger.move(conn, payment_id, State.CANCELLED))
        return json_response({"payment_id": payment_id, "state": row["state"]})

    # ------------------------------------------------------------------ bank routes

    async def bank_notification(self, request: web.Request) -> web.Response:
        body = await self._signed_json(request, self.bank_keys, "bank")
        result = validate_bank_result(body)
        row, outcome = await self._apply_bank_result(result)
        return json_response({"payment_id": result.payment_id, "state": row["state"], "status": outcome})

    async def _apply_bank_result(self, result: ledger.BankResult) -> tuple[Any, str]:
        faults = current_faults(self.app)
        now = time.time()
        status = self._ipn_status(result.payment_id)
        due = now
        if faults.chance(faults.ipn.reorder, key=result.payment_id, kind="ipn_reorder"):
            due += faults.ipn.reorder_delay_s  # held back: later IPNs overtake it
        if result.response_code == "00" and faults.chance(faults.ipn.early, key=result.payment_id, kind="ipn_early"):
            early = asyncio.ensure_future(self._send_early(result))  # races the commit below on purpose
            self._background.add(early)
            early.add_done_callback(self._background.discard)
        row, outcome = await self.transact(lambda conn: ledger.apply_bank_result(
            conn, result, now=now, ipn_status=status, ipn_due_at=due,
        ))
        if outcome == "applied" and ledger.notifies(row) and status == "pending":
            self._first_ipn[result.payment_id] = row
            self.outbox.schedule(result.payment_id, due)
        return row, outcome

    def _ipn_status(self, payment_id: str) -> str:
        faults = current_faults(self.app)
        return "lost" if faults.chance(faults.ipn.lost, key=payment_id, kind="ipn_lost") else "pending"

    # ------------------------------------------------------------------ IPN delivery

    async def _post_ipn(self, url: str, payload: dict[str, Any], *, bad_signature: bool, kind: str
                        ) -> tuple[str | None, str | None]:
        self._ipn_sent[kind].inc()
        return await ipn_answer(self.ipn_client.fetch("POST", url, payload, bad_signature=bad_signature))

    def _count_ipn_result(self, code: str) -> None:
        child = self._ipn_result_children.get(code)
        if child is None:
            child = self._ipn_result_children[code] = self.ipn_results.labels(code)
        child.inc()

    async def _deliver_ipn(self, payment_id: str) -> None:
        row = self._first_ipn.pop(payment_id, None)
        if row is not None:
            attempt = 1  # committed a moment ago with an empty, pending outbox row
        else:
            row = self.db.query_one(
                "SELECT p.*, o.status AS outbox_status, o.attempts AS outbox_attempts FROM payments p"
                " JOIN ipn_outbox o USING (payment_id) WHERE payment_id = ?", (payment_id,),
            )
            if row is None or row["outbox_status"] != "pending":
                return
            attempt = row["outbox_attempts"] + 1
        faults = current_faults(self.app)
        ipn = faults.ipn
        first = attempt == 1
        bad_signature = first and faults.chance(ipn.bad_signature, key=payment_id, kind="ipn_bad_signature")
        bump = 1000 if first and faults.chance(ipn.amount_mismatch, key=payment_id, kind="ipn_amount_mismatch") else 0
        copies = ipn.duplicate_copies if first and faults.chance(
            ipn.duplicate_rate, key=payment_id, kind="ipn_duplicate") else 0
        send = self._ipn_sender(row, attempt, bump)
        if copies:
            sends = [send(bad_signature, "attempt")] + [send(False, "copy") for _ in range(copies)]
            (code, error), *_ = await asyncio.gather(*sends)
        else:  # the usual case: no task for a lone send
            code, error = await send(bad_signature, "attempt")
        self._count_ipn_result(code or "no_answer")
        now = time.time()
        if code in ACK_CODES:
            status, next_at = "done", now
        elif attempt >= self.config.max_ipn_attempts:
            status, next_at = "gave_up", now
        else:
            status, next_at = "pending", now + self.config.ipn_wait_s(attempt)
        await self.db.transact(lambda conn: ledger.record_ipn_attempt(
            conn, payment_id, attempt=attempt, code=code, error=error, status=status, next_at=next_at,
            copies=copies, now=now,
        ))
        if status == "pending":
            self.outbox.schedule(payment_id, next_at)
        else:
            self.vnpay.forget(payment_id)

    def _ipn_sender(self, row: Any, attempt: int, amount_bump_vnd: int = 0) -> Any:
        """``send(bad_signature, kind)`` → one IPN of this payment in its front's wire format: (code, error)."""
        if row["protocol"] == ledger.VNPAY:
            payment_id = row["payment_id"]

            async def send_vnpay(bad_signature: bool, kind: str) -> tuple[str | None, str | None]:
                self._ipn_sent[kind].inc()
                sent_at = time.time()
                code, error = await self.vnpay.send_ipn(payment_id, row, bad_signature=bad_signature,
                                                        amount_bump_vnd=amount_bump_vnd)
                tampered = "signature" if bad_signature else "amount" if amount_bump_vnd else None
                self.vnpay.deliveries.record(payment_id, kind, tampered, sent_at, code, error)
                return code, error
            return send_vnpay
        payload = ledger.ipn_payload(row, attempt, time.time())
        payload["amount_vnd"] += amount_bump_vnd

        def send_json(bad_signature: bool, kind: str) -> Any:
            return self._post_ipn(row["ipn_url"], dict(payload), bad_signature=bad_signature, kind=kind)
        return send_json

    async def _send_early(self, result: ledger.BankResult) -> None:
        """Fault ``early``: one IPN copy sent before the payment is committed as paid."""
        row = self.db.query_one("SELECT * FROM payments WHERE payment_id = ?", (result.payment_id,))
        if row is None:
            return
        fake = {**dict(row), "bank_code": result.bank_code, "bank_txn_no": result.bank_txn_no,
                "response_code": "00", "bank_approved_at": result.approved_at, "state": State.PAID.value}
        await self._ipn_sender(fake, 0)(False, "early")

    # ------------------------------------------------------------------ expiry and bank inquiry

    async def _inquire_bank(self, payment_id: str) -> ledger.BankResult | bool | None:
        """The bank's verdict; False if the bank never charged it; None if the bank could not tell."""
        url = f"{self.config.bank_url.rstrip('/')}/charges/{payment_id}"  # type: ignore[union-attr]
        try:
            status, data = await self.bank_client.get_json(url)
        except (aiohttp.ClientError, TimeoutError):
            return None
        if status == 404:
            return False
        if status != 200 or not isinstance(data, dict):
            return None
        try:
            return validate_bank_result(data)
        except ApiError:
            return None

    async def settle_by_inquiry(self, payment_id: str, *, expire_if_uncharged: bool) -> None:
        """Ask the bank about a payment still awaiting it, and apply what the bank says (querydr, the return
        page, the expiry sweep); with `expire_if_uncharged`, a payment the bank never charged expires."""
        verdict = await self._inquire_bank(payment_id)
        try:
            if isinstance(verdict, ledger.BankResult):
                await self._apply_bank_result(verdict)
            elif verdict is False and expire_if_uncharged:
                await self.transact(lambda conn: ledger.move(conn, payment_id, State.EXPIRED))
        except ApiError as exc:  # it moved meanwhile (the notification won the race); querydr shows the truth
            log.info("inquiry of %s not applied: %s", payment_id, exc.message)

    async def sweep_once(self) -> None:
        now = time.time()
        await self.db.transact(lambda conn: ledger.expire_unstarted(conn, now))
        if not self.config.bank_url:
            return
        grace = max(self.config.bank_grace_s * self.config.time_scale, 2.0)
        overdue = self.db.query(
            "SELECT payment_id FROM payments WHERE state = ? AND expires_at <= ? LIMIT 200",
            (State.AWAITING_BANK.value, now - grace),
        )
        await asyncio.gather(*(self.settle_by_inquiry(r["payment_id"], expire_if_uncharged=True) for r in overdue))

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.sweep_interval_s)
            try:
                await self.sweep_once()
            except Exception:  # the sweep must keep running; the next round retries
                log.exception("expiry sweep failed")

    # ------------------------------------------------------------------ operations

    async def stats(self, _request: web.Request) -> web.Response:
        return json_response({**ledger.stats(self.db.conn), "db": dict(self.db.stats)})


GATEWAY = web.AppKey("gateway", Gateway)


# --------------------------------------------------------------------------- app and command line


def build_app(config: GatewayConfig, *, faults: ServiceFaults | None = None, admin_token: str | None = None
              ) -> web.Application:
    app = create_app("gateway", openapi=OPENAPI, faults=faults, admin_token=admin_token)
    gw = Gateway(config, app)
    app[GATEWAY] = gw
    r = app.router
    r.add_post("/payments", gw.create_payment)
    r.add_get("/payments/{payment_id}", gw.query_payment)
    r.add_post("/payments/{payment_id}/checkout", gw.checkout)
    r.add_post("/payments/{payment_id}/cancel", gw.cancel)
    r.add_post("/payments/{payment_id}/refund", gw.refund)
    r.add_post("/payments/{payment_id}/manual-transfer", gw.manual_transfer)
    r.add_post("/payments/{payment_id}/confirm-transfer", gw.confirm_transfer)
    r.add_post("/bank-notifications", gw.bank_notification)
    r.add_get("/reconciliation", gw.reconciliation)
    r.add_get("/stats", gw.stats)
    add_routes(app, gw.vnpay)
    add_vietqr_routes(app, gw)
    app.on_startup.append(gw.start)
    app.on_cleanup.append(gw.stop)
    return app


def main(argv: list[str] | None = None) -> None:
    """``python -m motcua.mock_services.gateway``: the options are `GatewayConfig`'s (and the fault file's)."""
    serve("gateway", "The national payment platform (gateway) mock.", GatewayConfig, build_app, argv)
