"""A merchant system under test: ``motcua loadtest SCENARIO --protocol vnpay --merchant merchant.toml``.

*Scenario*: an engineer ships payment code written against VNPay 2.1.0 and wants to know whether it
holds the morning rush and survives the gateway's bad days. motcua plays the citizens, "VNPay" and the
banks: each citizen starts a payment at the merchant (the file's ``[start]``), is sent to the mock's
``vpcpay.html``, picks a bank and pays; the gateway then calls the merchant's IPN URL (``[ipn]``,
registered on the mock terminal) with its outbox, retries and faults (lost, duplicated, reordered,
tampered, slow). The measurement comes from the gateway's own records
(`mock_services.gateway.vnpay.records`), not from anything the merchant reports about itself:

- CALLBACK: bank approval → the merchant's first ``00``/``02`` to a genuine IPN;
- the RspCode mix and the IPN calls per payment;
- with a ``[status]`` URL, bank approval → "paid" as the citizen sees it (``status_sees_paid``).

Breaches fail the run with exit 4 (`InvariantBreach`, vocabulary of `motcua.safety`): ``accepted_tampered``
(a ``00`` to an IPN a fault tampered: wrong signature, or a signed wrong amount) and ``credited_twice``
(two ``00`` answers for one payment, or a status whose credit count exceeds 1). An approved payment whose
IPN never got ``00``/``02`` within the callback deadline is a lost callback (counted, and gated by the
scenario's ``lost_callbacks`` SLO, exit 3).

The merchant file (TOML, read through `motcua.typed_config`; an error names file, field and value)::

    name = "example vnpay merchant"
    gateway_port = 18080                      # the merchant's VNPay host is http://127.0.0.1:18080
    [start]                                   # how a citizen starts a payment
    method = "POST"
    url = "http://127.0.0.1:3000/orders"
    body = { amount_vnd = "{amount_vnd}", name = "{name}", phone = "{phone}", info = "Le phi {procedure}" }
    pay_url_in = "json"                       # or "redirect" (the answer's Location header)
    pay_url_field = "pay_url"                 # dotted path in the JSON answer
    [ipn]
    url = "http://127.0.0.1:3000/vnpay/ipn"   # registered on the mock terminal
    [status]                                  # optional
    url = "http://127.0.0.1:3000/orders/{txn_ref}"
    paid_field = "paid"                       # dotted path, true when paid
    credits_field = "credits"                 # optional dotted path: how many times the order was credited
"""

# `spec(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motcua.errors import InputError, InvariantBreach, ServiceError
from motcua.loadtest.merchant_file import (
    MERCHANT_FILE,
    PLACEHOLDERS,
    START_REQUEST,
    MerchantFile,
    MerchantIpn,
    OrderStatus,
    StartPayment,
    dig,
    fill,
    load_merchant,
    start_request,
)
from motcua.loadtest.merchant_ipns import (
    FAILED_BREACHES,
    clock,
    conformance,
    findings_table,
    judge_unpaid,
    race_of,
)
from motcua.loadtest.runner.options import LoadtestOptions
from motcua.loadtest.summary import ChartWriter, Summary
from motcua.run_layout import HARNESS, SUMMARY

__all__ = [
    "MERCHANT_BREACHES", "MERCHANT_FILE", "PLACEHOLDERS", "START_REQUEST", "MerchantFile", "MerchantIpn",
    "MerchantSummary", "MerchantVerdict", "OrderStatus", "StartPayment", "breach_message", "check_options",
    "dig", "fill", "judge", "judge_all", "load_merchant", "report", "run_merchant", "settle", "start_request",
    "terminals_file",
]
"""The merchant file's names are re-exported from `motcua.loadtest.merchant_file` (importers keep working)."""

MERCHANT_BREACHES: dict[str, str] = {
    "accepted_tampered": "answered 00 to a tampered IPN (must be 97 for a bad signature, 04 for a wrong amount)",
    "credited_twice": "credited twice (a second 00, or a status with more than one credit)",
    **FAILED_BREACHES,
}
"""The merchant's breach kinds (summary.json ``invariant``), named like `motcua.safety.BREACH_KINDS`."""
ACK = ("00", "02")
LISTED = 50
SHOWN = 5
SETTLE_POLL_S = 0.5



def terminals_file(merchant: MerchantFile, path: Path) -> Path:
    """A terminal file with the bundled TEST terminal whose IPN URL is the merchant's."""
    from motcua.mock_services.common.vnpay_terminals import default_terminal

    t = default_terminal()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by motcua loadtest --merchant: the bundled TEST terminal, IPNs to the merchant under test.\n"
        f"[[terminals]]\ntmn_code = {json.dumps(t.tmn_code)}\nhash_secret = {json.dumps(t.hash_secret)}\n"
        f"agency_code = {json.dumps(t.agency_code)}\nipn_url = {json.dumps(merchant.ipn.url)}\n"
        f"group = {json.dumps(t.group)}\nname = {json.dumps('merchant under test: ' + merchant.name)}\n",
        encoding="utf-8",
    )
    return path


# ----------------------------------------------------------------------------- after the run


def fetch_records(gateway_url: str, tmn_code: str, since: float) -> dict[str, Any]:
    """The gateway's records since `since`: ``approved`` and ``unpaid`` payments with their IPNs, ``findings``."""
    url = f"{gateway_url.rstrip('/')}/vnpay/ipn-records?tmn_code={tmn_code}&since={since!r}"
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            data = json.loads(resp.read())
            return {"approved": list(data["approved"]), "unpaid": list(data.get("unpaid", [])),
                    "findings": list(data.get("findings", []))}
    except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
        raise ServiceError(f"GET {url} failed: {exc}") from None


def first_ack(payment: Mapping[str, Any]) -> float | None:
    """When the merchant first answered 00/02 to a genuine (untampered) IPN of `payment`."""
    times = [d["answered_at"] for d in payment["deliveries"] if d["rsp_code"] in ACK and not d["tampered"]]
    return min(times) if times else None


def settle(gateway_url: str, tmn_code: str, since: float, deadline_s: float) -> dict[str, Any]:
    """The records once every payment's IPN (approved or not) is acknowledged or past its callback deadline."""
    while True:
        records = fetch_records(gateway_url, tmn_code, since)
        now = time.time()
        waiting = [p for p in records["approved"] if first_ack(p) is None and now < p["bank_approved_at"] + deadline_s]
        waiting += [p for p in records["unpaid"] if p.get("outbox_status") == "pending"
                    and now < (p.get("notified_at") or p["created_at"]) + deadline_s]
        if not waiting:
            return records
        time.sleep(SETTLE_POLL_S)


@dataclass
class MerchantVerdict:
    """What the gateway's records (and the status URL) say about the merchant under test."""

    approved: int
    acknowledged: int
    rsp_codes: dict[str, int]
    calls_per_payment: dict[str, int]
    lost: list[str]
    breaches: dict[str, list[str]] = field(default_factory=dict)
    status_checked: int = 0
    status_not_paid: list[str] = field(default_factory=list)
    races: list[dict[str, Any]] = field(default_factory=list)
    """Evidence of each double credit (`motcua.loadtest.merchant_ipns.race_of`): in flight at once, answers."""
    evidence: list[dict[str, Any]] = field(default_factory=list)
    """Evidence of each failed-payment breach: the IPN calls, their times and answers."""
    unpaid: int = 0
    unpaid_rsp_codes: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(self.breaches.get(k) for k in MERCHANT_BREACHES)

    def as_dict(self, merchant: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": self.ok, "merchant": merchant, "bank_approved": self.approved, "acknowledged": self.acknowledged,
            "rsp_codes": self.rsp_codes, "ipn_calls_per_payment": self.calls_per_payment,
            "lost_callbacks": len(self.lost), "status_checked": self.status_checked,
            "status_not_paid": self.status_not_paid[:LISTED], "status_not_paid_count": len(self.status_not_paid),
            "unpaid": self.unpaid, "unpaid_rsp_codes": self.unpaid_rsp_codes, "races": self.races[:LISTED],
            "evidence": self.evidence[:LISTED],
        }  # fmt: skip
        for kind in MERCHANT_BREACHES:
            found = sorted(self.breaches.get(kind, []))
            out[kind], out[f"{kind}_count"] = found[:LISTED], len(found)
        return out



def breach_message(inv: Mapping[str, Any]) -> str:
    """The breach message of summary.json's merchant ``invariant``: each kind, its count and the first orders."""
    parts = []
    for kind, label in MERCHANT_BREACHES.items():
        count, found = inv[f"{kind}_count"], inv[kind]
        if count:
            more = " …" if count > min(len(found), SHOWN) else ""
            parts.append(f"{count} {label}: {', '.join(found[:SHOWN])}{more}")
    for race in inv.get("races", [])[:1]:
        if race["race"]:
            parts.append(f"{race['txn_ref']}: a race — {race['in_flight_at_once']} IPNs in flight at once, answered "
                         f"{', '.join(str(a) for a in race['answers'])}")
    for ev in inv.get("evidence", [])[:1]:
        answers = ", ".join(f"{c['rsp_code']} (sent {clock(c['sent_at'])})" for c in ev["calls"])
        parts.append(f"{ev['txn_ref']} ({ev['state']}, code {ev['response_code']}): IPNs answered {answers}")
    return f"merchant {inv['merchant']!r} broke the payment invariant — " + "; ".join(parts) + \
        " (see summary.json → invariant: races, evidence)"


def judge(approved: Sequence[Mapping[str, Any]], deadline_s: float) -> tuple[MerchantVerdict, list[list[Any]]]:
    """The verdict and the CALLBACK samples (`motcua.loadtest.callbacks.SAMPLE_HEADER` rows) of the records."""
    codes: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    breaches: dict[str, list[str]] = {kind: [] for kind in MERCHANT_BREACHES if kind not in FAILED_BREACHES}
    lost, samples, acknowledged = [], [], 0
    for p in approved:
        ref, deliveries = p["txn_ref"], p["deliveries"]
        calls[str(len(deliveries))] += 1
        for d in deliveries:
            codes[d["rsp_code"] or "no answer"] += 1
            if d["tampered"] and d["rsp_code"] == "00":
                breaches["accepted_tampered"].append(f"{ref} ({d['tampered']})")
        if sum(1 for d in deliveries if d["rsp_code"] == "00" and not d["tampered"]) > 1:
            breaches["credited_twice"].append(ref)
        acked = first_ack(p)
        on_time = acked is not None and acked - p["bank_approved_at"] <= deadline_s
        latency = (acked - p["bank_approved_at"]) * 1000 if on_time and acked is not None else deadline_s * 1000
        if on_time:
            acknowledged += 1
        else:
            lost.append(ref)
        samples.append(["ipn_ack", p["payment_id"], p["bank_code"] or "", p["grp"], round(latency, 3), on_time,
                        acked or p["bank_approved_at"] + deadline_s])
    verdict = MerchantVerdict(len(approved), acknowledged, dict(sorted(codes.items())),
                              dict(sorted(calls.items(), key=lambda kv: int(kv[0]))), sorted(lost), breaches)
    return verdict, samples


def status_of(merchant: MerchantFile, refs: Sequence[str]) -> dict[str, dict[str, Any]]:
    """What the status URL says of each order: ``{paid, credits}`` (orders it cannot tell of are left out)."""
    status = merchant.status
    out: dict[str, dict[str, Any]] = {}
    if status is None:
        return out
    for ref in refs:
        data = _status_json(fill(status.url, {"txn_ref": ref}))
        if data is not None:
            credits = dig(data, status.credits_field) if status.credits_field else None
            out[ref] = {"paid": dig(data, status.paid_field) is True,
                        "credits": credits if isinstance(credits, int) else None}
    return out


def _status_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def check_status(merchant: MerchantFile, approved: Sequence[Mapping[str, Any]], verdict: MerchantVerdict) -> None:
    """Ask the status URL about every approved order once: paid? credited more than once?"""
    status = merchant.status
    if status is None:
        return
    for p in approved:
        data = _status_json(fill(status.url, {"txn_ref": p["txn_ref"]}))
        verdict.status_checked += 1
        if dig(data, status.paid_field) is not True:
            verdict.status_not_paid.append(p["txn_ref"])
        credits = dig(data, status.credits_field) if status.credits_field else None
        if isinstance(credits, int) and credits > 1 and p["txn_ref"] not in verdict.breaches["credited_twice"]:
            verdict.breaches["credited_twice"].append(p["txn_ref"])


def judge_all(records: Mapping[str, Any], merchant: MerchantFile, deadline_s: float
              ) -> tuple[MerchantVerdict, list[list[Any]]]:
    """`judge` of the approved payments, the status page, then every failed payment's IPNs and the races."""
    approved, unpaid = records["approved"], records["unpaid"]
    verdict, samples = judge(approved, deadline_s)
    check_status(merchant, approved, verdict)
    statuses = status_of(merchant, [p["txn_ref"] for p in unpaid])
    breaches, evidence, codes = judge_unpaid(unpaid, approved, statuses)
    verdict.breaches.update(breaches)
    verdict.evidence, verdict.unpaid, verdict.unpaid_rsp_codes = evidence, len(unpaid), codes
    twice = set(verdict.breaches["credited_twice"])
    verdict.races = [race_of(p) for p in approved if p["txn_ref"] in twice]
    return verdict, samples


def check_options(options: LoadtestOptions) -> None:
    """The flags that go with ``--merchant`` (InputError, exit 2, otherwise)."""
    if options.protocol != "vnpay":
        raise InputError(f"--merchant needs --protocol vnpay (the merchant integrates VNPay), got --protocol "
                         f"{options.protocol}")
    if options.agency_url or options.find_capacity:
        raise InputError("--merchant runs against motcua's own mocks: drop --gateway-url/--agency-url/--bank-url "
                         "and --find-capacity")


# ----------------------------------------------------------------------------- the run


def run_merchant(scenario_path: Path, options: LoadtestOptions, out_dir: Path | None = None, *,
                 results_root: Path | None = None, command: list[str] | None = None,
                 charts: ChartWriter | None = None) -> Summary:
    """`motcua.loadtest.runner.run_loadtest` for a merchant under test (see the module docstring); `charts` as
    there (the command passes `motcua.report.loadtest_charts`). Returns a `MerchantSummary`."""
    from motcua.loadtest import slo
    from motcua.loadtest.junit import write_summary_junit
    from motcua.loadtest.runner import LocustJob, plan_loadtest, run_locust, system_under_test
    from motcua.loadtest.summary import build_summary
    from motcua.mock_services.common.vnpay_terminals import default_terminal
    from motcua.runs import read_json, write_json

    check_options(options)
    assert options.merchant_file is not None, "run_merchant needs LoadtestOptions.merchant_file"
    merchant_file = Path(options.merchant_file)
    merchant = load_merchant(merchant_file, allow_non_loopback=options.allow_non_loopback)
    plan = plan_loadtest(Path(scenario_path), options)
    scenario, profile, options = plan.scenario, plan.profile, plan.options
    deadline = plan.deadline_s
    tmn_code = default_terminal().tmn_code
    parameters = {"callback_deadline_s": deadline, "protocol": "vnpay", "merchant": merchant.name}
    with plan.start_run(out_dir, results_root=results_root, command=command, parameters=parameters,
                        inputs=[(merchant_file, "merchant")]) as run:
        terminals = terminals_file(merchant, run.path("mocks", "terminals.toml"))
        with system_under_test(options, run, scenario, terminals_file=terminals,
                               gateway_port=merchant.gateway_port) as urls:
            since = time.time()
            job = LocustJob(scenario_path=plan.scenario_path, profile=profile, options=options, urls=urls,
                            folder=run.dir, since=-1)  # the gateway's records, not the agency's journal
            run_locust(job)
            records = settle(urls["gateway"], tmn_code, since, deadline)
            approved = records["approved"]
            verdict, samples = judge_all(records, merchant, deadline)
        harness = read_json(run.dir / HARNESS)
        harness["callbacks"], harness["lost"] = samples, verdict.lost
        harness["approvals"] = [{"payment_id": p["payment_id"], "dossier_code": p["txn_ref"],
                                 "bank_code": p["bank_code"], "group": p["grp"], "amount_vnd": p["amount_vnd"],
                                 "approved_at": p["bank_approved_at"]} for p in approved]
        write_json(run.dir / HARNESS, harness)
        data = build_summary(harness, job.locust_dir, scenario=scenario.name, profile=profile, options=options,
                             reconciliation=[], invariant=verdict.as_dict(merchant.name),
                             run_seconds=time.time() - since)
        data["callbacks"]["status_sees_paid"] = data["callbacks"].pop("officer_sees_paid")
        data.update(protocol="vnpay", merchant=merchant.name, time_scale=options.time_scale,
                    callback_deadline_s=deadline, payments_per_s=verdict.approved / profile.duration_s,
                    conformance=conformance(records["findings"]), strict=options.strict)
        data["slo_measured"]["conformance"] = data["conformance"]["deviations"]
        start = data["request_types"].get(f"{merchant.start.method} {START_REQUEST}", {})
        data["slo_measured"]["create_p99_ms"] = start.get("p99")  # the merchant's own create-payment route
        data["slo"] = [v.as_dict() for v in slo.evaluate(plan.limits, data["slo_measured"])]
        data["charts"] = [p.name for p in charts.write_charts(harness, run.dir, options.lang)] if charts else []
        data["run_id"] = run.run_id
        write_json(run.path(SUMMARY), data)
    summary = MerchantSummary(data, run.dir)
    if not options.quiet:
        print(report(data, run.dir), flush=True)
    if options.junit:
        inv = data["invariant"]
        detail = (f"merchant {merchant.name!r}: {inv['bank_approved']} bank-approved; {inv['accepted_tampered_count']} "
                  f"00 to a tampered IPN; {inv['credited_twice_count']} credited twice; {inv['lost_callbacks']} lost "
                  "callbacks")
        write_summary_junit(options.junit, scenario.name, data, invariant_ok=inv["ok"], invariant_detail=detail)
    return summary


class MerchantSummary(Summary):
    """`motcua.loadtest.runner.Summary` of a merchant run: its breaches are the merchant's."""

    def raise_if_breached(self) -> None:
        """`InvariantBreach` (exit 4) naming the merchant, else `SLOBreach` (exit 3) if a gate failed."""
        from motcua.loadtest import slo

        if not self.data["invariant"]["ok"]:
            raise InvariantBreach(breach_message(self.data["invariant"]))
        slo.raise_if_failed(slo.verdicts_of(self.data))


def report(data: Mapping[str, Any], run_dir: Path) -> str:
    """The console lines of a merchant run."""
    from motcua.loadtest.runner.console import format_ms as ms
    from motcua.loadtest.slo import mock_clock_note, table, verdicts_of

    inv, cb = data["invariant"], data["callbacks"]["ipn_ack"]
    seen = data["callbacks"].get("status_sees_paid", {})
    lines = [
        f"load test of merchant {inv['merchant']!r} ({data['scenario']}, VNPay 2.1.0) → {run_dir}",
        f"  journeys finished {data['throughput']['journeys_finished']}, bank-approved {inv['bank_approved']} "
        f"({data['payments_per_s']:.2f} payments/s); requests {data['throughput']['http_requests']}",
        f"  callback (bank approval → merchant's 00/02, gateway's records): n={cb.get('count', 0)} "
        f"p50={ms(cb.get('p50'))} p95={ms(cb.get('p95'))} p99={ms(cb.get('p99'))}; lost {inv['lost_callbacks']}",
        f"  RspCode mix {inv['rsp_codes']}; IPN calls per payment {inv['ipn_calls_per_payment']}",
    ]
    if seen.get("count"):
        lines.append(f"  status page shows paid: n={seen['count']} p50={ms(seen.get('p50'))} "
                     f"p95={ms(seen.get('p95'))}; not paid at the end {inv['status_not_paid_count']}")
    if inv.get("unpaid"):
        lines.append(f"  payments without money (declined, cancelled, expired): {inv['unpaid']}; their IPNs' "
                     f"RspCode mix {inv['unpaid_rsp_codes']}")
    if not inv["bank_approved"] and not inv.get("unpaid"):
        verdict = "nothing to check (no payment reached a bank verdict)"
    else:
        verdict = "OK" if inv["ok"] else "BROKEN — " + ", ".join(
            f"{k.replace('_', ' ')} {inv[f'{k}_count']}" for k in MERCHANT_BREACHES if inv[f"{k}_count"])
    lines.append(f"  merchant invariant (no 00 to a tampered IPN, credited at most once, no credit or second 00 "
                 f"for a failed payment): {verdict}")
    for race in inv.get("races", [])[:SHOWN]:
        kind = "a race" if race["race"] else "not concurrent"
        lines.append(f"    credited twice {race['txn_ref']}: {kind} — {race['in_flight_at_once']} IPN(s) in flight at "
                     f"once, answers {', '.join(str(a) for a in race['answers'])}")
    for ev in inv.get("evidence", [])[:SHOWN]:
        answers = ", ".join(f"{c['rsp_code']} (sent {clock(c['sent_at'])})" for c in ev["calls"])
        lines.append(f"    {'/'.join(ev['breach'])} {ev['txn_ref']} ({ev['state']}, code {ev['response_code']}): "
                     f"IPN answers {answers or 'none'}; status {ev['status']}")
    if inv["rsp_codes"].get("97") and any(f["kind"] == "signature_encoder" for f in data["conformance"]["findings"]):
        lines.append("    97 to genuine IPNs: the merchant checks the gateway's signature with its own encoder (see "
                     "signature_encoder below), which differs from the WHATWG form encoding on some values")
    conf = data.get("conformance")
    if conf is not None:
        mode = "refused (--strict)" if data.get("strict") else "accepted, as a real VNPay would"
        lines.append(f"  conformance of the payment URLs: {conf['deviations']} deviation(s) ({mode}), "
                     f"{conf['refused']} refused")
        if conf["findings"]:
            lines += ["    " + row for row in findings_table(conf).splitlines()]
    if data.get("time_scale") not in (None, 1.0):
        lines.append(f"  (mocks at --time-scale {data['time_scale']:g}: IPN retries and bank delays compressed; "
                     f"{mock_clock_note(data['time_scale'])})")
    lines.append(table(verdicts_of(data)))
    return "\n".join(lines)
