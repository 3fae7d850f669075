"""What a calibration found (`Calibration`): estimates, their uncertainty, the fit at each observation, warnings,
the target-date bands, and the curves and plain data that ``motcua calibrate`` writes (``summary.json``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from motcua.models.calibration.agent_fit import AgentFit
from motcua.models.calibration.mean_field import MeanField
from motcua.models.calibration.observations import Observation
from motcua.models.calibration.problem import Problem
from motcua.models.calibration.targets import TargetBand

from motcua.errors import InputError
from motcua.scenario import ALL_UNITS


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
    problem: Problem = dataclasses.field(repr=False)
    """The problem solved (corrected towards the agent model when it was fitted)."""
    optimum: np.ndarray = dataclasses.field(repr=False)
    """The estimates as the problem's vector (log parameters, logit initial shares)."""
    agent: AgentFit | None = None
    """The agent model at the estimates (when fitted with ``agent=``): its replications and parameter draws."""
    mean_field_targets: list[TargetBand] = dataclasses.field(default_factory=list)
    """The target bands of the (corrected) mean field alone, for comparison with the agent model's."""
    mean_field_estimates: dict[str, float] = dataclasses.field(default_factory=dict)
    """The estimates the mean field alone gives (before the agent model's correction)."""
    proxies: list[Observation] = dataclasses.field(default_factory=list)

    def initial_share(self, group: str) -> float:
        """The fitted share at the origin of an initial-share group (the keys of `initial_intervals`): a unit's
        own, or for ``*`` the one share of the units not observed one by one (nan if every unit is)."""
        if group != ALL_UNITS:
            return self.initial_shares[group]
        observed = {o.unit for o in self.observations}
        rest = [u for u in self.initial_shares if u not in observed]
        return self.initial_shares[rest[0]] if rest else math.nan

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
            x = self.optimum
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
            runs = self.problem.trajectory(self.optimum)[None]
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


def _iso(date: dt.date | None) -> str | None:
    return date.isoformat() if date else None


def _band_json(t: TargetBand) -> dict[str, Any]:
    return {"name": t.name, "share": t.share, "deadline": t.deadline.isoformat(), "units": list(t.units),
            "best": _iso(t.best), "low": _iso(t.low), "high": _iso(t.high), "level": t.level,
            "probability_by_deadline": t.probability_by_deadline, "searched_until": t.searched_until.isoformat()}
