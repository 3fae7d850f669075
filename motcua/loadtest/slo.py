"""SLO gates: the limits an engineer agreed for the payment path, checked at the end of a load test.

The scenario's ``[slo]`` table names them; each is an upper bound ("measured ≤ limit"):

| key               | measured as                                                                   |
| ----------------- | ----------------------------------------------------------------------------- |
| `callback_p95_ms` | exact p95 of bank approval → IPN acknowledged (lost callbacks count at their deadline) |
| `create_p99_ms`   | p99 (HDR) of the citizen's dossier submission, which creates the payment      |
| `error_rate`      | failed HTTP requests ÷ HTTP requests (share 0–1)                              |
| `dropped_arrivals`| arrivals refused by the concurrency cap ÷ intended arrivals (share 0–1)       |
| `lost_callbacks`  | approved payments whose IPN was not acknowledged within the deadline (count)  |

A breach raises `motcua.errors.SLOBreach` (exit code 3) after the table and the JUnit file are written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from motcua.errors import InputError, SLOBreach

GATES: dict[str, tuple[str, str]] = {
    "callback_p95_ms": ("ms", "callback p95 (bank approval → IPN acknowledged)"),
    "create_p99_ms": ("ms", "dossier + payment create p99"),
    "error_rate": ("share", "HTTP error rate"),
    "dropped_arrivals": ("share", "dropped arrivals (of intended)"),
    "lost_callbacks": ("count", "callbacks lost past the deadline"),
    "conformance": ("count", "deviations of the merchant's VNPay payment URLs"),
}


@dataclass(frozen=True)
class Verdict:
    """One gate: its limit, what was measured, and whether it held."""

    name: str
    limit: float
    measured: float | None
    unit: str
    description: str

    @property
    def passed(self) -> bool:
        # a gate with nothing measured (no callbacks at all) fails: an SLO is never passed by silence
        return self.measured is not None and not math.isnan(self.measured) and self.measured <= self.limit

    def breach(self) -> str:
        """How a failed gate failed: ``measured … > limit …`` in the gate's unit."""
        return f"measured {format_measure(self.measured, self.unit)} > limit {format_measure(self.limit, self.unit)}"

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "limit": self.limit,
            "measured": self.measured,
            "unit": self.unit,
            "passed": self.passed,
            "description": self.description,
        }


def evaluate(limits: Mapping[str, float | None], measured: Mapping[str, float | None]) -> list[Verdict]:
    """A verdict for every limit that is set (a limit of None is not checked)."""
    verdicts = []
    for name, limit in limits.items():
        if limit is None:
            continue
        if name not in GATES:
            raise InputError(f"[slo] {name} = {limit!r}: unknown gate; known gates: {', '.join(GATES)}")
        unit, description = GATES[name]
        verdicts.append(Verdict(name, float(limit), measured.get(name), unit, description))
    return verdicts


def format_measure(value: float | None, unit: str) -> str:
    """A limit or a measured value in its unit: a share as a percentage, a count, else milliseconds."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not measured"
    if unit == "share":
        return f"{value:.4%}"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.1f} ms"


def verdicts_of(data: Mapping[str, Any]) -> list[Verdict]:
    """summary.json's ``slo`` back as `Verdict` objects."""
    return [Verdict(v["name"], v["limit"], v["measured"], v["unit"], v["description"]) for v in data["slo"]]


def table(verdicts: list[Verdict]) -> str:
    """The limit-vs-measured table printed at the end of a run."""
    rows = [("gate", "limit", "measured", "verdict")]
    rows += [
        (v.name, format_measure(v.limit, v.unit), format_measure(v.measured, v.unit), "PASS" if v.passed else "FAIL")
        for v in verdicts
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def raise_if_failed(verdicts: list[Verdict]) -> None:
    """Raise `SLOBreach` naming every gate that failed."""
    failed = [v for v in verdicts if not v.passed]
    if failed:
        parts = [f"{v.name}: {v.breach()}" for v in failed]
        raise SLOBreach("SLO breached — " + "; ".join(parts) + " (see the SLO table and summary.json)")
