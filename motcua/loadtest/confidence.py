"""Whether a capacity step held, with a confidence interval instead of one lucky or unlucky run.

*Scenario*: at 40 journeys/s one callback of 1,700 was lost. Is 40/s past the knee, or was it the tail? A
single run cannot tell. `StepEvidence` pools the runs of one rate: the *bad* outcomes (journeys that failed,
callbacks lost or late) out of the *trials* (journeys finished and payments approved), and the Wilson score
interval (95%) of that share. The share's limit is the scenario's ``journey_failures`` limit. A step is

- **held** when the whole interval is at or below the limit and the latency gates held in most runs;
- **broke** when the whole interval is above the limit, or the latency gates failed in most runs;
- **unclear** when the interval straddles the limit: the search runs the rate again (``capacity_repeats``),
  pooling the counts, and calls it unclear if it still straddles after the last run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Z_95 = 1.959963984540054
COUNTED_GATES = frozenset({"journey_failures", "lost_callbacks", "late_callbacks", "error_rate", "dropped_arrivals"})
"""Gates on shares and counts of outcomes: judged by the pooled interval, not run by run."""


def wilson(failures: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``failures / trials`` (``(0, 1)`` with no trials)."""
    if trials <= 0:
        return 0.0, 1.0
    p = failures / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class StepEvidence:
    """The runs of one capacity step, pooled: bad outcomes of trials, and which latency gates failed in each run."""

    rate_per_s: float
    limit: float
    """The largest acceptable share of bad outcomes (the scenario's ``journey_failures``)."""
    failures: int = 0
    trials: int = 0
    runs: int = 0
    latency_failed_runs: int = 0
    invariant_broken: bool = False
    folders: list[str] = field(default_factory=list)

    def add(self, data: Mapping[str, Any], folder: str) -> None:
        """One run's summary.json content."""
        self.runs += 1
        self.folders.append(folder)
        self.failures += int(data["journeys"].get("failures", 0)) + int(data["lost_callbacks"])
        self.failures += int(data.get("late_callbacks", 0))
        self.trials += int(data["throughput"]["journeys_finished"]) + int(data.get("approvals", 0))
        if any(not v["passed"] and v["name"] not in COUNTED_GATES for v in data["slo"]):
            self.latency_failed_runs += 1
        if data["invariant"]["ok"] is False:
            self.invariant_broken = True

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.failures, self.trials)

    @property
    def verdict(self) -> str:
        """``held``, ``broke`` or ``unclear`` (see the module)."""
        if self.invariant_broken or self.latency_failed_runs * 2 > self.runs:
            return "broke"
        low, high = self.interval
        if low > self.limit:
            return "broke"
        if high <= self.limit and self.latency_failed_runs * 2 < self.runs:
            return "held"
        return "unclear"

    def as_dict(self) -> dict[str, Any]:
        low, high = self.interval
        verdict = self.verdict
        return {
            "rate_per_s": self.rate_per_s,
            "runs": self.runs,
            "failures": self.failures,
            "trials": self.trials,
            "share": self.failures / self.trials if self.trials else None,
            "interval": [low, high],
            "limit": self.limit,
            "latency_failed_runs": self.latency_failed_runs,
            "held": verdict == "held",
            "verdict": verdict,
            "clarity": "unclear" if verdict == "unclear" else "clear",
            "folders": self.folders,
        }


def knee(steps: Sequence[Mapping[str, Any]]) -> float | None:
    """The highest rate whose step held, below the first step that did not."""
    best = None
    for step in steps:
        if not step["held"]:
            break
        best = step["rate_per_s"]
    return best
