"""Reading and writing a run folder's files: JSON checked against its record type, CSV, text — all atomic.

*Scenario.* ``motcua report`` rereads a run written last week: a file that is missing, broken or written by
another version of motcua is an `InputError` naming the file (and the missing key), never a ``KeyError``
deep in a chart. Every file a run writes appears whole or not at all (`motcua.atomic`), so a report or a
dashboard never reads half a summary.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from motcua.atomic import atomic_open, write_text
from motcua.errors import InputError
from motcua.run_layout.records import (
    ComparisonFile,
    DemandFile,
    Harness,
    InterventionsFile,
    LoadtestSummary,
    Manifest,
    QualityFile,
    RunSummary,
    SimulationSummary,
)

T = TypeVar("T")


def read_json(path: Path) -> Any:
    """The JSON value of `path`; a missing or broken file is an `InputError` naming it."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def read_typed(path: Path, kind: type[T]) -> T:
    """`path` read as the `TypedDict` `kind`, after checking that its required top-level keys are there."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object ({kind.__name__}), found {type(data).__name__}")
    required: frozenset[str] = getattr(kind, "__required_keys__", frozenset())
    missing = sorted(required - data.keys())
    if missing:
        raise InputError(f"{path}: missing key(s) {', '.join(missing)} of {kind.__name__}; the file was written "
                         "by another version of motcua or edited — rerun the command in its manifest.json")
    return cast(T, data)


def read_manifest(path: Path) -> Manifest:
    return read_typed(path, Manifest)


def read_simulation_summary(path: Path) -> SimulationSummary:
    return read_typed(path, SimulationSummary)


def read_run_summary(path: Path) -> RunSummary:
    return read_typed(path, RunSummary)


def read_interventions(path: Path) -> InterventionsFile:
    return read_typed(path, InterventionsFile)


def read_demand(path: Path) -> DemandFile:
    return read_typed(path, DemandFile)


def read_loadtest_summary(path: Path) -> LoadtestSummary:
    return read_typed(path, LoadtestSummary)


def read_harness(path: Path) -> Harness:
    return read_typed(path, Harness)


def read_quality(path: Path) -> QualityFile:
    return read_typed(path, QualityFile)


def read_comparison(path: Path) -> ComparisonFile:
    return read_typed(path, ComparisonFile)


def write_json(path: Path, obj: Any) -> Path:
    """Write JSON atomically (temporary file, then rename): a reader never sees half a file."""
    text = json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False, default=_json_default) + "\n"
    return write_text(path, text)


CSV_ENCODING = "utf-8-sig"
"""CSV files start with a UTF-8 byte-order mark, so Excel on Windows shows "Huyện Cao Lộc" rather than mojibake;
read them with ``encoding="utf-8-sig"`` (pandas' ``read_csv`` skips the mark by itself)."""


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """Write a CSV file atomically, with a UTF-8 byte-order mark (`CSV_ENCODING`) and a header row."""
    path = Path(path)
    with atomic_open(path, newline="") as fh:
        fh.write("\ufeff")
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, dt.date | dt.datetime):
        return obj.isoformat()
    if hasattr(obj, "tolist"):  # NumPy scalars and arrays
        return obj.tolist()
    raise TypeError(f"cannot write {type(obj).__name__} to JSON: {obj!r}")
