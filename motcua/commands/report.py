"""`motcua report RUN_DIR`: rebuild the campaign report of a `motcua run` folder from its saved files.

    motcua report results/lang-son-2024/20241121-051000-ab12 --lang en

Nothing is rerun: the charts are redrawn into ``RUN_DIR/charts/`` and ``RUN_DIR/report.html`` is
rewritten from the JSON files the run saved (same files, same language → same content).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("report", help="rebuild report.html of a `motcua run` folder without rerunning",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a folder written by `motcua run`")
    p.add_argument("--lang", default="vi", choices=("vi", "en"), help="language of the report (default vi)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from motcua.errors import InputError
    from motcua.report.html import build_report

    if not args.run_dir.is_dir():
        raise InputError(f"RUN_DIR {args.run_dir}: no such folder; list runs with `motcua results list`")
    print(f"Report: {build_report(args.run_dir, args.lang)}")
    return 0
