"""`optimise`: search, selection, the guarantee on fresh streams, and the baselines, in one run.

*Scenario.* "The least-cost plan that reaches 45% by 31 December 2024 with probability ≥ 0.8": TPE proposes
plans (`search`), the few cheapest that might qualify get extra replications (`select`), the chosen one is
re-run on streams the search never saw and gets a one-sided 95% Clopper–Pearson lower bound on its
probability (the guarantee holds when that bound reaches p). In the same run, at the same simulation budget
as search + selection, a random search does the same; the scenario's own plan and the chosen budget spread
evenly over every allowed lever and unit are run on the same fresh streams. Every simulation is a
replication of the coupled model (`models.replications`' entry point) on the given executor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from motcua.models.optimise.evaluate import Evaluator, clopper_pearson_lower, date_band
from motcua.models.optimise.search import Candidate, Trace, random_search, tpe_search
from motcua.models.optimise.select import Selection, select
from motcua.models.optimise.space import DecisionSpace, LeverChoice, Plan

from motcua.errors import InputError

CONFIDENCE = 0.95


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

    @property
    def feasible(self) -> bool:
        return self.selection.feasible

    def plan_scenario(self, name: str) -> Any:
        """The chosen plan as a new scenario (full horizon, every target), for `simulate` and `compare`."""
        return self.space.scenario_of(self.selection.chosen.plan, name=name,
                                      note=f" for P(target {self.scenario.optimise.target}) >= {self.probability}")

    def summary(self) -> dict[str, Any]:
        chosen = self.selection.chosen
        return {
            "objective": "least_cost", "probability": self.probability, "feasible": self.feasible,
            "plan": plan_rows(self.space, chosen.plan), "cost_vnd": chosen.cost,
            "search_estimate": {"p": chosen.p, "n": chosen.evaluation.n},
            "guarantee": self.guarantee, "baselines": self.baselines, "front": self.front,
            "trace": self.trace.rows, "simulations": self.simulations,
        }


def optimise(scenario: Any, *, probability: float | None = None, target: int | None = None,
             budget: Budget | None = None, seed: int | None = None, executor: Any = None,
             uncertainty: bool = False, say: Callable[[str], None] = print) -> OptimiseResult:
    """Least cost s.t. P(target by deadline) ≥ p over ``scenario.optimise``'s levers (see the module)."""
    opt = scenario.optimise
    if not opt.levers:
        raise InputError(f"{scenario.file}: no [[optimise.levers]]: nothing to optimise; add an [optimise] table")
    if opt.objective != "least_cost":
        raise InputError(f"{scenario.file}: optimise.objective = {opt.objective!r}: only 'least_cost' is "
                         "implemented so far (earliest_date is planned)")
    if uncertainty:
        raise InputError("--uncertainty: parameter uncertainty (models/uncertainty.py) is not on this branch yet")
    budget = budget or Budget()
    probability = opt.probability if probability is None else probability
    target = opt.target if target is None else target
    seed = scenario.simulation.seed if seed is None else seed
    if target >= len(scenario.targets):
        raise InputError(f"--target {target}: the scenario has {len(scenario.targets)} target(s)")
    space = DecisionSpace(scenario)
    evaluator = Evaluator(space.scenario_of, target, seed, executor=executor, progress=say)
    trace = Trace()
    found = tpe_search(space, evaluator, candidates=budget.candidates, reps=budget.reps, batch=budget.batch,
                       probability=probability, seed=seed, trace=trace, say=say)
    selection = select(found, evaluator, probability=probability, k=budget.contenders, extra=budget.extra,
                       stages=budget.stages, margin=budget.margin, say=say)
    guarantee = fresh_check(evaluator, selection.chosen, probability, budget.fresh, "chosen plan")
    baselines = _baselines(scenario, space, evaluator, budget, probability, seed, trace, guarantee, say)
    return OptimiseResult(scenario, space, probability, selection, guarantee, baselines,
                          front(found), trace, evaluator.simulations)


def fresh_check(evaluator: Evaluator, cand: Candidate, probability: float, n: int, label: str) -> dict[str, Any]:
    """A plan on `n` fresh streams: P̂, its one-sided 95% Clopper–Pearson lower bound, date band, verdict."""
    ev = evaluator.fresh(cand.plan, n, label=f"{label} on fresh streams")
    lower = clopper_pearson_lower(ev.successes, ev.n, CONFIDENCE)
    start = evaluator.scenario(cand.plan).simulation.start
    return {"cost_vnd": cand.cost, "n": ev.n, "successes": ev.successes, "p": ev.p,
            "lower_bound": lower, "confidence": CONFIDENCE, "holds": lower >= probability,
            "reach_date": date_band(start, ev.reach_days)}


def front(candidates: list[Candidate]) -> list[dict[str, Any]]:
    """Non-dominated plans of the search by (cost ↓, P̂ ↑), on the search's replications."""
    unique = sorted({c.plan.key(): c for c in candidates}.values(), key=lambda c: (c.cost, -c.p))
    out: list[dict[str, Any]] = []
    best_p = -1.0
    for c in unique:
        if c.p > best_p:
            out.append({"cost_vnd": c.cost, "p": c.p, "n": c.evaluation.n, "plan": c.plan.describe()})
            best_p = c.p
    return out


def _baselines(scenario: Any, space: DecisionSpace, evaluator: Evaluator, budget: Budget, probability: float,
               seed: int, trace: Trace, guarantee: dict[str, Any], say: Callable[[str], None]) -> dict[str, Any]:
    """The random search at equal simulation budget, the scenario's own plan, the budget spread evenly."""
    found = random_search(space, evaluator, candidates=budget.candidates, reps=budget.reps,
                          probability=probability, seed=seed, trace=trace, say=say)
    rnd = select(found, evaluator, probability=probability, k=budget.contenders, extra=budget.extra,
                 stages=budget.stages, margin=budget.margin, say=say)
    out = {"random_search": {**fresh_check(evaluator, rnd.chosen, probability, budget.fresh, "random search's plan"),
                             "feasible_in_search": rnd.feasible, "plan": rnd.chosen.plan.describe(),
                             "simulations": budget.candidates * budget.reps + rnd.extra_simulations}}
    own = Plan((), as_written=True)
    out["scenario_plan"] = {**fresh_check(evaluator, Candidate(own, space.cost(own), None), probability,
                                          budget.fresh, "scenario's own plan"), "plan": "the scenario's interventions"}
    even, within = _even_spread(space, guarantee["cost_vnd"])
    out["even_spread"] = {**fresh_check(evaluator, Candidate(even, space.cost(even), None), probability,
                                        budget.fresh, "budget spread evenly"),
                          "plan": even.describe(), "within_budget": within}
    for row in out.values():
        row["cost_difference_vnd"] = row["cost_vnd"] - guarantee["cost_vnd"]
        row["p_difference"] = guarantee["p"] - row["p"]
    return out


def _even_spread(space: DecisionSpace, budget_vnd: int) -> tuple[Plan, bool]:
    """Every lever on every allowed unit from its earliest start, at one common fraction f of its intensity
    range, f the largest (bisection) whose cost stays within `budget_vnd`; (plan at f = 0, False) if even
    that costs more."""

    def plan_at(f: float) -> Plan:
        return Plan(tuple(LeverChoice(lv.kind, space.lever_units(lv), lv.start_from,
                                      lv.intensity_min + f * (lv.intensity_max - lv.intensity_min))
                          for lv in space.levers))

    if space.cost(plan_at(0.0)) > budget_vnd:
        return plan_at(0.0), False
    low, high = 0.0, 1.0
    if space.cost(plan_at(1.0)) <= budget_vnd:
        return plan_at(1.0), True
    for _ in range(30):
        mid = (low + high) / 2
        low, high = (mid, high) if space.cost(plan_at(mid)) <= budget_vnd else (low, mid)
    return plan_at(low), True


def plan_rows(space: DecisionSpace, plan: Plan) -> list[dict[str, Any]]:
    """The plan as table rows: lever, units, from–to, effort (intensity), cost."""
    rows = []
    for lever, choice, item in zip([lv for lv, c in zip(space.levers, plan.choices, strict=True) if c.used],
                                   [c for c in plan.choices if c.used], space.interventions(plan), strict=True):
        rows.append({"lever": lever.kind, "name": lever.name_en or lever.name, "units": list(choice.units),
                     "from": choice.start.isoformat(), "to": lever.end.isoformat(),
                     "intensity": choice.intensity, "cost_vnd": space.scenario.lever_cost(lever, item)})
    return rows
