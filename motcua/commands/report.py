"""`motcua report RUN_DIR`: rebuild the campaign report of a `motcua run` folder from its saved files.

    motcua report results/lang-son-2024/20241121-051000-ab12 --lang en
    motcua report RUN_DIR --dpi 300 --format png,svg     # charts for print, and as SVG

Nothing is rerun: the charts are redrawn into ``RUN_DIR/charts/``, and ``RUN_DIR/report.html`` and
``RUN_DIR/report.xlsx`` (its tables, with the report's headers) are rewritten from the files the run saved
(same files, same language → same content). A ``motcua sensitivity`` or ``motcua calibrate`` run of the same
scenario file made since is added to the report (the newest; the report says which run it shows).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from motcua.report.export import add_chart_options, with_chart_export


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("report", help="rebuild report.html of a `motcua run` folder without rerunning",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a folder written by `motcua run`")
    p.add_argument("--lang", default="vi", choices=("vi", "en"), help="language of the report (default vi)")
    add_chart_options(p)
    p.set_defaults(func=with_chart_export(run))


def run(args: argparse.Namespace) -> int:
    from motcua.errors import InputError
    from motcua.report.html import build_report

    if not args.run_dir.is_dir():
        raise InputError(f"RUN_DIR {args.run_dir}: no such folder; list runs with `motcua results list`")
    print(f"Report: {build_report(args.run_dir, args.lang)}")
    return 0
