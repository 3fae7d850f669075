"""``[costs]``: what a lever costs per unit of effort, so that a plan's cost depends on the plan.

*Scenario.* A community digital team costs about so much per commune-month, a post-office help point so
much per month, an officer-hour of counter guidance so much, a QR terminal once per counter. Lạng Sơn's
file writes one lump ``cost_vnd`` per intervention; the optimiser (`motcua optimise`) needs the price of a
plan it invents — more units, a later start, a lower intensity — so it reads the unit costs here.

Pricing rule (`price_intervention`): an intervention whose file writes ``cost_vnd`` keeps that lump sum
(so every existing scenario keeps its present total); one without it is priced from ``[[costs.levers]]``:

- ``unit_month``: ``unit_cost_vnd`` per covered unit per 30-day month at intensity 1, scaled by intensity;
- ``unit_day``: the same per covered unit per day (e.g. a VNeID drive day);
- ``officer_hour``: counter guidance, ``unit_cost_vnd`` per officer-hour, hours planned as
  intensity × ``capacity_per_day`` × ``guidance_minutes`` / 60 per working day (5 of 7 days) per unit;
- ``per_unit``: once per covered unit (a QR terminal), whatever the period or intensity;

plus ``setup_vnd`` once per covered unit. Each figure is marked observed or assumed in ``[provenance]``.
"""

# `spec(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
from typing import Literal

from motcua.scenario.interventions import Intervention, InterventionKind
from motcua.typed_config import FieldProblem, spec

CostBasis = Literal["unit_month", "unit_day", "officer_hour", "per_unit"]
DAYS_PER_MONTH = 30.0
WORKING_SHARE = 5 / 7
"""Share of calendar days the counters are open, for pricing officer-hours (planning figure, not simulated)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class LeverCost:
    """The price of one intervention kind per unit of effort, and its set-up cost per unit."""

    kind: InterventionKind = spec("intervention kind this price applies to")
    basis: CostBasis = spec("what the unit cost is per: unit_month, unit_day, officer_hour or per_unit")
    unit_cost_vnd: int = spec("cost per unit of effort (see basis), at intensity 1", unit="VND", money=True, ge=0)
    setup_vnd: int = spec("fixed set-up cost per covered unit", 0, unit="VND", money=True, ge=0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Costs:
    """``[costs]``: per-lever unit costs (at most one entry per kind)."""

    levers: tuple[LeverCost, ...] = spec("unit costs per intervention kind", ())

    def check(self) -> None:
        seen: set[str] = set()
        for i, lever in enumerate(self.levers):
            if lever.kind in seen:
                raise FieldProblem(f"levers[{i}].kind", lever.kind, "priced twice; keep one entry per kind")
            seen.add(lever.kind)

    def of(self, kind: str) -> LeverCost | None:
        """The price of `kind`, or None when the table does not price it."""
        return next((lever for lever in self.levers if lever.kind == kind), None)


def price_intervention(item: Intervention, price: LeverCost, n_units: int) -> int:
    """The cost in VND of `item` covering `n_units` units, from its kind's `price` (see the module's rule)."""
    days = (item.end - item.start).days + 1
    if price.basis == "unit_month":
        effort = item.intensity * days / DAYS_PER_MONTH
    elif price.basis == "unit_day":
        effort = item.intensity * days
    elif price.basis == "officer_hour":
        per_day = item.intensity * (item.capacity_per_day or 0.0) * (item.guidance_minutes or 0.0) / 60
        effort = per_day * days * WORKING_SHARE
    else:
        effort = 1.0
    return round(n_units * (effort * price.unit_cost_vnd + price.setup_vnd))
