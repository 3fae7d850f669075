"""One quick `motcua run` shared by the report, browser and notebook tests (made once per test session).

The run uses a fault file that loses half of the IPNs, so the same run also shows the feedback loop
at work (measured callbacks are worse than the scenario assumed) and an SLO breach that is reported
and returned as exit code 3 after the report was written.
"""

from __future__ import annotations

from pathlib import Path

FAULTS = """# Half of the gateway's IPNs are never sent: only reconciliation (đối soát) recovers them.
seed = 7
[gateway.ipn]
lost = 0.5
"""
RUN_ARGS = ("--quick", "--replications", "2", "--duration", "20s", "--quiet")

_cache: dict[str, tuple[Path, int]] = {}


def shared_run_with_code(tmp_path_factory) -> tuple[Path, int]:
    """(run folder, exit code) of the shared run of lang-son-2024 with lost IPNs.

    Made once per test session: under pytest-xdist the first worker that asks makes it in the session's common
    temporary folder (under a file lock) and the others read it, so parallel workers do not each spend minutes on it.
    """
    if "run" not in _cache:
        import os

        from filelock import FileLock

        root = tmp_path_factory.getbasetemp()
        if os.environ.get("PYTEST_XDIST_WORKER"):
            root = root.parent  # the session's folder, common to every worker
        base = root / "shared-run"
        base.mkdir(exist_ok=True)
        with FileLock(str(base / ".lock")):
            done = base / "exit-code"
            if not done.exists():
                _make_run(base, done)
            _cache["run"] = (base / "run", int(done.read_text(encoding="utf-8")))
    return _cache["run"]


def _make_run(base: Path, done: Path) -> None:
    from motcua.cli import main

    faults = base / "lost-ipns.toml"
    faults.write_text(FAULTS, encoding="utf-8")
    out = base / "run"
    code = main(["run", "scenarios/lang-son-2024.toml", *RUN_ARGS, "--faults", str(faults), "--out", str(out)])
    done.write_text(str(code), encoding="utf-8")


def shared_run(tmp_path_factory) -> Path:
    return shared_run_with_code(tmp_path_factory)[0]
