"""`[costs]`, `[optimise]` and `motcua optimise` (issue 17): prices, bad tables, a known optimum, infeasibility.

The tiny problem: Lạng Sơn with few agents, one lever (an information campaign, fixed start) whose only free
choice is its intensity, and a target a few weeks out. Cost rises with intensity, so the least-cost plan is the
lowest intensity whose probability reaches p; with common random numbers that intensity is found by bisection
on the simulation itself, and the optimiser must find it within a grid step or two.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import motcua.models.optimise
import pytest
from motcua.models.optimise import Budget, DecisionSpace, Evaluator, LeverChoice, Plan, clopper_pearson_lower
from motcua.models.optimise import optimise as run_optimise

from motcua.errors import ScenarioError
from motcua.scenario import Intervention, LeverCost, load_scenario, price_intervention, scenario_from_dict

# --- costs -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "total"), [("lang-son-2024", 500_000_000), ("son-la-2020-2023", 1_000_000_000),
                                             ("phu-tho-2021", None), ("national", None), ("peak-day", None)])
def test_every_bundled_scenario_keeps_its_total_cost(name: str, total: int | None) -> None:
    scenario = load_scenario(name)
    written = sum(i.cost_vnd for i in scenario.interventions)
    assert scenario.plan_cost() == written  # a written cost_vnd is a lump sum the cost model never re-prices
    if total is not None:
        assert scenario.plan_cost() == total


def test_prices_per_unit_of_effort() -> None:
    item = Intervention(kind="community_digital_team", start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 30),
                        intensity=0.5, capacity_per_day=10)
    month = LeverCost(kind="community_digital_team", basis="unit_month", unit_cost_vnd=20_000_000, setup_vnd=1_000)
    assert price_intervention(item, month, 3) == 3 * (0.5 * 20_000_000 + 1_000)
    day = LeverCost(kind="vneid_drive", basis="unit_day", unit_cost_vnd=2_000_000)
    assert price_intervention(item, day, 1) == 30 * 0.5 * 2_000_000
    guide = Intervention(kind="counter_guidance", start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 7),
                         intensity=0.5, capacity_per_day=8, guidance_minutes=15)
    hour = LeverCost(kind="counter_guidance", basis="officer_hour", unit_cost_vnd=60_000)
    assert price_intervention(guide, hour, 2) == round(2 * 0.5 * 8 * 15 / 60 * 7 * 5 / 7 * 60_000)
    terminal = LeverCost(kind="qr_at_counter", basis="per_unit", unit_cost_vnd=5_000_000)
    assert price_intervention(guide, terminal, 4) == 20_000_000


def test_an_intervention_without_cost_vnd_is_priced_from_the_table() -> None:
    data = load_scenario("lang-son-2024").to_dict(written_only=True)
    del data["interventions"][0]["cost_vnd"]  # the information campaign, 6 June – 31 December, 5 units, 0.6
    scenario = scenario_from_dict(data)
    days = (dt.date(2024, 12, 31) - dt.date(2024, 6, 6)).days + 1
    priced = round(5 * (0.6 * days / 30 * 15_000_000 + 5_000_000))
    assert scenario.intervention_cost(0) == priced
    assert scenario.plan_cost() == priced + 150_000_000 + 50_000_000


# --- bad [optimise] tables ---------------------------------------------------------------------------------------


def _with_lever(**changes: Any) -> dict[str, Any]:
    data = load_scenario("lang-son-2024").to_dict(written_only=True)
    data["optimise"]["levers"][1].update(changes)
    return data


@pytest.mark.parametrize(("changes", "field", "value"), [
    ({"intensity_min": 0.9, "intensity_max": 0.2}, "optimise.levers[1].intensity_max", 0.2),
    ({"start_from": dt.date(2024, 9, 1), "start_to": dt.date(2024, 6, 6)}, "optimise.levers[1].start_to",
     "2024-06-06"),
    ({"kind": "magic_wand"}, "optimise.levers[1].kind", "magic_wand"),
    ({"units": ["cao-loc", "atlantis"]}, "optimise.levers[1].units[1]", "atlantis"),
    ({"kind": "online_fee_reduction"}, "optimise.levers[1].kind", "online_fee_reduction"),  # not priced
])
def test_bad_optimise_tables_name_the_file_field_and_value(changes: dict[str, Any], field: str, value: Any) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(_with_lever(**changes), file="bad.toml")
    assert caught.value.file == "bad.toml" and caught.value.field == field and caught.value.value == value


def test_a_budget_below_the_cheapest_plan_is_refused() -> None:
    data = _with_lever(required=True)  # counter guidance must be used: at least 0.1 from 1 September
    data["optimise"]["budget_vnd"] = 1_000
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data, file="bad.toml")
    assert caught.value.field == "optimise.budget_vnd" and caught.value.value == 1_000
    assert "cheapest plan" in caught.value.problem


def test_the_command_exits_2_naming_file_field_and_value(tmp_path: Path) -> None:
    import tomli_w

    bad = tmp_path / "bad.toml"
    bad.write_text(tomli_w.dumps(_with_lever(intensity_min=0.9, intensity_max=0.2)), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "motcua.cli", "optimise", str(bad)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert "bad.toml" in proc.stderr and "optimise.levers[1].intensity_max" in proc.stderr and "0.2" in proc.stderr


# --- the decision space and the bound ----------------------------------------------------------------------------


def test_a_plan_becomes_a_scenario_that_reads_back_with_its_priced_cost() -> None:
    scenario = load_scenario("lang-son-2024")
    space = DecisionSpace(scenario)
    plan = Plan((LeverChoice("community_digital_team", ("cao-loc",), dt.date(2024, 7, 4), 0.5),
                 LeverChoice("counter_guidance", (), dt.date(2024, 6, 6), 0.1),
                 LeverChoice("information_campaign", ("cao-loc", "bac-son", "huu-lung", "lang-son-city",
                                                      "dept-natural-resources"), dt.date(2024, 6, 6), 0.3)))
    made = space.scenario_of(plan, name="lang-son-2024-optimised")
    kinds = [i.kind for i in made.interventions]
    assert kinds == ["vneid_drive", "community_digital_team", "information_campaign"]  # guidance left out
    assert made.plan_cost() == space.cost(plan)
    assert made.interventions[1].units == ("cao-loc",) and made.interventions[1].start == dt.date(2024, 7, 4)
    assert made.name == "lang-son-2024-optimised"


def test_the_plan_file_loads_from_another_folder_with_the_same_fee_catalogue(tmp_path: Path) -> None:
    from motcua.models.calibration import write_scenario

    scenario = load_scenario("lang-son-2024")
    space = DecisionSpace(scenario)
    plan = Plan(tuple(LeverChoice(lv.kind, ("bac-son",), lv.start_to, lv.intensity_max) for lv in space.levers))
    path = write_scenario(space.scenario_of(plan, name="lang-son-2024-optimised"), tmp_path / "run" / "plan.toml")
    again = load_scenario(path)
    assert again.fee_catalogue_path().exists()
    assert again.plan_cost() == space.cost(plan) > 0
    assert [i.units for i in again.interventions[1:]] == [("bac-son",)] * 3


def test_clopper_pearson_lower_bound() -> None:
    assert clopper_pearson_lower(0, 10) == 0.0
    assert clopper_pearson_lower(10, 10) == pytest.approx(0.05 ** (1 / 10))  # all successes: alpha^(1/n)
    assert 0.6 < clopper_pearson_lower(45, 50) < 0.9


def test_the_package_names() -> None:
    assert sorted(motcua.models.optimise.__all__) == sorted([
        "Budget", "Candidate", "DecisionSpace", "Evaluation", "Evaluator", "LeverChoice", "OptimiseResult", "Plan",
        "Selection", "Trace", "clopper_pearson_lower", "clopper_pearson_upper", "fresh_check", "optimise",
        "plan_rows", "reach_day_task", "select",
    ])


# --- a known optimum, and an infeasible target -------------------------------------------------------------------

TINY_DAYS = 42


def tiny(share: float, days: int = TINY_DAYS) -> Any:
    """Lạng Sơn with 400 agents per unit and no counter queues, one lever (an information campaign from day 0,
    intensity 0.05–1.0): a 42-day replication takes about half a second."""
    data = load_scenario("lang-son-2024").to_dict(written_only=True)
    for unit in data["region"]["units"]:
        unit.pop("counters", None)
    start = data["simulation"]["start"]
    data["simulation"].update(horizon_days=days + 1)
    data["adoption"]["behaviour"]["agents_per_unit"] = 400
    data["targets"] = [{"share": share, "date": start + dt.timedelta(days=days), "units": ["*"]}]
    data["provenance"] = {k: v for k, v in data["provenance"].items()
                          if not k.startswith("targets") and "counters" not in k}
    data["optimise"]["levers"] = [{"kind": "information_campaign", "units": ["*"], "start_from": start,
                                   "start_to": start, "end": start + dt.timedelta(days=days),
                                   "intensity_min": 0.05, "intensity_max": 1.0}]
    data["optimise"]["probability"] = 0.5
    return scenario_from_dict(data)


def _at(scenario: Any, intensity: float) -> Plan:
    lever = scenario.optimise.levers[0]
    return Plan((LeverChoice(lever.kind, tuple(u.id for u in scenario.units), lever.start_from, intensity),))


@pytest.mark.slow
def test_the_optimiser_finds_the_least_sufficient_intensity_found_by_bisection() -> None:
    scenario = tiny(0.14)  # the 7-day share on day 42: ~0.133 at intensity 0.05, ~0.147 at 1.0
    reps = 6
    evaluator = Evaluator(DecisionSpace(scenario).scenario_of, 0, seed=7, executor="serial")
    grid = [round(0.05 + 0.05 * k, 2) for k in range(20)]

    def p_at(i: int) -> float:
        return evaluator.ensure([_at(scenario, grid[i])], reps)[0].p

    assert p_at(0) < 0.5 <= p_at(len(grid) - 1), "the tiny problem must straddle p; retune `share`"
    low, high = 0, len(grid) - 1  # p(low) < 0.5 <= p(high)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if p_at(mid) < 0.5 else (low, mid)
    budget = Budget(candidates=10, reps=reps, batch=5, contenders=3, extra=0, stages=1, fresh=4, margin=0.0)
    result = run_optimise(scenario, budget=budget, seed=7, executor="serial", say=lambda _m: None)
    chosen = result.selection.chosen.plan.choices[0].intensity
    assert result.feasible
    assert abs(chosen - grid[high]) <= 0.1 + 1e-9, (chosen, grid[high])


def test_an_infeasible_target_is_reported_with_the_best_probability_found() -> None:
    scenario = tiny(0.45, days=28)  # 45% in four weeks from ~12%
    budget = Budget(candidates=4, reps=3, batch=4, contenders=2, extra=0, stages=1, fresh=3, margin=0.0)
    result = run_optimise(scenario, budget=budget, seed=3, executor="serial", say=lambda _m: None)
    assert not result.feasible
    summary = result.summary()
    assert summary["search_estimate"]["p"] == max(r["p"] for r in summary["trace"] if r["source"] == "optuna")
    assert summary["guarantee"]["holds"] is False


# --- parameter uncertainty ---------------------------------------------------------------------------------------


def test_parameter_draws_are_common_to_plans_and_fresh_on_the_fresh_streams() -> None:
    from motcua.typed_config import get_path

    scenario = tiny(0.14, days=14)
    evaluator = Evaluator(DecisionSpace(scenario).scenario_of, 0, seed=5, executor="serial", uncertainty="parameters")
    low, high = _at(scenario, 0.1), _at(scenario, 0.9)
    factor = evaluator.draws(low).factors[0]
    assert evaluator.factors(low) > 0

    def value(plan: Plan, i: int, fresh: bool = False) -> Any:
        return get_path(evaluator.replica(plan, i, fresh=fresh).to_dict(), factor.path)

    assert value(low, 0) == value(high, 0)  # common numbers: the same draw for every plan
    assert value(low, 0) != value(low, 1)  # each replication its own draw
    assert value(low, 0, fresh=True) != value(low, 0)  # the guarantee's draws are not the search's
    held = Evaluator(DecisionSpace(scenario).scenario_of, 0, seed=5, executor="serial")
    assert held.draws(low) is None and held.replica(low, 3) is held.scenario(low)


def test_the_guarantee_records_its_parameter_draws() -> None:
    scenario = tiny(0.14, days=14)
    budget = Budget(candidates=2, reps=2, batch=2, contenders=1, extra=0, stages=1, fresh=3, margin=0.0)
    result = run_optimise(scenario, budget=budget, seed=5, executor="serial", uncertainty="parameters",
                          say=lambda _m: None)
    summary = result.summary()
    assert summary["uncertainty"] == "parameters and replications"
    g = summary["guarantee"]
    assert g["n"] == g["parameter_draws"] == 3 and g["factors"] > 0
    assert g["uncertainty"] == "parameters and replications"
    assert all(b["parameter_draws"] == 3 for b in summary["baselines"].values())
    held = run_optimise(scenario, budget=budget, seed=5, executor="serial", say=lambda _m: None).summary()
    assert held["uncertainty"] == "replications only" and held["guarantee"]["parameter_draws"] == 0


# --- the guarantee is honest -------------------------------------------------------------------------------------


class BernoulliEvaluator:
    """Stands in for `Evaluator`: plan k succeeds with known probability P_OF[k] per replication; the search's
    replications and the fresh streams come from different generators (as the real ones do)."""

    uncertainty = "replications"

    def __init__(self, p_of: dict[Any, float], seed: int) -> None:
        from types import SimpleNamespace

        import numpy as np
        from motcua.models.optimise import Evaluation

        self.p_of, self.simulations, self.cache = p_of, 0, {}
        self.search_rng, self.fresh_rng = np.random.default_rng([seed, 1]), np.random.default_rng([seed, 2])
        self.new = lambda: Evaluation([], 0)
        self.start = SimpleNamespace(simulation=SimpleNamespace(start=dt.date(2024, 1, 1)))

    def _days(self, plan: Any, n: int, rng: Any) -> list[float]:
        self.simulations += n
        return [0.0 if hit else float("inf") for hit in rng.random(n) < self.p_of[plan.key()]]

    def ensure(self, plans: Any, n: Any, *, label: str = "") -> list[Any]:
        wanted = [n] * len(plans) if isinstance(n, int) else list(n)
        for plan, n_plan in zip(plans, wanted, strict=True):
            ev = self.cache.setdefault(plan.key(), self.new())
            ev.reach_days.extend(self._days(plan, max(0, n_plan - ev.n), self.search_rng))
        return [self.cache[plan.key()] for plan in plans]

    def fresh(self, plan: Any, n: int, *, label: str = "") -> Any:
        from motcua.models.optimise import Evaluation

        return Evaluation(self._days(plan, n, self.fresh_rng), 0)

    def scenario(self, plan: Any) -> Any:
        return self.start

    def factors(self, plan: Any) -> int:
        return 0


def test_the_reported_lower_bound_holds_at_its_stated_rate() -> None:
    """200 repetitions of search estimates → selection → fresh check on 8 plans of known p (cost rising with
    p): the chosen plan's one-sided 95% lower bound must lie at or below its true p in ≥ 90% of them (a binomial
    count at 0.95 falls below 180/200 with probability < 0.001). The search's own estimate of the chosen plan,
    biased upwards by the choice (the winner's curse), is what the fresh streams protect against."""
    from motcua.models.optimise import Candidate, fresh_check, select

    plans = [Plan((LeverChoice("information_campaign", ("x",), dt.date(2024, 1, 1), k / 10),)) for k in range(8)]
    p_of = {plan.key(): 0.55 + 0.05 * k for k, plan in enumerate(plans)}
    held, optimistic, repetitions = 0, 0, 200
    for seed in range(repetitions):
        evaluator = BernoulliEvaluator(p_of, seed)
        found = [Candidate(plan, 100 * (k + 1), ev)
                 for k, (plan, ev) in enumerate(zip(plans, evaluator.ensure(plans, 6), strict=True))]
        chosen = select(found, evaluator, probability=0.8, k=3, extra=24, stages=2, margin=0.0,
                        say=lambda _m: None).chosen
        g = fresh_check(evaluator, chosen, 0.8, 40, "chosen")
        true_p = p_of[chosen.plan.key()]
        held += g["lower_bound"] <= true_p
        optimistic += clopper_pearson_lower(chosen.evaluation.successes, chosen.evaluation.n) > true_p
    assert held >= 0.90 * repetitions, (held, optimistic)
    assert optimistic > repetitions - held, (held, optimistic)  # the search's own bound fails more often



@pytest.mark.slow
def test_the_lower_bound_holds_on_the_real_simulation() -> None:
    """The same check on the coupled model itself (about 340 replications of 14 days, ~35 s): one plan's P of
    reaching 13% in two weeks (~0.6) estimated from 100 replications, then 20 runs with other seeds each report a
    one-sided 95% bound from 12 fresh replications; at least 17 of 20 must lie at or below the estimate (a count at
    0.95 falls below that with probability ~1.6%; the estimate's own error, ±0.05, is far below the bounds'
    distance from it, so this checks the bound's direction and streams, not its exact rate — the Bernoulli test
    above does that)."""
    from motcua.models.optimise import Candidate, fresh_check

    scenario = tiny(0.13, days=14)
    plan = _at(scenario, 1.0)
    truth = Evaluator(DecisionSpace(scenario).scenario_of, 0, seed=1000, executor="serial").ensure([plan], 100)[0].p
    assert 0.3 < truth < 0.9, "retune the share: the check needs a probability away from 0 and 1"
    held = 0
    for seed in range(20):
        evaluator = Evaluator(DecisionSpace(scenario).scenario_of, 0, seed=seed, executor="serial")
        g = fresh_check(evaluator, Candidate(plan, 0, None), 0.5, 12, "check")
        held += g["lower_bound"] <= truth
    assert held >= 17, (held, truth)

# --- the earliest-date objective ---------------------------------------------------------------------------------


def staggered(budget_vnd: int | None) -> Any:
    """The tiny problem with the campaign at full intensity and a start on any of five weeks (day 0 … 28), the
    earliest-date objective over the 42-day horizon: an earlier start costs more (it runs longer) and reaches 14%
    sooner (days ~31, ~33, ~37, ~41, never at p = 0.5), so within a budget that stops at week 2 the answer is
    week 2's start."""
    data = tiny(0.14).to_dict(written_only=True)
    start = data["simulation"]["start"]
    data["optimise"]["levers"][0].update(start_to=start + dt.timedelta(days=28), intensity_min=1.0,
                                         intensity_max=1.0)
    data["optimise"]["objective"] = "earliest_date"
    if budget_vnd is not None:
        data["optimise"]["budget_vnd"] = budget_vnd
    return scenario_from_dict(data, file="staggered.toml")


def test_earliest_date_needs_a_budget() -> None:
    with pytest.raises(ScenarioError) as caught:
        staggered(None)
    assert caught.value.file == "staggered.toml" and caught.value.field == "optimise.budget_vnd"
    assert caught.value.value is None and "earliest_date" in caught.value.problem


def test_the_earliest_date_within_the_budget_is_the_earliest_affordable_start() -> None:
    from motcua.models.optimise.evaluate import quantile_day

    scenario = staggered(300_000_000)  # weeks 0 and 1 cost 332.5 and 315 million: over the budget
    space = DecisionSpace(scenario)
    start = scenario.simulation.start
    budget = Budget(candidates=6, reps=3, batch=3, contenders=2, extra=0, stages=1, fresh=3, margin=0.0)
    result = run_optimise(scenario, budget=budget, probability=0.5, seed=7, executor="serial", say=lambda _m: None)
    summary = result.summary()
    chosen = result.selection.chosen
    assert summary["objective"] == "earliest_date" and result.feasible
    assert chosen.plan.choices[0].start == start + dt.timedelta(days=14)
    assert chosen.cost <= 300_000_000 == summary["budget_vnd"]
    assert all(row["cost"] <= 300_000_000 for row in summary["trace"])  # nothing over the budget simulated
    week = [Plan((LeverChoice("information_campaign", tuple(u.id for u in scenario.units),
                              start + dt.timedelta(days=7 * w), 1.0),)) for w in range(5)]
    assert space.cost(week[1]) > 300_000_000 >= space.cost(week[2])  # the setup the answer rests on
    g = summary["guarantee"]
    day = quantile_day(chosen.evaluation.reach_days, 0.5)
    assert g["by_date"] == summary["search_estimate"]["date"] == (start + dt.timedelta(days=day)).isoformat()
    assert g["n"] == 3 and 0 <= g["lower_bound"] <= g["p"]
    assert set(summary["baselines"]) == {"random_search", "scenario_plan", "even_spread"}
    even = summary["baselines"]["even_spread"]  # every lever from its earliest start: over this budget, and said
    assert even["within_budget"] is False and "days_later" in even and "quantile_date" in even
    from motcua.commands.optimise import describe

    text = describe({**summary, "scenario": "staggered", "timing": {"wall_s": 1.0}})
    assert "earliest date reached with probability >= 0.5 within 300,000,000 VND" in text
    assert f"P̂(reached by {g['by_date']})" in text and "its own date" in text
    from motcua.report.optimisation import render_optimise

    page = render_optimise(summary, "staggered", {}, "en")
    assert "the target by " + g["by_date"] in page and "Date the target" not in page
    assert "<td>information_campaign</td>" in page  # the plan table: its one lever (no name given)


def test_the_command_refuses_earliest_date_without_a_budget(tmp_path: Path) -> None:
    import tomli_w

    data = staggered(300_000_000).to_dict(written_only=True)
    del data["optimise"]["budget_vnd"]
    data["optimise"]["objective"] = "least_cost"
    scenario = tmp_path / "no-budget.toml"
    scenario.write_text(tomli_w.dumps(data), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "motcua.cli", "optimise", str(scenario), "--objective",
                           "earliest-date"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "no-budget.toml" in proc.stderr and "optimise.budget_vnd" in proc.stderr, proc.stderr


# --- the report section ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_summary() -> dict[str, Any]:
    """A least-cost run of the tiny problem with a few replications (seconds), as summary.json holds it."""
    scenario = tiny(0.14, days=14)
    budget = Budget(candidates=3, reps=2, batch=3, contenders=2, extra=2, stages=1, fresh=3, margin=0.0)
    result = run_optimise(scenario, budget=budget, seed=5, executor="serial", say=lambda _m: None)
    return {**result.summary(), "scenario": scenario.name, "timing": {"wall_s": 1234.5}}


@pytest.mark.parametrize(("lang", "heading", "cost_total", "verdict"), [
    ("vi", "Phương án tối ưu và mức bảo đảm", "{:,}".format, "mức bảo đảm"),
    ("en", "Optimised plan and its guarantee", "{:,}".format, "the guarantee"),
])
def test_the_report_section_renders_in_both_languages(tiny_summary: dict[str, Any], tmp_path: Path, lang: str,
                                                      heading: str, cost_total: Any, verdict: str) -> None:
    from motcua.report.optimisation import write_optimise_report

    scenario = tiny(0.14, days=14)
    page = write_optimise_report(tiny_summary, scenario, tmp_path, lang).read_text(encoding="utf-8")
    assert (tmp_path / "charts" / "optimise_front.png").stat().st_size > 0
    assert '<section id="optimise">' in page and heading in page
    assert 'src="data:image/png;base64,' in page  # the front chart, embedded
    total = cost_total(tiny_summary["cost_vnd"])
    assert (total.replace(",", ".") if lang == "vi" else total) in page  # the report's number format
    assert verdict in page and f"{tiny_summary['guarantee']['successes']}/{tiny_summary['guarantee']['n']}" in page
    wall = "1.234,5" if lang == "vi" else "1,234.5"
    assert wall in page and page.count("<tr>") >= 1 + len(tiny_summary["plan"]) + 1 + 3  # plan, trace, baselines
    other = "Optimised plan" if lang == "vi" else "Phương án tối ưu"
    assert other not in page


def test_the_command_writes_the_plan_and_the_report_and_says_what_it_covers(tmp_path: Path) -> None:
    import json

    from motcua.models.calibration import write_scenario

    scenario = write_scenario(tiny(0.14, days=14), tmp_path / "tiny.toml")
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "motcua.cli", "optimise", str(scenario), "--quick", "--candidates",
                           "2", "--replications", "1", "--fresh", "2", "--workers", "1", "--lang", "en", "--out",
                           str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 2), proc.stderr
    assert "probabilities cover parameters and replications" in proc.stdout  # the default, as simulate's
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["uncertainty"] == "parameters and replications" and summary["guarantee"]["parameter_draws"] == 2
    assert "Optimised plan and its guarantee" in (out / "report.html").read_text(encoding="utf-8")
    assert load_scenario(out / "plan.toml").name.endswith("-optimised")
