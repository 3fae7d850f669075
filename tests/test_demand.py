"""Peak-day demand and its load profile (motcua.demand), and the pure helpers of the pipeline's steps."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from motcua.demand import (
    DAY_S,
    PROFILE_NAME,
    hourly_shape,
    journey_completion,
    load_profile,
    peak_day_demand,
    write_load_scenario,
)
from motcua.errors import InputError
from motcua.pipeline import payment_failure_rate, real_time_callbacks, without_intervention
from motcua.scenario import load_scenario

START = dt.date(2024, 6, 6)


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("lang-son-2024")


def synthetic_payments(reps: int = 4, days: int = 30, units: int = 5, peak_day: int = 17) -> np.ndarray:
    rng = np.random.default_rng(3)
    x = rng.uniform(10, 20, size=(reps, days, units))
    x[:, peak_day, :] += rng.uniform(30, 40, size=(reps, units))  # one day clearly busiest in every replication
    return x


def test_hourly_shape_is_the_peak_day_profile_normalised(scenario):
    shape, source = hourly_shape(scenario)
    hourly = np.array(scenario.load.profiles["peak_day"].hourly)
    assert source == "load.profiles.peak_day.hourly"
    assert shape.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(shape, hourly / hourly.sum())


def test_busiest_day_groups_banks_and_hours_add_up(scenario):
    payments = synthetic_payments()
    demand = peak_day_demand(payments, START, scenario)
    fee_day = payments[:, 17, :].sum(axis=1)
    mix = scenario.payment_system.groups
    assert demand["date"] == (START + dt.timedelta(days=17)).isoformat()
    assert demand["fee_payments"]["mean"] == pytest.approx(fee_day.mean(), abs=1e-3)
    assert demand["platform_payments"]["mean"] == pytest.approx(fee_day.mean() / mix.fee, abs=1e-3)
    total = demand["platform_payments"]["mean"]
    assert sum(g["mean"] for g in demand["by_group"].values()) == pytest.approx(total, rel=1e-4)
    assert sum(b["mean"] for b in demand["by_bank"].values()) == pytest.approx(total, rel=1e-4)
    assert sum(demand["hourly"]["total"]["mean"]) == pytest.approx(total, rel=1e-4)
    band = demand["platform_payments"]
    assert band["low"] <= band["mean"] <= band["high"] and band["min"] <= band["mean"] <= band["max"]
    assert demand["hourly"]["peak_hour"] == int(np.argmax(scenario.load.profiles["peak_day"].hourly))


def test_band_widens_with_spread_between_replications(scenario):
    calm = synthetic_payments()
    wild = calm.copy()
    wild[:, 17, :] *= np.array([0.5, 1.5, 0.7, 1.3])[:, None]
    half = [d["platform_payments"]["high"] - d["platform_payments"]["low"]
            for d in (peak_day_demand(x, START, scenario) for x in (calm, wild))]
    assert half[1] > 2 * half[0]


def test_load_profile_replays_every_payment_once(scenario):
    demand = peak_day_demand(synthetic_payments(), START, scenario)
    profile = load_profile(demand, scenario, 60.0)
    assert profile["compression"] == pytest.approx(DAY_S / 60)
    # journeys that reach the charge = the day's payments
    assert profile["expected_journeys"] * profile["completion"] == pytest.approx(demand["platform_payments"]["mean"])
    assert np.mean(profile["hourly"]) == pytest.approx(1.0, rel=1e-5)
    assert profile["completion"] == pytest.approx(journey_completion(scenario))
    assert 0 < profile["completion"] < scenario.load.vneid_level2_share


def test_load_profile_refuses_a_zero_duration(scenario):
    demand = peak_day_demand(synthetic_payments(), START, scenario)
    with pytest.raises(InputError, match=r"--duration 0.0 s: must be > 0"):
        load_profile(demand, scenario, 0.0)


def test_demand_refuses_a_wrong_shape(scenario):
    with pytest.raises(InputError, match=r"expected \(replications, days, units\), got shape \(3, 4\)"):
        peak_day_demand(np.zeros((3, 4)), START, scenario)


def test_written_load_scenario_loads_and_replays_the_day_in_the_duration(scenario, tmp_path):
    from motcua.loadtest.profiles import profile_from_scenario

    demand = peak_day_demand(synthetic_payments(), START, scenario)
    profile = load_profile(demand, scenario, 45.0)
    derived = load_scenario(write_load_scenario(scenario, profile, tmp_path / "scenario-load.toml"))
    assert derived.load.profile == PROFILE_NAME
    fitted = profile_from_scenario(derived)
    assert fitted.duration_s == pytest.approx(45.0)
    assert fitted.expected_arrivals() == pytest.approx(profile["expected_journeys"], rel=0.02)
    assert derived.fee_catalogue_path().exists()  # absolute: the file lives in the run folder


def test_without_intervention_renumbers_provenance(scenario):
    reduced = without_intervention(scenario, 0)
    assert len(reduced.interventions) == len(scenario.interventions) - 1
    assert reduced.interventions[0] == scenario.interventions[1]
    assert reduced.provenance_of("interventions[0]") == scenario.provenance_of("interventions[1]")


def test_the_interventions_table_prices_a_point_by_compares_rule():
    """`motcua run`'s interventions table uses `motcua compare`'s one rule: no cost per point for a gain whose
    interval includes zero (the effect may be nil), none for a loss."""
    from types import SimpleNamespace

    import motcua.pipeline as pipeline
    from motcua.report.i18n import text
    from motcua.report.sections import cost_per_point

    assert not hasattr(pipeline, "cost_per_point")  # one implementation: motcua.compare_decision's
    r = SimpleNamespace(lang="vi", t=lambda key: text("vi", key))

    def row(mean: float, low: float, high: float, cost: int = 300_000_000) -> str:
        return cost_per_point(r, {"cost_vnd": cost, "points_gained": {"mean": mean, "low": low, "high": high, "n": 3},
                                  "cost_per_point_vnd": None})

    assert row(0.02, 0.01, 0.03) == "150.000.000"
    assert row(0.0046, -0.0033, 0.0125) == text("vi", "not_distinguishable")  # a mean alone would give 65 M VND
    assert row(-0.02, -0.03, -0.01) == text("vi", "not_estimable")


def test_failure_rate_counts_declined_and_failed_journeys():
    outcomes = {"citizen paid": {"count": 90}, "citizen declined at charge": {"count": 6},
                "citizen failed at dossier": {"count": 4}, "citizen abandoned at identity": {"count": 50}}
    assert payment_failure_rate(outcomes) == pytest.approx(0.1)
    assert payment_failure_rate({}) is None


def test_callbacks_are_scaled_back_to_real_time():
    harness = {"callbacks": [["ipn_ack", "p1", "BIDV", "fee", 12.0, True, 0.0],
                             ["ipn_ack", "p2", "BIDV", "fee", 10000.0, False, 0.0],
                             ["officer_sees_paid", "p1", "BIDV", "fee", 5.0, True, 0.0]]}
    samples = real_time_callbacks(harness, 0.01)
    assert [s["seconds"] for s in samples] == pytest.approx([1.2, 1000.0])
    assert [s["ok"] for s in samples] == [True, False]
