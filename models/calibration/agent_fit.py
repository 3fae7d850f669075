"""Fitting the agent model (`models.calibration.agent_model`) to the observations, from the mean field's optimum.

*Scenario.* The mean field (`models.calibration.problem`) finds parameters in seconds, but `motcua simulate` runs
the agent model, with barriers and levers, which lands elsewhere at those parameters. `fit_agent_model` moves the
parameters until the agent model — the mean over a few replications on `simulate`'s own streams — meets every
observation, steering by the mean field corrected towards what the agent model showed (`AgentSearch`), and says
how far it got (`AgentFit`). `run_draws` then runs parameter draws through the agent model for the target-date
band.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
from motcua.models.calibration.agent_model import agent_shares_task, run_agent
from motcua.models.calibration.problem import Problem
from motcua.models.executor import ExecutorSpec
from motcua.models.replications import map_replications, mean_ci, spawn_seeds

FIT_TOLERANCE = 0.005
"""Relative difference, at every observation, between the agent model (mean over the fit's replications) and what
the best next step would bring it to, below which the search stops (or half the 95% band of that mean, if wider:
`_met`): half of that band of 8 replications is about simulate's band of 20."""
MAX_ITERATIONS = 8
"""Batches of agent-model runs at most (each ≈ one 8-replication simulate of the observed years)."""
DAMPING_START = 1e-3
"""Levenberg damping of the first step, relative to the largest squared column norm of the weighted Jacobian."""
DIFFERENCE_STEP = 0.1
"""Forward-difference step of the agent model's Jacobian, in the fit's log / logit parameters: large enough that the
replications' discreteness does not dominate the difference."""


@dataclasses.dataclass(frozen=True)
class AgentSettings:
    """How calibration runs the agent model: replications under common random numbers, where, how many draws."""

    replications: int = 8
    """Replications at each trial point; the streams of `motcua simulate`'s first replications (same seed)."""
    seed: int = 0
    """Root seed: the scenario's ``simulation.seed``, so that `simulate` of the calibrated file sees these runs."""
    draws: int = 16
    """Parameter draws (from the bootstrap) run through the agent model for the target-date band."""
    executor: ExecutorSpec | None = None
    """Where the runs go (`models.executor.ExecutorSpec`; None: one process per core)."""
    keep_fitting_scenario: bool = True
    """Run the scenario's own parameters beside the mean-field optimum and keep them if they already fit. Off for
    a backtest: a calibrated file's values have seen the held-out observations."""
    tolerance: float = FIT_TOLERANCE
    max_iterations: int = MAX_ITERATIONS
    """Batches of agent-model runs at most: the starting candidates, the measured Jacobian, each step."""


@dataclasses.dataclass
class AgentFit:
    """What the agent model says at the estimates: per observation, the mean over replications and its bands."""

    replications: int
    seed: int
    iterations: list[float]
    """The largest relative miss (agent model vs observed) at each point the fit ran the agent model at (the
    chosen start first; a step taken back shows as a larger miss)."""
    simulated: np.ndarray
    """(replications, observations): each observation's value in each replication at the estimates."""
    runs: np.ndarray = dataclasses.field(repr=False)
    """(replications, days, units) daily shares at the estimates."""
    draw_runs: np.ndarray = dataclasses.field(repr=False)
    """(draws, days, units) daily shares, one replication per parameter draw."""
    converged: bool = True
    observed: np.ndarray | None = dataclasses.field(default=None, repr=False)
    correction: np.ndarray | None = dataclasses.field(default=None, repr=False)
    """Agent model ÷ mean field at each observation, at the estimates: `Problem.corrected` takes it, so that the
    bootstrap and the checks after the fit see the agent model's level through the mean field's shape."""

    @property
    def miss(self) -> float:
        """The largest relative miss, at the estimates, of the replications' mean against the observations."""
        assert self.observed is not None
        return largest_miss(self.simulated, self.observed)

    def band(self, i: int, confidence: float = 0.95) -> tuple[float, float, float]:
        """Mean and 95% confidence interval over replications of observation `i`, as `simulate` reports it."""
        est = mean_ci(self.simulated[:, i], confidence=confidence)
        return float(est.mean), float(est.low), float(est.high)


def _seeds(settings: AgentSettings, count: int, offset: int = 0) -> list[np.random.SeedSequence]:
    return spawn_seeds(settings.seed, offset + count)[offset:]


Evaluate = Callable[[Sequence[np.ndarray]], list[np.ndarray]]
"""Parameter vectors → for each, (replications, observations): what the model says of every observation."""


def fit_agent_model(problem: Problem, x: np.ndarray, settings: AgentSettings,
                    evaluate: Evaluate | None = None) -> tuple[np.ndarray, AgentFit]:
    """Fit the agent model, from the mean-field optimum `x` (or the scenario's own parameters if they fit it).

    The agent model's value of each observation is the mean over `settings.replications` replications run on
    fixed streams (common random numbers: a deterministic function of the parameters, smooth at the scale of the
    steps). Steps come from the mean field corrected towards the agent model (`AgentSearch`): first by output space
    mapping (each observation's ratio, then secant, agent ÷ mean field), which is fast when there are many
    observations; once such a step fails to lower the weighted miss, by Levenberg–Marquardt on the agent model's
    own Jacobian (measured by forward differences, then kept by Broyden's updates), which copes with few
    observations and directions that the mean field barely sees and the agent model does (Sơn La: three yearly
    points). It stops when the Gauss–Newton step from the current point would change no observation by more than
    `settings.tolerance` (relative; with as many parameters as observations or more, that is on the observations).
    The scenario's own parameters are run beside `x` and kept when they already fit: the calibrated file is a
    fixed point of its own calibration, where a refit from the mean field could end elsewhere on a ridge of
    equally good fits. `problem` is not changed: the returned fit's ``correction`` is for `Problem.corrected`.
    """
    search = search_fit(problem, x, settings, evaluate or _agent_evaluator(problem, settings))
    here = search.here
    runs = run_agent([problem.scenario_at(here.x)], _seeds(settings, settings.replications), None,
                     executor=settings.executor)[0]
    simulated = np.array([problem.observe(r) for r in runs])
    return here.x, AgentFit(settings.replications, settings.seed, search.history, simulated, runs,
                            np.zeros((0, *runs.shape[1:])), converged=search.settled() or search.inside(),
                            observed=problem.observed,
                            correction=here.agent / problem.predict_mean_field(here.x))


def search_fit(problem: Problem, x: np.ndarray, settings: AgentSettings, evaluate: Evaluate) -> AgentSearch:
    """The search of `fit_agent_model` with any model `evaluate` stands for (tests pass a cheap one); it steers by
    the mean field alone (`problem` without any correction)."""
    search = AgentSearch(problem.corrected(None), evaluate, settings.tolerance)
    search.start(_distinct([x, problem.scenario_point()] if settings.keep_fitting_scenario else [x]))
    while not search.settled() and len(search.history) < settings.max_iterations:
        search.step()
    return search


class AgentSearch:
    """The state of the agent-model fit: the best point so far, the model of the agent model around it, history."""

    def __init__(self, problem: Problem, evaluate: Evaluate, tolerance: float) -> None:
        self.problem, self.evaluate, self.tolerance = problem, evaluate, tolerance
        self.weights = 1.0 / problem.scale
        self.history: list[float] = []
        """The largest relative miss at each batch of runs (the start, a measured Jacobian, each step)."""
        self.previous: _Point | None = None
        self.levenberg = False
        self.jac: np.ndarray | None = None
        self.damping, self.growth, self.rejected = 0.0, 2.0, 0
        self.mapped = False

    def start(self, candidates: list[np.ndarray]) -> None:
        """From the first candidate, unless a later one is already settled (run in one batch)."""
        points = [self._point(c, v) for c, v in zip(candidates, self.evaluate(candidates), strict=True)]
        for point in points[1:]:
            self.here = point
            if self.settled():
                break
        else:
            self.here = points[0]
        self.history.append(self.here.miss(self.problem.observed))

    def settled(self) -> bool:
        """A fixed point of the mapping, or the Gauss–Newton step of the current linear model would change no
        observation beyond the tolerance."""
        if self.mapped:
            return True
        here, jac = self.here, self._jacobian()
        step = -np.linalg.pinv(self.weights[:, None] * jac, rcond=1e-8) @ (
            self.weights * (here.agent - self.problem.observed))
        return _met(here.values, here.agent + jac @ step, self.tolerance)

    def inside(self) -> bool:
        """Every observation inside the 95% band of the replications' mean at the current point."""
        est, observed = mean_ci(self.here.values), self.problem.observed
        return bool(np.all((np.asarray(est.low) <= observed) & (observed <= np.asarray(est.high))))

    def step(self) -> None:
        if not self.levenberg:
            self._mapping_step()
        elif self.jac is None:
            self._measure()
        else:
            self._levenberg_step()

    def _point(self, x: np.ndarray, values: np.ndarray) -> _Point:
        return _Point(np.asarray(x, dtype=float), values, self.problem.predict_mean_field(x),
                      float(np.sum(((values.mean(axis=0) - self.problem.observed) * self.weights) ** 2)))

    def _trial(self, x: np.ndarray) -> _Point:
        trial = self._point(x, self.evaluate([x])[0])
        self.history.append(trial.miss(self.problem.observed))
        return trial

    def _gain(self) -> np.ndarray:
        """Agent ÷ mean field per observation: the ratio, or once two points are known the secant between them
        where it is of the same sign and within a factor 5 of the ratio."""
        here, previous = self.here, self.previous
        ratio = here.agent / here.field
        if previous is None:
            return ratio
        moved = here.field - previous.field
        ok = np.abs(moved) > 1e-6 * np.abs(here.field)
        secant = np.where(ok, (here.agent - previous.agent) / np.where(ok, moved, 1.0), ratio)
        return np.where((secant > ratio / 5) & (secant < ratio * 5), secant, ratio)

    def _jacobian(self) -> np.ndarray:
        if self.jac is not None:
            return self.jac
        return self._gain()[:, None] * self.problem.jacobian(self.here.x)

    def _mapping_step(self) -> None:
        """Refit the mean field to the observations moved by the agent model's miss, scaled by the gain."""
        here, gain = self.here, self._gain()
        target = np.clip(here.field + (self.problem.observed - here.agent) / gain, 1e-6, 0.999)
        x = self.problem.solve(target, starts=[here.x])
        trial = self._trial(x)
        if trial.cost < here.cost:
            self.previous, self.here = here, trial
            # A fixed point of the mapping: the agent model landed where the corrected mean field said it would.
            self.mapped = _met(trial.values, here.agent + gain * (trial.field - here.field), self.tolerance)
        else:
            self.levenberg = True  # the diagonal correction led astray: the agent model's own slopes from here

    def _measure(self) -> None:
        """Forward differences of the agent model at the current point, one per parameter (backward at an upper
        bound), in one batch; measured again when Broyden's updates have twice in a row led astray."""
        here = self.here
        _, high = self.problem.bounds()
        steps = np.where(here.x + DIFFERENCE_STEP < high, DIFFERENCE_STEP, -DIFFERENCE_STEP)
        points = [here.x + h * np.eye(len(here.x))[i] for i, h in enumerate(steps)]
        self.jac = np.stack([(v.mean(axis=0) - here.agent) / h
                             for v, h in zip(self.evaluate(points), steps, strict=True)], axis=1)
        self.history.append(here.miss(self.problem.observed))
        self.rejected = 0
        self.damping = self.damping or DAMPING_START * float(
            np.max(np.sum((self.weights[:, None] * self.jac) ** 2, axis=0)))

    def _levenberg_step(self) -> None:
        assert self.jac is not None
        here = self.here
        x, predicted = _corrected_step(self.problem, here, self.jac, self.weights, self.damping)
        trial = self._trial(x)
        moved = trial.x - here.x
        if moved @ moved > 0:  # Broyden: the Jacobian learns what this step showed
            self.jac += np.outer(trial.agent - here.agent - self.jac @ moved, moved) / (moved @ moved)
        gain = (here.cost - trial.cost) / max(here.cost - predicted, 1e-300)
        if gain > 0:  # Nielsen's rule: less damping the better the model predicted the step
            self.here, self.growth, self.rejected = trial, 2.0, 0
            self.damping *= max(1 / 3, 1 - (2 * gain - 1) ** 3)
        else:
            self.damping, self.growth, self.rejected = self.damping * self.growth, self.growth * 2, self.rejected + 1
            if self.rejected >= 2:
                self.jac = None


def _agent_evaluator(problem: Problem, settings: AgentSettings) -> Evaluate:
    """The agent model on the streams of `simulate`'s first replications, every point of a call in one batch."""
    seeds = _seeds(settings, settings.replications)

    def evaluate(points: Sequence[np.ndarray]) -> list[np.ndarray]:
        runs = run_agent([problem.scenario_at(x) for x in points], seeds, problem.fit_days,
                         executor=settings.executor)
        return [np.array([problem.observe(r) for r in point]) for point in runs]

    return evaluate


@dataclasses.dataclass(frozen=True)
class _Point:
    """A point the fit ran the model at: parameters, the replications' values, the mean field's, weighted miss."""

    x: np.ndarray
    values: np.ndarray
    field: np.ndarray
    cost: float

    @property
    def agent(self) -> np.ndarray:
        return self.values.mean(axis=0)

    def miss(self, observed: np.ndarray) -> float:
        return largest_miss(self.values, observed)


def _corrected_step(problem: Problem, here: _Point, jac: np.ndarray, weights: np.ndarray,
                    damping: float) -> tuple[np.ndarray, float]:
    """Minimise |W(m(x) − observed)|² + damping·|x − x₀|² over the corrected mean field m.

    m(x) = a₀ + G·(f(x) − f₀) + (J − G·F₀)(x − x₀), with a the agent model, f the mean field (Jacobian F), G the
    ratio a₀ ÷ f₀ and J the agent model's Jacobian: it has the agent model's value and slope at x₀ and the mean
    field's curvature (which is strong in p: innovation matters little once p is small), so a step can be long
    where the mean field knows the way. The damping keeps it short along directions no observation sees.
    Returns the step's end and the weighted miss m predicts there.
    """
    from scipy.optimize import least_squares

    ratio, field0 = here.agent / here.field, here.field
    linear = jac - ratio[:, None] * problem.jacobian(here.x)
    root = np.sqrt(damping)

    def residuals(x: np.ndarray) -> np.ndarray:
        model = here.agent + ratio * (problem.predict_mean_field(x) - field0) + linear @ (x - here.x)
        return np.concatenate([weights * (model - problem.observed), root * (x - here.x)])

    low, high = problem.bounds()
    result = least_squares(residuals, np.clip(here.x, low + 1e-9, high - 1e-9), bounds=(low, high), method="trf",
                           xtol=1e-10, ftol=1e-12, gtol=1e-12, max_nfev=200)
    miss = result.fun[:len(problem.observed)]
    return np.asarray(result.x), float(miss @ miss)


def _distinct(points: Sequence[np.ndarray]) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    for x in points:
        if not any(np.allclose(x, y, rtol=0, atol=1e-9) for y in out):
            out.append(np.asarray(x, dtype=float))
    return out


def largest_miss(values: np.ndarray, observed: np.ndarray) -> float:
    """The largest relative miss of the replications' mean (values: replications × observations)."""
    return float(np.max(np.abs(values.mean(axis=0) / observed - 1)))


def _met(values: np.ndarray, observed: np.ndarray, tolerance: float) -> bool:
    """Every value met: the replications' mean within `tolerance` (relative) of `observed`, or within half the 95%
    band of that mean (closer than that the replications cannot tell; they are rough at that scale)."""
    est = mean_ci(values)
    half = 0.5 * (np.asarray(est.high) - np.asarray(est.mean))
    return bool(np.all(np.abs(est.mean - observed) <= np.maximum(tolerance * observed, half)))


def run_draws(problem: Problem, draws: np.ndarray, settings: AgentSettings) -> np.ndarray:
    """(draws, days, units): one agent replication per parameter draw, on streams after the fit's."""
    if not len(draws):
        return np.zeros((0, problem.scenario.simulation.horizon_days, len(problem.scenario.units)))
    pick = draws[np.linspace(0, len(draws) - 1, min(settings.draws, len(draws))).round().astype(int)]
    seeds = _seeds(settings, len(pick), offset=settings.replications)
    scenarios = [problem.scenario_at(row) for row in pick]
    tasks = [(s, seed, None) for s, seed in zip(scenarios, seeds, strict=True)]
    return np.stack(map_replications(agent_shares_task, tasks, executor=settings.executor, progress=False,
                                     description="target-date draws"))
