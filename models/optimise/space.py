"""The decision space of ``[optimise]``: plans, their cost, and the scenario each plan makes.

*Scenario.* Lạng Sơn may send community digital teams to some of its five units from some date, have counter
staff guide citizens from some date at some share, run an information campaign; a `Plan` is one such choice
per lever. `DecisionSpace` turns an Optuna trial (or a random draw, for the random-search baseline) into a
plan, prices it with the scenario's ``[costs]``, and writes the scenario the plan makes: the scenario's own
interventions of the optimised kinds are replaced by the plan's, each with its priced ``cost_vnd``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np

START_STEP_DAYS = 7
"""Start dates are searched on a weekly grid from ``start_from``."""
INTENSITY_STEP = 0.05
"""Intensities are searched on this grid (finer differences are below the simulation's noise)."""


@dataclasses.dataclass(frozen=True)
class LeverChoice:
    """What the plan does with one lever: the units it covers (none: not used), from when, how strongly."""

    kind: str
    units: tuple[str, ...]
    start: dt.date
    intensity: float

    @property
    def used(self) -> bool:
        return bool(self.units)


@dataclasses.dataclass(frozen=True)
class Plan:
    """One choice per optimised lever, in the order of ``[[optimise.levers]]``; ``as_written``: the scenario's
    own interventions, untouched (a baseline)."""

    choices: tuple[LeverChoice, ...]
    as_written: bool = False

    def key(self) -> tuple[Any, ...]:
        """Hashable identity (plans that are the same get the same cached replications)."""
        if self.as_written:
            return ("as written",)
        return tuple((c.kind, c.units, c.start, round(c.intensity, 6)) for c in self.choices if c.used)

    def describe(self) -> str:
        if self.as_written:
            return "the scenario's own interventions"
        parts = [f"{c.kind} {'+'.join(c.units)} from {c.start} at {c.intensity:.2f}" for c in self.choices if c.used]
        return "; ".join(parts) or "(no lever used)"


class DecisionSpace:
    """The levers of ``scenario.optimise`` as a search space, and the scenarios plans make."""

    def __init__(self, scenario: Any) -> None:
        self.scenario = scenario
        self.levers = scenario.optimise.levers
        self.unit_ids = tuple(u.id for u in scenario.units)
        self.replaced = {lever.kind for lever in self.levers}

    def lever_units(self, lever: Any) -> tuple[str, ...]:
        return self.unit_ids if "*" in lever.units else tuple(lever.units)

    # --- drawing plans ---

    def from_trial(self, trial: Any) -> Plan:
        """The plan an Optuna trial suggests (parameters named ``<kind>.<unit>``, ``<kind>.start``, …)."""
        return Plan(tuple(self._choice(lever, _TrialDraw(trial, lever.kind)) for lever in self.levers))

    def random(self, rng: np.random.Generator) -> Plan:
        """A plan drawn uniformly from the space (the random-search baseline)."""
        return Plan(tuple(self._choice(lever, _RandomDraw(rng)) for lever in self.levers))

    def _choice(self, lever: Any, draw: Any) -> LeverChoice:
        units = self.lever_units(lever)
        if lever.per_unit:
            chosen = tuple(u for u in units if draw.flag(u))
            if lever.required and not chosen:
                chosen = units[:1]
        else:
            chosen = units if lever.required or draw.flag("use") else ()
        weeks = (lever.start_to - lever.start_from).days // START_STEP_DAYS
        start = lever.start_from + dt.timedelta(days=START_STEP_DAYS * draw.integer("start_week", 0, weeks))
        steps = round((lever.intensity_max - lever.intensity_min) / INTENSITY_STEP)
        intensity = lever.intensity_min + INTENSITY_STEP * draw.integer("intensity_step", 0, steps)
        return LeverChoice(lever.kind, chosen, start, round(min(intensity, lever.intensity_max), 6))

    # --- pricing and scenarios ---

    def interventions(self, plan: Plan) -> list[Any]:
        """The plan's levers as scenario interventions (unpriced)."""
        from motcua.scenario import lever_intervention

        return [lever_intervention(lever, c.start, c.intensity, tuple(c.units))
                for lever, c in zip(self.levers, plan.choices, strict=True) if c.used]

    def cost(self, plan: Plan) -> int:
        """The plan's cost: the interventions it keeps plus its levers priced from ``[costs]``."""
        if plan.as_written:
            return int(self.scenario.plan_cost())
        kept = sum(self.scenario.intervention_cost(i) for i, item in enumerate(self.scenario.interventions)
                   if item.kind not in self.replaced)
        used = [lever for lever, c in zip(self.levers, plan.choices, strict=True) if c.used]
        return kept + sum(self.scenario.lever_cost(lever, item)
                          for lever, item in zip(used, self.interventions(plan), strict=True))

    def scenario_of(self, plan: Plan, *, name: str | None = None, note: str = "") -> Any:
        """The scenario the plan makes: its own interventions of the optimised kinds replaced by the plan's,
        each with its priced ``cost_vnd`` written and a provenance entry saying it was derived."""
        from motcua.models.scenario_edit import keep_entries

        from motcua.scenario import scenario_from_dict

        base = self.scenario
        if plan.as_written:
            return base
        kept = keep_entries(base, "interventions", [i.kind not in self.replaced for i in base.interventions])
        data = kept.to_dict(written_only=True)
        items = data.setdefault("interventions", [])
        used = [lever for lever, c in zip(self.levers, plan.choices, strict=True) if c.used]
        for lever, item in zip(used, self.interventions(plan), strict=True):
            entry = {k: v for k, v in dataclasses.asdict(item).items() if v is not None and v != ""}
            entry["units"] = list(item.units)
            entry["cost_vnd"] = base.lever_cost(lever, item)
            data.setdefault("provenance", {})[f"interventions[{len(items)}]"] = (
                f"derived: chosen by motcua optimise{note}; cost from [costs]")
            items.append(entry)
        if name is not None:
            data["scenario"]["name"] = name
        return scenario_from_dict(data, file=base.file)

    def even_spread(self, budget_vnd: int) -> tuple[Plan, bool]:
        """Every lever on every allowed unit from its earliest start, at one common fraction f of its intensity
        range, f the largest (bisection) whose cost stays within `budget_vnd`; (plan at f = 0, False) if even
        that costs more."""

        def plan_at(f: float) -> Plan:
            return Plan(tuple(LeverChoice(lv.kind, self.lever_units(lv), lv.start_from,
                                          lv.intensity_min + f * (lv.intensity_max - lv.intensity_min))
                              for lv in self.levers))

        if self.cost(plan_at(0.0)) > budget_vnd:
            return plan_at(0.0), False
        low, high = 0.0, 1.0
        if self.cost(plan_at(1.0)) <= budget_vnd:
            return plan_at(1.0), True
        for _ in range(30):
            mid = (low + high) / 2
            low, high = (mid, high) if self.cost(plan_at(mid)) <= budget_vnd else (low, mid)
        return plan_at(low), True


class _TrialDraw:
    """Draws through an Optuna trial (parameter names prefixed by the lever's kind)."""

    def __init__(self, trial: Any, prefix: str) -> None:
        self.trial, self.prefix = trial, prefix

    def flag(self, name: str) -> bool:
        return bool(self.trial.suggest_categorical(f"{self.prefix}.{name}", [False, True]))

    def integer(self, name: str, low: int, high: int) -> int:
        return int(self.trial.suggest_int(f"{self.prefix}.{name}", low, high)) if high > low else low


class _RandomDraw:
    """Uniform draws from a NumPy generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def flag(self, name: str) -> bool:
        return bool(self.rng.random() < 0.5)

    def integer(self, name: str, low: int, high: int) -> int:
        return int(self.rng.integers(low, high + 1))
