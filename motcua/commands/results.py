"""`motcua results list`: the finished runs under results/, with their headline figures.

One line per run: when it started, the scenario, the command that made it, the run id and the
figures a planner or engineer reads first (from the run's ``summary.json``). ``--json`` prints the
same as a JSON list for scripts and notebooks. Unfinished (partial) runs are never listed.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("results", help="past runs under results/ (motcua results list)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    lister = actions.add_parser("list", help="list finished runs with their headline figures")
    lister.add_argument("--scenario", default=None, metavar="NAME",
                        help="only runs of this scenario (the folder name under results/)")
    lister.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    lister.add_argument("--results-root", type=Path, default=None, metavar="DIR",
                        help="folder that holds results/<scenario>/… (default: the project's results/)")
    lister.set_defaults(func=run_list)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def _pct(value: Any) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def headline_text(kind: str, summary: Mapping[str, Any] | None) -> str:
    """A short line of the run's headline figures; kinds this module does not know show their scalars."""
    if not summary:
        return "(no summary.json)"
    head = summary.get("headline")
    if kind == "simulate" and head:
        return _simulate_text(head)
    if kind == "compare" and head:
        return "; ".join(f"{name}: {_simulate_text(h)}" for name, h in head.items())
    if isinstance(head, dict):
        scalars = [f"{k}={v}" for k, v in head.items() if isinstance(v, int | float | str | bool)]
        return ", ".join(scalars[:6])
    return ""


def _simulate_text(head: dict[str, Any]) -> str:
    final = head.get("final_share") or {}
    parts = [f"final share {_pct(final.get('mean'))}"]
    if head.get("target_share") is not None:
        p = (head.get("probability_by_deadline") or {}).get("mean")
        parts.append(f"P(≥{_pct(head['target_share'])} by {head['target_date']}) {_pct(p)}")
        if head.get("reached_date_mean"):
            parts.append(f"reached ~{head['reached_date_mean']}")
    return ", ".join(parts)


def run_entries(scenario: str | None = None, results_root: Path | None = None) -> list[dict[str, Any]]:
    """Finished runs as plain dicts (what ``--json`` prints), oldest first."""
    from motcua.runs import list_runs

    entries = []
    for info in list_runs(results_root):
        manifest = info.manifest
        name = manifest.get("scenario") or info.path.parent.name
        if scenario is not None and name != scenario:
            continue
        kind = manifest.get("kind") or ""
        entries.append({
            "scenario": name,
            "run_id": manifest.get("run_id", info.path.name),
            "kind": kind,
            "started_at": manifest.get("started_at"),
            "finished_at": manifest.get("finished_at"),
            "seed": manifest.get("seed"),
            "command": manifest.get("command_line"),
            "path": str(info.path),
            "headline": (info.summary or {}).get("headline"),
            "headline_text": headline_text(kind, info.summary),
        })
    return entries


def run_list(args: argparse.Namespace) -> int:
    entries = run_entries(args.scenario, args.results_root)
    if args.json:
        print(json.dumps(entries, ensure_ascii=False, indent=2))
        return 0
    if not entries:
        where = f" of scenario {args.scenario!r}" if args.scenario else ""
        print(f"No finished runs{where}. Make one with e.g. `motcua simulate lang-son-2024 --quick`.")
        return 0
    rows = [(e["started_at"] or "", e["scenario"], e["kind"], e["run_id"], e["headline_text"]) for e in entries]
    header = ("started (UTC)", "scenario", "command", "run id", "headline")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4])
    return 0
