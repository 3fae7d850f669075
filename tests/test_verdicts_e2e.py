"""Verdicts end to end: real Locust processes against the mocks, or against a broken target.

- the README's load-test commands pass on a healthy stack with several seeds (short runs here; the README's own
  durations and rates are ``slow``);
- a target that answers 200 {"status": "ok"} to everything fails the run, and the failure says why;
- under ``--time-scale 0.01`` with lost IPNs the callback p95 gate fails: a lost callback is never a value under
  the limit;
- abort on fail stops a run early, in one process and with a master and two workers (exit 3, the verdict says why).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from aiohttp import web
from helpers_mock_http import ServerThread

from motcua.errors import SLOBreach
from motcua.loadtest.runner import LoadtestOptions, run_loadtest
from motcua.loadtest.slo import UNCOMPRESSED_MS
from motcua.runs import PROJECT_ROOT

PEAK_DAY = PROJECT_ROOT / "scenarios" / "peak-day.toml"


def motcua_loadtest(tmp_path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "motcua.cli", "loadtest", "peak-day", "--out", str(tmp_path / "run"),
                           *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("seed", [1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)])
def test_a_short_healthy_run_passes_with_the_default_deadline(tmp_path, seed):
    """Real time (the default deadline from the banks' caps): no callback lost, none late, exit 0."""
    proc = motcua_loadtest(tmp_path, "--duration", "5s", "--rate", "10", "--seed", str(seed))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "lost 0 (never arrived), late 0 (after the 45 s deadline)" in proc.stdout
    # the officer's polls of each paid dossier are counted apart from the journeys' requests (not in error_rate)
    data = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert data["status_polling"]["requests"] > 0 and "status polling (waiting for" in proc.stdout
    assert sum(r["count"] for k, r in data["request_types"].items() if "(officer)" not in k) == \
        data["throughput"]["http_requests"]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    "args",
    [("--duration", "30s", "--rate", "30"), ("--duration", "30s", "--rate", "30", "--workers", "2"),
     ("--duration", "45s", "--rate", "20")],
    ids=["30s-30", "30s-30-workers-2", "45s-20"],
)
def test_the_readmes_load_test_commands_pass_on_a_healthy_stack(tmp_path, args, seed):
    proc = motcua_loadtest(tmp_path, *args, "--seed", str(seed), timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def ok_to_everything() -> ServerThread:
    """A broken agency (and gateway, and bank): 200 {"status": "ok"} to every method and path."""

    async def ok(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", ok)
    return ServerThread(app)


def test_a_target_that_answers_ok_to_everything_fails_and_says_why(tmp_path, capsys):
    with ok_to_everything() as fake:
        options = LoadtestOptions(profile="constant", rate_per_s=5, duration_s=4, seed=3, gateway_url=fake.url,
                                  agency_url=fake.url, bank_url=fake.url, callback_deadline_s=2.0)
        summary = run_loadtest(PEAK_DAY, options, tmp_path / "run")
    out = capsys.readouterr().out
    data = summary.data
    assert data["approvals"] == 0 and data["journeys"]["failures"] > 0
    assert "NOTHING TO CHECK" in out and "invariant: OK" not in out
    assert "top failures" in out and "JOURNEY citizen failed at" in out
    verdicts = {v["name"]: v for v in data["slo"]}
    assert not verdicts["journey_failures"]["passed"] and not verdicts["nothing_checked"]["passed"]
    with pytest.raises(SLOBreach, match=r"journey_failures: measured .*nothing_checked: nothing to check"):
        summary.raise_if_breached()


def test_lost_ipns_under_time_scale_fail_the_callback_p95_gate(tmp_path):
    """19.6: 30% of IPNs lost at --time-scale 0.01: the p95 falls on a lost callback, censored, so it fails."""
    faults = tmp_path / "faults.toml"
    faults.write_text("seed = 11\n[gateway.ipn]\nlost = 0.3\n", encoding="utf-8")
    options = LoadtestOptions(profile="constant", rate_per_s=8, duration_s=5, faults_file=faults, seed=6,
                              time_scale=0.01, quiet=True, slo={"lost_callbacks": 10**6})
    summary = run_loadtest(PEAK_DAY, options, tmp_path / "run")
    gate = {v["name"]: v for v in summary.data["slo"]}["callback_p95_ms"]
    assert summary.data["lost_callbacks"] > 0
    assert gate["censored"] is True and gate["passed"] is False
    assert gate["measured"] == summary.data["callback_deadline_s"] * 1000
    assert gate["limit"] == 30000 * 0.01 + UNCOMPRESSED_MS  # the limit on the mocks' clock, as the deadline is
    with pytest.raises(SLOBreach, match=r"callback_p95_ms: measured ≥ .* \(censored at the deadline\)"):
        summary.raise_if_breached()


def test_a_failed_abort_threshold_stops_the_run_early(tmp_path, capsys):
    faults = tmp_path / "faults.toml"
    faults.write_text("seed = 11\n[gateway.ipn]\nlost = 0.5\n", encoding="utf-8")
    options = LoadtestOptions(profile="constant", rate_per_s=8, duration_s=60, faults_file=faults, seed=6,
                              time_scale=0.01, callback_deadline_s=2.0,
                              thresholds=("lost_callbacks.count < 1 abort",))
    summary = run_loadtest(PEAK_DAY, options, tmp_path / "run")
    data = summary.data
    assert data["aborted"] == "lost_callbacks.count < 1.0"
    assert data["arrivals"]["started"] < 8 * 30  # stopped well before the 60 s profile's end
    assert "ABORTED early: the threshold 'lost_callbacks.count < 1.0' had already failed" in capsys.readouterr().out
    with pytest.raises(SLOBreach, match=r"lost_callbacks\.count"):
        summary.raise_if_breached()


@pytest.mark.slow  # ~55 s: a master and two workers start, abort, drain and write the run
def test_abort_on_fail_stops_a_master_and_two_workers_early(tmp_path):
    """The master reads the journal and judges; its abort message stops every worker's arrivals (exit 3)."""
    faults = tmp_path / "faults.toml"
    faults.write_text("seed = 11\n[gateway.ipn]\nlost = 0.5\n", encoding="utf-8")
    proc = motcua_loadtest(tmp_path, "--duration", "60s", "--rate", "8", "--workers", "2", "--faults", str(faults),
                           "--seed", "6", "--time-scale", "0.01", "--callback-deadline", "2", "--quiet",
                           "--slo", "lost_callbacks.count < 1 abort")
    assert proc.returncode == 3, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert data["workers"] == 2 and data["aborted"] == "lost_callbacks.count < 1.0"
    assert data["arrivals"]["started"] < 8 * 30  # stopped well before the 60 s profile's end, on both workers
    verdict = {v["name"]: v for v in data["slo"]}["lost_callbacks.count"]
    assert verdict["passed"] is False and verdict["measured"] >= 1
    assert "lost_callbacks.count" in proc.stderr + proc.stdout
