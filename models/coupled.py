"""One replication of a scenario: adoption and every unit's one-stop-shop counters in one SimPy environment.

*Scenario.* Each morning the adoption model advances the province's citizens one day: some learn
of online payment, some become able to pay online, some try it, some lapse after a payment that
failed or was shown as unpaid. The share of fee-bearing dossiers paid online today (``share_today``)
decides how many people still come to the one-stop-shop counter (bộ phận một cửa) of each unit:
the counters read it when a citizen arrives. At the counter, officers who guide a citizen through
the online flow ("cầm tay chỉ việc") hand that citizen back to the adoption model
(``add_guided``), so guidance capacity feeds adoption and adoption empties the queue.

The clock is in minutes from 00:00 (Asia/Ho_Chi_Minh) of ``simulation.start``; a day is 1,440.
The result is compact NumPy arrays that pickle cheaply, so replications can run on other
processes or a Dask cluster.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
from motcua.models.scenario_edit import (
    PERIOD_DAYS,
    QUICK_DAYS,
    QUICK_MAX_DAYS,
    QUICK_PAST_DEADLINE_DAYS,
    keep_entries,
    quick_horizon,
    quick_scenario,
)
from motcua.models.streams import child_seed

# `keep_entries`, `quick_horizon`, `quick_scenario` and the QUICK_* figures live in `models.scenario_edit`;
# they stay importable from here.
__all__ = [
    "MINUTES_PER_DAY", "PERIODS", "PERIOD_DAYS", "QUICK_DAYS", "QUICK_MAX_DAYS", "QUICK_PAST_DEADLINE_DAYS",
    "WAIT_STATS", "CounterLevers",
    "ReplicationResult", "end_of_day", "keep_entries", "month_index", "periods_of", "quick_horizon",
    "quick_scenario", "run_replication", "run_replication_task",
]

MINUTES_PER_DAY = 1440

PERIODS = ("before", "after")
WAIT_STATS = ("p50", "p90", "mean", "count")


@dataclass(frozen=True)
class ReplicationResult:
    """What one replication reports. Days count from ``start``; units follow ``unit_ids``."""

    start: dt.date
    """First simulated day (``simulation.start``)."""
    unit_ids: tuple[str, ...]
    months: tuple[str, ...]
    """Calendar months of the horizon, ``YYYY-MM``, in order (rows of ``officer_minutes``)."""
    activities: tuple[str, ...]
    """Officer activities (columns of ``officer_minutes``), e.g. serving, cash, guidance, idle."""
    periods: tuple[tuple[int, int], ...]
    """Day ranges [first, end) of the "before" and "after" windows (see `PERIODS`, `periods_of`)."""
    daily_share: np.ndarray
    """(days, units) float32: share of fee-bearing dossiers paid online that day."""
    counter_visits: np.ndarray
    """(days, units) int32: people who came to the counter (in-person dossiers and help seekers)."""
    served: np.ndarray
    """(days, units) int32: citizens served at the counter (a citizen who came back is served once)."""
    guided: np.ndarray
    """(days, units) int32: citizens an officer guided to pay online (fed to the adoption model)."""
    told_unpaid: np.ndarray
    """(days, units) float32: citizens who paid online but were told their fee was unpaid (scaled from agents)."""
    online_payments: np.ndarray
    """(days, units) float32: fees paid online that day, in citizens (scaled from the adoption model's agents)."""
    waits: np.ndarray
    """(units, periods, 4) float32: counter wait p50, p90, mean (minutes) and count per window; NaN if none."""
    officer_minutes: np.ndarray
    """(months, units, activities) float32: officer minutes by activity per calendar month."""
    period_officer_minutes: np.ndarray
    """(periods, units, activities) float32: officer minutes by activity within each window."""
    open_days: np.ndarray
    """(periods, units) int32: days the counters were open within each window."""
    class_waits: np.ndarray | None = None
    """(units, periods, 2) float32: mean counter wait of priority and of ordinary citizens per window (NaN where
    none); None when no unit gives priority at reception (issue 20)."""

    @property
    def days(self) -> int:
        return int(self.daily_share.shape[0])


# ---------------------------------------------------------------------------------------------
# Interventions that act at the counter
# ---------------------------------------------------------------------------------------------
class CounterLevers:
    """What the interventions change at one unit's counters on a given day.

    ``counter_guidance``: officers offer to guide cash payers through paying online; the share of
    cash payers guided is the intervention's intensity, and guidance stops for the day once
    ``capacity_per_day`` citizens were guided. ``qr_at_counter``: the share of counter payers who
    pay by QR is the intervention's intensity. Other levers act through the adoption model.
    """

    def __init__(self, scenario: Any, unit_id: str) -> None:
        self.guidance = [i for i in scenario.interventions if i.kind == "counter_guidance" and i.covers(unit_id)]
        self.qr = [i for i in scenario.interventions if i.kind == "qr_at_counter" and i.covers(unit_id)]
        self.capacity_today = math.inf
        self.guided_today = 0

    def guidance_minutes(self) -> float | None:
        """Officer minutes per guided citizen the campaign plans, if it says."""
        minutes = [i.guidance_minutes for i in self.guidance if i.guidance_minutes is not None]
        return max(minutes) if minutes else None

    def apply(self, shop: Any, day: dt.date) -> None:
        """Set today's guidance and QR shares on `shop` (called when its doors open)."""
        guiding = [i for i in self.guidance if i.active_on(day)]
        shop.guide_share = min(1.0, sum(i.intensity for i in guiding))
        capacities = [i.capacity_per_day for i in guiding if i.capacity_per_day is not None]
        self.capacity_today = sum(capacities) if capacities and len(capacities) == len(guiding) else math.inf
        self.guided_today = 0
        shop.qr_share = min(1.0, sum(i.intensity for i in self.qr if i.active_on(day)))

    def guided(self, shop: Any, n: int) -> None:
        """Count guided citizens; at the day's capacity officers stop offering guidance."""
        self.guided_today += n
        if self.guided_today >= self.capacity_today:
            shop.guide_share = 0.0


# ---------------------------------------------------------------------------------------------
# One replication
# ---------------------------------------------------------------------------------------------
def run_replication(scenario: Any, seed: np.random.SeedSequence, *, quick: bool = False,
                    quality: Any = None) -> ReplicationResult:
    """Run one replication of `scenario` with the random streams of `seed`.

    Sub-streams: child 0 of `seed` drives the adoption model, child 1 + i the counters of unit i,
    and within each, child d the draws of day d (see `end_of_day`), so that under common random
    numbers a change in one unit or on one day leaves the other units and days in step.
    """
    import simpy
    from motcua.models.adoption import AdoptionModel

    if quick:
        scenario = quick_scenario(scenario)
    sim = scenario.simulation
    days, start = sim.horizon_days, sim.start
    env = simpy.Environment()
    seeds = [child_seed(seed, k) for k in range(1 + len(scenario.units))]
    # Day 0 of each component: child 0 of its seed; `end_of_day` hands out the following days.
    adoption = AdoptionModel(env, scenario, np.random.default_rng(child_seed(seeds[0], 0)), quality=quality)
    env.process(adoption.run())
    guided_today = np.zeros(len(scenario.units))
    shops = [_open_shop(env, scenario, unit, i, guided_today, np.random.default_rng(child_seed(seeds[1 + i], 0)),
                        adoption) for i, unit in enumerate(scenario.units)]
    env.process(end_of_day(env, adoption, shops, guided_today, seeds, days))
    env.run(until=days * MINUTES_PER_DAY + 1)  # +1 minute: the last day's books close at its midnight
    return _collect(scenario, adoption, shops, days, start)


def run_replication_task(scenario: Any, seed: np.random.SeedSequence, quick: bool, quality: Any) -> ReplicationResult:
    """`run_replication` with positional arguments, the form `models.executor` sends to workers."""
    return run_replication(scenario, seed, quick=quick, quality=quality)


def end_of_day(env: Any, adoption: Any, shops: list[Any], guided_today: np.ndarray, seeds: list[Any],
               days: int) -> Generator[Any, Any, None]:
    """SimPy process: at 23:59 of each day, hand the citizens guided at the counters to the adoption
    model, then give the adoption model and every shop the random stream of the next day.

    One `add_guided` call per unit and day (not per citizen) changes nothing — the adoption model
    advances only at midnight — and costs less. Day streams (child d of each component's seed)
    keep common random numbers in step: when two scenarios draw a different number of citizens
    one day, their draws still coincide again from the next day on.
    """

    for day in range(days):
        yield env.timeout(day * MINUTES_PER_DAY + MINUTES_PER_DAY - 1 - env.now)
        for unit in np.flatnonzero(guided_today):
            adoption.add_guided(int(unit), float(guided_today[unit]))
        guided_today[:] = 0
        adoption.rng = np.random.default_rng(child_seed(seeds[0], day + 1))
        for u, shop in enumerate(shops):
            if shop is not None:
                shop.rng = np.random.default_rng(child_seed(seeds[1 + u], day + 1))


def _open_shop(env: Any, scenario: Any, unit: Any, index: int, guided_today: np.ndarray, rng: np.random.Generator,
               adoption: Any) -> Any:
    """The counters of `unit`, reading the adoption model's share and counting guided citizens into
    `guided_today`; None for a unit without counters."""
    from motcua.models.counters import CounterParams, OneStopShop

    if unit.counters is None:
        return None
    levers = CounterLevers(scenario, unit.id)
    minutes = levers.guidance_minutes()
    params = CounterParams.from_unit(unit, **({"guidance_minutes": minutes} if minutes else {}))
    start = scenario.simulation.start
    shop: Any = None

    def online_share() -> float:
        # Read once per open day, when the doors open: also the moment to set today's levers.
        levers.apply(shop, start + dt.timedelta(days=int(env.now // MINUTES_PER_DAY)))
        return float(adoption.share_today[index])

    def on_guided(n: int) -> None:
        guided_today[index] += n
        levers.guided(shop, n)

    shop = OneStopShop(env, params, rng, online_share=online_share, on_guided=on_guided, start=start)
    return shop


def periods_of(days: int, campaign_day: int | None = None) -> tuple[tuple[int, int], ...]:
    """The "before" and "after" windows, as day ranges [first, end), of a horizon of `days`.

    "After" is the last `PERIOD_DAYS` of the horizon. "Before" is the `PERIOD_DAYS` before the first
    intervention starts (`campaign_day`) when the horizon holds at least two weeks of them, else the
    first `PERIOD_DAYS` of the horizon. A horizon shorter than two windows is split in halves.
    """
    length = min(PERIOD_DAYS, days // 2) or 1
    after = (days - length, days)
    if campaign_day is not None and 14 <= campaign_day <= after[0]:
        return ((max(0, campaign_day - length), campaign_day), after)
    return ((0, length), after)


def _collect(scenario: Any, adoption: Any, shops: list[Any], days: int, start: dt.date) -> ReplicationResult:
    from motcua.models.counters import ACTIVITIES, DAILY_COLUMNS

    n_units = len(shops)
    starts = [(i.start - start).days for i in scenario.interventions]
    periods = periods_of(days, min(starts) if starts else None)
    months, month_of_day = month_index(start, days)
    column = {name: j for j, name in enumerate(DAILY_COLUMNS)}
    activity_cols = [column[a] for a in ACTIVITIES]
    visits = np.zeros((days, n_units), dtype=np.int32)
    served = np.zeros((days, n_units), dtype=np.int32)
    guided = np.zeros((days, n_units), dtype=np.int32)
    officer = np.zeros((len(months), n_units, len(ACTIVITIES)), dtype=np.float32)
    period_officer = np.zeros((len(periods), n_units, len(ACTIVITIES)), dtype=np.float32)
    waits = np.full((n_units, len(periods), len(WAIT_STATS)), np.nan, dtype=np.float32)
    open_days = np.zeros((len(periods), n_units), dtype=np.int32)
    for u, shop in enumerate(shops):
        if shop is None:
            waits[u, :, 3] = 0
            continue
        table = shop.daily_table()[:days]
        visits[: len(table), u] = table[:, column["visits"]]
        served[: len(table), u] = table[:, column["served"]]
        guided[: len(table), u] = table[:, column["guided"]]
        minutes = table[:, activity_cols]
        np.add.at(officer[:, u, :], month_of_day[: len(table)], minutes)
        arrived = np.frombuffer(shop.waits_arrived, dtype=float) if shop.waits_arrived else np.zeros(0)
        waited = np.frombuffer(shop.waits, dtype=float) if shop.waits else np.zeros(0)
        for p, (a, b) in enumerate(periods):
            period_officer[p, u] = minutes[a:b].sum(axis=0)
            open_days[p, u] = sum(shop.is_open(d) for d in range(a, b))
            waits[u, p] = _wait_stats(waited[(arrived >= a * MINUTES_PER_DAY) & (arrived < b * MINUTES_PER_DAY)])
    class_waits = _class_waits(shops, periods)
    return ReplicationResult(
        start=start, unit_ids=tuple(u.id for u in scenario.units), months=tuple(months), activities=ACTIVITIES,
        periods=periods, daily_share=np.asarray(adoption.daily_share, dtype=np.float32)[:days],
        counter_visits=visits, served=served, guided=guided, told_unpaid=_citizens(adoption, "told_unpaid", days),
        online_payments=_citizens(adoption, "online_payments", days), waits=waits,
        officer_minutes=officer, period_officer_minutes=period_officer, open_days=open_days, class_waits=class_waits)


def _class_waits(shops: list[Any], periods: tuple[tuple[int, int], ...]) -> np.ndarray | None:
    """(units, periods, 2) mean wait of priority / ordinary citizens by window, or None if nobody has priority."""
    if not any(shop is not None and shop.waits_class for shop in shops):
        return None
    out = np.full((len(shops), len(periods), 2), np.nan, dtype=np.float32)
    for u, shop in enumerate(shops):
        if shop is None or not shop.waits_class:
            continue
        arrived = np.frombuffer(shop.waits_arrived, dtype=float)
        waited = np.frombuffer(shop.waits, dtype=float)
        priority = np.frombuffer(shop.waits_class, dtype=np.int8).astype(bool)
        for p, (a, b) in enumerate(periods):
            inside = (arrived >= a * MINUTES_PER_DAY) & (arrived < b * MINUTES_PER_DAY)
            for k, chosen in enumerate((inside & priority, inside & ~priority)):
                if chosen.any():
                    out[u, p, k] = waited[chosen].mean()
    return out


def _citizens(adoption: Any, event: str, days: int) -> np.ndarray:
    """(days, units) daily count of an adoption event, scaled from agents to citizens."""
    return np.asarray(adoption.citizens(adoption.events[event][:days]), dtype=np.float32)


def _wait_stats(waited: np.ndarray) -> np.ndarray:
    if waited.size == 0:
        return np.array([np.nan, np.nan, np.nan, 0.0])
    p50, p90 = np.quantile(waited, [0.5, 0.9])
    return np.array([p50, p90, waited.mean(), waited.size])


def month_index(start: dt.date, days: int) -> tuple[list[str], np.ndarray]:
    """Calendar months (``YYYY-MM``) of a horizon, and the month number of each day."""
    labels: list[str] = []
    index = np.empty(days, dtype=np.int64)
    for d in range(days):
        day = start + dt.timedelta(days=d)
        label = f"{day.year:04d}-{day.month:02d}"
        if not labels or labels[-1] != label:
            labels.append(label)
        index[d] = len(labels) - 1
    return labels, index
