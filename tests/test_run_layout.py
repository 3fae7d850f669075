"""The run layout: one home for run-folder names, typed readers that name the file and key, and a type
checker that sees a renamed key."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import motcua.atomic
import motcua.run_layout
from motcua.errors import InputError
from motcua.run_layout import (
    RunFiles,
    RunLayout,
    localized,
    read_demand,
    read_loadtest_summary,
    read_typed,
    write_json,
)
from motcua.runs import PROJECT_ROOT


def test_layout_paths_are_the_documented_ones(tmp_path):
    run = RunLayout(tmp_path)
    got = {p.relative_to(tmp_path).as_posix() for p in (
        run.manifest, run.summary, run.scenario_copy, run.report, run.charts, run.simulate_summary, run.figures,
        run.online_payments, run.interventions, run.demand, run.hourly, run.load_scenario, run.loadtest.summary,
        run.loadtest.harness, run.loadtest.locust, run.quality, run.feedback_summary, run.flawless_summary,
        run.comparison, run.measured_scenario)}
    readme = (PROJECT_ROOT / "results" / "README.md").read_text(encoding="utf-8")
    for path in got:
        assert path.rsplit("/", 1)[-1] in readme, path


def test_a_missing_key_names_the_file_and_the_key(tmp_path):
    path = write_json(tmp_path / "demand.json", {"date": "2024-12-31"})
    with pytest.raises(InputError, match=r"demand\.json: missing key\(s\) by_bank, by_group, day_index, fee_payments, "
                                         r"hourly, load_profile, platform_payments of DemandFile"):
        read_demand(path)
    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match=r"list\.json: expected a JSON object \(LoadtestSummary\), found list"):
        read_loadtest_summary(tmp_path / "list.json")
    with pytest.raises(InputError, match=r"nothing\.json: file not found"):
        read_typed(tmp_path / "nothing.json", dict)


def test_projected_load_test_is_the_first_capacity_step(tmp_path):
    run = RunLayout(tmp_path)
    verdicts = {"slo": [], "slo_measured": {}, "invariant": {"ok": True}, "callbacks": {}, "arrivals": {},
                "throughput": {}, "lost_callbacks": 0, "journeys": {}}
    write_json(run.loadtest.summary, verdicts)
    assert run.projected_loadtest().root == tmp_path / "loadtest"
    write_json(run.loadtest.summary, {**verdicts, "capacity": {"knee_rate_per_s": 2.0, "steps": [
        {"rate_per_s": 1.0, "held": True, "folder": "steps/01-rate-1", "slo": [], "invariant_ok": True}]}})
    assert run.projected_loadtest().root == tmp_path / "loadtest" / "steps" / "01-rate-1"


def test_localized_names_fall_back_to_the_one_name():
    unit = {"name": "Huyện Cao Lộc"}
    assert localized(unit, "name", "en") == localized(unit, "name", "vi") == "Huyện Cao Lộc"
    item = {"name": "Chiến dịch: tuyên truyền, vận động", "name_en": "Campaign: outreach and encouragement"}
    assert localized(item, "name", "vi") == "Chiến dịch: tuyên truyền, vận động"
    assert localized(item, "name", "en") == "Campaign: outreach and encouragement"


def test_a_folder_that_is_not_a_run_is_refused(tmp_path):
    write_json(tmp_path / "manifest.json", {})
    with pytest.raises(InputError, match=r"not a folder written by `motcua run` \(needs manifest.json and "
                                         r"simulate/summary.json\)"):
        RunFiles.load(tmp_path)


RENAMED_KEY = """
from motcua.run_layout import RunFiles

def final_mean(files: RunFiles) -> float | None:
    return files.simulate["share"]["finals"]["all"]["mean"]
"""


def test_the_type_checker_sees_a_renamed_key(tmp_path):
    """What the typed views are for: a key that does not exist fails in mypy, not in a multi-minute run."""
    snippet = tmp_path / "uses_summary.py"
    snippet.write_text(RENAMED_KEY, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "--follow-imports=silent",
                           "--cache-dir", str(tmp_path / "cache"), str(snippet)],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300)
    assert proc.returncode == 1
    assert 'TypedDict "ShareSummary" has no key "finals"' in proc.stdout
    snippet.write_text(RENAMED_KEY.replace('"finals"', '"final"'), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "--follow-imports=silent",
                           "--cache-dir", str(tmp_path / "cache"), str(snippet)],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300)
    assert proc.returncode == 0, proc.stdout


def test_run_layout_passes_mypy_strict(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
                           "motcua/run_layout"], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300)
    assert proc.returncode == 0, proc.stdout


def test_written_json_round_trips(tmp_path):
    path = write_json(tmp_path / "a" / "x.json", {"n": 1, "path": tmp_path})
    assert json.loads(path.read_text(encoding="utf-8")) == {"n": 1, "path": str(tmp_path)}
    assert [p.name for p in path.parent.iterdir()] == ["x.json"]  # no temporary file left behind


def test_the_public_names_of_the_run_layout_package():
    assert sorted(motcua.run_layout.__all__) == sorted([
        # file names and folders
        "CAPACITY_CHART", "CHARTS", "COMPARISON", "DEMAND", "DEMAND_JSON", "FEEDBACK", "FIGURES_NPZ",
        "FLAWLESS_SUMMARY", "HARNESS", "HOURLY_CSV", "INTERVENTIONS", "LOADTEST", "LOAD_SCENARIO", "LOCUST",
        "LOCUST_REPORT", "MANIFEST", "MEASURED_SCENARIO", "MOCK_LOGS", "ONLINE_PAYMENTS_DAILY_CSV",
        "ONLINE_PAYMENTS_NPY", "QUALITY", "REPORT", "SCENARIO_COPY", "SHARE_DAILY_CSV", "SHARE_WEEKLY_CSV",
        "SIMULATE", "SIMULATION_CSV_FILES", "STEP_FOLDERS", "SUMMARY", "LoadtestLayout", "RunFiles", "RunLayout",
        "loadtest_folder",
        # records
        "AssessedIntervention", "Band", "BankQuality", "Capacity", "CapacityStep", "ComparisonFile",
        "ComparisonSummary", "CounterWaits", "DemandFile", "Differences", "Estimate", "Harness", "HourlyDemand",
        "InputRecord", "InterventionsFile", "LoadProfile", "LoadtestSummary", "Manifest", "OfficerHours", "Period",
        "QualityFile", "ReachSummary", "RunHeadline", "RunLoadtest", "RunSummary", "ScenarioInfo", "SeriesEstimate",
        "SeriesTable", "ShareSummary", "SimulationHeadline", "SimulationSettings", "SimulationSummary",
        "SloVerdict", "StepRecord", "TargetSummary", "UnitInfo", "localized",
        # reading and writing
        "CSV_ENCODING", "read_comparison", "read_demand", "read_harness", "read_interventions", "read_json",
        "read_loadtest_summary", "read_manifest", "read_quality", "read_run_summary", "read_simulation_summary",
        "read_typed", "write_csv", "write_json", "write_text",
    ])
    assert all(hasattr(motcua.run_layout, name) for name in motcua.run_layout.__all__)
    assert motcua.run_layout.write_text is motcua.atomic.write_text  # the one atomic writer


def test_written_csv_and_text_appear_whole_in_a_new_folder(tmp_path):
    from motcua.run_layout import write_csv, write_text

    path = write_csv(tmp_path / "new" / "rows.csv", ["a", "b"], [[1, "x"], [2, "y,z"]])
    # the byte-order mark for Excel, then csv's own line ends, not translated
    assert path.read_bytes() == b'\xef\xbb\xbfa,b\r\n1,x\r\n2,"y,z"\r\n'
    assert write_text(tmp_path / "other" / "t.txt", "tiền\n").read_text(encoding="utf-8") == "tiền\n"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["new", "other", "rows.csv", "t.txt"]
