"""Global sensitivity: which numbers are varied and over what ranges, and the Morris → Sobol' pipeline."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from motcua.models.sensitivity import analyse, assumed_factors, perturbed, what_data

from motcua.cli import main
from motcua.errors import InputError
from motcua.scenario import load_scenario


@pytest.fixture(scope="module")
def lang_son():
    return load_scenario("lang-son-2024")


def test_every_assumed_number_the_simulation_reads_is_a_factor(lang_son):
    factors = {f.path: f for f in assumed_factors(lang_son)}
    assert "citizens.smartphone" in factors and "adoption.behaviour.skill_lift" in factors
    assert "interventions[1].capacity_per_day" in factors and "payment_system.failure_rate" in factors
    # Observed, settings, money and the load test's numbers are not varied.
    assert not [p for p in factors if p.startswith(("simulation", "load", "slo", "targets"))]
    assert "adoption.behaviour.agents_per_unit" not in factors
    assert not [p for p in factors if p.endswith(("cost_vnd", "observed_share"))]
    # The same field across units is one assumption.
    assert factors["region.units[cao-loc].population"].group == "region.units[*].population"


def test_ranges_are_plus_minus_30_percent_cut_to_the_field_bounds(lang_son):
    factors = {f.path: f for f in assumed_factors(lang_son)}
    smart = factors["citizens.smartphone"]
    assert (smart.low, smart.high) == pytest.approx((0.7 * smart.base, min(1.0, 1.3 * smart.base)))
    assert all(0 <= f.low <= f.high <= 1 for p, f in factors.items() if p.startswith("citizens."))
    pop = factors["region.units[cao-loc].population"]
    assert pop.integer and pop.value(1.0) == round(1.3 * pop.base)


def test_the_scenario_declares_its_own_ranges(lang_son):
    narrower = lang_son.with_overrides({"sensitivity.relative": {"citizens": 0.1, "adoption.behaviour.qr_lift": 0}})
    factors = {f.path: f for f in assumed_factors(narrower)}
    smart = factors["citizens.smartphone"]
    assert smart.high == pytest.approx(1.1 * smart.base)
    assert "adoption.behaviour.qr_lift" not in factors


def test_perturbed_moves_only_the_given_factors(lang_son):
    factors = assumed_factors(lang_son)
    u = np.full(len(factors), np.nan)
    i = [f.path for f in factors].index("citizens.digital_skill")
    u[i] = 1.0
    new = perturbed(lang_son, factors, u)
    assert new.citizens.digital_skill == pytest.approx(factors[i].high)
    assert new.citizens.smartphone == lang_son.citizens.smartphone


def test_morris_then_sobol_find_the_assumption_that_drives_the_output(lang_son, tmp_path):
    def evaluate(factors, positions):
        u = np.where(np.isnan(positions), 0.5, positions)
        paths = [f.path for f in factors]
        a = u[:, paths.index("citizens.digital_skill")]
        b = u[:, paths.index("adoption.behaviour.cash_factor")]
        y = 10 * a + 1 * b
        return np.stack([y, 100 - 3 * y, np.sin(math.pi * a)], axis=1)

    result = analyse(lang_son, trajectories=4, sobol_n=64, top=3, evaluate=evaluate)
    assert result.top[:2] == ["citizens.digital_skill", "adoption.behaviour.cash_factor"]
    j = result.top.index("citizens.digital_skill")
    assert result.sobol["final_share"]["ST"][j] == pytest.approx(0.99, abs=0.1)
    assert result.ranking()[0] == "citizens.digital_skill"
    low, high = result.tornado["final_share"][j]
    assert (low, high) == pytest.approx((5 * 0 + 0.5, 10 + 0.5))
    summary = result.summary()
    assert summary["data_to_pin_down"]["citizens.digital_skill"].startswith("a household survey")
    json.dumps(summary)
    # The report: a table of Sobol' indices with the data that would pin each down, and a tornado chart.
    from motcua.report.assumptions import sensitivity_study, tornado_chart
    from motcua.report.html import render_studies

    html = render_studies([sensitivity_study(summary, "data:image/png;base64,AA==", "vi")])
    assert "Tỷ lệ người tự làm được thủ tục và thanh toán trực tuyến" in html and "citizens.digital_skill" not in html
    assert "khảo sát hộ gia đình" in html and "<img" in html
    assert tornado_chart(summary, tmp_path / "tornado.png", "en").stat().st_size > 1000


def test_what_data_names_a_measurement_in_both_languages():
    assert "VNeID" in what_data("citizens.vneid_level2") or "survey" in what_data("citizens.vneid_level2")
    assert what_data("region.units[*].population", "vi").startswith("dân số")


def test_bad_options_are_refused_with_the_fix(lang_son, capsys):
    with pytest.raises(InputError, match=r"--sobol-samples 6: must be a power of 2"):
        analyse(lang_son, sobol_n=6, evaluate=lambda f, p: np.zeros((len(p), 3)))
    assert main(["sensitivity", "lang-son-2024", "--top", "0"]) == 2
    assert "--top 0: must be >= 1" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_sensitivity_command_quick_writes_tables_and_the_tornado(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["sensitivity", "lang-son-2024", "--quick", "--trajectories", "2", "--sobol-samples", "2",
                 "--top", "2", "--out", str(out), "--lang", "en"]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["schema"] == "motcua.sensitivity/1" and len(summary["top"]) == 2
    for name in ("morris.csv", "sobol.csv", "charts/tornado.png"):
        assert (out / name).stat().st_size > 0
    assert "What data would pin them down" in capsys.readouterr().out


def test_a_target_not_reached_is_extrapolated_at_the_last_pace():
    from motcua.models.sensitivity import extrapolated_reach_day

    share = np.linspace(0.10, 0.30, 201)  # +0.001 a day
    assert extrapolated_reach_day(share, 0.45) == pytest.approx(200 + 150)
    assert extrapolated_reach_day(np.full(100, 0.2), 0.45) == 1000  # no progress: ten horizons
