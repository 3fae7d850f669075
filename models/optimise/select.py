"""Ranking and selection: extra replications for the few cheapest plans that might be feasible.

*Scenario.* The search saw each plan a few times; "P̂ = 5/6" for the cheapest plan may be luck. Before
choosing, the `k` cheapest plans whose probability could still reach p (their Clopper–Pearson upper bound
does) get extra replications on the same common random numbers, in stages. Each stage splits its budget
the way OCBA's feasibility rule does (Hunter and Pasupathy's constrained OCBA, simplified to one
constraint): in proportion to p̂(1 − p̂)/(p̂ − p)², so the plans whose feasibility is most in doubt get
the most. The choice is then the cheapest plan whose estimate reaches p + margin; without one, the
plan with the highest estimate is reported as the best infeasible answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from motcua.models.optimise.search import Candidate

MIN_GAP = 0.03
"""Floor of |p̂ − p| in the allocation, so one plan right at the boundary does not take a whole stage."""


@dataclasses.dataclass(frozen=True)
class Selection:
    """The chosen plan, whether it looked feasible, and the plans the selection compared."""

    chosen: Candidate
    feasible: bool
    contenders: tuple[Candidate, ...]
    extra_simulations: int


def clopper_pearson_upper(successes: int, n: int, confidence: float = 0.95) -> float:
    """One-sided upper confidence bound on a probability (Clopper–Pearson)."""
    from scipy import stats

    if n < 1 or successes >= n:
        return 1.0
    return float(stats.beta.ppf(confidence, successes + 1, n - successes))


def select(candidates: Sequence[Candidate], evaluator: Any, *, probability: float, k: int, extra: int,
           stages: int, margin: float, say: Callable[[str], None]) -> Selection:
    """Spend `extra` replications over `stages` on the `k` cheapest plausible plans, then choose."""
    unique = list({c.plan.key(): c for c in candidates}.values())
    plausible = [c for c in unique if clopper_pearson_upper(c.evaluation.successes, c.evaluation.n) >= probability]
    contenders = sorted(plausible, key=lambda c: c.cost)[:k]
    before = evaluator.simulations
    for stage in range(stages if contenders else 0):
        budget = extra // stages
        weights = [_doubt(c.evaluation.p, probability) for c in contenders]
        total = sum(weights)
        targets = [c.evaluation.n + round(budget * w / total) for c, w in zip(contenders, weights, strict=True)]
        evaluator.ensure([c.plan for c in contenders], targets, label=f"selection stage {stage + 1}/{stages}")
        say("selection: " + ", ".join(f"{c.cost:,} VND P̂={c.p:.2f} (n={c.evaluation.n})" for c in contenders))
    spent = evaluator.simulations - before
    good = [c for c in contenders if c.p >= probability + margin]
    if good:
        return Selection(min(good, key=lambda c: c.cost), True, tuple(contenders), spent)
    best = max(unique, key=lambda c: (c.p, -c.cost))
    return Selection(best, False, tuple(contenders), spent)


def _doubt(p_hat: float, probability: float) -> float:
    variance = max(p_hat * (1 - p_hat), 0.25 / 16)  # a 0/n or n/n plan still gets a share
    return variance / max((p_hat - probability) ** 2, MIN_GAP**2)
