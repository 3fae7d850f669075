"""`motcua simulate` and `motcua compare`: planners' simulations of adoption and counters, with uncertainty.

``motcua simulate SCENARIO`` runs the coupled model (adoption and every unit's one-stop-shop
counters) for the scenario's replications and writes ``results/<scenario>/<run-id>/``:
``summary.json``, ``share_daily.csv``, ``share_weekly.csv``, ``online_payments_daily.csv``, PNG charts
and ``manifest.json``.
``motcua compare A.toml B.toml …`` runs the scenarios under common random numbers and also
reports the differences from the first one (``results/compare-<names>/<run-id>/``).
``results/README.md`` documents every file and key.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motcua.errors import InputError
from motcua.report.export import add_chart_options, chart_flags, with_chart_export
from motcua.run_layout import ComparisonSummary, Estimate, SimulationHeadline, SimulationSummary

if TYPE_CHECKING:  # the models load lazily: `motcua --help` stays fast
    from motcua.models.executor import ExecutorSpec

QUICK_REPLICATIONS = 6
"""Replications of a ``--quick`` run unless ``--replications`` says otherwise."""


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--replications", type=int, default=None, metavar="N",
                        help="independent replications (default: the scenario's simulation.replications; "
                             f"{QUICK_REPLICATIONS} with --quick)")
    parser.add_argument("--seed", type=int, default=None, metavar="S",
                        help="root seed (default: the scenario's simulation.seed); same seed, same results")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="write the run into DIR (empty or absent) instead of results/<scenario>/<run-id>/")
    parser.add_argument("--results-root", type=Path, default=None, metavar="DIR",
                        help="folder that holds results/<scenario>/… (default: the project's results/)")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="local worker processes (default: one per CPU core; 1 runs serially)")
    parser.add_argument("--dask-scheduler", default=None, metavar="ADDR",
                        help="run replications on a Dask distributed cluster, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--quick", action="store_true",
                        help="short horizon and fewer replications, for demos and tests")
    parser.add_argument("--lang", default="vi", choices=("vi", "en"), help="language of chart labels (default vi)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_chart_options(parser)  # --dpi, --format (motcua.report.export)
    parser.add_argument("--uncertainty", default="parameters", choices=("parameters", "replications"),
                        help="what the intervals cover: parameters and replications (default: replication i draws "
                             "the assumed numbers from their [sensitivity] ranges, fitted ones from calibrate's "
                             "band, the same draw for every plan), or replications only (parameters held; for "
                             "engineers comparing model variants)")


def register(subparsers: argparse._SubParsersAction) -> None:
    sim = subparsers.add_parser(
        "simulate", help="simulate adoption and counter queues of a scenario, with confidence intervals",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sim.add_argument("scenario", metavar="SCENARIO", help="scenario file, or the name of a bundled scenario")
    _common_options(sim)
    sim.set_defaults(func=with_chart_export(run_simulate))

    cmp = subparsers.add_parser(
        "compare", help="compare scenarios under common random numbers (differences with confidence intervals)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cmp.add_argument("scenarios", metavar="SCENARIO", nargs="+",
                     help="two or more scenario files or bundled names; the first is the baseline")
    cmp.add_argument("--no-contributions", dest="contributions", action="store_false",
                     help="skip each added intervention's contribution (alone, left out, Shapley share), "
                          "which runs every subset of the interventions a plan adds with a few replications")
    _common_options(cmp)
    cmp.set_defaults(func=with_chart_export(run_compare))


# ---------------------------------------------------------------------------------------------
def _settings(args: argparse.Namespace, scenario: Any) -> tuple[int, int, dict[str, Any]]:
    from motcua.models.replications import settle_replications

    replications, seed = settle_replications(scenario, args.replications, args.seed, quick=args.quick,
                                             quick_replications=QUICK_REPLICATIONS)
    from motcua.models.uncertainty import COVERS

    settings = {"quick": bool(args.quick), "workers": args.workers or os.cpu_count(),
                "dask_scheduler": args.dask_scheduler, "uncertainty": COVERS[args.uncertainty]}
    return replications, seed, settings


def _load(path: str, quick: bool) -> Any:
    """The scenario, already shortened when ``--quick`` (so the summary's targets are those simulated)."""
    from motcua.models.coupled import quick_scenario
    from motcua.scenario import load_scenario

    scenario = load_scenario(path)
    return quick_scenario(scenario) if quick else scenario


def _executor(args: argparse.Namespace) -> ExecutorSpec:
    from motcua.models.replications import ExecutorSpec

    return ExecutorSpec.from_options(workers=args.workers, dask_scheduler=args.dask_scheduler)


def _progress(args: argparse.Namespace) -> bool:
    return not args.quiet


def reproduce_command(args: argparse.Namespace, inputs: list[str], replications: int, seed: int) -> list[str]:
    """The command that reproduces this run, with the effective replications and seed written out
    (the one that ran may have been `motcua demo` or a notebook calling `motcua.cli.main`)."""
    command = ["motcua", args.command, *inputs, "--replications", str(replications), "--seed", str(seed)]
    if args.quick:
        command.append("--quick")
    if args.workers is not None:
        command += ["--workers", str(args.workers)]
    if args.dask_scheduler:
        command += ["--dask-scheduler", args.dask_scheduler]
    if args.out is not None:
        command += ["--out", str(args.out)]
    if args.results_root is not None:
        command += ["--results-root", str(args.results_root)]
    if getattr(args, "contributions", True) is False:
        command.append("--no-contributions")
    return [*command, "--lang", args.lang, "--uncertainty", args.uncertainty, *chart_flags(args)]


def run_simulate(args: argparse.Namespace) -> int:
    from motcua.models.figures import scenario_facts
    from motcua.models.replications import run_replications
    from motcua.models.uncertainty import draws_for
    from motcua.report.simulation_charts import labels, simulation_charts
    from motcua.runs import start_run
    from motcua.simulation_outputs import summarize, write_outputs

    labels(args.lang)
    scenario = _load(args.scenario, args.quick)
    replications, seed, settings = _settings(args, scenario)
    executor = _executor(args)
    facts = scenario_facts(scenario)
    command = reproduce_command(args, [args.scenario], replications, seed)
    with start_run(scenario.name, command=command, seed=seed, out=args.out, results_root=args.results_root,
                   kind="simulate") as run:
        run.add_input(Path(scenario.file), "scenario")
        rset = run_replications(scenario, replications, seed, executor=executor, progress=_progress(args),
                                draws=draws_for([scenario], args.uncertainty, seed)[0])
        summary = summarize(rset, facts, settings=settings)
        files = write_outputs(run.dir, [rset], [facts], summary)
        files += simulation_charts(summary, run.dir, args.lang)
        run.record(parameters={"replications": replications, **settings, "lang": args.lang,
                               "executor": rset.executor},
                   outputs=sorted(p.name for p in files), headline=summary["headline"])
    print(describe_simulation(summary))
    print(f"Results: {run.dir}")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from motcua.models.figures import scenario_facts
    from motcua.models.replications import run_comparison
    from motcua.models.uncertainty import draws_for
    from motcua.report.comparison import write_comparison_report
    from motcua.report.simulation_charts import comparison_charts, labels
    from motcua.runs import start_run
    from motcua.simulation_outputs import summarize_comparison, write_outputs

    labels(args.lang)
    if len(args.scenarios) < 2:
        raise InputError(f"compare: got {len(args.scenarios)} scenario ({args.scenarios[0]}); give two or more, "
                         "e.g. motcua compare scenarios/a.toml scenarios/b.toml")
    scenarios = [_load(s, args.quick) for s in args.scenarios]
    names = [s.name for s in scenarios]
    if len(set(names)) < len(names):
        raise InputError(f"compare: scenario names repeat ({', '.join(names)}); each scenario needs its own "
                         "[scenario] name")
    replications, seed, settings = _settings(args, scenarios[0])
    executor = _executor(args)
    facts = [scenario_facts(s) for s in scenarios]
    folder = "compare-" + "-vs-".join(names)
    command = reproduce_command(args, list(args.scenarios), replications, seed)
    with start_run(folder, command=command, seed=seed, out=args.out, results_root=args.results_root,
                   kind="compare") as run:
        for s in scenarios:
            run.add_input(Path(s.file), f"scenario {s.name}")
        sets = run_comparison(scenarios, replications, seed, executor=executor, progress=_progress(args),
                              draws=draws_for(scenarios, args.uncertainty, seed))
        comparison = summarize_comparison(sets, facts, settings=settings)
        if args.contributions:
            for diff, plan in zip(comparison["differences"], scenarios[1:], strict=True):
                diff["contributions"] = _contributions(scenarios[0], plan, replications, seed, executor,
                                                       args.uncertainty)
        files = write_outputs(run.dir, sets, facts, comparison)
        files += comparison_charts(comparison, run.dir, args.lang)
        files.append(write_comparison_report(comparison, run.dir, args.lang))
        run.record(parameters={"replications": replications, **settings, "lang": args.lang,
                               "executor": sets[0].executor, "scenarios": names},
                   outputs=sorted(p.name for p in files), headline=comparison["headline"])
    print(describe_comparison(comparison))
    print(f"Results: {run.dir}")
    return 0


def _contributions(baseline: Any, plan: Any, replications: int, seed: int, executor: ExecutorSpec,
                   uncertainty: str) -> dict[str, Any]:
    """Contributions of the interventions `plan` adds, from a few replications of each subset (same seed and
    parameter draws: CRN)."""
    from motcua.compare_decision import CONTRIBUTION_REPLICATIONS, contributions
    from motcua.models.figures import replication_figures, scenario_facts
    from motcua.models.replications import run_comparison
    from motcua.models.uncertainty import draws_for

    def run(scenarios: list[Any]) -> list[Any]:
        sets = run_comparison(scenarios, min(replications, CONTRIBUTION_REPLICATIONS), seed, executor=executor,
                              progress=False, draws=draws_for(scenarios, uncertainty, seed))
        return [replication_figures(s.results, scenario_facts(s.scenario))["share_final"][:, 0] for s in sets]

    return contributions(baseline, plan, run)


# ---------------------------------------------------------------------------------------------
# The human summary printed at the end
# ---------------------------------------------------------------------------------------------
def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _band(est: Estimate, fmt: Callable[[Any], str] = _pct, covers: str = "") -> str:
    if est["low"] is None:
        return fmt(est["mean"])
    return f"{fmt(est['mean'])} (95% CI{', ' + covers if covers else ''} {fmt(est['low'])}–{fmt(est['high'])})"


def describe_headline(head: SimulationHeadline) -> list[str]:
    """Plain sentences of a scenario's headline figures."""
    covers = head.get("interval", "replications only")
    lines = [f"Share of fee-bearing dossiers paid online at the end of the horizon: "
             f"{_band(head['final_share'], covers=covers)}."]
    if head.get("target_share") is not None:
        target = f"Target {_pct(head['target_share'])} by {head['target_date']}"
        p = head["probability_by_deadline"]
        if p is None:
            raise ValueError(f"headline: target {head['target_share']} by {head['target_date']} has no "
                             "probability_by_deadline; summarize() gives one to every target within the horizon")
        end = head.get("horizon_end")
        horizon = f"the horizon (to {end})" if end else "the horizon"
        if head["reached_date_mean"] is None:
            lines.append(f"{target}: not reached within {horizon} in any replication "
                         f"(probability by the deadline {_band(p)}).")
        else:
            late = head["reached_date_p90"] or f"not within {horizon}"
            if p["mean"] is None:
                raise ValueError(f"headline: target {head['target_share']} was reached in some replication, "
                                 "yet its probability_by_deadline has no mean")
            verdict = "likely reached" if p["mean"] >= 0.5 else "likely missed"
            median = head.get("reached_date_p50") or f"not within {horizon}"
            lines.append(f"{target}: {verdict}; probability of reaching it by the deadline {_band(p)}; "
                         f"date reached {median} (median; 80% of replications ({covers}) between "
                         f"{head['reached_date_p10']} and {late}).")
    freed = head.get("hours_freed_per_open_day")
    if freed and freed["mean"] is not None:
        lines.append("Busy officer-hours per open day freed between the 'before' and 'after' windows: "
                     f"{_band(freed, lambda v: 'n/a' if v is None else f'{v:.1f}')}.")
    return lines


def describe_start(summary: SimulationSummary) -> list[str]:
    """The one start figure: simulated on the first day and observed, both all units weighted by fee-bearing
    dossiers per year, and the province's own observed figure with its source."""
    start = summary.get("start_share")
    if not start:
        return []
    sim, obs, prov = start["simulated"]["all"], start["observed"]["all"], start["province_observed"]
    text = (f"Share paid online on {start['date']} (all units, weighted by fee-bearing dossiers per year): "
            f"simulated {_pct(sim['mean'])}; observed {_pct(obs)} (the units' observed shares, same weighting)")
    if prov.get("share") is not None:
        text += (f"; the province's own observed figure {_pct(prov['share'])} "
                 f"({prov.get('from') or '?'} – {prov.get('to') or '?'}, source {prov.get('source') or 'not given'})")
    return [text + "."]


def describe_simulation(summary: SimulationSummary) -> str:
    s = summary["settings"]
    head = f"{summary['scenario']['name']}: {s['replications']} replication(s), seed {s['seed']}, {s['start']} – " \
           f"{s['end']}{' (quick)' if s.get('quick') else ''}, {summary['runtime']['wall_s']:.1f} s on {s['executor']}."
    return "\n".join([head, *describe_start(summary), *describe_headline(summary["headline"])])


def describe_comparison(comparison: ComparisonSummary) -> str:
    lines = [f"Compared {len(comparison['scenarios'])} scenarios under common random numbers "
             f"({comparison['settings']['replications']} replications, seed {comparison['settings']['seed']}; "
             f"95% intervals cover {comparison['settings'].get('uncertainty', 'replications only')})."]
    for name, head in comparison["headline"].items():
        lines.append(f"— {name}:")
        lines += ["  " + line for line in describe_headline(head)]
    from motcua.compare_decision import describe_decision

    for diff in comparison["differences"]:
        if "decision" in diff:
            lines += describe_decision(dict(diff))
        busy = diff["busy_officer_hours"]["all"]
        lines.append(f"  busy officer-hours over the horizon {_band(busy, _hours)}.")
    return "\n".join(lines)


def _hours(value: Any) -> str:
    return "n/a" if value is None else f"{value:+,.0f} h"

