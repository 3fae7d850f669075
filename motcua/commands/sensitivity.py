"""`motcua sensitivity SCENARIO [--quick]`: which assumptions the final share, the target date and the
officer-hours freed depend on.

Morris screening of every number marked *assumed* in the scenario's [provenance] (over the ranges of its
[sensitivity] table: ±30% unless it says otherwise), then Sobol' indices of the few that matter (SALib).
Each sample point is one replication of the coupled model on a common random stream, run on local processes
or a Dask cluster. Writes summary.json, morris.csv, sobol.csv and charts/tornado.png into a run directory
and prints the top assumptions with what data would pin each down.

Example:
  motcua sensitivity lang-son-2024 --quick
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sensitivity", help="global sensitivity of the planner's figures to the assumptions",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", type=Path, help="scenario TOML file (or a bundled name)")
    parser.add_argument("--quick", action="store_true",
                        help="short horizon (as simulate --quick), one group per provenance entry, 2 Morris "
                             "trajectories and 8 Sobol' samples")
    parser.add_argument("--trajectories", type=int, metavar="R", help="Morris trajectories (default 2 quick, 4)")
    parser.add_argument("--sobol-samples", type=int, metavar="N", help="Sobol' base samples, a power of 2 "
                        "(default 8 quick, 32)")
    parser.add_argument("--by-entry", action="store_true",
                        help="one group per provenance entry (as --quick does) instead of one per field")
    parser.add_argument("--horizon-days", type=int, metavar="DAYS",
                        help="simulate this many days instead of the scenario's (it must still cover the targets)")
    parser.add_argument("--top", type=int, default=3, metavar="K", help="groups given Sobol' indices (default 3)")
    parser.add_argument("--seed", type=int, help="seed (default: the scenario's simulation.seed)")
    parser.add_argument("--workers", type=int, metavar="N", help="local worker processes (default one per core)")
    parser.add_argument("--dask-scheduler", metavar="ADDR", help="run the sample points on a Dask cluster")
    parser.add_argument("--out", type=Path, help="run directory (default results/<scenario>/<run-id>/)")
    parser.add_argument("--lang", default="vi", choices=("vi", "en"),
                        help="language of the printed summary and the chart (default vi)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    from motcua.errors import InputError
    from motcua.models.replications import ExecutorSpec
    from motcua.models.sensitivity import OUTPUTS, analyse, what_data
    from motcua.report.assumptions import tornado_chart
    from motcua.runs import check_out_folder, start_run, write_csv, write_json
    from motcua.scenario import load_scenario

    started, cpu = time.perf_counter(), time.process_time()
    scenario = load_scenario(args.scenario)
    if args.horizon_days is not None:
        scenario = scenario.with_overrides({"simulation.horizon_days": args.horizon_days})
    if args.top < 1:
        raise InputError(f"--top {args.top}: must be >= 1 (e.g. 3)")
    check_out_folder(args.out)  # before minutes of runs, not after
    executor = ExecutorSpec.from_options(workers=args.workers, dask_scheduler=args.dask_scheduler)
    result = analyse(scenario, trajectories=args.trajectories or (2 if args.quick else 4),
                     sobol_n=args.sobol_samples or (8 if args.quick else 32), top=args.top, seed=args.seed,
                     quick=args.quick, by_entry=args.by_entry or None, executor=executor)
    timing = {"wall_s": round(time.perf_counter() - started, 1), "cpu_s_main": round(time.process_time() - cpu, 1)}
    summary = {"kind": "sensitivity", "scenario": scenario.name, "quick": args.quick, **result.summary(),
               "timing": timing, "data_to_pin_down_vi": {g: what_data(g, "vi") for g in result.top},
               "group_labels": plain_names(scenario, result.groups), "start": scenario.simulation.start.isoformat(),
               "target": ({"share": scenario.targets[0].share, "date": scenario.targets[0].date.isoformat()}
                          if scenario.targets else None)}
    with start_run(scenario.name, seed=args.seed, out=args.out, kind="sensitivity") as run_dir:
        run_dir.add_input(Path(scenario.file), "scenario")
        run_dir.record(parameters={"quick": args.quick, "top": args.top})
        write_json(run_dir.path("summary.json"), summary)
        write_csv(run_dir.path("morris.csv"), ["group", *[f"{o}_{k}" for o in OUTPUTS for k in ("mu_star", "sigma")]],
                  [[g, *[round(result.morris[o][k][i], 6) for o in OUTPUTS for k in ("mu_star", "sigma")]]
                   for i, g in enumerate(result.groups)])
        write_csv(run_dir.path("sobol.csv"), ["group", *[f"{o}_{k}" for o in OUTPUTS for k in ("S1", "ST", "ST_conf")]],
                  [[g, *[round(result.sobol[o][k][i], 6) for o in OUTPUTS for k in ("S1", "ST", "ST_conf")]]
                   for i, g in enumerate(result.top)])
        tornado_chart(summary, run_dir.path("charts", "tornado.png"), args.lang)
    print(describe(summary, args.lang))
    print(f"\n{result.runs} runs in {timing['wall_s']} s ({timing['cpu_s_main']} s CPU in this process)")
    print(f"run directory: {run_dir.dir}")
    return 0


def plain_names(scenario: Any, groups: list[str]) -> dict[str, dict[str, str]]:
    """Each group's plain name in every language (`motcua.report.field_names`), saved in the summary."""
    from motcua.report.field_names import field_name
    from motcua.report.i18n import LANGS

    return {g: {lang: field_name(g, lang, scenario) for lang in LANGS} for g in groups}


def reach_date(summary: dict, day_index: float | None) -> str:
    """The date of a day index of the simulation (day 0 = simulation.start), or '' when unknown."""
    start = summary.get("start")
    if not start or day_index is None or not math.isfinite(day_index):
        return ""
    return (dt.date.fromisoformat(start) + dt.timedelta(days=round(abs(day_index)))).isoformat()


def describe(summary: dict, lang: str = "en") -> str:
    """The text the command prints: the scenario's figures, the Morris ranking, Sobol' indices and what data would
    help — assumptions by their plain names (interventions by theirs), the target by its date."""
    from motcua.report.i18n import day, number, percent, text

    def w(key: str, **values: Any) -> str:  # the words of the summary (``sens_*`` in `motcua.report.i18n.TEXTS`)
        return text(lang, f"sens_{key}", **values)

    names = summary.get("group_labels") or {}

    def name(group: str) -> str:
        return (names.get(group) or {}).get(lang) or group

    def effect(output: str, value: float | None) -> str:
        if value is None or not math.isfinite(value):
            return "—"
        if output == "final_share":
            return f"{number(100 * value, lang, 1)} {w('points')}"
        if output == "target_day":
            return f"{number(value, lang)} {w('days')}"
        return f"{number(value, lang, 1)} {w('hours')}"

    base = summary["base"]
    target = summary.get("target") or {}
    date = reach_date(summary, base["target_day"])
    lines = [w("head", scenario=summary["scenario"], factors=len(summary["factors"]),
               groups=len(summary["groups"]), share=percent(base["final_share"], lang),
               target=percent(target.get("share"), lang, 0) if target else "",
               date=day(date, lang) if date else w("never"),
               hours=number(base["hours_freed"], lang, 1)), "", w("morris")]
    morris = summary["morris"]
    order = sorted(range(len(summary["groups"])), key=lambda i: -(morris["target_day"]["mu_star"][i] or 0))[:8]
    width = max((len(name(summary["groups"][i])) for i in order), default=20)
    for i in order:
        lines.append(f"  {name(summary['groups'][i]):<{width}}  " + "  ".join(
            f"{w(o)} {effect(o, morris[o]['mu_star'][i])}" for o in summary["outputs"]))
    lines += ["", w("sobol")]
    for j, g in enumerate(summary["top"]):
        sobol = {o: (summary["sobol"][o]["ST"][j], summary["sobol"][o]["S1"][j]) for o in summary["outputs"]}
        lines.append(f"  {name(g):<{width}}  " + "  ".join(
            f"{w(o)} {number(st, lang, 2)} ({number(s1, lang, 2)})" for o, (st, s1) in sobol.items()))
    lines += ["", w("data")]
    pin = summary.get("data_to_pin_down_vi") if lang == "vi" else summary["data_to_pin_down"]
    lines += [f"  {name(g)}: {(pin or summary['data_to_pin_down'])[g]}" for g in summary["ranking"]]
    if summary["censored_target_days"]:
        lines.append("\n" + w("censored", n=summary["censored_target_days"], days=summary["horizon_days"]))
    return "\n".join(lines)
