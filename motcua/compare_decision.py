"""`motcua compare` as a decision: what a plan adds over the baseline, at what cost, and who contributes what.

*Scenario.* A planner weighs "QR at the counter and community teams from 1 July (+480 M VND)" against
the province's current campaign. For each plan against the baseline this module gives paired
differences (replication i of both ran on the same random numbers, see `models.replications`) of the
final share, the date the target is reached (days) and the probability of meeting it, the added cost
(VND, integers: the interventions' ``cost_vnd``) and the cost per percentage point gained. The cost per
point is given only when the effect's interval excludes zero: otherwise the effect is "not
distinguishable from zero" and a cost per point would divide by noise.

Contributions of the interventions a plan adds are not additive (a campaign worth 5.8 points alone
can be worth 9.5 in another plan). `contributions` therefore reports each one alone, each one left out
of the full plan, and their Shapley shares of the plan's effect: the mean of each intervention's
marginal effect over every order of adding them, computed exactly from the 2^n subsets (n ≤
`MAX_SHAPLEY`) run under common random numbers with few replications.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from motcua.models.replications import Estimate, paired_difference, proportion_ci

MAX_SHAPLEY = 6
"""Exact Shapley shares for up to 6 added interventions (2^6 = 64 subsets)."""
CONTRIBUTION_REPLICATIONS = 4
"""Replications of each subset of the added interventions (common random numbers with the compare)."""
NOT_DISTINGUISHABLE = "not distinguishable from zero"


def includes_zero(est: dict[str, Any]) -> bool:
    """True when the interval [low, high] of a JSON estimate holds zero (or cannot be computed)."""
    low, high = est.get("low"), est.get("high")
    return low is None or high is None or low <= 0 <= high


def plan_cost(facts: Any) -> int:
    """Total cost in VND of a scenario's interventions (``cost_vnd``)."""
    return int(sum(cost for _, cost in facts.costs))


def cost_per_point(added_cost: int, effect: dict[str, Any]) -> int | str | None:
    """VND per percentage point gained: an integer, `NOT_DISTINGUISHABLE` when the effect's interval holds
    zero, None when the plan loses share (a cost per point lost is no decision figure)."""
    if includes_zero(effect):
        return NOT_DISTINGUISHABLE
    if effect["mean"] <= 0:
        return None
    return round(added_cost / (100 * effect["mean"]))


def reach_days_difference(a: np.ndarray, b: np.ndarray, days: int) -> dict[str, Any]:
    """Paired difference b − a of the day the target is reached, in days (negative: sooner).

    A replication that never reaches the target counts as reaching it the day after the horizon, so
    the difference is then a bound; ``censored`` says in how many replications of either plan.
    """
    cap = float(days)
    a_c, b_c = np.minimum(a, cap), np.minimum(b, cap)
    out = paired_difference(a_c, b_c).to_json(2)
    out["censored"] = int(np.sum(~np.isfinite(a) | ~np.isfinite(b)))
    out["neither"] = int(np.sum(~np.isfinite(a) & ~np.isfinite(b)))  # neither plan reaches it: nothing to tell
    return out


def decision(a_fig: dict[str, np.ndarray], b_fig: dict[str, np.ndarray], a_facts: Any, b_facts: Any,
             days: int) -> dict[str, Any]:
    """The decision figures of plan b against baseline a (see the module docstring)."""
    effect = paired_difference(a_fig["share_final"][:, 0], b_fig["share_final"][:, 0]).to_json()
    added = plan_cost(b_facts) - plan_cost(a_facts)
    out: dict[str, Any] = {"final_share_points": _points(effect), "added_cost_vnd": added,
                           "cost_per_point_vnd": cost_per_point(added, effect),
                           "effect_distinguishable": not includes_zero(effect)}
    if a_facts.targets and b_facts.targets:
        out["reach_days"] = reach_days_difference(a_fig["target0_reach_day"], b_fig["target0_reach_day"], days)
        pa, pb = a_fig["target0_reached"], b_fig["target0_reached"]
        out["probability_by_deadline"] = {
            "baseline": proportion_ci(int(pa.sum()), pa.size).to_json(),
            "plan": proportion_ci(int(pb.sum()), pb.size).to_json(),
            "difference": paired_difference(pa, pb).to_json()}
    return out


def _points(est: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if v is None else round(100 * v, 4)) if k != "n" else v for k, v in est.items()}


# ---------------------------------------------------------------------------------------------
# Contributions of the interventions a plan adds
# ---------------------------------------------------------------------------------------------
def added_interventions(baseline: Any, plan: Any) -> list[int] | None:
    """Indices of the plan's interventions that the baseline lacks; None when the plan also drops or
    changes some of the baseline's (the subsets of the plan would then not start from the baseline)."""
    base = [i.to_dict() if hasattr(i, "to_dict") else repr(i) for i in baseline.interventions]
    mine = [i.to_dict() if hasattr(i, "to_dict") else repr(i) for i in plan.interventions]
    if any(b not in mine for b in base):
        return None
    return [k for k, m in enumerate(mine) if m not in base]


def shapley(values: dict[frozenset[int], float], players: Sequence[int]) -> dict[int, float]:
    """Exact Shapley values of `players` for the game `values` (every subset's worth, ∅ included)."""
    n = len(players)
    out = {}
    for i in players:
        others = [p for p in players if p != i]
        total = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for subset in itertools.combinations(others, size):
                s = frozenset(subset)
                total += weight * (values[s | {i}] - values[s])
        out[i] = total
    return out


def contributions(baseline: Any, plan: Any, run: Callable[[list[Any]], list[np.ndarray]]) -> dict[str, Any]:
    """Each added intervention alone, left out, and its Shapley share of the plan's effect on the final share.

    `run(scenarios)` runs the scenarios under common random numbers and gives, per scenario, the final
    all-units share of each replication. Subsets are the plan keeping the baseline's interventions and
    some of the added ones.
    """
    from motcua.models.scenario_edit import keep_entries

    added = added_interventions(baseline, plan)
    if added is None:
        return {"computed": False, "reason": "the plan drops or changes some of the baseline's interventions"}
    if not added:
        return {"computed": False, "reason": "the plan adds no intervention"}
    if len(added) > MAX_SHAPLEY:
        return {"computed": False, "reason": f"{len(added)} added interventions: exact Shapley shares only "
                                             f"for up to {MAX_SHAPLEY}"}
    subsets = [frozenset(c) for size in range(len(added) + 1) for c in itertools.combinations(added, size)]
    scenarios = [keep_entries(plan, "interventions",
                              [k not in added or k in s for k in range(len(plan.interventions))]) for s in subsets]
    finals = run(scenarios)
    empty = finals[0]
    values = {s: float(np.mean(f - empty)) for s, f in zip(subsets, finals, strict=True)}
    full = frozenset(added)
    shares = shapley(values, added)
    rows = []
    for k in added:
        rows.append({"name": plan.interventions[k].name,
                     "name_en": getattr(plan.interventions[k], "name_en", "") or plan.interventions[k].name,
                     "cost_vnd": int(getattr(plan.interventions[k], "cost_vnd", 0) or 0),
                     "alone_points": round(100 * values[frozenset({k})], 3),
                     "left_out_points": round(100 * (values[full] - values[full - {k}]), 3),
                     "shapley_points": round(100 * shares[k], 3)})
    alone = sum(r["alone_points"] for r in rows)
    left_out = sum(r["left_out_points"] for r in rows)
    return {"computed": True, "replications": len(empty), "subsets": len(subsets),
            "plan_effect_points": round(100 * values[full], 3), "interventions": rows,
            "sum_alone_points": round(alone, 3), "sum_left_out_points": round(left_out, 3),
            "note": (f"Effects do not add up: alone they sum to {alone:+.2f} points, each left out of the plan "
                     f"to {left_out:+.2f}, while the plan gains {100 * values[full]:+.2f}; Shapley shares split "
                     f"the plan's effect exactly, averaging each intervention's effect over every order of "
                     f"adding them ({len(subsets)} subsets, {len(empty)} replications each, common random "
                     "numbers).")}


def describe_decision(diff: dict[str, Any]) -> list[str]:
    """Console lines of one plan's decision figures."""
    d = diff["decision"]
    eff = d["final_share_points"]
    lines = [f"{diff['scenario']} vs {diff['baseline']}: final share {_band(eff, 'pts')}"
             + ("" if d["effect_distinguishable"] else f" — {NOT_DISTINGUISHABLE}")]
    if "reach_days" in d:
        r = d["reach_days"]
        if r.get("neither") == r.get("n"):
            lines.append("  date reached: not within the horizon in any replication of either plan")
        else:
            note = (f" ({r['censored']} replication(s) not reaching it count as the horizon's end)"
                    if r["censored"] else "")
            lines.append(f"  date reached: {_band(r, 'days', 1)}{note}")
        p = d["probability_by_deadline"]
        lines.append(f"  probability of meeting the target: baseline {_band(p['baseline'], '%', 0, 100)}, plan "
                     f"{_band(p['plan'], '%', 0, 100)}, difference {_band(p['difference'], 'pts', 1, 100)}")
    cpp = d["cost_per_point_vnd"]
    cpp_text = (cpp if isinstance(cpp, str) else "no gain" if cpp is None else f"{cpp:,} VND per point")
    lines.append(f"  added cost {d['added_cost_vnd']:+,} VND; cost per point gained: {cpp_text}")
    c = diff.get("contributions")
    if c and c.get("computed"):
        lines.append("  contributions (points; alone / left out of the plan / Shapley share):")
        for row in c["interventions"]:
            lines.append(f"    {row['name_en']}: {row['alone_points']:+.2f} / {row['left_out_points']:+.2f} / "
                         f"{row['shapley_points']:+.2f}")
        lines.append("  " + c["note"])
    elif c:
        lines.append(f"  contributions not computed: {c['reason']}")
    return lines


def _band(est: dict[str, Any], unit: str, digits: int = 2, scale: float = 1.0) -> str:
    def f(v: Any) -> str:
        return "n/a" if v is None else f"{scale * v:+.{digits}f}" if unit != "%" else f"{scale * v:.{digits}f}"

    text = f"{f(est['mean'])} {unit}".replace(" %", "%")
    if est.get("low") is None:
        return text
    return f"{text} (95% CI {f(est['low'])} to {f(est['high'])})"


__all__ = ["CONTRIBUTION_REPLICATIONS", "MAX_SHAPLEY", "NOT_DISTINGUISHABLE", "Estimate", "added_interventions",
           "contributions", "cost_per_point", "decision", "describe_decision", "includes_zero", "plan_cost",
           "reach_days_difference", "shapley"]
