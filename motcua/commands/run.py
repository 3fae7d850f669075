"""`motcua run SCENARIO`: the whole loop in one command, from scenario to campaign report.

    motcua run scenarios/lang-son-2024.toml --quick
    motcua run lang-son-2024 --lang en --faults faults.toml --find-capacity

Simulates adoption and counters, derives the busiest day's online-payment demand, replays it as a
time-compressed load test against the mock services (or a system given by URLs), feeds the measured
failure rate and callback latency back into the adoption model, and writes ``report.html`` — all in
one run folder ``results/<scenario>/<run-id>/`` (see `motcua.pipeline` and results/README.md).
Exit codes: 0 the load test held every SLO and the payment invariant; 3 an SLO broke; 4 the invariant
broke — a payment lost, credited twice, for a wrong amount or without approval (the report is written in
every case); 2 bad input; 6 a service could not be started or reached.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from motcua.report.export import add_chart_options, with_chart_export


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("run", help="scenario → simulation → peak-day load test → feedback → campaign report",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file, or the name of a bundled scenario")
    p.add_argument("--quick", action="store_true",
                   help="short horizon, 3 replications and a 60 s load test (about two minutes in all on an "
                        "otherwise idle 2-core machine)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="write the run into DIR (empty or absent) instead of results/<scenario>/<run-id>/")
    p.add_argument("--results-root", type=Path, default=None, metavar="DIR",
                   help="folder that holds results/<scenario>/… (default: the project's results/)")
    p.add_argument("--lang", default="vi", choices=("vi", "en"), help="language of the report (default vi)")
    p.add_argument("--seed", type=int, default=None, metavar="N", help="root seed (default: simulation.seed)")
    p.add_argument("--replications", type=int, default=None, metavar="N",
                   help="replications (default: the scenario's; 3 with --quick)")
    p.add_argument("--duration", default=None, metavar="TIME",
                   help="load-test length into which the busiest day is compressed, e.g. 60s "
                        "(default: 60s with --quick, else 86400 s / load.time_compression)")
    p.add_argument("--faults", type=Path, default=None, metavar="FILE", help="fault file for the mocks")
    p.add_argument("--gateway-url", help="gateway of a running system (with --agency-url and --bank-url)")
    p.add_argument("--agency-url", help="agency one-stop-shop system of a running system")
    p.add_argument("--bank-url", help="bank service of a running system")
    p.add_argument("--find-capacity", action="store_true",
                   help="also raise the peak-day load step by step until an SLO breaks (capacity knee, headroom)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processes for replications (default: one per core; 1 runs serially)")
    p.add_argument("--time-scale", type=float, default=0.01,
                   help="the mocks' schedule compression (0.01 = bank notifications and IPN retries 100× faster)")
    p.add_argument("--no-interventions", action="store_true",
                   help="skip the runs that assess each intervention by removing it")
    p.add_argument("--uncertainty", default="parameters", choices=("parameters", "replications"),
                   help="what the intervals cover: parameters and replications (default: each replication draws "
                        "the assumed numbers from their [sensitivity] ranges, fitted ones from calibrate's band), "
                        "or replications only (parameters held at their values)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    add_chart_options(p)  # --dpi, --format (motcua.report.export)
    p.set_defaults(func=with_chart_export(run))


FLAGS = (("out", "--out"), ("results_root", "--results-root"), ("lang", "--lang"), ("seed", "--seed"),
         ("replications", "--replications"), ("duration", "--duration"), ("faults", "--faults"),
         ("gateway_url", "--gateway-url"), ("agency_url", "--agency-url"), ("bank_url", "--bank-url"),
         ("workers", "--workers"), ("time_scale", "--time-scale"), ("dpi", "--dpi"), ("formats", "--format"),
         ("uncertainty", "--uncertainty"))
SWITCHES = (("quick", "--quick"), ("find_capacity", "--find-capacity"), ("no_interventions", "--no-interventions"),
            ("quiet", "--quiet"))


def command_of(args: argparse.Namespace) -> list[str]:
    """The command that reproduces this run, rebuilt from the parsed options (whoever called `main`)."""
    command = ["motcua", "run", str(args.scenario)]
    command += [flag for name, flag in SWITCHES if getattr(args, name)]
    for name, flag in FLAGS:
        value = getattr(args, name)
        if value is not None:
            command += [flag, str(value)]
    return command


def run(args: argparse.Namespace) -> int:
    from motcua.commands.loadtest import parse_duration
    from motcua.errors import InputError
    from motcua.pipeline import RunOptions, run_pipeline
    from motcua.safety import Verdict

    if args.faults is not None and not args.faults.is_file():
        raise InputError(f"--faults {args.faults}: file not found; see docs/contracts.md §2 for the format")
    options = RunOptions(
        quick=args.quick, lang=args.lang, seed=args.seed, replications=args.replications,
        duration_s=parse_duration(args.duration) if args.duration else None, faults_file=args.faults,
        gateway_url=args.gateway_url, agency_url=args.agency_url, bank_url=args.bank_url,
        find_capacity=args.find_capacity, workers=args.workers, time_scale=args.time_scale,
        interventions=not args.no_interventions, progress=not args.quiet, uncertainty=args.uncertainty)
    log = (lambda _msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    result = run_pipeline(args.scenario, options, out=args.out, results_root=args.results_root,
                          command=command_of(args), log=log)
    head = result.summary["headline"]
    print(f"{result.summary['scenario']['name']}: " + ", ".join(f"{k}={v}" for k, v in head.items()))
    print(f"Report: {result.run_dir / 'report.html'}")
    print(f"invariant: {Verdict.from_dict(result.summary['loadtest']['invariant']).describe()}")
    result.raise_if_breached()  # after the report: the command line turns it into exit 4 or 3
    return 0
