"""The analysts' notebooks: stored without outputs, and they run (on quick settings) against a real run folder."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from helpers_run import shared_run

from motcua.runs import PROJECT_ROOT

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
# The shared run (made by whichever test asks first) takes a few minutes on a busy 2-core machine.
pytestmark = pytest.mark.timeout(600)
REQUIRED = ("01-compare-adoption-scenarios", "02-peak-load-and-callbacks", "03-campaign-charts")


def test_the_three_notebooks_exist():
    assert {p.stem for p in NOTEBOOKS} >= set(REQUIRED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    dirty = [i for i, c in enumerate(book.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert dirty == [], f"{path.name}: clear the outputs of cells {dirty} before committing"


def test_notebooks_pass_the_linter():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "ruff", "check", *map(str, NOTEBOOKS)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:]


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, kernel_name, tmp_path_factory, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("MOTCUA_RUN_DIR", str(shared_run(tmp_path_factory)))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    book = nbformat.read(path, as_version=4)
    client = NotebookClient(book, timeout=300, kernel_name=kernel_name,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=dict(os.environ))
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    images = [o for c in book.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, f"{Path(path).name} drew no chart"
