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
# ruff: noqa: RUF009
from __future__ import annotations

import json
import string
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from motcua.errors import ConfigError, InputError, InvariantBreach, ServiceError
from motcua.loadtest.runner.options import LOOPBACK, LoadtestOptions
from motcua.loadtest.summary import ChartWriter, Summary
from motcua.typed_config import ConfigFile, FieldProblem, spec

PLACEHOLDERS = ("name", "cccd", "phone", "email", "amount_vnd", "procedure", "group", "ref")
"""What a ``[start]`` body or URL may contain: the citizen (Faker vi_VN), the fee and a unique reference."""
URL_PATTERN = r"https?://[^\s]{1,2040}"
MERCHANT_BREACHES: dict[str, str] = {
    "accepted_tampered": "answered 00 to a tampered IPN (must be 97 for a bad signature, 04 for a wrong amount)",
    "credited_twice": "credited twice (a second 00, or a status with more than one credit)",
}
"""The merchant's breach kinds (summary.json ``invariant``), named like `motcua.safety.BREACH_KINDS`."""
ACK = ("00", "02")
START_REQUEST = "merchant: start payment"
"""The Locust name of the citizen's start request (its p99 is the ``create_p99_ms`` gate)."""
LISTED = 50
SHOWN = 5
SETTLE_POLL_S = 0.5


def _placeholders(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


def _check_template(path: str, text: str, allowed: tuple[str, ...]) -> None:
    try:
        names = _placeholders(text)
    except ValueError as exc:
        raise FieldProblem(path, text, f"is not a valid template ({exc}); write {{name}}, and {{{{ for a brace") \
            from None
    unknown = sorted(names - set(allowed))
    if unknown:
        raise FieldProblem(path, text, f"unknown placeholder {{{unknown[0]}}}; known: "
                           + ", ".join(f"{{{p}}}" for p in allowed))


@dataclass(frozen=True, kw_only=True)
class StartPayment:
    """How a citizen starts a payment at the merchant; the answer carries the ``vpcpay.html`` URL."""

    method: Literal["GET", "POST"] = spec("HTTP method of the merchant's route that starts a payment", "POST")
    url: str = spec("that route; may contain placeholders such as {ref}", pattern=URL_PATTERN,
                    pattern_hint="an http(s) URL")
    body: Mapping[str, str] = spec("fields sent (JSON for POST, query for GET); values are templates, and a "
                                   "value that is exactly \"{amount_vnd}\" is sent as a number",
                                   default_factory=dict)
    encoding: Literal["json", "form"] = spec("how a POST body is sent", "json")
    pay_url_in: Literal["json", "redirect"] = spec("where the answer gives the payment URL: a JSON field, or the "
                                                   "Location of a redirect", "json")
    pay_url_field: str = spec("dotted path of the payment URL in the JSON answer", "pay_url")

    def check(self) -> None:
        _check_template("url", self.url, PLACEHOLDERS)
        for key, value in self.body.items():
            _check_template(f"body.{key}", value, PLACEHOLDERS)


@dataclass(frozen=True, kw_only=True)
class MerchantIpn:
    """The merchant's IPN URL: registered on the mock terminal, which the gateway calls with GET."""

    url: str = spec("the merchant's IPN route", pattern=URL_PATTERN, pattern_hint="an http(s) URL")


@dataclass(frozen=True, kw_only=True)
class OrderStatus:
    """Where a citizen (or the merchant's staff) sees whether an order is paid."""

    url: str = spec("status route of one order; {txn_ref} is the order's vnp_TxnRef", pattern=URL_PATTERN,
                    pattern_hint="an http(s) URL with {txn_ref}")
    paid_field: str = spec("dotted path of a JSON field that is true once the order is paid", "paid")
    credits_field: str = spec("dotted path of a JSON field counting the order's credits (empty: none)", "")

    def check(self) -> None:
        _check_template("url", self.url, ("txn_ref",))
        if "txn_ref" not in _placeholders(self.url):
            raise FieldProblem("url", self.url, "must contain {txn_ref}, the order's vnp_TxnRef")


@dataclass(frozen=True, kw_only=True)
class MerchantFile:
    """A merchant system under test (``--merchant FILE``)."""

    name: str = spec("a label for the report", "merchant under test")
    gateway_port: int = spec("loopback port of motcua's VNPay front during the run: configure the merchant's "
                             "VNPay host as http://127.0.0.1:PORT (terminal MOTCUA01, the bundled TEST secret)",
                             18080, ge=1024, le=65535)
    start: StartPayment = spec("[start]: how a citizen starts a payment")
    ipn: MerchantIpn = spec("[ipn]: the merchant's IPN URL")
    status: OrderStatus | None = spec("[status]: optional order status URL", None)

    def urls(self) -> dict[str, str]:
        out = {"start.url": self.start.url, "ipn.url": self.ipn.url}
        if self.status is not None:
            out["status.url"] = self.status.url
        return out


MERCHANT_FILE = ConfigFile(MerchantFile, "merchant file", hint="see docs/contracts.md §6b")
"""The merchant file kind, read through `motcua.typed_config` like every configuration file."""


def load_merchant(path: str | Path, *, allow_non_loopback: bool = False) -> MerchantFile:
    """The merchant file at `path`; `ConfigError` (exit 2) naming file, field and value otherwise."""
    merchant = MERCHANT_FILE.load(path)
    if not allow_non_loopback:
        for key, url in merchant.urls().items():
            host = urlparse(url.replace("{", "").replace("}", "")).hostname or ""
            if host not in LOOPBACK:
                raise ConfigError(str(path), key, url, f"host {host!r} is not loopback; this workbench only loads "
                                    "127.0.0.1 unless --allow-non-loopback is given (and you own the system)")
    return merchant


def fill(template: str, values: Mapping[str, Any]) -> str:
    return template.format_map(dict(values))


def start_request(start: StartPayment, values: Mapping[str, Any]) -> tuple[str, Any]:
    """The filled URL and body of a citizen's start request (amount as a number where asked)."""
    body: dict[str, Any] = {}
    for key, template in start.body.items():
        body[key] = int(values["amount_vnd"]) if template == "{amount_vnd}" else fill(template, values)
    return fill(start.url, values), body


def dig(data: Any, dotted: str) -> Any:
    """``a.b.c`` of a JSON value; None when absent."""
    for part in dotted.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return None
        data = data[part]
    return data


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


def fetch_records(gateway_url: str, tmn_code: str, since: float) -> list[dict[str, Any]]:
    url = f"{gateway_url.rstrip('/')}/vnpay/ipn-records?tmn_code={tmn_code}&since={since!r}"
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return list(json.loads(resp.read())["approved"])
    except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
        raise ServiceError(f"GET {url} failed: {exc}") from None


def first_ack(payment: Mapping[str, Any]) -> float | None:
    """When the merchant first answered 00/02 to a genuine (untampered) IPN of `payment`."""
    times = [d["answered_at"] for d in payment["deliveries"] if d["rsp_code"] in ACK and not d["tampered"]]
    return min(times) if times else None


def settle(gateway_url: str, tmn_code: str, since: float, deadline_s: float) -> list[dict[str, Any]]:
    """The records once every approved payment is acknowledged or past its callback deadline."""
    while True:
        approved = fetch_records(gateway_url, tmn_code, since)
        waiting = [p for p in approved if first_ack(p) is None and time.time() < p["bank_approved_at"] + deadline_s]
        if not waiting:
            return approved
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

    @property
    def ok(self) -> bool:
        return not any(self.breaches.get(k) for k in MERCHANT_BREACHES)

    def as_dict(self, merchant: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": self.ok, "merchant": merchant, "bank_approved": self.approved, "acknowledged": self.acknowledged,
            "rsp_codes": self.rsp_codes, "ipn_calls_per_payment": self.calls_per_payment,
            "lost_callbacks": len(self.lost), "status_checked": self.status_checked,
            "status_not_paid": self.status_not_paid[:LISTED], "status_not_paid_count": len(self.status_not_paid),
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
    return f"merchant {inv['merchant']!r} broke the payment invariant — " + "; ".join(parts) + \
        " (see summary.json → invariant)"


def judge(approved: Sequence[Mapping[str, Any]], deadline_s: float) -> tuple[MerchantVerdict, list[list[Any]]]:
    """The verdict and the CALLBACK samples (`motcua.loadtest.callbacks.SAMPLE_HEADER` rows) of the records."""
    codes: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    breaches: dict[str, list[str]] = {kind: [] for kind in MERCHANT_BREACHES}
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


def check_status(merchant: MerchantFile, approved: Sequence[Mapping[str, Any]], verdict: MerchantVerdict) -> None:
    """Ask the status URL about every approved order once: paid? credited more than once?"""
    status = merchant.status
    if status is None:
        return
    for p in approved:
        url = fill(status.url, {"txn_ref": p["txn_ref"]})
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                data = json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError):
            data = None
        verdict.status_checked += 1
        if dig(data, status.paid_field) is not True:
            verdict.status_not_paid.append(p["txn_ref"])
        credits = dig(data, status.credits_field) if status.credits_field else None
        if isinstance(credits, int) and credits > 1 and p["txn_ref"] not in verdict.breaches["credited_twice"]:
            verdict.breaches["credited_twice"].append(p["txn_ref"])


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
            approved = settle(urls["gateway"], tmn_code, since, deadline)
            verdict, samples = judge(approved, deadline)
            check_status(merchant, approved, verdict)
        harness = read_json(run.dir / "harness.json")
        harness["callbacks"], harness["lost"] = samples, verdict.lost
        harness["approvals"] = [{"payment_id": p["payment_id"], "dossier_code": p["txn_ref"],
                                 "bank_code": p["bank_code"], "group": p["grp"], "amount_vnd": p["amount_vnd"],
                                 "approved_at": p["bank_approved_at"]} for p in approved]
        write_json(run.dir / "harness.json", harness)
        data = build_summary(harness, job.locust_dir, scenario=scenario.name, profile=profile, options=options,
                             reconciliation=[], invariant=verdict.as_dict(merchant.name),
                             run_seconds=time.time() - since)
        data["callbacks"]["status_sees_paid"] = data["callbacks"].pop("officer_sees_paid")
        data.update(protocol="vnpay", merchant=merchant.name, time_scale=options.time_scale,
                    callback_deadline_s=deadline, payments_per_s=verdict.approved / profile.duration_s)
        start = data["request_types"].get(f"{merchant.start.method} {START_REQUEST}", {})
        data["slo_measured"]["create_p99_ms"] = start.get("p99")  # the merchant's own create-payment route
        data["slo"] = [v.as_dict() for v in slo.evaluate(plan.limits, data["slo_measured"])]
        data["charts"] = [p.name for p in charts.write_charts(harness, run.dir, options.lang)] if charts else []
        data["run_id"] = run.run_id
        write_json(run.path("summary.json"), data)
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
    from motcua.loadtest.slo import table, verdicts_of

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
    verdict = "OK" if inv["ok"] else "BROKEN — " + ", ".join(
        f"{k.replace('_', ' ')} {inv[f'{k}_count']}" for k in MERCHANT_BREACHES)
    lines.append(f"  merchant invariant (no 00 to a tampered IPN, credited at most once): {verdict}")
    if data.get("time_scale") not in (None, 1.0):
        lines.append(f"  (mocks at --time-scale {data['time_scale']:g}: IPN retries and bank delays compressed)")
    lines.append(table(verdicts_of(data)))
    return "\n".join(lines)
