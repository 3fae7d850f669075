"""The deterministic mean field calibration fits: every unit's Generalized Bass share, day by day.

Per unit, dF/dt = (p + qF/m)(m − F)·x(t) with m the potential share and effort x(t) = 1 + effort_weight · (sum of
the intensities of the unit's active outreach interventions — `models.adoption.OUTREACH_KINDS`: information
campaigns, community digital teams, post-office help points), the same x(t) the agent model uses, so a fitted
effort_weight means the same thing there. It is solved in closed form (`models.theory.mean_field_share`), so a
fit and a parametric bootstrap of a few hundred refits take seconds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import numpy as np
from motcua.models.adoption import AdoptionSetup, effort_by_day
from motcua.models.theory import mean_field_share

from motcua.scenario import ALL_UNITS, Scenario


class MeanField:
    """The deterministic Generalized Bass share of every unit, day by day from `origin`.

    Day d is the date ``origin + d``; its share is the one reached at the end of that day.
    """

    def __init__(self, scenario: Scenario, origin: dt.date, days: int) -> None:
        self.scenario = scenario
        self.origin = origin
        """Day 0: the date from which effort accumulates; units start at their initial share here."""
        self.days = days
        self.unit_ids = [u.id for u in scenario.units]
        self.intensity = intensity_by_day(scenario, origin, days)
        """Sum of active interventions' intensities: days × units."""
        weights = np.array([u.fee_dossiers_per_year for u in scenario.units], dtype=float)
        self.weights = weights / weights.sum() if weights.sum() > 0 else np.full(len(weights), 1 / len(weights))
        """Weight of each unit in the region's share (its share of fee-bearing dossiers)."""
        self.start_shares = np.array([u.start_share for u in scenario.units])
        """Each unit's share on day 0 (replaced when calibration fits the initial shares)."""
        self.potential = scenario.adoption.potential_share

    def shares(self, p: float, q: float, effort_weight: float, start_shares: np.ndarray | None = None,
               days: int | None = None) -> np.ndarray:
        """Share paid online, days × units (the first `days` days only, when given)."""
        starts = self.start_shares if start_shares is None else np.asarray(start_shares)
        effort = 1.0 + effort_weight * self.intensity[:days]
        ends = np.arange(1, len(effort) + 1, dtype=float)  # the end of each day
        out = np.empty_like(effort)
        for j, start in enumerate(starts):
            start = min(start, self.potential * (1 - 1e-12))
            out[:, j] = mean_field_share(ends, p, q, effort[:, j], initial_share=start, potential=self.potential)
        return out

    def column(self, shares: np.ndarray, units: Sequence[str]) -> np.ndarray:
        """The share over time of a set of units (``*`` = all), weighted by fee-bearing dossiers."""
        if ALL_UNITS in units:
            return shares @ self.weights
        index = [self.unit_ids.index(u) for u in units]
        w = self.weights[index] / self.weights[index].sum()
        return shares[:, index] @ w

    def day(self, date: dt.date) -> int:
        return (date - self.origin).days

    def date(self, day: int) -> dt.date:
        return self.origin + dt.timedelta(days=int(day))


def intensity_by_day(scenario: Scenario, origin: dt.date, days: int) -> np.ndarray:
    """Sum of the intensities of the outreach interventions active in each unit on each day (days × units).

    Read from the agent model's own schedule (`models.adoption.effort_by_day` with base 1 and weight 1), so
    calibration and the agent model agree on which levers add to the effort x(t) and on which days.
    """
    unit_weight = dataclasses.replace(scenario.adoption, effort_weight=1.0)
    setup = dataclasses.replace(AdoptionSetup.from_scenario(scenario), start=origin, horizon_days=days,
                                adoption=unit_weight, base_effort=1.0)
    return effort_by_day(setup) - 1.0
