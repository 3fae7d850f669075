"""`motcua optimise`: the least-cost plan that reaches a target by its deadline with a stated probability.

Modules, from the top (import-linter keeps them layered): `run` (the whole run: search, selection, guarantee,
baselines), `select` (ranking and selection on the few best), `search` (Optuna's TPE and the random-search
baseline), `evaluate` (plans simulated under common random numbers; Clopper–Pearson bounds) and `space`
(the decision space of ``[optimise]``: plans, their cost, the scenarios they make). docs/decisions.md says
why this method.
"""

from motcua.models.optimise.evaluate import Evaluation, Evaluator, clopper_pearson_lower, reach_day_task
from motcua.models.optimise.run import Budget, OptimiseResult, fresh_check, optimise, plan_rows
from motcua.models.optimise.search import Candidate, Trace
from motcua.models.optimise.select import Selection, clopper_pearson_upper, select
from motcua.models.optimise.space import DecisionSpace, LeverChoice, Plan

__all__ = [
    "Budget",
    "Candidate",
    "DecisionSpace",
    "Evaluation",
    "Evaluator",
    "LeverChoice",
    "OptimiseResult",
    "Plan",
    "Selection",
    "Trace",
    "clopper_pearson_lower",
    "clopper_pearson_upper",
    "fresh_check",
    "optimise",
    "plan_rows",
    "reach_day_task",
    "select",
]
