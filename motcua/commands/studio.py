"""`motcua studio`: the planners' workbench in the browser (scenarios, editor, runs, results, compare, exports).

It listens on 127.0.0.1 and a free port unless told otherwise, prints the address and opens the browser
(``--no-browser`` to not). ``--host`` other than a loopback address serves the office network: an access token is
then drawn, printed in the address, and required on every request. Runs started from the pages are ordinary
`motcua simulate` / `motcua compare` commands writing ordinary run folders under ``--results``.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("studio", help="the planners' workbench in the browser (local web application)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=Path("motcua-workspace"), metavar="DIR",
                        help="folder of your own scenarios (default ./motcua-workspace)")
    parser.add_argument("--results", type=Path, default=Path("results"), metavar="DIR",
                        help="folder of run folders (default ./results, as the other commands)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; any other needs the printed access token)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="runs at once; more wait in the queue (default: one per CPU core)")
    parser.add_argument("--no-browser", action="store_true", help="do not open the browser")
    parser.set_defaults(func=run_studio)


def run_studio(args: argparse.Namespace) -> int:
    import asyncio

    from motcua.errors import InputError
    from motcua.studio.serve import serve

    if args.jobs is not None and args.jobs < 1:
        raise InputError(f"--jobs {args.jobs}: must be at least 1")
    if not 0 <= args.port <= 65535:
        raise InputError(f"--port {args.port}: must be within 0–65535 (0: a free port)")
    asyncio.run(serve(workspace=args.workspace, results_root=args.results, host=args.host, port=args.port,
                      max_jobs=args.jobs, open_browser=not args.no_browser))
    return 0
