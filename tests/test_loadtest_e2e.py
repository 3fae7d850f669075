"""Real load tests: the mock services and Locust as real processes on loopback ports, results read back.

Each test is one short run (under ~20 s on the 2-core machine). What they show:
- a run's counts agree (arrivals, journeys, approvals, callbacks, Locust's CSV) and the invariant holds;
- an SLO set too tight fails the command with exit code 3 and a JUnit failure, after writing the results;
- the open model keeps starting journeys while the bank is frozen for 5 s, and the stall shows in p99;
- a master and 2 workers merge their statistics, including the master's CALLBACK entries;
- lost IPNs become CALLBACK failures, and the reconciliation pass recovers every one of them.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from motcua.mock_services.common.http import TEST_ADMIN_TOKEN

from motcua.errors import SLOBreach
from motcua.loadtest.runner import LoadtestOptions, run_loadtest
from motcua.report import loadtest_charts
from motcua.runs import PROJECT_ROOT

SCENARIOS = PROJECT_ROOT / "scenarios"
PEAK_DAY = SCENARIOS / "peak-day.toml"
MOCK_STACK = {"seed": 5, "time_scale": 0.01}  # conftest.stack, for the bank-freeze run


def locust_rows(run_dir: Path) -> dict[tuple[str, str], dict[str, str]]:
    with (run_dir / "locust" / "stats_stats.csv").open(encoding="utf-8") as fh:
        return {(r["Type"], r["Name"]): r for r in csv.DictReader(fh)}


def scenario_with(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    """A copy of the peak-day scenario with lines changed (each a regular expression and its replacement, which
    must match), its fee catalogue beside it."""
    text = PEAK_DAY.read_text(encoding="utf-8")
    for pattern, replacement in changes:
        text, count = re.subn(pattern, replacement, text)
        assert count, pattern
    shutil.copy(SCENARIOS / "fee-catalogue.toml", tmp_path / "fee-catalogue.toml")
    path = tmp_path / "peak-day.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_too_tight_slo_exits_3_after_a_consistent_run(tmp_path):
    """The command line end to end: mocks started and stopped, Locust headless, results, gates, JUnit."""
    scenario = scenario_with(tmp_path, ("create_p99_ms = 1000", "create_p99_ms = 0.5"))
    out, junit = tmp_path / "run", tmp_path / "junit.xml"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "motcua.cli",
            "loadtest",
            str(scenario),
            "--profile",
            "constant",
            "--rate",
            "8",
            "--duration",
            "6s",
            "--out",
            str(out),
            "--junit",
            str(junit),
            "--seed",
            "3",
            "--time-scale",
            "0.01",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stderr[-3000:]
    assert "create_p99_ms: measured" in proc.stderr and "> limit 0.5 ms" in proc.stderr
    assert re.search(r"create_p99_ms +0\.5 ms +[\d,.]+ ms +FAIL", proc.stdout)

    summary = json.loads((out / "summary.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "loadtest" and manifest["status"] == "complete"
    arrivals, journeys = summary["arrivals"], summary["journeys"]
    assert 25 <= arrivals["started"] <= 75 and arrivals["dropped"] == 0  # 8/s × 6 s = 48 expected
    assert journeys["all"]["count"] == arrivals["started"]  # every started journey finished and was timed
    paid = journeys["by_outcome"]["citizen paid"]["count"]
    assert paid == summary["approvals"] == summary["invariant"]["bank_approved"] > 10
    assert summary["callbacks"]["ipn_ack"]["count"] == paid and summary["lost_callbacks"] == 0
    assert summary["invariant"]["ok"] is True and summary["invariant"]["double_credits"] == 0
    assert summary["invariant"]["credited_vnd"] == summary["invariant"]["approved_vnd"] > 0

    rows = locust_rows(out)
    by_bank = sum(int(r["Request Count"]) for (t, n), r in rows.items() if t == "CALLBACK" and "ipn_ack bank:" in n)
    assert by_bank == paid
    assert int(rows[("POST", "/dossiers")]["Request Count"]) >= paid
    for name in ("throughput.png", "latency.png", "callback_cdf.png", "locust/report.html"):
        assert (out / name).stat().st_size > 1000, name

    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.find("testcase[@name='slo.create_p99_ms']/failure") is not None
    assert suite.find("testcase[@name='slo.callback_p95_ms']/failure") is None
    assert suite.find("testcase[@name='invariant.paid_exactly_once']/failure") is None


def test_slow_banks_under_time_scale_fail_the_callback_limit_on_the_same_clock(tmp_path):
    """19.6: no callback is lost, but the banks notify after ~90–150 s of real time (p50–p95); at --time-scale 0.01
    that is 900–1,500 ms, under the unscaled 30,000 ms limit (a pass before the fix), over the scaled 800 ms."""
    options = LoadtestOptions(profile="constant", rate_per_s=8, duration_s=5, seed=4, time_scale=0.01, quiet=True)
    slow_banks = scenario_with(tmp_path, (r"notify_p50_ms = \d+", "notify_p50_ms = 90000"),
                               (r"notify_p95_ms = \d+", "notify_p95_ms = 150000"))
    summary = run_loadtest(slow_banks, options, tmp_path / "run")
    data = summary.data
    gate = {v["name"]: v for v in data["slo"]}["callback_p95_ms"]
    assert data["lost_callbacks"] == 0 and data["late_callbacks"] == 0 and data["approvals"] > 10
    assert gate["limit"] == 800 and not gate["censored"]
    assert 800 < gate["measured"] < 30000 and gate["passed"] is False
    assert "30000 ms × 0.01 + 500 ms uncompressed = 800 ms" in gate["expression"]
    with pytest.raises(SLOBreach, match=r"callback_p95_ms: measured [\d,.]+ ms > limit 800\.0 ms"):
        summary.raise_if_breached()


def put_faults(url: str, table: dict) -> None:
    req = urllib.request.Request(
        f"{url}/admin/faults",
        data=json.dumps(table).encode(),
        method="PUT",
        headers={"Content-Type": "application/json", "X-Admin-Token": TEST_ADMIN_TOKEN},
    )
    urllib.request.urlopen(req, timeout=5).read()


def dossiers(agency_url: str) -> int:
    with urllib.request.urlopen(f"{agency_url}/stats", timeout=5) as resp:
        return json.loads(resp.read())["dossiers"]


def test_bank_freeze_does_not_slow_arrivals_and_shows_in_p99(stack, tmp_path):
    """Constant arrivals; the bank hangs every charge for 5 s mid-run. Journeys keep starting; p99 jumps."""
    freeze_at: list[float] = []

    def freeze_the_bank_once_traffic_flows() -> None:
        deadline = time.time() + 30
        while dossiers(stack.agency_url) < 10 and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(2.5)  # a few calm seconds first, to compare with
        put_faults(stack.bank_url, {"bank": {"freeze": {"start_s": 0, "duration_s": 5}}})
        freeze_at.append(time.time())

    thread = threading.Thread(target=freeze_the_bank_once_traffic_flows, daemon=True)
    thread.start()
    options = LoadtestOptions(
        profile="constant",
        rate_per_s=15,
        duration_s=11,
        seed=2,
        quiet=True,
        arrivals="deterministic",
        callback_deadline_s=10,
        gateway_url=stack.gateway_url,
        agency_url=stack.agency_url,
        bank_url=stack.bank_url,
    )
    summary = run_loadtest(PEAK_DAY, options, tmp_path / "run")
    thread.join(timeout=5)
    assert freeze_at, "the freeze was never switched on"
    harness = json.loads((summary.run_dir / "harness.json").read_text())
    t_freeze = freeze_at[0]

    started = [t for t, _lag in harness["arrivals"]]
    during = sum(1 for t in started if t_freeze <= t < t_freeze + 5)
    before = sum(1 for t in started if t_freeze - 3 <= t < t_freeze)
    assert during >= 0.9 * 15 * 5, f"only {during} journeys started during the 5 s freeze (15/s intended)"
    assert during / 5 >= 0.9 * before / 3  # the start rate did not fall
    assert summary.data["arrivals"]["dropped"] == 0

    paid = [(t, ms) for name, t, ms, ok in harness["journeys"] if name == "citizen paid"]
    frozen = sorted(ms for t, ms in paid if t_freeze <= t < t_freeze + 3)
    calm = sorted(ms for t, ms in paid if t < t_freeze - 0.5)
    assert frozen and calm
    assert frozen[-1] >= 2500, f"the stall is not visible: worst journey started in the freeze took {frozen[-1]} ms"
    assert summary.data["journeys"]["all"]["p99"] >= 2500
    # before the freeze a typical payment took well under the stall (relative: a busy machine slows both)
    assert calm[len(calm) // 2] < frozen[-1] / 2


def test_two_workers_merge_statistics_with_callbacks(tmp_path):
    options = LoadtestOptions(
        profile="constant", rate_per_s=10, duration_s=6, workers=2, seed=4, quiet=True, time_scale=0.01
    )
    summary = run_loadtest(PEAK_DAY, options, tmp_path / "run")
    data = summary.data
    logs = sorted(p.name for p in (summary.run_dir / "locust").glob("*.log"))
    assert logs == ["master.log", "worker-1.log", "worker-2.log"]
    rows = locust_rows(summary.run_dir)
    callbacks = {n: int(r["Request Count"]) for (t, n), r in rows.items() if t == "CALLBACK"}
    assert sum(v for n, v in callbacks.items() if n.startswith("ipn_ack group:")) == data["approvals"] > 10
    # journeys from both workers reached the master: Locust's merged count equals the harness's exact one
    journeys = sum(int(r["Request Count"]) for (t, _n), r in rows.items() if t == "JOURNEY")
    assert journeys == data["journeys"]["all"]["count"] == data["arrivals"]["started"]
    assert data["request_types"]["POST /dossiers"]["count"] == int(rows[("POST", "/dossiers")]["Request Count"])
    # Locust's "Aggregated" row counts the HTTP requests alone: no JOURNEY, CALLBACK or ARRIVAL rows in it
    http_rows = [r for (t, n), r in rows.items() if n != "Aggregated" and t not in ("JOURNEY", "CALLBACK", "ARRIVAL")]
    aggregated = int(rows[("", "Aggregated")]["Request Count"])
    polls = int(rows[("GET", "/dossiers/[code] (officer)")]["Request Count"])
    assert polls == data["status_polling"]["requests"] > 0  # every worker's officer polls reached the master
    # summary.json's throughput counts the journeys' requests; the officers' polls are status_polling's
    assert aggregated == sum(int(r["Request Count"]) for r in http_rows) == data["throughput"]["http_requests"] + polls
    assert data["invariant"]["ok"] is True
    # the officers on both workers watched every paid dossier until they saw it paid
    assert data["callbacks"]["officer_sees_paid"]["count"] == data["approvals"]
    assert data["callbacks"]["officer_sees_paid"]["failures"] == 0


def test_lost_ipns_fail_callbacks_and_reconciliation_recovers_them(tmp_path):
    faults = tmp_path / "faults.toml"
    faults.write_text("seed = 11\n[gateway.ipn]\nlost = 0.3\n", encoding="utf-8")
    options = LoadtestOptions(
        profile="constant",
        rate_per_s=8,
        duration_s=6,
        faults_file=faults,
        seed=6,
        time_scale=0.01,
        callback_deadline_s=3.0,
        quiet=True,
    )
    summary = run_loadtest(PEAK_DAY, options, tmp_path / "run")
    data = summary.data
    lost = data["lost_callbacks"]
    assert 0 < lost < data["approvals"]
    assert data["callbacks"]["ipn_ack"]["failures"] == lost
    rows = locust_rows(summary.run_dir)
    failed = sum(int(r["Failure Count"]) for (t, n), r in rows.items() if t == "CALLBACK" and "ipn_ack bank:" in n)
    assert failed == lost
    assert data["invariant"]["ok"] is True
    assert data["invariant"]["lost_callbacks_recovered"] == lost
    assert data["invariant"]["paid_by_reconciliation"] == lost
    verdict = {v["name"]: v for v in data["slo"]}["lost_callbacks"]
    assert verdict["measured"] == lost and not verdict["passed"]


@pytest.mark.slow
def test_find_capacity_reports_the_knee(tmp_path):
    """With at most 3 journeys in flight, quadrupling rates soon drop arrivals: the SLO on drops breaks."""
    options = LoadtestOptions(
        profile="constant",
        rate_per_s=2,
        duration_s=4,
        find_capacity=True,
        capacity_factor=4,
        capacity_steps=4,
        max_concurrency=3,
        slo={"dropped_arrivals": 0.0},
        seed=8,
        time_scale=0.01,
        quiet=True,
    )
    summary = run_loadtest(PEAK_DAY, options, tmp_path / "run", charts=loadtest_charts)
    capacity = summary.data["capacity"]
    assert capacity["broke"] is True
    rates = [step["rate_per_s"] for step in capacity["steps"]]
    assert rates == [2, 8, 32, 128][: len(rates)]
    assert capacity["knee_rate_per_s"] == rates[-2]
    assert [s["held"] for s in capacity["steps"]] == [True] * (len(rates) - 1) + [False]
    assert (summary.run_dir / "capacity.png").exists()
    assert (summary.run_dir / capacity["steps"][0]["folder"] / "summary.json").exists()


@pytest.mark.slow
def test_closed_model_runs_ordinary_users(tmp_path):
    options = LoadtestOptions(users=4, duration_s=6, seed=9, quiet=True, profile="constant", time_scale=0.01)
    data = run_loadtest(PEAK_DAY, options, tmp_path / "run").data
    assert data["model"] == "closed" and data["arrivals"]["started"] == 0
    assert data["journeys"]["all"]["count"] >= 4
    assert data["invariant"]["ok"] is True
    assert data["callbacks"]["ipn_ack"]["count"] == data["approvals"]


@pytest.mark.slow
def test_payments_the_bank_never_reports_are_recovered_by_querying_and_fail_their_callbacks(tmp_path):
    """``[bank] pending``: the bank approves but never notifies the gateway, so neither an IPN nor the gateway's
    reconciliation report can tell the agency. The end-of-run reconciliation asks the gateway about dossiers still
    awaiting payment (querydr, which asks the bank), so every charged citizen ends up marked paid exactly once;
    their callbacks never arrived in time, so they are CALLBACK failures and the lost-callback gate fails (exit 3)."""
    faults = tmp_path / "faults.toml"
    faults.write_text("seed = 5\n[bank]\npending = 0.3\n", encoding="utf-8")
    out = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "motcua.cli",
            "loadtest",
            str(PEAK_DAY),
            "--profile",
            "constant",
            "--rate",
            "8",
            "--duration",
            "5s",
            "--faults",
            str(faults),
            "--callback-deadline",
            "3",
            "--time-scale",
            "0.01",
            "--out",
            str(out),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stderr[-2000:]
    data = json.loads((out / "summary.json").read_text())
    invariant = data["invariant"]
    assert invariant["ok"] is True and invariant["lost_count"] == 0
    assert sum(r["queried"] for r in data["reconciliation"]) > 0
    assert data["lost_callbacks"] > 0
