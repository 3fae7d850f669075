"""The closed loop of `motcua run`: scenario → models → demand → load → measurements → models → report.

*Scenario.* A planner asks "if the campaign works, can the payment path carry the peak, and if
callbacks are slow, how much adoption do we lose?". One run answers it in five steps, each a
function that takes the run directory and writes into its own sub-folder, reading what earlier
steps saved there (so any step can be inspected, and the report rebuilt, from files alone):

1. ``simulate/``  the coupled model (adoption + counters) for the scenario's replications, plus one
   run per intervention with that intervention removed, all under common random numbers;
2. ``demand/``    the busiest day's online payments per hour, by group and bank (`motcua.demand`),
   and the scenario with that day as its load profile (``scenario-load.toml``);
3. ``loadtest/``  the load test of that profile against the mocks (or the given URLs), with the
   scenario's SLOs (`motcua.loadtest.runner.run_loadtest`) and the payment invariant (`motcua.safety`);
4. ``feedback/``  the measured failure rate and callback latency replace the scenario's assumed
   `SystemQuality`; the models run again (same seeds), and once more with a flawless system, so
   the report can say what the measured quality costs in points of online share;
5. ``report.html`` and ``charts/`` (`motcua.report.html`).

Steps run one after the other, but the runs that need nothing from the load test (each intervention removed,
the flawless system) start in step 1 at low priority and are collected in step 4 (`BesideLoadTest`): the load
test mostly waits on the network, so on a 2-core machine they cost it no wall time, and their figures are the
same as if they had run in order (a replication depends on its scenario, draw and seed only).

One ``manifest.json`` at the top records inputs, seed, versions, git commit, the exact command and
every step with its timing. File names and the keys of every JSON file are those of
`motcua.run_layout` (``RunLayout(run_dir)``, the ``TypedDict`` readers), so a type checker sees a
key one step writes and another reads. A broken invariant (`InvariantBreach`, exit 4) or an SLO breach
(`SLOBreach`, exit 3) is shown in the report and raised by `PipelineResult.raise_if_breached` at the
end, after everything was written.

One module (~550 lines) on purpose: it is one concept, the closed loop, read from top to bottom as the five
steps in the order they run, each handing the next only files. What each step computes lives elsewhere (the
models, `motcua.demand`, `motcua.loadtest`, `motcua.report`); what stays here is the hand-over between them,
and splitting it would send a reader across modules to follow one run.
"""

from __future__ import annotations

import dataclasses
import importlib
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from motcua import safety
from motcua.errors import MotcuaError, SLOBreach
from motcua.run_layout import (
    DEMAND,
    FEEDBACK,
    LOADTEST,
    SIMULATE,
    AssessedIntervention,
    BankQuality,
    ComparisonFile,
    Differences,
    Estimate,
    Harness,
    InterventionsFile,
    QualityFile,
    RunHeadline,
    RunLayout,
    RunSummary,
    read_comparison,
    read_demand,
    read_harness,
    read_json,
    read_loadtest_summary,
    read_quality,
    read_run_summary,
    read_simulation_summary,
    write_csv,
    write_json,
)
from motcua.runs import start_run

if TYPE_CHECKING:  # the models load lazily, in the step that needs them
    from motcua.models.executor import ExecutorSpec
    from motcua.models.replications import PendingComparison, ReplicationSet

SCHEMA_RUN = "motcua.run/1"
QUICK_REPLICATIONS = 3
"""Replications of a ``--quick`` run (each also runs once per intervention removed and twice in feedback)."""
QUICK_DURATION_S = 60.0
"""Load-test length of a ``--quick`` run: the busiest day in one minute (compression 1,440)."""


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """The flags of ``motcua run``, with named defaults."""

    quick: bool = False
    lang: str = "vi"
    seed: int | None = None
    """Root seed; default the scenario's ``simulation.seed``."""
    replications: int | None = None
    """Default: the scenario's, or `QUICK_REPLICATIONS` with ``quick``."""
    duration_s: float | None = None
    """Load-test length; default `QUICK_DURATION_S` with ``quick``, else 86,400 s / ``load.time_compression``."""
    faults_file: Path | None = None
    gateway_url: str | None = None
    agency_url: str | None = None
    bank_url: str | None = None
    find_capacity: bool = False
    workers: int | None = None
    """Processes for replications (None: one per core; 1: serial)."""
    time_scale: float = 0.01
    """The mocks' schedule compression (bank notification delays, IPN retries)."""
    callback_deadline_s: float = 10.0
    interventions: bool = True
    """Assess each intervention by a run without it (common random numbers)."""
    progress: bool = True
    uncertainty: str = "parameters"
    """What the simulation's intervals cover: ``parameters`` (and replications) or ``replications`` only
    (`models.uncertainty`)."""


@dataclass(frozen=True)
class RunContext:
    """What every step needs: the scenario, the options, and the settled replications and seed."""

    scenario: Any
    options: RunOptions
    replications: int
    seed: int
    command: list[str] | None = None
    beside: list[BesideLoadTest] = field(default_factory=list)
    """Replications step 1 started for step 4 (at most one batch; empty when step 1 did not run here)."""

    def cancel_beside(self) -> None:
        """Drop what step 1 started and nobody collected (a run that failed in between)."""
        for batch in self.beside:
            batch.pending.cancel()


BESIDE_NICE = 5
"""Priority (`os.nice`) of the replications that run beside the load test: a load test process that wakes takes the
CPU from them at once, so its latencies are measured as without them; 5 rather than 19, so that on a machine busy
with other work they still progress (at 10 or more they starved there, and step 4 waited for them)."""


@dataclass
class BesideLoadTest:
    """The runs that need nothing from the load test, started in step 1 and collected in step 4, so they use the
    CPU the load test leaves idle while it waits on the network: one set per intervention removed, then the
    flawless system's (its unpaid notice is the scenario's, which the load test does not measure)."""

    pending: PendingComparison
    removed: int
    """How many of the sets are the scenario with one intervention removed (the last one is the flawless one)."""
    figures: dict[str, np.ndarray]
    """The baseline's per-replication figures, which the interventions are compared with."""
    first: Any
    """The baseline's replication 0 (unit ids, activities)."""
    months: list[str]


# ---------------------------------------------------------------------------------------------
# Step 1: simulate
# ---------------------------------------------------------------------------------------------
def without_intervention(scenario: Any, index: int) -> Any:
    """The scenario with intervention `index` removed (provenance entries renumbered), validated."""
    from motcua.models.coupled import keep_entries

    return keep_entries(scenario, "interventions", [k != index for k in range(len(scenario.interventions))])


def _executor(options: RunOptions) -> ExecutorSpec:
    from motcua.models.replications import ExecutorSpec

    return ExecutorSpec.from_options(workers=options.workers)


def _settings(ctx: RunContext) -> dict[str, Any]:
    from motcua.models.uncertainty import COVERS

    return {"quick": ctx.options.quick, "workers": ctx.options.workers, "dask_scheduler": None,
            "uncertainty": COVERS[ctx.options.uncertainty]}


def intervention_label(item: Any, index: int, lang: str = "vi") -> str:
    """The intervention's name in `lang` (``name``, or ``name_en`` in English when given), else its kind and number."""
    name = (item.name_en or item.name) if lang == "en" else item.name
    return name or f"{item.kind} #{index + 1}"


def step_simulate(run_dir: Path, ctx: RunContext) -> dict[str, Any]:
    """The baseline's replications (what the demand step needs); the runs compared with them later — one set per
    intervention removed, and the flawless system's — start here beside it (`BesideLoadTest`), under common
    random numbers, and step 4 collects them."""
    from motcua.models.figures import replication_figures, scenario_facts
    from motcua.models.replications import start_comparison
    from motcua.models.uncertainty import draws_for
    from motcua.simulation_outputs import summarize, write_outputs

    layout = RunLayout(Path(run_dir))
    folder = layout.step(SIMULATE)
    scenario = ctx.scenario
    removed = [without_intervention(scenario, k) for k in range(len(scenario.interventions))] \
        if ctx.options.interventions else []
    later = [*removed, flawless_scenario(scenario)]
    # Started first, at low priority: the pool soaks up the CPU the baseline's pool leaves idle, then the load test's.
    pending = start_comparison(later, ctx.replications, ctx.seed, executor=_executor(ctx.options),
                               quick=ctx.options.quick, draws=draws_for(later, ctx.options.uncertainty, ctx.seed),
                               nice=BESIDE_NICE)
    try:
        sets = start_comparison([scenario], ctx.replications, ctx.seed, executor=_executor(ctx.options),
                                quick=ctx.options.quick,
                                draws=draws_for([scenario], ctx.options.uncertainty, ctx.seed)
                                ).wait(progress=ctx.options.progress)
    except BaseException:
        pending.cancel()
        raise
    facts = scenario_facts(scenario)
    summary = summarize(sets[0], facts, settings=_settings(ctx))
    write_outputs(folder, [sets[0]], [facts], summary)
    figures = replication_figures(sets[0].results, facts)
    save_figures(layout.figures, figures)
    first = sets[0].results[0]
    np.save(layout.online_payments, np.stack([r.online_payments for r in sets[0].results]))
    ctx.beside[:] = [BesideLoadTest(pending, len(removed), figures, first,
                                    list(summary["share"]["monthly"]["labels"]))]
    return {"folder": SIMULATE, "replications": ctx.replications, "days": first.days,
            "runs": 1 + len(removed), "wall_s": round(sets[0].wall_s, 3)}


def assess_interventions(layout: RunLayout, ctx: RunContext, beside: BesideLoadTest,
                         sets: list[ReplicationSet]) -> None:
    """``simulate/interventions.json``: each intervention's paired effect (with − without it, replication i of both
    on the same seed and draws)."""
    from motcua.compare_decision import cost_per_point
    from motcua.models.figures import replication_figures, scenario_facts

    scenario, first = ctx.scenario, beside.first
    facts = scenario_facts(scenario)
    assessed: list[AssessedIntervention] = []
    for k, rset in enumerate(sets):
        item = scenario.interventions[k]
        diff = paired(("without", replication_figures(rset.results, facts)), ("with", beside.figures), first,
                      len(facts.targets), beside.months)
        gained = diff["final_share"]["all"]
        entry = {"index": k, "name": intervention_label(item, k), "name_en": intervention_label(item, k, "en"),
                 "kind": item.kind, "start": item.start.isoformat(), "end": item.end.isoformat(),
                 "units": list(item.units), "cost_vnd": int(item.cost_vnd), "points_gained": gained,
                 "points_gained_by_unit": {u: diff["final_share"][u] for u in first.unit_ids},
                 "probability_gained": diff["targets"][0]["probability_by_deadline"] if diff["targets"] else None,
                 # compare's rule: VND per point, "not distinguishable from zero" when the gain's interval holds 0
                 # (`AssessedIntervention` of motcua.run_layout still types the field `int | None`)
                 "cost_per_point_vnd": cost_per_point(int(item.cost_vnd), dict(gained))}
        assessed.append(cast(AssessedIntervention, entry))
    interventions: InterventionsFile = {
        "method": "paired difference of the final share (mean of the last 7 days, all units) between the scenario "
                  "and the scenario without the intervention, replication i of both on the same seed; cost per "
                  "point as motcua compare gives it (not when the difference's 95% interval includes zero)",
        "interventions": assessed}
    write_json(layout.interventions, interventions)


def flawless_scenario(scenario: Any) -> Any:
    """The scenario on a flawless payment system (no failures, instant callbacks), the report's reference."""
    from motcua.scenario import SystemQuality

    return scenario.with_quality(SystemQuality(failure_rate=0.0, callback_p50_s=0.0, callback_p95_s=0.0,
                                               unpaid_notice_after_s=scenario.quality.unpaid_notice_after_s),
                                 source="a flawless payment system, the reference of the report")


def paired(baseline: tuple[str, dict[str, np.ndarray]], other: tuple[str, dict[str, np.ndarray]], first: Any,
           n_targets: int, months: list[str]) -> Differences:
    """`compare_differences` (other − baseline, paired by replication) for two sets of figures of one scenario."""
    from motcua.simulation_outputs import compare_differences

    return compare_differences(baseline, other, first.unit_ids, n_targets, months, first.activities)


def save_figures(path: Path, figures: dict[str, np.ndarray]) -> Path:
    """Per-replication figures (`motcua.models.figures.replication_figures`) for later paired comparisons."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **figures)  # type: ignore[arg-type]  # numpy's stub types **kwds as its own flags
    return path


def load_figures(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


# ---------------------------------------------------------------------------------------------
# Step 2: demand
# ---------------------------------------------------------------------------------------------
def load_duration(ctx: RunContext) -> float:
    """Seconds of load test: the option, else one minute (quick), else the scenario's compressed day."""
    if ctx.options.duration_s is not None:
        return float(ctx.options.duration_s)
    if ctx.options.quick:
        return QUICK_DURATION_S
    from motcua.demand import DAY_S

    return DAY_S / float(ctx.scenario.load.time_compression)


def step_demand(run_dir: Path, ctx: RunContext) -> dict[str, Any]:
    """The busiest day's demand from ``simulate/``, and the scenario the load test replays it with."""
    import datetime as dt

    from motcua.demand import HOURLY_HEADER, hourly_rows, load_profile, peak_day_demand, write_load_scenario

    layout = RunLayout(Path(run_dir))
    summary = read_simulation_summary(layout.simulate_summary)
    start = dt.date.fromisoformat(summary["settings"]["start"])
    payments = np.load(layout.online_payments)
    demand = peak_day_demand(payments, start, ctx.scenario)
    profile = load_profile(demand, ctx.scenario, load_duration(ctx))
    demand["load_profile"] = profile
    write_json(layout.demand, demand)
    write_csv(layout.hourly, HOURLY_HEADER, hourly_rows(demand))
    write_load_scenario(ctx.scenario, profile, layout.load_scenario)
    return {"folder": DEMAND, "date": demand["date"], "platform_payments": demand["platform_payments"]["mean"],
            "rate_per_s": round(profile["rate_per_s"], 4), "compression": profile["compression"]}


# ---------------------------------------------------------------------------------------------
# Step 3: load test
# ---------------------------------------------------------------------------------------------
def step_loadtest(run_dir: Path, ctx: RunContext) -> dict[str, Any]:
    """Replay the busiest day against the mocks (or the given system); breaches are only recorded here."""
    from motcua.loadtest.runner import LoadtestOptions, run_loadtest
    from motcua.report import loadtest_charts

    o = ctx.options
    layout = RunLayout(Path(run_dir))
    profile = read_demand(layout.demand)["load_profile"]
    options = LoadtestOptions(duration_s=profile["duration_s"], faults_file=o.faults_file, gateway_url=o.gateway_url,
                              agency_url=o.agency_url, bank_url=o.bank_url, find_capacity=o.find_capacity,
                              seed=ctx.seed, time_scale=o.time_scale, callback_deadline_s=o.callback_deadline_s,
                              quiet=not o.progress, lang=o.lang)
    folder = layout.loadtest
    result = run_loadtest(layout.load_scenario, options, folder.root, command=ctx.command, charts=loadtest_charts)
    # One manifest per run: the load test's own manifest is folded into the step record.
    sub_manifest = read_json(folder.manifest)
    folder.manifest.unlink()
    projected = read_loadtest_summary(layout.projected_loadtest().summary)
    # a capacity search stops at the first step that broke, so a broken invariant is the last step's (the top)
    invariant = result.data["invariant"] if result.data["invariant"]["ok"] is False else projected["invariant"]
    slo_failed = [v["name"] for v in projected["slo"] if not v["passed"]]
    return {"folder": LOADTEST, "passed": invariant["ok"] and not slo_failed, "invariant_ok": invariant["ok"],
            "invariant": invariant, "slo_failed": slo_failed,
            "time_scale": o.time_scale, "callback_deadline_s": o.callback_deadline_s,
            "against": "urls" if o.agency_url else "mocks",
            "loadtest_manifest": {k: sub_manifest.get(k) for k in ("parameters", "inputs", "started_at",
                                                                    "finished_at")}}


# ---------------------------------------------------------------------------------------------
# Step 4: feedback
# ---------------------------------------------------------------------------------------------
PAID = "citizen paid"
FAILED_PREFIXES = ("citizen declined", "citizen failed")


def payment_failure_rate(by_outcome: dict[str, Any]) -> float | None:
    """Failed or declined journeys over those that ended paid, declined or failed."""
    failed = sum(v.get("count", 0) for k, v in by_outcome.items() if k.startswith(FAILED_PREFIXES))
    paid = by_outcome.get(PAID, {}).get("count", 0)
    return failed / (failed + paid) if failed + paid else None


def real_time_callbacks(harness: Harness, time_scale: float) -> list[dict[str, Any]]:
    """Callback samples (bank approval → IPN acknowledged) in real-time seconds: measured ms / 1000 / time scale."""
    from motcua.loadtest.callbacks import IPN_ACK, SAMPLE_HEADER

    samples = [dict(zip(SAMPLE_HEADER, row, strict=True)) for row in harness.get("callbacks", [])]
    return [{"bank": s["bank_code"], "group": s["group"], "ok": bool(s["ok"]),
             "seconds": float(s["latency_ms"]) / 1000.0 / time_scale} for s in samples if s["kind"] == IPN_ACK]


def measured_quality(run_dir: Path, ctx: RunContext) -> QualityFile:
    """The system quality the load test measured, in real-time equivalents (JSON-ready)."""
    from motcua.safety import nearest_rank

    folder = RunLayout(Path(run_dir)).projected_loadtest()
    step = read_loadtest_summary(folder.summary)
    harness = read_harness(folder.harness)
    scale = ctx.options.time_scale if not ctx.options.agency_url else 1.0
    samples = real_time_callbacks(harness, scale)
    seconds = sorted(s["seconds"] for s in samples)
    assumed = ctx.scenario.quality
    failure = payment_failure_rate(step["journeys"].get("by_outcome", {}))
    notice = assumed.unpaid_notice_after_s
    by_bank: dict[str, BankQuality] = {}
    for bank in sorted({s["bank"] for s in samples}):
        mine = sorted(s["seconds"] for s in samples if s["bank"] == bank)
        by_bank[bank] = {"count": len(mine), "lost": sum(1 for s in samples if s["bank"] == bank and not s["ok"]),
                         "p50_s": nearest_rank(mine, 50), "p95_s": nearest_rank(mine, 95),
                         "seconds": [round(x, 3) for x in mine]}
    return {
        "measured": bool(seconds) and failure is not None,
        "time_scale": scale,
        "callback_deadline_s": ctx.options.callback_deadline_s,
        "callbacks": len(seconds),
        "lost": sum(1 for s in samples if not s["ok"]),
        "failure_rate": failure,
        "callback_p50_s": nearest_rank(seconds, 50) if seconds else None,
        "callback_p95_s": nearest_rank(seconds, 95) if seconds else None,
        "unpaid_notice_after_s": notice,
        "told_unpaid_share_observed": (sum(1 for x in seconds if x > notice) / len(seconds)) if seconds else None,
        "by_bank": by_bank,
        "assumed": dataclasses.asdict(assumed),
        "assumed_told_unpaid_share": assumed.unpaid_notice_probability(),
        "method": "callback seconds = measured ms / 1000 / time_scale (lost callbacks count at the deadline); "
                  "failure rate = journeys declined or failed / (those + paid)",
    }


def step_feedback(run_dir: Path, ctx: RunContext) -> dict[str, Any]:
    """Rerun the models with the measured quality (and a flawless system), paired with the first pass."""
    from motcua.models.figures import replication_figures, scenario_facts
    from motcua.models.replications import run_comparison
    from motcua.models.uncertainty import draws_for
    from motcua.scenario import SystemQuality
    from motcua.simulation_outputs import summarize

    layout = RunLayout(Path(run_dir))
    quality = measured_quality(run_dir, ctx)
    scenario = ctx.scenario
    if quality["measured"]:
        assert quality["failure_rate"] is not None and quality["callback_p50_s"] is not None
        assert quality["callback_p95_s"] is not None
        measured_q = SystemQuality.from_measurements(
            failure_rate=quality["failure_rate"], callback_p50_ms=quality["callback_p50_s"] * 1000,
            callback_p95_ms=max(quality["callback_p95_s"], quality["callback_p50_s"]) * 1000,
            unpaid_notice_after_s=quality["unpaid_notice_after_s"])
    else:  # nothing was paid in the load test: nothing to feed back
        measured_q = scenario.quality
    quality["fed_back"] = dataclasses.asdict(measured_q)
    quality["model_told_unpaid_share"] = measured_q.unpaid_notice_probability()
    write_json(layout.quality, quality)
    measured = scenario.with_quality(measured_q)
    _write_scenario(measured, layout.measured_scenario)
    # The same parameter draws as the first pass (a draw depends on the seed, the replication and the assumption's
    # name only), so measured − assumed is paired as the report says.
    sets = run_comparison([measured], ctx.replications, ctx.seed, executor=_executor(ctx.options),
                          progress=ctx.options.progress, quick=ctx.options.quick,
                          draws=draws_for([measured], ctx.options.uncertainty, ctx.seed))
    sets.append(collect_beside(layout, ctx))
    facts = scenario_facts(scenario)
    summary = summarize(sets[0], facts, settings=_settings(ctx))
    write_json(layout.feedback_summary, summary)
    write_json(layout.flawless_summary, summarize(sets[1], facts, settings=_settings(ctx)))
    base = load_figures(layout.figures)
    fig_measured = replication_figures(sets[0].results, facts)
    fig_flawless = replication_figures(sets[1].results, facts)
    first = sets[0].results[0]
    months = list(summary["share"]["monthly"]["labels"])
    n_targets = len(facts.targets)
    comparison: ComparisonFile = {
        "measured_vs_assumed": paired(("assumed", base), ("measured", fig_measured), first, n_targets, months),
        "measured_vs_flawless": paired(("flawless", fig_flawless), ("measured", fig_measured), first, n_targets,
                                       months),
        "told_unpaid_total": {name: _total_told(fig) for name, fig in
                              (("assumed", base), ("measured", fig_measured), ("flawless", fig_flawless))},
    }
    write_json(layout.comparison, comparison)
    return {"folder": FEEDBACK, "measured": quality["measured"], "failure_rate": quality["failure_rate"],
            "callback_p95_s": quality["callback_p95_s"]}


def collect_beside(layout: RunLayout, ctx: RunContext) -> ReplicationSet:
    """The flawless system's set, from the runs step 1 started beside the load test (the interventions' sets among
    them go to ``simulate/interventions.json``); run here when step 1 started none."""
    from motcua.models.replications import run_comparison
    from motcua.models.uncertainty import draws_for

    if not ctx.beside:
        flawless = flawless_scenario(ctx.scenario)
        return run_comparison([flawless], ctx.replications, ctx.seed, executor=_executor(ctx.options),
                              progress=ctx.options.progress, quick=ctx.options.quick,
                              draws=draws_for([flawless], ctx.options.uncertainty, ctx.seed))[0]
    beside = ctx.beside.pop()
    sets = beside.pending.wait(progress=ctx.options.progress)
    assess_interventions(layout, ctx, beside, sets[:beside.removed])
    return sets[-1]


def _total_told(figures: dict[str, np.ndarray]) -> Estimate:
    from motcua.models.replications import mean_ci

    return cast(Estimate, mean_ci(figures["told_unpaid_total"].sum(axis=1)).to_json(3))


def _write_scenario(scenario: Any, path: Path) -> Path:
    import tomli_w

    data = scenario.to_dict()
    data["payment_system"]["fee_catalogue"] = str(scenario.fee_catalogue_path().resolve())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# Step 5: report, and the whole chain
# ---------------------------------------------------------------------------------------------
def step_report(run_dir: Path, ctx: RunContext) -> dict[str, Any]:
    from motcua.report.html import build_report

    # the load test drew its charts in this process, in the report's language and export settings
    path = build_report(run_dir, ctx.options.lang, loadtest_drawn=True)
    return {"folder": ".", "report": path.name}



STEPS: tuple[tuple[str, Callable[[Path, RunContext], dict[str, Any]]], ...] = (
    (SIMULATE, step_simulate),
    (DEMAND, step_demand),
    (LOADTEST, step_loadtest),
    (FEEDBACK, step_feedback),
)


@dataclass
class PipelineResult:
    """The run folder and its summary.json; `raise_if_breached` says whether the load test held."""

    run_dir: Path
    summary: RunSummary

    def raise_if_breached(self) -> None:
        error = breach_of(self.summary)
        if error is not None:
            raise error


def settle(scenario: Any, options: RunOptions) -> tuple[int, int]:
    """Replications and seed of the run, from the options and the scenario."""
    from motcua.models.replications import settle_replications

    return settle_replications(scenario, options.replications, options.seed, quick=options.quick,
                               quick_replications=QUICK_REPLICATIONS, minimum=2,
                               why=" (a run needs 2 for its confidence intervals)")


def run_pipeline(scenario_path: Path | str, options: RunOptions, *, out: Path | None = None,
                 results_root: Path | None = None, command: list[str] | None = None,
                 log: Callable[[str], None] = print) -> PipelineResult:
    """Run the whole chain into one run directory (breaches are recorded, not raised: see `PipelineResult`)."""
    from motcua.report.i18n import check_lang
    from motcua.scenario import load_scenario

    check_lang(options.lang)
    # Import the models once, here: replication workers are forked from this process, so every step of
    # the run uses the same model code even if the files change while the run goes on.
    for module in ("motcua.models.adoption", "motcua.models.counters", "motcua.models.coupled"):
        importlib.import_module(module)
    scenario = load_scenario(scenario_path)
    replications, seed = settle(scenario, options)
    ctx = RunContext(scenario, options, replications, seed, command)
    with start_run(scenario.name, seed=seed, out=out, results_root=results_root, kind="run", command=command) as run:
        run.add_input(Path(scenario.file), "scenario")
        layout = RunLayout(run.dir)
        shutil.copyfile(scenario.file, layout.scenario_copy)  # the report's assumptions, as run
        if options.faults_file:
            run.add_input(Path(options.faults_file), "faults")
        run.record(parameters={**{k: (str(v) if isinstance(v, Path) else v)
                                  for k, v in dataclasses.asdict(options).items()},
                               "replications": replications, "seed": seed}, steps=[])
        steps: list[dict[str, Any]] = []
        try:
            for name, step in (*STEPS, ("report", step_report)):
                if name == "report":
                    _write_run_summary(run.dir, ctx, steps)
                log(f"motcua run: step {name} …")
                started = time.perf_counter()
                info = step(run.dir, ctx)
                steps.append({"name": name, "seconds": round(time.perf_counter() - started, 3), **info})
                run.record(steps=steps)
                run.write_manifest()
        finally:
            ctx.cancel_beside()
        summary = read_run_summary(RunLayout(run.dir).summary)
        run.record(headline=summary["headline"], outputs=sorted(p.name for p in run.dir.iterdir()))
    return PipelineResult(run.dir, summary)


def breach_of(summary: RunSummary) -> MotcuaError | None:
    """The run's breach: `InvariantBreach` (exit 4) before `SLOBreach` (exit 3); None when the load test held."""
    broken = safety.Verdict.from_dict(summary["loadtest"]["invariant"]).breach()
    if broken is not None:
        return broken
    failed = summary["loadtest"]["slo_failed"]
    if failed:
        return SLOBreach(f"the load test at the projected peak broke the SLO gate(s) {', '.join(failed)}; "
                         "see report.html's SLO section and loadtest/summary.json")
    return None


def _write_run_summary(run_dir: Path, ctx: RunContext, steps: list[dict[str, Any]]) -> Path:
    """``summary.json`` of the run: a flat headline (for `motcua results list`) and pointers to the steps."""
    layout = RunLayout(Path(run_dir))
    sim = read_simulation_summary(layout.simulate_summary)
    demand = read_demand(layout.demand)
    load = read_loadtest_summary(layout.projected_loadtest().summary)
    quality = read_quality(layout.quality)
    comparison = read_comparison(layout.comparison)
    head = sim["headline"]
    slo_failed = [v["name"] for v in load["slo"] if not v["passed"]]
    flawless = comparison["measured_vs_flawless"]["final_share"]["all"]["mean"]
    p_target = head["probability_by_deadline"]
    headline: RunHeadline = {
        "final_share": _round(head["final_share"]["mean"]),
        "target": f"{head['target_share']:.0%} by {head['target_date']}" if head.get("target_share") else None,
        "p_target": _round(p_target["mean"] if p_target else None),
        "peak_day_payments": _round(demand["platform_payments"]["mean"], 1),
        "callback_p95_s": _round(quality["callback_p95_s"], 2),
        "told_unpaid": _round(quality["told_unpaid_share_observed"]),
        "points_vs_flawless": _round(None if flawless is None else flawless * 100, 2),
        "slo": "pass" if not slo_failed else "FAIL " + ",".join(slo_failed),
    }
    summary: RunSummary = {
        "schema": SCHEMA_RUN, "kind": "run", "scenario": sim["scenario"], "headline": headline,
        "simulation_headline": head,
        "loadtest": {"slo_failed": slo_failed, "invariant_ok": steps_info(steps, LOADTEST)["invariant_ok"],
                     "invariant": steps_info(steps, LOADTEST)["invariant"],
                     "callback_p95_ms": load["slo_measured"].get("callback_p95_ms")},
        "steps": {s["name"]: s["folder"] for s in steps},
    }
    return write_json(layout.summary, summary)


def steps_info(steps: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(s for s in steps if s["name"] == name)


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)
