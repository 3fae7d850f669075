"""The run folder's layout: every file name a run writes, the paths of one folder, and the whole folder read once.

*Scenario.* `motcua run` writes one folder per run; five steps, `motcua report`, the notebooks and
`motcua results list` read it back. They agree on file names through this module only: the names are
constants here, `RunLayout` gives the paths of one folder (`LoadtestLayout` those of a load test's), and
`RunFiles` reads a whole `motcua run` folder at once (the report and the notebooks use it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from motcua.errors import InputError
from motcua.run_layout import records, storage

T = TypeVar("T")

# ---------------------------------------------------------------------------------------------
# File names
# ---------------------------------------------------------------------------------------------
MANIFEST = "manifest.json"
"""Every run folder: inputs, seed, versions, command (`motcua.runs`)."""
SUMMARY = "summary.json"
"""Every run folder and every step folder: the figures of that step."""
SCENARIO_COPY = "scenario.toml"
"""`motcua run`: the scenario file as run (the report's assumptions)."""
REPORT = "report.html"
CHARTS = "charts"
"""`motcua run`: the folder of every chart of the report."""

SIMULATE, DEMAND, LOADTEST, FEEDBACK = "simulate", "demand", "loadtest", "feedback"
STEP_FOLDERS = (SIMULATE, DEMAND, LOADTEST, FEEDBACK)
"""The step folders of a `motcua run`, in the order the steps run."""

SHARE_DAILY_CSV = "share_daily.csv"
SHARE_WEEKLY_CSV = "share_weekly.csv"
ONLINE_PAYMENTS_DAILY_CSV = "online_payments_daily.csv"
SIMULATION_CSV_FILES = (SHARE_DAILY_CSV, SHARE_WEEKLY_CSV, ONLINE_PAYMENTS_DAILY_CSV)
"""The time series `motcua simulate` and `compare` write beside their summary."""
FIGURES_NPZ = "figures.npz"
ONLINE_PAYMENTS_NPY = "online_payments.npy"
INTERVENTIONS = "interventions.json"

DEMAND_JSON = "demand.json"
HOURLY_CSV = "hourly.csv"
LOAD_SCENARIO = "scenario-load.toml"

HARNESS = "harness.json"
"""A load test's raw samples (written by the Locust plugin)."""
LOCUST = "locust"
"""A load test's folder of Locust's own CSV, HTML report and logs."""
LOCUST_REPORT = "report.html"
MOCK_LOGS = "mocks"
CAPACITY_CHART = "capacity.png"

QUALITY = "quality.json"
FLAWLESS_SUMMARY = "flawless-summary.json"
COMPARISON = "comparison.json"
MEASURED_SCENARIO = "scenario-measured.toml"


class _At:
    """A path below the folder's ``root``, as a read-only attribute of `RunLayout` or `LoadtestLayout`."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts

    def __get__(self, folder: Any, owner: Any = None) -> Path:
        if folder is None:
            raise AttributeError("a layout path belongs to a folder: use RunLayout(run_dir).<name>")
        return Path(folder.root).joinpath(*self.parts)


@dataclass(frozen=True)
class _Folder:
    """A folder that `motcua.runs` opens: its ``manifest.json`` and ``summary.json`` (nothing is read or created)."""

    root: Path
    manifest = _At(MANIFEST)
    summary = _At(SUMMARY)


@dataclass(frozen=True)
class LoadtestLayout(_Folder):
    """The paths of one load-test folder (`motcua loadtest`, a run's ``loadtest/`` or one capacity step)."""

    harness = _At(HARNESS)
    locust = _At(LOCUST)
    capacity_chart = _At(CAPACITY_CHART)


@dataclass(frozen=True)
class RunLayout(_Folder):
    """The paths of one `motcua run` folder (nothing is read or created)."""

    scenario_copy = _At(SCENARIO_COPY)
    report = _At(REPORT)
    charts = _At(CHARTS)
    simulate_summary = _At(SIMULATE, SUMMARY)
    figures = _At(SIMULATE, FIGURES_NPZ)
    online_payments = _At(SIMULATE, ONLINE_PAYMENTS_NPY)
    interventions = _At(SIMULATE, INTERVENTIONS)
    demand = _At(DEMAND, DEMAND_JSON)
    hourly = _At(DEMAND, HOURLY_CSV)
    load_scenario = _At(DEMAND, LOAD_SCENARIO)
    quality = _At(FEEDBACK, QUALITY)
    feedback_summary = _At(FEEDBACK, SUMMARY)
    flawless_summary = _At(FEEDBACK, FLAWLESS_SUMMARY)
    comparison = _At(FEEDBACK, COMPARISON)
    measured_scenario = _At(FEEDBACK, MEASURED_SCENARIO)

    def step(self, name: str) -> Path:
        """The folder of step `name` (one of `STEP_FOLDERS`)."""
        return self.root / name

    @property
    def loadtest(self) -> LoadtestLayout:
        """The top load-test folder (with ``--find-capacity``: the last step's figures and the capacity)."""
        return LoadtestLayout(self.root / LOADTEST)

    def projected_loadtest(self) -> LoadtestLayout:
        """The load test at the projected peak: ``loadtest/``, or its first capacity step.

        With ``--find-capacity`` the load test raises the rate until an SLO breaks; its top-level
        summary is the last (broken) step, while the projected peak's measurements, SLO verdicts and
        samples are those of the first step. Reads ``loadtest/summary.json``.
        """
        top = self.loadtest
        capacity = storage.read_loadtest_summary(top.summary).get("capacity")
        if capacity and capacity["steps"]:
            return LoadtestLayout(top.root / capacity["steps"][0]["folder"])
        return top


def loadtest_folder(run_dir: Path) -> Path:
    """The folder of the load test at the projected peak (see `RunLayout.projected_loadtest`)."""
    return RunLayout(Path(run_dir)).projected_loadtest().root


# ---------------------------------------------------------------------------------------------
# A whole run folder
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunFiles:
    """The saved outputs of one `motcua run` folder (None where a step left nothing), read once.

    ``loadtest`` and ``harness`` are those of the load test at the projected peak; with
    ``--find-capacity`` ``loadtest["capacity"]`` is the capacity search of the top-level summary.
    """

    run_dir: Path
    manifest: records.Manifest
    summary: records.RunSummary | None
    simulate: records.SimulationSummary
    interventions: records.InterventionsFile | None
    demand: records.DemandFile | None
    loadtest: records.LoadtestSummary | None
    harness: records.Harness | None
    quality: records.QualityFile | None
    feedback: records.SimulationSummary | None
    flawless: records.SimulationSummary | None
    comparison: records.ComparisonFile | None
    scenario_file: Path | None
    """The scenario as run (``scenario.toml``), when the folder has it."""

    @property
    def layout(self) -> RunLayout:
        return RunLayout(self.run_dir)

    @classmethod
    def load(cls, run_dir: Path) -> RunFiles:
        """Read the run folder `run_dir`; a folder `motcua run` did not write is an `InputError`."""
        run = RunLayout(Path(run_dir))
        if not run.manifest.exists() or not run.simulate_summary.exists():
            raise InputError(f"{run.root}: not a folder written by `motcua run` (needs {MANIFEST} and "
                             f"{SIMULATE}/{SUMMARY}); list runs with `motcua results list`")
        loadtest, harness = None, None
        if run.loadtest.summary.exists():
            top = storage.read_loadtest_summary(run.loadtest.summary)
            projected = run.projected_loadtest()
            loadtest = storage.read_loadtest_summary(projected.summary)
            if top.get("capacity"):
                loadtest["capacity"] = top["capacity"]
            harness = _optional(projected.harness, storage.read_harness)
        return cls(run_dir=run.root, manifest=storage.read_manifest(run.manifest),
                   summary=_optional(run.summary, storage.read_run_summary),
                   simulate=storage.read_simulation_summary(run.simulate_summary),
                   interventions=_optional(run.interventions, storage.read_interventions),
                   demand=_optional(run.demand, storage.read_demand), loadtest=loadtest, harness=harness,
                   quality=_optional(run.quality, storage.read_quality),
                   feedback=_optional(run.feedback_summary, storage.read_simulation_summary),
                   flawless=_optional(run.flawless_summary, storage.read_simulation_summary),
                   comparison=_optional(run.comparison, storage.read_comparison),
                   scenario_file=run.scenario_copy if run.scenario_copy.exists() else None)


def _optional(path: Path, reader: Callable[[Path], T]) -> T | None:
    return reader(path) if path.exists() else None
