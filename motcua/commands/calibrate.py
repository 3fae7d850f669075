"""`motcua calibrate SCENARIO [--observed FILE.csv]`: fit the adoption parameters to observed shares.

By default it fits the agent model as `motcua simulate` runs it (barriers, interventions, the counters'
guidance; `models.calibration.agent_fit`), on the streams of simulate's first replications; ``--model
generalized`` fits the barrier-free mean field alone (fast, for comparison). It prints the fit, the agent
model's value of every observation with its 95% band, parameter uncertainty (Jacobian and parametric
bootstrap, proxies widening it) and the date each target is reached by simulate's rule, as a band over
parameter draws and replications; warns when the data cannot identify the parameters. ``--holdout N``
fits on all but the last N observations and reports how far the forecast misses them.
Writes a run directory (summary.json, residuals.csv, bootstrap.csv, trajectory.csv, charts/fit.png) and
the fitted parameters into a NEW scenario file: the original is never touched.

Example:
  motcua calibrate son-la-2020-2023            # observations from scenarios/observed/son-la-2020-2023.csv
  motcua calibrate son-la-2020-2023 --holdout 1
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING

from motcua.run_layout import SUMMARY

if TYPE_CHECKING:
    from motcua.models.calibration import Backtest, Calibration

FIT_REPLICATIONS = 8
"""Replications of the agent model at each trial point (at most the scenario's own)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("calibrate", help="fit adoption parameters to observed online shares",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", type=Path, help="scenario TOML file (or a bundled name)")
    parser.add_argument("--observed", type=Path,
                        help="CSV with unit,period_start,period_end,share[,kind,proxy_sd,source,note] "
                             "(default: observed/<scenario name>.csv beside the scenario)")
    parser.add_argument("--out", type=Path, help="run directory (default results/<scenario>/<run-id>/)")
    parser.add_argument("--write-scenario", type=Path, metavar="FILE",
                        help="also write the calibrated scenario to this NEW file (it must not exist)")
    parser.add_argument("--model", choices=("agent", "generalized", "bass"), default="agent",
                        help="agent: the agent model as simulate runs it (default); generalized: the mean field "
                             "with outreach effort, barriers off; bass: the mean field with effort_weight 0")
    parser.add_argument("--fix", action="append", default=[], metavar="NAME=VALUE",
                        help="keep a parameter fixed, e.g. --fix effort_weight=1.5 (repeatable)")
    parser.add_argument("--origin", help="date (YYYY-MM-DD) the fit starts from (default: simulation.start)")
    initial = parser.add_mutually_exclusive_group()
    initial.add_argument("--fit-initial", dest="fit_initial", action="store_true", default=None,
                         help="also fit the shares at the origin (default: when no unit states initial_share, "
                             "and with --holdout)")
    initial.add_argument("--keep-initial", dest="fit_initial", action="store_false",
                         help="keep the scenario's start shares")
    parser.add_argument("--holdout", type=int, default=0, metavar="LAST_N",
                        help="backtest: fit on all but the last N observations, forecast those N (from the mean "
                             "field's optimum, never from the scenario's own values, which may have seen them)")
    parser.add_argument("--bootstrap", type=int, default=200, help="parametric bootstrap refits (default 200)")
    parser.add_argument("--level", type=float, default=0.8, help="interval level (default 0.8, as simulate's band)")
    parser.add_argument("--noise-sd", type=float,
                        help="observation noise sd for the bootstrap (default: from residuals, else 0.005)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    parser.add_argument("--replications", type=int, metavar="N",
                        help=f"agent model: replications per trial point (default min({FIT_REPLICATIONS}, "
                             "simulation.replications))")
    parser.add_argument("--draws", type=int, default=16, metavar="N",
                        help="agent model: parameter draws run for the target-date band (default 16)")
    parser.add_argument("--workers", type=int, metavar="N", help="local worker processes (default one per core)")
    parser.add_argument("--dask-scheduler", metavar="ADDR", help="run the agent model on a Dask cluster")
    parser.set_defaults(func=run)


def default_observed(scenario) -> Path:
    """``observed/<name>.csv`` beside the scenario file (a calibrated scenario uses its original's file)."""
    from motcua.errors import InputError

    name = scenario.name.removesuffix("-calibrated")
    for folder in (Path(scenario.file).parent, Path(__file__).resolve().parents[2] / "scenarios"):
        path = folder / "observed" / f"{name}.csv"
        if path.exists():
            return path
    raise InputError(f"calibrate {scenario.file}: no --observed file given and no observed/{name}.csv beside the "
                     "scenario; pass --observed FILE.csv (see scenarios/observed/README.md)")


def _relative(path: Path) -> Path:
    """`path` relative to the working directory when it lies below it (provenance stays readable)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _agent_settings(args: argparse.Namespace, scenario):
    from motcua.errors import InputError
    from motcua.models.calibration import AgentSettings
    from motcua.models.replications import ExecutorSpec

    if args.model != "agent":
        return None
    replications = args.replications or min(FIT_REPLICATIONS, scenario.simulation.replications)
    if replications < 2:
        raise InputError(f"--replications {replications}: the agent model needs at least 2 (e.g. 8)")
    if args.draws < 0:
        raise InputError(f"--draws {args.draws}: must be >= 0 (e.g. 16)")
    executor = ExecutorSpec.from_options(workers=args.workers, dask_scheduler=args.dask_scheduler)
    return AgentSettings(replications=replications, seed=scenario.simulation.seed, draws=args.draws,
                         executor=executor, keep_fitting_scenario=not args.holdout)


def run(args: argparse.Namespace) -> int:
    import datetime as dt
    import time

    from motcua.errors import InputError
    from motcua.models import calibration
    from motcua.runs import check_out_folder, now_iso, start_run, write_json
    from motcua.scenario import load_scenario
    from motcua.typed_config import parse_date

    started, cpu = time.perf_counter(), time.process_time()
    scenario = load_scenario(args.scenario)
    observed_path = args.observed or _relative(default_observed(scenario))
    observations = calibration.read_observed(observed_path, scenario)
    origin = None
    if args.origin:
        try:
            origin = parse_date(args.origin)
        except ValueError as exc:
            raise InputError(f"--origin {args.origin!r}: {exc}") from None
    if args.bootstrap < 0:
        raise InputError(f"--bootstrap {args.bootstrap}: must be >= 0")
    if args.noise_sd is not None and not args.noise_sd > 0:
        raise InputError(f"--noise-sd {args.noise_sd}: must be > 0 (a share, e.g. 0.005 for half a point)")
    fitted_on, held_out = calibration.split_holdout(observations, args.holdout)
    _check_new_file(args.write_scenario, Path(scenario.file))
    check_out_folder(args.out)  # before minutes of runs, not after
    # A backtest refits what a calibrated file may have fitted to the held-out observations: the start shares too.
    fit_initial = args.fit_initial if args.fit_initial is not None else bool(args.holdout) or all(
        u.initial_share is None for u in scenario.units)
    model = "generalized" if args.model == "agent" else args.model
    fixed = _parse_fixed(args.fix)
    result = calibration.fit(scenario, fitted_on, model=model, fixed=fixed, origin=origin,
                             fit_initial=fit_initial, bootstrap=args.bootstrap, level=args.level,
                             noise_sd=args.noise_sd, seed=args.seed, agent=_agent_settings(args, scenario))
    backtest = calibration.backtest(result, held_out) if held_out else None
    if backtest:
        result.warnings += _seen_held_out(scenario, result, fixed)
    print(calibration_report(result))
    if backtest:
        print("\n" + backtest_report(backtest))
    timing = {"wall_s": round(time.perf_counter() - started, 1), "cpu_s_main": round(time.process_time() - cpu, 1)}
    print(f"\ncalibrated in {timing['wall_s']} s ({timing['cpu_s_main']} s CPU in this process)")
    today = dt.date.today().isoformat()
    new = calibration.calibrated_scenario(scenario, result, observed_file=str(observed_path), when=today)
    header = (f"Calibrated by `motcua calibrate` on {now_iso()} from {scenario.file}\n"
              f"to {observed_path} ({result.describe_model()}). The original scenario is unchanged.\n"
              f"Fitted: " + ", ".join(f"{k} = {result.estimates[k]:.4g}" for k in result.free))
    with start_run(scenario.name, seed=args.seed, out=args.out, kind="calibrate") as run_dir:
        run_dir.add_input(Path(scenario.file), "scenario")
        run_dir.add_input(observed_path, "observed")
        run_dir.record(parameters={"model": args.model, "fixed": fixed, "origin": str(result.origin),
                                   "fit_initial": fit_initial, "bootstrap": args.bootstrap, "level": args.level,
                                   "holdout": args.holdout})
        write_json(run_dir.path(SUMMARY), {"kind": "calibrate", "scenario": scenario.name,
                                                  **result.summary(), "timing": timing,
                                                  "backtest": backtest.summary() if backtest else None})
        _write_tables(run_dir, result)
        calibration.write_scenario(new, run_dir.path(f"{new.name}.toml"), header=header)
        _chart(result, run_dir.path("charts", "fit.png"), backtest)
    print(f"\nrun directory: {run_dir.dir}")
    print(f"calibrated scenario: {run_dir.dir / (new.name + '.toml')}")
    if args.write_scenario:
        calibration.write_scenario(new, args.write_scenario, header=header)
        print(f"calibrated scenario written to {args.write_scenario}")
    return 0


def calibration_report(result: Calibration) -> str:
    """The text `motcua calibrate` prints: the fit, its uncertainty, the residuals, the agent model's bands, the
    target dates and the warnings."""
    lines = (_parameter_lines(result) + _residual_lines(result) + _proxy_lines(result) + _agent_lines(result)
             + _target_lines(result))
    if result.warnings:
        lines += [""] + [f"WARNING: {w}" for w in result.warnings]
    return "\n".join(lines)


def _parameter_lines(result: Calibration) -> list[str]:
    lines = [f"Model: {result.describe_model()}, origin {result.origin}, {len(result.observations)} observation(s), "
             f"{len(result.free) + len(result.initial_intervals)} free parameter(s)", "",
             f"{'parameter':<28}{'estimate':>12}{'std error':>12}   {result.level:.0%} interval (bootstrap)"]
    for name, value in result.estimates.items():
        if name in result.free:
            se = result.std_errors.get(name)
            low, high = result.intervals.get(name, (math.nan, math.nan))
            lines.append(f"{name:<28}{value:>12.4g}{(f'{se:.3g}' if se is not None else 'n/a'):>12}   "
                         f"{low:.4g} – {high:.4g}")
        else:
            lines.append(f"{name:<28}{value:>12.4g}{'fixed':>12}")
    for group, (low, high) in result.initial_intervals.items():
        lines.append(f"{'share on ' + str(result.origin) + ' [' + group + ']':<28}"
                     f"{result.initial_share(group):>12.4g}{'n/a':>12}   {low:.4g} – {high:.4g}")
    if result.correlation is not None and len(result.free) > 1:
        lines += ["", "correlation of estimates: " + "; ".join(
            f"{a}~{b} {result.correlation[i, j]:+.2f}" for i, a in enumerate(result.free)
            for j, b in enumerate(result.free) if j > i)]
    return lines


def _residual_lines(result: Calibration) -> list[str]:
    lines = ["", f"condition number (relative Jacobian): {result.condition_number:.3g}",
             f"noise sd for the bootstrap: {result.noise_sd:.4f}" + (" (assumed: no residual degrees of freedom)"
                                                                    if result.noise_sd_assumed else ""),
             "", f"{'unit':<24}{'period':<25}{'observed':>10}{'fitted':>10}{'residual':>10}"]
    for obs, fitted in zip(result.observations, result.fitted, strict=True):
        lines.append(f"{obs.unit:<24}{obs.start} – {obs.end}  {obs.share:>10.4f}{fitted:>10.4f}"
                     f"{fitted - obs.share:>+10.4f}")
    lines.append(f"RMSE {result.rmse:.4f}")
    return lines


def _target_lines(result: Calibration) -> list[str]:
    lines: list[str] = []
    if result.targets:
        how = (f"simulate's rule, the first day the 7-day mean reaches the target; best = mean over the "
               f"{result.agent.replications} replications at the estimates, band over {result.band_source()}"
               if result.agent is not None else "mean field, band over the bootstrap")
        lines += ["", f"Targets ({how}):"] + [f"  {t.describe()}" for t in result.targets]
    if result.agent is not None and result.mean_field_targets:
        lines += ["", "The mean field alone (barriers off) would say, at its own fit "
                  + ", ".join(f"{k} = {v:.4g}" for k, v in result.mean_field_estimates.items()) + ":"]
        lines += [f"  {t.describe()}" for t in result.mean_field_targets]
    return lines


def _proxy_lines(result: Calibration) -> list[str]:
    if not result.proxies:
        return []
    return ["", "Proxies (each adds its stated relative sd to the noise of the fit):"] + [
        f"  {o.start} – {o.end} [{o.unit}] {o.kind}: ±{o.proxy_sd:.0%} "
        f"(sd {o.sd(result.noise_sd):.4f} in all)" for o in result.proxies]


def _agent_lines(result: Calibration) -> list[str]:
    agent = result.agent
    if agent is None:
        return []
    lines = ["", f"Agent model at the estimates: {agent.replications} replications, seed {agent.seed} (the streams "
             f"of `motcua simulate`'s first {agent.replications}); {len(agent.iterations)} batch(es) of runs, "
             "largest miss at each " + " → ".join(f"{m:.1%}" for m in agent.iterations),
             f"{'period':<25}{'observed':>10}{'simulated':>11}   95% band (mean over replications)  inside"]
    for i, obs in enumerate(result.observations):
        mean, low, high = agent.band(i)
        lines.append(f"{obs.start} – {obs.end}  {obs.share:>10.4f}{mean:>11.4f}   {low:.4f} – {high:.4f}"
                     f"{'yes' if low <= obs.share <= high else 'NO':>21}")
    return lines


def backtest_report(test: Backtest) -> str:
    """The text `motcua calibrate --holdout N` prints: each held-out observation against its forecast."""
    first, last = test.fitted_on[0], test.fitted_on[-1]
    lines = [f"Backtest: fitted on {len(test.fitted_on)} observation(s) ({first.start} – {last.end}), "
             f"forecast {len(test.rows)} held out (band over {test.band}):",
             f"{'period':<25}{'observed':>10}{'forecast':>10}{'miss':>10}   band            inside"]
    for r in test.rows:
        o = r.observation
        lines.append(f"{o.start} – {o.end}  {o.share:>10.4f}{r.forecast:>10.4f}{r.miss:>+10.4f}   "
                     f"{r.low:.4f} – {r.high:.4f}  {'yes' if r.inside else 'NO'}"
                     f"  ({r.miss / o.share:+.0%} of the observed)")
    return "\n".join(lines)


def _seen_held_out(scenario, result, fixed: dict[str, float]) -> list[str]:
    """A backtest keeps what the data cannot see at the scenario's value: say so when that value was itself fitted
    (to observations that may include the held-out ones), so that the forecast is not out of sample for it."""
    from motcua.models.calibration import FITTED, PARAMETERS

    out = []
    for name in (n for n in PARAMETERS if n not in result.free and n not in fixed):
        if scenario.provenance_of(f"adoption.{name}").startswith(FITTED):
            out.append(f"backtest: {name} is kept at the scenario's {result.estimates[name]:.4g}, which motcua "
                       f"calibrate fitted (see [provenance] adoption.{name}), perhaps to the held-out observations "
                       f"too: the forecast is not out of sample for it. Pass --fix {name}=VALUE with a value chosen "
                       "without them, e.g. the one assumed before calibration.")
    return out


def _parse_fixed(items: list[str]) -> dict[str, float]:
    from motcua.errors import InputError

    fixed = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            fixed[name.strip()] = float(value)
        except ValueError:
            raise InputError(f"--fix {item!r}: write NAME=VALUE, e.g. --fix effort_weight=1.5") from None
    return fixed


def _check_new_file(path: Path | None, original: Path) -> None:
    from motcua.errors import InputError

    if path is None:
        return
    if path.resolve() == original.resolve():
        raise InputError(f"--write-scenario {path}: that is the original scenario; calibration writes a NEW file")
    if path.exists():
        raise InputError(f"--write-scenario {path}: the file exists; choose a new name (nothing is overwritten)")


def _write_tables(run_dir, result) -> None:
    from motcua.runs import write_csv

    agent = result.agent
    header = ["unit", "period_start", "period_end", "kind", "proxy_sd", "observed", "fitted", "residual", "source"]
    rows = []
    for i, (o, f) in enumerate(zip(result.observations, result.fitted, strict=True)):
        row = [o.unit, o.start, o.end, o.kind, o.proxy_sd, o.share, round(float(f), 6), round(float(f - o.share), 6),
               o.source]
        if agent is not None:
            row += [round(v, 6) for v in agent.band(i)[1:]]
        rows.append(row)
    if agent is not None:
        header += ["simulated_low95", "simulated_high95"]
    write_csv(run_dir.path("residuals.csv"), header, rows)
    names = list(result.free) + [f"initial_share[{g}]" for g in result.initial_intervals]
    write_csv(run_dir.path("bootstrap.csv"), ["draw", *names],
              [[i, *[round(float(v), 8) for v in _natural(result, row)]] for i, row in enumerate(result.bootstrap)])
    dates, region, low, high = result.region_curve()
    write_csv(run_dir.path("trajectory.csv"), ["date", "region", f"low{result.level:.0%}", f"high{result.level:.0%}"],
              [[d, round(float(v), 6), round(float(a), 6), round(float(b), 6)]
               for d, v, a, b in zip(dates, region, low, high, strict=True) if d.day == 1])


def _natural(result, row):
    """Bootstrap draws back in natural units (they are stored as log / logit)."""
    names = result.problem.free + result.problem.initial_names
    return [result.problem.natural(name, v) for name, v in zip(names, row, strict=True)]


def _chart(result, path: Path, backtest=None) -> None:
    """Observed shares against the fitted region curve, with its band and the targets (and a backtest's forecast)."""
    from motcua.report.style import PALETTE, TARGET_COLOR, new_figure, save

    dates, best, low, high = result.region_curve()
    last = max([o.end for o in result.observations] + [t.deadline for t in result.targets])
    keep = [i for i, d in enumerate(dates) if d.toordinal() <= last.toordinal() + 366]
    dates = [dates[i] for i in keep]
    fig, ax = new_figure()
    ax.fill_between(dates, low[keep], high[keep], color=PALETTE[0], alpha=0.2,
                    label=f"{result.level:.0%} band ({result.band_source()})")
    ax.plot(dates, best[keep], color=PALETTE[0], label=f"fitted: {result.describe_model()}, region")
    for obs in result.observations:
        ax.hlines(obs.share, obs.start, obs.end, color=PALETTE[1], linewidth=3)
    ax.plot([], [], color=PALETTE[1], linewidth=3, label="observed (period average)")
    for item in backtest.rows if backtest else []:
        ax.hlines(item.observation.share, item.observation.start, item.observation.end, color=PALETTE[2],
                  linewidth=3)
    if backtest:
        ax.plot([], [], color=PALETTE[2], linewidth=3, label="held out (forecast)")
    for target in result.targets:
        ax.axhline(target.share, color=TARGET_COLOR, linestyle="--", linewidth=1)
        ax.axvline(target.deadline, color=TARGET_COLOR, linestyle=":", linewidth=1)
        ax.annotate(f"{target.name or 'target'} {target.share:.0%}", (target.deadline, target.share),
                    color=TARGET_COLOR, fontsize=8, ha="right", va="bottom")
    ax.set_ylabel("share of fee-bearing dossiers paid online")
    ax.set_title("Calibration: observed shares and the fitted model")
    ax.legend(loc="upper left", fontsize=8)
    save(fig, path)
