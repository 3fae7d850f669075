"""`motcua results list`: finished runs with their headline figures, partial runs never shown."""

from __future__ import annotations

import json

from motcua.cli import main
from motcua.commands.results import headline_text
from motcua.runs import start_run, write_json

HEADLINE = {
    "final_share": {"mean": 0.3712, "low": 0.35, "high": 0.39, "n": 20},
    "target_share": 0.45, "target_date": "2024-12-31",
    "probability_by_deadline": {"mean": 0.25, "low": 0.11, "high": 0.47, "n": 20},
    "reached_date_mean": "2025-03-02", "reached_date_p10": "2024-12-20", "reached_date_p90": None,
    "hours_freed_per_open_day": {"mean": 1.5, "low": 0.5, "high": 2.5, "n": 20},
}


def make_run(root, scenario, kind, summary):
    with start_run(scenario, command=["motcua", kind, scenario], seed=1, results_root=root, kind=kind) as run:
        write_json(run.path("summary.json"), summary)
    return run.dir


def test_lists_finished_runs_with_headlines_and_filters(tmp_path, capsys):
    make_run(tmp_path, "lang-son-2024", "simulate", {"kind": "simulate", "headline": HEADLINE})
    make_run(tmp_path, "compare-a-vs-b", "compare", {"kind": "compare", "headline": {"a": HEADLINE, "b": HEADLINE}})
    make_run(tmp_path, "peak-day", "loadtest", {"headline": {"throughput_per_s": 120.5, "slo_passed": True}})
    (tmp_path / "lang-son-2024" / ".20990101-000000-dead.partial").mkdir()  # an interrupted run

    assert main(["results", "list", "--results-root", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["started", "(UTC)", "scenario", "command"]
    assert len(out) == 4  # header + three finished runs; the partial one is not listed
    simulate_line = next(line for line in out if "lang-son-2024" in line)
    assert "simulate" in simulate_line
    assert "final share 37.1%, P(≥45.0% by 2024-12-31) 25.0%, reached ~2025-03-02" in simulate_line
    assert "a: final share 37.1%" in next(line for line in out if "compare-a-vs-b" in line)
    assert "throughput_per_s=120.5, slo_passed=True" in next(line for line in out if "peak-day" in line)

    assert main(["results", "list", "--results-root", str(tmp_path), "--scenario", "lang-son-2024", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [e["scenario"] for e in entries] == ["lang-son-2024"]
    entry = entries[0]
    assert entry["kind"] == "simulate" and entry["seed"] == 1 and entry["command"] == "motcua simulate lang-son-2024"
    assert entry["headline"]["final_share"]["mean"] == 0.3712 and entry["path"].startswith(str(tmp_path))


def test_no_runs_says_how_to_make_one(tmp_path, capsys):
    assert main(["results", "list", "--results-root", str(tmp_path), "--scenario", "nowhere"]) == 0
    assert "No finished runs of scenario 'nowhere'" in capsys.readouterr().out


def test_headline_text_without_target_or_summary():
    assert headline_text("simulate", None) == "(no summary.json)"
    no_target = {**HEADLINE, "target_share": None}
    assert headline_text("simulate", {"headline": no_target}) == "final share 37.1%"

