"""When a target is reached (Decision 497's 45% by the end of 2024, Sơn La's 50% by the end of 2023): the date as a
band over the fit's uncertainty, not a single day.

`mean_field_band` reads it from the mean field at the estimates and at each bootstrap draw (the first day the
share reaches the target); `agent_band` from the agent model's runs by `motcua simulate`'s rule (the first day the
7-day mean reaches it), over the replications at the estimates and one replication per parameter draw.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
from motcua.models.calibration.agent_fit import AgentFit
from motcua.models.calibration.agent_model import reach_days
from motcua.models.calibration.mean_field import MeanField
from motcua.models.calibration.problem import Problem

from motcua.scenario import Target


@dataclasses.dataclass(frozen=True)
class TargetBand:
    """When a target is reached: the best fit's date, an interval over the bootstrap, and P(by the deadline)."""

    name: str
    share: float
    deadline: dt.date
    units: tuple[str, ...]
    best: dt.date | None
    low: dt.date | None
    high: dt.date | None
    level: float
    probability_by_deadline: float
    searched_until: dt.date

    def describe(self) -> str:
        def show(d: dt.date | None) -> str:
            return d.isoformat() if d else f"after {self.searched_until}"

        label = f"{self.name}: " if self.name else ""
        return (f"{label}{self.share:.0%} by {self.deadline}: reached {show(self.best)} (best fit); "
                f"{self.level:.0%} interval {show(self.low)} – {show(self.high)}; "
                f"P(reached by the deadline) = {self.probability_by_deadline:.0%}")


def mean_field_band(problem: Problem, target: Target, x: np.ndarray, draws: np.ndarray, level: float) -> TargetBand:
    """The first day the mean field reaches the target: at `x` (best), and its `level` interval over `draws`."""
    field, units = problem.field, list(target.units)
    best_day = _first_day(field, problem.trajectory(x), units, target.share)
    days = np.array([_first_day(field, problem.trajectory(d), units, target.share) for d in draws]) \
        if len(draws) else np.array([best_day])
    tail = (1 - level) / 2
    low = np.quantile(days, tail, method="inverted_cdf")
    high = np.quantile(days, 1 - tail, method="inverted_cdf")
    deadline_day = field.day(target.date)
    return TargetBand(
        name=target.name, share=target.share, deadline=target.date, units=tuple(units),
        best=_date_or_none(field, best_day), low=_date_or_none(field, low), high=_date_or_none(field, high),
        level=level, probability_by_deadline=float(np.mean(days <= deadline_day)),
        searched_until=field.date(field.days - 1),
    )


def agent_band(problem: Problem, target: Target, agent_fit: AgentFit, level: float) -> TargetBand:
    """`simulate`'s rule (first day the 7-day mean reaches the target) over the agent model's runs: the best
    date is the mean over the replications at the estimates (simulate's "mean date reached"), the band the
    `level` quantiles over those and one replication per parameter draw (parameters plus replications)."""
    field = problem.field
    weights = field.column(np.eye(len(field.unit_ids)), list(target.units))
    best = reach_days(agent_fit.runs, weights, target.share)
    pooled = np.concatenate([best, reach_days(agent_fit.draw_runs, weights, target.share)])
    tail = (1 - level) / 2
    low, high = np.percentile(pooled, [100 * tail, 100 * (1 - tail)], method="lower")
    finite = best[np.isfinite(best)]
    mean_day = float(finite.mean()) if len(finite) == len(best) else math.inf
    end = problem.scenario.simulation.end
    return TargetBand(
        name=target.name, share=target.share, deadline=target.date, units=tuple(target.units),
        best=_date_or_none(field, round(mean_day) if math.isfinite(mean_day) else mean_day),
        low=_date_or_none(field, low), high=_date_or_none(field, high), level=level,
        probability_by_deadline=float(np.mean(pooled <= field.day(target.date))),
        searched_until=end)


def _first_day(field: MeanField, shares: np.ndarray, units: list[str], share: float) -> float:
    column = field.column(shares, units)
    hit = np.flatnonzero(column >= share)
    return float(hit[0]) if len(hit) else math.inf


def _date_or_none(field: MeanField, day: float) -> dt.date | None:
    return None if not math.isfinite(day) else field.date(int(day))
