"""The fast paths of the counter and adoption models compute what the plain ones do, bit for bit, so that a
seed gives the same results as before they were written (benchmarks/bench_scenarios.py --against REV checks a
whole replication's digest against an older revision)."""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from motcua.models.adoption import AdoptionModel
from motcua.models.counters import FEE_CASH, FREE, HELP, CounterParams, OneStopShop, Visit, poisson_quantile
from motcua.models.counters.arrivals import _few_poisson_quantiles

from motcua.scenario import load_scenario


def test_scalar_poisson_quantiles_equal_the_array_version():
    rng = np.random.default_rng(3)
    for _ in range(3000):
        u = rng.random(3)
        mean = rng.choice([0.0, 1e-9, 0.3, 4.0, 37.5, 250.0, 4000.0], 3) * rng.random(3)
        assert _few_poisson_quantiles(u.tolist(), mean.tolist()) == poisson_quantile(u, mean).tolist(), (u, mean)


def test_scalar_poisson_quantiles_at_the_edges_of_the_unit_interval():
    for u in (0.0, 1e-300, 0.5, 1 - 1e-16):
        means = [0.0, 2.5, 80.0]
        assert _few_poisson_quantiles([u] * 3, means) == poisson_quantile(np.full(3, u), np.array(means)).tolist()


def test_procedures_are_drawn_as_generator_choice_draws_them():
    """The shop picks each visit's procedure with the uniforms and search of ``Generator.choice(p=shares)``."""
    params = CounterParams()
    shares = [p.share for p in params.procedures]
    factors = np.array([p.minutes_factor for p in params.procedures])
    kinds = np.array([FREE] * 50 + [FEE_CASH] * 30 + [HELP] * 5)
    for seed in range(20):
        shop = OneStopShop(simpy.Environment(), params, np.random.default_rng(seed))
        visits = shop.draw_visits(kinds)
        reference = np.random.default_rng(seed)
        chosen = factors[reference.choice(len(factors), len(kinds), p=shares)]
        draws = reference.gamma(4.0, 0.25, len(kinds))
        expected = draws * params.receive_minutes * chosen * (kinds != HELP)
        assert [v.receive for v in visits] == expected.tolist()


def test_visits_are_visits_on_their_first_attempt():
    shop = OneStopShop(simpy.Environment(), CounterParams(), np.random.default_rng(1))
    visits = shop.draw_visits(np.array([FREE, FEE_CASH, HELP]))
    assert all(type(v) is Visit and v.attempt == 1 for v in visits)
    assert [v.number for v in visits] == [1, 2, 3]
    assert visits[0]._replace(attempt=2).attempt == 2


@pytest.fixture(scope="module")
def campaign():
    return load_scenario("lang-son-2024")


def run_adoption(scenario, recompute_tables: bool):
    env = simpy.Environment()
    model = AdoptionModel(env, scenario, np.random.default_rng(9))
    for _ in range(model.days):
        if recompute_tables:
            model._tables_key = None  # forget the last day's tables: every day computes its own
        model.step()
    return model


def test_reused_day_tables_give_the_same_run_as_tables_computed_every_day(campaign):
    """Days whose intervention intensities repeat reuse the last tables; the campaign starts within the horizon,
    so both branches of the cache are taken."""
    cached, fresh = run_adoption(campaign, False), run_adoption(campaign, True)
    assert len(set(map(bytes, np.diff(cached._schedule.effort, axis=0)))) > 1  # intensities do change in the run
    for name in ("daily_share", "state_counts"):
        assert np.array_equal(getattr(cached, name), getattr(fresh, name)), name
    for name, counts in cached.events.items():
        assert np.array_equal(counts, fresh.events[name]), name
