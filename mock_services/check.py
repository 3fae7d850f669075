"""The end-to-end check of the mock payment services: is any payment lost, credited twice, for a wrong amount,
or without an approval?

Scene: a few hundred citizens each file a fee-bearing dossier at the agency, open the payment page of
the national payment platform, choose a bank and pay. Some banks decline; with the default faults the
gateway loses a few IPNs, sends others several times, out of order, with a wrong amount or a bad
signature. When the IPN traffic has settled, the agency reconciles the day against the gateway's
report. The invariant: every payment the bank approved is marked paid at the agency exactly once, for
the amount the bank charged, and nothing the bank did not approve is marked paid.

`run_check` drives a running `MockStack` and returns a `CheckResult`; the reconciliation pass, the
journal reader, the invariant and the percentile rule are `motcua.safety`'s (the same as the load
test's); `CheckResult.raise_if_broken` raises its `motcua.errors.InvariantBreach`.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from motcua.mock_services.common.catalogue import FeeCatalogue, load_fee_catalogue
from motcua.mock_services.common.people import PeopleGenerator

from motcua import safety
from motcua.errors import ServiceError
from motcua.resources import bundled
from motcua.safety import Verdict

DEFAULT_FAULTS_FILE = bundled("motcua.mock_services", "check_faults.toml")
"""Faults of ``motcua mock --check`` unless a fault file is given: a few lost, duplicated, reordered,
early, tampered and badly signed IPNs, some declines (code 75) on top of each bank's own mix, and a few
bank notifications never sent (settled when the reconciliation queries the pending payments)."""

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
    charged: bool = False
    """The charge was sent to the bank (its answer may still have been lost)."""
    error: str | None = None


@dataclass
class CheckResult:
    """The outcome of one check: the summary figures and the invariant's verdict (`motcua.safety.Verdict`)."""

    summary: dict[str, Any]
    verdict: Verdict
    attempts: list[Attempt] = field(default_factory=list)
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
        return self.verdict.ok

    def raise_if_broken(self) -> None:
        self.verdict.raise_if_broken()


async def run_check(urls: Mapping[str, str], config: CheckConfig) -> CheckResult:
    """Push `config.payments` payments through the stack at `urls`, settle, reconcile and verify."""
    import aiohttp
    from motcua.mock_services.common.signed_http import SignedClient
    from motcua.mock_services.common.signing import TEST_KEYS

    started = time.monotonic()
    began = time.time()
    catalogue = config.catalogue or load_fee_catalogue()
    connector = aiohttp.TCPConnector(limit=config.concurrency * 2)
    agency_client = SignedClient("agency", TEST_KEYS["agency"], timeout_s=30.0)
    agency = urls["agency"]
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        try:
            citizens = _Citizens(session, urls, catalogue, config.seed)
            banks = await citizens.bank_codes()
            before = await _get(session, f"{agency}/stats")
            reader = safety.JournalReader(agency, before["events"], limit=10_000, strict=True)
            attempts = await _pay_all(citizens, banks, config)
            paid_phase = time.monotonic()
            settled, events = await _settle(reader, attempts, config)
            days = safety.days_touched(began, time.time(), [a.approved_at for a in attempts])
            reconciliation = await asyncio.to_thread(safety.reconcile, agency, days) if config.reconcile else []
            # IPNs that the reconciliation's queries set off (payments whose bank never notified) count too.
            events += await asyncio.to_thread(reader.fetch)
            verdict = await asyncio.to_thread(
                safety.verify, agency, charges(attempts), since=before["events"], stats_before=before
            )
            dossiers = await _gather_limited(
                [_get(session, f"{agency}/dossiers/{a.dossier_code}") for a in attempts if a.dossier_code],
                config.concurrency,
            )
            gateway_view = await _gateway_view(agency_client, urls["gateway"], attempts, config.concurrency)
            stats = await _get(session, f"{agency}/stats")
        finally:
            await agency_client.close()
    failures = [d for d in dossiers if not isinstance(d, dict)]
    if failures:  # without the agency's view the check cannot tell lost from unreadable: say so, claim nothing
        raise ServiceError(f"could not read {len(failures)} dossier(s) back from the agency: {failures[0]!r}")
    result = CheckResult(summary={}, verdict=verdict, attempts=attempts, views={d["dossier_code"]: d for d in dossiers})
    latencies = [ms for ms in map(safety.ipn_latency_ms, events) if ms is not None]
    result.summary = _summary(
        config, attempts, _ipn_counts(before, stats), reconciliation, latencies, gateway_view, verdict, days,
        timing={"total_s": time.monotonic() - started, "pay_s": paid_phase - started, "settle_s": settled},
    )  # fmt: skip
    return result


def charges(attempts: list[Attempt]) -> list[safety.Charge]:
    """What the bank told each citizen who got a payment: approved (``00``), declined or never charged
    (False), or unknown (None: the charge was sent but its answer never came)."""
    out = []
    for a in attempts:
        if not a.payment_id:
            continue
        approved = a.response_code == "00" if (a.response_code is not None or not a.charged) else None
        out.append(safety.Charge(a.payment_id, a.dossier_code, approved, a.charged_vnd if approved else None))
    return out


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
        attempt.charged = True
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
    reader: safety.JournalReader, attempts: list[Attempt], config: CheckConfig
) -> tuple[float, list[dict[str, Any]]]:
    """Read the agency's journal until it stops growing: briefly once every approved payment of this run
    is confirmed (late duplicates must still be caught), for `quiet_s` otherwise (an IPN retry may still
    be due). Returns the time waited and the events read."""
    approved = {a.dossier_code for a in attempts if a.response_code == "00"}
    confirmed: set[str] = set()
    events: list[dict[str, Any]] = []
    started = last_change = time.monotonic()
    while time.monotonic() - started < config.settle_timeout_s:
        page = await asyncio.to_thread(reader.fetch)
        now = time.monotonic()
        if page:
            events.extend(page)
            confirmed.update(e["dossier_code"] for e in page if e["type"] == "payment_confirmed")
            last_change = now
            continue
        quiet = min(1.0, config.quiet_s) if approved <= confirmed else config.quiet_s
        if now - last_change >= quiet:
            break
        await asyncio.sleep(0.1)
    return time.monotonic() - started, events


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


def _ipn_counts(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """This run's share of the agency's IPN counters: those answered since the run began, by answer code."""
    codes = {
        code: n - before["ipn_by_code"].get(code, 0)
        for code, n in after["ipn_by_code"].items()
        if n - before["ipn_by_code"].get(code, 0)
    }
    return {"ipn_received": after["ipn_received"] - before["ipn_received"], "ipn_by_code": codes}


def _summary(
    config: CheckConfig,
    attempts: list[Attempt],
    ipn: Mapping[str, Any],
    reconciliation: list[dict[str, Any]],
    latencies: list[float],
    gateway_view: Mapping[str, Any],
    verdict: Verdict,
    days: list[str],
    *,
    timing: Mapping[str, float],
) -> dict[str, Any]:
    codes = Counter(a.response_code for a in attempts if a.response_code is not None)
    return {
        "payments": config.payments,
        "dossiers": sum(1 for a in attempts if a.dossier_code),
        "flow_errors": sum(1 for a in attempts if a.error),
        "flow_error_examples": [a.error for a in attempts if a.error][:5],
        "approved": codes.get("00", 0),
        "declined": {code: n for code, n in sorted(codes.items()) if code != "00"},
        "approved_vnd": verdict.approved_vnd,
        "paid_by_ipn": verdict.paid_by_ipn,
        "paid_by_reconciliation": verdict.paid_by_reconciliation,
        "credited_vnd": verdict.credited_vnd,
        "ipn_attempts_gateway": gateway_view.get("ipn_attempts", 0),
        "ipn_received_agency": ipn["ipn_received"],
        "ipn_by_code": ipn["ipn_by_code"],
        "gateway_states": gateway_view.get("states", {}),
        "callback_latency_ms": safety.percentile_summary(latencies),
        "reconciliation": {"ran": config.reconcile, "days": days if config.reconcile else [],
                           **safety.reconciliation_totals(reconciliation)},
        "invariant": verdict.as_dict(),
        "timing_s": {k: round(v, 2) for k, v in timing.items()},
    }  # fmt: skip


def format_summary(summary: Mapping[str, Any]) -> str:
    """The summary as a few lines for a terminal."""
    lat = summary["callback_latency_ms"]
    rec = summary["reconciliation"]
    declined = ", ".join(f"{c}×{n}" for c, n in summary["declined"].items()) or "none"
    lines = [
        f"payments            {summary['payments']} citizens, {summary['dossiers']} dossiers, "
        f"{summary['flow_errors']} flow errors",
        f"bank                {summary['approved']} approved ({summary['approved_vnd']:,} VND), declined: {declined}",
        f"IPN                 {summary['ipn_attempts_gateway']} attempts by the gateway, "
        f"{summary['ipn_received_agency']} answered by the agency {summary['ipn_by_code']}",
        f"callback latency    bank approval → IPN ack: p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms "
        f"(n={lat['count']}, nearest rank)",
        f"paid                {summary['paid_by_ipn']} by IPN, {summary['paid_by_reconciliation']} by reconciliation",
        f"reconciliation      {'ran' if rec['ran'] else 'skipped'}: {rec['recovered']} recovered, "
        f"{rec['amount_mismatches']} amount mismatches, {rec['unknown_dossiers']} unknown, "
        f"{rec['agency_only']} only at the agency, {rec['queried']} pending payments queried",
        f"invariant           {Verdict.from_dict(summary['invariant']).describe()}",
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
