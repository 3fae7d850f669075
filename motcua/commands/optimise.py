"""`motcua optimise SCENARIO [--quick]`: the least-cost plan that reaches a target by its deadline with
probability ≥ p, with a guarantee on fresh random streams and the baselines it beats.

Searches the levers, units, start dates and intensities the scenario's [optimise] table allows (Optuna TPE,
constrained), spends extra replications on the few cheapest plans that might qualify (OCBA-style), re-runs the
chosen plan on streams the search never saw (one-sided 95% Clopper–Pearson lower bound), and runs three
baselines in the same run: a random search at the same number of simulations, the scenario's own plan, and the
chosen budget spread evenly. Writes summary.json and plan.toml — a NEW scenario that `motcua simulate` and
`motcua compare` accept — into a run directory. Ctrl-C leaves nothing half-written.

Exit codes: 0 a plan meets the probability in the search (the guarantee may still fall short: the output
says), 2 bad input (the message names the file, field and value) and also no feasible plan found (the output
gives the best probability found).

Example:
  motcua optimise lang-son-2024 --quick
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
    parser.add_argument("--target", type=int, metavar="K", help="index of the target in [[targets]] (default: "
                        "optimise.target)")
    parser.add_argument("--candidates", type=int, metavar="N", help="plans the search simulates")
    parser.add_argument("--replications", type=int, metavar="R", help="replications per plan in the search")
    parser.add_argument("--fresh", type=int, metavar="N", help="fresh-stream replications for the guarantee")
    parser.add_argument("--uncertainty", action="store_true",
                        help="draw the uncertain parameters per replication (needs models/uncertainty.py)")
    parser.add_argument("--seed", type=int, help="seed (default: the scenario's simulation.seed)")
    parser.add_argument("--workers", type=int, metavar="N", help="local worker processes (default one per core)")
    parser.add_argument("--dask-scheduler", metavar="ADDR", help="run the replications on a Dask cluster")
    parser.add_argument("--out", type=Path, help="run directory (default results/<scenario>/<run-id>/)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import time

    from motcua.errors import InputError
    from motcua.models.calibration import write_scenario
    from motcua.models.optimise import Budget, optimise
    from motcua.models.replications import ExecutorSpec
    from motcua.runs import check_out_folder, start_run, write_json
    from motcua.scenario import load_scenario

    started = time.perf_counter()
    scenario = load_scenario(args.scenario)
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
    print(describe(summary))
    print(f"run directory: {run_dir.dir} (plan.toml: `motcua simulate {run_dir.dir / 'plan.toml'}`)")
    return 0 if result.feasible else EXIT_INFEASIBLE


def _say(started: float) -> Any:
    import time

    def say(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {message}", file=sys.stderr, flush=True)

    return say


def describe(summary: dict[str, Any]) -> str:
    """The console summary: verdict, plan table, guarantee, baselines."""
    g = summary["guarantee"]
    lines = [f"{summary['scenario']}: least cost with P(target by deadline) >= {summary['probability']}"]
    if not summary["feasible"]:
        lines.append(f"INFEASIBLE: no plan reached the probability in the search; best probability found "
                     f"{summary['search_estimate']['p']:.2f} (n={summary['search_estimate']['n']}) — plan below")
    lines.append(f"{'lever':<24} {'units':<40} {'from':<10}  {'to':<10} {'effort':>6} {'cost (VND)':>14}")
    for row in summary["plan"]:
        lines.append(f"{row['lever']:<24} {','.join(row['units'])[:40]:<40} {row['from']:<10}  {row['to']:<10} "
                     f"{row['intensity']:>6.2f} {row['cost_vnd']:>14,}")
    lines.append(f"total cost {summary['cost_vnd']:,} VND (interventions it keeps included)")
    band = g["reach_date"]
    when = (f"reached by the deadline in {band['reached']}/{g['n']}; median {band['median']} "
            f"(10–90%: {band['low']} – {band['high']})") if band["reached"] else "never reached by the deadline"
    lines.append(f"guarantee on {g['n']} fresh replications: P̂ = {g['p']:.2f}, one-sided {g['confidence']:.0%} "
                 f"lower bound {g['lower_bound']:.2f} -> {'HOLDS' if g['holds'] else 'DOES NOT HOLD'} "
                 f"(needs >= {summary['probability']}); {when}")
    for name, b in summary["baselines"].items():
        over = " (over the budget: even its lowest intensities cost more)" if b.get("within_budget") is False else ""
        lines.append(f"baseline {name}: cost {b['cost_vnd']:,} VND{over}, P̂ {b['p']:.2f} "
                     f"(lower {b['lower_bound']:.2f}) on the same fresh streams; the chosen plan costs "
                     f"{b['cost_difference_vnd']:,} VND less and its P̂ differs by {b['p_difference']:+.2f}")
    lines.append(f"{summary['simulations']} replications in {summary['timing']['wall_s']} s")
    return "\n".join(lines)
