"""`motcua run` end to end: one run folder, one manifest, the feedback loop and the exit code."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from helpers_run import shared_run_with_code

from motcua.errors import EXIT_OK, EXIT_SLO_BREACH, InvariantBreach, SLOBreach
from motcua.pipeline import breach_of
from motcua.runs import PROJECT_ROOT

# The shared run (made by whichever test asks first) takes a few minutes on a busy 2-core machine.
pytestmark = pytest.mark.timeout(600)
STEP_FILES = ("summary.json", "report.html", "scenario.toml", "simulate/summary.json", "simulate/figures.npz",
              "simulate/online_payments.npy", "simulate/interventions.json", "demand/demand.json",
              "demand/hourly.csv", "demand/scenario-load.toml", "loadtest/summary.json", "loadtest/harness.json",
              "feedback/quality.json", "feedback/summary.json", "feedback/flawless-summary.json",
              "feedback/comparison.json", "feedback/scenario-measured.toml")


def read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_quick_run_writes_every_step_under_one_run_folder(tmp_path_factory):
    run_dir, code = shared_run_with_code(tmp_path_factory)
    missing = [f for f in STEP_FILES if not (run_dir / f).exists()]
    assert missing == []
    assert list(run_dir.rglob("manifest.json")) == [run_dir / "manifest.json"]  # one manifest per run
    assert len(list((run_dir / "charts").glob("*.png"))) >= 10
    # half the IPNs are lost: the lost_callbacks SLO breaks; the report is written and the code says so at the end
    assert code == EXIT_SLO_BREACH
    assert "lost_callbacks" in read(run_dir / "summary.json")["loadtest"]["slo_failed"]


def test_manifest_says_how_to_reproduce_the_run(tmp_path_factory):
    run_dir, _ = shared_run_with_code(tmp_path_factory)
    m = read(run_dir / "manifest.json")
    assert m["kind"] == "run" and m["status"] == "complete"
    assert m["seed"] == 20240606 and m["parameters"]["replications"] == 2
    assert {i["role"] for i in m["inputs"]} == {"scenario", "faults"}
    assert all(len(i["sha256"]) == 64 for i in m["inputs"])
    assert m["git_commit"] and m["versions"]["numpy"] and m["versions"]["locust"]
    assert m["command"][:2] == ["motcua", "run"] and "--faults" in m["command_line"]
    assert [s["name"] for s in m["steps"]] == ["simulate", "demand", "loadtest", "feedback", "report"]
    assert all(s["seconds"] > 0 for s in m["steps"])
    assert m["steps"][2]["loadtest_manifest"]["parameters"]["profile"]["name"] == "derived-peak-day"


def test_the_load_test_replays_the_derived_peak_day(tmp_path_factory):
    run_dir, _ = shared_run_with_code(tmp_path_factory)
    demand = read(run_dir / "demand" / "demand.json")
    load = read(run_dir / "loadtest" / "summary.json")
    assert load["profile"]["duration_s"] == pytest.approx(20.0)
    assert load["profile"]["expected_arrivals"] == pytest.approx(demand["load_profile"]["expected_journeys"], rel=0.05)
    started = load["arrivals"]["started"] + load["arrivals"]["dropped"]
    expected = demand["load_profile"]["expected_journeys"]
    assert abs(started - expected) < 5 * expected**0.5 + 5  # Poisson arrivals around the plan


def test_worse_measured_callbacks_lower_the_second_pass(tmp_path_factory):
    run_dir, _ = shared_run_with_code(tmp_path_factory)
    quality = read(run_dir / "feedback" / "quality.json")
    comparison = read(run_dir / "feedback" / "comparison.json")
    assert quality["measured"] and quality["lost"] > 0
    # lost IPNs wait past the deadline (10 s ÷ 0.01 = 1,000 s real time) > the 600 s "unpaid" notice
    assert quality["told_unpaid_share_observed"] > 0.2 > quality["assumed_told_unpaid_share"]
    assert quality["fed_back"]["callback_p95_s"] > quality["assumed"]["callback_p95_s"]
    told = comparison["told_unpaid_total"]
    assert told["measured"]["mean"] > told["assumed"]["mean"] > told["flawless"]["mean"] == 0
    assert comparison["measured_vs_assumed"]["final_share"]["all"]["mean"] < 0
    assert comparison["measured_vs_flawless"]["final_share"]["all"]["mean"] < 0


def test_the_run_prices_each_intervention_by_compares_rule(tmp_path_factory):
    """interventions.json gives a cost per point only where the gain's interval excludes zero, as `motcua compare`
    does, and the report's table says which."""
    from motcua.compare_decision import NOT_DISTINGUISHABLE, cost_per_point, includes_zero
    from motcua.report.i18n import text

    run_dir, _ = shared_run_with_code(tmp_path_factory)
    items = read(run_dir / "simulate" / "interventions.json")["interventions"]
    assert items
    for item in items:
        price = item["cost_per_point_vnd"]
        assert price == cost_per_point(item["cost_vnd"], item["points_gained"])
        assert (price == NOT_DISTINGUISHABLE) == includes_zero(item["points_gained"])
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    table = page[page.index('<section id="interventions">'):page.index('<section id="counters">')]
    unclear = sum(item["cost_per_point_vnd"] == NOT_DISTINGUISHABLE for item in items)
    assert table.count(text("vi", "not_distinguishable")) == unclear


def test_run_shows_in_results_list_with_headline(tmp_path_factory):
    from motcua.commands.results import run_entries

    run_dir, _ = shared_run_with_code(tmp_path_factory)
    entries = [e for e in run_entries(results_root=run_dir.parent.parent) if e["path"] == str(run_dir)]
    assert len(entries) == 1 and entries[0]["kind"] == "run"
    text = entries[0]["headline_text"]
    assert "final_share=" in text and "callback_p95_s=" in text


def test_the_invariant_breach_comes_before_the_slo_breach():
    broken = {"ok": False, "bank_approved": 3, "marked_paid": 2, "paid_by_ipn": 2, "paid_by_reconciliation": 0,
              "lost": ["D-1"], "lost_count": 1}
    held = {**broken, "ok": True, "marked_paid": 3, "paid_by_ipn": 3, "lost": [], "lost_count": 0}
    assert isinstance(breach_of({"loadtest": {"invariant": broken, "slo_failed": ["error_rate"]}}), InvariantBreach)
    assert isinstance(breach_of({"loadtest": {"invariant": held, "slo_failed": ["error_rate"]}}), SLOBreach)
    assert breach_of({"loadtest": {"invariant": held, "slo_failed": []}}) is None


def test_run_refuses_a_single_replication(tmp_path):
    from motcua.cli import main

    assert main(["run", "lang-son-2024", "--replications", "1", "--out", str(tmp_path / "r")]) == 2
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_quick_run_without_faults_holds_and_takes_about_three_minutes(tmp_path):
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "motcua.cli", "run", "scenarios/lang-son-2024.toml", "--quick",
                           "--out", str(tmp_path / "run")], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=600)
    elapsed = time.monotonic() - started
    assert proc.returncode == EXIT_OK, proc.stderr[-2000:]
    assert "report.html" in proc.stdout
    assert elapsed < 240


@pytest.mark.slow
def test_find_capacity_reports_the_knee_against_the_projected_peak(tmp_path):
    from motcua.cli import main

    out = tmp_path / "run"
    code = main(["run", "lang-son-2024", "--quick", "--replications", "2", "--no-interventions", "--duration", "10s",
                 "--find-capacity", "--lang", "en", "--quiet", "--out", str(out)])
    load = read(out / "loadtest" / "summary.json")
    steps = load["capacity"]["steps"]
    assert steps[0]["rate_per_s"] == pytest.approx(read(out / "demand" / "demand.json")["load_profile"]["rate_per_s"],
                                                   rel=1e-3)
    # the verdicts and the feedback come from the step at the projected peak, not from the step that broke
    assert code == (EXIT_OK if steps[0]["held"] else EXIT_SLO_BREACH)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert any(words in page for words in ("Capacity knee", "broke at the first step", "Every step held the SLOs"))
    assert (out / "charts" / "capacity.png").exists()
