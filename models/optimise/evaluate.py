"""Evaluating plans by simulation under common random numbers, and the bounds on what they show.

*Scenario.* Is "teams in Cao Lộc and Hữu Lũng from July, guidance at 40%" enough for 45% by 31 December?
Run the plan's scenario n times; replication i of every plan uses the same child seed i (common random
numbers), so two plans are compared on the same simulated citizens wherever they do not differ. Each
replication reports only the day the target was first reached (the target rule of `models.figures`), and
the horizon stops at the deadline: what happens after it cannot change P(reached by the deadline).

`Evaluator` caches replications per plan and seed index, so the selection step tops a plan up with seeds
n, n+1, … rather than starting again. Fresh streams (the guarantee) come from another root sequence the
search never draws from.

With parameter uncertainty (``uncertainty="parameters"``, `models.uncertainty`), replication i of every plan
also draws the uncertain parameters at position i of the run's seed (common numbers across plans, as
`run_comparison` does); the fresh streams draw them from another seed, so the guarantee covers parameter
draws the search never saw.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

CONFIDENCE = 0.95
"""Confidence of the guarantee's one-sided lower bound."""
FRESH_KEY = 0x6F7074
"""Second entropy word of the fresh streams' root: ``SeedSequence([seed, FRESH_KEY])`` never meets the search's
``SeedSequence(seed)`` children."""


def reach_day_task(scenario: Any, seed: np.random.SeedSequence, quick: bool, quality: Any) -> float:
    """One replication (`models.replications`' entry point) → the first day its target 0 is reached (inf: never)."""
    from motcua.models.figures import first_reach_day
    from motcua.models.replications import run_replication_task

    result = run_replication_task(scenario, seed, quick, quality)
    target = scenario.targets[0]
    wanted = {u.id for u in scenario.units} if "*" in target.units else set(target.units)
    weights = np.array([u.fee_dossiers_per_year if u.id in wanted else 0.0 for u in scenario.units], dtype=float)
    if weights.sum() <= 0:
        weights = np.array([1.0 if u.id in wanted else 0.0 for u in scenario.units])
    share = np.asarray(result.daily_share, dtype=float) @ (weights / weights.sum())
    return float(first_reach_day(share[None, :], target.share)[0])


def evaluation_scenario(scenario: Any, target_index: int, to_deadline: bool = True) -> Any:
    """`scenario` with only target `target_index` and a horizon that ends on its deadline (or, `to_deadline`
    False, the scenario's own horizon: the earliest-date objective needs the days after it)."""
    from motcua.models.scenario_edit import keep_entries

    target = scenario.targets[target_index]
    only = keep_entries(scenario, "targets", [k == target_index for k in range(len(scenario.targets))])
    if not to_deadline:
        return only
    days = (target.date - scenario.simulation.start).days + 1
    return only.with_overrides({"simulation.horizon_days": days})


def fresh_seed(seed: int) -> int:
    """The seed of the fresh streams' parameter draws (never the search's `seed`)."""
    return int(np.random.SeedSequence([seed, FRESH_KEY]).generate_state(1)[0])


@dataclasses.dataclass
class Evaluation:
    """The replications of one plan so far: reach day per seed index (inf: not reached by the deadline);
    ``parameter_draws``: how many of them drew their own parameters (0 with parameters held)."""

    reach_days: list[float]
    deadline_day: int
    parameter_draws: int = 0

    @property
    def n(self) -> int:
        return len(self.reach_days)

    @property
    def successes(self) -> int:
        return sum(d <= self.deadline_day for d in self.reach_days)

    @property
    def p(self) -> float:
        return self.successes / self.n if self.n else float("nan")


class Evaluator:
    """Runs plans' scenarios on the executor under CRN and remembers what it ran.

    `to_scenario(plan)` gives the scenario of a plan (full horizon); the evaluator truncates it to the
    target's deadline (unless `to_deadline` is False). ``simulations`` counts every replication run, the
    budget baselines are matched on.
    `uncertainty` is `models.uncertainty`'s mode: ``"replications"`` (parameters held) or ``"parameters"``.
    """

    def __init__(self, to_scenario: Callable[[Any], Any], target_index: int, seed: int, *, executor: Any = None,
                 progress: Callable[[str], None] | None = None, uncertainty: str = "replications",
                 to_deadline: bool = True) -> None:
        from motcua.models.uncertainty import MODES

        if uncertainty not in MODES:
            raise ValueError(f"uncertainty {uncertainty!r}: expected one of {', '.join(MODES)}")
        self.to_scenario, self.target_index, self.seed = to_scenario, target_index, seed
        self.uncertainty, self.to_deadline = uncertainty, to_deadline
        from motcua.models.executor import _as_spec  # "serial", "processes", a Dask address or a spec

        self.executor = _as_spec(executor)
        self.say = progress or (lambda _msg: None)
        self.cache: dict[Any, Evaluation] = {}
        self.simulations = 0
        self._scenarios: dict[Any, Any] = {}
        self._draws: dict[Any, Any] = {}

    def scenario(self, plan: Any) -> Any:
        key = plan.key()
        if key not in self._scenarios:
            self._scenarios[key] = evaluation_scenario(self.to_scenario(plan), self.target_index, self.to_deadline)
        return self._scenarios[key]

    def draws(self, plan: Any) -> Any:
        """The plan's parameter draws on the search streams (`models.uncertainty.ParameterDraws`), or None."""
        from motcua.models.uncertainty import draws_for

        key = plan.key()
        if key not in self._draws:
            self._draws[key] = draws_for([self.scenario(plan)], self.uncertainty, self.seed)[0]
        return self._draws[key]

    def replica(self, plan: Any, i: int, *, fresh: bool = False) -> Any:
        """The scenario replication i of `plan` runs: its own parameter draw i when parameters are uncertain."""
        draws = self.draws(plan)
        if draws is None:
            return self.scenario(plan)
        if fresh:
            draws = dataclasses.replace(draws, seed=fresh_seed(self.seed))
        return draws.scenario(self.scenario(plan), i)

    def factors(self, plan: Any) -> int:
        """How many uncertain parameters the plan's replications draw (0 with parameters held)."""
        draws = self.draws(plan)
        return 0 if draws is None else len(draws.factors)

    def deadline_day(self, plan: Any) -> int:
        """The last day a success counts: the target's deadline, or the horizon's last day (not `to_deadline`)."""
        sc = self.scenario(plan)
        if not self.to_deadline:
            return int(sc.simulation.horizon_days) - 1
        return (sc.targets[0].date - sc.simulation.start).days

    def ensure(self, plans: Sequence[Any], n: int | Sequence[int], *, label: str = "") -> list[Evaluation]:
        """Give every plan at least `n` (or its own n) replications on the search streams (seed indices 0…n−1),
        all in one batch on the executor."""
        from motcua.models.replications import spawn_seeds

        wanted = [n] * len(plans) if isinstance(n, int) else list(n)
        seeds = spawn_seeds(self.seed, max(wanted, default=0))
        tasks, owners = [], []
        for plan, n_plan in zip(plans, wanted, strict=True):
            ev = self.cache.setdefault(plan.key(), Evaluation([], self.deadline_day(plan)))
            for i in range(ev.n, n_plan):
                tasks.append((self.replica(plan, i), seeds[i], False, None))
                owners.append(plan.key())
        self._run(tasks, owners, label)
        return [self.cache[plan.key()] for plan in plans]

    def fresh(self, plan: Any, n: int, *, label: str = "fresh streams") -> Evaluation:
        """`n` replications of `plan` on fresh streams (not cached with the search's)."""
        root = np.random.SeedSequence([self.seed, FRESH_KEY])
        tasks = [(self.replica(plan, i, fresh=True), child, False, None) for i, child in enumerate(root.spawn(n))]
        self.say(f"{label}: {n} replications")
        days = self._map(tasks)
        return Evaluation(days, self.deadline_day(plan), n if self.draws(plan) is not None else 0)

    def _run(self, tasks: list[tuple[Any, ...]], owners: list[Any], label: str) -> None:
        if not tasks:
            return
        self.say(f"{label}: {len(tasks)} replications")
        for key, day in zip(owners, self._map(tasks), strict=True):
            ev = self.cache[key]
            ev.reach_days.append(day)
            ev.parameter_draws += self.uncertainty == "parameters"

    def _map(self, tasks: list[tuple[Any, ...]]) -> list[float]:
        from motcua.models.replications import map_replications

        self.simulations += len(tasks)
        return list(map_replications(reach_day_task, tasks, executor=self.executor, progress=False))


def fresh_check(evaluator: Evaluator, cand: Any, probability: float, n: int, label: str, *,
                by_day: int | None = None) -> dict[str, Any]:
    """A plan (`search.Candidate`) on `n` fresh streams: P̂ of reaching the target by the deadline (or by day
    `by_day` of the simulation), its one-sided 95% Clopper–Pearson lower bound, the date band, the verdict
    (the bound reaches `probability`), and what the replications drew."""
    from motcua.models.uncertainty import COVERS

    ev = evaluator.fresh(cand.plan, n, label=f"{label} on fresh streams")
    if by_day is not None:
        ev = dataclasses.replace(ev, deadline_day=by_day)
    lower = clopper_pearson_lower(ev.successes, ev.n, CONFIDENCE)
    start = evaluator.scenario(cand.plan).simulation.start
    return {"cost_vnd": cand.cost, "n": ev.n, "successes": ev.successes, "p": ev.p,
            "lower_bound": lower, "confidence": CONFIDENCE, "holds": lower >= probability,
            "by_date": (start + dt.timedelta(days=ev.deadline_day)).isoformat(),
            "reach_date": date_band(start, ev.reach_days), "quantile_date": quantile_date(start, ev.reach_days,
                                                                                          probability),
            "uncertainty": COVERS[evaluator.uncertainty], "parameter_draws": ev.parameter_draws,
            "factors": evaluator.factors(cand.plan)}


def quantile_day(days: Sequence[float], probability: float) -> float:
    """The earliest day by which a share ≥ `probability` of the replications reached the target (inf: none such):
    the empirical `probability`-quantile of the reach days, an unreached replication counting as never."""
    if not days:
        return float("inf")
    k = max(1, math.ceil(probability * len(days) - 1e-9))
    return float(sorted(days)[k - 1])


def quantile_date(start: dt.date, days: Sequence[float], probability: float) -> str | None:
    """`quantile_day` as an ISO date (None: never)."""
    day = quantile_day(days, probability)
    return (start + dt.timedelta(days=day)).isoformat() if math.isfinite(day) else None


def clopper_pearson_lower(successes: int, n: int, confidence: float = 0.95) -> float:
    """One-sided lower confidence bound on a probability from `successes` of `n` (exact, Clopper–Pearson)."""
    from scipy import stats

    if n < 1 or successes <= 0:
        return 0.0
    return float(stats.beta.ppf(1 - confidence, successes, n - successes + 1))


def date_band(start: dt.date, days: Sequence[float], low: float = 0.1, high: float = 0.9) -> dict[str, Any]:
    """Median date the target was reached and a 10–90% band, over the replications that reached it."""
    reached = np.array([d for d in days if np.isfinite(d)])
    if reached.size == 0:
        return {"reached": 0, "median": None, "low": None, "high": None}

    def date(q: float) -> str:
        return (start + dt.timedelta(days=float(np.quantile(reached, q)))).isoformat()

    return {"reached": int(reached.size), "median": date(0.5), "low": date(low), "high": date(high)}
