"""The payment safety net: the one home of the payment invariant, the reconciliation pass, the agency's
journal reader and the percentile rule.

*Scenario.* A morning's citizens pay their fees; the bank approved 412 of them and declined 9. After
the IPN traffic settles, the agency reconciles (đối soát) every day the run touched, first asking the
gateway (querydr) about dossiers still awaiting payment. Then the invariant is checked against the
agency's own journal (``GET /events``) and counters (``GET /stats``):

- **lost**: a payment the bank approved is not marked paid at the agency;
- **credited twice**: a payment is credited more than once (two confirm events, or ``/stats``
  ``double_credits`` grew);
- **wrong amount**: a credit's amount differs from what the bank charged;
- **without approval**: a payment the bank declined (or that was never charged) is marked paid.

``motcua mock --check`` (`mock_services.check`), ``motcua loadtest`` (`motcua.loadtest.runner`) and
``motcua run`` (`motcua.pipeline`) all go through `verify` and report its `Verdict` the same way
(summary.json ``invariant``, one console line, `InvariantBreach` — exit 4 — naming each breach).

The percentile rule of the workbench is *nearest rank* (`nearest_rank`): the q-th percentile is a value
that occurred, the ⌈q·n/100⌉-th smallest. It is what an SLO statement such as "95 % of callbacks within
1.5 s" means literally, it needs no interpolation between two samples that may be seconds apart, and
HDR histograms (`motcua.loadtest.percentiles.hdr_nearest_rank`) can apply the same rule exactly.

Layer: stdlib and `motcua.errors` only (HTTP by ``urllib``), so the mock services, the load-test
harness and the pipeline, which all sit above it, can share it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from motcua.errors import InvariantBreach, ServiceError

CONFIRM_TYPES = ("payment_confirmed", "paid_by_reconciliation")
"""Journal events that credit a payment: by IPN, or by the reconciliation."""
VN_TZ = dt.timezone(dt.timedelta(hours=7))
LISTED = 50
"""summary.json lists at most this many dossier codes per breach kind (the counts are complete)."""
SHOWN = 5
"""An `InvariantBreach` message names at most this many dossiers per kind."""

BREACH_KINDS: dict[str, str] = {
    "lost": "lost (bank-approved, not paid at the agency)",
    "credited_twice": "credited twice",
    "wrong_amount": "credited with the wrong amount",
    "without_approval": "credited without a bank approval",
}
"""The four ways the invariant breaks: summary.json key → the words a breach message uses."""


# ---------------------------------------------------------------------------------------------
# The percentile rule
# ---------------------------------------------------------------------------------------------
def nearest_rank(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) of already sorted values by nearest rank (a value that occurred); NaN if empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return float(sorted_values[rank - 1])


def percentile_summary(
    values: Iterable[float], quantiles: Sequence[float] = (50, 95, 99), digits: int = 1
) -> dict[str, float | int | None]:
    """``count`` and ``p50``/``p95``/… by nearest rank, rounded to `digits`; None for each when empty."""
    data = sorted(values)
    out: dict[str, float | int | None] = {"count": len(data)}
    for q in quantiles:
        out[f"p{q:g}".replace(".", "_")] = round(nearest_rank(data, q), digits) if data else None
    return out


# ---------------------------------------------------------------------------------------------
# HTTP (stdlib) and the agency's journal
# ---------------------------------------------------------------------------------------------
def get_json(url: str, timeout: float = 10.0) -> Any:
    """GET `url` as JSON; `ServiceError` naming the URL when it fails."""
    return _json_call(urllib.request.Request(url), f"GET {url}", timeout)


def post_json(url: str, body: Mapping[str, Any], timeout: float = 30.0) -> Any:
    """POST `body` as JSON to `url`; `ServiceError` naming the URL and the answer when it fails."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    return _json_call(req, f"POST {url}", timeout)


def _json_call(req: urllib.request.Request, what: str, timeout: float) -> Any:
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise ServiceError(f"{what} answered {exc.code}: {exc.read()[:300]!r}") from None
    except (urllib.error.URLError, OSError, json.JSONDecodeError) as exc:
        raise ServiceError(f"{what} failed: {exc}") from None


class JournalReader:
    """Reads the agency's event journal from a cursor, page by page (``GET /events?since=N&limit=M``).

    `strict` readers (the invariant's) raise `ServiceError` when a page cannot be read: an unread
    journal must not look like lost payments. Lenient ones (the load test's live poller) count the
    error in `errors` and try again on the next `fetch`.
    """

    def __init__(
        self, agency_url: str, since: int = 0, *, limit: int = 1000, timeout_s: float = 5.0, strict: bool = False
    ) -> None:
        self.agency_url = agency_url.rstrip("/")
        self.since = since
        self.limit = limit
        self.timeout_s = timeout_s
        self.strict = strict
        self.errors = 0

    def fetch(self) -> list[dict[str, Any]]:
        """All events after the cursor (several pages if needed); advances the cursor."""
        events: list[dict[str, Any]] = []
        while True:
            page = self._page()
            events.extend(page.get("events", []))
            nxt = int(page.get("next", self.since))
            done = nxt == self.since or len(page.get("events", [])) < self.limit
            self.since = nxt
            if done:
                return events

    def _page(self) -> dict[str, Any]:
        url = f"{self.agency_url}/events?since={self.since}&limit={self.limit}"
        try:
            page = get_json(url, timeout=self.timeout_s)
        except ServiceError:
            if self.strict:
                raise
            self.errors += 1
            return {"events": [], "next": self.since}
        return page if isinstance(page, dict) else {"events": [], "next": self.since}

    def skip_to_end(self) -> int:
        """Move the cursor past every event already in the journal (a run counts only its own)."""
        try:  # the agency's /stats names the last sequence number: no need to read the whole journal
            self.since = int(get_json(f"{self.agency_url}/stats", timeout=self.timeout_s)["events"])
        except (ServiceError, ValueError, KeyError, TypeError):
            self.fetch()
        return self.since


def ipn_latency_ms(event: Mapping[str, Any]) -> float | None:
    """Bank approval → IPN acknowledged (ms) of a ``payment_confirmed`` event, by the agency's timestamps."""
    acked = event.get("ipn_acked_at") or event.get("at")
    approved = event.get("bank_approved_at")
    if event.get("type") != "payment_confirmed" or acked is None or not approved:
        return None
    return (float(acked) - float(approved)) * 1000.0


# ---------------------------------------------------------------------------------------------
# Reconciliation (đối soát)
# ---------------------------------------------------------------------------------------------
def vn_day(t: float) -> dt.date:
    """The Việt Nam calendar day (UTC+7) of a Unix time."""
    return dt.datetime.fromtimestamp(t, VN_TZ).date()


def days_touched(start: float, end: float, times: Iterable[float | None] = ()) -> list[str]:
    """Every Việt Nam day from `start` to `end`, and the days of `times` (bank approvals), ISO, sorted."""
    days = {vn_day(t).isoformat() for t in times if t is not None}
    day, last = vn_day(start), vn_day(end)
    while day <= last:
        days.add(day.isoformat())
        day += dt.timedelta(days=1)
    return sorted(days)


def reconcile(agency_url: str, days: Iterable[str]) -> list[dict[str, Any]]:
    """One reconciliation pass per day: the agency first asks the gateway (querydr) about dossiers still
    awaiting payment, so a payment whose bank never notified is settled too; then it credits what the
    IPNs missed. Returns the agency's counts per day (without the per-dossier details)."""
    results = []
    for day in days:
        result = post_json(f"{agency_url.rstrip('/')}/reconcile", {"date": day, "query_pending": True})
        result.pop("details", None)
        results.append(result)
    return results


RECONCILIATION_COUNTS = (
    "report_count", "already_paid", "recovered", "amount_mismatches", "unknown_dossiers", "agency_only", "queried",
)  # fmt: skip


def reconciliation_totals(results: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The per-day counts of `reconcile` summed over the days."""
    rows = list(results)
    return {key: sum(int(r.get(key, 0) or 0) for r in rows) for key in RECONCILIATION_COUNTS}


# ---------------------------------------------------------------------------------------------
# The invariant
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Charge:
    """What the bank told a citizen about one payment (the citizens' side of the invariant)."""

    payment_id: str
    dossier_code: str
    approved: bool | None
    """True: approved (``00``); False: declined, or never charged; None: the citizen never learned."""
    charged_vnd: int | None = None
    """The amount the bank charged (approved payments)."""


@dataclass(frozen=True)
class Credit:
    """One credit of a payment in the agency's journal (a ``payment_confirmed`` or ``paid_by_reconciliation``)."""

    payment_id: str
    dossier_code: str
    via: str
    amount_vnd: int | None


@dataclass(frozen=True)
class AgencyRecords:
    """The agency's side: the credits journalled since the run's cursor, and the growth of ``double_credits``."""

    credits: Mapping[str, Sequence[Credit]]
    """payment_id → its credits, in journal order."""
    double_credits: int = 0


def credits_of(events: Iterable[Mapping[str, Any]]) -> dict[str, list[Credit]]:
    """payment_id → the credits among journal `events`."""
    out: dict[str, list[Credit]] = {}
    for e in events:
        if e.get("type") in CONFIRM_TYPES and e.get("payment_id"):
            credit = Credit(str(e["payment_id"]), str(e.get("dossier_code") or ""), str(e["type"]), e.get("amount_vnd"))
            out.setdefault(credit.payment_id, []).append(credit)
    return out


def read_agency(agency_url: str, since: int, stats_before: Mapping[str, Any]) -> AgencyRecords:
    """The agency's journal after `since` and its ``/stats`` now (strictly: an unreadable journal raises)."""
    events = JournalReader(agency_url, since, limit=10_000, strict=True).fetch()
    stats_after = get_json(f"{agency_url.rstrip('/')}/stats")
    grown = int(stats_after.get("double_credits", 0)) - int(stats_before.get("double_credits", 0))
    return AgencyRecords(credits_of(events), grown)


@dataclass(frozen=True)
class Breach:
    """One kind of breach: how many payments, and the first dossiers (codes) of them."""

    count: int
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """The invariant's outcome: the four breach kinds (`BREACH_KINDS`) and the counts behind them."""

    bank_approved: int
    approved_vnd: int
    marked_paid: int
    paid_by_ipn: int
    paid_by_reconciliation: int
    credited_vnd: int
    breaches: Mapping[str, Breach]
    double_credits: int = 0
    paid_unobserved: int = 0
    """Credits of payments the run has no bank answer for (a charge that timed out, or other traffic)."""
    recovered: frozenset[str] = field(default=frozenset(), compare=False)
    """payment ids first credited by the reconciliation (not written to summary.json)."""
    ipn_confirmed: frozenset[str] = field(default=frozenset(), compare=False)
    """payment ids first credited by an IPN (not written to summary.json): a load test's late callbacks."""

    @property
    def ok(self) -> bool:
        return all(b.count == 0 for b in self.breaches.values())

    def as_dict(self) -> dict[str, Any]:
        """summary.json's ``invariant`` (the same keys for mock --check, loadtest and run)."""
        out: dict[str, Any] = {
            "ok": self.ok, "bank_approved": self.bank_approved, "approved_vnd": self.approved_vnd,
            "marked_paid": self.marked_paid, "paid_by_ipn": self.paid_by_ipn,
            "paid_by_reconciliation": self.paid_by_reconciliation, "credited_vnd": self.credited_vnd,
        }  # fmt: skip
        for kind in BREACH_KINDS:
            breach = self.breaches.get(kind, Breach(0))
            out[kind], out[f"{kind}_count"] = list(breach.examples), breach.count
        out["double_credits"], out["paid_unobserved"] = self.double_credits, self.paid_unobserved
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        """The verdict back from summary.json's ``invariant``."""
        breaches = {k: Breach(int(data.get(f"{k}_count", 0)), tuple(data.get(k, ()))) for k in BREACH_KINDS}
        return cls(
            bank_approved=int(data["bank_approved"]), approved_vnd=int(data.get("approved_vnd", 0)),
            marked_paid=int(data["marked_paid"]), paid_by_ipn=int(data["paid_by_ipn"]),
            paid_by_reconciliation=int(data["paid_by_reconciliation"]), credited_vnd=int(data.get("credited_vnd", 0)),
            breaches=breaches, double_credits=int(data.get("double_credits", 0)),
            paid_unobserved=int(data.get("paid_unobserved", 0)),
        )  # fmt: skip

    def describe(self) -> str:
        """One console line, the same in every command."""
        counts = (
            f"{self.bank_approved} approved ({self.approved_vnd:,} VND), {self.marked_paid} marked paid "
            f"({self.credited_vnd:,} VND; {self.paid_by_ipn} by IPN, {self.paid_by_reconciliation} by reconciliation)"
        )
        if self.ok:
            return f"OK: every bank-approved payment paid exactly once, for the amount charged — {counts}"
        kinds = ", ".join(f"{k.replace('_', ' ')} {self.breaches[k].count}" for k in BREACH_KINDS)
        return f"BROKEN — {kinds} — {counts}"

    def message(self) -> str:
        """The breach message: each kind that broke, its count and the first dossiers."""
        parts = []
        for kind, label in BREACH_KINDS.items():
            b = self.breaches.get(kind, Breach(0))
            if b.count:
                more = " …" if b.count > min(len(b.examples), SHOWN) else ""
                parts.append(f"{b.count} {label}: {', '.join(b.examples[:SHOWN])}{more}")
        return "payment invariant broken — " + "; ".join(parts) + " (see summary.json → invariant)"

    def breach(self) -> InvariantBreach | None:
        """The `InvariantBreach` (exit 4) naming every breach kind, or None when the invariant holds."""
        return None if self.ok else InvariantBreach(self.message())

    def raise_if_broken(self) -> None:
        error = self.breach()
        if error is not None:
            raise error


def check_invariant(charges: Iterable[Charge], agency: AgencyRecords) -> Verdict:
    """Compare what the bank told the citizens (`charges`) with what the agency credited (`agency`)."""
    told = {c.payment_id: c for c in charges}
    found: dict[str, list[str]] = {kind: [] for kind in BREACH_KINDS}
    approved = [c for c in told.values() if c.approved]
    for c in approved:
        credits = agency.credits.get(c.payment_id, ())
        if not credits:
            found["lost"].append(c.dossier_code or c.payment_id)
        elif any(cr.amount_vnd != c.charged_vnd for cr in credits):
            found["wrong_amount"].append(c.dossier_code or c.payment_id)
    for pid, credits in agency.credits.items():
        code = credits[0].dossier_code or pid
        if len(credits) > 1:
            found["credited_twice"].append(code)
        if pid in told and told[pid].approved is False:
            found["without_approval"].append(code)
    if agency.double_credits > 0 and not found["credited_twice"]:
        found["credited_twice"].append(f"{agency.double_credits} dossier(s) per /stats double_credits")
    firsts = {pid: credits[0].via for pid, credits in agency.credits.items()}
    return Verdict(
        bank_approved=len(approved), approved_vnd=sum(c.charged_vnd or 0 for c in approved),
        marked_paid=len(agency.credits), paid_by_ipn=sum(1 for v in firsts.values() if v == "payment_confirmed"),
        paid_by_reconciliation=sum(1 for v in firsts.values() if v == "paid_by_reconciliation"),
        credited_vnd=sum(cr.amount_vnd or 0 for credits in agency.credits.values() for cr in credits),
        breaches={k: Breach(len(v), tuple(sorted(v)[:LISTED])) for k, v in found.items()},
        double_credits=agency.double_credits,
        paid_unobserved=sum(1 for pid in agency.credits if pid not in told or told[pid].approved is None),
        recovered=frozenset(pid for pid, via in firsts.items() if via == "paid_by_reconciliation"),
        ipn_confirmed=frozenset(pid for pid, via in firsts.items() if via == "payment_confirmed"),
    )  # fmt: skip


def verify(agency_url: str, charges: Iterable[Charge], *, since: int, stats_before: Mapping[str, Any]) -> Verdict:
    """Read the agency's records of the run (journal after `since`) and check the invariant against `charges`."""
    return check_invariant(charges, read_agency(agency_url, since, stats_before))
