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
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np

from motcua.scenario import Scenario

AGREEMENT_TOLERANCE = 0.03
"""Relative difference of a yearly regional share, this model against the coupled model, that the test allows."""
COUNTER_GUIDANCE = "counter_guidance"


def with_parameters(scenario: Scenario, params: dict[str, Any],
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
              executor: Any = None) -> np.ndarray:
    """(scenarios, seeds, days, units): every scenario under every seed, through the replication executors."""
    from motcua.models.replications import map_replications

    tasks = [(s, seed, days) for s in scenarios for seed in seeds]
    flat = map_replications(agent_shares_task, tasks, executor=executor, progress=False,
                            description="calibration runs")
    return np.stack(flat).reshape(len(scenarios), len(seeds), *flat[0].shape)


# --- fitting the agent model ---------------------------------------------------------------------

FIT_TOLERANCE = 0.005
"""Relative difference, at every observation, between the agent model (mean over the fit's replications) and what
the corrected mean field predicted for it, below which the iteration stops (or half the 95% band of that mean, if
wider: `_met`)."""
MAX_ITERATIONS = 8


@dataclasses.dataclass(frozen=True)
class AgentSettings:
    """How calibration runs the agent model: replications under common random numbers, where, how many draws."""

    replications: int = 8
    """Replications at each trial point; the streams of `motcua simulate`'s first replications (same seed)."""
    seed: int = 0
    """Root seed: the scenario's ``simulation.seed``, so that `simulate` of the calibrated file sees these runs."""
    draws: int = 16
    """Parameter draws (from the bootstrap) run through the agent model for the target-date band."""
    executor: Any = None
    tolerance: float = FIT_TOLERANCE
    max_iterations: int = MAX_ITERATIONS


@dataclasses.dataclass
class AgentFit:
    """What the agent model says at the estimates: per observation, the mean over replications and its bands."""

    replications: int
    seed: int
    iterations: list[float]
    """The largest relative miss (agent model vs observed) after each iteration."""
    simulated: np.ndarray
    """(replications, observations): each observation's value in each replication at the estimates."""
    runs: np.ndarray = dataclasses.field(repr=False)
    """(replications, days, units) daily shares at the estimates."""
    draw_runs: np.ndarray = dataclasses.field(repr=False)
    """(draws, days, units) daily shares, one replication per parameter draw."""
    converged: bool = True

    def band(self, i: int, confidence: float = 0.95) -> tuple[float, float, float]:
        """Mean and 95% confidence interval over replications of observation `i`, as `simulate` reports it."""
        from motcua.models.replications import mean_ci

        est = mean_ci(self.simulated[:, i], confidence=confidence)
        return float(est.mean), float(est.low), float(est.high)


def _seeds(settings: AgentSettings, count: int, offset: int = 0) -> list[np.random.SeedSequence]:
    from motcua.models.replications import spawn_seeds

    return spawn_seeds(settings.seed, offset + count)[offset:]


def fit_agent_model(problem: Any, x: np.ndarray, settings: AgentSettings) -> tuple[np.ndarray, AgentFit]:
    """Fit the agent model by defect correction, starting from the mean-field optimum `x`.

    The agent model's value of each observation is the mean over `settings.replications` replications run on
    fixed streams (common random numbers: a smooth, deterministic function of the parameters). Each iteration
    runs it at the current point, takes its ratio to the mean field there as a correction of the mean field, and
    refits the corrected mean field (fast, with its Jacobian): a quasi-Newton step on the agent model with the
    mean field's derivatives. It stops at a fixed point: when the agent model lands where the corrected mean field
    predicted, within `settings.tolerance` (relative) at every observation.
    """
    seeds = _seeds(settings, settings.replications)
    history: list[float] = []
    previous: tuple[np.ndarray, np.ndarray, int] | None = None
    expected: np.ndarray | None = None
    problem.correction = np.ones(len(problem.observed))
    for iteration in range(settings.max_iterations):
        # The first iteration only needs the rough size of the correction: fewer replications (the first ones).
        count = settings.replications if iteration else min(settings.replications, 4)
        runs = run_agent([problem.scenario_at(x)], seeds[:count], problem.fit_days, executor=settings.executor)[0]
        values = np.array([problem.observe(r) for r in runs])
        agent = values.mean(axis=0)
        field = problem.predict_mean_field(x)
        history.append(float(np.max(np.abs(agent / problem.observed - 1))))
        # Converged: the agent model is where the corrected mean field said it would be (a fixed point; with as
        # many parameters as observations, that is on the observations).
        if count == settings.replications and expected is not None and _met(values, expected, settings.tolerance):
            break
        gain = _gain(agent, field, previous if previous and previous[2] == count else None)
        previous = (field, agent, count)
        target = np.clip(field + (problem.observed - agent) / gain, 1e-6, 0.999)
        x = problem.solve(target, starts=[x])
        expected = agent + gain * (problem.predict_mean_field(x) - field)
    runs = run_agent([problem.scenario_at(x)], seeds, None, executor=settings.executor)[0]
    simulated = np.array([problem.observe(r) for r in runs])
    history[-1] = float(np.max(np.abs(simulated.mean(axis=0) / problem.observed - 1)))
    problem.correction = simulated.mean(axis=0) / problem.predict_mean_field(x)
    converged = expected is not None and _met(simulated, expected, settings.tolerance)
    return x, AgentFit(settings.replications, settings.seed, history, simulated, runs, np.zeros((0, *runs.shape[1:])),
                       converged=converged)


def _met(values: np.ndarray, observed: np.ndarray, tolerance: float) -> bool:
    """Every value met: the replications' mean within `tolerance` (relative) of `observed`, or within half the 95%
    band of that mean (closer than that the replications cannot tell; they are rough at that scale)."""
    from motcua.models.replications import mean_ci

    est = mean_ci(values)
    half = 0.5 * (np.asarray(est.high) - np.asarray(est.mean))
    return bool(np.all(np.abs(est.mean - observed) <= np.maximum(tolerance * observed, half)))


def _gain(agent: np.ndarray, field: np.ndarray, previous: tuple[np.ndarray, np.ndarray, int] | None) -> np.ndarray:
    """How much the agent model's value of each observation moves per unit move of the mean field's.

    First the ratio agent ÷ mean field (the agent model as a rescaled mean field); once two points on the same
    streams are known, the secant between them (a diagonal Broyden step), where it is of the same sign and within
    a factor 5 of the ratio.
    """
    ratio = agent / field
    if previous is None:
        return ratio
    moved = field - previous[0]
    ok = np.abs(moved) > 1e-6 * np.abs(field)
    secant = np.where(ok, (agent - previous[1]) / np.where(ok, moved, 1.0), ratio)
    return np.where((secant > ratio / 5) & (secant < ratio * 5), secant, ratio)


def run_draws(problem: Any, draws: np.ndarray, settings: AgentSettings) -> np.ndarray:
    """(draws, days, units): one agent replication per parameter draw, on streams after the fit's."""
    if not len(draws):
        return np.zeros((0, problem.scenario.simulation.horizon_days, len(problem.scenario.units)))
    pick = draws[np.linspace(0, len(draws) - 1, min(settings.draws, len(draws))).round().astype(int)]
    seeds = _seeds(settings, len(pick), offset=settings.replications)
    scenarios = [problem.scenario_at(row) for row in pick]
    from motcua.models.replications import map_replications

    tasks = [(s, seed, None) for s, seed in zip(scenarios, seeds, strict=True)]
    return np.stack(map_replications(agent_shares_task, tasks, executor=settings.executor, progress=False,
                                     description="target-date draws"))


def reach_days(runs: np.ndarray, weights: np.ndarray, share: float) -> np.ndarray:
    """First day of each run whose trailing 7-day mean share reaches `share` (inf: never): `simulate`'s rule."""
    from motcua.models.figures import first_reach_day

    if not len(runs):
        return np.zeros(0)
    return first_reach_day(runs @ weights, share)
