"""Run directories: finished runs appear whole, failed runs leave nothing, manifests are complete."""

from __future__ import annotations

import json

import pytest

from motcua.errors import InputError
from motcua.runs import list_runs, read_json, start_run, write_csv, write_json


def test_finished_run_is_renamed_into_place_with_a_complete_manifest(tmp_path):
    with start_run("demo", seed=7, results_root=tmp_path, kind="simulate", command=["motcua", "x"]) as run:
        write_json(run.path("summary.json"), {"share": 0.45})
        assert run.dir.name.startswith(".") and run.dir.name.endswith(".partial")
    assert run.dir == run.final_dir == tmp_path / "demo" / run.run_id
    manifest = json.loads((run.dir / "manifest.json").read_text())
    for key in ("run_id", "kind", "scenario", "seed", "started_at", "finished_at", "command", "git_commit", "versions"):
        assert key in manifest, key
    assert manifest["seed"] == 7 and manifest["status"] == "complete"
    assert manifest["command_line"] == "motcua x"
    assert manifest["versions"]["numpy"]
    assert not list((tmp_path / "demo").glob(".*"))


def test_failed_run_leaves_no_partial_results(tmp_path):
    with pytest.raises(RuntimeError, match="boom"), start_run("demo", results_root=tmp_path) as run:
        write_json(run.path("summary.json"), {})
        raise RuntimeError("boom")
    assert list((tmp_path / "demo").iterdir()) == []
    assert list_runs(tmp_path) == []


def test_out_folder_must_be_new_or_empty(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep me")
    with pytest.raises(InputError, match=r"--out .*full: folder exists and is not empty"), start_run(
        "demo", out=tmp_path / "full"
    ):
        pass
    assert (tmp_path / "full" / "x").read_text() == "keep me"
    with start_run("demo", out=tmp_path / "new") as run:
        write_csv(run.path("series.csv"), ["day", "share"], [[1, 0.1], [2, 0.2]])
    assert (tmp_path / "new" / "series.csv").read_text().splitlines() == ["day,share", "1,0.1", "2,0.2"]


def test_list_runs_reads_manifest_and_summary_oldest_first(tmp_path):
    for share in (0.1, 0.2):
        with start_run("lang-son", results_root=tmp_path) as run:
            write_json(run.path("summary.json"), {"share": share})
    runs = list_runs(tmp_path)
    assert [r.summary["share"] for r in runs] == [0.1, 0.2]


def test_read_json_names_the_file_and_position(tmp_path):
    bad = tmp_path / "summary.json"
    bad.write_text("{oops")
    with pytest.raises(InputError, match=r"summary\.json: not valid JSON \(line 1, column 2"):
        read_json(bad)
    with pytest.raises(InputError, match=r"missing\.json: file not found"):
        read_json(tmp_path / "missing.json")
