"""The banks and e-wallets (ngân hàng, ví điện tử) that charge citizens, as one mock service.

Scenario: the citizen, sent by the gateway with a charge token, picks a bank (VietinBank, Agribank,
VNPT-Pay, MoMo …) and confirms with an OTP. Each bank answers after its own latency (lognormal by
p50/p95) with a VNPay-style response code drawn from its decline mix (00 ok, 07 suspicious,
11 expired, 24 cancelled by the payer, 51 insufficient funds, 65 over limit, 75 under maintenance).
Then, after its own notification delay — the "agency did not see the money right away" of the
source reports — it POSTs a signed notification to the gateway, retrying until the gateway
acknowledges it; pending notifications are kept in SQLite and survive a restart. The gateway may
also ask a bank about a charge (``GET /charges/{payment_id}``), which is how a payment whose
notification never came is settled.

The default catalogue is ``mock_services/banks.toml`` (`mock_services.bank.catalogue`); its latencies,
delays and decline mixes are ASSUMED (illustrative), not measured. A notification delay is drawn lognormal
by ``notify_p50_ms``/``notify_p95_ms`` and cut at the bank's cap (``notify_max_ms``, default 2 ×
``notify_p95_ms``); a charge latency likewise by ``p50_ms``/``p95_ms``, cut at ``max_ms`` (default 2 × ``p95_ms``,
`charge_latency_ms`). Charge latencies are multiplied by ``--latency-scale``, the notification delays and
retry waits by ``--time-scale``.

Run: ``python -m motcua.mock_services.bank --port P --data-dir D --gateway-url URL [--catalogue FILE]
[--faults FILE] [--seed N] [--time-scale X] [--latency-scale Y]`` (the options: `mock_services.bank.config`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
from aiohttp import web
from motcua.mock_services.bank.config import BankConfig
from motcua.mock_services.bank.openapi import openapi_for
from motcua.mock_services.bank.vietqr import pay_scanned
from motcua.mock_services.common.charge_token import read_charge_token
from motcua.mock_services.common.db import Database
from motcua.mock_services.common.faults import ServiceFaults, keyed_uniform, lognormal_ms
from motcua.mock_services.common.http import (
    create_app,
    current_faults,
    json_response,
    read_json,
    require,
)
from motcua.mock_services.common.outbox import DelayQueue
from motcua.mock_services.common.service_config import serve
from motcua.mock_services.common.signed_http import SignedClient, verify_signed
from motcua.mock_services.errors import ApiError, ChargeTokenError, SignatureError

from motcua.payment_platform import RESPONSE_CODES, BankProfile

log = logging.getLogger("motcua.mock_services.bank")

WRONG_OTP = "000000"
"""The OTP that is always wrong (the citizen may try again)."""
MAX_RETRY_WAIT_S = 60.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS charges (
    payment_id      TEXT PRIMARY KEY,
    bank_code       TEXT NOT NULL,
    amount_vnd      INTEGER NOT NULL,
    response_code   TEXT NOT NULL,
    bank_txn_no     TEXT NOT NULL UNIQUE,
    approved_at     REAL,
    charged_at      REAL NOT NULL,
    return_url      TEXT NOT NULL,
    notify_status   TEXT NOT NULL,      -- pending | done | withheld | rejected
    notify_at       REAL NOT NULL,
    notify_attempts INTEGER NOT NULL DEFAULT 0,
    notified_at     REAL,
    last_error      TEXT
);
CREATE INDEX IF NOT EXISTS charges_to_notify ON charges (notify_status, notify_at);
"""



def charge_latency_ms(rng: np.random.Generator, profile: BankProfile) -> float:
    """How long the bank takes to answer a charge: lognormal by its p50 and p95, cut at its cap (`charge_cap_ms`)."""
    return min(lognormal_ms(rng, profile.p50_ms, profile.p95_ms), profile.charge_cap_ms)

class Bank:
    """The bank service's handlers, its charge ledger and its notification outbox."""

    def __init__(self, config: BankConfig, app: web.Application) -> None:
        self.config = config
        self.app = app
        self.db = Database(Path(config.data_dir) / "bank.sqlite", SCHEMA)
        self.gateway_secret = config.keys["gateway"]
        self.gateway_keys = {"gateway": config.keys["gateway"]}
        self.client = SignedClient("bank", config.keys["bank"], timeout_s=config.notify_timeout_s, limit=512)
        self.outbox = DelayQueue(self._notify, concurrency=512)
        # Latency draws: the bank's own stream, independent of the fault draws.
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([config.seed, 0xBA4C])))

    async def start(self, _app: web.Application) -> None:
        self.outbox.start()
        for row in self.db.query("SELECT payment_id, notify_at FROM charges WHERE notify_status = 'pending'"):
            self.outbox.schedule(row["payment_id"], row["notify_at"])  # pending notifications survive a restart

    async def stop(self, _app: web.Application) -> None:
        await self.outbox.stop()
        await self.client.close()
        await self.db.drain()
        self.db.close()

    # ------------------------------------------------------------------ routes

    async def banks(self, _request: web.Request) -> web.Response:
        return json_response([b.public() for b in self.config.catalogue.values()])

    async def charge(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        token, bank_code, otp = require(body, "charge_token"), require(body, "bank_code"), require(body, "otp")
        try:
            claims = read_charge_token(token, self.gateway_secret)
        except ChargeTokenError as exc:
            raise ApiError(401, "bad_charge_token", str(exc), field="charge_token") from None
        profile = self.config.catalogue.get(bank_code)
        if profile is None:
            raise ApiError(422, "unknown_bank", f"bank_code {bank_code!r} is not in the catalogue; "
                           f"choose one of {', '.join(self.config.catalogue)}", field="bank_code")
        if bank_code != claims.bank_code:
            raise ApiError(422, "bank_mismatch", f"the charge token is for {claims.bank_code}, not {bank_code}",
                           field="bank_code")
        return json_response(await self.charge_once(claims, profile, otp))

    async def charge_once(self, claims: Any, profile: BankProfile, otp: str) -> dict[str, Any]:
        """Check the OTP and charge once (a repeated charge of a payment answers the first verdict): the verdict.

        The charge of ``POST /charge`` and of a scanned VietQR (`mock_services.bank.vietqr`)."""
        if not re.fullmatch(r"[0-9]{6}", otp):
            raise ApiError(422, "invalid_field", f"otp must be 6 digits, got {otp!r}", field="otp")
        if otp == WRONG_OTP:
            raise ApiError(400, "wrong_otp", "the OTP is wrong; ask for a new one and try again", field="otp")
        existing = self.db.query_one("SELECT * FROM charges WHERE payment_id = ?", (claims.payment_id,))
        if existing is None:
            await self._wait_like_the_bank(profile)
            existing = await self._record_charge(claims, profile)
        return _charge_answer(existing)

    async def vietqr_pay(self, request: web.Request) -> web.Response:
        """The citizen's bank app paid a scanned VietQR (`mock_services.bank.vietqr`)."""
        return json_response(await pay_scanned(self, await read_json(request)))

    async def _wait_like_the_bank(self, profile: BankProfile) -> None:
        faults = current_faults(self.app)
        frozen = faults.bank.freeze_remaining_s(time.monotonic() - faults.clock_start_s)
        if frozen > 0:
            await asyncio.sleep(frozen)  # the bank is frozen: every charge hangs until the window ends
        delay = charge_latency_ms(self.rng, profile) * self.config.latency_scale / 1000
        if delay > 0:
            await asyncio.sleep(delay)

    def _verdict(self, claims: Any, profile: BankProfile, faults: ServiceFaults, now: float) -> str:
        if now > claims.expires_at:
            return "11"
        if profile.code in faults.bank.outage.banks:
            return faults.bank.outage.code
        if faults.chance(faults.bank.toxicity):
            return "75"
        return profile.verdict(keyed_uniform(self.config.seed, f"decline:{claims.payment_id}"))

    async def _record_charge(self, claims: Any, profile: BankProfile) -> Any:
        faults = current_faults(self.app)
        now = time.time()
        code = self._verdict(claims, profile, faults, now)
        withheld = faults.chance(faults.bank.pending, key=claims.payment_id, kind="bank_pending")
        # the declared distribution, truncated at the declared cap (BankProfile.notify_cap_ms): no endless tail
        delay_ms = min(lognormal_ms(self.rng, profile.notify_p50_ms, profile.notify_p95_ms), profile.notify_cap_ms)
        notify_at = now + delay_ms / 1000 * self.config.time_scale
        txn = profile.code + hashlib.sha256(f"{self.config.seed}:{claims.payment_id}".encode()).hexdigest()[:14].upper()
        status = "withheld" if withheld else "pending"

        def unit(conn: Any) -> Any:
            row = conn.execute("SELECT * FROM charges WHERE payment_id = ?", (claims.payment_id,)).fetchone()
            if row is not None:  # a concurrent charge of the same payment won: one charge per payment
                return row, False
            conn.execute(
                "INSERT INTO charges (payment_id, bank_code, amount_vnd, response_code, bank_txn_no, approved_at,"
                " charged_at, return_url, notify_status, notify_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (claims.payment_id, profile.code, claims.amount_vnd, code, txn, now if code == "00" else None, now,
                 claims.return_url, status, notify_at),
            )
            return conn.execute("SELECT * FROM charges WHERE payment_id = ?", (claims.payment_id,)).fetchone(), True

        row, created = await self.db.transact(unit)
        if created and status == "pending" and self.config.gateway_url:
            self.outbox.schedule(claims.payment_id, notify_at)
        return row

    async def inquiry(self, request: web.Request) -> web.Response:
        try:
            verify_signed(request, await request.read(), self.gateway_keys)
        except SignatureError as exc:
            raise ApiError(401, "bad_signature", f"inquiries must be signed by the gateway: {exc}") from None
        payment_id = request.match_info["payment_id"]
        row = self.db.query_one("SELECT * FROM charges WHERE payment_id = ?", (payment_id,))
        if row is None:
            raise ApiError(404, "charge_not_found", f"no charge for payment {payment_id!r} at this bank",
                           field="payment_id")
        return json_response(_notification(row))

    async def stats(self, _request: web.Request) -> web.Response:
        by_code: dict[str, int] = {row[0]: row[1] for row in self.db.query(
            "SELECT response_code, count(*) FROM charges GROUP BY response_code")}
        by_status: dict[str, int] = {row[0]: row[1] for row in self.db.query(
            "SELECT notify_status, count(*) FROM charges GROUP BY notify_status")}
        total = self.db.query_one("SELECT coalesce(sum(notify_attempts), 0) FROM charges")
        attempts = total[0] if total is not None else 0
        return json_response({"charges": sum(by_code.values()), "by_code": by_code, "notify": by_status,
                              "notify_attempts": attempts})

    # ------------------------------------------------------------------ notifications

    async def _notify(self, payment_id: str) -> None:
        row = self.db.query_one("SELECT * FROM charges WHERE payment_id = ?", (payment_id,))
        if row is None or row["notify_status"] != "pending":
            return
        url = f"{self.config.gateway_url.rstrip('/')}/bank-notifications"  # type: ignore[union-attr]
        error = None
        try:
            status, data = await self.client.post_json(url, _notification(row))
        except (aiohttp.ClientError, TimeoutError) as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"[:300]
        now = time.time()
        attempts = row["notify_attempts"] + 1
        if status == 200:
            new_status, next_at = "done", now
        elif status is not None and 400 <= status < 500 and status not in (408, 429):
            new_status, next_at = "rejected", now  # the gateway refuses it for good; retrying cannot help
            error = f"HTTP {status}: {str(data)[:250]}"
            log.warning("gateway rejected the notification of %s: %s", payment_id, error)
        else:
            wait = min(2.0 ** (attempts - 1), MAX_RETRY_WAIT_S) * self.config.time_scale
            new_status, next_at = "pending", now + wait
            error = error or f"HTTP {status}"
        await self.db.transact(lambda conn: conn.execute(
            "UPDATE charges SET notify_status = ?, notify_attempts = ?, notify_at = ?, notified_at = ?,"
            " last_error = ? WHERE payment_id = ?",
            (new_status, attempts, next_at, now if new_status == "done" else None, error, payment_id),
        ))
        if new_status == "pending":
            self.outbox.schedule(payment_id, next_at)


BANK = web.AppKey("bank", Bank)


def _notification(row: Any) -> dict[str, Any]:
    """The notification body (docs/contracts.md §1), also the answer to an inquiry."""
    return {
        "payment_id": row["payment_id"],
        "bank_code": row["bank_code"],
        "response_code": row["response_code"],
        "bank_txn_no": row["bank_txn_no"],
        "amount_vnd": row["amount_vnd"],
        "approved_at": None if row["approved_at"] is None else round(row["approved_at"], 3),
    }


def _charge_answer(row: Any) -> dict[str, Any]:
    return {
        **_notification(row),
        "message": RESPONSE_CODES.get(row["response_code"], "declined"),
        "return_url": row["return_url"],
    }


def build_app(config: BankConfig, *, faults: ServiceFaults | None = None, admin_token: str | None = None
              ) -> web.Application:
    app = create_app("bank", openapi=openapi_for(config.catalogue), faults=faults, admin_token=admin_token)
    bank = Bank(config, app)
    app[BANK] = bank
    app.router.add_get("/banks", bank.banks)
    app.router.add_post("/charge", bank.charge)
    app.router.add_get("/charges/{payment_id}", bank.inquiry)
    app.router.add_get("/stats", bank.stats)
    app.router.add_post("/vietqr/pay", bank.vietqr_pay)
    app.on_startup.append(bank.start)
    app.on_cleanup.append(bank.stop)
    return app


def main(argv: list[str] | None = None) -> None:
    """``python -m motcua.mock_services.bank``: the options are `BankConfig`'s (and the fault file's)."""
    serve("bank", "The banks and e-wallets mock.", BankConfig, build_app, argv)
