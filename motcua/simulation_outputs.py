"""What `motcua simulate` and `motcua compare` report: figures per replication, their estimates, the files.

Every figure is first computed per replication (`replication_figures`), as an array whose first
axis is the replication. `simulate` turns each into a mean with a 95% confidence interval; `compare`
also takes paired differences between scenarios (replication i of both ran on the same seed, see
`models.replications`). The same functions write ``summary.json`` and the time-series CSV files into
a run folder, so `motcua run` can reuse them. ``results/README.md`` documents every key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from motcua.compare_decision import decision
from motcua.errors import InputError
from motcua.models.coupled import PERIODS, ReplicationResult, month_index
from motcua.models.figures import (
    ScenarioFacts,
    day_dates,
    replication_figures,
    weighted_observed_share,
)
from motcua.models.replications import (
    CONFIDENCE,
    Estimate,
    ReplicationSet,
    json_number,
    mean_ci,
    paired_difference,
    proportion_ci,
)
from motcua.run_layout import (
    MANIFEST,
    ONLINE_PAYMENTS_DAILY_CSV,
    SHARE_DAILY_CSV,
    SHARE_WEEKLY_CSV,
    SIMULATION_CSV_FILES,
    SUMMARY,
    ComparisonSummary,
    Differences,
    SimulationSummary,
    read_json,
    write_csv,
    write_json,
)

SCHEMA_SIMULATE = "motcua.simulate/1"
SCHEMA_COMPARE = "motcua.compare/1"
ALL = "all"
"""Series id of all units together (shares weighted by each unit's fee-bearing dossiers per year)."""


# ---------------------------------------------------------------------------------------------
# Summary of one scenario
# ---------------------------------------------------------------------------------------------
NON_NEGATIVE = (0.0, np.inf)


def _est(x: Any, bounds: tuple[float, float] | None = NON_NEGATIVE) -> dict[str, Any]:
    """JSON estimate of a figure; counts, hours and minutes cannot be negative (`bounds`)."""
    return mean_ci(x, bounds=bounds).to_json()


SHARE_BOUNDS = (0.0, 1.0)


def _series_estimates(x: np.ndarray, ids: Sequence[str]) -> dict[str, Any]:
    """(R, steps, series) of shares → {series id: {"mean": [...], "low": [...], "high": [...]}}."""
    est = mean_ci(x, bounds=SHARE_BOUNDS)
    return {sid: Estimate(est.mean[:, i], est.low[:, i], est.high[:, i], est.n[:, i]).to_json()
            for i, sid in enumerate(ids)}


def _date_of(start: dt.date, day: float) -> str | None:
    if not np.isfinite(day):
        return None
    return (start + dt.timedelta(days=round(day))).isoformat()


def reach_summary(reach: np.ndarray, start: dt.date, deadline: int, days: int) -> dict[str, Any]:
    """When a target is reached: probability by the deadline, mean and median date and 80% band over replications.

    A deadline after the simulated horizon gives no probability (null): the runs never got there. A
    replication that never reaches the target counts as "later than the horizon's last day"
    (``horizon_end``), so the median and the band say "not within the horizon" rather than vanish.
    """
    reached = np.isfinite(reach)
    p10, p50, p90 = (np.percentile(reach, [10, 50, 90], method="lower") if reach.size
                     else (np.inf, np.inf, np.inf))
    if deadline < days:
        p_band = proportion_ci(int((reach <= deadline).sum()), reach.size)
    else:
        p_band = Estimate(np.nan, np.nan, np.nan, 0)
    return {
        "probability_by_deadline": p_band.to_json(),
        "reached_within_horizon": round(float(reached.mean()), 6),
        "date_mean": _date_of(start, float(reach[reached].mean())) if reached.any() else None,
        "date_p10": _date_of(start, float(p10)),
        "date_p50": _date_of(start, float(p50)),
        "date_p90": _date_of(start, float(p90)),
        "horizon_end": (start + dt.timedelta(days=days - 1)).isoformat(),
    }


def _wait_stats(fig: dict[str, Any]) -> tuple[str, ...]:
    """The wait figures of the summary: p50, p90, mean, and the mean by class when some citizens have priority."""
    by_class = ("mean_priority", "mean_ordinary") if "wait_mean_priority" in fig else ()
    return ("p50", "p90", "mean", *by_class)


def _period_windows(first: ReplicationResult) -> dict[str, Any]:
    return {name: {"start": (first.start + dt.timedelta(days=a)).isoformat(),
                   "end": (first.start + dt.timedelta(days=b - 1)).isoformat(),
                   "open_days": json_number(first.open_days[p], 0)}
            for p, (name, (a, b)) in enumerate(zip(PERIODS, first.periods, strict=True))}


def summarize(rset: ReplicationSet, facts: ScenarioFacts, *, settings: dict[str, Any]) -> SimulationSummary:
    """The body of ``summary.json`` for one scenario (see results/README.md)."""
    results = rset.results
    first = results[0]
    fig = replication_figures(results, facts)
    unit_ids = list(first.unit_ids)
    ids = [ALL, *unit_ids]
    days = first.days
    months, _ = month_index(first.start, days)
    end = first.start + dt.timedelta(days=days - 1)
    acts = list(first.activities)
    targets = []
    for k, t in enumerate(facts.targets):
        deadline = (t.date - first.start).days
        targets.append({
            "share": t.share, "date": t.date.isoformat(), "units": list(t.units),
            "deadline_within_horizon": t.date <= end,
            "all_units": reach_summary(fig[f"target{k}_reach_day"], first.start, deadline, days),
            "per_unit": {uid: reach_summary(fig[f"target{k}_unit_reach_day"][:, u], first.start, deadline, days)
                         for u, uid in enumerate(unit_ids)},
        })
    final = mean_ci(fig["share_final"], bounds=SHARE_BOUNDS)
    start = mean_ci(fig["share_start"], bounds=SHARE_BOUNDS)
    summary: dict[str, Any] = {
        "schema": SCHEMA_SIMULATE,
        "kind": "simulate",
        "scenario": {"name": facts.name, "title": facts.title, "title_en": facts.title_en or facts.title,
                     "region": facts.region},
        "settings": {**settings, "replications": len(results), "seed": rset.seed, "start": first.start.isoformat(),
                     "end": end.isoformat(), "horizon_days": days, "executor": rset.executor,
                     "confidence": CONFIDENCE},
        "units": [{"id": u.id, "name": u.name, "name_en": u.name_en or u.name, "fee_dossiers_per_year": u.weight,
                   "observed_share": u.observed_share} for u in facts.units],
        "headline": {},
        "targets": targets,
        "start_share": start_share(start, ids, facts),
        "share": {
            "series": ids,
            "final": {sid: Estimate(final.mean[i], final.low[i], final.high[i], final.n[i]).to_json()
                      for i, sid in enumerate(ids)},
            "monthly": {"labels": months, "series": _series_estimates(fig["share_monthly"], ids)},
            "weekly": {"labels": [(first.start + dt.timedelta(days=7 * w)).isoformat()
                                  for w in range(fig["share_weekly"].shape[1])],
                       "series": _series_estimates(fig["share_weekly"], ids)},
        },
        "counter_waits": {
            "periods": _period_windows(first),
            "units": {uid: {pname: {stat: _est(fig[f"wait_{stat}"][:, u, p]) for stat in _wait_stats(fig)}
                            for p, pname in enumerate(PERIODS)}
                      for u, uid in enumerate(unit_ids)},
        },
        "counter_visits_per_open_day": {
            uid: {pname: _est(fig["counter_visits_per_open_day"][:, p, u]) for p, pname in enumerate(PERIODS)}
            for u, uid in enumerate(unit_ids)},
        "officer_hours": {
            "activities": acts,
            "total": {uid: {a: _est(fig["officer_hours_total"][:, u, j]) for j, a in enumerate(acts)}
                      for u, uid in enumerate(unit_ids)},
            "per_open_day": {uid: {pname: {a: _est(fig["officer_hours_per_open_day"][:, p, u, j])
                                           for j, a in enumerate(acts)}
                                   for p, pname in enumerate(PERIODS)}
                             for u, uid in enumerate(unit_ids)},
            "freed_per_open_day": {sid: _est(fig["hours_freed_per_open_day"][:, i], None) for i, sid in enumerate(ids)},
            "cash_freed_per_open_day": ({sid: _est(fig["cash_hours_freed_per_open_day"][:, i], None)
                                         for i, sid in enumerate(ids)}
                                        if "cash_hours_freed_per_open_day" in fig else None),
        },
        "guided": {uid: _est(fig["guided_total"][:, u]) for u, uid in enumerate(unit_ids)},
        "told_unpaid": {uid: _est(fig["told_unpaid_total"][:, u]) for u, uid in enumerate(unit_ids)},
        "online_payments": _payments_summary(fig, ids, first.start),
        "runtime": {"wall_s": round(rset.wall_s, 3),
                    "replications_per_s": round(len(results) / rset.wall_s, 3) if rset.wall_s > 0 else None},
    }
    summary["headline"] = headline(summary)
    return cast(SimulationSummary, summary)  # built key by key above, as run_layout.SimulationSummary declares


def start_share(start: Estimate, ids: Sequence[str], facts: ScenarioFacts) -> dict[str, Any]:
    """The one start figure: the simulated share on the first day, for each unit and all units (weighted by
    fee-bearing dossiers per year, as every all-units figure), the observed figure computed the same way
    beside it, and the province's own observed figure with its source (it may differ: it counts every
    dossier of the province, not only the simulated units')."""
    observed = {u.id: u.observed_share for u in facts.units}
    observed[ALL] = weighted_observed_share(facts)
    return {
        "date": facts.start.isoformat(),
        "weighting": "fee_dossiers_per_year",
        "simulated": {sid: Estimate(start.mean[i], start.low[i], start.high[i], start.n[i]).to_json()
                      for i, sid in enumerate(ids)},
        "observed": {sid: observed.get(sid) for sid in ids},
        "province_observed": {"share": facts.region_observed_share, "source": facts.region_observed_source,
                              "from": facts.region_observed_period[0], "to": facts.region_observed_period[1]},
    }


def _payments_summary(fig: dict[str, np.ndarray], ids: Sequence[str], start: dt.date) -> dict[str, Any]:
    """Fees paid online (in citizens, from the adoption model): totals and the busiest day."""
    mean_daily = fig["online_payments_daily"][:, :, 0].mean(axis=0)
    return {
        "total": {sid: _est(fig["online_payments_total"][:, i]) for i, sid in enumerate(ids)},
        "peak_day": {sid: _est(fig["online_payments_peak_day"][:, i]) for i, sid in enumerate(ids)},
        "peak_day_date": (start + dt.timedelta(days=int(mean_daily.argmax()))).isoformat(),
    }


def headline(summary: dict[str, Any]) -> dict[str, Any]:
    """The figures a planner reads first (and `motcua results list` shows): the first target whose deadline
    lies within the horizon, all units."""
    final = summary["share"]["final"][ALL]
    head: dict[str, Any] = {"final_share": final, "target_share": None, "target_date": None,
                            "probability_by_deadline": None, "reached_date_mean": None,
                            "reached_date_p10": None, "reached_date_p50": None, "reached_date_p90": None,
                            "reached_within_horizon": None, "horizon_end": summary["settings"]["end"],
                            "interval": summary["settings"].get("uncertainty", "replications only"),
                            "hours_freed_per_open_day": summary["officer_hours"]["freed_per_open_day"][ALL]}
    within = [t for t in summary["targets"] if t["deadline_within_horizon"]]
    if within:
        t = within[0]
        reach = t["all_units"]
        head.update(target_share=t["share"], target_date=t["date"],
                    probability_by_deadline=reach["probability_by_deadline"],
                    reached_date_mean=reach["date_mean"], reached_date_p10=reach["date_p10"],
                    reached_date_p50=reach["date_p50"], reached_date_p90=reach["date_p90"],
                    reached_within_horizon=reach["reached_within_horizon"])
    return head


# ---------------------------------------------------------------------------------------------
# Comparison under common random numbers
# ---------------------------------------------------------------------------------------------
def compare_differences(baseline: tuple[str, dict[str, np.ndarray]], other: tuple[str, dict[str, np.ndarray]],
                        unit_ids: Sequence[str], n_targets: int, months: Sequence[str],
                        activities: Sequence[str]) -> Differences:
    """Paired differences other − baseline of the headline figures, with CIs (CRN: replication i paired)."""
    (a_name, a), (b_name, b) = baseline, other
    ids = [ALL, *unit_ids]

    def diff(key: str) -> Estimate:
        return paired_difference(a[key], b[key])

    final, monthly = diff("share_final"), diff("share_monthly")
    freed, wait_p90, told = diff("hours_freed_per_open_day"), diff("wait_p90"), diff("told_unpaid_total")
    hours, busy = diff("officer_hours_total"), diff("busy_hours_total")
    out: dict[str, Any] = {
        "scenario": b_name, "baseline": a_name,
        "final_share": {sid: Estimate(final.mean[i], final.low[i], final.high[i], final.n[i]).to_json()
                        for i, sid in enumerate(ids)},
        "share_monthly": {"labels": list(months),
                          "series": {sid: Estimate(monthly.mean[:, i], monthly.low[:, i], monthly.high[:, i],
                                                   monthly.n[:, i]).to_json() for i, sid in enumerate(ids)}},
        "hours_freed_per_open_day": {sid: _slice(freed, i) for i, sid in enumerate(ids)},
        "wait_p90_after": {uid: _slice(wait_p90, (u, len(PERIODS) - 1)) for u, uid in enumerate(unit_ids)},
        "told_unpaid": {uid: _slice(told, u) for u, uid in enumerate(unit_ids)},
        "officer_hours_total": {uid: {act: _slice(hours, (u, j)) for j, act in enumerate(activities)}
                                for u, uid in enumerate(unit_ids)},
        "busy_officer_hours": {sid: _slice(busy, i) for i, sid in enumerate(ids)},
        "targets": [],
    }
    for k in range(n_targets):
        out["targets"].append({
            "probability_by_deadline": diff(f"target{k}_reached").to_json(),
        })
    # How much pairing helped: CI half-width of the final all-units difference, paired vs independent.
    ea, eb = mean_ci(a["share_final"][:, 0]), mean_ci(b["share_final"][:, 0])
    paired_half = final.high[0] - final.mean[0]
    indep_half = np.hypot(ea.high - ea.mean, eb.high - eb.mean)
    out["crn"] = {"final_share_ci_halfwidth_paired": json_number(paired_half),
                  "final_share_ci_halfwidth_independent": json_number(indep_half)}
    return cast(Differences, out)  # built key by key above, as run_layout.Differences declares


def _slice(est: Estimate, index: Any) -> dict[str, Any]:
    return Estimate(np.asarray(est.mean)[index], np.asarray(est.low)[index], np.asarray(est.high)[index],
                    np.asarray(est.n)[index]).to_json()


def summarize_comparison(sets: Sequence[ReplicationSet], facts: Sequence[ScenarioFacts], *,
                         settings: dict[str, Any]) -> ComparisonSummary:
    """The body of ``summary.json`` of `motcua compare`: each scenario's summary and the paired differences."""
    per = [summarize(s, f, settings=settings) for s, f in zip(sets, facts, strict=True)]
    figs = [replication_figures(s.results, f) for s, f in zip(sets, facts, strict=True)]
    first = sets[0].results[0]
    for s, f in zip(sets[1:], facts[1:], strict=True):
        other = s.results[0]
        if other.unit_ids != first.unit_ids or other.days != first.days or other.start != first.start:
            raise InputError(
                f"compare: scenario {f.name!r} has other units, start or horizon than {facts[0].name!r}; "
                "compare scenarios of the same region and simulation window")
    months, _ = month_index(first.start, first.days)
    n_targets = min(len(f.targets) for f in facts)
    diffs = [compare_differences((facts[0].name, figs[0]), (f.name, fig), first.unit_ids, n_targets, months,
                                 first.activities)
             for f, fig in zip(facts[1:], figs[1:], strict=True)]
    for d, f, fig in zip(diffs, facts[1:], figs[1:], strict=True):
        d["decision"] = decision(figs[0], fig, facts[0], f, first.days)
    comparison: dict[str, Any] = {
        "schema": SCHEMA_COMPARE,
        "kind": "compare",
        "scenarios": [p["scenario"] for p in per],
        "baseline": facts[0].name,
        "settings": {**per[0]["settings"], "common_random_numbers": True},
        "headline": {p["scenario"]["name"]: p["headline"] for p in per},
        "summaries": per,
        "differences": diffs,
    }
    return cast(ComparisonSummary, comparison)  # as run_layout.ComparisonSummary declares


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------
SHARE_HEADER = ("scenario", "date", "series", "name", "share_mean", "share_low", "share_high")
PAYMENTS_HEADER = ("scenario", "date", "series", "name", "payments_mean", "payments_low", "payments_high")


def share_rows(scenario: str, labels: Sequence[str], x: np.ndarray, ids: Sequence[str],
               names: dict[str, str], bounds: tuple[float, float] | None = SHARE_BOUNDS) -> list[list[Any]]:
    """Long-format CSV rows of a (R, steps, series) array: one row per step and series, mean and CI."""
    est = mean_ci(x, bounds=bounds)
    rows = []
    for t, label in enumerate(labels):
        for i, sid in enumerate(ids):
            rows.append([scenario, label, sid, names.get(sid, sid), *(json_number(v[t, i]) for v in
                                                                     (est.mean, est.low, est.high))])
    return rows


def write_outputs(out_dir: Path, sets: Sequence[ReplicationSet], facts: Sequence[ScenarioFacts],
                  summary: SimulationSummary | ComparisonSummary) -> list[Path]:
    """Write ``summary.json``, ``share_daily.csv``, ``share_weekly.csv`` and ``online_payments_daily.csv``."""
    out_dir = Path(out_dir)
    daily_rows: list[list[Any]] = []
    weekly_rows: list[list[Any]] = []
    payment_rows: list[list[Any]] = []
    for rset, f in zip(sets, facts, strict=True):
        first = rset.results[0]
        fig = replication_figures(rset.results, f)
        ids = [ALL, *first.unit_ids]
        names = {ALL: "all units", **{u.id: u.name for u in f.units}}
        dates = [d.isoformat() for d in day_dates(first.start, first.days)]
        weeks = [dates[7 * w] for w in range(fig["share_weekly"].shape[1])]
        daily_rows += share_rows(f.name, dates, fig["share_daily"], ids, names)
        weekly_rows += share_rows(f.name, weeks, fig["share_weekly"], ids, names)
        payment_rows += share_rows(f.name, dates, fig["online_payments_daily"], ids, names, (0.0, np.inf))
    return [
        write_json(out_dir / SUMMARY, summary),
        write_csv(out_dir / SHARE_DAILY_CSV, SHARE_HEADER, daily_rows),
        write_csv(out_dir / SHARE_WEEKLY_CSV, SHARE_HEADER, weekly_rows),
        write_csv(out_dir / ONLINE_PAYMENTS_DAILY_CSV, PAYMENTS_HEADER, payment_rows),
    ]


# ---------------------------------------------------------------------------------------------
# Reading a saved run (notebooks, `motcua report`)
# ---------------------------------------------------------------------------------------------
CSV_FILES = SIMULATION_CSV_FILES


@dataclass(frozen=True)
class SavedSimulation:
    """A finished `simulate` or `compare` run read back: its summary, manifest and time series."""

    path: Path
    manifest: dict[str, Any]
    summary: dict[str, Any]
    tables: dict[str, Any]
    """pandas DataFrames by file stem: ``share_daily``, ``share_weekly``, ``online_payments_daily``
    (``date`` parsed as dates)."""


def load_outputs(run_dir: Path) -> SavedSimulation:
    """Read a run folder written by `motcua simulate` or `motcua compare` (nothing is recomputed)."""
    import pandas as pd


    run_dir = Path(run_dir)
    summary = read_json(run_dir / SUMMARY)
    if summary.get("schema") not in (SCHEMA_SIMULATE, SCHEMA_COMPARE):
        raise InputError(f"{run_dir / SUMMARY}: schema = {summary.get('schema')!r} is not a simulation summary; "
                         "give the folder of a `motcua simulate` or `motcua compare` run (see motcua results list)")
    tables = {}
    for name in CSV_FILES:
        path = run_dir / name
        if not path.exists():
            raise InputError(f"{path}: file not found; the run folder is incomplete — rerun the command in its "
                             f"{MANIFEST}")
        tables[path.stem] = pd.read_csv(path, parse_dates=["date"])
    return SavedSimulation(run_dir, read_json(run_dir / MANIFEST), summary, tables)
