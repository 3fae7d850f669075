"""The agent model as calibration runs it: adoption with barriers and levers, and the counters' guidance flow.

*Scenario.* `motcua simulate` runs the coupled model (`models.coupled`): the agent adoption model with its
barriers, every intervention, and each unit's one-stop-shop counters, whose officers guide help seekers (and,
with ``counter_guidance``, cash payers) through paying online and hand them back to adoption. Calibration must
fit *that* model, not the barrier-free mean field. Simulating the counters' queues minute by minute costs
four fifths of a replication and changes adoption only through the number of citizens guided each day, so
calibration runs the adoption model itself and feeds it the counters' *expected* guidance flow:

- help seekers: ``help_seekers_per_day`` on each open day, times the shop's weekday and month factors
  (`models.counters.OneStopShop` draws a Poisson count of that mean; an officer guides every one);
- cash payers offered guidance (``counter_guidance``): its intensity times the fee-bearing dossiers that still
  come in person (``1 − share``, less those paid by QR), capped at the day's ``capacity_per_day``. The shop's
  rule "no guidance when more than three wait" is not modelled: the flow is an upper bound where queues are long.

The random streams are those of `models.coupled.run_replication` (child 0 of the replication's seed for the
adoption model, then child ``d + 1`` from the end of day d), so replication i here and in `motcua simulate` see
the same citizens and the same draws: the two differ only by the guided counts (expected here, Poisson there).
``tests/test_calibration_agent.py`` checks that the yearly shares agree within `AGREEMENT_TOLERANCE`.
Fitting it to observations is `models.calibration.agent_fit`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from motcua.scenario import Scenario

if TYPE_CHECKING:
    from motcua.models.executor import ExecutorSpec

AGREEMENT_TOLERANCE = 0.03
"""Relative difference of a yearly regional share, this model against the coupled model, that the test allows."""
COUNTER_GUIDANCE = "counter_guidance"


@dataclasses.dataclass(frozen=True)
class GuidanceFlow:
    """Per day and unit, what the counters hand the adoption model: citizens guided (expected)."""

    help: np.ndarray
    """(days, units) help seekers guided (open days only)."""
    cash: np.ndarray
    """(days, units) cash payers who would be guided if nobody paid online: times (1 − share)(1 − QR)."""
    qr: np.ndarray
    """(days, units) share of counter fee payers who pay by QR."""
    capacity: np.ndarray
    """(days, units) citizens the day's counter guidance may guide at most (inf: no cap)."""

    def guided(self, day: int, share: np.ndarray) -> np.ndarray:
        """(units,) citizens guided on `day` given the morning's online shares."""
        cash = self.cash[day] * (1.0 - np.clip(share, 0.0, 1.0)) * (1.0 - self.qr[day])
        room = np.maximum(self.capacity[day] - self.help[day], 0.0)
        return self.help[day] + np.minimum(cash, room)


def guidance_flow(scenario: Scenario, days: int) -> GuidanceFlow:
    """The expected guidance flow of every unit's counters (zero for a unit without counters)."""
    from motcua.models.counters import CounterParams

    start, n = scenario.simulation.start, len(scenario.units)
    out = {name: np.zeros((days, n)) for name in ("help", "cash", "qr")}
    capacity = np.full((days, n), np.inf)
    dates = [start + dt.timedelta(days=d) for d in range(days)]
    for u, unit in enumerate(scenario.units):
        if unit.counters is None:
            continue
        params = CounterParams.from_unit(unit)
        open_weekdays = sorted(set(params.weekdays))
        mean_weekday = sum(params.weekday_factors[d - 1] for d in open_weekdays) / len(open_weekdays)
        mean_month = sum(params.month_factors) / 12
        guidance = [i for i in scenario.interventions if i.kind == COUNTER_GUIDANCE and i.covers(unit.id)]
        qr = [i for i in scenario.interventions if i.kind == "qr_at_counter" and i.covers(unit.id)]
        for d, date in enumerate(dates):
            if date.isoweekday() not in params.weekdays or date in params.closed_dates:
                continue
            factor = (params.weekday_factors[date.isoweekday() - 1] / mean_weekday
                      * params.month_factors[date.month - 1] / mean_month)
            out["help"][d, u] = params.help_seekers_per_day * factor
            active = [i for i in guidance if i.active_on(date)]
            out["cash"][d, u] = min(1.0, sum(i.intensity for i in active)) * params.fee_dossiers_per_day * factor
            caps = [i.capacity_per_day for i in active if i.capacity_per_day is not None]
            if caps and len(caps) == len(active):
                capacity[d, u] = sum(caps)
            out["qr"][d, u] = min(1.0, sum(i.intensity for i in qr if i.active_on(date)))
    return GuidanceFlow(out["help"], out["cash"], out["qr"], capacity)


def agent_shares(scenario: Scenario, seed: np.random.SeedSequence, days: int | None = None) -> np.ndarray:
    """One replication: (days, units) daily share paid online, as `models.coupled` records it (mornings)."""
    from motcua.models.adoption import AdoptionModel
    from motcua.models.replications import child_seed

    days = scenario.simulation.horizon_days if days is None else min(days, scenario.simulation.horizon_days)
    adoption_seed = child_seed(seed, 0)
    model = AdoptionModel(None, scenario, np.random.default_rng(child_seed(adoption_seed, 0)))
    flow = guidance_flow(scenario, days)
    for day in range(days):
        model.step()
        for u, n in enumerate(flow.guided(day, model.share_today)):
            if n > 0:
                model.add_guided(u, float(n))
        model.rng = np.random.default_rng(child_seed(adoption_seed, day + 1))
    return np.asarray(model.daily_share[:days], dtype=np.float32)


def agent_shares_task(scenario: Scenario, seed: np.random.SeedSequence, days: int | None) -> np.ndarray:
    """`agent_shares` with positional arguments, the form `models.replications.map_replications` sends."""
    return agent_shares(scenario, seed, days)


def run_agent(scenarios: Sequence[Scenario], seeds: Sequence[np.random.SeedSequence], days: int | None, *,
              executor: ExecutorSpec | None = None) -> np.ndarray:
    """(scenarios, seeds, days, units): every scenario under every seed, through the replication executors."""
    from motcua.models.replications import map_replications

    tasks = [(s, seed, days) for s in scenarios for seed in seeds]
    flat = map_replications(agent_shares_task, tasks, executor=executor, progress=False,
                            description="calibration runs")
    return np.stack(flat).reshape(len(scenarios), len(seeds), *flat[0].shape)


def reach_days(runs: np.ndarray, weights: np.ndarray, share: float) -> np.ndarray:
    """First day of each run whose trailing 7-day mean share reaches `share` (inf: never): `simulate`'s rule."""
    from motcua.models.figures import first_reach_day

    if not len(runs):
        return np.zeros(0)
    return first_reach_day(runs @ weights, share)
