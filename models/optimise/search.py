"""The search: Optuna's TPE sampler with the probability as a constraint, and the random-search baseline.

*Scenario.* Which of the thousands of plans ``[optimise]`` allows are worth simulating? TPE proposes
`batch` plans at a time (Optuna's ask/tell), each is simulated `reps` times on the search's common random
numbers in one batch on the executor, and told back as cost (to minimise) with the constraint
``probability − p̂ ≤ 0``. The random search draws the same number of plans uniformly and simulates them the
same way: the baseline at equal simulation budget. What is minimised and what makes a plan feasible is a
`Goal`: least cost with P̂ ≥ p here, the earliest date within a budget in `earliest`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A simulated plan: its cost and what its replications showed so far."""

    plan: Any
    cost: int
    evaluation: Any

    @property
    def p(self) -> float:
        return float(self.evaluation.p)


@dataclasses.dataclass(frozen=True)
class Goal:
    """Least cost such that P̂(target by deadline) ≥ `probability`: the score to minimise and the constraint
    (feasible when ``violation ≤ 0``). A plan the goal does not `admit` is told to the sampler unsimulated."""

    probability: float

    def score(self, cand: Candidate) -> float:
        return float(cand.cost)

    def violation(self, cand: Candidate) -> float:
        return self.probability - cand.p

    def admits(self, cost: int) -> bool:
        return True

    def show(self, cand: Candidate) -> str:
        return f"{cand.cost:,} VND at P̂={cand.p:.2f}"


@dataclasses.dataclass
class Trace:
    """What the search did, in order: one row per plan it simulated (``score``: what the goal minimises,
    ``best``: the best score of a feasible plan of that source so far)."""

    rows: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def add(self, source: str, candidate: Candidate, goal: Goal) -> None:
        best = min((r["score"] for r in self.rows if r["feasible"] and r["source"] == source), default=None)
        feasible, score = goal.violation(candidate) <= 0, goal.score(candidate)
        if feasible and (best is None or score < best):
            best = score
        self.rows.append({"source": source, "plan": candidate.plan.describe(), "cost": candidate.cost,
                          "p": round(candidate.p, 4), "n": candidate.evaluation.n, "feasible": feasible,
                          "score": score, "best": best})


def tpe_search(space: Any, evaluator: Any, *, candidates: int, reps: int, batch: int, goal: Goal, seed: int,
               trace: Trace, say: Callable[[str], None]) -> list[Candidate]:
    """`candidates` plans proposed by Optuna's TPE (constrained), each simulated `reps` times under CRN; plans
    the goal does not admit (over the budget) are told back unsimulated, up to 20 per plan simulated."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=max(1, min(batch, candidates // 2)),
                                         multivariate=True)  # the first batch random, then TPE
    study = optuna.create_study(direction="minimize", sampler=sampler)
    found: list[Candidate] = []
    worst, refused = 0.0, 0
    while len(found) < candidates and refused < 20 * candidates:
        trials, plans = [], []
        for trial in (study.ask() for _ in range(min(batch, candidates - len(found)))):
            plan = space.from_trial(trial)
            if goal.admits(space.cost(plan)):
                trials.append(trial)
                plans.append(plan)
            else:  # not simulated: infeasible by the constraint, no better than the worst plan seen
                refused += 1
                trial.set_constraint("goal", float(space.cost(plan)))
                study.tell(trial, worst)
        evaluations = evaluator.ensure(plans, reps, label=f"search {len(found) + len(plans)}/{candidates}")
        for trial, plan, ev in zip(trials, plans, evaluations, strict=True):
            cand = Candidate(plan, space.cost(plan), ev)
            worst = max(worst, goal.score(cand))
            trial.set_constraint("goal", goal.violation(cand))  # feasible when <= 0
            study.tell(trial, goal.score(cand))
            trace.add("optuna", cand, goal)
            found.append(cand)
        if plans:
            say(_progress_line("search", found, goal))
    return found


def random_search(space: Any, evaluator: Any, *, candidates: int, reps: int, goal: Goal, seed: int,
                  trace: Trace, say: Callable[[str], None]) -> list[Candidate]:
    """The baseline: `candidates` plans drawn uniformly among those the goal admits, each simulated `reps`
    times under the same CRN."""
    rng = np.random.default_rng([seed, 0x72616E64])
    plans: list[Any] = []
    for _ in range(20 * candidates):
        if len(plans) == candidates:
            break
        plan = space.random(rng)
        if goal.admits(space.cost(plan)):
            plans.append(plan)
    evaluations = evaluator.ensure(plans, reps, label="random search")
    found = [Candidate(plan, space.cost(plan), ev) for plan, ev in zip(plans, evaluations, strict=True)]
    for cand in found:
        trace.add("random", cand, goal)
    if found:
        say(_progress_line("random search", found, goal))
    return found


def _progress_line(what: str, found: list[Candidate], goal: Goal) -> str:
    feasible = [c for c in found if goal.violation(c) <= 0]
    best = min(feasible, key=goal.score) if feasible else max(found, key=lambda c: c.p)
    state = "best feasible" if feasible else "no feasible plan yet; best P"
    return f"{what}: {len(found)} plans, {state}: {goal.show(best)}"
