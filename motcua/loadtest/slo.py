"""SLO gates: the limits an engineer agreed for the payment path, checked at the end of a load test.

The scenario's ``[slo]`` table names them. The named gates are upper bounds ("measured ≤ limit"):

| key               | measured as                                                                   |
| ----------------- | ----------------------------------------------------------------------------- |
| `callback_p95_ms` | exact p95 of bank approval → IPN acknowledged; a lost or late callback is +∞ (censored) |
| `create_p99_ms`   | p99 (HDR) of the citizen's dossier submission, which creates the payment      |
| `error_rate`      | failed HTTP requests ÷ HTTP requests (share 0–1)                              |
| `dropped_arrivals`| arrivals refused by the concurrency cap ÷ intended arrivals (share 0–1)       |
| `lost_callbacks`  | approved payments whose IPN never arrived (count)                             |
| `late_callbacks`  | approved payments whose IPN arrived after the callback deadline (count)       |
| `journey_failures`| journeys that did not end as the journey expects ÷ journeys finished (share)  |

Beside them, ``thresholds`` in k6's habit on any metric with tags (`motcua.loadtest.thresholds`), and
``--slo EXPR`` on the command line. A run that had nothing to check (no payment approved) fails its
``nothing_checked`` gate: an SLO is never passed by silence. A breach raises `motcua.errors.SLOBreach`
(exit code 3) after the table and the JUnit file are written.

Under ``--time-scale s`` the mocks run their schedules (bank notification delays, IPN retries) s times as
long, and the callback deadline is compressed with them. The time limits on the metrics those schedules make
(`SCHEDULED_METRICS`) move to the same clock (`on_mock_clock`): a limit L becomes ``L × s + UNCOMPRESSED_MS``,
so a bank that notifies slowly fails ``callback_p95_ms`` at 0.01 as it would in real time. The HTTP hops
(bank → gateway → agency) are not compressed; `UNCOMPRESSED_MS` allows for them.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from motcua.errors import InputError, SLOBreach
from motcua.loadtest.metrics import METRICS, NAMED_GATES
from motcua.loadtest.thresholds import Threshold, gate_limit, measure, merged

GATES: dict[str, tuple[str, str]] = {
    "callback_p95_ms": ("ms", "callback p95 (bank approval → IPN acknowledged)"),
    "create_p99_ms": ("ms", "dossier + payment create p99"),
    "error_rate": ("share", "HTTP error rate"),
    "dropped_arrivals": ("share", "dropped arrivals (of intended)"),
    "lost_callbacks": ("count", "callbacks that never arrived"),
    "late_callbacks": ("count", "callbacks that arrived after the deadline"),
    "journey_failures": ("share", "journeys that did not end as expected (of finished)"),
    "conformance": ("count", "deviations of the merchant's VNPay payment URLs"),
}
GATE_METRICS = NAMED_GATES
"""Each named gate as the metric, statistic and tags it bounds (so ``--slo 'callback.p95 < 20s'`` replaces it)."""
NOTHING_CHECKED = "nothing_checked"
SCHEDULED_METRICS = ("callback", "officer")
"""Metrics whose times the mocks' schedules make (notification delays, IPN retries), so ``--time-scale`` scales."""
UNCOMPRESSED_MS = 500.0
"""Allowance, on the mocks' clock, for the hops ``--time-scale`` does not compress (three loopback HTTP requests and
the services' work; a few ms each on a quiet machine, a hundred or more on a loaded one)."""
NEGATION = {"<=": ">", "<": "≥", ">=": "<", ">": "≤"}


@dataclass(frozen=True)
class Verdict:
    """One gate: its limit, what was measured, and whether it held."""

    name: str
    limit: float
    measured: float | None
    unit: str
    description: str
    op: str = "<="
    censored: bool = False
    """The measured value is only a lower bound (a percentile on a lost or late callback: ≥ the deadline)."""
    expression: str = ""

    @property
    def passed(self) -> bool:
        # a gate with nothing measured (no callbacks at all) fails: an SLO is never passed by silence
        if self.measured is None or math.isnan(self.measured):
            return False
        return Threshold("", "", (), self.op, self.limit, "").holds(self.measured, self.censored)

    def shown(self) -> str:
        """The measured value as the table shows it: ``≥ 45,000.0 ms (censored at the deadline)`` when censored."""
        text = format_measure(self.measured, self.unit)
        return f"≥ {text} (censored at the deadline)" if self.censored and self.measured is not None else text

    def breach(self) -> str:
        """How a failed gate failed: ``measured … > limit …`` in the gate's unit."""
        if self.name == NOTHING_CHECKED:
            return "nothing to check: no payment was approved, so no callback or invariant was checked"
        limit = format_measure(self.limit, self.unit)
        if self.measured is None:
            return f"not measured (limit {limit})"
        return f"measured {self.shown()} {NEGATION[self.op]} limit {limit}"

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "limit": self.limit,
            "measured": self.measured,
            "unit": self.unit,
            "passed": self.passed,
            "description": self.description,
            "op": self.op,
            "censored": self.censored,
            "expression": self.expression,
        }


def evaluate(
    limits: Mapping[str, float | None], measured: Mapping[str, float | None], censored: Collection[str] = ()
) -> list[Verdict]:
    """A verdict for every named gate that is set (a limit of None is not checked)."""
    verdicts = []
    for name, limit in limits.items():
        if limit is None:
            continue
        if name not in GATES:
            raise InputError(f"[slo] {name} = {limit!r}: unknown gate; known gates: {', '.join(GATES)}")
        unit, description = GATES[name]
        verdicts.append(Verdict(name, float(limit), measured.get(name), unit, description,
                                censored=name in censored, expression=f"{name} <= {limit:g}"))
    return verdicts


def gate_threshold(name: str, limit: float) -> Threshold:
    """A named gate as a `Threshold` (``callback_p95_ms = 30000`` is ``callback.p95 <= 30000ms``)."""
    return gate_limit(name, float(limit), where=f"[slo] {name} = {limit!r}")


def plan_thresholds(limits: Mapping[str, float | None], extra: Sequence[Threshold] = (),
                    overrides: Sequence[Threshold] = ()) -> list[Threshold]:
    """The run's thresholds: the named gates, the scenario's `extra`, then `overrides` (``--slo``) replacing any on
    the same metric, statistic and tags."""
    gates = [gate_threshold(name, limit) for name, limit in limits.items() if limit is not None]
    return merged(merged(gates, list(extra)), list(overrides))


def on_mock_clock(gates: Sequence[Threshold], time_scale: float) -> list[Threshold]:
    """The thresholds with the time limits of `SCHEDULED_METRICS` on the mocks' clock: ``L × time_scale +
    UNCOMPRESSED_MS`` when the schedules are compressed (``time_scale`` < 1), unchanged at 1 (real time)."""
    if time_scale >= 1.0:
        return list(gates)
    return [_scaled(t, time_scale) if t.metric in SCHEDULED_METRICS and t.unit == "ms" else t for t in gates]


def mock_clock_note(time_scale: float) -> str:
    """How `on_mock_clock` moved the callback limits, for the console."""
    return f"a time limit L on callbacks is L × {time_scale:g} + {UNCOMPRESSED_MS:g} ms for the uncompressed HTTP hops"


def _scaled(t: Threshold, time_scale: float) -> Threshold:
    limit = t.limit * time_scale + UNCOMPRESSED_MS
    note = (f" (on the mocks' clock at --time-scale {time_scale:g}: {t.limit:g} ms × {time_scale:g} "
            f"+ {UNCOMPRESSED_MS:g} ms uncompressed = {limit:g} ms)")
    return replace(t, limit=limit, expression=t.expression + note)


def judge(thresholds: Sequence[Threshold], data: Mapping[str, Any]) -> list[Verdict]:
    """Every threshold measured on summary.json's content, and ``nothing_checked`` when no payment was approved."""
    verdicts = []
    for t in thresholds:
        value, censored = measure(data, t)
        name = t.name or t.key
        unit = t.unit
        description = GATES[t.name][1] if t.name in GATES else METRICS[t.metric].description
        verdicts.append(Verdict(name, t.limit, value, unit, description, t.op, censored, t.expression))
    if not data.get("approvals"):
        verdicts.append(Verdict(NOTHING_CHECKED, 1, float(data.get("approvals") or 0), "count",
                                "approved payments to check (a run that checked nothing fails)", ">=", False,
                                "approvals >= 1"))
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
    return [
        Verdict(v["name"], v["limit"], v["measured"], v["unit"], v["description"], v.get("op", "<="),
                bool(v.get("censored", False)), v.get("expression", ""))
        for v in data["slo"]
    ]


def table(verdicts: list[Verdict]) -> str:
    """The limit-vs-measured table printed at the end of a run."""
    rows = [("gate", "limit", "measured", "verdict")]
    rows += [
        (v.name, f"{'' if v.op == '<=' else v.op + ' '}{format_measure(v.limit, v.unit)}", v.shown(),
         "PASS" if v.passed else "FAIL")
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
