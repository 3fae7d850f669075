"""Run directories: where every command writes its outputs, and the manifest that makes them reproducible.

A run lives in ``results/<scenario>/<run-id>/``. While it is being written it is a hidden
``.<run-id>.partial`` folder beside it; only a run that finished is renamed into place, so a
failed or interrupted command never leaves half-written results where `motcua results list`
or a notebook would read them.

``manifest.json`` records the inputs (with their SHA-256), the seed, the versions of Python and
of the libraries that shape the results, the git commit of the workbench, and the exact command.
``results/README.md`` documents every file and key.

A notebook finds the run it reads with `resolve_run_dir`: the folder it is given, else
``$MOTCUA_RUN_DIR``, else the latest finished run under the project's ``results/`` — the project
being found by walking up from the current folder (`find_project_root`), so a notebook opened in
``notebooks/`` or any other folder of the checkout finds the same runs as ``motcua results list``
typed at the project's root. Its charts go to `notebook_folder`.
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
RUN_DIR_ENV = "MOTCUA_RUN_DIR"
"""The environment variable that names the run folder a notebook reads (after its own ``RUN_DIR``)."""
NOTEBOOKS = "notebooks"
"""The folder, in a run folder or in ``results/``, where each notebook saves its charts (``<notebook>/<lang>/``)."""
MAKE_A_RUN = "motcua run scenarios/lang-son-2024.toml --quick"
"""The command that makes a run for the notebooks (what `make demo` runs)."""

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


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` (default: the current folder) with ``pyproject.toml`` and ``results/``.

    A notebook's working folder is its own folder (``notebooks/``), not the project's root where
    `motcua run` writes ``results/``; walking up finds the project from any of its folders.
    """
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / DEFAULT_RESULTS).is_dir():
            return folder
    raise InputError(
        f"no motcua project at or above {here} (a folder with pyproject.toml and {DEFAULT_RESULTS}/): open the "
        f"notebook inside the checkout, or give the run folder (RUN_DIR in the notebook, or ${RUN_DIR_ENV})"
    )


def latest_run(kind: str = "run", start: Path | None = None) -> Path:
    """The folder of the latest finished run of `kind` (``manifest.json``'s ``kind``) under the project's ``results/``.

    The project is found from `start` (default: the current folder) by `find_project_root`; "latest"
    is the order of `list_runs` (the time each run started). No such run is an `InputError` that names
    the folder searched and the command that makes one.
    """
    results = find_project_root(start) / DEFAULT_RESULTS
    runs = [info for info in list_runs(results) if info.manifest.get("kind") == kind]
    if not runs:
        raise InputError(
            f"no finished `motcua {kind}` under {results}: make one with `cd {results.parent} && "
            f"{MAKE_A_RUN if kind == 'run' else f'motcua {kind} …'}`, or give a run folder "
            f"(RUN_DIR in the notebook, or ${RUN_DIR_ENV})"
        )
    return runs[-1].path


def resolve_run_dir(run_dir: str | os.PathLike[str] | None = None, *, kind: str = "run",
                    start: Path | None = None) -> Path:
    """The run folder a notebook reads: `run_dir` if given, else ``$MOTCUA_RUN_DIR``, else `latest_run`.

    A folder given either way must exist (the message says which setting named it); a relative one is
    read from the current folder. Whether it is a run of the right kind is `motcua.run_layout.RunFiles`'s
    to say when it reads it.
    """
    given, source = (run_dir, "RUN_DIR") if run_dir is not None else (os.environ.get(RUN_DIR_ENV), f"${RUN_DIR_ENV}")
    if not given:
        return latest_run(kind, start)
    folder = Path(given).expanduser().resolve()
    if not folder.is_dir():
        raise InputError(f"{source} = {given}: no such folder (resolved to {folder}); list runs with "
                         "`motcua results list`, or set it to None to read the latest run")
    return folder


def notebook_folder(notebook: str, lang: str, run_dir: Path | None = None, *, start: Path | None = None) -> Path:
    """Where notebook `notebook` (its file name without ``.ipynb``) saves its charts in language `lang`.

    Inside the run it reads (``<run>/notebooks/<notebook>/<lang>/``), or, for a notebook that reads no
    run, under the project's ``results/notebooks/<notebook>/<lang>/``. Only the path: the chart
    writers create the folder.
    """
    base = Path(run_dir) if run_dir is not None else find_project_root(start) / DEFAULT_RESULTS
    return base / NOTEBOOKS / notebook / lang
