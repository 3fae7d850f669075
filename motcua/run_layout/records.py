"""The records of a run folder: one `TypedDict` per JSON file, with the keys its readers use.

*Scenario.* The report reads ``simulate/summary.json`` for the final share and the officer-hours freed; the
notebooks read ``demand/demand.json`` for the busiest day. Each file's keys are declared here once, so a
type checker sees a renamed key before a multi-minute test does (``results/README.md`` documents every key).
At run time the files stay plain dicts; `motcua.run_layout.storage.read_typed` checks the required keys.
"""

# No ``from __future__ import annotations`` here: `read_typed` needs the evaluated ``NotRequired``
# markers of the TypedDicts (``__required_keys__``), which Python 3.11 cannot see in string annotations.

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict


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
    uncertainty: NotRequired[str]
    """What the intervals cover: ``parameters and replications`` or ``replications only``."""


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
    reached_date_p50: NotRequired[str | None]
    reached_within_horizon: NotRequired[float | None]
    """Share of replications that reached the target by the horizon's end."""
    horizon_end: NotRequired[str]
    """Last simulated day: "not reached" means not by this day."""
    interval: NotRequired[str]
    """What the intervals cover: ``replications only`` or ``parameters and replications``."""


class ReachSummary(TypedDict):
    """When a target is reached: probability by its deadline, mean date and 80% band."""

    probability_by_deadline: Estimate
    reached_within_horizon: float
    date_mean: str | None
    date_p10: str | None
    date_p90: str | None
    date_p50: NotRequired[str | None]
    horizon_end: NotRequired[str]


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
    start_share: NotRequired[dict[str, Any]]
    """The simulated share on the first day beside the observed one (see `simulation_outputs.start_share`)."""


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
    decision: NotRequired[dict[str, Any]]
    """Final share (points), date reached (days), probability, added cost and cost per point
    (`motcua.compare_decision.decision`)."""
    contributions: NotRequired[dict[str, Any]]
    """Each added intervention alone, left out, Shapley share (`motcua.compare_decision.contributions`)."""


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


def localized(entry: Mapping[str, Any], key: str, lang: str) -> str:
    """`entry[key]` in `lang`: ``<key>_<lang>`` when the entry has it, else ``<key>`` (written in Vietnamese).

    Scenario titles, unit and intervention names are Vietnamese in ``title``/``name``, with an
    optional English ``title_en``/``name_en``; an entry without it shows its one name in both.
    """
    value = entry.get(f"{key}_{lang}") or entry.get(key)
    return "" if value is None else str(value)
