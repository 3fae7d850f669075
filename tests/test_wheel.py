"""The wheel: built from this checkout, installed (not editable) into a fresh venv, used from another folder.

The installed distribution owns the one top-level name ``motcua``; the repository's folders ``models/``,
``mock_services/``, ``locustfiles/`` and ``scenarios/`` are mapped under it, and the bundled data (scenarios,
catalogues, the check's fault file) come along as package data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _package_folders() -> dict[str, Path]:
    """Every package folder of the checkout, by the dotted name the wheel gives it."""
    mapping = PYPROJECT["tool"]["setuptools"]["package-dir"]
    found: dict[str, Path] = {}
    for name, folder in mapping.items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            if ".venv" in init.parts or "node_modules" in init.parts:
                continue
            rel = init.parent.relative_to(base)
            found[".".join([name, *rel.parts]) if rel.parts else name] = init.parent
    return found


def test_every_package_folder_is_listed_for_the_wheel() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    missing = sorted(set(_package_folders()) - listed)
    assert not missing, f"add these packages to [tool.setuptools] packages in pyproject.toml: {missing}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; its dependencies come from this venv's site-packages."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp / "dist"), str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = (tmp / "dist").glob("motcua-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # A plain path entry: the dependencies are importable, but this venv's editable finder (a .pth hook) is not run.
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    top = sorted(p.name for p in site.iterdir()
                 if not p.name.endswith((".dist-info", ".pth")) and p.name != "__pycache__")
    assert top == ["motcua"], f"the wheel must install only the top-level name motcua, found {top}"
    return venv


def _motcua(venv: Path, cwd: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(venv / "bin" / "motcua"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_installed_wheel_checks_a_bundled_scenario_by_name(installed: Path, tmp_path: Path) -> None:
    proc = _motcua(installed, tmp_path, "scenario", "check", "lang-son-2024")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "lang-son-2024" in proc.stdout
    # It is the installed copy that answered, not this checkout.
    where = subprocess.run([str(installed / "bin" / "python"), "-c",
                            "import motcua.models; print(motcua.models.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert str(installed) in where and str(ROOT) not in where


def test_installed_wheel_validates_erlang_c(installed: Path, tmp_path: Path) -> None:
    proc = _motcua(installed, tmp_path, "validate", "erlang-c", "--servers", "2", "--arrival-rate", "1",
                   "--service-rate", "1", "--customers", "50000", "--replications", "2", "--seed", "3",
                   "--tolerance", "0.1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Erlang C" in proc.stdout


def test_installed_wheel_runs_the_mock_check(installed: Path, tmp_path: Path) -> None:
    proc = _motcua(installed, tmp_path, "mock", "--check", "--data-dir", str(tmp_path / "mock"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "invariant" in (proc.stdout + proc.stderr).lower()


def test_installed_wheel_runs_a_load_test_into_a_relative_folder(installed: Path, tmp_path: Path) -> None:
    """The locustfile is package data and Locust's processes resolve relative paths as the caller does."""
    proc = _motcua(installed, tmp_path, "loadtest", "peak-day", "--duration", "4s", "--rate", "4",
                   "--time-scale", "0.01", "--out", "out/lt", timeout=240)
    assert proc.returncode in (0, 3), proc.stdout + proc.stderr  # 3: a gate of the scenario may fail in 4 s
    summary = tmp_path / "out" / "lt" / "summary.json"
    assert summary.is_file(), proc.stdout + proc.stderr
    assert json.loads(summary.read_text(encoding="utf-8"))["invariant"]["ok"] is True
