"""What every table of the scenario shares: the bundled folder, id patterns, ``'*'`` for all units, reference checks.

The tables below it (one module per TOML table) and the whole scenario (`motcua.scenario.document`) raise
`FieldProblem` through these helpers, so a bad period, unit id or source id is worded the same everywhere.
"""

from __future__ import annotations

import datetime as dt

from motcua.resources import bundled
from motcua.typed_config import FieldProblem

SCENARIO_DIR = bundled("motcua.scenarios")
"""Where the bundled scenarios live."""

SLUG = r"[a-z0-9][a-z0-9-]*"
PROVENANCE_KINDS = ("observed", "assumed", "derived", "setting")
ALL_UNITS = "*"


def check_period(start: dt.date, end: dt.date, start_name: str, end_name: str) -> None:
    """Raise `FieldProblem` at `end_name` when the period ends before it starts."""
    if end < start:
        raise FieldProblem(end_name, end.isoformat(), f"ends before {start_name} {start.isoformat()}")


def check_unit_refs(refs: tuple[str, ...], unit_ids: set[str], field: str) -> None:
    """Raise `FieldProblem` unless every id of `refs` names a unit (or is ``'*'``, every unit)."""
    if not refs:
        raise FieldProblem(field, [], "name at least one unit id, or ['*'] for all")
    for j, ref in enumerate(refs):
        if ref != ALL_UNITS and ref not in unit_ids:
            raise FieldProblem(f"{field}[{j}]", ref, f"no such unit; units: {', '.join(sorted(unit_ids))} or '*'")


def check_source(ref: str, source_ids: set[str], field: str) -> None:
    """Raise `FieldProblem` unless `ref` is the id of one of ``scenario.sources``."""
    if ref not in source_ids:
        known = ", ".join(sorted(source_ids)) or "(none: add [[scenario.sources]])"
        raise FieldProblem(field, ref, f"cites source {ref!r}, which is not in scenario.sources; known: {known}")
