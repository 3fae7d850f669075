"""Chaos: a 60 s load test at 100 journeys/s with every fault kind at 10 %, while the gateway, the bank and
the agency are each killed with SIGKILL and restarted twice; afterwards no bank-approved payment is lost
or credited twice, no amount differs, and nothing is stuck.

The mocks run under `MockStack` (time-scale 0.01, payments expiring 20 s after creation) with the fault
table `CHAOS_FAULTS`: latency, 503 errors, connection resets and hangs on every business route of the three
services; every IPN fault of the gateway; the bank's freeze (6 s of the 60), outage (one bank), toxicity
and withheld notifications. The observer routes (``/stats``, ``/events``, ``/reconcile``, the gateway's
report and its querydr ``GET /payments/{id}``, which the reconciliation asks thousands of times) are spared, so
the load test's own harness and end-of-run reconciliation keep working. `motcua loadtest` drives
the citizens against the running stack; meanwhile the main thread kills and restarts one service every 8 s
(the supervisor must spawn from the main thread, PR_SET_PDEATHSIG). After the load the faults are switched
off (the incident is over), the sweeps and retries settle, the agency reconciles every day of the run with
``query_pending``, and the invariant is checked on what the three databases hold (`payment_verdict`).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
from motcua.mock_services.agency import ledger as agency_ledger
from motcua.mock_services.common.faults import parse_faults
from motcua.mock_services.common.http import ADMIN_TOKEN_HEADER, TEST_ADMIN_TOKEN
from motcua.mock_services.supervisor import MockStack, StackConfig

from motcua import safety

ROOT = Path(__file__).resolve().parent.parent
RATE_PER_S, DURATION_S = 100, 60
KILL_EVERY_S = 8.0
KILL_ORDER = ("gateway", "bank", "agency") * 2
FINAL_STATES = {"paid", "failed", "cancelled", "expired", "refunded", "partially_refunded"}
BUSINESS_ROUTES = {
    "gateway": ["POST /payments", "POST /payments/{payment_id}/checkout", "POST /payments/{payment_id}/cancel",
                "POST /bank-notifications"],
    "bank": ["POST /charge", "GET /charges/{payment_id}"],
    "agency": ["POST /dossiers", "GET /dossiers/{code}", "POST /ipn"],
}


def chaos_faults(seed: int = 11) -> dict[str, Any]:
    """Every fault kind of docs/contracts.md §2 at 10 % (the bank's freeze: 6 s of the 60)."""

    def http(service: str) -> dict[str, Any]:
        routes = BUSINESS_ROUTES[service]
        return {"latency": {"kind": "lognormal", "p50_ms": 5, "p95_ms": 80, "rate": 0.1, "routes": routes},
                "errors": {"status": 503, "rate": 0.1, "routes": routes},
                "reset": {"rate": 0.1, "routes": routes},
                "hang": {"rate": 0.1, "hang_s": 2, "routes": routes}}

    return {
        "seed": seed,
        "gateway": {**http("gateway"), "ipn": {
            "lost": 0.1, "duplicate": {"rate": 0.1, "copies": 2}, "reorder": 0.1, "reorder_delay_s": 1,
            "early": 0.1, "amount_mismatch": 0.1, "bad_signature": 0.1}},
        "bank": {**http("bank"), "freeze": {"start_s": 25, "duration_s": 6},
                 "outage": {"banks": ["AGRIBANK"], "code": "75"}, "toxicity": 0.1, "pending": 0.1},
        "agency": http("agency"),
    }


def _toml(table: dict[str, Any]) -> str:
    import tomli_w

    return tomli_w.dumps(table)


def payment_verdict(charges: list[safety.Charge], events: list[dict[str, Any]],
                    stats: dict[str, Any]) -> safety.Verdict:
    """The invariant (`motcua.safety`) over what the bank charged and the agency's whole journal."""
    return safety.check_invariant(charges, safety.AgencyRecords(safety.credits_of(events),
                                                                int(stats.get("double_credits", 0))))


def _rows(path: Path, sql: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _injected(stack: MockStack) -> Counter:
    """HTTP faults injected so far by the running processes (their counters die with them: scrape first)."""
    out: Counter = Counter()
    for name, url in stack.urls.items():
        try:
            text = requests.get(url + "/metrics", timeout=5).text
        except requests.RequestException:
            continue
        for line in text.splitlines():
            if line.startswith("motcua_faults_injected_total{"):
                kind = line.split('kind="', 1)[1].split('"', 1)[0]
                out[f"{name} {kind}"] += int(float(line.rsplit(" ", 1)[1]))
    return out


def _settled(stack: MockStack) -> tuple[bool, dict[str, Any]]:
    gateway = requests.get(stack.gateway_url + "/stats", timeout=10).json()
    bank = requests.get(stack.bank_url + "/stats", timeout=10).json()
    open_states = {s: n for s, n in gateway["by_state"].items() if s not in FINAL_STATES and n}
    busy = open_states or gateway["ipn"]["pending"] or bank["notify"].get("pending", 0)
    return not busy, {"open_states": open_states, "ipn_pending": gateway["ipn"]["pending"],
                      "bank_notify_pending": bank["notify"].get("pending", 0)}


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_chaos_kills_and_faults_lose_nothing(tmp_path):
    faults_file = tmp_path / "chaos.toml"
    faults_file.write_text(_toml(chaos_faults()), encoding="utf-8")
    spec = parse_faults(chaos_faults(), source="chaos")
    config = StackConfig(data_dir=tmp_path / "mocks", seed=11, faults_file=faults_file, time_scale=0.01,
                         startup_timeout_s=60, extra_args={"agency": ["--payment-expires-s", "20"],
                                                           "bank": ["--latency-scale", "0.1"]})
    kills: list[tuple[float, str, float]] = []
    injected: Counter = Counter()
    with MockStack(config) as stack:
        started = time.time()
        argv = [sys.executable, "-m", "motcua.cli", "loadtest", str(ROOT / "scenarios" / "peak-day.toml"),
                "--profile", "constant", "--rate", str(RATE_PER_S), "--duration", f"{DURATION_S}s",
                "--time-scale", "0.01", "--gateway-url", stack.gateway_url, "--agency-url", stack.agency_url,
                "--bank-url", stack.bank_url, "--out", str(tmp_path / "run"), "--lang", "en",
                # generous: on a loaded 2-core machine the journeys in flight and the callbacks take a while to
                # drain after the 60 s, and a lost IPN waits for the reconciliation anyway
                "--callback-deadline", "120"]
        with (tmp_path / "loadtest.log").open("wb") as log:
            load = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
            try:
                for i, name in enumerate(KILL_ORDER):
                    time.sleep(max(0.0, started + KILL_EVERY_S * (i + 1) - time.time()))
                    injected += _injected(stack)
                    stack.kill(name)
                    down = time.monotonic()
                    time.sleep(0.5)
                    stack.restart(name)
                    kills.append((round(time.time() - started, 1), name, round(time.monotonic() - down, 2)))
                while load.poll() is None:  # keep Locust's log: the run folder is removed if the run fails
                    for log_file in tmp_path.glob(".run.partial/locust/locust.log"):
                        shutil.copy(log_file, tmp_path / "locust.log")
                    time.sleep(2)
                code = load.wait()
            finally:
                if load.poll() is None:
                    load.kill()
        load_s = time.time() - started
        injected += _injected(stack)
        for url in stack.urls.values():  # the incident is over: settle and reconcile without faults
            assert requests.put(url + "/admin/faults", json={"seed": 11},
                                headers={ADMIN_TOKEN_HEADER: TEST_ADMIN_TOKEN}, timeout=10).status_code == 200
        deadline = time.monotonic() + 180
        while not (state := _settled(stack))[0] and time.monotonic() < deadline:
            time.sleep(1)
        reconciliation = safety.reconcile(stack.agency_url, safety.days_touched(started - 60, time.time()))
        agency_stats = requests.get(stack.agency_url + "/stats", timeout=10).json()
        gateway_stats = requests.get(stack.gateway_url + "/stats", timeout=10).json()

    data = tmp_path / "mocks"
    charges = {r["payment_id"]: r for r in _rows(data / "bank.sqlite", "SELECT * FROM charges")}
    payments = _rows(data / "gateway.sqlite", "SELECT payment_id, dossier_code, amount_vnd, state FROM payments")
    conn = sqlite3.connect(f"file:{data / 'agency.sqlite'}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    told = []  # what the bank told each citizen: approved with the amount, or declined / never charged
    for p in payments:
        c = charges.get(p["payment_id"])
        told.append(safety.Charge(p["payment_id"], p["dossier_code"], approved=bool(c and c["response_code"] == "00"),
                                  charged_vnd=c["amount_vnd"] if c else None))
    events = agency_ledger.events_since(conn, -1, 10**9)["events"]
    awaiting = conn.execute("SELECT COUNT(*) FROM dossiers WHERE status = 'awaiting_payment'").fetchone()[0]
    conn.close()
    verdict = payment_verdict(told, events, agency_stats)

    summary_file = tmp_path / "run" / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    throughput, arrivals = summary.get("throughput", {}), summary.get("arrivals", {})
    states = Counter(p["state"] for p in payments)
    approved = sum(1 for c in charges.values() if c["response_code"] == "00")
    keyed = Counter()
    gw, bk = spec.for_service("gateway", clock_start_s=0), spec.for_service("bank", clock_start_s=0)
    for p in payments:
        pid = p["payment_id"]
        for kind, rate in (("lost", gw.ipn.lost), ("duplicate", gw.ipn.duplicate_rate), ("reorder", gw.ipn.reorder),
                           ("early", gw.ipn.early), ("amount_mismatch", gw.ipn.amount_mismatch),
                           ("bad_signature", gw.ipn.bad_signature)):
            if p["state"] in ("paid", "refunded", "partially_refunded") and gw.chance(rate, key=pid,
                                                                                     kind=f"ipn_{kind}"):
                keyed[f"gateway ipn {kind}"] += 1
        if pid in charges and bk.chance(bk.bank.pending, key=pid, kind="bank_pending"):
            keyed["bank pending (notification withheld)"] += 1
    keyed["bank 75 declines (outage, toxicity, mix)"] = sum(1 for c in charges.values() if c["response_code"] == "75")
    counts = {
        "loadtest_exit": code, "load_s": round(load_s, 1),
        "arrivals_started": arrivals.get("started"), "arrivals_dropped": arrivals.get("dropped"),
        "started_per_s": throughput.get("started_per_s"), "journeys_finished": throughput.get("journeys_finished"),
        "journeys_per_s": throughput.get("journeys_per_s"), "http_requests": throughput.get("http_requests"),
        "http_failures": throughput.get("http_failures"), "loadtest_lost_callbacks": summary.get("lost_callbacks"),
        "loadtest_invariant": summary.get("invariant"),
        "payments": len(payments), "bank_charges": len(charges), "bank_approved": approved,
        "payment_states": dict(states), "kills": kills, "http_faults_injected": dict(sorted(injected.items())),
        "http_faults_total": sum(injected.values()), "ipn_and_bank_faults": dict(keyed),
        "agency_paid": agency_stats["paid"], "agency_paid_by_reconciliation": agency_stats["paid_by_reconciliation"],
        "credits": agency_stats["credits"], "double_credits": agency_stats["double_credits"],
        "ipn_by_code": agency_stats["ipn_by_code"], "gateway_ipn": gateway_stats["ipn"],
        "reconciliation": [{k: r.get(k) for k in ("date", "report_count", "recovered", "amount_mismatches",
                                                  "unknown_dossiers", "agency_only", "queried", "closed_unpaid")}
                           for r in reconciliation],
        "settled": state[1], "dossiers_awaiting_payment": awaiting,
        "marked_paid": verdict.marked_paid, "paid_by_ipn": verdict.paid_by_ipn,
        "paid_by_reconciliation": verdict.paid_by_reconciliation,
        **{kind: breach.count for kind, breach in verdict.breaches.items()},
    }
    print("\nchaos run: " + json.dumps(counts, indent=1, ensure_ascii=False))
    if code not in (0, 3, 4):
        print((tmp_path / "loadtest.log").read_text(errors="replace")[-3000:])
        if (tmp_path / "locust.log").exists():
            print((tmp_path / "locust.log").read_text(errors="replace")[-4000:])

    assert len(kills) == 6 and Counter(n for _, n, _ in kills) == {"gateway": 2, "bank": 2, "agency": 2}
    assert sum(injected.values()) > 0 and approved > 0
    assert verdict.ok, verdict.describe()
    assert all(r.get("amount_mismatches") == 0 for r in reconciliation), reconciliation
    assert state[0], f"not settled 180 s after the load: {state[1]}"
    assert set(states) <= FINAL_STATES, f"payments not final: {dict(states)}"
    assert awaiting == 0, f"{awaiting} dossiers still await a payment that ended"
    assert code in (0, 3, 4), f"motcua loadtest exited {code} (6: a service unreachable, 2: bad input)"
    assert arrivals["started"] >= 0.95 * RATE_PER_S * DURATION_S, arrivals  # ≥ 100 journeys/s were started
