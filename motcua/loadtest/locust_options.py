"""The ``--motcua-*`` options every Locust process of a load test gets (the harness's, `motcua.loadtest.plugin`).

``motcua loadtest`` writes them for you; ``motcua loadtest --locust-help`` lists them with Locust's own
(`motcua.commands.loadtest.locust_help`).
"""

from __future__ import annotations


def add_arguments(parser) -> None:
    """The ``--motcua-*`` options (Locust's ``init_command_line_parser``); every Locust process gets them."""
    group = parser.add_argument_group("motcua", "payment journeys of the motcua workbench")
    group.add_argument("--motcua-scenario", default="", help="scenario TOML file (journeys, banks, groups, profiles)")
    group.add_argument("--motcua-profile", default="", help="load profile name (default: the scenario's load.profile)")
    group.add_argument("--motcua-model", default="open", choices=("open", "closed"), help="workload model")
    group.add_argument("--motcua-rate", type=float, default=0.0, help="base arrival rate per second (open model)")
    group.add_argument("--motcua-duration", type=float, default=0.0, help="length of the arrival profile, seconds")
    group.add_argument("--motcua-arrivals", default="poisson", choices=("poisson", "deterministic"),
                       help="arrival times: a Poisson process, or evenly spaced at the profile's rate")
    group.add_argument("--motcua-generators", type=int, default=1, help="open-model generators (one per worker)")
    group.add_argument("--motcua-max-concurrency", type=int, default=2000, help="journeys in flight per generator")
    group.add_argument("--motcua-callback-deadline", type=float, default=10.0, help="seconds before a CALLBACK fails")
    group.add_argument("--motcua-gateway-url", default="", help="gateway base URL")
    group.add_argument("--motcua-bank-url", default="", help="bank base URL")
    group.add_argument("--motcua-agency-url", default="", help="agency base URL (default: --host)")
    group.add_argument("--motcua-journal-since", type=int, default=-1, help="journal cursor (-1: its current end)")
    group.add_argument("--motcua-seed", type=int, default=1, help="seed of arrivals, payers and choices")
    group.add_argument("--motcua-out", default="", help="folder for harness.json (master or local process)")
    group.add_argument("--motcua-request-timeout", type=float, default=10.0, help="HTTP timeout, seconds")
    group.add_argument("--motcua-journey", default="citizen", help="journey: citizen, merchant or trivial")
    group.add_argument("--motcua-merchant", default="", help="merchant file (journey merchant)")
    group.add_argument("--motcua-metrics-port", type=int, default=0,
                       help="serve the live metrics for Prometheus on 127.0.0.1:PORT/metrics (master or local; 0: off)")
    group.add_argument("--motcua-live", type=int, default=1, choices=(0, 1),
                       help="write live.json (the status line's snapshot) every 2 s into --motcua-out (1: on)")
    group.add_argument("--motcua-abort", action="append", default=[], metavar="EXPR",
                       help="a threshold that stops the run once it has failed (motcua.loadtest.abort)")
