"""Calibration against the Generalized Bass mean field: recovery, Sơn La's acceleration, identifiability, proxies,
the backtest. The agent model's calibration is in test_calibration_agent.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import shutil

import numpy as np
import pytest
from motcua.models.calibration import (
    DAYS_PER_YEAR,
    PARAMETERS,
    MeanField,
    Observation,
    backtest,
    calibrated_scenario,
    fit,
    read_observed,
    split_holdout,
)
from motcua.models.theory import bass_cdf, mean_field_share
from scipy.integrate import solve_ivp

from motcua.cli import main
from motcua.commands.calibrate import backtest_report
from motcua.errors import InputError
from motcua.scenario import SCENARIO_DIR, load_scenario

SON_LA = SCENARIO_DIR / "son-la-2020-2023.toml"
SON_LA_CSV = SCENARIO_DIR / "observed" / "son-la-2020-2023.csv"
LANG_SON = SCENARIO_DIR / "lang-son-2024.toml"
LANG_SON_CSV = SCENARIO_DIR / "observed" / "lang-son-2024.csv"
TRUTH = {"p_per_year": 0.02, "q_per_year": 0.5, "effort_weight": 2.0}


# --- the closed form the calibration stands on ----------------------------------------------------


def test_mean_field_matches_the_generalized_bass_ode_with_a_step_in_effort():
    p, q, m, f0 = 0.03, 0.4, 0.9, 0.05

    def effort(t):
        return 1.0 if t < 1.5 else 3.0  # effort triples after 18 months

    ode = solve_ivp(lambda t, f: (p + q * f / m) * (m - f) * effort(t), (0, 4), [f0], dense_output=True,
                    rtol=1e-10, atol=1e-12, max_step=0.01)
    days = np.arange(1, 4 * 365 + 1)
    daily_effort = np.where(np.arange(len(days)) < 1.5 * DAYS_PER_YEAR, 1.0, 3.0)
    daily_effort[int(1.5 * DAYS_PER_YEAR)] = 1 + 2 * (1 - (1.5 * DAYS_PER_YEAR) % 1)  # the step falls mid-day
    model = mean_field_share(days, p, q, daily_effort, initial_share=f0, potential=m)
    assert np.allclose(model, ode.sol(days / DAYS_PER_YEAR)[0], atol=1e-6)


def test_mean_field_with_unit_effort_is_the_bass_curve():
    days = np.arange(0, 3653, 365.25)
    assert np.allclose(mean_field_share(days, 0.03, 0.38), bass_cdf(days / DAYS_PER_YEAR, 0.03, 0.38))


# --- recovery of known parameters ----------------------------------------------------------------


def _synthetic(scenario, params, months=48, noise=0.0, seed=1):
    field = MeanField(scenario, scenario.simulation.start, 1600)
    shares = field.column(field.shares(params["p_per_year"], params["q_per_year"], params["effort_weight"]), ["*"])
    rng = np.random.default_rng(seed)
    out, start = [], scenario.simulation.start
    for m in range(months):
        first = dt.date(start.year + m // 12, m % 12 + 1, 1)
        last = dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1) - dt.timedelta(days=1)
        value = shares[field.day(first): field.day(last) + 1].mean() + rng.normal(0, noise)
        out.append(Observation("*", first, last, float(np.clip(value, 0, 1)), "synthetic"))
    return out


@pytest.fixture(scope="module")
def son_la():
    # Start the fit somewhere else than the truth, so recovery is not a tautology.
    return load_scenario(SON_LA).with_overrides({"adoption.p_per_year": 0.05, "adoption.q_per_year": 0.1,
                                                 "adoption.effort_weight": 0.5})


def test_recovers_known_parameters_from_exact_monthly_data(son_la):
    result = fit(son_la, _synthetic(son_la, TRUTH), bootstrap=0)
    for name, value in TRUTH.items():
        assert result.estimates[name] == pytest.approx(value, rel=1e-3), name
    assert result.rmse < 1e-6
    assert not [w for w in result.warnings if "cannot identify" in w or "flat fit" in w]


def test_recovers_known_parameters_from_noisy_data_within_their_uncertainty(son_la):
    result = fit(son_la, _synthetic(son_la, TRUTH, noise=0.002, seed=4), bootstrap=40, seed=3)
    assert result.noise_sd == pytest.approx(0.002, rel=0.35) and not result.noise_sd_assumed
    for name, value in TRUTH.items():
        se = result.std_errors[name]
        assert se is not None and se > 0
        assert abs(result.estimates[name] - value) < 4 * se, (name, result.estimates[name], se)
        low, high = result.intervals[name]
        assert low < result.estimates[name] < high


def test_recovers_parameters_from_monthly_shares_of_several_units():
    """Lạng Sơn's five units from their observed starting shares, with the June–December campaign."""
    scenario = load_scenario(LANG_SON)
    field = MeanField(scenario, scenario.simulation.start, scenario.simulation.horizon_days)
    truth = field.shares(0.01, 0.6, 1.2)
    observations = []
    for j, unit in enumerate(scenario.units):
        for m in range(18):  # July 2024 … December 2025
            first = dt.date(2024 + (m + 6) // 12, (m + 6) % 12 + 1, 1)
            last = dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1) - dt.timedelta(days=1)
            value = truth[field.day(first): field.day(last) + 1, j].mean()
            observations.append(Observation(unit.id, first, last, float(value), "synthetic"))
    result = fit(scenario, observations, bootstrap=0)
    assert result.estimates == pytest.approx({"p_per_year": 0.01, "q_per_year": 0.6, "effort_weight": 1.2}, rel=1e-3)
    assert result.warnings == []


# --- Sơn La: the plain Bass curve cannot accelerate, the effort term can ---------------------------


def test_son_la_series_accelerates():
    observed = [o.share for o in read_observed(SON_LA_CSV, load_scenario(SON_LA))]
    ratios = [observed[1] / observed[0], observed[2] / observed[1]]
    assert ratios == pytest.approx([1.48, 2.44], abs=0.01)


def test_plain_bass_cannot_fit_son_la_but_the_effort_term_can():
    scenario = load_scenario(SON_LA)
    observations = read_observed(SON_LA_CSV, scenario)
    bass = fit(scenario, observations, model="bass", fit_initial=True, bootstrap=0)
    generalized = fit(scenario, observations, model="generalized", fit_initial=True, bootstrap=0)
    # Bass: even with a free starting share, its year-on-year growth can only slow down.
    assert bass.estimates["effort_weight"] == 0
    assert bass.rmse > 0.004 and np.max(np.abs(bass.residuals)) > 0.005
    assert any(w.startswith("misfit: the best fit misses an observation by 0.00") and "--model generalized" in w
               for w in bass.warnings)
    assert not any(w.startswith("misfit") for w in generalized.warnings)
    fitted = bass.fitted
    assert fitted[2] / fitted[1] < fitted[1] / fitted[0]
    # Generalized Bass with the effort of the scenario's interventions passes through the points.
    assert generalized.rmse < 1e-4
    assert generalized.estimates["effort_weight"] > 0.5


def test_son_la_fit_warns_that_three_points_cannot_identify_the_parameters():
    scenario = load_scenario(SON_LA)
    result = fit(scenario, read_observed(SON_LA_CSV, scenario), fit_initial=True, bootstrap=30)
    assert any("3 observation(s) for 4 free parameter(s): the data cannot identify them" in w for w in result.warnings)
    assert not any(w.startswith("misfit") for w in result.warnings)
    assert all(v is None for v in result.std_errors.values())
    band = result.targets[0]
    assert band.share == 0.5 and band.deadline == dt.date(2023, 12, 31)
    assert band.low <= band.best <= band.high
    assert 0 <= band.probability_by_deadline <= 1
    assert "80% interval" in band.describe()


def test_effort_weight_the_data_cannot_see_is_kept_and_reported():
    scenario = load_scenario(LANG_SON)
    result = fit(scenario, read_observed(LANG_SON_CSV, scenario), origin=dt.date(2024, 1, 1), fit_initial=True,
                 bootstrap=5)
    assert result.estimates["effort_weight"] == scenario.adoption.effort_weight
    assert "effort_weight" not in result.free
    assert any(w.startswith("effort_weight does not change the fitted values") for w in result.warnings)
    assert any("cannot identify" in w for w in result.warnings)
    assert math.isinf(result.condition_number)
    # The new scenario starts on 6 June 2024 where the curve fitted from 1 January is on that day.
    new = calibrated_scenario(scenario, result, observed_file="lang-son-2024.csv", when="today")
    field = result.mean_field
    curve = field.shares(*(result.estimates[k] for k in ("p_per_year", "q_per_year", "effort_weight")),
                         np.array(list(result.initial_shares.values())))
    day_before = field.day(scenario.simulation.start) - 1
    assert [u.initial_share for u in new.units] == pytest.approx(list(curve[day_before]), abs=1e-6)
    assert all(u.initial_share > u.observed_share for u in new.units)  # shares grew from January to June
    assert new.provenance_of("region.units[bac-son].initial_share").startswith("derived: calibrated mean field on")


# --- input errors --------------------------------------------------------------------------------


def test_observations_before_the_origin_are_refused_with_the_fix():
    scenario = load_scenario(LANG_SON)
    with pytest.raises(InputError, match=r"starts 2024-01-01, before the calibration origin 2024-06-06; "
                                         r"pass --origin 2024-01-01"):
        fit(scenario, read_observed(LANG_SON_CSV, scenario), bootstrap=0)


@pytest.mark.parametrize(("row", "match"), [
    ("cao-lock,2024-01-01,2024-06-05,0.149", r"line 2, unit = 'cao-lock': not a unit of the scenario"),
    ("cao-loc,2024-01-01,2024-06-05,14.9", r"line 2, share = '14.9': a share must be within 0–1; .* write 0.149"),
    ("cao-loc,2024-01-01,2024-12-32,0.149", r"line 2, period_end = '2024-12-32': impossible date"),
    ("cao-loc,2024-06-05,2024-01-01,0.149", r"line 2, period_end = '2024-01-01': before period_start"),
])
def test_observed_file_errors_name_line_column_and_value(tmp_path, row, match):
    path = tmp_path / "observed.csv"
    path.write_text("unit,period_start,period_end,share\n" + row + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=match):
        read_observed(path, load_scenario(LANG_SON))


def test_fix_must_name_a_parameter():
    scenario = load_scenario(SON_LA)
    with pytest.raises(InputError, match=r"--fix potential_share: not a parameter calibration fits"):
        fit(scenario, read_observed(SON_LA_CSV, scenario), fixed={"potential_share": 0.9})


# --- the command: a run directory and a NEW scenario file ------------------------------------------


def test_calibrate_command_writes_a_new_scenario_that_loads(tmp_path, capsys):
    before = hashlib.sha256(SON_LA.read_bytes()).hexdigest()
    new = tmp_path / "son-la-calibrated.toml"
    out = tmp_path / "run"
    code = main(["calibrate", str(SON_LA), "--observed", str(SON_LA_CSV), "--fit-initial", "--bootstrap", "10",
                 "--model", "generalized", "--out", str(out), "--write-scenario", str(new)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "RMSE" in printed and "WARNING: 3 observation(s)" in printed and "Decision 380" in printed
    assert hashlib.sha256(SON_LA.read_bytes()).hexdigest() == before  # the original is untouched
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "calibrate" and manifest["status"] == "complete"
    assert summary["schema"] == "motcua.calibrate/1" and summary["headline"]["target"] == "50% by 2023-12-31"
    assert summary["headline"]["warnings"] == len(summary["warnings"]) > 0
    assert {i["role"] for i in manifest["inputs"]} == {"scenario", "observed"}
    for path in ("residuals.csv", "bootstrap.csv", "trajectory.csv", "charts/fit.png"):
        assert (out / path).stat().st_size > 0
    calibrated = load_scenario(new)
    assert calibrated.name == "son-la-2020-2023-calibrated"
    for name in ("p_per_year", "q_per_year", "effort_weight"):
        assert getattr(calibrated.adoption, name) == pytest.approx(summary["estimates"][name], rel=1e-4)
        assert calibrated.provenance_of(f"adoption.{name}").startswith("derived: fitted by motcua calibrate")
    assert calibrated.units[0].initial_share == pytest.approx(summary["initial_shares"]["son-la-city"], abs=1e-6)
    assert calibrated.unmarked_numbers() == []
    assert calibrated.fee_catalogue_path().exists()
    # Run the same again onto the existing file: refused, nothing overwritten.
    assert main(["calibrate", str(SON_LA), "--observed", str(SON_LA_CSV), "--bootstrap", "0",
                 "--out", str(tmp_path / "run2"), "--write-scenario", str(new)]) == 2
    assert "the file exists" in capsys.readouterr().err
    assert main(["calibrate", str(SON_LA), "--observed", str(SON_LA_CSV), "--write-scenario", str(SON_LA)]) == 2
    assert "that is the original scenario" in capsys.readouterr().err
    assert main(["calibrate", str(SON_LA), "--observed", str(SON_LA_CSV), "--noise-sd", "0"]) == 2
    assert "--noise-sd 0.0: must be > 0" in capsys.readouterr().err
    assert main(["calibrate", str(SON_LA), "--observed", str(SON_LA_CSV), "--fix", "effort_weight"]) == 2
    assert "--fix 'effort_weight': write NAME=VALUE, e.g. --fix effort_weight=1.5" in capsys.readouterr().err
    assert main(["calibrate", str(SON_LA), "--observed", str(SON_LA_CSV), "--origin", "2020-02-30"]) == 2
    assert "--origin '2020-02-30': impossible date: February 2020 has 29 days, not 30" in capsys.readouterr().err


# --- observations as they are: proxies and their extra uncertainty ----------------------------------


def test_son_la_observations_are_proxies_with_a_stated_extra_uncertainty():
    observations = read_observed(SON_LA_CSV, load_scenario(SON_LA))
    assert all(o.kind == "online_service_share" and o.is_proxy and o.proxy_sd == 0.25 for o in observations)
    assert observations[2].sd(0.005) == pytest.approx(math.hypot(0.005, 0.25 * 0.107))


@pytest.mark.parametrize(("columns", "row", "match"), [
    ("kind", "online_services", r"line 2, kind = 'online_services': not a kind of observation; use one of"),
    ("kind,proxy_sd", "online_service_share,lots", r"line 2, proxy_sd = 'lots': expected a number"),
    ("kind,proxy_sd", "online_payment_share,0.2", r"line 2, proxy_sd = '0.2': only a proxy has one"),
    ("kind,proxy_sd", "online_service_share,3", r"line 2, proxy_sd = '3': must be within 0–2"),
])
def test_observation_kind_errors_name_line_column_and_value(tmp_path, columns, row, match):
    path = tmp_path / "observed.csv"
    path.write_text(f"unit,period_start,period_end,share,{columns}\ncao-loc,2024-01-01,2024-06-05,0.149,{row}\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match=match):
        read_observed(path, load_scenario(LANG_SON))


def test_a_proxy_widens_the_fit_and_the_target_band(son_la):
    exact = _synthetic(son_la, TRUTH, months=36, noise=0.002, seed=3)
    proxy = [dataclasses.replace(o, kind="online_service_share", proxy_sd=0.3) for o in exact]
    sure = fit(son_la, exact, bootstrap=60, noise_sd=0.002, seed=1)
    unsure = fit(son_la, proxy, bootstrap=60, noise_sd=0.002, seed=1)

    def width(result, name):
        low, high = result.intervals[name]
        return math.log(high / low)

    assert width(unsure, "q_per_year") > 2 * width(sure, "q_per_year")
    days = [(t.high - t.low).days for t in (sure.targets[0], unsure.targets[0]) if t.high and t.low]
    assert len(days) == 2 and days[1] > days[0]


# --- backtest -------------------------------------------------------------------------------------


def test_backtest_forecasts_the_held_out_observations_with_a_band(son_la):
    observations = _synthetic(son_la, TRUTH, months=36, noise=0.001, seed=4)
    fitted_on, held_out = split_holdout(observations, 6)
    assert [o.end for o in held_out] == sorted(o.end for o in observations)[-6:]
    result = fit(son_la, fitted_on, bootstrap=40, noise_sd=0.001, seed=2)
    test = backtest(result, held_out)
    assert len(test.rows) == 6 and all(r.low <= r.forecast <= r.high for r in test.rows)
    # The truth is the model: the forecast holds within 2% and within the band give or take three noise sds
    # (the six months are extrapolated together, so their misses share a sign).
    assert all(abs(r.miss) < 0.02 * r.observation.share for r in test.rows)
    assert all(abs(r.miss) <= (r.high - r.low) / 2 + 3 * 0.001 for r in test.rows)
    assert any(r.inside for r in test.rows)
    assert "Backtest: fitted on 30 observation(s)" in backtest_report(test)
    # The band's noise comes from the generator passed in; by default one seeded 0, the same every time.
    assert backtest(result, held_out, rng=np.random.default_rng(0)) == test
    assert backtest(result, held_out, rng=np.random.default_rng(1)).rows != test.rows
    with pytest.raises(InputError, match=r"--holdout 36: must be within 0 – 35"):
        split_holdout(observations, 36)


def test_calibrate_holdout_on_son_la_reports_the_miss(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["calibrate", "son-la-2020-2023", "--model", "generalized", "--fit-initial", "--holdout", "1",
                 "--bootstrap", "20", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Backtest: fitted on 2 observation(s) (2020-01-01 – 2021-12-31), forecast 1 held out" in printed
    # 2020–2021 cannot see the teams' effort weight, and the bundled file's value was fitted with 2022: said so.
    kept = f"{load_scenario(SON_LA).adoption.effort_weight:.4g}"
    assert f"backtest: effort_weight is kept at the scenario's {kept}, which motcua calibrate fitted" in printed
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    held = summary["backtest"]["held_out"][0]
    assert held["period_start"] == "2022-01-01" and held["observed"] == 0.107
    assert held["miss"] == pytest.approx(held["forecast"] - 0.107)
    # The report's section on assumptions shows the target-date band and the backtest, in both languages.
    from motcua.report.assumptions import calibration_studies, studies
    from motcua.report.html import render_studies

    def shown(run_dir, lang):
        return render_studies(studies(run_dir, lang))

    vi, en = (render_studies(calibration_studies(summary, lang)) for lang in ("vi", "en"))
    assert "Kiểm định ngược" in vi and "10,70%" in vi and "Backtest" in en and "10.70%" in en
    assert "Date the 50% target is reached (deadline 2023-12-31)" in en
    report_run = tmp_path / "20991231-000000-abcd"
    report_run.mkdir()
    (report_run / "manifest.json").write_text(json.dumps({"kind": "run", "scenario": "lang-son-2024"}),
                                              encoding="utf-8")
    assert studies(report_run, "en") == []  # a calibrate run only counts for its own scenario
    (tmp_path / "calib").mkdir()
    out.rename(tmp_path / "calib" / "20200101-000000-0000")
    (tmp_path / "calib" / report_run.name).mkdir()
    assert "Backtest" in shown(tmp_path / "calib" / report_run.name, "en")
    # A later calibration without a backtest: its fit is shown, and the backtest of the earlier one.
    later = tmp_path / "calib" / "20210101-000000-0000"
    shutil.copytree(tmp_path / "calib" / "20200101-000000-0000", later)
    (later / "summary.json").write_text(json.dumps({**summary, "backtest": None}), encoding="utf-8")
    page = shown(tmp_path / "calib" / report_run.name, "en")
    assert page.count("<h3>Backtest</h3>") == 1 and page.count("Calibration to the observations") == 1


# --- the package ------------------------------------------------------------------------------------


def test_initial_share_of_a_group_is_the_fitted_share_of_its_units(son_la):
    """A unit observed on its own has its own fitted initial share; the units seen only in the region's share
    (``*``) have one between them."""
    observations = read_observed(SON_LA_CSV, son_la)
    unit, *rest = [u.id for u in son_la.units]
    result = fit(son_la, [*observations, dataclasses.replace(observations[0], unit=unit)], fit_initial=True,
                 bootstrap=0)
    assert set(result.initial_intervals) == {unit, "*"}
    assert result.initial_share("*") == result.initial_shares[rest[0]] == result.initial_shares[rest[-1]]
    assert result.initial_share(unit) == result.initial_shares[unit] != result.initial_share("*")
    with pytest.raises(KeyError):
        result.initial_share("no-such-unit")


def test_the_calibration_package_exports_its_public_names():
    """`motcua.models.calibration` re-exports the public names of its modules (importers of the old module keep
    working); a new public name is a decision, made here."""
    import motcua.models.calibration as calibration

    assert sorted(calibration.__all__) == sorted([
        "AGREEMENT_TOLERANCE", "ASSUMED_NOISE", "CONDITION_LIMIT", "CORRELATION_LIMIT", "COUNTER_GUIDANCE",
        "DAMPING_START", "DAYS_PER_YEAR", "DEFAULT_PROXY_SD", "DIFFERENCE_STEP", "EXTRA_YEARS", "FITTED",
        "FIT_TOLERANCE", "MAX_ITERATIONS", "MISFIT_TOLERANCE", "OBSERVATION_KINDS", "PARAMETERS", "PAYMENT_SHARE",
        "AgentFit", "AgentSearch", "AgentSettings", "Backtest", "Calibration", "Evaluate", "GuidanceFlow",
        "HeldOut", "MeanField", "Observation", "Problem", "TargetBand", "agent_band", "agent_shares",
        "agent_shares_task", "backtest", "calibrated_scenario", "correlation", "fit", "fit_agent_model",
        "guidance_flow", "intensity_by_day", "largest_miss", "mean_field_band", "reach_days", "read_observed",
        "run_agent", "run_draws", "search_fit", "split_holdout", "with_parameters", "write_scenario",
    ])
    assert all(hasattr(calibration, name) for name in calibration.__all__)
    assert callable(calibration.backtest) and callable(calibration.fit)  # the functions, not their modules


def test_a_problem_is_not_changed_by_the_fit_that_uses_it(son_la):
    """`Problem` is immutable: pinning parameters or correcting it towards the agent model gives a new one."""
    from motcua.models.calibration import Problem

    problem = Problem.build(son_la, read_observed(SON_LA_CSV, son_la), origin=son_la.simulation.start)
    x = problem.solve()
    corrected = problem.corrected(np.full(len(problem.observed), 2.0))
    assert np.array_equal(corrected.predict(x), 2 * problem.predict(x))
    assert problem.correction is None and problem.fixing({"effort_weight": 3.0}).free == ("p_per_year", "q_per_year")
    assert problem.free == PARAMETERS
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.correction = np.ones(3)
