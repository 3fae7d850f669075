"""Calibration of the agent model: the surrogate against the coupled model, and round trips.

A round trip chooses parameters, simulates observations from the agent model with noise, calibrates, and checks
that the parameters come back inside their bands (or that calibration warns it cannot identify them), then
simulates the calibrated scenario on fresh streams and checks that it lands inside the observations' bands.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from motcua.models.calibration import (
    AGREEMENT_TOLERANCE,
    AgentSettings,
    Observation,
    agent_shares,
    calibrated_scenario,
    fit,
    guidance_flow,
    read_observed,
    run_agent,
    search_fit,
    with_parameters,
)
from motcua.models.coupled import keep_entries, run_replication
from motcua.models.replications import spawn_seeds

from motcua.scenario import SCENARIO_DIR, load_scenario

SON_LA = SCENARIO_DIR / "son-la-2020-2023.toml"
TRUTH = {"p_per_year": 0.006, "q_per_year": 0.25, "effort_weight": 3.0}


def _son_la(days: int, **adoption: float):
    """Sơn La cut to `days` (targets dropped), with `adoption` parameters."""
    scenario = load_scenario(SON_LA)
    short = keep_entries(scenario, "targets", [False] * len(scenario.targets))
    short = short.with_overrides({"simulation.horizon_days": days})
    return with_parameters(short, adoption) if adoption else short


def _weights(scenario):
    w = np.array([u.fee_dossiers_per_year for u in scenario.units], dtype=float)
    return w / w.sum()


def test_guidance_flow_matches_the_help_seekers_the_counters_guide():
    scenario = _son_la(120)
    result = run_replication(scenario, spawn_seeds(7, 1)[0])
    expected = guidance_flow(scenario, 120).help.sum(axis=0)
    guided = result.guided.sum(axis=0)
    # Poisson counts of these means: within four standard deviations.
    assert np.all(np.abs(guided - expected) <= 4 * np.sqrt(expected)), (guided, expected)


def test_with_parameters_changes_only_the_adoption_parameters_and_start_shares():
    scenario = load_scenario(SON_LA)
    new = with_parameters(scenario, {"q_per_year": 0.3}, [0.01, 0.02, 0.03])
    assert new.adoption.q_per_year == 0.3 and new.adoption.p_per_year == scenario.adoption.p_per_year
    assert [u.start_share for u in new.units] == [0.01, 0.02, 0.03]
    assert new.file == scenario.file and new.interventions == scenario.interventions


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_agent_surrogate_agrees_with_the_coupled_model_yearly():
    """The stated tolerance of the surrogate: yearly regional shares within AGREEMENT_TOLERANCE (relative)."""
    scenario = _son_la(1096)
    seeds = spawn_seeds(scenario.simulation.seed, 4)
    w = _weights(scenario)
    ours = np.array([agent_shares(scenario, s) @ w for s in seeds])
    coupled = np.array([np.asarray(run_replication(scenario, s).daily_share, dtype=float) @ w for s in seeds])
    for year in range(3):
        days = slice(365 * year, 365 * (year + 1))
        a, b = ours[:, days].mean(), coupled[:, days].mean()
        assert abs(a / b - 1) < AGREEMENT_TOLERANCE, (year, a, b)


def _monthly_observations(scenario, truth_runs, noise, rng, months=range(36)):
    start = scenario.simulation.start
    w = _weights(scenario)
    out = []
    for m in months:
        first = dt.date(start.year + m // 12, m % 12 + 1, 1)
        last = dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1) - dt.timedelta(days=1)
        a, b = (first - start).days, (last - start).days + 1
        value = float((truth_runs[:, a:b] @ w).mean() + rng.normal(0, noise))
        out.append(Observation("*", first, last, value, "synthetic"))
    return out


def _round_trip(observations, scenario, noise, level, **options):
    settings = AgentSettings(replications=4, seed=11, draws=4)
    result = fit(scenario, observations, bootstrap=40, noise_sd=noise, level=level, agent=settings, **options)
    # Simulate the calibrated scenario on fresh streams: every observation within its band — its sd at a 95%
    # family-wise level (Bonferroni over the observations) — widened by the sampling noise of the 4 replications
    # the observations were drawn from and of this check's own 4 (3 standard errors of each mean).
    from scipy.stats import norm

    new = calibrated_scenario(scenario, result, observed_file="synthetic", when="test")
    runs = run_agent([new], spawn_seeds(99, 4), None)[0]
    values = np.array([result.problem.observe(r) for r in runs])
    sds = np.array([o.sd(result.noise_sd) for o in observations])
    z = norm.ppf(1 - 0.05 / (2 * len(observations)))
    noise = 3 * np.sqrt(2) * values.std(axis=0, ddof=1) / np.sqrt(len(values))
    miss = np.abs(values.mean(axis=0) - [o.share for o in observations])
    assert np.all(miss <= z * sds + noise), np.flatnonzero(miss > z * sds + noise)
    return result


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_round_trip_with_many_observations_recovers_the_parameters():
    truth = _son_la(1096, **TRUTH)
    runs = run_agent([truth], spawn_seeds(5, 4), None)[0]
    noise = 0.001
    observations = _monthly_observations(truth, runs, noise, np.random.default_rng(1))
    start = _son_la(1096, p_per_year=0.02, q_per_year=0.1, effort_weight=1.0)
    result = _round_trip(observations, start, noise, level=0.95)
    assert result.agent.converged
    for name, value in TRUTH.items():
        low, high = result.intervals[name]
        # Inside the 95% band, widened by the agent model's roughness at the scale of its replications.
        assert low / 1.15 <= value <= high * 1.15, (name, value, low, high)
    assert not [w for w in result.warnings if "cannot identify" in w]


@pytest.fixture(scope="module")
def son_la_shaped():
    """Three yearly regional shares of the agent model at `TRUTH` (2020–2022), as proxies with 5% noise: the shape
    of Sơn La's file."""
    truth = _son_la(1096, **TRUTH)
    runs = run_agent([truth], spawn_seeds(5, 4), None)[0]
    w = _weights(truth)
    rng = np.random.default_rng(2)
    observations = []
    for year in range(3):
        share = float((runs[:, 365 * year: 365 * (year + 1)] @ w).mean())
        observations.append(Observation("*", dt.date(2020 + year, 1, 1), dt.date(2020 + year, 12, 31),
                                        share * (1 + rng.normal(0, 0.05)), "synthetic", 0,
                                        "online_service_share", 0.1))
    return observations


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_round_trip_with_the_son_la_shape_reproduces_the_data_and_says_it_cannot_identify_the_parameters(
        son_la_shaped):
    """Three points, three free parameters: the calibrated scenario passes through the observations (checked by
    `_round_trip`), and calibration says that such data cannot tell the parameters apart."""
    start = _son_la(1096, p_per_year=0.02, q_per_year=0.1, effort_weight=1.0)
    result = _round_trip(son_la_shaped, start, 0.002, level=0.8)
    assert any(w.startswith("3 observation(s) for 3 free parameter(s): the data cannot identify them")
               for w in result.warnings), result.warnings


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_round_trip_with_the_son_la_shape_and_the_effort_weight_fixed_recovers_p_and_q(son_la_shaped):
    """With the effort weight fixed (at its true value, as ``--fix effort_weight=3`` does), three points identify
    the two parameters left: both true values lie inside their bands, and nothing says otherwise."""
    start = _son_la(1096, p_per_year=0.02, q_per_year=0.1, effort_weight=TRUTH["effort_weight"])
    result = _round_trip(son_la_shaped, start, 0.002, level=0.8,
                         fixed={"effort_weight": TRUTH["effort_weight"]})
    assert result.free == ("p_per_year", "q_per_year")
    for name in result.free:
        low, high = result.intervals[name]
        assert low <= TRUTH[name] <= high, (name, TRUTH[name], low, high)
    assert not [w for w in result.warnings if "cannot identify" in w]


def test_son_la_observed_file_has_the_shape_of_the_round_trip():
    observations = read_observed(SCENARIO_DIR / "observed" / "son-la-2020-2023.csv", load_scenario(SON_LA))
    assert [(o.start, o.end) for o in observations] == [
        (dt.date(y, 1, 1), dt.date(y, 12, 31)) for y in (2020, 2021, 2022)]
    assert dataclasses.replace(observations[0], proxy_sd=0).sd(0.005) == 0.005


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_simulate_of_the_bundled_son_la_reproduces_every_observation():
    """`motcua simulate son-la-2020-2023` (the coupled model, its seed and 20 replications; the first three years
    are the same days and streams as the full run): each observed year inside the 95% band of the mean."""
    from motcua.models.replications import mean_ci, run_replications

    scenario = load_scenario(SON_LA)
    short = _son_la(1096)
    rset = run_replications(short, scenario.simulation.replications, scenario.simulation.seed, progress=False)
    share = np.stack([np.asarray(r.daily_share, dtype=float) @ _weights(short) for r in rset.results])
    observations = read_observed(SCENARIO_DIR / "observed" / "son-la-2020-2023.csv", scenario)
    for obs in observations:
        a, b = (obs.start - scenario.simulation.start).days, (obs.end - scenario.simulation.start).days + 1
        band = mean_ci(share[:, a:b].mean(axis=1))
        assert band.low <= obs.share <= band.high, (obs.start, obs.share, band)


# --- the search, on a stand-in for the agent model -------------------------------------------------

COUPLING = np.array([[0.0, 0.4, 0.0], [0.0, 0.0, -0.4], [0.4, 0.0, 0.0]])
"""How the stand-in's parameters are mixed before the mean field sees them: directions the mean field barely sees
matter to it, as they do to the agent model."""
SPREAD = np.array([-0.002, -0.0007, 0.0007, 0.002])
"""Fixed relative offsets of the stand-in's four "replications" (common random numbers: the same at every point)."""


def _stand_in(problem, centre):
    """A deterministic model unlike the mean field: the mean field at coupled parameters, times (1 + offset)."""
    def evaluate(points):
        return [np.outer(1 + SPREAD, problem.predict_mean_field(x + COUPLING @ (x - centre))) for x in points]
    return evaluate


def _son_la_problem(scenario=None):
    """The mean field's problem of Sơn La's three observations, and its optimum."""
    scenario = scenario or load_scenario(SON_LA)
    observations = read_observed(SCENARIO_DIR / "observed" / "son-la-2020-2023.csv", scenario)
    result = fit(scenario, observations, bootstrap=0)
    return result.problem, result.optimum


def test_search_reaches_the_observations_of_a_model_the_mean_field_misleads():
    problem, best = _son_la_problem()
    centre = best + np.array([0.5, -0.5, 0.3])
    evaluate = _stand_in(problem, centre)
    start = evaluate([best])[0].mean(axis=0)
    assert np.max(np.abs(start / problem.observed - 1)) > 0.05  # the mean field's own fit misses the stand-in
    search = search_fit(problem, best, AgentSettings(), evaluate)
    assert search.settled() and len(search.history) <= AgentSettings().max_iterations
    np.testing.assert_allclose(search.here.agent, problem.observed, rtol=AgentSettings().tolerance)


def test_a_scenario_that_already_fits_is_a_fixed_point_of_its_calibration():
    """Calibrating the calibrated file gives it back after one batch of runs, although the mean field's own optimum
    (where a refit would start) lies elsewhere on the ridge three points leave."""
    problem, best = _son_la_problem()
    centre = best + np.array([0.5, -0.5, 0.3])
    first = search_fit(problem, best, AgentSettings(), _stand_in(problem, centre))
    fitted = with_parameters(problem.scenario, problem.parameters(first.here.x))
    again_problem, again_best = _son_la_problem(fitted)
    assert np.max(np.abs(again_best - first.here.x)) > 0.1  # the refit would not start where it ends
    again = search_fit(again_problem, again_best, AgentSettings(), _stand_in(again_problem, centre))
    assert len(again.history) == 1
    np.testing.assert_allclose(again.here.x, first.here.x, atol=1e-9)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_calibrating_the_bundled_son_la_gives_it_back_with_simulates_target_date(tmp_path):
    """`motcua calibrate son-la-2020-2023` on the recalibrated file: the same parameters (a fixed point, one batch),
    every observation inside the agent model's band, and the 50% date within a month of `motcua simulate`'s mean
    date, with overlapping bands."""
    import json

    from motcua.models.figures import replication_figures, scenario_facts
    from motcua.models.replications import run_replications

    from motcua.cli import main

    assert main(["calibrate", "son-la-2020-2023", "--out", str(tmp_path / "calibrate")]) == 0
    summary = json.loads((tmp_path / "calibrate" / "summary.json").read_text(encoding="utf-8"))
    scenario = load_scenario(SON_LA)
    for name in ("p_per_year", "q_per_year", "effort_weight"):
        assert summary["estimates"][name] == pytest.approx(getattr(scenario.adoption, name), rel=1e-9)
    agent = summary["agent"]
    assert agent["converged"] and len(agent["iterations"]) == 1
    assert all(row["inside"] for row in agent["observations"])
    target = summary["targets"][0]
    rset = run_replications(scenario, scenario.simulation.replications, scenario.simulation.seed, progress=False)
    reach = replication_figures(rset.results, scenario_facts(scenario))["target0_reach_day"]
    assert np.isfinite(reach).all()
    start = scenario.simulation.start
    simulated = start + dt.timedelta(days=round(float(reach.mean())))
    low, high = (start + dt.timedelta(days=int(d)) for d in np.percentile(reach, [10, 90], method="lower"))
    best = dt.date.fromisoformat(target["best"])
    assert abs((best - simulated).days) <= 31, (best, simulated)
    band_low = dt.date.fromisoformat(target["low"])
    band_high = dt.date.fromisoformat(target["high"]) if target["high"] else dt.date.max
    assert band_low <= high and low <= band_high
