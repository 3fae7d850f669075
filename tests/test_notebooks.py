"""The analysts' notebooks: stored without outputs, and they run (on quick settings) where an analyst opens them.

Each notebook is executed with ``notebooks/`` as the kernel's working folder and WITHOUT ``$MOTCUA_RUN_DIR``,
as JupyterLab opened by `make notebooks` runs it: notebooks 02 and 03 must find the shared run
(tests/helpers_run.py) as the latest run under the project's ``results/`` (the real lookup,
`motcua.runs.latest_run`), and save their charts into it. For that the run is copied into ``results/`` for
the length of the test; whatever the tests put in ``results/`` is removed afterwards, and whatever was already
at those places is moved aside and put back.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from helpers_run import shared_run

from motcua.runs import PROJECT_ROOT, RUN_DIR_ENV, latest_run

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
RESULTS = PROJECT_ROOT / "results"
# The shared run (made by whichever test asks first) takes a few minutes on a busy 2-core machine.
pytestmark = pytest.mark.timeout(600)
REQUIRED = ("01-compare-adoption-scenarios", "02-peak-load-and-callbacks", "03-campaign-charts")
READS_A_RUN = ("02-peak-load-and-callbacks", "03-campaign-charts")


def test_the_three_notebooks_exist():
    assert {p.stem for p in NOTEBOOKS} >= set(REQUIRED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    dirty = [i for i, c in enumerate(book.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert dirty == [], f"{path.name}: clear the outputs of cells {dirty} before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_opens_with_its_parameters_in_vietnamese(path):
    book = nbformat.read(path, as_version=4)
    params = next(c for c in book.cells if c.cell_type == "code")
    assert "parameters" in params.metadata.get("tags", []), "the first code cell is the parameters cell"
    assert 'LANG = "vi"' in params.source
    if path.stem in READS_A_RUN:
        assert "RUN_DIR = None" in params.source


def test_notebooks_pass_the_linter():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "ruff", "check", *map(str, NOTEBOOKS)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:]


@contextlib.contextmanager
def borrowed(target: Path, aside: Path) -> Iterator[Path]:
    """`target` (a folder under ``results/``) for the length of a test, left as it was found.

    What was at `target` is moved to `aside` and put back; what the test wrote there is removed, and so are
    the parent folders the test created.
    """
    created = [p for p in target.parents if RESULTS in p.parents and not p.exists()]  # deepest first
    if target.exists():
        shutil.move(target, aside)
    try:
        yield target
    finally:
        shutil.rmtree(target, ignore_errors=True)
        if aside.exists():
            shutil.move(aside, target)
        for folder in created:
            with contextlib.suppress(OSError):
                folder.rmdir()


@pytest.fixture
def run_in_results(tmp_path_factory, tmp_path) -> Iterator[Path]:
    """A copy of the shared run in the project's ``results/``, where `motcua run` would have put it."""
    source = shared_run(tmp_path_factory)
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    with borrowed(RESULTS / manifest["scenario"] / manifest["run_id"], tmp_path / "aside") as run_dir:
        shutil.copytree(source, run_dir)
        assert latest_run(start=NOTEBOOK_DIR) == run_dir, "a run in results/ started after the shared run"
        yield run_dir


@pytest.fixture
def kernel_name(tmp_path, monkeypatch) -> str:
    """The venv's python as the ``python3`` kernel; registered into a temporary folder when not found."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        from ipykernel.kernelspec import install

        install(kernel_name="python3", prefix=str(tmp_path / "jupyter"))
        monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter" / "share" / "jupyter"))
    return "python3"


def execute(path: Path, kernel_name: str, cwd: Path, **env: str) -> list[dict]:
    """Run notebook `path` with `cwd` as the kernel's working folder; the outputs of its code cells.

    The kernel gets this process's environment without ``$MOTCUA_RUN_DIR``, plus `env`.
    """
    from nbclient import NotebookClient

    kernel_env = {k: v for k, v in os.environ.items() if k != RUN_DIR_ENV} | {"MPLBACKEND": "Agg"} | env
    book = nbformat.read(path, as_version=4)
    client = NotebookClient(book, timeout=300, kernel_name=kernel_name, resources={"metadata": {"path": str(cwd)}})
    client.execute(env=kernel_env)
    outputs = [o for c in book.cells if c.cell_type == "code" for o in c.outputs]
    errors = [f"{o['ename']}: {o['evalue']}" for o in outputs if o.output_type == "error"]
    assert errors == [], f"{path.name}: {errors}"
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name} drew no chart"
    return outputs


def printed(outputs: list[dict]) -> str:
    return "".join(o.get("text", "") for o in outputs if o.output_type == "stream")


# 03 is executed in the default run by the test after the next (the run named by the environment); finding the latest
# run from its folder is the same lookup for both notebooks, so 03's own case here (~30 s) is in `make test-all` only.
@pytest.mark.parametrize("stem", [pytest.param(stem, marks=pytest.mark.slow) if stem == "03-campaign-charts" else stem
                                  for stem in READS_A_RUN])
def test_notebook_finds_the_latest_run_from_its_folder_and_saves_its_charts_there(stem, run_in_results, kernel_name):
    outputs = execute(NOTEBOOK_DIR / f"{stem}.ipynb", kernel_name, cwd=NOTEBOOK_DIR)
    charts = run_in_results / "notebooks" / stem / "vi"
    assert printed(outputs).startswith(f"{run_in_results} — ")
    assert f"charts saved in {charts}" in printed(outputs)
    files = list(charts.iterdir())
    assert files and all(p.suffix == ".png" for p in files), files


def test_the_comparison_notebook_saves_its_charts_under_results(kernel_name, tmp_path):
    stem = "01-compare-adoption-scenarios"
    with borrowed(RESULTS / "notebooks" / stem, tmp_path / "aside") as folder:
        outputs = execute(NOTEBOOK_DIR / f"{stem}.ipynb", kernel_name, cwd=NOTEBOOK_DIR)
        assert f"charts saved in {folder / 'vi'}\n" in printed(outputs)
        assert sorted(p.name for p in (folder / "vi").iterdir()) == [
            "compare_differences.png", "compare_trajectories.png", "compare_units.png"]


def test_a_run_named_by_the_environment_is_read_from_outside_the_project(kernel_name, tmp_path_factory, tmp_path):
    run_dir = tmp_path / "a run kept elsewhere"
    shutil.copytree(shared_run(tmp_path_factory), run_dir)
    elsewhere = tmp_path / "desk"
    elsewhere.mkdir()
    outputs = execute(NOTEBOOK_DIR / "03-campaign-charts.ipynb", kernel_name, cwd=elsewhere,
                      **{RUN_DIR_ENV: str(run_dir)})
    assert printed(outputs).startswith(f"{run_dir} — ")
    assert (run_dir / "notebooks" / "03-campaign-charts" / "vi" / "share_trajectories.png").is_file()
