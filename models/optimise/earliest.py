"""The earliest-date objective: the plan within a budget that reaches the target earliest with probability ≥ p.

*Scenario.* "With 400 million VND, by when can Lạng Sơn be 80% sure of 45%?" A plan's answer is the
p-quantile of its reach day over replications, a replication that never reaches the target (within the
scenario's horizon) counting as never: the earliest day d with P(reached by d) ≥ p. TPE proposes plans
within the budget (`Goal` below: the quantile day to minimise, cost ≤ budget as the constraint; plans over
the budget are told back unsimulated), the `contenders` earliest get the selection's extra replications on
the same common random numbers (split evenly: unlike a probability constraint, a quantile has no
feasibility boundary to concentrate on), the earliest becomes the answer, and the fresh streams check
"reached by that date with P ≥ p" with its one-sided 95% Clopper–Pearson bound. The baselines (the random
search at equal simulation budget, the scenario's own plan, the budget spread evenly) are checked on the
same fresh streams against the same date, and with their own p-quantile date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Any

from motcua.models.optimise.evaluate import Evaluator, fresh_check, quantile_day
from motcua.models.optimise.search import Candidate, Goal, Trace, random_search, tpe_search
from motcua.models.optimise.select import Selection
from motcua.models.optimise.space import DecisionSpace, Plan

from motcua.errors import InputError


@dataclasses.dataclass(frozen=True)
class EarliestDate(Goal):
    """Minimise the p-quantile reach day (never: past the horizon) such that cost ≤ `budget_vnd`."""

    budget_vnd: int = 0
    horizon_days: int = 0

    def score(self, cand: Candidate) -> float:
        day = quantile_day(cand.evaluation.reach_days, self.probability)
        return day if math.isfinite(day) else float(self.horizon_days)

    def violation(self, cand: Candidate) -> float:
        return float(cand.cost - self.budget_vnd)

    def admits(self, cost: int) -> bool:
        return cost <= self.budget_vnd

    def show(self, cand: Candidate) -> str:
        day = self.score(cand)
        when = f"day {day:.0f}" if day < self.horizon_days else "never in the horizon"
        return f"{when} at {cand.cost:,} VND"


def select_earliest(candidates: Sequence[Candidate], evaluator: Any, goal: EarliestDate, *, k: int, extra: int,
                    stages: int, say: Callable[[str], None]) -> Selection:
    """Spend `extra` replications over `stages` on the `k` earliest plans (evenly), then choose the earliest
    (the cheaper on a tie); feasible when its quantile day falls within the horizon."""
    unique = list({c.plan.key(): c for c in candidates}.values())
    contenders = sorted(unique, key=lambda c: (goal.score(c), c.cost))[:k]
    before = evaluator.simulations
    for stage in range(stages if contenders else 0):
        targets = [c.evaluation.n + extra // stages // len(contenders) for c in contenders]
        evaluator.ensure([c.plan for c in contenders], targets, label=f"selection stage {stage + 1}/{stages}")
        say("selection: " + ", ".join(f"{goal.show(c)} (n={c.evaluation.n})" for c in contenders))
    if not contenders:
        raise InputError(f"optimise.budget_vnd = {goal.budget_vnd}: the search proposed no plan within the budget; "
                         "raise it or widen the levers' bounds")
    chosen = min(contenders, key=lambda c: (goal.score(c), c.cost))
    return Selection(chosen, goal.score(chosen) < goal.horizon_days, tuple(contenders),
                     evaluator.simulations - before)


@dataclasses.dataclass(frozen=True)
class EarliestRun:
    """What the earliest-date run found: the goal, search, selection, guarantee and baselines."""

    goal: EarliestDate
    found: list[Candidate]
    selection: Selection
    guarantee: dict[str, Any]
    baselines: dict[str, dict[str, Any]]


def run_earliest(scenario: Any, space: DecisionSpace, evaluator: Evaluator, budget: Any, probability: float,
                 seed: int, trace: Trace, say: Callable[[str], None]) -> EarliestRun:
    """Search, selection, the fresh-stream check of the chosen date and the baselines (see the module)."""
    goal = EarliestDate(probability, budget_vnd=int(scenario.optimise.budget_vnd),
                        horizon_days=int(scenario.simulation.horizon_days))
    found = tpe_search(space, evaluator, candidates=budget.candidates, reps=budget.reps, batch=budget.batch,
                       goal=goal, seed=seed, trace=trace, say=say)
    selection = select_earliest(found, evaluator, goal, k=budget.contenders, extra=budget.extra,
                                stages=budget.stages, say=say)
    by_day = int(min(goal.score(selection.chosen), goal.horizon_days - 1))
    guarantee = fresh_check(evaluator, selection.chosen, probability, budget.fresh, "chosen plan", by_day=by_day)
    rnd_found = random_search(space, evaluator, candidates=budget.candidates, reps=budget.reps, goal=goal,
                              seed=seed, trace=trace, say=say)
    rnd = select_earliest(rnd_found, evaluator, goal, k=budget.contenders, extra=budget.extra,
                          stages=budget.stages, say=say)
    own = Plan((), as_written=True)
    even, within = space.even_spread(goal.budget_vnd)
    others = {"random_search": (rnd.chosen, {"feasible_in_search": rnd.feasible, "plan": rnd.chosen.plan.describe(),
                                             "simulations": budget.candidates * budget.reps + rnd.extra_simulations}),
              "scenario_plan": (Candidate(own, space.cost(own), None), {"plan": "the scenario's interventions"}),
              "even_spread": (Candidate(even, space.cost(even), None), {"plan": even.describe(),
                                                                         "within_budget": within})}
    baselines = {}
    for name, (cand, extra) in others.items():
        row = {**fresh_check(evaluator, cand, probability, budget.fresh, name.replace("_", " "), by_day=by_day),
               **extra}
        row["cost_difference_vnd"] = row["cost_vnd"] - guarantee["cost_vnd"]
        row["p_difference"] = guarantee["p"] - row["p"]
        row["days_later"] = _days_between(guarantee["quantile_date"], row["quantile_date"])
        baselines[name] = row
    return EarliestRun(goal, found, selection, guarantee, baselines)


def _days_between(first: str | None, then: str | None) -> int | None:
    """Days from `first` to `then` (ISO dates); None when either is never."""
    if first is None or then is None:
        return None
    return (dt.date.fromisoformat(then) - dt.date.fromisoformat(first)).days
