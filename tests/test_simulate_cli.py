"""`motcua simulate` and `motcua compare` end to end on the bundled Lạng Sơn scenario, quick settings."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from motcua.cli import main
from motcua.runs import file_digest
from motcua.scenario import SCENARIO_DIR
from motcua.simulation_outputs import load_outputs

LANG_SON = SCENARIO_DIR / "lang-son-2024.toml"
SIMULATE_FILES = {"summary.json", "share_daily.csv", "share_weekly.csv", "online_payments_daily.csv",
                  "share_trajectories.png",
                  "units_vs_target.png", "counter_waits.png", "officer_hours.png", "manifest.json"}
COMPARE_FILES = {"summary.json", "comparison.html", "share_daily.csv", "share_weekly.csv", "online_payments_daily.csv",
                 "compare_trajectories.png",
                 "compare_units.png", "compare_differences.png", "manifest.json"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def only_run(root: Path, folder: str) -> Path:
    runs = [p for p in (root / folder).iterdir()]
    assert len(runs) == 1 and not runs[0].name.startswith("."), runs
    return runs[0]


def variant(folder: Path, name: str, *, campaign: bool = True, target_date: str = "2024-07-31",
            horizon_days: int = 56) -> Path:
    """A copy of the bundled Lạng Sơn 2024 file with another name, an earlier target date and a short horizon
    (so that ``--quick`` runs 56 days), optionally without its campaign (the [[interventions]] tables)."""
    text = LANG_SON.read_text(encoding="utf-8")
    if not campaign:
        text = re.sub(r"(?ms)^\[\[interventions\]\].*?(?=^\[)", "", text)
        text = re.sub(r'(?m)^"interventions\[\d+\]" = .*$', "", text)  # their provenance entries
    text = text.replace('name = "lang-son-2024"', f'name = "{name}"', 1)
    text = text.replace("date = 2024-12-31", f"date = {target_date}", 1)
    text = text.replace("horizon_days = 574", f"horizon_days = {horizon_days}", 1)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_simulate_quick_writes_every_documented_file(tmp_path, capsys):
    code = main(["simulate", "lang-son-2024", "--quick", "--replications", "2", "--workers", "2",
                 "--results-root", str(tmp_path), "--quiet", "--lang", "en"])
    assert code == 0
    run = only_run(tmp_path, "lang-son-2024")
    assert {p.name for p in run.iterdir()} == SIMULATE_FILES
    for png in run.glob("*.png"):
        assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 10_000

    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "simulate" and manifest["status"] == "complete"
    assert manifest["scenario"] == "lang-son-2024" and manifest["seed"] == 20240606
    assert manifest["inputs"] == [{"role": "scenario", "path": str(LANG_SON), "sha256": file_digest(LANG_SON)}]
    assert manifest["git_commit"] and manifest["versions"]["numpy"] and manifest["versions"]["simpy"]
    assert manifest["command"] == ["motcua", "simulate", "lang-son-2024", "--replications", "2", "--seed", "20240606",
                                   "--quick", "--workers", "2", "--results-root", str(tmp_path), "--lang", "en",
                                   "--uncertainty", "parameters"]
    assert manifest["finished_at"]
    assert manifest["parameters"]["replications"] == 2 and manifest["parameters"]["quick"] is True
    assert set(manifest["outputs"]) == SIMULATE_FILES - {"manifest.json"}

    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert summary["schema"] == "motcua.simulate/1"
    # quick: 6 June 2024 to six months past the 31 December 2024 deadline, so the date reached is answered
    assert summary["settings"]["horizon_days"] == 209 + 183
    assert summary["settings"]["end"] == "2025-07-02"
    head = summary["headline"]
    assert head["target_share"] == 0.45 and head["target_date"] == "2024-12-31"
    assert 0 <= head["probability_by_deadline"]["mean"] <= 1
    unit_ids = [u["id"] for u in summary["units"]]
    assert len(unit_ids) == 5 and summary["share"]["series"] == ["all", *unit_ids]
    for uid in unit_ids:
        waits = summary["counter_waits"]["units"][uid]
        assert waits["before"]["p90"]["mean"] >= waits["before"]["p50"]["mean"] >= 0
        assert set(summary["officer_hours"]["total"][uid]) == {"serving", "cash", "guidance", "idle"}
    # Adoption rises under the campaign from the observed starting shares.
    start_share = summary["share"]["weekly"]["series"]["all"]["mean"][0]
    assert summary["share"]["final"]["all"]["mean"] > start_share > 0.05

    with open(run / "share_daily.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 392 * 6 and rows[0]["date"] == "2024-06-06" and rows[0]["series"] == "all"
    assert all(float(r["share_low"]) <= float(r["share_mean"]) <= float(r["share_high"]) for r in rows[:50])

    printed = capsys.readouterr().out
    assert "Target 45.0% by 2024-12-31" in printed and f"Results: {run}" in printed
    # The target is answered past its deadline: a date reached (median, 80% band), or not by a stated day.
    assert head["horizon_end"] == "2025-07-02" and head["interval"] == "parameters and replications"
    assert "date reached" in printed or "not reached within the horizon (to 2025-07-02)" in printed
    # One start figure: the model's all-units share on day 0 and the units' observed shares, both weighted by
    # fee-bearing dossiers; the province's own observed 17.3% beside them with its source.
    start = summary["start_share"]
    assert start["weighting"] == "fee_dossiers_per_year" and start["date"] == "2024-06-06"
    assert start["simulated"]["all"]["mean"] == pytest.approx(start["observed"]["all"], abs=0.01)
    assert start["province_observed"] == {"share": 0.1734, "source": "lang-son-2024", "from": "2024-01-01",
                                          "to": "2024-06-05"}
    assert "the province's own observed figure 17.3%" in printed

    # A notebook reads it back through the project's API.
    saved = load_outputs(run)
    assert saved.summary == summary and saved.manifest["run_id"] == run.name
    daily = saved.tables["share_daily"]
    assert len(daily) == 392 * 6 and str(daily["date"].dtype).startswith("datetime64")
    payments = saved.tables["online_payments_daily"]
    assert (payments[payments.series == "all"].payments_mean > 0).all()

    # `motcua results list` shows it with its headline.
    assert main(["results", "list", "--results-root", str(tmp_path), "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert entry["kind"] == "simulate" and entry["path"] == str(run)
    assert entry["headline_text"].startswith("final share ") and "P(≥45.0% by 2024-12-31)" in entry["headline_text"]


def test_same_seed_same_summary_whichever_executor(tmp_path):
    """Serial, local processes and a Dask cluster (threads, on loopback) give the same summary."""
    from distributed import LocalCluster

    scenario = variant(tmp_path / "in", "ls-short")

    def simulate(name: str, *extra: str) -> dict:
        out = tmp_path / name
        assert main(["simulate", str(scenario), "--quick", "--replications", "2", "--seed", "5", *extra,
                     "--out", str(out), "--quiet"]) == 0
        return json.loads((out / "summary.json").read_text(encoding="utf-8"))

    # Local processes first: forking while the cluster's threads run is best avoided.
    summaries = {"serial": simulate("serial", "--workers", "1"), "processes": simulate("processes", "--workers", "2")}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, host="127.0.0.1", protocol="tcp://",
                      dashboard_address=None) as cluster:
        summaries["dask"] = simulate("dask", "--dask-scheduler", cluster.scheduler_address)
    assert summaries["dask"]["settings"]["executor"].startswith("dask tcp://127.0.0.1:")
    for summary in summaries.values():
        assert summary["settings"]["horizon_days"] == 56
        summary.pop("runtime")
        summary.pop("settings")
    assert summaries["serial"] == summaries["processes"] == summaries["dask"]


def test_a_failing_run_leaves_no_partial_results(tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    # summary.json and the CSV files are already written when the charts fail.
    monkeypatch.setattr("motcua.report.simulation_charts.simulation_charts", disk_full)
    scenario = variant(tmp_path / "in", "ls-short")
    with pytest.raises(OSError, match="No space left"):
        main(["simulate", str(scenario), "--quick", "--replications", "1", "--workers", "1",
              "--results-root", str(tmp_path / "results"), "--quiet"])
    assert [p for p in (tmp_path / "results").rglob("*") if p.is_file()] == []
    assert list((tmp_path / "results" / "ls-short").iterdir()) == []


def test_reach_summary_bands_and_deadlines_beyond_the_horizon():
    import datetime as dt

    import numpy as np

    from motcua.simulation_outputs import reach_summary

    start = dt.date(2024, 6, 6)
    reach = np.array([10.0, 20, 30, 40, 50, 60, 70, np.inf, np.inf, np.inf])  # 3 of 10 never reach it
    within = reach_summary(reach, start, deadline=25, days=100)
    assert within["probability_by_deadline"]["mean"] == 0.2 and within["reached_within_horizon"] == 0.7
    assert within["date_mean"] == "2024-07-16" and within["date_p10"] == "2024-06-16"
    assert within["date_p90"] is None  # the upper end of the 80% band lies beyond the horizon
    beyond = reach_summary(reach, start, deadline=150, days=100)
    assert beyond["probability_by_deadline"] == {"mean": None, "low": None, "high": None, "n": 0}


def test_load_outputs_refuses_other_folders(tmp_path):
    from motcua.errors import InputError
    from motcua.runs import write_json

    with pytest.raises(InputError, match=r"summary.json: file not found"):
        load_outputs(tmp_path)
    write_json(tmp_path / "summary.json", {"schema": "motcua.loadtest/1"})
    with pytest.raises(InputError, match=r"schema = 'motcua.loadtest/1' is not a simulation summary"):
        load_outputs(tmp_path)


@pytest.mark.parametrize(("argv", "message"), [
    (["simulate", "lang-son-2024", "--replications", "0"], r"--replications 0: must be at least 1"),
    (["simulate", "lang-son-2024", "--workers", "0"], r"--workers 0: must be at least 1"),
    (["simulate", "no-such-scenario"], r"no-such-scenario: \(file\) = 'no-such-scenario': scenario file not found;"),
    (["compare", "lang-son-2024"], r"give two or more"),
    (["compare", "lang-son-2024", "lang-son-2024"], r"scenario names repeat"),
])
def test_bad_input_is_refused_with_the_fix(tmp_path, capsys, argv, message):
    assert main([*argv, "--results-root", str(tmp_path)]) == 2
    assert re.search(message, capsys.readouterr().err)
    assert not any(tmp_path.iterdir())


def test_compare_campaign_vs_no_campaign(tmp_path, capsys):
    baseline = variant(tmp_path / "in", "ls-no-campaign", campaign=False)
    campaign = variant(tmp_path / "in", "ls-campaign")
    code = main(["compare", str(baseline), str(campaign), "--quick", "--replications", "3", "--workers", "2",
                 "--results-root", str(tmp_path / "results"), "--quiet", "--no-contributions",
                 "--uncertainty", "replications"])  # the pairing itself, with parameters held
    assert code == 0
    run = only_run(tmp_path / "results", "compare-ls-no-campaign-vs-ls-campaign")
    assert {p.name for p in run.iterdir()} == COMPARE_FILES
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert summary["schema"] == "motcua.compare/1" and summary["settings"]["common_random_numbers"] is True
    assert [s["name"] for s in summary["scenarios"]] == ["ls-no-campaign", "ls-campaign"]
    assert [s["settings"]["horizon_days"] for s in summary["summaries"]] == [56, 56]
    diff = summary["differences"][0]
    assert diff["baseline"] == "ls-no-campaign" and diff["scenario"] == "ls-campaign"
    # The campaign has officers guide citizens online: more guidance hours at every unit, paired CI above 0.
    for uid, hours in diff["officer_hours_total"].items():
        assert hours["guidance"]["low"] > 0, uid
    assert set(diff["crn"]) == {"final_share_ci_halfwidth_paired", "final_share_ci_halfwidth_independent"}
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "compare"
    assert [i["role"] for i in manifest["inputs"]] == ["scenario ls-no-campaign", "scenario ls-campaign"]
    with open(run / "share_weekly.csv", encoding="utf-8-sig") as fh:
        assert {r["scenario"] for r in csv.DictReader(fh)} == {"ls-campaign", "ls-no-campaign"}
    out = capsys.readouterr().out
    assert "ls-campaign vs ls-no-campaign: final share" in out and "added cost +500,000,000 VND" in out
    assert "contributions" not in diff and diff["decision"]["added_cost_vnd"] == 500_000_000
