"""Run directories: finished runs appear whole, failed runs leave nothing, manifests are complete; a notebook
finds the latest finished run from any folder of the project, or the folder it is given."""

from __future__ import annotations

import json

import pytest

from motcua.errors import InputError
from motcua.runs import (
    RUN_DIR_ENV,
    latest_run,
    list_runs,
    notebook_folder,
    read_json,
    resolve_run_dir,
    start_run,
    write_csv,
    write_json,
)


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
    written = tmp_path / "new" / "series.csv"
    assert written.read_bytes().startswith(b"\xef\xbb\xbf")  # the UTF-8 byte-order mark Excel needs
    assert written.read_text(encoding="utf-8-sig").splitlines() == ["day,share", "1,0.1", "2,0.2"]


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


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder (pyproject.toml, results/, notebooks/) and no $MOTCUA_RUN_DIR."""
    monkeypatch.delenv(RUN_DIR_ENV, raising=False)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "results").mkdir()
    (tmp_path / "notebooks" / "drafts").mkdir(parents=True)
    return tmp_path


def _run(project, kind: str, scenario: str = "lang-son-2024"):
    with start_run(scenario, results_root=project / "results", kind=kind) as run:
        pass
    return run.dir


def test_latest_run_is_found_from_a_subfolder_of_the_project_not_in_it(project, monkeypatch):
    older = _run(project, "run", "son-la")
    newer = _run(project, "run")
    _run(project, "simulate")  # later, but not a `motcua run`
    sub = project / "notebooks" / "drafts"
    assert not (sub / "results").exists()
    assert latest_run(start=sub) == newer != older
    monkeypatch.chdir(sub)
    assert latest_run() == newer and resolve_run_dir() == newer
    assert latest_run("simulate") != newer


def test_a_run_still_being_written_is_not_the_latest(project):
    finished = _run(project, "run")
    with start_run("lang-son-2024", results_root=project / "results", kind="run"):
        assert latest_run(start=project / "notebooks") == finished


def test_an_explicit_folder_comes_before_the_environment_and_the_environment_before_the_latest(project, monkeypatch):
    first, latest = _run(project, "run"), _run(project, "run")
    start = project / "notebooks"
    monkeypatch.setenv(RUN_DIR_ENV, str(first))
    assert resolve_run_dir(start=start) == first
    assert resolve_run_dir(latest, start=start) == latest
    monkeypatch.chdir(start)
    assert resolve_run_dir(f"../results/lang-son-2024/{latest.name}") == latest  # relative to the current folder
    monkeypatch.setenv(RUN_DIR_ENV, "")
    assert resolve_run_dir(start=start) == latest


def test_a_folder_that_does_not_exist_names_the_setting_that_gave_it(project, monkeypatch):
    with pytest.raises(InputError, match=r"^RUN_DIR = .*nowhere: no such folder .*motcua results list"):
        resolve_run_dir(project / "nowhere")
    monkeypatch.setenv(RUN_DIR_ENV, str(project / "gone"))
    with pytest.raises(InputError, match=r"^\$MOTCUA_RUN_DIR = .*gone: no such folder"):
        resolve_run_dir(start=project)


def test_no_run_says_where_it_looked_and_how_to_make_one(project):
    _run(project, "simulate")
    results = project / "results"
    with pytest.raises(InputError) as caught:
        latest_run(start=project / "notebooks" / "drafts")
    assert str(caught.value) == (
        f"no finished `motcua run` under {results}: make one with `cd {project} && "
        "motcua run scenarios/lang-son-2024.toml --quick`, or give a run folder (RUN_DIR in the notebook, "
        "or $MOTCUA_RUN_DIR)"
    )


def test_outside_a_project_the_message_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv(RUN_DIR_ENV, raising=False)
    (tmp_path / "pyproject.toml").write_text("")  # no results/ beside it: not the project
    with pytest.raises(InputError, match=r"no motcua project at or above .* \(a folder with pyproject\.toml and "
                                         r"results/\): open the notebook inside the checkout"):
        resolve_run_dir(start=tmp_path)


def test_notebook_charts_go_into_the_run_or_under_the_projects_results(project):
    run_dir = _run(project, "run")
    assert notebook_folder("02-x", "vi", run_dir) == run_dir / "notebooks" / "02-x" / "vi"
    assert notebook_folder("01-x", "en", start=project / "notebooks") == (
        project.resolve() / "results" / "notebooks" / "01-x" / "en")
