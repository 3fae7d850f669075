"""`motcua calibrate SCENARIO --observed FILE.csv`: fit the adoption parameters to observed shares.

Fits innovation p, imitation q and the outreach effort weight (Generalized Bass mean field) by least
squares; prints the fit, residuals, parameter uncertainty (Jacobian and parametric bootstrap) and the
date each target is reached as an interval; warns when the data cannot identify the parameters.
Writes a run directory (summary.json, residuals.csv, bootstrap.csv, trajectory.csv, fit.png) and the
fitted parameters into a NEW scenario file — the original is never touched.

Example:
  motcua calibrate scenarios/son-la-2020-2023.toml --observed scenarios/observed/son-la-shares.csv --fit-initial
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("calibrate", help="fit adoption parameters to observed online shares",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", type=Path, help="scenario TOML file (or a bundled name)")
    parser.add_argument("--observed", type=Path, required=True,
                        help="CSV with unit,period_start,period_end,share[,source,note] (see scenarios/observed/)")
    parser.add_argument("--out", type=Path, help="run directory (default results/<scenario>/<run-id>/)")
    parser.add_argument("--write-scenario", type=Path, metavar="FILE",
                        help="also write the calibrated scenario to this NEW file (it must not exist)")
    parser.add_argument("--model", choices=("generalized", "bass"), default="generalized",
                        help="generalized: Bass with outreach effort (default); bass: effort_weight fixed at 0")
    parser.add_argument("--fix", action="append", default=[], metavar="NAME=VALUE",
                        help="keep a parameter fixed, e.g. --fix effort_weight=1.5 (repeatable)")
    parser.add_argument("--origin", help="date (YYYY-MM-DD) the fit starts from (default: simulation.start)")
    parser.add_argument("--fit-initial", action="store_true",
                        help="also fit the shares at the origin (one per observed unit; one for '*')")
    parser.add_argument("--bootstrap", type=int, default=200, help="parametric bootstrap refits (default 200)")
    parser.add_argument("--level", type=float, default=0.8, help="interval level (default 0.8)")
    parser.add_argument("--noise-sd", type=float,
                        help="observation noise sd for the bootstrap (default: from residuals, else 0.005)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import datetime as dt

    from motcua.errors import InputError
    from motcua.models import calibration
    from motcua.runs import now_iso, start_run, write_csv, write_json
    from motcua.scenario import load_scenario
    from motcua.typed_config import parse_date

    scenario = load_scenario(args.scenario)
    observations = calibration.read_observed(args.observed, scenario)
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
    _check_new_file(args.write_scenario, Path(scenario.file))
    result = calibration.fit(scenario, observations, model=args.model, fixed=_parse_fixed(args.fix), origin=origin,
                             fit_initial=args.fit_initial, bootstrap=args.bootstrap, level=args.level,
                             noise_sd=args.noise_sd, seed=args.seed)
    print(result.report())
    today = dt.date.today().isoformat()
    new = calibration.calibrated_scenario(scenario, result, observed_file=str(args.observed), when=today)
    header = (f"Calibrated by `motcua calibrate` on {now_iso()} from {scenario.file}\n"
              f"to {args.observed} ({result.model} mean field). The original scenario is unchanged.\n"
              f"Fitted: " + ", ".join(f"{k} = {result.estimates[k]:.4g}" for k in result.free))
    with start_run(scenario.name, seed=args.seed, out=args.out, kind="calibrate") as run_dir:
        run_dir.add_input(Path(scenario.file), "scenario")
        run_dir.add_input(args.observed, "observed")
        run_dir.record(parameters={"model": args.model, "fixed": _parse_fixed(args.fix), "origin": str(result.origin),
                                   "fit_initial": args.fit_initial, "bootstrap": args.bootstrap,
                                   "level": args.level})
        write_json(run_dir.path("summary.json"), {"kind": "calibrate", "scenario": scenario.name,
                                                  **result.summary()})
        _write_tables(run_dir, result, write_csv)
        calibration.write_scenario(new, run_dir.path(f"{new.name}.toml"), header=header)
        _chart(result, run_dir.path("charts", "fit.png"))
    print(f"\nrun directory: {run_dir.dir}")
    print(f"calibrated scenario: {run_dir.dir / (new.name + '.toml')}")
    if args.write_scenario:
        calibration.write_scenario(new, args.write_scenario, header=header)
        print(f"calibrated scenario written to {args.write_scenario}")
    return 0


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


def _write_tables(run_dir, result, write_csv) -> None:
    write_csv(run_dir.path("residuals.csv"),
              ["unit", "period_start", "period_end", "observed", "fitted", "residual", "source"],
              [[o.unit, o.start, o.end, o.share, round(float(f), 6), round(float(f - o.share), 6), o.source]
               for o, f in zip(result.observations, result.fitted, strict=True)])
    names = list(result.free) + [f"initial_share[{g}]" for g in result.initial_intervals]
    write_csv(run_dir.path("bootstrap.csv"), ["draw", *names],
              [[i, *[round(float(v), 8) for v in _natural(result, row)]] for i, row in enumerate(result.bootstrap)])
    field = result.mean_field
    shares = field.shares(result.estimates["p_per_year"], result.estimates["q_per_year"],
                          result.estimates["effort_weight"], list(result.initial_shares.values()))
    first_of_month = [d for d in range(field.days) if field.date(d).day == 1]
    write_csv(run_dir.path("trajectory.csv"), ["date", *field.unit_ids, "region"],
              [[field.date(d), *[round(float(v), 6) for v in shares[d]], round(float(shares[d] @ field.weights), 6)]
               for d in first_of_month])


def _natural(result, row):
    """Bootstrap draws back in natural units (they are stored as log / logit)."""
    import math

    k = len(result.free)
    params = [math.exp(v) for v in row[:k]]
    shares = [result.mean_field.potential / (1 + math.exp(-v)) for v in row[k:]]
    return params + shares


def _chart(result, path: Path) -> None:
    """Observed shares against the fitted region curve, with the bootstrap band and the targets."""
    import numpy as np

    from motcua.report.style import PALETTE, TARGET_COLOR, new_figure, save

    field = result.mean_field
    last = max([o.end for o in result.observations] + [t.deadline for t in result.targets])
    days = min(field.days, field.day(last) + 366)
    dates = [field.date(d) for d in range(days)]
    k = len(result.free)
    curves = []
    for row in result.bootstrap[:200]:
        natural = _natural(result, row)
        params = dict(result.estimates)
        params.update(dict(zip(result.free, natural[:k], strict=True)))
        starts = np.array(list(result.initial_shares.values()))
        if result.initial_intervals:
            problem_starts = _starts_from_draw(result, natural[k:])
            starts = problem_starts if problem_starts is not None else starts
        curves.append(field.shares(params["p_per_year"], params["q_per_year"], params["effort_weight"], starts,
                                   days) @ field.weights)
    best = field.shares(result.estimates["p_per_year"], result.estimates["q_per_year"],
                        result.estimates["effort_weight"], np.array(list(result.initial_shares.values())),
                        days) @ field.weights
    fig, ax = new_figure()
    if curves:
        tail = (1 - result.level) / 2
        ax.fill_between(dates, np.quantile(curves, tail, axis=0), np.quantile(curves, 1 - tail, axis=0),
                        color=PALETTE[0], alpha=0.2, label=f"{result.level:.0%} bootstrap band")
    ax.plot(dates, best, color=PALETTE[0], label=f"fitted ({result.model}), region")
    for obs in result.observations:
        ax.hlines(obs.share, obs.start, obs.end, color=PALETTE[1], linewidth=3)
    ax.plot([], [], color=PALETTE[1], linewidth=3, label="observed (period average)")
    for target in result.targets:
        ax.axhline(target.share, color=TARGET_COLOR, linestyle="--", linewidth=1)
        ax.axvline(target.deadline, color=TARGET_COLOR, linestyle=":", linewidth=1)
        ax.annotate(f"{target.name or 'target'} {target.share:.0%}", (target.deadline, target.share),
                    color=TARGET_COLOR, fontsize=8, ha="right", va="bottom")
    ax.set_ylabel("share of fee-bearing dossiers paid online")
    ax.set_title("Calibration: observed shares and the fitted mean field")
    ax.legend(loc="upper left", fontsize=8)
    save(fig, path)


def _starts_from_draw(result, group_shares):
    """Unit start shares from one bootstrap draw of the fitted initial-share groups."""
    import numpy as np

    starts = np.array(list(result.initial_shares.values()))
    ids = result.mean_field.unit_ids
    observed_units = {o.unit for o in result.observations}
    for group, share in zip(result.initial_intervals, group_shares, strict=True):
        if group == "*":
            starts[[i for i, u in enumerate(ids) if u not in observed_units]] = share
        else:
            starts[ids.index(group)] = share
    return starts
