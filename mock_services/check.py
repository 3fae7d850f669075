"""The end-to-end check of the mock payment services: is any bank-approved payment lost or credited twice?

Scene: a few hundred citizens each file a fee-bearing dossier at the agency, open the payment page of
the national payment platform, choose a bank and pay. Some banks decline; with the default faults the
gateway loses a few IPNs, sends others several times, out of order, with a wrong amount or a bad
signature. When the IPN traffic has settled, the agency reconciles the day against the gateway's
report. The invariant: every payment the bank approved is marked paid at the agency exactly once, for
the amount the bank charged, and nothing the bank did not approve is marked paid.

`run_check` drives a running `MockStack` and returns a `CheckResult`; `CheckResult.raise_if_broken`
raises `motcua.errors.InvariantBreach`. ``motcua mock --check`` and the tests use both.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mock_services import agency_ledger as ledger
from mock_services.common.catalogue import FeeCatalogue, load_fee_catalogue
from mock_services.common.people import PeopleGenerator
from motcua.errors import InvariantBreach, ServiceError

DEFAULT_FAULTS_FILE = Path(__file__).with_name("check_faults.toml")
"""Faults of ``motcua mock --check`` unless a fault file is given: a few lost, duplicated, reordered,
early, tampered and badly signed IPNs, some declines (code 75) on top of each bank's own mix, and a few
bank notifications never sent (settled when the reconciliation queries the pending payments)."""

PAID = set(ledger.PAID_STATUSES)
OTP = "123456"
"""Any OTP but ``000000`` (always wrong) is accepted by the mock banks."""


@dataclass(frozen=True, kw_only=True)
class CheckConfig:
    """How many citizens pay, how fast, and how long to wait for the IPNs to settle."""

    payments: int = 300
    concurrency: int = 32
    seed: int = 1
    reconcile: bool = True
    """Run the day's reconciliation before checking; without it lost IPNs stay lost (and the check fails)."""
    settle_timeout_s: float = 60.0
    """Longest wait for the IPN traffic to settle after the last charge."""
    quiet_s: float = 4.0
    """The IPN traffic counts as settled when the agency's journal has not grown for this long."""
    catalogue: FeeCatalogue | None = None

    def __post_init__(self) -> None:
        if isinstance(self.payments, bool) or not isinstance(self.payments, int) or self.payments < 1:
            raise ValueError(f"payments must be a whole number >= 1, got {self.payments!r}")
        if not 1 <= self.concurrency <= 1024:
            raise ValueError(f"concurrency must be within 1–1024, got {self.concurrency!r}")


@dataclass
class Attempt:
    """One citizen's payment as the check saw it."""

    index: int
    dossier_code: str = ""
    payment_id: str = ""
    amount_vnd: int = 0
    bank_code: str = ""
    response_code: str | None = None
    """The bank's answer to the charge (``00`` approved), or None if the flow broke before."""
    approved_at: float | None = None
    charged_vnd: int | None = None
    """The amount the bank says it charged (its answer's ``amount_vnd``)."""
    error: str | None = None


@dataclass
class CheckResult:
    """The outcome of one check: the summary figures and the payments that break the invariant."""

    summary: dict[str, Any]
    attempts: list[Attempt] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    double_credited: list[str] = field(default_factory=list)
    wrong_amount: list[str] = field(default_factory=list)
    credited_without_approval: list[str] = field(default_factory=list)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each dossier as the agency shows it at the end (``GET /dossiers/{code}``)."""

    ROW_HEADER = (
        "index", "dossier_code", "payment_id", "bank_code", "amount_vnd", "charged_vnd", "response_code",
        "approved_at", "agency_status", "paid_via", "bank_approved_at", "ipn_acked_at", "credits", "error",
    )  # fmt: skip

    def rows(self) -> list[tuple[Any, ...]]:
        """One row per citizen (columns `ROW_HEADER`): what the bank said and what the agency shows."""
        out = []
        for a in self.attempts:
            v = self.views.get(a.dossier_code, {})
            out.append((
                a.index, a.dossier_code, a.payment_id, a.bank_code, a.amount_vnd, a.charged_vnd, a.response_code,
                a.approved_at, v.get("status"), v.get("paid_via"), v.get("bank_approved_at"), v.get("ipn_acked_at"),
                v.get("credits"), a.error,
            ))  # fmt: skip
        return out

    @property
    def ok(self) -> bool:
        return not (self.lost or self.double_credited or self.wrong_amount or self.credited_without_approval)

    def raise_if_broken(self) -> None:
        if self.ok:
            return
        parts = []
        for label, codes in (
            ("lost (bank-approved, not paid at the agency)", self.lost),
            ("credited twice", self.double_credited),
            ("credited with the wrong amount", self.wrong_amount),
            ("credited without a bank approval", self.credited_without_approval),
        ):
            if codes:
                parts.append(f"{len(codes)} {label}: {', '.join(codes[:5])}{' …' if len(codes) > 5 else ''}")
        raise InvariantBreach("payment invariant broken — " + "; ".join(parts))


async def run_check(urls: Mapping[str, str], config: CheckConfig) -> CheckResult:
    """Push `config.payments` payments through the stack at `urls`, settle, reconcile and verify."""
    import aiohttp

    from mock_services.common.http import SignedClient
    from mock_services.common.signing import TEST_KEYS

    started = time.monotonic()
    catalogue = config.catalogue or load_fee_catalogue()
    connector = aiohttp.TCPConnector(limit=config.concurrency * 2)
    agency_client = SignedClient("agency", TEST_KEYS["agency"], timeout_s=30.0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        try:
            citizens = _Citizens(session, urls, catalogue, config.seed)
            banks = await citizens.bank_codes()
            before = await _get(session, f"{urls['agency']}/stats")
            cursor = before["events"]
            attempts = await _pay_all(citizens, banks, config)
            paid_phase = time.monotonic()
            settled, events = await _settle(session, urls["agency"], attempts, config, cursor)
            reconciliation = await _reconcile(session, urls["agency"], attempts) if config.reconcile else []
            # IPNs that the reconciliation's queries set off (payments whose bank never notified) count too.
            events += await _journal(session, urls["agency"], events[-1]["seq"] if events else cursor)
            dossiers = await _gather_limited(
                [_get(session, f"{urls['agency']}/dossiers/{a.dossier_code}") for a in attempts if a.dossier_code],
                config.concurrency,
            )
            gateway_view = await _gateway_view(agency_client, urls["gateway"], attempts, config.concurrency)
            stats = await _get(session, f"{urls['agency']}/stats")
        finally:
            await agency_client.close()
    failures = [d for d in dossiers if not isinstance(d, dict)]
    if failures:  # without the agency's view the check cannot tell lost from unreadable: say so, claim nothing
        raise ServiceError(f"could not read {len(failures)} dossier(s) back from the agency: {failures[0]!r}")
    views = {d["dossier_code"]: d for d in dossiers}
    result = _verify(attempts, views, stats)
    result.views = views
    result.summary = _summary(
        config, attempts, _run_counts(views, before, stats), reconciliation, callback_latencies_ms(events),
        gateway_view, result,
        timing={"total_s": time.monotonic() - started, "pay_s": paid_phase - started, "settle_s": settled},
    )  # fmt: skip
    return result


# ---------------------------------------------------------------------- the citizen's flow


class _Citizens:
    """Citizens paying fees: file a dossier, check out at the gateway, pay at a bank."""

    def __init__(self, session: Any, urls: Mapping[str, str], catalogue: FeeCatalogue, seed: int) -> None:
        self.session, self.urls = session, urls
        self.procedures = catalogue.paid()
        self.people = PeopleGenerator(seed)
        self.rng = np.random.default_rng(seed)

    async def bank_codes(self) -> list[str]:
        banks = await _get(self.session, f"{self.urls['bank']}/banks")
        codes = [b["code"] for b in banks] if isinstance(banks, list) else []
        if not codes:
            raise ServiceError(f"the bank service at {self.urls['bank']} lists no banks at /banks: {banks!r}")
        return codes

    async def pay(self, attempt: Attempt, bank_code: str) -> None:
        procedure = self.procedures[int(self.rng.integers(0, len(self.procedures)))]
        payer = self.people.person().payer()
        attempt.bank_code = bank_code
        status, dossier = await _post(
            self.session, f"{self.urls['agency']}/dossiers", {"procedure_code": procedure.code, "payer": payer}
        )
        if status != 201 or not dossier.get("payment"):
            attempt.error = f"POST /dossiers → {status} {dossier}"
            return
        attempt.dossier_code = dossier["dossier_code"]
        attempt.amount_vnd = dossier["amount_vnd"]
        attempt.payment_id = dossier["payment"]["payment_id"]
        status, checkout = await _post(
            self.session, f"{self.urls['gateway']}/payments/{attempt.payment_id}/checkout", {"bank_code": bank_code}
        )
        if status != 200 or "charge_url" not in checkout:
            attempt.error = f"checkout → {status} {checkout}"
            return
        body = {"charge_token": checkout["charge_token"], "bank_code": bank_code, "otp": OTP}
        status, charge = await _post(self.session, checkout["charge_url"], body)
        if status != 200 or "response_code" not in charge:
            attempt.error = f"charge → {status} {charge}"
            return
        attempt.response_code = charge["response_code"]
        attempt.approved_at = charge.get("approved_at")
        attempt.charged_vnd = charge.get("amount_vnd", attempt.amount_vnd)


async def _pay_all(citizens: _Citizens, banks: list[str], config: CheckConfig) -> list[Attempt]:
    attempts = [Attempt(index=i) for i in range(config.payments)]
    choice = citizens.rng.integers(0, len(banks), size=config.payments)
    queue: asyncio.Queue[Attempt] = asyncio.Queue()
    for a in attempts:
        queue.put_nowait(a)

    async def worker() -> None:
        while not queue.empty():
            a = queue.get_nowait()
            try:
                await citizens.pay(a, banks[int(choice[a.index])])
            except (OSError, TimeoutError, ValueError) as exc:  # aiohttp errors are OSErrors
                a.error = f"{type(exc).__name__}: {exc}"

    await asyncio.gather(*(worker() for _ in range(config.concurrency)))
    return attempts


# ---------------------------------------------------------------------- settle, reconcile, verify


async def _settle(
    session: Any, agency_url: str, attempts: list[Attempt], config: CheckConfig, since: int
) -> tuple[float, list[dict[str, Any]]]:
    """Read the agency's journal from `since` until it stops growing: briefly once every approved payment
    of this run is confirmed (late duplicates must still be caught), for `quiet_s` otherwise (an IPN
    retry may still be due). Returns the time waited and the events read."""
    approved = {a.dossier_code for a in attempts if a.response_code == "00"}
    confirmed: set[str] = set()
    events: list[dict[str, Any]] = []
    started = last_change = time.monotonic()
    while time.monotonic() - started < config.settle_timeout_s:
        page = await _get(session, f"{agency_url}/events?since={since}&limit=10000")
        now = time.monotonic()
        if page["events"]:
            events.extend(page["events"])
            confirmed.update(e["dossier_code"] for e in page["events"] if e["type"] == "payment_confirmed")
            since, last_change = page["next"], now
            continue
        quiet = min(1.0, config.quiet_s) if approved <= confirmed else config.quiet_s
        if now - last_change >= quiet:
            break
        await asyncio.sleep(0.1)
    return time.monotonic() - started, events


async def _reconcile(session: Any, agency_url: str, attempts: list[Attempt]) -> list[dict[str, Any]]:
    """Reconcile every Viet Nam day on which the bank approved one of the payments (and today), first
    asking the gateway about payments still pending (a bank notification may never have come)."""
    days = {ledger.vn_day(a.approved_at).isoformat() for a in attempts if a.approved_at is not None}
    days.add(ledger.vn_day(time.time()).isoformat())
    results = []
    for day in sorted(days):
        status, body = await _post(session, f"{agency_url}/reconcile", {"date": day, "query_pending": True})
        if status != 200:
            raise ServiceError(f"POST {agency_url}/reconcile for {day} answered {status}: {body}")
        results.append(body)
    return results


def _verify(
    attempts: list[Attempt], dossiers: Mapping[str, Mapping[str, Any]], stats: Mapping[str, Any]
) -> CheckResult:
    result = CheckResult(summary={}, attempts=attempts)
    for a in attempts:
        if not a.dossier_code:
            continue
        d = dossiers.get(a.dossier_code)
        paid = d is not None and d["status"] in PAID
        if a.response_code == "00" and not paid:
            result.lost.append(a.dossier_code)
        if a.response_code != "00" and paid:
            result.credited_without_approval.append(a.dossier_code)
        if d is not None and d.get("credits", 0) > 1:
            result.double_credited.append(a.dossier_code)
        if paid and d["amount_vnd"] != (a.charged_vnd if a.charged_vnd is not None else a.amount_vnd):
            result.wrong_amount.append(a.dossier_code)
    if stats.get("double_credits", 0) and not result.double_credited:
        result.double_credited.append(f"{stats['double_credits']} dossier(s) per /stats")
    return result


async def _gateway_view(client: Any, gateway_url: str, attempts: list[Attempt], concurrency: int) -> dict[str, Any]:
    """IPN attempts and states as the gateway's querydr reports them (signed as the agency)."""
    async def one(payment_id: str) -> Any:
        status, body = await client.get_json(f"{gateway_url}/payments/{payment_id}")
        return body if status == 200 else None

    views = await _gather_limited([one(a.payment_id) for a in attempts if a.payment_id], concurrency)
    views = [v for v in views if isinstance(v, dict)]
    return {
        "ipn_attempts": sum(int(v.get("ipn_attempts") or 0) for v in views),
        "states": dict(Counter(v.get("state") for v in views)),
        "queried": len(views),
    }


async def _journal(session: Any, agency_url: str, since: int) -> list[dict[str, Any]]:
    """Every journal event after `since`."""
    events: list[dict[str, Any]] = []
    while True:
        page = await _get(session, f"{agency_url}/events?since={since}&limit=10000")
        events += page["events"]
        if page["next"] == since:
            return events
        since = page["next"]


def callback_latencies_ms(events: list[Mapping[str, Any]]) -> list[float]:
    """Bank approval → IPN acknowledged (ms), for every payment confirmed by an IPN in `events`."""
    return [
        (e["ipn_acked_at"] - e["bank_approved_at"]) * 1000.0
        for e in events
        if e["type"] == "payment_confirmed" and e.get("bank_approved_at") and e.get("ipn_acked_at")
    ]


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    """p50/p95/p99 (ms, one decimal) and the count; None when there are no values."""
    if not values:
        return {"count": 0, "p50": None, "p95": None, "p99": None}
    p50, p95, p99 = np.percentile(np.asarray(values), [50, 95, 99])
    return {"count": len(values), "p50": round(float(p50), 1), "p95": round(float(p95), 1), "p99": round(float(p99), 1)}


def _run_counts(
    views: Mapping[str, Mapping[str, Any]], before: Mapping[str, Any], after: Mapping[str, Any]
) -> dict[str, Any]:
    """This run's share of the agency's counters: its own dossiers, and the IPN counts since it began."""
    statuses = Counter(v["status"] for v in views.values())
    codes = {
        code: n - before["ipn_by_code"].get(code, 0)
        for code, n in after["ipn_by_code"].items()
        if n - before["ipn_by_code"].get(code, 0)
    }
    return {
        "paid": statuses.get("paid", 0),
        "paid_by_reconciliation": statuses.get("paid_by_reconciliation", 0),
        "credited_vnd": sum(v["amount_vnd"] for v in views.values() if v["status"] in PAID),
        "ipn_received": after["ipn_received"] - before["ipn_received"],
        "ipn_by_code": codes,
    }


def _summary(
    config: CheckConfig,
    attempts: list[Attempt],
    stats: Mapping[str, Any],
    reconciliation: list[dict[str, Any]],
    latencies: list[float],
    gateway_view: Mapping[str, Any],
    result: CheckResult,
    *,
    timing: Mapping[str, float],
) -> dict[str, Any]:
    codes = Counter(a.response_code for a in attempts if a.response_code is not None)
    recon_totals = {
        key: sum(r.get(key, 0) for r in reconciliation)
        for key in (
            "report_count", "already_paid", "recovered", "amount_mismatches", "unknown_dossiers", "agency_only",
            "queried",
        )
    }
    return {
        "payments": config.payments,
        "dossiers": sum(1 for a in attempts if a.dossier_code),
        "flow_errors": sum(1 for a in attempts if a.error),
        "flow_error_examples": [a.error for a in attempts if a.error][:5],
        "approved": codes.get("00", 0),
        "declined": {code: n for code, n in sorted(codes.items()) if code != "00"},
        "approved_vnd": sum(a.amount_vnd for a in attempts if a.response_code == "00"),
        "paid_by_ipn": stats.get("paid", 0),
        "paid_by_reconciliation": stats.get("paid_by_reconciliation", 0),
        "credited_vnd": stats.get("credited_vnd", 0),
        "ipn_attempts_gateway": gateway_view.get("ipn_attempts", 0),
        "ipn_received_agency": stats.get("ipn_received", 0),
        "ipn_by_code": stats.get("ipn_by_code", {}),
        "gateway_states": gateway_view.get("states", {}),
        "callback_latency_ms": percentiles(latencies),
        "reconciliation": {"ran": config.reconcile, "days": [r.get("date") for r in reconciliation], **recon_totals},
        "invariant": {
            "ok": result.ok,
            "lost": result.lost,
            "double_credited": result.double_credited,
            "wrong_amount": result.wrong_amount,
            "credited_without_approval": result.credited_without_approval,
        },
        "timing_s": {k: round(v, 2) for k, v in timing.items()},
    }


def format_summary(summary: Mapping[str, Any]) -> str:
    """The summary as a few lines for a terminal."""
    lat = summary["callback_latency_ms"]
    rec = summary["reconciliation"]
    inv = summary["invariant"]
    declined = ", ".join(f"{c}×{n}" for c, n in summary["declined"].items()) or "none"
    lines = [
        f"payments            {summary['payments']} citizens, {summary['dossiers']} dossiers, "
        f"{summary['flow_errors']} flow errors",
        f"bank                {summary['approved']} approved ({summary['approved_vnd']:,} VND), declined: {declined}",
        f"IPN                 {summary['ipn_attempts_gateway']} attempts by the gateway, "
        f"{summary['ipn_received_agency']} answered by the agency {summary['ipn_by_code']}",
        f"callback latency    bank approval → IPN ack: p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms "
        f"(n={lat['count']})",
        f"paid                {summary['paid_by_ipn']} by IPN, {summary['paid_by_reconciliation']} by reconciliation",
        f"reconciliation      {'ran' if rec['ran'] else 'skipped'}: {rec['recovered']} recovered, "
        f"{rec['amount_mismatches']} amount mismatches, {rec['unknown_dossiers']} unknown, "
        f"{rec['agency_only']} only at the agency, {rec['queried']} pending payments queried",
        f"invariant           {'OK: every approved payment paid exactly once' if inv['ok'] else 'BROKEN'}"
        + ("" if inv["ok"] else f" — lost {len(inv['lost'])}, double {len(inv['double_credited'])}, "
           f"wrong amount {len(inv['wrong_amount'])}, without approval {len(inv['credited_without_approval'])}"),
    ]  # fmt: skip
    return "\n".join(lines)


# ---------------------------------------------------------------------- small HTTP helpers


async def _post(session: Any, url: str, body: Mapping[str, Any]) -> tuple[int, Any]:
    async with session.post(url, json=body) as resp:
        return resp.status, await _json_or_text(resp)


async def _get(session: Any, url: str) -> Any:
    async with session.get(url) as resp:
        data = await _json_or_text(resp)
        if resp.status != 200:
            raise ServiceError(f"GET {url} answered {resp.status}: {data}")
        return data


async def _json_or_text(resp: Any) -> Any:
    try:
        return await resp.json(content_type=None)
    except ValueError:
        return await resp.text()


async def _gather_limited(coros: list[Any], limit: int) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def guarded(coro: Any) -> Any:
        async with semaphore:
            return await coro

    return await asyncio.gather(*(guarded(c) for c in coros), return_exceptions=True)
