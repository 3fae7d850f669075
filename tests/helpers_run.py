"""One quick `motcua run` shared by the report, browser and notebook tests (made once per test session).

The run uses a fault file that loses half of the IPNs, so the same run also shows the feedback loop
at work (measured callbacks are worse than the scenario assumed) and an SLO breach that is reported
and returned as exit code 3 after the report was written.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FAULTS = """# Half of the gateway's IPNs are never sent: only reconciliation (đối soát) recovers them.
seed = 7
[gateway.ipn]
lost = 0.5
"""
RUN_ARGS = ("--quick", "--replications", "2", "--duration", "20s", "--quiet")
MODULES = ("test_notebooks.py", "test_pipeline.py", "test_report.py", "test_report_browser.py", "test_safety.py")
"""The test modules that read the shared run."""

_cache: dict[str, tuple[Path, int]] = {}


def shared_run_with_code(tmp_path_factory) -> tuple[Path, int]:
    """(run folder, exit code) of the shared run of lang-son-2024 with lost IPNs.

    Made once per test session: under pytest-xdist the first worker that asks makes it in the session's common
    temporary folder (under a file lock) and the others read it, so parallel workers do not each spend minutes on it.
    """
    if "run" not in _cache:
        import os

        root = tmp_path_factory.getbasetemp()
        if os.environ.get("PYTEST_XDIST_WORKER"):
            root = root.parent  # the session's folder, common to every worker
        _cache["run"] = _ensure(root / "shared-run")
    return _cache["run"]


def _ensure(base: Path) -> tuple[Path, int]:
    """The run in `base`, made there unless a process already did (one at a time, under a file lock)."""
    from filelock import FileLock

    base.mkdir(exist_ok=True)
    with FileLock(str(base / ".lock")):
        done = base / "exit-code"
        if not done.exists():
            _make_run(base, done)
        return base / "run", int(done.read_text(encoding="utf-8"))


def start_in_background(session_root: Path) -> subprocess.Popen:
    """Make the shared run in a process of its own, beside the test workers (pytest-xdist's controller calls it).

    Left to the first worker that asks, the run would start only when that worker reaches one of `MODULES`,
    and the other worker, reaching another of them, would wait minutes for it; started with the session it
    overlaps the tests that wait on servers. A worker that asks before it is done waits on the lock; should this
    process fail, the worker makes the run itself.
    """
    from motcua.runs import PROJECT_ROOT

    base = session_root / "shared-run"
    base.mkdir(parents=True, exist_ok=True)
    log = (base / "background.log").open("w", encoding="utf-8")
    return subprocess.Popen([sys.executable, __file__, str(base)], cwd=PROJECT_ROOT, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _make_run(base: Path, done: Path) -> None:
    from motcua.cli import main

    faults = base / "lost-ipns.toml"
    faults.write_text(FAULTS, encoding="utf-8")
    out = base / "run"
    code = main(["run", "scenarios/lang-son-2024.toml", *RUN_ARGS, "--faults", str(faults), "--out", str(out)])
    done.write_text(str(code), encoding="utf-8")


def shared_run(tmp_path_factory) -> Path:
    return shared_run_with_code(tmp_path_factory)[0]


if __name__ == "__main__":  # start_in_background: python tests/helpers_run.py SESSION/shared-run
    _ensure(Path(sys.argv[1]))
