"""Calibration: fit the adoption parameters of a scenario to observed online shares.

Scenario: Sơn La reported that 2.97%, 4.39% and 10.7% of people used online public services in 2020,
2021 and 2022. Which innovation p, imitation q and outreach-effort weight make the model pass through
those figures, how sure can we be, and when — as a band, not a date — would the 50% target be reached?

The fit runs against the deterministic mean field of the adoption model (`models.theory.mean_field_share`,
Generalized Bass in closed form): per unit, dF/dt = (p + qF/m)(m − F)·x(t) with m the potential share and
effort x(t) = 1 + effort_weight · (sum of the intensities of the unit's active outreach interventions —
`models.adoption.OUTREACH_KINDS`: information campaigns, community digital teams, post-office help points),
the same x(t) the agent model uses, so a fitted effort_weight means the same thing there. It is fast (no
agents), so a parametric bootstrap of a few hundred refits takes seconds. A plain Bass curve (effort_weight
fixed at 0) cannot produce an accelerating series such as Sơn La's (×1.48, then ×2.44): its year-on-year
ratio only falls. The effort term can.

Observations average the model's daily share over their period (a year, a month, "the first five
months"), per unit, or over the region (``unit = *``: units weighted by their fee-bearing dossiers).
Uncertainty comes from the Jacobian at the optimum (when there are more observations than free
parameters) and from a parametric bootstrap; warnings say when the data cannot identify the parameters.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from motcua.models.adoption import AdoptionSetup, effort_by_day
from motcua.models.calibration_agent import AgentFit, AgentSettings, fit_agent_model, reach_days, run_draws
from motcua.models.theory import DAYS_PER_YEAR, mean_field_share

from motcua.atomic import atomic_path
from motcua.errors import InputError
from motcua.scenario import ALL_UNITS, Scenario, scenario_from_dict
from motcua.typed_config import parse_date

PARAMETERS = ("p_per_year", "q_per_year", "effort_weight")
"""The adoption parameters calibration can fit (each may be fixed instead)."""
_LOG_BOUNDS = {"p_per_year": (1e-5, 5.0), "q_per_year": (1e-6, 10.0), "effort_weight": (1e-6, 100.0)}
_START_GRID = {"p_per_year": (0.003, 0.03, 0.15), "q_per_year": (0.05, 0.4, 1.5), "effort_weight": (0.3, 2.0, 8.0)}
PAYMENT_SHARE = "online_payment_share"
OBSERVATION_KINDS = {
    PAYMENT_SHARE: "share of fee-bearing dossiers paid online (what the model computes)",
    "online_service_share": "share of people (or dossiers) using online public services: a proxy for online payment",
    "online_dossier_share": "share of dossiers filed online: a proxy for online payment",
}
"""The kinds of observation `read_observed` accepts; every kind but the first is a proxy."""
DEFAULT_PROXY_SD = 0.25
"""Extra relative uncertainty of a proxy observation whose file does not state one (*assumed*)."""
CONDITION_LIMIT = 1e6
CORRELATION_LIMIT = 0.95
FITTED = "derived: fitted by motcua calibrate"
"""How the provenance of every value calibration writes into a scenario begins."""
EXTRA_YEARS = 15
"""How far beyond the scenario's horizon to look for the date a target is reached."""


@dataclasses.dataclass(frozen=True)
class Observation:
    """An observed share of fee-bearing dossiers paid online, for a unit (or the region) over a period."""

    unit: str
    start: dt.date
    end: dt.date
    share: float
    source: str = ""
    line: int = 0
    kind: str = "online_payment_share"
    """What was measured: `OBSERVATION_KINDS` (a proxy kind stands in for the share of fees paid online)."""
    proxy_sd: float = 0.0
    """Extra relative uncertainty of a proxy (0.3: the true share may differ from the proxy by ±30%, 1 sd)."""

    @property
    def is_proxy(self) -> bool:
        return self.kind != PAYMENT_SHARE

    def sd(self, noise: float) -> float:
        """The observation's total standard deviation: measurement noise and the proxy's extra uncertainty."""
        return math.hypot(noise, self.proxy_sd * self.share)


def read_observed(path: str | Path, scenario: Scenario) -> list[Observation]:
    """Read an observed-shares CSV (``unit,period_start,period_end,share[,source,note]``), validated."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"--observed {path}: file not found (see scenarios/observed/ for examples)") from None
    rows = list(csv.DictReader(text.splitlines()))
    header = rows[0].keys() if rows else text.splitlines()[0].split(",") if text.strip() else []
    missing = [c for c in ("unit", "period_start", "period_end", "share") if c not in header]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; the header must include "
                         "unit,period_start,period_end,share (source and note are optional)")
    unit_ids = {u.id for u in scenario.units}
    observations = [_observation(path, number, row, unit_ids) for number, row in enumerate(rows, start=2)]
    if not observations:
        raise InputError(f"{path}: no observations; add rows unit,period_start,period_end,share")
    return observations


def _observation(path: Path, line: int, row: Mapping[str, str], unit_ids: set[str]) -> Observation:
    def bad(column: str, problem: str) -> InputError:
        return InputError(f"{path}: line {line}, {column} = {row.get(column)!r}: {problem}")

    unit = (row.get("unit") or "").strip()
    if unit != ALL_UNITS and unit not in unit_ids:
        raise bad("unit", f"not a unit of the scenario; use one of {', '.join(sorted(unit_ids))} or '*' (region)")
    dates = {}
    for column in ("period_start", "period_end"):
        try:
            dates[column] = parse_date((row.get(column) or "").strip())
        except ValueError as exc:
            raise bad(column, str(exc)) from None
    if dates["period_end"] < dates["period_start"]:
        raise bad("period_end", f"before period_start {dates['period_start']}")
    try:
        share = float(row.get("share") or "")
    except ValueError:
        raise bad("share", "expected a number within 0–1") from None
    if not 0 <= share <= 1:
        hint = f"; if it is a percentage, write {share / 100:g}" if 1 < share <= 100 else ""
        raise bad("share", f"a share must be within 0–1{hint}")
    kind = (row.get("kind") or "").strip() or PAYMENT_SHARE
    if kind not in OBSERVATION_KINDS:
        raise bad("kind", f"not a kind of observation; use one of {', '.join(OBSERVATION_KINDS)}")
    text = (row.get("proxy_sd") or "").strip()
    try:
        proxy_sd = float(text) if text else (DEFAULT_PROXY_SD if kind != PAYMENT_SHARE else 0.0)
    except ValueError:
        raise bad("proxy_sd", "expected a number, the proxy's relative uncertainty (0.25 = ±25%)") from None
    if not 0 <= proxy_sd <= 2:
        raise bad("proxy_sd", "must be within 0–2 (a relative standard deviation; 0.25 = ±25%)")
    if proxy_sd and kind == PAYMENT_SHARE:
        proxies = ", ".join(list(OBSERVATION_KINDS)[1:])
        raise bad("proxy_sd", f"only a proxy has one; set kind to a proxy kind ({proxies})")
    return Observation(unit, dates["period_start"], dates["period_end"], share, (row.get("source") or "").strip(),
                       line, kind, proxy_sd)


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


@dataclasses.dataclass
class Calibration:
    """The result of `fit`: estimates, uncertainty, residuals, warnings and target bands."""

    model: str
    origin: dt.date
    free: tuple[str, ...]
    estimates: dict[str, float]
    """Fitted (and fixed) adoption parameters."""
    std_errors: dict[str, float | None]
    """From the Jacobian at the optimum; None when there are no residual degrees of freedom."""
    intervals: dict[str, tuple[float, float]]
    """Bootstrap percentile intervals at `level`."""
    correlation: np.ndarray | None
    condition_number: float
    observations: list[Observation]
    fitted: np.ndarray
    """Model value of each observation at the estimates."""
    initial_shares: dict[str, float]
    """Each unit's share at `origin` (fitted with fit_initial, else the scenario's)."""
    initial_intervals: dict[str, tuple[float, float]]
    """Bootstrap intervals of the fitted initial shares, by group ('*' = the units not observed one by one)."""
    noise_sd: float
    noise_sd_assumed: bool
    level: float
    bootstrap: np.ndarray
    """Bootstrap parameter draws (rows) for the free parameters."""
    targets: list[TargetBand]
    warnings: list[str]
    mean_field: MeanField = dataclasses.field(repr=False)
    agent: AgentFit | None = None
    """The agent model at the estimates (when fitted with ``agent=``): its replications and parameter draws."""
    mean_field_targets: list[TargetBand] = dataclasses.field(default_factory=list)
    """The target bands of the (corrected) mean field alone, for comparison with the agent model's."""
    mean_field_estimates: dict[str, float] = dataclasses.field(default_factory=dict)
    """The estimates the mean field alone gives (before the agent model's correction)."""
    proxies: list[Observation] = dataclasses.field(default_factory=list)
    problem: Any = dataclasses.field(default=None, repr=False)

    def describe_model(self) -> str:
        if self.agent is not None:
            return "agent model as simulate runs it (barriers, interventions, counter guidance)"
        return "plain Bass mean field" if self.model == "bass" else "Generalized Bass mean field, barriers off"

    def band_source(self) -> str:
        if self.agent is not None:
            return f"{len(self.agent.draw_runs)} parameter draws and {self.agent.replications} replications"
        return f"{len(self.bootstrap)} bootstrap draws"

    def region_curve(self) -> tuple[list[dt.date], np.ndarray, np.ndarray, np.ndarray]:
        """Dates, the region's fitted share and its `level` band, day by day."""
        field, tail = self.mean_field, (1 - self.level) / 2
        if self.agent is not None:
            best = self.agent.runs @ field.weights
            pooled = np.concatenate([best, self.agent.draw_runs @ field.weights])
            mean = best.mean(axis=0)
        else:
            days = min(field.days, field.day(self.problem.scenario.simulation.end) + 1 + 366)
            x = self.problem.best
            mean = self.problem.trajectory(x, days) @ field.weights
            pooled = np.array([self.problem.trajectory(d, days) @ field.weights for d in self.bootstrap[:200]]
                              or [mean])
        dates = [field.date(d) for d in range(len(mean))]
        return dates, mean, np.quantile(pooled, tail, axis=0), np.quantile(pooled, 1 - tail, axis=0)

    def period_values(self, observations: Sequence[Observation]) -> tuple[np.ndarray, np.ndarray]:
        """Each observation's value under the best fit (mean) and over the band's draws: (obs,), (draws, obs)."""
        spans = [(self.mean_field.day(o.start), self.mean_field.day(o.end) + 1, o.unit) for o in observations]
        if self.agent is not None:
            days = self.agent.runs.shape[1]
            late = [o for o, (_, b, _) in zip(observations, spans, strict=True) if b > days]
            if late:
                raise InputError(f"observation {late[0].start} – {late[0].end}: after the simulated horizon "
                                 f"({self.mean_field.date(days - 1)}); raise simulation.horizon_days")
            runs, draws = self.agent.runs, np.concatenate([self.agent.runs, self.agent.draw_runs])
        else:
            runs = self.problem.trajectory(self.problem.best)[None]
            draws = np.array([self.problem.trajectory(d) for d in self.bootstrap] or runs)

        def observe(series: np.ndarray) -> np.ndarray:
            return np.array([self.mean_field.column(series[a:b], [u]).mean() for a, b, u in spans])

        return np.mean([observe(r) for r in runs], axis=0), np.array([observe(r) for r in draws])

    @property
    def residuals(self) -> np.ndarray:
        return self.fitted - np.array([o.share for o in self.observations])

    @property
    def rmse(self) -> float:
        return float(np.sqrt(np.mean(self.residuals**2)))

    def summary(self) -> dict[str, Any]:
        """Plain data for ``summary.json``."""
        first = self.targets[0] if self.targets else None
        headline = {
            "model": self.model,
            **{name: round(value, 6) for name, value in self.estimates.items()},
            "rmse": round(self.rmse, 6),
            "target": f"{first.share:.0%} by {first.deadline}" if first else None,
            "reached_best": _iso(first.best) if first else None,
            "reached_low": _iso(first.low) if first else None,
            "reached_high": _iso(first.high) if first else None,
            "warnings": len(self.warnings),
        }
        return {
            "schema": "motcua.calibrate/1",
            "headline": headline,
            "model": self.model,
            "origin": self.origin.isoformat(),
            "free_parameters": list(self.free),
            "estimates": self.estimates,
            "std_errors": self.std_errors,
            "intervals": {k: list(v) for k, v in self.intervals.items()},
            "interval_level": self.level,
            "correlation": None if self.correlation is None else np.round(self.correlation, 4).tolist(),
            "condition_number": self.condition_number,
            "rmse": self.rmse,
            "noise_sd": self.noise_sd,
            "noise_sd_assumed": self.noise_sd_assumed,
            "bootstrap_draws": len(self.bootstrap),
            "initial_shares": self.initial_shares,
            "initial_share_intervals": {k: list(v) for k, v in self.initial_intervals.items()},
            "observations": [
                {"unit": o.unit, "period_start": o.start.isoformat(), "period_end": o.end.isoformat(),
                 "observed": o.share, "fitted": float(f), "residual": float(f - o.share), "source": o.source,
                 "kind": o.kind, "proxy_sd": o.proxy_sd, "sd": o.sd(self.noise_sd)}
                for o, f in zip(self.observations, self.fitted, strict=True)
            ],
            "targets": [_band_json(t) for t in self.targets],
            "target_method": "agent" if self.agent is not None else "mean_field",
            "warnings": self.warnings,
            "agent": self._agent_summary(),
            "mean_field_alone": {
                "estimates": self.mean_field_estimates,
                "targets": [_band_json(t) for t in self.mean_field_targets],
            },
        }

    def _agent_summary(self) -> dict[str, Any] | None:
        agent = self.agent
        if agent is None:
            return None
        rows = []
        for i, o in enumerate(self.observations):
            mean, low, high = agent.band(i)
            rows.append({"period_start": o.start.isoformat(), "period_end": o.end.isoformat(), "unit": o.unit,
                         "observed": o.share, "simulated_mean": mean, "simulated_low95": low,
                         "simulated_high95": high, "inside": bool(low <= o.share <= high)})
        return {"replications": agent.replications, "seed": agent.seed, "draws": len(agent.draw_runs),
                "iterations": agent.iterations, "converged": agent.converged, "observations": rows,
                "band": self.band_source()}

    def _proxy_lines(self) -> list[str]:
        if not self.proxies:
            return []
        return ["", "Proxies (each adds its stated relative sd to the noise of the fit):"] + [
            f"  {o.start} – {o.end} [{o.unit}] {o.kind}: ±{o.proxy_sd:.0%} "
            f"(sd {o.sd(self.noise_sd):.4f} in all)" for o in self.proxies]

    def _agent_lines(self) -> list[str]:
        agent = self.agent
        if agent is None:
            return []
        lines = ["", f"Agent model at the estimates: {agent.replications} replications, seed {agent.seed} (the streams "
                 f"of `motcua simulate`'s first {agent.replications}); {len(agent.iterations)} batch(es) of runs, "
                 "largest miss at each " + " → ".join(f"{m:.1%}" for m in agent.iterations),
                 f"{'period':<25}{'observed':>10}{'simulated':>11}   95% band (mean over replications)  inside"]
        for i, obs in enumerate(self.observations):
            mean, low, high = agent.band(i)
            lines.append(f"{obs.start} – {obs.end}  {obs.share:>10.4f}{mean:>11.4f}   {low:.4f} – {high:.4f}"
                         f"{'yes' if low <= obs.share <= high else 'NO':>21}")
        return lines

    def _group_share(self, group: str) -> float:
        observed = {o.unit for o in self.observations}
        rest = [u for u in self.initial_shares if u not in observed]
        return self.initial_shares[rest[0]] if rest else math.nan

    def report(self) -> str:
        """The text `motcua calibrate` prints."""
        lines = [f"Model: {self.describe_model()}, origin {self.origin}, {len(self.observations)} observation(s), "
                 f"{len(self.free) + len(self.initial_intervals)} free parameter(s)", "",
                 f"{'parameter':<28}{'estimate':>12}{'std error':>12}   {self.level:.0%} interval (bootstrap)"]
        for name, value in self.estimates.items():
            if name in self.free:
                se = self.std_errors.get(name)
                low, high = self.intervals.get(name, (math.nan, math.nan))
                lines.append(f"{name:<28}{value:>12.4g}{(f'{se:.3g}' if se is not None else 'n/a'):>12}   "
                             f"{low:.4g} – {high:.4g}")
            else:
                lines.append(f"{name:<28}{value:>12.4g}{'fixed':>12}")
        for group, (low, high) in self.initial_intervals.items():
            value = self.initial_shares[group] if group in self.initial_shares else self._group_share(group)
            lines.append(f"{'share on ' + str(self.origin) + ' [' + group + ']':<28}{value:>12.4g}{'n/a':>12}   "
                         f"{low:.4g} – {high:.4g}")
        if self.correlation is not None and len(self.free) > 1:
            lines += ["", "correlation of estimates: " + "; ".join(
                f"{a}~{b} {self.correlation[i, j]:+.2f}" for i, a in enumerate(self.free)
                for j, b in enumerate(self.free) if j > i)]
        lines += ["", f"condition number (relative Jacobian): {self.condition_number:.3g}",
                  f"noise sd for the bootstrap: {self.noise_sd:.4f}" + (" (assumed: no residual degrees of freedom)"
                                                                         if self.noise_sd_assumed else ""),
                  "", f"{'unit':<24}{'period':<25}{'observed':>10}{'fitted':>10}{'residual':>10}"]
        for obs, fitted in zip(self.observations, self.fitted, strict=True):
            lines.append(f"{obs.unit:<24}{obs.start} – {obs.end}  {obs.share:>10.4f}{fitted:>10.4f}"
                         f"{fitted - obs.share:>+10.4f}")
        lines.append(f"RMSE {self.rmse:.4f}")
        lines += self._proxy_lines() + self._agent_lines()
        if self.targets:
            how = (f"simulate's rule, the first day the 7-day mean reaches the target; best = mean over the "
                   f"{self.agent.replications} replications at the estimates, band over {self.band_source()}"
                   if self.agent is not None else "mean field, band over the bootstrap")
            lines += ["", f"Targets ({how}):"] + [f"  {t.describe()}" for t in self.targets]
        if self.agent is not None and self.mean_field_targets:
            lines += ["", "The mean field alone (barriers off) would say, at its own fit "
                      + ", ".join(f"{k} = {v:.4g}" for k, v in self.mean_field_estimates.items()) + ":"]
            lines += [f"  {t.describe()}" for t in self.mean_field_targets]
        if self.warnings:
            lines += [""] + [f"WARNING: {w}" for w in self.warnings]
        return "\n".join(lines)


def _iso(date: dt.date | None) -> str | None:
    return date.isoformat() if date else None


def _band_json(t: TargetBand) -> dict[str, Any]:
    return {"name": t.name, "share": t.share, "deadline": t.deadline.isoformat(), "units": list(t.units),
            "best": _iso(t.best), "low": _iso(t.low), "high": _iso(t.high), "level": t.level,
            "probability_by_deadline": t.probability_by_deadline, "searched_until": t.searched_until.isoformat()}


# --- backtest ---------------------------------------------------------------------------------------


def split_holdout(observations: Sequence[Observation], last_n: int) -> tuple[list[Observation], list[Observation]]:
    """The observations to fit and the last `last_n` (by period end) to hold out for a backtest."""
    ordered = sorted(observations, key=lambda o: (o.end, o.start))
    if not 0 <= last_n < len(ordered):
        raise InputError(f"--holdout {last_n}: must be within 0 – {len(ordered) - 1} (there are {len(ordered)} "
                         "observations and at least one must remain to fit)")
    return (list(observations) if not last_n else ordered[:-last_n]), (ordered[-last_n:] if last_n else [])


@dataclasses.dataclass(frozen=True)
class HeldOut:
    """One held-out observation against the forecast of a fit that did not see it."""

    observation: Observation
    forecast: float
    low: float
    high: float
    level: float

    @property
    def miss(self) -> float:
        return self.forecast - self.observation.share

    @property
    def inside(self) -> bool:
        return self.low <= self.observation.share <= self.high


@dataclasses.dataclass(frozen=True)
class Backtest:
    """The forecast of held-out observations: the miss, and whether each lies inside the forecast band (the fit's
    draws plus the observation's own noise and proxy uncertainty: where a new observation should fall)."""

    rows: list[HeldOut]
    fitted_on: list[Observation]
    band: str

    def report(self) -> str:
        first, last = self.fitted_on[0], self.fitted_on[-1]
        lines = [f"Backtest: fitted on {len(self.fitted_on)} observation(s) ({first.start} – {last.end}), "
                 f"forecast {len(self.rows)} held out (band over {self.band}):",
                 f"{'period':<25}{'observed':>10}{'forecast':>10}{'miss':>10}   band            inside"]
        for r in self.rows:
            o = r.observation
            lines.append(f"{o.start} – {o.end}  {o.share:>10.4f}{r.forecast:>10.4f}{r.miss:>+10.4f}   "
                         f"{r.low:.4f} – {r.high:.4f}  {'yes' if r.inside else 'NO'}"
                         f"  ({r.miss / o.share:+.0%} of the observed)")
        return "\n".join(lines)

    def summary(self) -> dict[str, Any]:
        return {"fitted_on": [{"period_start": o.start.isoformat(), "period_end": o.end.isoformat(),
                               "observed": o.share} for o in self.fitted_on],
                "band": self.band,
                "held_out": [{"unit": r.observation.unit, "period_start": r.observation.start.isoformat(),
                              "period_end": r.observation.end.isoformat(), "observed": r.observation.share,
                              "forecast": r.forecast, "low": r.low, "high": r.high, "level": r.level,
                              "miss": r.miss, "relative_miss": r.miss / r.observation.share if r.observation.share
                              else None, "inside": r.inside} for r in self.rows]}


def backtest(result: Calibration, held_out: Sequence[Observation]) -> Backtest:
    """Forecast `held_out` with a fit that did not see them (the best fit's mean, and the band of its draws)."""
    forecast, draws = result.period_values(held_out)
    # A prediction band: the draws' values plus each observation's own noise (and a proxy's extra uncertainty).
    noise = np.random.default_rng(0).standard_normal((max(len(draws), 200), len(held_out)))
    sds = np.array([o.sd(result.noise_sd) for o in held_out])
    draws = draws[np.arange(len(noise)) % len(draws)] + noise * sds
    tail = (1 - result.level) / 2
    low, high = np.quantile(draws, tail, axis=0), np.quantile(draws, 1 - tail, axis=0)
    rows = [HeldOut(o, float(f), float(a), float(b), result.level)
            for o, f, a, b in zip(held_out, forecast, low, high, strict=True)]
    return Backtest(rows, sorted(result.observations, key=lambda o: o.end), result.band_source())


def fit(
    scenario: Scenario,
    observations: Sequence[Observation],
    *,
    model: str = "generalized",
    fixed: Mapping[str, float] | None = None,
    origin: dt.date | None = None,
    fit_initial: bool = False,
    bootstrap: int = 200,
    level: float = 0.8,
    noise_sd: float | None = None,
    seed: int = 0,
    agent: AgentSettings | None = None,
) -> Calibration:
    """Fit the adoption parameters of `scenario` to `observations` by least squares on the mean field.

    ``model="bass"`` fixes effort_weight at 0 (the plain Bass curve). ``fixed`` pins parameters by name.
    ``fit_initial`` also fits each observed unit's share at `origin` (default: the scenario's start shares).
    ``agent`` fits the agent model as `motcua simulate` runs it (`models.calibration_agent`) instead of the mean
    field alone, and gives the target dates by simulate's rule over parameter draws and replications.
    """
    fixed = dict(fixed or {})
    if model == "bass":
        fixed["effort_weight"] = 0.0
    elif model != "generalized":
        raise InputError(f"--model {model!r}: use 'generalized' (with effort) or 'bass' (plain Bass)")
    for name in fixed:
        if name not in PARAMETERS:
            raise InputError(f"--fix {name}: not a parameter calibration fits; use one of {', '.join(PARAMETERS)}")
    if not 0 < level < 1:
        raise InputError(f"--level {level}: must be within (0, 1), e.g. 0.8")
    origin = origin or scenario.simulation.start
    if agent is not None and origin != scenario.simulation.start:
        raise InputError(f"--origin {origin}: the agent model starts at simulation.start = "
                         f"{scenario.simulation.start}; drop --origin, or pass --model mean-field")
    early = [o for o in observations if o.start < origin]
    if early:
        raise InputError(f"observation on line {early[0].line} starts {early[0].start}, before the calibration "
                         f"origin {origin}; pass --origin {min(o.start for o in observations)} (and --fit-initial "
                         "if the units had a share then)")
    problem = _Problem(scenario, list(observations), origin, fixed, fit_initial)
    inert = problem.insensitive()
    if inert:
        # A parameter the observations cannot see at all would end anywhere; keep the scenario's value.
        fixed.update({name: getattr(scenario.adoption, name) for name in inert})
        problem = _Problem(scenario, list(observations), origin, fixed, fit_initial)
    best = problem.solve()
    mean_field_only = problem.parameters(best)
    agent_fit = None
    if agent is not None:
        best, agent_fit = fit_agent_model(problem, best, agent)
    sd, sd_assumed = problem.noise(best, noise_sd)
    draws = problem.bootstrap(best, bootstrap, sd, np.random.default_rng(seed))
    estimates = problem.parameters(best)
    warnings = [f"{name} does not change the fitted values at all (e.g. no intervention is active during the "
                f"observed periods), so the data say nothing about it: kept at the scenario's "
                f"{getattr(scenario.adoption, name):g}." for name in inert]
    problem.best = best
    warnings += problem.identifiability_warnings(best, draws)
    warnings += _misfit_warnings(problem, best, model, noise_sd)
    mean_field_targets = [problem.target_band(t, best, draws, level) for t in scenario.targets]
    targets = mean_field_targets
    if agent is not None and agent_fit is not None:
        agent_fit.draw_runs = run_draws(problem, draws, agent)
        targets = [problem.agent_target_band(t, agent_fit, level) for t in scenario.targets]
        if not agent_fit.converged:
            warnings.append(f"the agent model did not settle within {len(agent_fit.iterations)} batches of runs "
                            f"(largest miss {agent_fit.miss:.1%}, tolerance {agent.tolerance:.1%}, and an observation "
                            "outside the 95% band of the replications): the fit may "
                            "not be the best the agent model allows; raise --replications or see the residuals")
    jac_cov = problem.covariance(best, sd if not sd_assumed else None)
    return Calibration(
        model=model, origin=origin, free=problem.free, estimates=estimates,
        std_errors=_std_errors(problem, best, jac_cov),
        intervals=_intervals(problem, draws, level),
        correlation=_correlation(jac_cov) if jac_cov is not None else problem.correlation_from_jacobian(best),
        condition_number=problem.condition(best), observations=list(observations),
        fitted=agent_fit.simulated.mean(axis=0) if agent_fit is not None else problem.predict(best),
        initial_shares=problem.initial_shares(best),
        initial_intervals=problem.initial_intervals(draws, level),
        noise_sd=sd, noise_sd_assumed=sd_assumed, level=level, bootstrap=draws, targets=targets,
        warnings=warnings, mean_field=problem.field, agent=agent_fit, mean_field_targets=mean_field_targets,
        mean_field_estimates=mean_field_only, proxies=[o for o in observations if o.is_proxy], problem=problem,
    )


ASSUMED_NOISE = 0.005
"""Observation noise sd (a share) when the residuals cannot measure it and none is given."""
MISFIT_TOLERANCE = 1e-3
"""With as many free parameters as observations a curve of the right shape passes within this of each point."""


def _misfit_warnings(problem: _Problem, x: np.ndarray, model: str, noise_sd: float | None) -> list[str]:
    """Say so when the model's shape cannot follow the data (it misses points it had the freedom to hit)."""
    miss = float(np.max(np.abs(problem.residuals(x, problem.observed))))
    n, k = len(problem.observed), problem.size
    if n <= k:
        limit, why = MISFIT_TOLERANCE, f"although it has {k} free parameters for {n} points"
    elif noise_sd is not None:
        limit, why = 3 * noise_sd, f"more than 3 × the given noise sd {noise_sd:g}"
    else:
        return []
    if miss <= limit:
        return []
    hint = " A plain Bass curve cannot accelerate: try --model generalized." if model == "bass" else ""
    return [f"misfit: the best fit misses an observation by {miss:.4f}, {why}: the model's shape does not match "
            f"the data.{hint}"]


class _Problem:
    """The least-squares problem: the free parameters in log space (and initial shares in logit space)."""

    def __init__(self, scenario: Scenario, observations: list[Observation], origin: dt.date,
                 fixed: dict[str, float], fit_initial: bool) -> None:
        self.scenario = scenario
        self.observations = observations
        self.fixed = {k: fixed[k] for k in PARAMETERS if k in fixed}
        self.free = tuple(k for k in PARAMETERS if k not in fixed)
        last = max(max(o.end for o in observations), scenario.simulation.end,
                   *(t.date for t in scenario.targets))
        days = (last - origin).days + 1 + int(EXTRA_YEARS * DAYS_PER_YEAR)
        self.field = MeanField(scenario, origin, days)
        self.initial_groups = self._initial_groups(observations) if fit_initial else []
        """(name, unit indices) sharing one fitted initial share: each observed unit, and '*' for the rest."""
        self.initial_names = tuple(f"initial_share[{name}]" for name, _ in self.initial_groups)
        self.spans = [(self.field.day(o.start), self.field.day(o.end) + 1, o.unit) for o in observations]
        self.observed = np.array([o.share for o in observations])
        self.fit_days = max(end for _, end, _ in self.spans)
        self.best = np.zeros(self.size)
        """The optimum, once `fit` has found it."""
        self.correction = np.ones(len(observations))
        """Agent model ÷ mean field at each observation (1 = the mean field alone; see `_agent_fit`)."""
        self.scale = np.array([o.sd(ASSUMED_NOISE) for o in observations]) / ASSUMED_NOISE
        """Relative sd of each observation: a proxy weighs less in the least squares."""

    def _initial_groups(self, observations: list[Observation]) -> list[tuple[str, list[int]]]:
        ids = self.field.unit_ids
        own = [u for u in ids if any(o.unit == u for o in observations)]
        groups = [(u, [ids.index(u)]) for u in own]
        rest = [j for j, u in enumerate(ids) if u not in own]
        if rest and any(o.unit == ALL_UNITS for o in observations):
            groups.append((ALL_UNITS, rest))
        return groups

    @property
    def size(self) -> int:
        return len(self.free) + len(self.initial_groups)

    # --- vector ↔ parameters ---

    def parameters(self, x: np.ndarray) -> dict[str, float]:
        values = dict(self.fixed)
        values.update({name: float(math.exp(v)) for name, v in zip(self.free, x, strict=False)})
        return {k: values[k] for k in PARAMETERS}

    def starts(self, x: np.ndarray) -> np.ndarray:
        shares = self.field.start_shares.copy()
        for (_, units), v in zip(self.initial_groups, x[len(self.free):], strict=True):
            shares[units] = self.field.potential / (1 + math.exp(-v))
        return shares

    def initial_intervals(self, draws: np.ndarray, level: float) -> dict[str, tuple[float, float]]:
        tail, k = (1 - level) / 2, len(self.free)
        out = {}
        for i, (name, _) in enumerate(self.initial_groups):
            values = self.field.potential / (1 + np.exp(-draws[:, k + i])) if len(draws) else np.array([math.nan])
            out[name] = (float(np.quantile(values, tail)), float(np.quantile(values, 1 - tail)))
        return out

    def initial_shares(self, x: np.ndarray) -> dict[str, float]:
        return {uid: float(s) for uid, s in zip(self.field.unit_ids, self.starts(x), strict=True)}

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        low = [math.log(_LOG_BOUNDS[n][0]) for n in self.free] + [-12.0] * len(self.initial_groups)
        high = [math.log(_LOG_BOUNDS[n][1]) for n in self.free] + [12.0] * len(self.initial_groups)
        return np.array(low), np.array(high)

    # --- model ---

    def trajectory(self, x: np.ndarray, days: int | None = None) -> np.ndarray:
        params = self.parameters(x)
        return self.field.shares(params["p_per_year"], params["q_per_year"], params["effort_weight"],
                                 self.starts(x), days)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.predict_mean_field(x) * self.correction

    def predict_mean_field(self, x: np.ndarray) -> np.ndarray:
        return self.observe(self.trajectory(x, self.fit_days))

    def observe(self, shares: np.ndarray) -> np.ndarray:
        """Each observation's value in a daily (days × units) share series that starts at the origin."""
        return np.array([self.field.column(shares[a:b], [unit]).mean() for a, b, unit in self.spans])

    def residuals(self, x: np.ndarray, observed: np.ndarray) -> np.ndarray:
        return (self.predict(x) - observed) / self.scale

    def scenario_at(self, x: np.ndarray) -> Scenario:
        """The scenario with the parameters of `x` (and its initial shares), for the agent model."""
        from motcua.models.calibration_agent import with_parameters

        starts = self.starts(x) if self.initial_groups else None
        return with_parameters(self.scenario, self.parameters(x), starts)

    # --- fitting ---

    def solve(self, observed: np.ndarray | None = None, starts: list[np.ndarray] | None = None) -> np.ndarray:
        from scipy.optimize import least_squares

        observed = self.observed if observed is None else observed
        low, high = self.bounds()
        best, best_cost = None, math.inf
        for x0 in starts or self.start_points():
            x0 = np.clip(x0, low + 1e-9, high - 1e-9)
            result = least_squares(self.residuals, x0, args=(observed,), bounds=(low, high), method="trf",
                                   x_scale=1.0, xtol=1e-10, ftol=1e-12, gtol=1e-12, max_nfev=400)
            if result.cost < best_cost - 1e-15:
                best, best_cost = result.x, result.cost
        assert best is not None
        return best

    def start_points(self) -> list[np.ndarray]:
        grids = np.meshgrid(*[np.log(_START_GRID[n]) for n in self.free], indexing="ij")
        combos = np.stack([g.ravel() for g in grids], axis=1) if self.free else np.zeros((1, 0))
        initial = []
        for _, units in self.initial_groups:
            start = float(np.mean(self.field.start_shares[units])) or 0.02
            initial.append(math.log(start / (self.field.potential - start)))
        return [np.concatenate([c, initial]) for c in combos]

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """Central differences of the predictions in the (log/logit) parameter space."""
        h = 1e-5
        cols = []
        for i in range(len(x)):
            step = np.zeros_like(x)
            step[i] = h
            cols.append((self.predict(x + step) - self.predict(x - step)) / (2 * h))
        return np.array(cols).T

    def scenario_point(self) -> np.ndarray:
        """The scenario's own parameter values as a vector."""
        values = [math.log(max(getattr(self.scenario.adoption, n), _LOG_BOUNDS[n][0])) for n in self.free]
        return np.concatenate([values, self.start_points()[0][len(self.free):]])

    def insensitive(self) -> list[str]:
        """Free adoption parameters whose change does not move any fitted value."""
        jac = self.jacobian(self.scenario_point())
        return [n for i, n in enumerate(self.free) if np.max(np.abs(jac[:, i])) < 1e-12]

    def condition(self, x: np.ndarray) -> float:
        jac = self.jacobian(x)
        if jac.shape[0] < jac.shape[1]:
            return math.inf  # fewer observations than parameters: rank-deficient by construction
        singular = np.linalg.svd(jac, compute_uv=False)
        return float(singular[0] / singular[-1]) if singular[-1] > 0 else math.inf

    def covariance(self, x: np.ndarray, sd: float | None) -> np.ndarray | None:
        """Covariance of the log parameters, s²(JᵀJ)⁻¹, when there are residual degrees of freedom."""
        if sd is None or len(self.observed) <= self.size:
            return None
        jac = self.jacobian(x) / self.sds(sd)[:, None]
        try:
            return np.linalg.inv(jac.T @ jac)
        except np.linalg.LinAlgError:
            return None

    def correlation_from_jacobian(self, x: np.ndarray) -> np.ndarray | None:
        """Correlation from the pseudo-inverse of JᵀJ when the covariance itself is not defined."""
        jac = self.jacobian(x)
        if jac.shape[1] < 2:
            return None
        return _correlation(np.linalg.pinv(jac.T @ jac))

    def noise(self, x: np.ndarray, given: float | None) -> tuple[float, bool]:
        """Observation noise for the bootstrap: given, else from the residuals, else an assumed 0.005."""
        if given is not None:
            return given, True
        dof = len(self.observed) - self.size
        if dof > 0:
            sd = float(np.sqrt(np.sum(self.residuals(x, self.observed) ** 2) / dof))
            return max(sd, 1e-4), False
        return ASSUMED_NOISE, True

    def bootstrap(self, x: np.ndarray, draws: int, sd: float, rng: np.random.Generator) -> np.ndarray:
        """Refit to simulated observations (fit + normal noise): the spread of estimates the data allow."""
        fitted = self.predict(x)
        sds = self.sds(sd)
        out = []
        for _ in range(draws):
            noisy = np.clip(fitted + rng.normal(0.0, 1.0, size=fitted.shape) * sds, 1e-5, 0.999)
            out.append(self.solve(noisy, starts=[x]))
        return np.array(out).reshape(draws, len(x))

    def sds(self, noise: float) -> np.ndarray:
        """Each observation's sd: the noise, and a proxy's extra uncertainty on top."""
        return np.array([o.sd(noise) for o in self.observations])

    # --- uncertainty and identifiability ---

    def identifiability_warnings(self, x: np.ndarray, draws: np.ndarray) -> list[str]:
        warnings = []
        names = self.free + self.initial_names
        n, k = len(self.observed), self.size
        if n <= k:
            warnings.append(
                f"{n} observation(s) for {k} free parameter(s): the data cannot identify them, and leave nothing to "
                "measure the noise or standard errors with; a curve this flexible fits such points whatever the "
                "true values. Fix some (--fix effort_weight=1.5) or add observations (monthly shares, more units).")
        condition = self.condition(x)
        if n >= k and condition > CONDITION_LIMIT:  # with n < k the warning above already says it
            warnings.append(f"flat fit: the condition number of the (relative) Jacobian is {condition:.3g} > "
                            f"{CONDITION_LIMIT:.0g}; some combination of parameters barely changes the fit.")
        corr = self.correlation_from_jacobian(x)
        if corr is not None:
            for i in range(len(names)):
                for j in range(i + 1, len(names)):
                    if abs(corr[i, j]) > CORRELATION_LIMIT:
                        warnings.append(f"{names[i]} and {names[j]} are strongly correlated (r = {corr[i, j]:+.2f}): "
                                        "the data fix a combination of them, not each one.")
        low, high = self.bounds()
        for i, name in enumerate(names):
            if min(x[i] - low[i], high[i] - x[i]) < 1e-3:
                warnings.append(f"{name} ended on its bound ({self._value(name, x[i]):.3g}): the best fit wants it "
                                "beyond the plausible range.")
            if len(draws) > 2 and i < len(self.free):
                spread = np.quantile(draws[:, i], 0.9) - np.quantile(draws[:, i], 0.1)
                if spread > math.log(10):
                    warnings.append(f"{name}: the bootstrap 80% range spans more than a factor 10 "
                                    f"({math.exp(np.quantile(draws[:, i], 0.1)):.3g} – "
                                    f"{math.exp(np.quantile(draws[:, i], 0.9)):.3g}).")
        return warnings

    def _value(self, name: str, v: float) -> float:
        return math.exp(v) if name in PARAMETERS else self.field.potential / (1 + math.exp(-v))

    def target_band(self, target, x: np.ndarray, draws: np.ndarray, level: float) -> TargetBand:
        units = list(target.units)
        best_day = self._first_day(self.trajectory(x), units, target.share)
        days = np.array([self._first_day(self.trajectory(d), units, target.share) for d in draws]) \
            if len(draws) else np.array([best_day])
        tail = (1 - level) / 2
        low = np.quantile(days, tail, method="inverted_cdf")
        high = np.quantile(days, 1 - tail, method="inverted_cdf")
        deadline_day = self.field.day(target.date)
        return TargetBand(
            name=target.name, share=target.share, deadline=target.date, units=tuple(units),
            best=self._date_or_none(best_day), low=self._date_or_none(low), high=self._date_or_none(high),
            level=level, probability_by_deadline=float(np.mean(days <= deadline_day)),
            searched_until=self.field.date(self.field.days - 1),
        )

    def agent_target_band(self, target, agent_fit: AgentFit, level: float) -> TargetBand:
        """`simulate`'s rule (first day the 7-day mean reaches the target) over the agent model's runs: the best
        date is the mean over the replications at the estimates (simulate's "mean date reached"), the band the
        `level` quantiles over those and one replication per parameter draw (parameters plus replications)."""
        weights = self.field.column(np.eye(len(self.field.unit_ids)), list(target.units))
        best = reach_days(agent_fit.runs, weights, target.share)
        pooled = np.concatenate([best, reach_days(agent_fit.draw_runs, weights, target.share)])
        tail = (1 - level) / 2
        low, high = np.percentile(pooled, [100 * tail, 100 * (1 - tail)], method="lower")
        finite = best[np.isfinite(best)]
        mean_day = float(finite.mean()) if len(finite) == len(best) else math.inf
        end = self.scenario.simulation.end
        return TargetBand(
            name=target.name, share=target.share, deadline=target.date, units=tuple(target.units),
            best=self._date_or_none(round(mean_day) if math.isfinite(mean_day) else mean_day),
            low=self._date_or_none(low), high=self._date_or_none(high), level=level,
            probability_by_deadline=float(np.mean(pooled <= self.field.day(target.date))),
            searched_until=end)

    def _first_day(self, shares: np.ndarray, units: list[str], share: float) -> float:
        column = self.field.column(shares, units)
        hit = np.flatnonzero(column >= share)
        return float(hit[0]) if len(hit) else math.inf

    def _date_or_none(self, day: float) -> dt.date | None:
        return None if not math.isfinite(day) else self.field.date(int(day))


def _std_errors(problem: _Problem, x: np.ndarray, cov: np.ndarray | None) -> dict[str, float | None]:
    """Standard errors in natural units (delta method: se(θ) = θ · se(log θ))."""
    out: dict[str, float | None] = {}
    for i, name in enumerate(problem.free):
        out[name] = None if cov is None or cov[i, i] < 0 else float(math.exp(x[i]) * math.sqrt(cov[i, i]))
    return out


def _intervals(problem: _Problem, draws: np.ndarray, level: float) -> dict[str, tuple[float, float]]:
    if not len(draws):
        return {}
    tail = (1 - level) / 2
    return {name: (float(math.exp(np.quantile(draws[:, i], tail))), float(math.exp(np.quantile(draws[:, i], 1 - tail))))
            for i, name in enumerate(problem.free)}


def _correlation(cov: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
    return np.clip(cov / np.outer(sd, sd), -1, 1)


# --- the calibrated scenario ---------------------------------------------------------------------


def calibrated_scenario(scenario: Scenario, result: Calibration, *, observed_file: str, when: str) -> Scenario:
    """A new, validated scenario with the fitted parameters and their provenance (the original is untouched)."""
    data = scenario.to_dict(written_only=True)  # defaults stay defaults, not numbers without provenance
    name = scenario.name if scenario.name.endswith("-calibrated") else f"{scenario.name}-calibrated"
    data["scenario"]["name"] = name
    data["scenario"]["title"] = f"{scenario.scenario.title} (calibrated)"
    provenance = data.setdefault("provenance", {})
    for param in result.free:
        data["adoption"][param] = round(result.estimates[param], 6)
        low, high = result.intervals.get(param, (math.nan, math.nan))
        provenance[f"adoption.{param}"] = (
            f"{FITTED} ({result.describe_model()}) to {observed_file} on {when}; "
            f"{result.level:.0%} bootstrap interval {low:.4g} – {high:.4g}")
    for param in PARAMETERS:
        if param not in result.free:
            data["adoption"][param] = result.estimates[param]
    start = scenario.simulation.start
    if result.origin < start < result.mean_field.date(result.mean_field.days):
        # Fitted from an earlier origin: start the new scenario where the fitted curve is on its first day.
        shares = result.mean_field.shares(result.estimates["p_per_year"], result.estimates["q_per_year"],
                                          result.estimates["effort_weight"],
                                          np.array(list(result.initial_shares.values())))
        row = shares[result.mean_field.day(start) - 1]
        for i, unit in enumerate(data["region"]["units"]):
            unit["initial_share"] = round(float(row[i]), 6)
            provenance[f"region.units[{unit['id']}].initial_share"] = (
                f"derived: calibrated mean field on {start} (fitted from {result.origin} to {observed_file})")
    elif result.initial_intervals and result.origin == start:
        for unit in data["region"]["units"]:
            unit["initial_share"] = round(result.initial_shares[unit["id"]], 6)
            provenance[f"region.units[{unit['id']}].initial_share"] = (
                f"{FITTED} to {observed_file} on {when}")
    return scenario_from_dict(data, file=scenario.file)


def write_scenario(scenario: Scenario, path: Path, *, header: str = "") -> Path:
    """Write `scenario` as TOML to a NEW file: checked to load first, never overwriting, never half-written."""
    import tomli_w

    from motcua.scenario import load_scenario

    path = Path(path)
    if path.exists():
        raise InputError(f"--write-scenario {path}: the file exists; calibration writes a new file, "
                         "choose another name")
    path.parent.mkdir(parents=True, exist_ok=True)
    data = scenario.to_dict(written_only=True)
    # The fee catalogue is named relative to the scenario file: keep it pointing at the same file.
    catalogue = scenario.fee_catalogue_path().resolve()
    if catalogue.parent != path.parent.resolve():
        data["payment_system"]["fee_catalogue"] = str(catalogue)
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    with atomic_path(path, exclusive=True) as tmp:  # never replaces a file that appeared meanwhile
        tmp.write_text(comment + tomli_w.dumps(data, multiline_strings=True), encoding="utf-8")
        load_scenario(tmp)
    return path
