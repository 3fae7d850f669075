"""Issue 20: counters as the law runs them, checked against theory within the run's own sampling error.

- a non-pre-emptive two-class priority M/M/c against Cobham's formula (`priority_mmc_waits`);
- state-dependent balking (join probability exp(−n/θ)) against the exact birth–death chain (`balking_chain`);
- patience laws keep their mean and CV; every counter field of a scenario reaches `CounterParams`.
Each check passes when the closed form lies within the replications' 95% interval widened by 1%
(as `motcua validate erlang-c` decides), so a wrong law fails while the noise of a right one does not.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from motcua.models.counters import CounterParams, simulate_mmc
from motcua.models.counters.arrivals import patience_draw
from motcua.models.replications import mean_ci, spawn_seeds
from motcua.models.theory import balking_chain, mmc_mean_wait, priority_mmc_waits


def _within(values: list[float], theory: float, slack: float = 0.01) -> tuple[bool, str]:
    interval = mean_ci(values)
    half = (interval.high - interval.low) / 2
    mean = float(np.mean(values))
    ok = abs(mean - theory) <= half + slack * abs(theory)
    return ok, f"model {mean:.4f} ± {half:.4f} (95% CI), theory {theory:.4f}"


def test_cobham_two_class_priority_mmc():
    servers, service_rate, share, rate = 3, 1.0, 0.25, 2.4
    runs = [simulate_mmc(servers, rate, service_rate, 40_000, np.random.default_rng(seed), priority_share=share)
            for seed in spawn_seeds(2020, 8)]
    high, low = priority_mmc_waits(servers, [rate * share, rate * (1 - share)], service_rate)
    for cls, theory in ((1, high), (0, low)):
        ok, text = _within([run.mean_wait_of(cls) for run in runs], theory)
        assert ok, f"class {cls}: {text}"
    # priority does bite: the ordinary class waits longer than under FCFS, the priority class far less
    fcfs = mmc_mean_wait(servers, rate, service_rate)
    assert np.mean([r.mean_wait_of(1) for r in runs]) < 0.5 * fcfs < fcfs < np.mean([r.mean_wait_of(0) for r in runs])


def test_cobham_conserves_the_fcfs_mean_wait():
    high, low = priority_mmc_waits(3, [0.5, 2.0], 1.0)
    assert (0.5 * high + 2.0 * low) / 2.5 == pytest.approx(mmc_mean_wait(3, 2.5, 1.0))


def test_balking_chain_without_balking_is_erlang_c():
    chain = balking_chain(2, 1.5, 1.0, lambda n: 1.0)
    assert chain.balk_share == 0
    assert chain.mean_wait == pytest.approx(mmc_mean_wait(2, 1.5, 1.0), rel=1e-8)


def test_join_probability_falling_with_the_queue_matches_the_birth_death_chain():
    servers, rate, theta = 2, 2.2, 4.0  # overloaded without balking (λ > cμ): balking keeps it stable
    runs = [simulate_mmc(servers, rate, 1.0, 40_000, np.random.default_rng(seed), join_theta=theta)
            for seed in spawn_seeds(2021, 8)]
    chain = balking_chain(servers, rate, 1.0, lambda n: math.exp(-n / theta))
    ok, text = _within([run.balked / run.arrivals for run in runs], chain.balk_share)
    assert ok, f"balking share: {text}"
    ok, text = _within([run.mean_wait for run in runs], chain.mean_wait)
    assert ok, f"mean wait of joiners: {text}"


def test_a_declared_join_table_is_the_same_law():
    table = (1.0, 0.8, 0.5, 0.2, 0.0)
    params = CounterParams(join_table=table)
    assert [params.join_probability(n) for n in range(7)] == [1.0, 0.8, 0.5, 0.2, 0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="join_table"):
        CounterParams(join_table=(0.9, 0.5))
    with pytest.raises(ValueError, match="join_table"):
        CounterParams(join_table=(1.0,), join_theta=3.0)


@pytest.mark.parametrize("law", ["exponential", "lognormal", "weibull"])
def test_patience_laws_keep_mean_and_cv(law):
    params = CounterParams(patience_minutes=40.0, patience_distribution=law, patience_cv=0.6)
    draws = patience_draw(np.random.default_rng(7), params, 200_000)
    assert draws.mean() == pytest.approx(40.0, rel=0.01)
    cv = draws.std() / draws.mean()
    assert cv == pytest.approx(1.0 if law == "exponential" else 0.6, rel=0.03)


def test_bad_patience_law_is_named():
    with pytest.raises(ValueError, match="patience_distribution"):
        CounterParams(patience_distribution="gamma")


def test_every_counter_field_of_the_scenario_reaches_the_model():
    from motcua.scenario import load_scenario

    scenario = load_scenario("lang-son-2027")
    unit = scenario.units[0]
    params = CounterParams.from_unit(unit)
    counters = unit.counters
    assert (params.priority_share, params.join_theta, params.patience_distribution, params.patience_cv) == (
        counters.priority_share, counters.join_theta, counters.patience_distribution, counters.patience_cv)
    assert (params.service_cv, params.break_minutes, params.return_share) == (
        counters.service_cv, counters.break_minutes, counters.return_share)
    changed = scenario.with_overrides({
        "region.units[0].counters.reneging": False, "region.units[0].counters.balking": False,
        "region.units[0].counters.hourly": [1.0] * 24, "region.units[0].counters.window_officers": [2, 1],
        "region.units[0].counters.service_cv": None})
    params = CounterParams.from_unit(changed.units[0])
    assert params.patience_minutes is None and params.balk_queue is None and params.join_theta is None
    assert params.hourly == (1.0,) * 24 and params.window_officers == (2, 1) and params.service_cv is None


def test_two_level_region_refuses_districts_and_names_former_units():
    from motcua.errors import ScenarioError
    from motcua.scenario import load_scenario

    scenario = load_scenario("lang-son-2027")
    assert scenario.region.levels == "two-level" and len(scenario.units) == 65
    assert sum(u.kind == "ward" for u in scenario.units) == 4
    loc_binh = next(u for u in scenario.units if u.name == "Xã Lộc Bình")  # clause 33, seen verbatim
    assert loc_binh.former_units == ("Thị trấn Lộc Bình (Lộc Bình)", "Xã Khánh Xuân (Lộc Bình)",
                                     "Xã Đồng Bục (Lộc Bình)", "Xã Hữu Khánh (Lộc Bình)")
    assert not scenario.unmarked_numbers()
    with pytest.raises(ScenarioError, match="district"):
        scenario.with_overrides({"region.units[0].kind": "district"})


def test_priority_waits_reach_the_shop_summary():
    import simpy
    from motcua.models.counters import OneStopShop

    env = simpy.Environment()
    shop = OneStopShop(env, CounterParams(officers=2, fee_dossiers_per_day=80, priority_share=0.2),
                       np.random.default_rng(3))
    env.run(until=20 * 1440)
    by_class = shop.summary().wait_by_class
    assert set(by_class) == {"priority", "ordinary"} and by_class["priority"] < by_class["ordinary"]


def test_validate_warns_when_the_run_is_too_short_for_its_load():
    from motcua.commands.validate import run_length_warning

    assert run_length_warning(3, 2.0, 1.0, 200_000, None) is None
    warning = run_length_warning(3, 2.9, 1.0, 2_000, 10)
    assert warning is not None and "relaxation" in warning and "warm-up" in warning


def test_counters_package_exports_the_new_names():
    import motcua.models.counters as counters

    for name in ("PRIORITY_RULE", "PATIENCE_DISTRIBUTIONS", "patience_draw", "weibull_shape"):
        assert name in counters.__all__ and hasattr(counters, name)
    assert "non-pre-emptive" in counters.PRIORITY_RULE
