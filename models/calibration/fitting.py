"""`fit`: calibration from observations to a `Calibration`, step by step.

The mean field's least squares first (`models.calibration.problem`), from a grid of starting points; then, with
``agent=``, the agent model from that optimum (`models.calibration.agent_fit`); then the noise, a parametric
bootstrap, identifiability and misfit warnings, and the target-date bands (`models.calibration.targets`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence

import numpy as np
from motcua.models.calibration.agent_fit import AgentSettings, fit_agent_model, run_draws
from motcua.models.calibration.observations import Observation
from motcua.models.calibration.problem import PARAMETERS, Problem, correlation
from motcua.models.calibration.results import Calibration
from motcua.models.calibration.targets import agent_band, mean_field_band

from motcua.errors import InputError
from motcua.scenario import Scenario


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
    ``agent`` fits the agent model as `motcua simulate` runs it (`models.calibration.agent_fit`) instead of the
    mean field alone, and gives the target dates by simulate's rule over parameter draws and replications.
    """
    fixed = _fixed(model, fixed)
    if not 0 < level < 1:
        raise InputError(f"--level {level}: must be within (0, 1), e.g. 0.8")
    origin = origin or scenario.simulation.start
    _check_origin(scenario, observations, origin, agent)
    problem = Problem.build(scenario, observations, origin=origin, fixed=fixed, fit_initial=fit_initial)
    inert = problem.insensitive()
    if inert:
        # A parameter the observations cannot see at all would end anywhere; keep the scenario's value.
        problem = problem.fixing({name: getattr(scenario.adoption, name) for name in inert})
    best = problem.solve()
    mean_field_only = problem.parameters(best)
    agent_fit = None
    if agent is not None:
        best, agent_fit = fit_agent_model(problem, best, agent)
        problem = problem.corrected(agent_fit.correction)
    sd, sd_assumed = problem.noise(best, noise_sd)
    draws = problem.bootstrap(best, bootstrap, sd, np.random.default_rng(seed))
    estimates = problem.parameters(best)
    warnings = [f"{name} does not change the fitted values at all (e.g. no intervention is active during the "
                f"observed periods), so the data say nothing about it: kept at the scenario's "
                f"{getattr(scenario.adoption, name):g}." for name in inert]
    warnings += problem.identifiability_warnings(best, draws)
    warnings += _misfit_warnings(problem, best, model, noise_sd)
    mean_field_targets = [mean_field_band(problem, t, best, draws, level) for t in scenario.targets]
    targets = mean_field_targets
    if agent is not None and agent_fit is not None:
        agent_fit = dataclasses.replace(agent_fit, draw_runs=run_draws(problem, draws, agent))
        targets = [agent_band(problem, t, agent_fit, level) for t in scenario.targets]
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
        correlation=correlation(jac_cov) if jac_cov is not None else problem.correlation_from_jacobian(best),
        condition_number=problem.condition(best), observations=list(observations),
        fitted=agent_fit.simulated.mean(axis=0) if agent_fit is not None else problem.predict(best),
        initial_shares=problem.initial_shares(best),
        initial_intervals=problem.initial_intervals(draws, level),
        noise_sd=sd, noise_sd_assumed=sd_assumed, level=level, bootstrap=draws, targets=targets,
        warnings=warnings, mean_field=problem.field, agent=agent_fit, mean_field_targets=mean_field_targets,
        mean_field_estimates=mean_field_only, proxies=[o for o in observations if o.is_proxy], problem=problem,
        optimum=best,
    )


def _fixed(model: str, fixed: Mapping[str, float] | None) -> dict[str, float]:
    """The parameters kept fixed: those given, and effort_weight at 0 for the plain Bass model."""
    out = dict(fixed or {})
    if model == "bass":
        out["effort_weight"] = 0.0
    elif model != "generalized":
        raise InputError(f"--model {model!r}: use 'generalized' (with effort) or 'bass' (plain Bass)")
    for name in out:
        if name not in PARAMETERS:
            raise InputError(f"--fix {name}: not a parameter calibration fits; use one of {', '.join(PARAMETERS)}")
    return out


def _check_origin(scenario: Scenario, observations: Sequence[Observation], origin: dt.date,
                  agent: AgentSettings | None) -> None:
    if agent is not None and origin != scenario.simulation.start:
        raise InputError(f"--origin {origin}: the agent model starts at simulation.start = "
                         f"{scenario.simulation.start}; drop --origin, or pass --model mean-field")
    early = [o for o in observations if o.start < origin]
    if early:
        raise InputError(f"observation on line {early[0].line} starts {early[0].start}, before the calibration "
                         f"origin {origin}; pass --origin {min(o.start for o in observations)} (and --fit-initial "
                         "if the units had a share then)")


MISFIT_TOLERANCE = 1e-3
"""With as many free parameters as observations a curve of the right shape passes within this of each point."""


def _misfit_warnings(problem: Problem, x: np.ndarray, model: str, noise_sd: float | None) -> list[str]:
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


def _std_errors(problem: Problem, x: np.ndarray, cov: np.ndarray | None) -> dict[str, float | None]:
    """Standard errors in natural units (delta method: se(θ) = θ · se(log θ))."""
    out: dict[str, float | None] = {}
    for i, name in enumerate(problem.free):
        out[name] = None if cov is None or cov[i, i] < 0 else float(math.exp(x[i]) * math.sqrt(cov[i, i]))
    return out


def _intervals(problem: Problem, draws: np.ndarray, level: float) -> dict[str, tuple[float, float]]:
    if not len(draws):
        return {}
    tail = (1 - level) / 2
    return {name: (float(math.exp(np.quantile(draws[:, i], tail))), float(math.exp(np.quantile(draws[:, i], 1 - tail))))
            for i, name in enumerate(problem.free)}
