"""The run folder's layout: every file name a run writes, and typed views of its JSON files.

*Scenario.* `motcua run` writes one folder per run; five steps, `motcua report`, the notebooks and
`motcua results list` read it back. They agree on file names and keys through this module only: the
names are constants here (`RunLayout` gives the paths of one folder), and each JSON file has a
`TypedDict` of the keys its readers use, so a type checker sees a renamed key before a multi-minute
test does. At run time the files stay plain dicts (``json.loads``); `read_typed` checks that the
required top-level keys are present and says which file lacks which key.

The layout (``results/README.md`` documents every key)::

    manifest.json  summary.json  scenario.toml  report.html  charts/*.png
    simulate/   summary.json  share_daily.csv  share_weekly.csv  online_payments_daily.csv
                figures.npz  online_payments.npy  interventions.json
    demand/     demand.json  hourly.csv  scenario-load.toml
    loadtest/   summary.json  harness.json  locust/  mocks/  *.png  [steps/NN-rate-R/ …]
    feedback/   quality.json  summary.json  flawless-summary.json  comparison.json  scenario-measured.toml

`RunFiles` reads a whole `motcua run` folder at once (the report and the notebooks use it). This
module sits below the pipeline and the report and imports only the standard library and
`motcua.errors`; the atomic JSON and CSV writers every run folder uses live here too.
"""

# No ``from __future__ import annotations`` here: `read_typed` needs the evaluated ``NotRequired``
# markers of the TypedDicts (``__required_keys__``), which Python 3.11 cannot see in string annotations.

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NotRequired, TypedDict, TypeVar, cast

from motcua.atomic import atomic_open
from motcua.errors import InputError

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
class LoadtestLayout:
    """The paths of one load-test folder (`motcua loadtest`, a run's ``loadtest/`` or one capacity step)."""

    root: Path
    summary = _At(SUMMARY)
    harness = _At(HARNESS)
    manifest = _At(MANIFEST)
    locust = _At(LOCUST)
    capacity_chart = _At(CAPACITY_CHART)


@dataclass(frozen=True)
class RunLayout:
    """The paths of one `motcua run` folder (nothing is read or created)."""

    root: Path
    manifest = _At(MANIFEST)
    summary = _At(SUMMARY)
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
        capacity = read_loadtest_summary(top.summary).get("capacity")
        if capacity and capacity["steps"]:
            return LoadtestLayout(top.root / capacity["steps"][0]["folder"])
        return top


def loadtest_folder(run_dir: Path) -> Path:
    """The folder of the load test at the projected peak (see `RunLayout.projected_loadtest`)."""
    return RunLayout(Path(run_dir)).projected_loadtest().root


# ---------------------------------------------------------------------------------------------
# Typed views of the JSON files (the keys their readers use; results/README.md lists them all)
# ---------------------------------------------------------------------------------------------
class Estimate(TypedDict):
    """A figure over replications: the mean and its 95% interval (``null`` where not estimable)."""

    mean: float | None
    low: float | None
    high: float | None
    n: NotRequired[int]


class Band(Estimate):
    """An estimate with the smallest and largest replication (demand)."""

    min: NotRequired[float | None]
    max: NotRequired[float | None]


class SeriesEstimate(TypedDict):
    """An estimate of a series: lists in place of numbers."""

    mean: list[float | None]
    low: list[float | None]
    high: list[float | None]
    n: NotRequired[list[int]]


class InputRecord(TypedDict):
    role: str
    path: str
    sha256: str


class StepRecord(TypedDict):
    """One step of a `motcua run` in the manifest (the step's own keys follow)."""

    name: str
    seconds: float
    folder: str


class Manifest(TypedDict):
    """``manifest.json`` of every run folder (`motcua.runs.start_run`)."""

    run_id: str
    kind: str
    scenario: str
    seed: int | None
    started_at: str
    command: list[str]
    command_line: str
    cwd: str
    git_commit: str | None
    versions: dict[str, str | None]
    platform: dict[str, Any]
    inputs: list[InputRecord]
    finished_at: NotRequired[str]
    status: NotRequired[str]
    parameters: NotRequired[dict[str, Any]]
    steps: NotRequired[list[StepRecord]]
    outputs: NotRequired[list[str]]
    headline: NotRequired[dict[str, Any]]


class ScenarioInfo(TypedDict):
    """Who the summary is about; ``title_en`` is the English title when the scenario gives one."""

    name: str
    title: str
    region: str
    title_en: NotRequired[str]


class UnitInfo(TypedDict):
    id: str
    name: str
    fee_dossiers_per_year: float
    observed_share: float | None
    name_en: NotRequired[str]


class SimulationSettings(TypedDict):
    replications: int
    seed: int
    start: str
    end: str
    horizon_days: int
    quick: NotRequired[bool]
    workers: NotRequired[int | None]
    executor: NotRequired[str]
    confidence: NotRequired[float]


class SimulationHeadline(TypedDict):
    """The figures a planner reads first: the first target within the horizon, all units."""

    final_share: Estimate
    target_share: float | None
    target_date: str | None
    probability_by_deadline: Estimate | None
    reached_date_mean: str | None
    reached_date_p10: str | None
    reached_date_p90: str | None
    hours_freed_per_open_day: Estimate


class ReachSummary(TypedDict):
    """When a target is reached: probability by its deadline, mean date and 80% band."""

    probability_by_deadline: Estimate
    reached_within_horizon: float
    date_mean: str | None
    date_p10: str | None
    date_p90: str | None


class TargetSummary(TypedDict):
    share: float
    date: str
    units: list[str]
    deadline_within_horizon: bool
    all_units: ReachSummary
    per_unit: dict[str, ReachSummary]


class SeriesTable(TypedDict):
    labels: list[str]
    series: dict[str, SeriesEstimate]


class ShareSummary(TypedDict):
    series: list[str]
    """``all`` and every unit id."""
    final: dict[str, Estimate]
    monthly: SeriesTable
    weekly: SeriesTable


class Period(TypedDict):
    start: str
    end: str
    open_days: float | None


class CounterWaits(TypedDict):
    periods: dict[str, Period]
    """``before`` and ``after``."""
    units: dict[str, dict[str, dict[str, Estimate]]]
    """unit id → period → statistic (``p50``, ``p90``, ``mean``) → minutes."""


class OfficerHours(TypedDict):
    activities: list[str]
    total: dict[str, dict[str, Estimate]]
    per_open_day: dict[str, dict[str, dict[str, Estimate]]]
    """unit id → period → activity → hours."""
    freed_per_open_day: dict[str, Estimate]
    cash_freed_per_open_day: dict[str, Estimate] | None


class SimulationSummary(TypedDict):
    """``summary.json`` of `motcua simulate` (and ``simulate/``, ``feedback/`` of a run)."""

    schema: str
    kind: str
    scenario: ScenarioInfo
    settings: SimulationSettings
    units: list[UnitInfo]
    headline: SimulationHeadline
    targets: list[TargetSummary]
    share: ShareSummary
    counter_waits: CounterWaits
    officer_hours: OfficerHours
    counter_visits_per_open_day: NotRequired[dict[str, dict[str, Estimate]]]
    guided: NotRequired[dict[str, Estimate]]
    told_unpaid: NotRequired[dict[str, Estimate]]
    online_payments: NotRequired[dict[str, Any]]
    runtime: NotRequired[dict[str, float | None]]


class Differences(TypedDict):
    """Paired differences other − baseline (`motcua.simulation_outputs.compare_differences`)."""

    scenario: str
    baseline: str
    final_share: dict[str, Estimate]
    targets: list[dict[str, Estimate]]
    busy_officer_hours: dict[str, Estimate]
    share_monthly: NotRequired[SeriesTable]
    hours_freed_per_open_day: NotRequired[dict[str, Estimate]]
    told_unpaid: NotRequired[dict[str, Estimate]]


class ComparisonSummary(TypedDict):
    """``summary.json`` of `motcua compare`: each scenario's summary and the paired differences."""

    schema: str
    kind: str
    scenarios: list[ScenarioInfo]
    baseline: str
    settings: SimulationSettings
    headline: dict[str, SimulationHeadline]
    summaries: list[SimulationSummary]
    differences: list[Differences]


class AssessedIntervention(TypedDict):
    """One intervention, assessed by a paired run without it."""

    index: int
    name: str
    kind: str
    start: str
    end: str
    units: list[str]
    cost_vnd: int
    points_gained: Estimate
    points_gained_by_unit: dict[str, Estimate]
    probability_gained: Estimate | None
    cost_per_point_vnd: int | None
    name_en: NotRequired[str]


class InterventionsFile(TypedDict):
    """``simulate/interventions.json``."""

    method: str
    interventions: list[AssessedIntervention]


class HourlyDemand(TypedDict):
    shape: list[float]
    shape_source: str
    peak_hour: int
    total: SeriesEstimate
    by_group: dict[str, SeriesEstimate]
    by_bank: dict[str, SeriesEstimate]


class LoadProfile(TypedDict):
    """The derived arrival profile of the busiest day (`motcua.demand.load_profile`)."""

    name: str
    kind: str
    duration_s: float
    compression: float
    completion: float
    rate_per_s: float
    peak_rate_per_s: float
    expected_journeys: float
    hourly: list[float]
    payments: NotRequired[float]
    formula: NotRequired[str]


class DemandFile(TypedDict):
    """``demand/demand.json``: the busiest day's payments."""

    date: str
    day_index: int
    fee_payments: Band
    platform_payments: Band
    by_group: dict[str, Band]
    by_bank: dict[str, Band]
    hourly: HourlyDemand
    load_profile: LoadProfile
    replications: NotRequired[int]
    daily_mean: NotRequired[list[float]]
    method: NotRequired[dict[str, str]]


class SloVerdict(TypedDict):
    name: str
    limit: float
    measured: float | None
    unit: str
    passed: bool
    description: NotRequired[str]


class CapacityStep(TypedDict):
    rate_per_s: float
    held: bool
    folder: str
    slo: list[SloVerdict]
    invariant_ok: bool | None


class Capacity(TypedDict):
    steps: list[CapacityStep]
    knee_rate_per_s: float | None
    factor: NotRequired[float]
    broke: NotRequired[bool]


class LoadtestSummary(TypedDict):
    """``summary.json`` of a load test (`motcua.loadtest.runner`); the keys the run and the report read."""

    slo: list[SloVerdict]
    slo_measured: dict[str, float | None]
    invariant: dict[str, Any]
    """``ok`` (bool or null), ``paid_by_reconciliation`` … (see results/README.md)."""
    callbacks: dict[str, dict[str, Any]]
    """``ipn_ack`` and ``officer_sees_paid``: ``count, p50, p95, p99, failures, by_bank, by_group`` …"""
    arrivals: dict[str, Any]
    throughput: dict[str, Any]
    lost_callbacks: int
    journeys: dict[str, Any]
    profile: NotRequired[dict[str, Any]]
    capacity: NotRequired[Capacity]


class Harness(TypedDict):
    """``harness.json``: a load test's raw samples (rows as lists, headers in `motcua.loadtest`)."""

    callbacks: list[list[Any]]
    journeys: NotRequired[list[list[Any]]]
    arrivals: NotRequired[list[list[Any]]]


class BankQuality(TypedDict):
    count: int
    lost: int
    p50_s: float | None
    p95_s: float | None
    seconds: list[float]


class QualityFile(TypedDict):
    """``feedback/quality.json``: the system quality the load test measured, in real-time equivalents."""

    measured: bool
    time_scale: float
    callback_deadline_s: float
    callbacks: int
    lost: int
    failure_rate: float | None
    callback_p50_s: float | None
    callback_p95_s: float | None
    unpaid_notice_after_s: float
    told_unpaid_share_observed: float | None
    by_bank: dict[str, BankQuality]
    assumed: dict[str, float]
    assumed_told_unpaid_share: float
    method: str
    fed_back: NotRequired[dict[str, float]]
    model_told_unpaid_share: NotRequired[float]


class ComparisonFile(TypedDict):
    """``feedback/comparison.json``."""

    measured_vs_assumed: Differences
    measured_vs_flawless: Differences
    told_unpaid_total: dict[str, Estimate]
    """``assumed``, ``measured``, ``flawless``."""


class RunHeadline(TypedDict):
    """The flat headline `motcua results list` shows."""

    final_share: float | None
    target: str | None
    p_target: float | None
    peak_day_payments: float | None
    callback_p95_s: float | None
    told_unpaid: float | None
    points_vs_flawless: float | None
    slo: str


class RunLoadtest(TypedDict):
    slo_failed: list[str]
    invariant_ok: bool
    invariant: dict[str, Any]
    """The load test's verdict of the payment invariant (`motcua.safety.Verdict.to_dict`)."""
    callback_p95_ms: float | None


class RunSummary(TypedDict):
    """``summary.json`` at the top of a `motcua run` folder (schema ``motcua.run/1``)."""

    schema: str
    kind: str
    scenario: ScenarioInfo
    headline: RunHeadline
    simulation_headline: SimulationHeadline
    loadtest: RunLoadtest
    steps: dict[str, str]


# ---------------------------------------------------------------------------------------------
# Reading and writing
# ---------------------------------------------------------------------------------------------
T = TypeVar("T")


def read_json(path: Path) -> Any:
    """The JSON value of `path`; a missing or broken file is an `InputError` naming it."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def read_typed(path: Path, kind: type[T]) -> T:
    """`path` read as the `TypedDict` `kind`, after checking that its required top-level keys are there."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object ({kind.__name__}), found {type(data).__name__}")
    required: frozenset[str] = getattr(kind, "__required_keys__", frozenset())
    missing = sorted(required - data.keys())
    if missing:
        raise InputError(f"{path}: missing key(s) {', '.join(missing)} of {kind.__name__}; the file was written "
                         "by another version of motcua or edited — rerun the command in its manifest.json")
    return cast(T, data)


def read_manifest(path: Path) -> Manifest:
    return read_typed(path, Manifest)


def read_simulation_summary(path: Path) -> SimulationSummary:
    return read_typed(path, SimulationSummary)


def read_run_summary(path: Path) -> RunSummary:
    return read_typed(path, RunSummary)


def read_interventions(path: Path) -> InterventionsFile:
    return read_typed(path, InterventionsFile)


def read_demand(path: Path) -> DemandFile:
    return read_typed(path, DemandFile)


def read_loadtest_summary(path: Path) -> LoadtestSummary:
    return read_typed(path, LoadtestSummary)


def read_harness(path: Path) -> Harness:
    return read_typed(path, Harness)


def read_quality(path: Path) -> QualityFile:
    return read_typed(path, QualityFile)


def read_comparison(path: Path) -> ComparisonFile:
    return read_typed(path, ComparisonFile)


def write_json(path: Path, obj: Any) -> Path:
    """Write JSON atomically (temporary file, then rename): a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False, default=_json_default) + "\n"
    with atomic_open(path) as fh:
        fh.write(text)
    return path


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """Write a CSV file atomically, with a header row."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_text(path: Path, text: str) -> Path:
    """Write a text file (UTF-8) atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path) as fh:
        fh.write(text)
    return path


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, dt.date | dt.datetime):
        return obj.isoformat()
    if hasattr(obj, "tolist"):  # NumPy scalars and arrays
        return obj.tolist()
    raise TypeError(f"cannot write {type(obj).__name__} to JSON: {obj!r}")


# ---------------------------------------------------------------------------------------------
# Names in the report's language
# ---------------------------------------------------------------------------------------------
def localized(entry: Mapping[str, Any], key: str, lang: str) -> str:
    """`entry[key]` in `lang`: ``<key>_<lang>`` when the entry has it, else ``<key>`` (written in Vietnamese).

    Scenario titles, unit and intervention names are Vietnamese in ``title``/``name``, with an
    optional English ``title_en``/``name_en``; an entry without it shows its one name in both.
    """
    value = entry.get(f"{key}_{lang}") or entry.get(key)
    return "" if value is None else str(value)


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
    manifest: Manifest
    summary: RunSummary | None
    simulate: SimulationSummary
    interventions: InterventionsFile | None
    demand: DemandFile | None
    loadtest: LoadtestSummary | None
    harness: Harness | None
    quality: QualityFile | None
    feedback: SimulationSummary | None
    flawless: SimulationSummary | None
    comparison: ComparisonFile | None
    scenario_file: Path | None
    """The scenario as run (``scenario.toml``), when the folder has it."""

    @property
    def layout(self) -> RunLayout:
        return RunLayout(self.run_dir)

    @classmethod
    def load(cls, run_dir: Path) -> "RunFiles":
        """Read the run folder `run_dir`; a folder `motcua run` did not write is an `InputError`."""
        run = RunLayout(Path(run_dir))
        if not run.manifest.exists() or not run.simulate_summary.exists():
            raise InputError(f"{run.root}: not a folder written by `motcua run` (needs {MANIFEST} and "
                             f"{SIMULATE}/{SUMMARY}); list runs with `motcua results list`")
        loadtest, harness = None, None
        if run.loadtest.summary.exists():
            top = read_loadtest_summary(run.loadtest.summary)
            projected = run.projected_loadtest()
            loadtest = read_loadtest_summary(projected.summary)
            if top.get("capacity"):
                loadtest["capacity"] = top["capacity"]
            harness = _optional(projected.harness, read_harness)
        return cls(run_dir=run.root, manifest=read_manifest(run.manifest),
                   summary=_optional(run.summary, read_run_summary),
                   simulate=read_simulation_summary(run.simulate_summary),
                   interventions=_optional(run.interventions, read_interventions),
                   demand=_optional(run.demand, read_demand), loadtest=loadtest, harness=harness,
                   quality=_optional(run.quality, read_quality),
                   feedback=_optional(run.feedback_summary, read_simulation_summary),
                   flawless=_optional(run.flawless_summary, read_simulation_summary),
                   comparison=_optional(run.comparison, read_comparison),
                   scenario_file=run.scenario_copy if run.scenario_copy.exists() else None)


def _optional(path: Path, reader: Callable[[Path], T]) -> T | None:
    return reader(path) if path.exists() else None
