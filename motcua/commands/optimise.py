"""`motcua optimise SCENARIO [--quick]`: the least-cost plan that reaches a target by its deadline with
probability ≥ p (or, ``--objective earliest-date --budget VND``, the plan within the budget that reaches the
target earliest with probability ≥ p), with a guarantee on fresh random streams and the baselines it beats.

Searches the levers, units, start dates and intensities the scenario's [optimise] table allows (Optuna TPE,
constrained), spends extra replications on the few cheapest plans that might qualify (OCBA-style), re-runs the
chosen plan on streams the search never saw (one-sided 95% Clopper–Pearson lower bound), and runs three
baselines in the same run: a random search at the same number of simulations, the scenario's own plan, and the
chosen budget spread evenly. Writes summary.json, plan.toml — a NEW scenario that `motcua simulate` and
`motcua compare` accept — and report.html (the plan, the cost–probability front, the search, the guarantee;
``--lang en`` for English) into a run directory. Ctrl-C leaves nothing half-written.

Exit codes: 0 a plan meets the probability in the search (the guarantee may still fall short: the output
says), 2 bad input (the message names the file, field and value) and also no feasible plan found (the output
gives the best probability found).

Examples:
  motcua optimise lang-son-2024 --quick
  motcua optimise lang-son-2024 --quick --objective earliest-date --budget 400000000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from motcua.run_layout import SUMMARY

EXIT_INFEASIBLE = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("optimise", help="least-cost plan reaching a target with a stated probability",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", type=Path, help="scenario TOML file (or a bundled name) with an [optimise] table")
    parser.add_argument("--quick", action="store_true", help="small budget: 8 plans × 4 replications, 16 extra "
                        "for selection, 20 fresh replications per plan checked")
    parser.add_argument("--probability", type=float, metavar="P", help="required P(target by deadline) "
                        "(default: optimise.probability, 0.8)")
    parser.add_argument("--objective", choices=("least-cost", "earliest-date"),
                        help="least-cost: cheapest plan with P(target by deadline) >= P; earliest-date: earliest "
                             "date reached with probability >= P within the budget (default: optimise.objective)")
    parser.add_argument("--budget", type=int, metavar="VND", help="total budget of the plan (optimise.budget_vnd; "
                        "needed by earliest-date)")
    parser.add_argument("--target", type=int, metavar="K", help="index of the target in [[targets]] (default: "
                        "optimise.target)")
    parser.add_argument("--candidates", type=int, metavar="N", help="plans the search simulates")
    parser.add_argument("--replications", type=int, metavar="R", help="replications per plan in the search")
    parser.add_argument("--fresh", type=int, metavar="N", help="fresh-stream replications for the guarantee")
    parser.add_argument("--uncertainty", default="parameters", choices=("parameters", "replications"),
                        help="what the probability and its guarantee cover, as in simulate/compare: parameters and "
                             "replications (default: replication i draws the assumed and fitted numbers, the same "
                             "draw for every plan, other draws on the fresh streams), or replications only")
    parser.add_argument("--seed", type=int, help="seed (default: the scenario's simulation.seed)")
    parser.add_argument("--workers", type=int, metavar="N", help="local worker processes (default one per core)")
    parser.add_argument("--dask-scheduler", metavar="ADDR", help="run the replications on a Dask cluster")
    parser.add_argument("--lang", default="vi", choices=("vi", "en"),
                        help="language of report.html and its chart (default vi)")
    parser.add_argument("--out", type=Path, help="run directory (default results/<scenario>/<run-id>/)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import time

    from motcua.errors import InputError
    from motcua.models.calibration import write_scenario
    from motcua.models.optimise import Budget, optimise
    from motcua.models.replications import ExecutorSpec
    from motcua.report.optimisation import write_optimise_report
    from motcua.runs import check_out_folder, start_run, write_json
    from motcua.scenario import load_scenario

    started = time.perf_counter()
    scenario = _with_objective(load_scenario(args.scenario), args.objective, args.budget)
    check_out_folder(args.out)
    budget = Budget.quick() if args.quick else Budget()
    for option, field in (("candidates", "candidates"), ("replications", "reps"), ("fresh", "fresh")):
        value = getattr(args, option)
        if value is not None:
            if value < 1:
                raise InputError(f"--{option} {value}: must be at least 1")
            budget = dataclasses.replace(budget, **{field: value})
    if args.probability is not None and not 0 < args.probability < 1:
        raise InputError(f"--probability {args.probability}: must be between 0 and 1, e.g. 0.8")
    executor = ExecutorSpec.from_options(workers=args.workers, dask_scheduler=args.dask_scheduler)
    result = optimise(scenario, probability=args.probability, target=args.target, budget=budget, seed=args.seed,
                      executor=executor, uncertainty=args.uncertainty, say=_say(started))
    summary = {"kind": "optimise", "scenario": scenario.name, "quick": args.quick,
               "budget": dataclasses.asdict(budget), **result.summary(),
               "timing": {"wall_s": round(time.perf_counter() - started, 1),
                          "wall_s_per_simulation": round((time.perf_counter() - started) / result.simulations, 3)}}
    plan = result.plan_scenario(f"{scenario.name}-optimised")
    with start_run(scenario.name, seed=args.seed, out=args.out, kind="optimise") as run_dir:
        run_dir.add_input(Path(scenario.file), "scenario")
        run_dir.record(parameters={"quick": args.quick, "budget": dataclasses.asdict(budget)})
        write_json(run_dir.path(SUMMARY), summary)
        write_scenario(plan, run_dir.path("plan.toml"),
                       header=f"Written by motcua optimise from {scenario.file}; see summary.json.")
        write_optimise_report(summary, scenario, run_dir.dir, args.lang)
    print(describe(summary))
    print(f"run directory: {run_dir.dir} (plan.toml: `motcua simulate {run_dir.dir / 'plan.toml'}`)")
    return 0 if result.feasible else EXIT_INFEASIBLE


def _with_objective(scenario: Any, objective: str | None, budget: int | None) -> Any:
    """`scenario` with ``--objective`` and ``--budget`` written into its [optimise] table (validated there: a bad
    value is named with the file and field, exit 2)."""
    overrides: dict[str, Any] = {}
    if objective is not None:
        overrides["optimise.objective"] = objective.replace("-", "_")
    if budget is not None:
        overrides["optimise.budget_vnd"] = budget
    return scenario.with_overrides(overrides) if overrides else scenario


def _say(started: float) -> Any:
    import time

    def say(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {message}", file=sys.stderr, flush=True)

    return say


def describe(summary: dict[str, Any]) -> str:
    """The console summary: verdict, plan table, guarantee, baselines."""
    earliest = summary["objective"] == "earliest_date"
    p = summary["probability"]
    goal = (f"earliest date reached with probability >= {p} within {summary.get('budget_vnd') or 0:,} VND"
            if earliest else f"least cost with P(target by deadline) >= {p}")
    lines = [f"{summary['scenario']}: {goal}; probabilities cover {summary['uncertainty']}"]
    if not summary["feasible"]:
        lines.append("INFEASIBLE: " + ("no plan within the budget reached the target in the horizon with that "
                                      "probability" if earliest else "no plan reached the probability in the search")
                     + f"; best probability found {summary['search_estimate']['p']:.2f} "
                       f"(n={summary['search_estimate']['n']}) — plan below")
    lines.append(f"{'lever':<24} {'units':<40} {'from':<10}  {'to':<10} {'effort':>6} {'cost (VND)':>14}")
    for row in summary["plan"]:
        lines.append(f"{row['lever']:<24} {','.join(row['units'])[:40]:<40} {row['from']:<10}  {row['to']:<10} "
                     f"{row['intensity']:>6.2f} {row['cost_vnd']:>14,}")
    lines.append(f"total cost {summary['cost_vnd']:,} VND (interventions it keeps included)")
    if earliest:
        lines.append(f"earliest date in the search: {summary['search_estimate'].get('date') or 'never'} "
                     f"(the {p:.0%} quantile of {summary['search_estimate']['n']} replications' reach dates)")
    lines.append(_guarantee_line(summary["guarantee"], p, earliest))
    lines.extend(_baseline_line(name, b, earliest) for name, b in summary["baselines"].items())
    lines.append(f"{summary['simulations']} replications in {summary['timing']['wall_s']} s")
    return "\n".join(lines)


def _guarantee_line(g: dict[str, Any], probability: float, earliest: bool) -> str:
    band = g["reach_date"]
    horizon = "the horizon" if earliest else "the deadline"
    when = (f"reached by {horizon} in {band['reached']}/{g['n']}; median {band['median']} "
            f"(10–90%: {band['low']} – {band['high']})") if band["reached"] else f"never reached by {horizon}"
    what = f"P̂(reached by {g['by_date']})" if earliest else "P̂"
    draws = f" ({g['parameter_draws']} parameter draws of {g['factors']} numbers)" if g["parameter_draws"] else ""
    return (f"guarantee on {g['n']} fresh replications{draws}: {what} = {g['p']:.2f}, one-sided "
            f"{g['confidence']:.0%} lower bound {g['lower_bound']:.2f} -> {'HOLDS' if g['holds'] else 'DOES NOT HOLD'} "
            f"(needs >= {probability}); {when}")


def _baseline_line(name: str, b: dict[str, Any], earliest: bool) -> str:
    over = " (over the budget: even its lowest intensities cost more)" if b.get("within_budget") is False else ""
    line = (f"baseline {name}: cost {b['cost_vnd']:,} VND{over}, P̂ {b['p']:.2f} (lower {b['lower_bound']:.2f}) "
            f"on the same fresh streams")
    if earliest:
        later = b.get("days_later")
        gap = f"{later:+d} days after the chosen plan's" if later is not None else "not comparable (one never)"
        return f"{line} of reaching by the chosen date; its own date {b['quantile_date'] or 'never'}, {gap}"
    return (f"{line}; the chosen plan costs {b['cost_difference_vnd']:,} VND less and its P̂ differs by "
            f"{b['p_difference']:+.2f}")
