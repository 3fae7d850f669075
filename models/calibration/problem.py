"""The least-squares problem calibration solves: the free adoption parameters (in log space) and the fitted initial
shares (in logit space) against the observations, through the mean field.

A `Problem` is immutable: `Problem.build` sets it up from a scenario and its observations, `fixing` pins more
parameters, and `corrected` gives the same problem with its predictions multiplied by the agent model's ratio to
the mean field at each observation (what the agent-model fit, `models.calibration.agent_fit`, measures). The
vector ``x`` every method takes is ``(log p, log q, log effort_weight)`` restricted to the free ones, then one
logit share per initial-share group.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from motcua.models.calibration.mean_field import MeanField
from motcua.models.calibration.observations import Observation
from motcua.models.theory import DAYS_PER_YEAR

from motcua.scenario import ALL_UNITS, Scenario

PARAMETERS = ("p_per_year", "q_per_year", "effort_weight")
"""The adoption parameters calibration can fit (each may be fixed instead)."""
_LOG_BOUNDS = {"p_per_year": (1e-5, 5.0), "q_per_year": (1e-6, 10.0), "effort_weight": (1e-6, 100.0)}
_START_GRID = {"p_per_year": (0.003, 0.03, 0.15), "q_per_year": (0.05, 0.4, 1.5), "effort_weight": (0.3, 2.0, 8.0)}
CONDITION_LIMIT = 1e6
CORRELATION_LIMIT = 0.95
EXTRA_YEARS = 15
"""How far beyond the scenario's horizon to look for the date a target is reached."""
ASSUMED_NOISE = 0.005
"""Observation noise sd (a share) when the residuals cannot measure it and none is given."""


def with_parameters(scenario: Scenario, params: Mapping[str, Any],
                    start_shares: Sequence[float] | np.ndarray | None = None) -> Scenario:
    """`scenario` with adoption parameters `params` (and each unit's initial share), without re-reading a file."""
    adoption = dataclasses.replace(scenario.adoption, **params)
    region = scenario.region
    if start_shares is not None:
        units = tuple(dataclasses.replace(u, initial_share=float(s)) for u, s in
                      zip(region.units, start_shares, strict=True))
        region = dataclasses.replace(region, units=units)
    new = dataclasses.replace(scenario, adoption=adoption, region=region)
    object.__setattr__(new, "file", scenario.file)
    object.__setattr__(new, "given", scenario.given)
    return new


def correlation(cov: np.ndarray) -> np.ndarray:
    """The correlation matrix of a covariance matrix (clipped to [−1, 1])."""
    sd = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
    return np.clip(cov / np.outer(sd, sd), -1, 1)


@dataclasses.dataclass(frozen=True, eq=False)
class Problem:
    """The least-squares problem: the free parameters in log space (and initial shares in logit space)."""

    scenario: Scenario
    observations: tuple[Observation, ...]
    field: MeanField
    """The mean field, from the calibration origin to `EXTRA_YEARS` past the scenario's last date."""
    fixed: Mapping[str, float] = dataclasses.field(default_factory=dict)
    """Adoption parameters kept at these values (the others are free)."""
    fit_initial: bool = False
    """Also fit the initial shares: each observed unit's, and one for the units observed only as the region."""
    correction: np.ndarray | None = None
    """Agent model ÷ mean field at each observation, which `predict` multiplies by (None: the mean field alone)."""
    free: tuple[str, ...] = dataclasses.field(init=False)
    """The adoption parameters fitted, in `PARAMETERS` order."""
    initial_groups: list[tuple[str, list[int]]] = dataclasses.field(init=False)
    """(name, unit indices) sharing one fitted initial share: each observed unit, and '*' for the rest."""
    initial_names: tuple[str, ...] = dataclasses.field(init=False)
    spans: list[tuple[int, int, str]] = dataclasses.field(init=False)
    """Each observation's (first day, day after the last, unit) on the mean field's days."""
    observed: np.ndarray = dataclasses.field(init=False)
    fit_days: int = dataclasses.field(init=False)
    """Days of the mean field the observations need."""
    scale: np.ndarray = dataclasses.field(init=False)
    """Relative sd of each observation: a proxy weighs less in the least squares."""

    def __post_init__(self) -> None:
        def derive(name: str, value: object) -> None:
            object.__setattr__(self, name, value)  # a frozen dataclass's own fields, while it is built

        observations, field = self.observations, self.field
        derive("fixed", {k: self.fixed[k] for k in PARAMETERS if k in self.fixed})
        derive("free", tuple(k for k in PARAMETERS if k not in self.fixed))
        derive("initial_groups", self._initial_groups() if self.fit_initial else [])
        derive("initial_names", tuple(f"initial_share[{name}]" for name, _ in self.initial_groups))
        derive("spans", [(field.day(o.start), field.day(o.end) + 1, o.unit) for o in observations])
        derive("observed", np.array([o.share for o in observations]))
        derive("fit_days", max(end for _, end, _ in self.spans))
        derive("scale", np.array([o.sd(ASSUMED_NOISE) for o in observations]) / ASSUMED_NOISE)

    @classmethod
    def build(cls, scenario: Scenario, observations: Sequence[Observation], *, origin: dt.date,
              fixed: Mapping[str, float] | None = None, fit_initial: bool = False) -> Problem:
        """The problem of fitting `scenario` to `observations` from `origin`, its mean field long enough to find
        the date of every target."""
        last = max(max(o.end for o in observations), scenario.simulation.end,
                   *(t.date for t in scenario.targets))
        days = (last - origin).days + 1 + int(EXTRA_YEARS * DAYS_PER_YEAR)
        return cls(scenario, tuple(observations), MeanField(scenario, origin, days), dict(fixed or {}), fit_initial)

    def fixing(self, more: Mapping[str, float]) -> Problem:
        """The same problem with the parameters of `more` fixed too."""
        return dataclasses.replace(self, fixed={**self.fixed, **more})

    def corrected(self, correction: np.ndarray | None) -> Problem:
        """The same problem with predictions multiplied by `correction` (None: the mean field alone)."""
        return dataclasses.replace(self, correction=correction)

    def _initial_groups(self) -> list[tuple[str, list[int]]]:
        ids, observations = self.field.unit_ids, self.observations
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
        """Each observation's value at `x`: the mean field's, times the `correction` towards the agent model."""
        field = self.predict_mean_field(x)
        return field if self.correction is None else field * self.correction

    def predict_mean_field(self, x: np.ndarray) -> np.ndarray:
        return self.observe(self.trajectory(x, self.fit_days))

    def observe(self, shares: np.ndarray) -> np.ndarray:
        """Each observation's value in a daily (days × units) share series that starts at the origin."""
        return np.array([self.field.column(shares[a:b], [unit]).mean() for a, b, unit in self.spans])

    def residuals(self, x: np.ndarray, observed: np.ndarray) -> np.ndarray:
        return (self.predict(x) - observed) / self.scale

    def scenario_at(self, x: np.ndarray) -> Scenario:
        """The scenario with the parameters of `x` (and its initial shares), for the agent model."""
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
        return correlation(np.linalg.pinv(jac.T @ jac))

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
                warnings.append(f"{name} ended on its bound ({self.natural(name, x[i]):.3g}): the best fit wants it "
                                "beyond the plausible range.")
            if len(draws) > 2 and i < len(self.free):
                spread = np.quantile(draws[:, i], 0.9) - np.quantile(draws[:, i], 0.1)
                if spread > math.log(10):
                    warnings.append(f"{name}: the bootstrap 80% range spans more than a factor 10 "
                                    f"({math.exp(np.quantile(draws[:, i], 0.1)):.3g} – "
                                    f"{math.exp(np.quantile(draws[:, i], 0.9)):.3g}).")
        return warnings

    def natural(self, name: str, v: float) -> float:
        """A coordinate of the fit's vector in natural units: a parameter from its log, an initial share from its
        logit (named as `initial_names` names them)."""
        return math.exp(v) if name in PARAMETERS else self.field.potential / (1 + math.exp(-v))
