"""The search: Optuna's TPE sampler with the probability as a constraint, and the random-search baseline.

*Scenario.* Which of the thousands of plans ``[optimise]`` allows are worth simulating? TPE proposes
`batch` plans at a time (Optuna's ask/tell), each is simulated `reps` times on the search's common random
numbers in one batch on the executor, and told back as cost (to minimise) with the constraint
``probability − p̂ ≤ 0``. The random search draws the same number of plans uniformly and simulates them the
same way: the baseline at equal simulation budget.
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


@dataclasses.dataclass
class Trace:
    """What the search did, in order: one row per plan it simulated."""

    rows: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def add(self, source: str, candidate: Candidate, probability: float) -> None:
        best = min((r["cost"] for r in self.rows if r["feasible"] and r["source"] == source), default=None)
        feasible = candidate.p >= probability
        if feasible and (best is None or candidate.cost < best):
            best = candidate.cost
        self.rows.append({"source": source, "plan": candidate.plan.describe(), "cost": candidate.cost,
                          "p": round(candidate.p, 4), "n": candidate.evaluation.n, "feasible": feasible,
                          "best_feasible_cost": best})


def tpe_search(space: Any, evaluator: Any, *, candidates: int, reps: int, batch: int, probability: float,
               seed: int, trace: Trace, say: Callable[[str], None]) -> list[Candidate]:
    """`candidates` plans proposed by Optuna's TPE (constrained), each simulated `reps` times under CRN."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=max(1, min(batch, candidates // 2)),
                                         multivariate=True)  # the first batch random, then TPE
    study = optuna.create_study(direction="minimize", sampler=sampler)
    found: list[Candidate] = []
    while len(found) < candidates:
        trials = [study.ask() for _ in range(min(batch, candidates - len(found)))]
        plans = [space.from_trial(t) for t in trials]
        evaluations = evaluator.ensure(plans, reps, label=f"search {len(found) + len(plans)}/{candidates}")
        for trial, plan, ev in zip(trials, plans, evaluations, strict=True):
            cand = Candidate(plan, space.cost(plan), ev)
            trial.set_constraint("probability", probability - cand.p)  # feasible when <= 0
            study.tell(trial, float(cand.cost))
            trace.add("optuna", cand, probability)
            found.append(cand)
        say(_progress_line("search", found, probability))
    return found


def random_search(space: Any, evaluator: Any, *, candidates: int, reps: int, probability: float, seed: int,
                  trace: Trace, say: Callable[[str], None]) -> list[Candidate]:
    """The baseline: `candidates` plans drawn uniformly, each simulated `reps` times under the same CRN."""
    rng = np.random.default_rng([seed, 0x72616E64])
    plans = [space.random(rng) for _ in range(candidates)]
    evaluations = evaluator.ensure(plans, reps, label="random search")
    found = [Candidate(plan, space.cost(plan), ev) for plan, ev in zip(plans, evaluations, strict=True)]
    for cand in found:
        trace.add("random", cand, probability)
    say(_progress_line("random search", found, probability))
    return found


def _progress_line(what: str, found: list[Candidate], probability: float) -> str:
    feasible = [c for c in found if c.p >= probability]
    best = min(feasible, key=lambda c: c.cost) if feasible else max(found, key=lambda c: c.p)
    state = "cheapest feasible" if feasible else "no feasible plan yet; best P"
    return f"{what}: {len(found)} plans, {state}: {best.cost:,} VND at P̂={best.p:.2f}"
