"""``motcua loadtest``: Locust traffic of citizens paying fees, with callback latency and SLO gates.

    motcua loadtest scenarios/peak-day.toml --duration 60s --rate 20 --faults faults.toml --workers 2
    motcua loadtest scenarios/peak-day.toml --protocol vnpay --merchant examples/vnpay-merchant/merchant.toml

Starts the mock services (with the fault file) unless the URLs of a system are given, runs Locust as
real processes (headless, or its web UI with ``--ui``), stops everything it started, reconciles, checks
the invariant and the scenario's ``[slo]`` gates, and writes ``results/<scenario>/<run-id>/``.
Locust options go after ``--`` and are passed through to every Locust process
(``motcua loadtest peak-day -- --csv-full-history``); the ones motcua sets itself are refused.
``--locust-help`` prints Locust's own help with motcua's locustfile loaded (its ``--motcua-*`` options):
Locust 2.x answers ``locust -f <locustfile> --help`` before it imports the locustfile, so they are not there.
Exit codes: 0 all gates passed; 3 an SLO gate failed; 4 the payment invariant broke (a payment lost,
credited twice, for a wrong amount or without approval; with --merchant: the merchant answered 00 to a tampered
IPN or credited twice); 2 bad input; 6 a service could not be started or reached.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from motcua.errors import InputError

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``1.5m``, ``2h`` → seconds."""
    match = _DURATION.match(text.strip())
    if not match or float(match.group(1)) <= 0:
        raise InputError(f"--duration {text!r}: not a positive duration; write e.g. 60s, 1.5m or 2h")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


class LocustHelp(argparse.Action):
    """``--locust-help``: Locust's help with the locustfile's ``--motcua-*`` options, then exit (like ``--help``)."""

    def __init__(self, option_strings, dest, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(locust_help())
        parser.exit()


def locust_help() -> str:
    """Locust's ``--help`` as it would read if Locust imported motcua's locustfile first (``--motcua-*`` included)."""
    import os

    os.environ.setdefault("LOCUST_SKIP_MONKEY_PATCH", "1")  # a help text: no need to patch this process for gevent
    from locust.argument_parser import get_parser

    from motcua.loadtest.locust_options import add_arguments

    parser = get_parser()  # Locust's options, and those of any plugin already loaded
    if "--motcua-scenario" not in parser._option_string_actions:
        add_arguments(parser)
    return parser.format_help()


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "loadtest",
        help="load-test the payment path with Locust (callback latency, open model, SLO gates)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scenario", type=Path, help="scenario TOML file ([payment_system], [load], [slo])")
    p.add_argument("--duration", help="length of the arrival profile, e.g. 60s (default: the profile's own)")
    model = p.add_mutually_exclusive_group()
    model.add_argument("--rate", type=float, help="open model: base arrival rate, journeys per second")
    model.add_argument("--users", type=int, help="closed model: this many Locust users instead of arrivals")
    p.add_argument("--profile", help="profile name in [load.profiles] (default: load.profile)")
    p.add_argument("--arrivals", choices=("poisson", "deterministic"), default="poisson")
    p.add_argument("--faults", type=Path, help="TOML fault file for the mocks (docs/contracts.md §2)")
    p.add_argument("--workers", type=int, default=0, help="Locust master + N worker processes (default: one)")
    p.add_argument("--find-capacity", action="store_true", help="raise the rate step by step until an SLO breaks")
    p.add_argument("--capacity-factor", type=float, default=1.5, help="rate multiplier per capacity step")
    p.add_argument("--capacity-steps", type=int, default=6, help="at most this many capacity steps")
    p.add_argument("--gateway-url", help="gateway of a running system (with --agency-url and --bank-url)")
    p.add_argument("--agency-url", help="agency one-stop-shop system of a running system")
    p.add_argument("--bank-url", help="bank service of a running system")
    p.add_argument("--allow-non-loopback", action="store_true", help="permit targets other than 127.0.0.1")
    p.add_argument("--out", type=Path, help="write the run here instead of results/<scenario>/<run-id>/")
    p.add_argument("--ui", action="store_true", help="Locust's web UI on 127.0.0.1 (autostarts, quits after)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--junit", type=Path, help="also write the SLO verdicts as JUnit XML")
    p.add_argument("--max-concurrency", type=int, default=2000, help="journeys in flight per generator")
    p.add_argument(
        "--callback-deadline",
        type=float,
        help="seconds after bank approval before a missing IPN counts as lost (default: the slowest bank's "
        "notification cap + 15 s, at least 10 s)",
    )
    p.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="the mocks' schedule compression: 1 = real time (default); 0.01 = notification delays and "
        "IPN retries 100× faster, for quick checks (callback latencies shrink with it)",
    )
    p.add_argument("--slo", action="append", default=[], metavar="EXPR", dest="slo_items",
                   help="a threshold, k6-style, e.g. 'callback.p95{bank=AGRIBANK} < 20s' (replaces the scenario's on "
                   "the same metric and tags), or a named [slo] gate's limit GATE=N in its unit, e.g. conformance=0 or "
                   "error_rate=1%% (repeatable)")
    p.add_argument("--slo-abort", action="store_true",
                   help="stop the run early once a threshold the harness checks live (callback, lost_callbacks, "
                   "late_callbacks) has failed; or end one threshold with 'abort'")
    p.add_argument("--capacity-repeats", type=int, default=3,
                   help="--find-capacity: run a rate up to this many times until its verdict is clear")
    p.add_argument("--lang", choices=("vi", "en"), default="vi", help="language of the chart labels")
    p.add_argument("--protocol", choices=("motcua", "vnpay"), default="motcua",
                   help="how the agency mock integrates the gateway: motcua JSON API (default) or VNPay 2.1.0")
    p.add_argument("--merchant", type=Path,
                   help="merchant file of a merchant system under test (needs --protocol vnpay; docs/contracts.md)")
    p.add_argument("--metrics-port", type=int,
                   help="serve live metrics for Prometheus on 127.0.0.1:PORT/metrics while the run goes")
    p.add_argument("--quiet", action="store_true", help="no live status line and no report on the console")
    p.add_argument("--locust-help", action=LocustHelp,
                   help="print Locust's options with the locustfile's --motcua-* ones, and exit")
    p.add_argument("--strict", action="store_true",
                   help="the VNPay front refuses payment URLs that deviate from the documented contract (default: "
                        "accepts what a real VNPay accepts and reports each deviation; docs/contracts.md §1d)")
    p.set_defaults(func=run, locust_args=[])


def run(args: argparse.Namespace) -> int:
    from motcua.loadtest.runner import LoadtestOptions, run_loadtest
    from motcua.loadtest.runner.locust_processes import check_locust_args
    from motcua.report import loadtest_charts
    from motcua.scenario import bundled_scenarios, scenario_file

    args.scenario = scenario_file(args.scenario)
    if not args.scenario.is_file():
        raise InputError(f"{args.scenario}: scenario file not found; give a path or a bundled scenario's name "
                         f"({', '.join(p.stem for p in bundled_scenarios())})")
    if args.merchant is not None:
        from motcua.loadtest.merchant import load_merchant

        load_merchant(args.merchant, allow_non_loopback=args.allow_non_loopback)  # exit 2 before anything starts
    options = LoadtestOptions(
        duration_s=parse_duration(args.duration) if args.duration else None,
        rate_per_s=args.rate,
        users=args.users,
        profile=args.profile,
        arrivals=args.arrivals,
        faults_file=args.faults,
        workers=args.workers,
        find_capacity=args.find_capacity,
        capacity_factor=args.capacity_factor,
        capacity_steps=args.capacity_steps,
        capacity_repeats=args.capacity_repeats,
        thresholds=tuple(args.slo_items),
        slo_abort=args.slo_abort,
        gateway_url=args.gateway_url,
        agency_url=args.agency_url,
        bank_url=args.bank_url,
        allow_non_loopback=args.allow_non_loopback,
        ui=args.ui,
        seed=args.seed,
        junit=args.junit,
        max_concurrency=args.max_concurrency,
        callback_deadline_s=args.callback_deadline,
        time_scale=args.time_scale,
        lang=args.lang,
        protocol=args.protocol,
        merchant_file=args.merchant,
        metrics_port=args.metrics_port,
        quiet=args.quiet,
        locust_args=check_locust_args(args.locust_args),
        strict=args.strict,
    )
    if options.merchant_file is not None:  # a merchant system under test, measured from the gateway's records
        from motcua.loadtest.merchant import run_merchant

        summary = run_merchant(args.scenario, options, args.out, charts=loadtest_charts)
    else:
        summary = run_loadtest(args.scenario, options, args.out, charts=loadtest_charts)
    summary.raise_if_breached()
    return 0
