"""Figures per replication: what every report of a simulation is computed from.

Each figure is an array whose first axis is the replication (`replication_figures`), so a summary takes its
mean and confidence interval, and a comparison takes paired differences. The target rule lives here, once:
a target counts as reached on the first day the trailing 7-day mean share reaches it (`first_reach_day`);
`motcua simulate`, `motcua calibrate` and `motcua sensitivity` all use it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from motcua.models.coupled import ReplicationResult, month_index

SMOOTH_DAYS = 7
"""A target counts as reached on the first day the trailing 7-day mean share reaches it."""
BUSY_ACTIVITIES = ("serving", "cash", "guidance")
CASH_ACTIVITY = "cash"


# ---------------------------------------------------------------------------------------------
# What the summary needs from a scenario
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnitFacts:
    id: str
    name: str
    weight: float
    """Fee-bearing dossiers per year: the weight of the unit in the all-units share."""
    observed_share: float | None
    name_en: str = ""
    """The name in English reports (empty: `name`)."""


@dataclass(frozen=True)
class TargetFacts:
    share: float
    date: dt.date
    units: tuple[str, ...]
    """Unit ids the target applies to; ``("*",)`` for all."""


@dataclass(frozen=True)
class ScenarioFacts:
    name: str
    title: str
    start: dt.date
    units: tuple[UnitFacts, ...]
    targets: tuple[TargetFacts, ...]
    region: str = ""
    title_en: str = ""
    """The title in English reports (empty: `title`)."""
    region_observed_share: float | None = None
    """The province's own observed share (``region.observed_share``), beside the start figure."""
    region_observed_source: str | None = None
    """Its source id (``region.observed_share_source``)."""
    region_observed_period: tuple[str | None, str | None] = (None, None)
    """First and last day the province's observed share covers (ISO dates, or None)."""
    costs: tuple[tuple[str, int], ...] = ()
    """Each intervention's name and cost in VND (``interventions[].cost_vnd``; 0 when not given)."""


def scenario_facts(scenario: Any) -> ScenarioFacts:
    """The few scenario fields the outputs use (the one place that reads `motcua.scenario` objects)."""
    units = tuple(
        UnitFacts(u.id, u.name, float(u.fee_dossiers_per_year), getattr(u, "observed_share", None),
                  getattr(u, "name_en", ""))
        for u in scenario.region.units
    )
    targets = tuple(TargetFacts(float(t.share), t.date, tuple(t.units)) for t in scenario.targets)
    meta, region = scenario.scenario, scenario.region
    period = tuple(None if d is None else d.isoformat()
                   for d in (getattr(region, "observed_from", None), getattr(region, "observed_to", None)))
    costs = tuple((i.name, int(getattr(i, "cost_vnd", 0) or 0)) for i in scenario.interventions)
    return ScenarioFacts(meta.name, getattr(meta, "title", "") or meta.name, scenario.simulation.start, units, targets,
                         region.name, getattr(meta, "title_en", ""), getattr(region, "observed_share", None),
                         getattr(region, "observed_share_source", None), (period[0], period[1]), costs)


# ---------------------------------------------------------------------------------------------
# Figures per replication
# ---------------------------------------------------------------------------------------------
def stack(results: Sequence[ReplicationResult], name: str) -> np.ndarray:
    """The field `name` of every replication, stacked on a new first axis."""
    return np.stack([np.asarray(getattr(r, name), dtype=float) for r in results])


def _weights(facts: ScenarioFacts, ids: Sequence[str], unit_ids: Sequence[str]) -> np.ndarray:
    wanted = set(unit_ids) if "*" in ids else set(ids)
    w = np.array([u.weight if u.id in wanted else 0.0 for u in facts.units])
    if w.sum() <= 0:  # no dossier counts: weigh units equally
        w = np.array([1.0 if u.id in wanted else 0.0 for u in facts.units])
    return w / w.sum()


def with_all_units(share: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(..., units) → (..., 1 + units): the weighted all-units share first, then each unit."""
    total = np.tensordot(share, weights, axes=([-1], [0]))[..., None]
    return np.concatenate([total, share], axis=-1)


def day_dates(start: dt.date, days: int) -> list[dt.date]:
    return [start + dt.timedelta(days=d) for d in range(days)]


def block_means(x: np.ndarray, index: np.ndarray, blocks: int) -> np.ndarray:
    """Mean of x (reps, days, series) over the days of each block → (reps, blocks, series)."""
    out = np.empty((x.shape[0], blocks, x.shape[2]))
    for b in range(blocks):
        out[:, b, :] = x[:, index == b, :].mean(axis=1)
    return out


def first_reach_day(share: np.ndarray, target: float) -> np.ndarray:
    """(reps, days) → first day whose trailing 7-day mean is ≥ target, inf when never."""
    kernel = np.ones(SMOOTH_DAYS)
    sums = np.apply_along_axis(lambda s: np.convolve(s, kernel)[: s.size], 1, share)
    counts = np.minimum(np.arange(1, share.shape[1] + 1), SMOOTH_DAYS)
    hit = sums / counts >= target - 1e-12
    return np.where(hit.any(axis=1), hit.argmax(axis=1).astype(float), np.inf)


def replication_figures(results: Sequence[ReplicationResult], facts: ScenarioFacts) -> dict[str, np.ndarray]:
    """Every reported figure per replication; first axis = replication."""
    first = results[0]
    unit_ids = list(first.unit_ids)
    share = stack(results, "daily_share")  # (R, days, U)
    days = share.shape[1]
    all_w = _weights(facts, ["*"], unit_ids)
    series = with_all_units(share, all_w)  # (R, days, 1+U)
    months, m_index = month_index(first.start, days)
    weeks = (days + 6) // 7
    figures: dict[str, np.ndarray] = {
        "share_daily": series,
        "share_weekly": block_means(series, np.arange(days) // 7, weeks),
        "share_monthly": block_means(series, m_index, len(months)),
        "share_final": series[:, -min(SMOOTH_DAYS, days):, :].mean(axis=1),
        "share_start": series[:, 0, :],
    }
    for k, target in enumerate(facts.targets):
        w = _weights(facts, target.units, unit_ids)
        reach = first_reach_day(share @ w, target.share)
        deadline = (target.date - first.start).days
        figures[f"target{k}_reach_day"] = reach
        figures[f"target{k}_reached"] = (reach <= deadline).astype(float)
        figures[f"target{k}_unit_reach_day"] = np.stack(
            [first_reach_day(share[:, :, u], target.share) for u in range(len(unit_ids))], axis=1)
    waits = stack(results, "waits")  # (R, U, P, 4)
    figures["wait_p50"], figures["wait_p90"], figures["wait_mean"] = waits[..., 0], waits[..., 1], waits[..., 2]
    if first.class_waits is not None:  # priority at reception (issue 20): the wait by class
        by_class = stack(results, "class_waits")  # (R, U, P, 2)
        figures["wait_mean_priority"], figures["wait_mean_ordinary"] = by_class[..., 0], by_class[..., 1]
    open_days = np.maximum(np.asarray(first.open_days, dtype=float), 1.0)  # (P, U)
    per_day = stack(results, "period_officer_minutes") / 60.0 / open_days[None, :, :, None]  # (R, P, U, A)
    figures["officer_hours_per_open_day"] = per_day
    figures["officer_hours_total"] = stack(results, "officer_minutes").sum(axis=1) / 60.0  # (R, U, A)
    figures["officer_hours_monthly"] = stack(results, "officer_minutes") / 60.0  # (R, months, U, A)
    acts = list(first.activities)
    busy = [acts.index(a) for a in BUSY_ACTIVITIES if a in acts]
    busy_total = figures["officer_hours_total"][..., busy].sum(axis=-1)  # (R, U)
    figures["busy_hours_total"] = np.concatenate([busy_total.sum(axis=1, keepdims=True), busy_total], axis=1)
    busy_hours = per_day[..., busy].sum(axis=-1)  # (R, P, U)
    freed = busy_hours[:, 0, :] - busy_hours[:, -1, :]
    figures["hours_freed_per_open_day"] = np.concatenate([freed.sum(axis=1, keepdims=True), freed], axis=1)
    if CASH_ACTIVITY in acts:
        cash = per_day[..., acts.index(CASH_ACTIVITY)]
        cash_freed = cash[:, 0, :] - cash[:, -1, :]
        figures["cash_hours_freed_per_open_day"] = np.concatenate(
            [cash_freed.sum(axis=1, keepdims=True), cash_freed], axis=1)
    visits = stack(results, "counter_visits")  # (R, days, U)
    figures["counter_visits_per_open_day"] = np.stack(
        [visits[:, a:b, :].sum(axis=1) / open_days[p] for p, (a, b) in enumerate(first.periods)], axis=1)
    figures["guided_total"] = stack(results, "guided").sum(axis=1)
    figures["told_unpaid_total"] = stack(results, "told_unpaid").sum(axis=1)
    payments = stack(results, "online_payments")  # (R, days, U)
    payments = np.concatenate([payments.sum(axis=2, keepdims=True), payments], axis=2)  # (R, days, 1+U)
    figures["online_payments_daily"] = payments
    figures["online_payments_total"] = payments.sum(axis=1)
    figures["online_payments_peak_day"] = payments.max(axis=1)
    return figures


def weighted_observed_share(facts: ScenarioFacts) -> float | None:
    """The units' observed shares weighted by fee-bearing dossiers per year: the province's start figure
    computed the same way as the model's all-units share (`with_all_units`); None when no unit has one."""
    known = [(u.weight, u.observed_share) for u in facts.units if u.observed_share is not None]
    if not known:
        return None
    weights = np.array([w for w, _ in known], dtype=float)
    if weights.sum() <= 0:
        weights = np.ones(len(known))
    return float(np.dot(weights, np.array([s for _, s in known], dtype=float)) / weights.sum())
