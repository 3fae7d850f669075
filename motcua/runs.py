"""Run directories: where every command writes its outputs, and the manifest that makes them reproducible.

A run lives in ``results/<scenario>/<run-id>/``. While it is being written it is a hidden
``.<run-id>.partial`` folder beside it; only a run that finished is renamed into place, so a
failed or interrupted command never leaves half-written results where `motcua results list`
or a notebook would read them.

``manifest.json`` records the inputs (with their SHA-256), the seed, the versions of Python and
of the libraries that shape the results, the git commit of the workbench, and the exact command.
``results/README.md`` documents every file and key.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import secrets
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from motcua.errors import InputError
from motcua.run_layout import MANIFEST, SUMMARY, write_json

# Re-exported: the commands read and write their run files with these (`motcua.run_layout` owns them).
from motcua.run_layout import read_json as read_json
from motcua.run_layout import write_csv as write_csv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The source checkout (for the git commit in manifests); in an installed wheel it holds no repository."""
DEFAULT_RESULTS = Path("results")
"""Runs go under ``./results`` of the folder the command runs in, unless ``--out`` says otherwise."""

# Libraries whose version can change a figure in the results.
TRACKED_PACKAGES = ("motcua", "simpy", "numpy", "scipy", "locust", "aiohttp", "matplotlib", "dask")


def now_iso() -> str:
    """The current UTC time as ISO 8601 with milliseconds (runs started in one second still sort)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def new_run_id() -> str:
    """A sortable, unique run id: ``YYYYMMDD-HHMMSS-xxxx``."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def git_commit(root: Path = PROJECT_ROOT) -> str | None:
    """The workbench's git commit, with ``-dirty`` when the tree has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("-dirty" if dirty else "")


def package_versions(names: Iterable[str] = TRACKED_PACKAGES) -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass
class Run:
    """One run directory being written. Use `start_run` to make one."""

    scenario: str
    """Name of the scenario (the folder under ``results/``)."""
    run_id: str
    """Sortable unique id, also the folder name."""
    final_dir: Path
    """Where the run will be once it finished."""
    dir: Path
    """Where to write now: the hidden partial folder, or ``final_dir`` for a run given by ``--out``."""
    manifest: dict[str, Any] = field(default_factory=dict)

    def path(self, *parts: str) -> Path:
        """A path inside the run directory; parent folders are created."""
        p = self.dir.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def add_input(self, path: Path, role: str) -> None:
        """Record an input file (its path and SHA-256) in the manifest."""
        self.manifest.setdefault("inputs", []).append(
            {"role": role, "path": str(path), "sha256": file_digest(path)}
        )

    def record(self, **entries: Any) -> None:
        """Add entries to the manifest (e.g. ``steps``, ``parameters``)."""
        self.manifest.update(entries)

    def write_manifest(self) -> Path:
        return write_json(self.dir / MANIFEST, self.manifest)


def check_out_folder(out: Path | None) -> None:
    """Refuse an ``--out`` folder that holds files, before any work: nothing is ever written over."""
    if out is not None and Path(out).exists() and any(Path(out).iterdir()):
        raise InputError(f"--out {out}: folder exists and is not empty; choose a new folder")


@contextlib.contextmanager
def start_run(
    scenario: str,
    *,
    command: Sequence[str] | None = None,
    seed: int | None = None,
    out: Path | None = None,
    results_root: Path | None = None,
    kind: str = "",
) -> Iterator[Run]:
    """Open a run directory for `scenario`; finish it on success, remove it on failure.

    With ``out`` the run is written straight into that folder (which must be empty or absent);
    otherwise into ``results/<scenario>/<run-id>/`` by way of a hidden partial folder.
    """
    run_id = new_run_id()
    if out is not None:
        check_out_folder(out)
        final_dir = Path(out)
        work_dir = final_dir.with_name(f".{final_dir.name}.partial")
    else:
        root = Path(results_root) if results_root else DEFAULT_RESULTS
        final_dir = root / scenario / run_id
        work_dir = root / scenario / f".{run_id}.partial"
    work_dir.mkdir(parents=True, exist_ok=False)
    run = Run(scenario=scenario, run_id=run_id, final_dir=final_dir, dir=work_dir)
    run.manifest = {
        "run_id": run_id,
        "kind": kind,
        "scenario": scenario,
        "seed": seed,
        "started_at": now_iso(),
        "command": list(command) if command is not None else ["motcua", *sys.argv[1:]],
        "command_line": shlex.join(command if command is not None else ["motcua", *sys.argv[1:]]),
        "cwd": os.getcwd(),
        "git_commit": git_commit(),
        "versions": package_versions(),
        "platform": {"system": platform.system(), "machine": platform.machine(), "cpus": os.cpu_count()},
        "inputs": [],
    }
    try:
        yield run
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    run.manifest["finished_at"] = now_iso()
    run.manifest["status"] = "complete"
    run.write_manifest()
    if final_dir.exists():  # an empty --out folder
        final_dir.rmdir()
    os.replace(work_dir, final_dir)
    run.dir = final_dir


@dataclass(frozen=True)
class RunInfo:
    """What `motcua results list` shows of one finished run."""

    path: Path
    manifest: Mapping[str, Any]
    summary: Mapping[str, Any] | None


def list_runs(results_root: Path | None = None) -> list[RunInfo]:
    """Finished runs under ``results/``, oldest first (partial folders are skipped)."""
    root = Path(results_root) if results_root else DEFAULT_RESULTS
    runs = []
    for manifest_path in sorted(root.glob(f"*/*/{MANIFEST}")):
        run_dir = manifest_path.parent
        if run_dir.name.startswith("."):
            continue
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        summary_path = run_dir / SUMMARY
        summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else None
        runs.append(RunInfo(run_dir, manifest, summary))
    runs.sort(key=lambda r: (r.manifest.get("started_at", ""), r.path.name))
    return runs
