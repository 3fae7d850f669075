"""`optimise`: search, selection, the guarantee on fresh streams, and the baselines, in one run.

*Scenario.* "The least-cost plan that reaches 45% by 31 December 2024 with probability ≥ 0.8": TPE proposes
plans (`search`), the few cheapest that might qualify get extra replications (`select`), the chosen one is
re-run on streams the search never saw and gets a one-sided 95% Clopper–Pearson lower bound on its
probability (the guarantee holds when that bound reaches p). In the same run, at the same simulation budget
as search + selection, a random search does the same; the scenario's own plan and the chosen budget spread
evenly over every allowed lever and unit are run on the same fresh streams. Every simulation is a
replication of the coupled model (`models.replications`' entry point) on the given executor. With
``uncertainty="parameters"`` each replication also draws the uncertain parameters (`models.uncertainty`: the
same draw i for every plan; other draws on the fresh streams), so the guarantee covers them too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from motcua.models.optimise.earliest import EarliestDate, run_earliest
from motcua.models.optimise.evaluate import Evaluator, fresh_check
from motcua.models.optimise.search import Candidate, Goal, Trace, random_search, tpe_search
from motcua.models.optimise.select import Selection, select
from motcua.models.optimise.space import DecisionSpace, Plan
from motcua.models.uncertainty import COVERS

from motcua.errors import InputError


@dataclasses.dataclass(frozen=True)
class Budget:
    """How many plans and replications each step spends."""

    candidates: int = 40
    reps: int = 10
    batch: int = 8
    contenders: int = 4
    extra: int = 120
    stages: int = 3
    fresh: int = 200
    margin: float = 0.05

    @classmethod
    def quick(cls) -> Budget:
        """The ``--quick`` budget: at most 176 replications to the deadline (TPE 8 plans × 4 + 16 for selection,
        the random search as many, 20 fresh for the chosen plan and each of its 3 baselines)."""
        return cls(candidates=8, reps=4, batch=4, contenders=3, extra=16, stages=2, fresh=20, margin=0.05)

    def search_simulations(self) -> int:
        return self.candidates * self.reps + self.extra


@dataclasses.dataclass
class OptimiseResult:
    """Everything `motcua optimise` reports (see `summary`)."""

    scenario: Any
    space: DecisionSpace
    probability: float
    selection: Selection
    guarantee: dict[str, Any]
    baselines: dict[str, dict[str, Any]]
    front: list[dict[str, Any]]
    trace: Trace
    simulations: int
    uncertainty: str = "replications"
    goal: Goal | None = None
    """`earliest.EarliestDate` for the earliest-date objective; None (or a plain `Goal`): least cost."""

    @property
    def objective(self) -> str:
        return "earliest_date" if isinstance(self.goal, EarliestDate) else "least_cost"

    @property
    def feasible(self) -> bool:
        return self.selection.feasible

    def plan_scenario(self, name: str) -> Any:
        """The chosen plan as a new scenario (full horizon, every target), for `simulate` and `compare`."""
        return self.space.scenario_of(self.selection.chosen.plan, name=name,
                                      note=f" for P(target {self.scenario.optimise.target}) >= {self.probability}")

    def summary(self) -> dict[str, Any]:
        chosen = self.selection.chosen
        out: dict[str, Any] = {
            "objective": self.objective, "probability": self.probability, "feasible": self.feasible,
            "plan": plan_rows(self.space, chosen.plan), "cost_vnd": chosen.cost,
            "search_estimate": {"p": chosen.p, "n": chosen.evaluation.n},
            "guarantee": self.guarantee, "baselines": self.baselines, "front": self.front,
            "trace": self.trace.rows, "simulations": self.simulations, "uncertainty": COVERS[self.uncertainty],
        }
        if isinstance(self.goal, EarliestDate):
            start = self.scenario.simulation.start
            day = self.goal.score(chosen)
            out["budget_vnd"] = self.goal.budget_vnd
            out["search_estimate"]["date"] = ((start + dt.timedelta(days=day)).isoformat()
                                              if day < self.goal.horizon_days else None)
        return out


def optimise(scenario: Any, *, probability: float | None = None, target: int | None = None,
             budget: Budget | None = None, seed: int | None = None, executor: Any = None,
             uncertainty: str = "replications", say: Callable[[str], None] = print) -> OptimiseResult:
    """Least cost s.t. P(target by deadline) ≥ p over ``scenario.optimise``'s levers (see the module), or, with
    ``optimise.objective = "earliest_date"``, the earliest date reached with P ≥ p within ``budget_vnd``
    (`earliest`)."""
    opt = scenario.optimise
    if not opt.levers:
        raise InputError(f"{scenario.file}: no [[optimise.levers]]: nothing to optimise; add an [optimise] table")
    budget = budget or Budget()
    probability = opt.probability if probability is None else probability
    target = opt.target if target is None else target
    seed = scenario.simulation.seed if seed is None else seed
    if target >= len(scenario.targets):
        raise InputError(f"--target {target}: the scenario has {len(scenario.targets)} target(s)")
    space = DecisionSpace(scenario)
    evaluator = Evaluator(space.scenario_of, target, seed, executor=executor, progress=say, uncertainty=uncertainty,
                          to_deadline=opt.objective == "least_cost")
    trace = Trace()
    if opt.objective == "earliest_date":
        early = run_earliest(scenario, space, evaluator, budget, probability, seed, trace, say)
        return OptimiseResult(scenario, space, probability, early.selection, early.guarantee, early.baselines,
                              front(early.found, lambda c: -early.goal.score(c)), trace, evaluator.simulations,
                              uncertainty, early.goal)
    found = tpe_search(space, evaluator, candidates=budget.candidates, reps=budget.reps, batch=budget.batch,
                       goal=Goal(probability), seed=seed, trace=trace, say=say)
    selection = select(found, evaluator, probability=probability, k=budget.contenders, extra=budget.extra,
                       stages=budget.stages, margin=budget.margin, say=say)
    guarantee = fresh_check(evaluator, selection.chosen, probability, budget.fresh, "chosen plan")
    baselines = _baselines(scenario, space, evaluator, budget, probability, seed, trace, guarantee, say)
    return OptimiseResult(scenario, space, probability, selection, guarantee, baselines,
                          front(found, lambda c: c.p), trace, evaluator.simulations, uncertainty, Goal(probability))


def front(candidates: list[Candidate], merit: Callable[[Candidate], float]) -> list[dict[str, Any]]:
    """Non-dominated plans of the search by (cost ↓, merit ↑: P̂, or minus the quantile day), on the search's
    replications."""
    unique = sorted({c.plan.key(): c for c in candidates}.values(), key=lambda c: (c.cost, -merit(c)))
    out: list[dict[str, Any]] = []
    best = -math.inf
    for c in unique:
        if merit(c) > best:
            out.append({"cost_vnd": c.cost, "p": c.p, "n": c.evaluation.n, "plan": c.plan.describe(),
                        "merit": merit(c)})
            best = merit(c)
    return out


def _baselines(scenario: Any, space: DecisionSpace, evaluator: Evaluator, budget: Budget, probability: float,
               seed: int, trace: Trace, guarantee: dict[str, Any], say: Callable[[str], None]) -> dict[str, Any]:
    """The random search at equal simulation budget, the scenario's own plan, the budget spread evenly."""
    found = random_search(space, evaluator, candidates=budget.candidates, reps=budget.reps,
                          goal=Goal(probability), seed=seed, trace=trace, say=say)
    rnd = select(found, evaluator, probability=probability, k=budget.contenders, extra=budget.extra,
                 stages=budget.stages, margin=budget.margin, say=say)
    out = {"random_search": {**fresh_check(evaluator, rnd.chosen, probability, budget.fresh, "random search's plan"),
                             "feasible_in_search": rnd.feasible, "plan": rnd.chosen.plan.describe(),
                             "simulations": budget.candidates * budget.reps + rnd.extra_simulations}}
    own = Plan((), as_written=True)
    out["scenario_plan"] = {**fresh_check(evaluator, Candidate(own, space.cost(own), None), probability,
                                          budget.fresh, "scenario's own plan"), "plan": "the scenario's interventions"}
    even, within = space.even_spread(guarantee["cost_vnd"])
    out["even_spread"] = {**fresh_check(evaluator, Candidate(even, space.cost(even), None), probability,
                                        budget.fresh, "budget spread evenly"),
                          "plan": even.describe(), "within_budget": within}
    for row in out.values():
        row["cost_difference_vnd"] = row["cost_vnd"] - guarantee["cost_vnd"]
        row["p_difference"] = guarantee["p"] - row["p"]
    return out


def plan_rows(space: DecisionSpace, plan: Plan) -> list[dict[str, Any]]:
    """The plan as table rows: lever, units, from–to, effort (intensity), cost."""
    rows = []
    for lever, choice, item in zip([lv for lv, c in zip(space.levers, plan.choices, strict=True) if c.used],
                                   [c for c in plan.choices if c.used], space.interventions(plan), strict=True):
        rows.append({"lever": lever.kind, "name": lever.name_en or lever.name, "name_vi": lever.name,
                     "units": list(choice.units),
                     "from": choice.start.isoformat(), "to": lever.end.isoformat(),
                     "intensity": choice.intensity, "cost_vnd": space.scenario.lever_cost(lever, item)})
    return rows
