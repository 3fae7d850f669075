"""Thresholds in k6's habit: ``callback.p95{bank=AGRIBANK} < 20s`` on any measured metric, with tags.

*Scenario*: the province wants Agribank's IPNs within 20 s for 95% of payments, whatever the other banks do,
and no more than 1% of journeys failing. The scenario's ``[slo]`` says so::

    [slo]
    callback_p95_ms = 30000                                   # the five gates keep their syntax
    thresholds = ["callback.p95{bank=AGRIBANK} < 20s", "journey_failures.rate < 1%",
                  'http.p99{route="POST /dossiers"} < 800ms', "lost_callbacks.count < 1 abort"]

(a trailing ``abort`` — ``"lost_callbacks.count < 1 abort"`` — stops the run once that threshold has failed,
`motcua.loadtest.abort`), and ``motcua loadtest --slo EXPR`` (repeatable) adds one or replaces the file's
threshold on the same metric, statistic and tags. A named gate's limit is a threshold too: ``GATE=N[unit]``
(``--slo error_rate=0.01``, ``--slo callback_p95_ms=20s``, ``--slo conformance=0``) is ``GATE's metric <= N`` in the
gate's unit (`motcua.loadtest.metrics.NAMED_GATES`). An expression is ``metric.stat{tag=value,…} OP number[unit]``:
the metrics and their statistics and tags are `motcua.loadtest.metrics.METRICS`; OP is ``<``, ``<=``, ``>``, ``>=``; the
units are ``ms``, ``s``, ``%`` (or none: milliseconds, a share 0–1, a count). A bad expression is an
`InputError` (exit 2) naming it and what is wrong, with "did you mean" for a misspelt metric.

`measure` reads a metric's value from summary.json's content; it returns the value and whether it is
*censored* — a callback percentile that falls on a lost or late callback is only known to be ≥ the deadline.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from motcua.errors import InputError
from motcua.loadtest.metrics import METRICS, NAMED_GATES

OPS = ("<=", ">=", "<", ">")
_EXPR = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][\w]*)(?:\.(?P<stat>[A-Za-z_][\w]*))?\s*(?:\{(?P<tags>[^}]*)\})?\s*"
    r"(?P<op><=|>=|<|>)\s*(?P<number>[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*(?P<unit>ms|s|%)?\s*$"
)
_GATE = re.compile(r"^\s*(?P<gate>[A-Za-z_]\w*)\s*=(?!=)\s*(?P<value>.*?)\s*$")
_VALUE = re.compile(r"^(?P<number>[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*(?P<unit>ms|s|%)?$")
_TAG = re.compile(r'^\s*(?P<key>[A-Za-z_]\w*)\s*=\s*(?:"(?P<quoted>[^"]*)"|(?P<bare>[^,"]*?))\s*$')
DEFAULT_STAT = {"ms": "p95", "share": "rate", "count": "count"}


@dataclass(frozen=True)
class Threshold:
    """One threshold: ``metric.stat{tags} op limit`` (limit in ms, a share 0–1 or a count)."""

    metric: str
    stat: str
    tags: tuple[tuple[str, str], ...]
    op: str
    limit: float
    expression: str
    abort: bool = False
    name: str = field(default="", compare=False)
    """The verdict's name: the legacy gate's (``callback_p95_ms``) or the canonical ``metric.stat{tags}``."""

    @property
    def key(self) -> str:
        """``metric.stat{tag=value,…}`` — what an override on the command line replaces."""
        tags = ",".join(f"{k}={v}" for k, v in self.tags)
        return f"{self.metric}.{self.stat}" + (f"{{{tags}}}" if tags else "")

    def canonical(self) -> str:
        """The threshold as an expression `parse` reads back (limits in ms, shares 0–1, counts)."""
        tags = ",".join(f'{k}="{v}"' for k, v in self.tags)
        return f"{self.metric}.{self.stat}" + (f"{{{tags}}}" if tags else "") + f" {self.op} {self.limit!r}"

    @property
    def unit(self) -> str:
        return METRICS[self.metric].unit_of(self.stat)

    def holds(self, measured: float, censored: bool) -> bool:
        """Whether `measured` keeps the threshold; a censored value (true value ≥ it) never proves an upper bound."""
        if math.isnan(measured):
            return False
        if self.op in ("<", "<="):
            return not censored and (measured < self.limit if self.op == "<" else measured <= self.limit)
        return measured > self.limit if self.op == ">" else measured >= self.limit


def parse(expression: str, *, abort: bool = False, where: str = "--slo") -> Threshold:
    """One threshold from its expression, or a named gate's ``GATE=N``; `InputError` (exit 2) naming `where`, the
    expression and the problem."""
    gate = _GATE.match(expression)
    if gate is not None:
        return _gate_expression(gate["gate"], gate["value"], expression, abort, where)
    match = _EXPR.match(expression)
    if match is None:
        raise InputError(
            f"{where} {expression!r}: not a threshold; write metric.stat{{tag=value}} OP number[unit], "
            "e.g. 'callback.p95{bank=AGRIBANK} < 20s' or 'journey_failures.rate < 1%'"
        )
    name = match["metric"]
    metric = METRICS.get(name)
    if metric is None:
        close = difflib.get_close_matches(name, METRICS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"{where} {expression!r}: unknown metric {name!r}{hint} (known: {', '.join(METRICS)})")
    stat = match["stat"] or DEFAULT_STAT[metric.unit]
    if stat not in metric.stats:
        close = difflib.get_close_matches(stat, metric.stats, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"{where} {expression!r}: {name} has no statistic {stat!r}{hint} "
                         f"(known: {', '.join(metric.stats)})")
    tags = _tags(match["tags"], metric.tags, expression, where)
    limit = _limit(float(match["number"]), match["unit"], metric.unit_of(stat), expression, where)
    return Threshold(name, stat, tags, match["op"], limit, expression.strip(), abort)


def _gate_expression(name: str, value: str, expression: str, abort: bool, where: str) -> Threshold:
    """``error_rate=0.01``: the named gate's threshold, its limit read in the gate's unit (``1%``, ``20s`` too)."""
    _check_gate(name, f"{where} {expression!r}")
    metric, stat, _tags = NAMED_GATES[name]
    unit = METRICS[metric].unit_of(stat)
    number = _VALUE.match(value)
    if number is None:
        example = {"ms": "20000 or 20s", "share": "0.01 or 1%", "count": "0"}[unit]
        raise InputError(f"{where} {expression!r}: {name} takes a limit in {unit} ({example}), not {value!r}")
    limit = _limit(float(number["number"]), number["unit"], unit, expression, where)
    return replace(gate_limit(name, limit, where=where), abort=abort)


def gate_limit(name: str, limit: float, *, where: str = "[slo]") -> Threshold:
    """The named gate `name` as its threshold, ``metric.stat{tags} <= limit`` (the verdict keeps the gate's name)."""
    _check_gate(name, where)
    metric, stat, tags = NAMED_GATES[name]
    return Threshold(metric, stat, tags, "<=", limit, f"{name} <= {limit:g}", name=name)


def _check_gate(name: str, context: str) -> None:
    if name not in NAMED_GATES:
        close = difflib.get_close_matches(name, NAMED_GATES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"{context}: unknown gate {name!r}{hint} (known gates: {', '.join(NAMED_GATES)}; or write a "
                         "threshold, metric.stat OP number)")


def _tags(text: str | None, known: tuple[str, ...], expression: str, where: str) -> tuple[tuple[str, str], ...]:
    if not text or not text.strip():
        return ()
    tags = []
    for part in text.split(","):
        tag = _TAG.match(part)
        if tag is None or not (tag["quoted"] if tag["quoted"] is not None else tag["bare"]):
            raise InputError(f"{where} {expression!r}: tag {part.strip()!r} is not key=value")
        key = tag["key"]
        if key not in known:
            allowed = f"its tags are {', '.join(known)}" if known else "it has no tags"
            raise InputError(f"{where} {expression!r}: unknown tag {key!r}; {allowed}")
        tags.append((key, tag["quoted"] if tag["quoted"] is not None else tag["bare"]))
    return tuple(sorted(tags))


def _limit(number: float, unit: str | None, wanted: str, expression: str, where: str) -> float:
    if unit in ("ms", "s"):
        if wanted != "ms":
            raise InputError(f"{where} {expression!r}: {unit} is a time, but this statistic is a {wanted}")
        return number * 1000 if unit == "s" else number
    if unit == "%":
        if wanted != "share":
            raise InputError(f"{where} {expression!r}: % is a share, but this statistic is a {wanted}")
        return number / 100
    return number


def from_table(entries: Any, where: str = "[slo] thresholds") -> list[Threshold]:
    """The ``thresholds`` list of a scenario's ``[slo]``: strings or ``{expr = …, abort = true}`` tables."""
    out = []
    for entry in entries or ():
        if isinstance(entry, str):
            out.append(parse(entry, where=where))
        elif isinstance(entry, Mapping) and isinstance(entry.get("expr"), str):
            unknown = set(entry) - {"expr", "abort"}
            if unknown:
                raise InputError(f"{where}: {entry!r}: unknown field(s) {', '.join(sorted(unknown))}; use expr, abort")
            out.append(parse(entry["expr"], abort=bool(entry.get("abort", False)), where=where))
        else:
            raise InputError(f"{where}: {entry!r}: give an expression string or {{ expr = '…', abort = true }}")
    return out


def merged(base: list[Threshold], overrides: list[Threshold]) -> list[Threshold]:
    """`base` with each of `overrides` replacing the one on the same metric, statistic and tags (or added)."""
    by_key = {t.key: t for t in base}
    for t in overrides:
        by_key[t.key] = t
    return list(by_key.values())


# ---------------------------------------------------------------- reading a metric from summary.json's content

def measure(data: Mapping[str, Any], t: Threshold) -> tuple[float | None, bool]:
    """The value of `t`'s metric and statistic in summary.json's content, and whether it is censored."""
    tags = dict(t.tags)
    if t.metric in ("callback", "officer"):
        block = data["callbacks"].get("ipn_ack" if t.metric == "callback" else "officer_sees_paid", {})
        if "bank" in tags:
            block = block.get("by_bank", {}).get(tags["bank"], {})
        if "group" in tags:
            block = block.get("by_group", {}).get(tags["group"], {})
        return _stat(block, t.stat), t.stat in block.get("censored", ())
    if t.metric == "http":
        rows = data["request_types"]
        block = rows.get(tags["route"], {}) if "route" in tags else _pooled_requests(rows)
        return _stat(block, t.stat), False
    if t.metric == "journey":
        journeys = data["journeys"]
        block = journeys["by_outcome"].get(tags["outcome"], {}) if "outcome" in tags else journeys["all"]
        return _stat(block, t.stat), False
    return _share_metric(data, t.metric, t.stat, tags), False


def _stat(block: Mapping[str, Any], stat: str) -> float | None:
    value = block.get(stat)
    if value is None and stat == "count":
        return 0.0
    return None if value is None else float(value)


def _pooled_requests(rows: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """All requests: the count, and the maximum; pooled percentiles need a route (HDR per route)."""
    return {"count": sum(r.get("count", 0) for r in rows.values()),
            "max": max((r.get("max", 0) for r in rows.values()), default=None)}


def _share_metric(data: Mapping[str, Any], metric: str, stat: str, tags: Mapping[str, str]) -> float | None:
    """Counts and their shares: (numerator, denominator) of each counted metric."""
    if metric == "journey_failures":
        failures = data["journeys"].get("failures_by_step", {})
        count = failures.get(tags["step"], 0) if "step" in tags else data["journeys"]["failures"]
        total = data["throughput"]["journeys_finished"]
    elif metric == "http_errors":
        count, total = data["throughput"]["http_failures"], data["throughput"]["http_requests"]
    elif metric == "conformance":  # a merchant run's deviations (motcua.loadtest.merchant_ipns); none elsewhere
        count, total = (data.get("conformance") or {}).get("deviations", 0), 0
    elif metric == "dropped_arrivals":
        count, total = data["arrivals"]["dropped"], data["arrivals"]["intended"]
    else:  # lost_callbacks, late_callbacks
        count, total = data[metric], data.get("approvals", 0)
    if stat == "count":
        return float(count)
    if metric == "dropped_arrivals" and not total:
        return 0.0  # nothing intended, nothing dropped (the nothing-to-check rule catches an empty run)
    return count / total if total else None
