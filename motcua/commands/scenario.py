"""`motcua scenario check FILE...` and `motcua scenario schema [--out FILE]`.

``check`` validates each scenario file and prints a one-paragraph summary (units, interventions,
targets) and warnings (`motcua.scenario.scenario_warnings`: an intervention dated outside the simulated
period …); an invalid file gets a message naming the file, the field and the value, and exit code 2.
``schema`` writes the JSON Schema that editors (e.g. Taplo / Even Better TOML) use.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the scenario module loads lazily, as every command's does
    from motcua.scenario import Scenario


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("scenario", help="check scenario files, write the scenario JSON Schema",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="scenario_command", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate scenario files and summarise each")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE",
                       help="scenario TOML files (a bare name such as lang-son-2024 means a bundled one)")
    check.set_defaults(func=run_check)
    schema = actions.add_parser("schema", help="print or write the JSON Schema of scenario files")
    schema.add_argument("--out", type=Path, help="write to this file instead of standard output")
    schema.set_defaults(func=run_schema)


def run_check(args: argparse.Namespace) -> int:
    """Check every file (an error in one does not hide the others); exit 2 if any is invalid."""
    from motcua.errors import EXIT_BAD_INPUT, ScenarioError
    from motcua.scenario import load_scenario, scenario_warnings

    failed = 0
    for number, file in enumerate(args.files):
        if number:
            print()
        try:
            scenario = load_scenario(file)
        except ScenarioError as exc:
            failed += 1
            print(f"motcua scenario: error: {exc}", file=sys.stderr)
            continue
        print(f"{scenario.file}: OK")
        print(scenario.summary())
        for note in _notes(scenario):
            print(f"  note: {note}")
        for warning in scenario_warnings(scenario):
            print(f"  warning: {warning}")
    if failed and len(args.files) > 1:
        print(f"motcua scenario: {failed} of {len(args.files)} file(s) invalid", file=sys.stderr)
    return EXIT_BAD_INPUT if failed else 0


def _notes(scenario: Scenario) -> list[str]:
    """Things worth knowing that do not make the file invalid."""
    notes = []
    unmarked = scenario.unmarked_numbers()
    if unmarked:
        notes.append(f"{len(unmarked)} number(s) without provenance (add them to [provenance]): "
                     + ", ".join(unmarked[:8]) + (" …" if len(unmarked) > 8 else ""))
    catalogue = scenario.fee_catalogue_path()
    if not catalogue.exists():
        notes.append(f"payment_system.fee_catalogue: {catalogue} does not exist (the load test needs it)")
    return notes


def run_schema(args: argparse.Namespace) -> int:
    from motcua.runs import write_json
    from motcua.scenario import json_schema

    schema = json_schema()
    if args.out:
        write_json(args.out, schema)
        print(f"wrote {args.out}")
    else:
        json.dump(schema, sys.stdout, indent=2, ensure_ascii=False)
        print()
    return 0
