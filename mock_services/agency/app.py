"""The agency's electronic one-stop-shop system (Hệ thống một cửa điện tử), as an HTTP service.

Scene: a citizen files a dossier (hồ sơ) on the agency's portal; the system gives it a code
``<agency code>-YYMMDD-NNNN`` and, when the procedure has a fee, asks the national payment platform
(the gateway) for a payment the citizen then pays at a bank. The gateway tells the system by an IPN
that the bank approved it; the system checks the IPN (signature 97 → dossier 01 → amount 04 → already
confirmed 02 → confirm 00; anything unexpected 99) and marks the dossier paid — once, however many
copies of the IPN arrive. Officers look up a dossier's status; a daily reconciliation (đối soát)
against the gateway's signed report marks the payments whose IPN never came as
``paid_by_reconciliation``. The event journal (``GET /events``) lets a load-test harness measure the
callback delay from the bank's approval to the agency's acknowledgement.

Routes and bodies: docs/contracts.md §1 and ``GET /openapi.json``. The ledger is in
`mock_services.agency.ledger`; the HTTP plumbing in `mock_services.common.http`.

    python -m motcua.mock_services.agency --port 8003 --data-dir D --gateway-url http://127.0.0.1:8001 \\
        --agency-code 000.00.20.H37 [--faults FILE] [--catalogue FILE]

(the options: `mock_services.agency.config`).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from motcua.mock_services.agency import ledger
from motcua.mock_services.agency.config import AgencyConfig
from motcua.mock_services.agency.openapi import openapi_for
from motcua.mock_services.agency.vnpay import VnpayIntegration, terminal_from, with_vnpay_routes
from motcua.mock_services.agency.vnpay import add_routes as add_vnpay_routes
from motcua.mock_services.common import http, signed_http, signing
from motcua.mock_services.common.catalogue import PAYMENT_GROUPS
from motcua.mock_services.common.db import Database
from motcua.mock_services.common.faults import ServiceFaults
from motcua.mock_services.common.http import json_response
from motcua.mock_services.common.ids import parse_cccd
from motcua.mock_services.common.money import parse_vnd
from motcua.mock_services.common.service_config import serve
from motcua.mock_services.errors import ApiError, IdError, MoneyError, SequenceExhausted, SignatureError
from prometheus_client import Counter
from yarl import URL

GATEWAY_ATTEMPTS = 4
"""Tries to create a payment at the gateway; safe to repeat because of the Idempotency-Key."""
GATEWAY_BACKOFF_S = 0.05
MAX_EVENTS_PAGE = 10_000
RECONCILE_DAY_RE = re.compile(r"20[0-9]{2}-[0-9]{2}-[0-9]{2}")
QUERY_CONCURRENCY = 16
"""Parallel querydr calls when a reconciliation first asks about dossiers still awaiting payment."""


class Agency:
    """The state of one running agency system: its ledger, its gateway client and its counters."""

    def __init__(self, config: AgencyConfig, registry: Any) -> None:
        self.config = config
        self.db = Database(Path(config.data_dir) / "agency.sqlite", ledger.SCHEMA)
        self.gateway = signed_http.SignedClient("agency", config.keys["agency"], timeout_s=config.gateway_timeout_s)
        self.ipn_counter = Counter(
            "motcua_agency_ipn", "IPNs answered, by RspCode", ["rsp_code"], registry=registry
        )
        self.dossier_counter = Counter(
            "motcua_agency_dossiers", "Dossiers filed, by whether they carry a fee", ["fee"], registry=registry
        )
        terminal = config.vnpay_terminal
        self.vnpay = VnpayIntegration(self, terminal) if config.protocol == "vnpay" and terminal else None

    async def close(self) -> None:
        await self.gateway.close()
        self.db.close()

    # ------------------------------------------------------------------ dossiers

    async def submit(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """File a dossier; create its payment at the gateway when the fee is above zero."""
        procedure, group, amount, payer = self._validate_dossier(body)
        now = time.time()
        agency_code = self.config.agency_code
        try:
            code = await self.db.transact(lambda conn: ledger.allocate_code(conn, agency_code, now))
        except SequenceExhausted as exc:
            raise ApiError(409, "dossier_sequence_exhausted", str(exc), field="dossier_code") from None
        if amount <= 0:
            payment = None
        elif self.vnpay is not None:
            payment = self.vnpay.payment_for(code, amount, now)
        else:
            payment = await self._create_payment(code, procedure, group, amount, payer)
        dossier = ledger.NewDossier(
            dossier_code=code, procedure_code=procedure, group=group, amount_vnd=amount, payer=payer,
            submitted_at=now, payment_id=payment["payment_id"] if payment else None,
            pay_url=payment["pay_url"] if payment else None,
        )  # fmt: skip
        await self.db.transact(lambda conn: ledger.insert_dossier(conn, dossier))
        self.dossier_counter.labels("yes" if payment else "no").inc()
        return {
            "dossier_code": code,
            "status": "awaiting_payment" if payment else "no_fee",
            "amount_vnd": amount,
            "payment": payment,
        }

    def _validate_dossier(self, body: Mapping[str, Any]) -> tuple[str, str, int, dict[str, str]]:
        procedure_code = http.require(body, "procedure_code", str)
        if procedure_code not in self.config.catalogue:
            known = ", ".join(p.code for p in self.config.catalogue)
            message = f"procedure_code {procedure_code!r} is not in the fee catalogue; known: {known}"
            raise ApiError(422, "unknown_procedure", message, field="procedure_code")
        procedure = self.config.catalogue[procedure_code]
        group = body.get("group", procedure.group)
        if group not in PAYMENT_GROUPS:
            raise ApiError(422, "invalid_field", f"group must be one of {', '.join(PAYMENT_GROUPS)}, got {group!r}",
                           field="group")
        quantity = body.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 10_000:
            raise ApiError(422, "invalid_field", f"quantity must be a whole number 1–10000, got {quantity!r}",
                           field="quantity")
        try:
            amount = parse_vnd(body["amount_vnd"]) if "amount_vnd" in body else procedure.fee_for(quantity)
        except MoneyError as exc:
            raise ApiError(422, "invalid_amount", str(exc), field="amount_vnd") from None
        return procedure_code, group, amount, _validate_payer(body)

    async def _create_payment(
        self, code: str, procedure: str, group: str, amount: int, payer: Mapping[str, str]
    ) -> dict[str, Any]:
        """POST /payments at the gateway, retrying transient failures under the same Idempotency-Key."""
        payload = {
            "agency_code": self.config.agency_code, "dossier_code": code, "procedure_code": procedure,
            "group": group, "amount_vnd": amount, "payer": dict(payer),
            "ipn_url": f"{self.config.public_url}/ipn", "return_url": f"{self.config.public_url}/dossiers/{code}",
            "expires_in_s": self.config.expires_in_s,
        }  # fmt: skip
        url = f"{self.config.gateway_url}/payments"
        problem = ""
        for attempt in range(GATEWAY_ATTEMPTS):
            if attempt:
                await asyncio.sleep(GATEWAY_BACKOFF_S * 2 ** (attempt - 1))
            try:
                status, data = await self.gateway.post_json(url, payload, headers={"Idempotency-Key": code})
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
                continue
            if status in (200, 201) and isinstance(data, dict) and "payment_id" in data:
                return {"payment_id": data["payment_id"], "pay_url": data.get("pay_url")}
            problem = f"HTTP {status}: {data}"
            if status < 500 and status != 429:  # the gateway refused the request itself: retrying will not help
                raise ApiError(
                    502, "gateway_refused", f"the payment platform refused the payment for {code}: {problem}"
                )
        raise ApiError(
            503, "gateway_unavailable",
            f"the payment platform did not create the payment for {code} after {GATEWAY_ATTEMPTS} tries "
            f"({problem}); file the dossier again later",
        )  # fmt: skip

    # ------------------------------------------------------------------ IPN

    async def ipn(self, request: web.Request) -> web.Response:
        raw = await http.read_body(request)
        try:
            key_id = signed_http.verify_signed(request, raw, self.config.keys)
            if key_id != "gateway":
                raise SignatureError(f"IPNs must be signed by the gateway, not {key_id!r}")
        except SignatureError as exc:
            # Counted in SQLite before the answer (it survives kill -9); an unsigned caller moves a counter only.
            await self.db.transact(lambda conn: ledger.count_refusal(conn, "97"))
            return self._answer(ledger.IpnOutcome("97", f"Invalid signature: {exc}"))
        body = http.parse_json_object(raw)
        now = time.time()
        try:
            ipn = _validate_ipn(body)
        except ValueError as exc:
            problem = str(exc)
            outcome = await self.db.transact(lambda conn: _reject_99(conn, body, problem, now))
            return self._answer(outcome)
        outcome = await self.db.transact(lambda conn: ledger.handle_ipn(conn, ipn, now))
        return self._answer(outcome)

    def _answer(self, outcome: ledger.IpnOutcome) -> web.Response:
        self.ipn_counter.labels(outcome.code).inc()
        return json_response(outcome.body())

    # ------------------------------------------------------------------ reconciliation

    async def reconcile(self, day: str, *, query_pending: bool = False) -> dict[str, Any]:
        """Pull the gateway's signed report of `day` and credit what the IPNs missed.

        With `query_pending`, first ask the gateway (querydr) about every dossier of that day still
        awaiting payment: the gateway then settles an ambiguous payment with its bank, so a payment whose
        bank notification never came appears in the report instead of staying in limbo; a payment the
        gateway reports cancelled, expired or failed closes its dossier (``cancelled``, ``payment_failed``).
        """
        if self.vnpay is not None:
            return await self.vnpay.reconcile(day)
        nothing_queried = {"queried": 0, "query_states": {}, "closed_unpaid": 0}
        queried = await self._query_pending(day) if query_pending else nothing_queried
        report = await self._fetch_report(day)
        payments = report.get("payments")
        if not isinstance(payments, list) or report.get("agency_code") != self.config.agency_code:
            raise ApiError(
                502, "bad_report", f"the gateway's report for {day} is not for this agency or lacks payments"
            )
        now = time.time()
        result = await self.db.transact(lambda conn: ledger.reconcile(conn, day, payments, now))
        return {**result, **queried}

    async def _query_pending(self, day: str) -> dict[str, Any]:
        rows = ledger.awaiting_on_day(self.db.conn, day)
        semaphore = asyncio.Semaphore(QUERY_CONCURRENCY)

        async def state_of(payment_id: str) -> str:
            async with semaphore:
                try:
                    status, data = await self.gateway.get_json(f"{self.config.gateway_url}/payments/{payment_id}")
                except (aiohttp.ClientError, TimeoutError) as exc:
                    return f"unreachable ({type(exc).__name__})"
                return data.get("state", "?") if status == 200 and isinstance(data, dict) else f"HTTP {status}"

        states = await asyncio.gather(*(state_of(payment_id) for payment_id in rows))
        by_payment = dict(zip(rows, states, strict=True))
        closed = await self.db.transact(lambda conn: ledger.close_unpaid(conn, by_payment))
        return {"queried": len(rows), "query_states": dict(collections.Counter(states)), "closed_unpaid": closed}

    async def _fetch_report(self, day: str) -> dict[str, Any]:
        query = {"agency_code": self.config.agency_code, "date": day}
        url = str(URL(f"{self.config.gateway_url}/reconciliation").with_query(query))
        try:
            answer = await self.gateway.fetch("GET", url, timeout_s=max(self.config.gateway_timeout_s, 30.0))
            status, resp_headers, raw = answer.status, answer.headers, answer.body
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ApiError(503, "gateway_unavailable", f"cannot fetch the reconciliation report: {exc}") from None
        if status != 200:
            raise ApiError(502, "gateway_refused", f"the gateway answered HTTP {status} to {url}: {raw[:300]!r}")
        try:
            key_id = signing.verify(self.config.keys, "GET", URL(url).raw_path_qs, resp_headers, raw)
        except SignatureError as exc:
            raise ApiError(
                502, "report_signature_invalid", f"the reconciliation report is not signed correctly: {exc}"
            ) from None
        if key_id != "gateway":
            raise ApiError(502, "report_signature_invalid", f"the report must be signed by the gateway, not {key_id!r}")
        return http.parse_json_object(raw)


AGENCY = web.AppKey("agency", Agency)


# ---------------------------------------------------------------------- validation helpers


def _validate_payer(body: Mapping[str, Any]) -> dict[str, str]:
    payer = body.get("payer")
    if not isinstance(payer, dict):
        raise ApiError(422, "missing_field", "payer must be an object {name, cccd, phone}", field="payer")
    for key in ("name", "cccd", "phone"):
        if not isinstance(payer.get(key), str) or not payer[key].strip():
            raise ApiError(422, "invalid_field", f"payer.{key} must be a non-empty string, got {payer.get(key)!r}",
                           field=f"payer.{key}")
    try:
        parse_cccd(payer["cccd"])
    except IdError as exc:
        raise ApiError(422, "invalid_field", f"payer.{exc}", field="payer.cccd") from None
    return {"name": payer["name"], "cccd": payer["cccd"], "phone": payer["phone"]}


def _validate_ipn(body: Mapping[str, Any]) -> dict[str, Any]:
    """The IPN's fields with their types checked; ValueError naming the first bad one."""
    for key in ("payment_id", "dossier_code", "response_code"):
        if not isinstance(body.get(key), str) or not body[key]:
            raise ValueError(f"{key} must be a non-empty string, got {body.get(key)!r}")
    try:
        amount = parse_vnd(body.get("amount_vnd"))
    except MoneyError as exc:
        raise ValueError(str(exc)) from None
    for key in ("agency_code", "bank_code", "bank_txn_no", "group"):
        if key in body and not isinstance(body[key], str):
            raise ValueError(f"{key} must be a string, got {body[key]!r}")
    for key in ("bank_approved_at", "sent_at"):
        at = body.get(key)
        if at is not None and (isinstance(at, bool) or not isinstance(at, int | float)):
            raise ValueError(f"{key} must be Unix seconds or null, got {at!r}")
    approved = body.get("bank_approved_at")
    attempt = body.get("attempt")
    if attempt is not None and (isinstance(attempt, bool) or not isinstance(attempt, int)):
        raise ValueError(f"attempt must be an integer, got {attempt!r}")
    return {**body, "amount_vnd": amount, "bank_approved_at": approved, "attempt": attempt}


def _reject_99(conn: Any, body: Mapping[str, Any], problem: str, now: float) -> ledger.IpnOutcome:
    fields = {k: body.get(k) if isinstance(body.get(k), str) else None for k in ("dossier_code", "payment_id")}
    ledger.journal(conn, "ipn_rejected", now, **fields, rsp_code="99", detail={"reason": problem})
    return ledger.IpnOutcome("99", f"Unknown error: {problem}")


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(422, "invalid_field", f"{name} must be a whole number, got {text!r}", field=name) from None
    if not low <= value <= high:
        raise ApiError(422, "invalid_field", f"{name} must be within {low}–{high}, got {value}", field=name)
    return value


# ---------------------------------------------------------------------- handlers


def _agency(request: web.Request) -> Agency:
    return request.app[AGENCY]


async def post_dossier(request: web.Request) -> web.Response:
    return json_response(await _agency(request).submit(await http.read_json(request)), status=201)


async def get_dossier(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    view = ledger.dossier_view(_agency(request).db.conn, code)
    if view is None:
        raise ApiError(404, "dossier_not_found", f"no dossier {code!r} at this agency", field="code")
    return json_response(view)


async def post_ipn(request: web.Request) -> web.Response:
    return await _agency(request).ipn(request)


async def post_reconcile(request: web.Request) -> web.Response:
    body = await http.read_json(request)
    day = http.require(body, "date", str)
    try:
        if not RECONCILE_DAY_RE.fullmatch(day):
            raise ValueError(day)
        dt.date.fromisoformat(day)
    except ValueError:
        raise ApiError(422, "invalid_field", f"date must be a YYYY-MM-DD day of 2000–2099 (the days a dossier code "
                       f"can name), got {day!r}", field="date") from None
    query_pending = body.get("query_pending", False)
    if not isinstance(query_pending, bool):
        raise ApiError(422, "invalid_field", f"query_pending must be true or false, got {query_pending!r}",
                       field="query_pending")
    return json_response(await _agency(request).reconcile(day, query_pending=query_pending))


async def get_events(request: web.Request) -> web.Response:
    since = _int_param(request, "since", 0, 0, 2**62)
    limit = _int_param(request, "limit", 1000, 1, MAX_EVENTS_PAGE)
    return json_response(ledger.events_since(_agency(request).db.conn, since, limit))


async def get_stats(request: web.Request) -> web.Response:
    agency = _agency(request)
    return json_response({"agency_code": agency.config.agency_code,
                          **ledger.stats(agency.db.conn)})


def build_app(
    config: AgencyConfig, *, faults: ServiceFaults | None = None, admin_token: str | None = None
) -> web.Application:
    """The agency's aiohttp application (routes of docs/contracts.md §1)."""
    openapi = with_vnpay_routes(openapi_for(p.code for p in config.catalogue), config.protocol)
    app = http.create_app("agency", openapi=openapi, faults=faults, admin_token=admin_token)
    agency = Agency(config, app[http.METRICS].registry)
    app[AGENCY] = agency
    app.router.add_post("/dossiers", post_dossier)
    app.router.add_get("/dossiers/{code}", get_dossier)
    app.router.add_post("/ipn", post_ipn)
    app.router.add_post("/reconcile", post_reconcile)
    app.router.add_get("/events", get_events)
    app.router.add_get("/stats", get_stats)
    if agency.vnpay is not None:
        add_vnpay_routes(app, agency.vnpay)

    async def close(_app: web.Application) -> None:
        await agency.close()

    app.on_cleanup.append(close)
    return app


def main(argv: list[str] | None = None) -> None:
    """``python -m motcua.mock_services.agency``: the options are `AgencyConfig`'s (and the fault file's)."""
    serve("agency", "The agency's electronic one-stop-shop system (mock)", AgencyConfig, build_app, argv,
          more_options=_terminal_options, derive=_derived)


def _terminal_options(parser: argparse.ArgumentParser) -> None:
    """The options that choose `AgencyConfig.vnpay_terminal`."""
    parser.add_argument("--terminals", default=None, help="VNPay terminal file (default: the bundled TEST terminal)")
    parser.add_argument("--tmn-code", default=None, help="this agency's VNPay terminal (default: the file's first)")


def _derived(args: argparse.Namespace) -> dict[str, Any]:
    """The public URL (from where it listens) and the VNPay terminal, unless the command line gives them."""
    terminal = terminal_from(args.terminals, args.tmn_code) if args.protocol == "vnpay" else None
    return {"public_url": f"http://{args.host}:{args.port}", "vnpay_terminal": terminal}
