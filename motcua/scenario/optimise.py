"""``[optimise]``: the decision space `motcua optimise` searches, and what it asks of the plan.

*Scenario.* Lạng Sơn's office may send community digital teams, open post-office help points and have
counter staff guide citizens; each may start between 6 June and 1 September 2024, in any of the five units,
at an intensity between bounds. It asks for the least-cost plan that reaches Decision 497's 45% by
31 December 2024 with probability at least 0.8. ``[[optimise.levers]]`` lists what may be used; each lever
found in the plan replaces the scenario's interventions of the same kind.
"""

# `spec(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Literal

from motcua.scenario.common import ALL_UNITS, check_period
from motcua.scenario.interventions import InterventionKind
from motcua.typed_config import FieldProblem, spec

Objective = Literal["least_cost", "earliest_date"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class OptimisedLever:
    """One lever the optimiser may pull: its kind, the units it may cover, start-date and intensity bounds."""

    kind: InterventionKind = spec("intervention kind (priced in [costs])")
    units: tuple[str, ...] = spec("unit ids it may cover, or ['*'] for all", (ALL_UNITS,))
    per_unit: bool = spec("choose each unit separately (else the lever covers all its units or none)", False)
    start_from: dt.date = spec("earliest start date")
    start_to: dt.date = spec("latest start date")
    end: dt.date = spec("last day in effect")
    intensity_min: float = spec("lowest intensity (or share guided) when used", ge=0)
    intensity_max: float = spec("highest intensity (or share guided)", gt=0)
    required: bool = spec("the plan must use this lever (else it may be left out)", False)
    capacity_per_day: float | None = spec("citizens it can help per day per unit", None, unit="per day", ge=0)
    guidance_minutes: float | None = spec("officer minutes per guided citizen (counter_guidance)", None,
                                          unit="minutes", gt=0)
    name: str = spec("label for reports, in Vietnamese", "")
    name_en: str = spec("the label in English (default: name)", "")

    def check(self) -> None:
        check_period(self.start_from, self.start_to, "start_from", "start_to")
        check_period(self.start_to, self.end, "start_to", "end")
        if self.intensity_max < self.intensity_min:
            raise FieldProblem("intensity_max", self.intensity_max,
                               f"below intensity_min {self.intensity_min}: the bounds are reversed")
        if self.kind == "counter_guidance" and self.guidance_minutes is None:
            raise FieldProblem("guidance_minutes", None,
                               "counter_guidance needs guidance_minutes (officer minutes per guided citizen)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Optimise:
    """``[optimise]``: objective, constraint and the levers `motcua optimise` may use (none: nothing to optimise)."""

    objective: Objective = spec("least_cost: cheapest plan with P(target by deadline) >= probability; "
                                "earliest_date: earliest reach within budget_vnd", "least_cost")
    probability: float = spec("required probability of reaching the target by its deadline", 0.8, share=True)
    target: int = spec("index of the target in [[targets]] the plan must reach", 0, ge=0)
    budget_vnd: int | None = spec("total budget of the plan (optional)", None, unit="VND", money=True, ge=0)
    levers: tuple[OptimisedLever, ...] = spec("levers the optimiser may use", ())

    def check(self) -> None:
        if self.objective == "earliest_date" and self.budget_vnd is None:
            raise FieldProblem("budget_vnd", None, "objective 'earliest_date' needs a budget: the earliest date "
                                                   "reached within budget_vnd (e.g. budget_vnd = 400_000_000)")
        seen: set[str] = set()
        for i, lever in enumerate(self.levers):
            if lever.kind in seen:
                raise FieldProblem(f"levers[{i}].kind", lever.kind, "listed twice; keep one entry per kind")
            seen.add(lever.kind)
