"""The whole uncertainty (issue 16 item 2): parameter draws per replication, the same for every plan, and
intervals that say what they cover."""

from __future__ import annotations

import json

import pytest
from motcua.models.uncertainty import (
    COVERS,
    ParameterDraws,
    calibrated_factors,
    draws_for,
    parameter_factors,
    position,
)

from motcua.cli import main
from motcua.scenario import load_scenario
from tests.test_compare_decision import QR_AND_TEAMS, with_interventions
from tests.test_simulate_cli import only_run, variant


def test_calibrated_numbers_are_drawn_from_the_band_calibrate_recorded():
    son_la = load_scenario("son-la-2020-2023")
    fitted = {f.path: f for f in calibrated_factors(son_la)}
    assert {"adoption.p_per_year", "adoption.q_per_year", "adoption.effort_weight"} <= set(fitted)
    p = fitted["adoption.p_per_year"]
    assert (p.low, p.high) == (1e-05, 0.01614)
    shares = [f for f in fitted.values() if f.path.endswith("initial_share")]
    assert shares and {f.group for f in shares} == {"region.units[*].initial_share"}
    assert not any(f.path == "adoption.p_per_year" for f in parameter_factors(son_la)[len(fitted):])


def test_an_uncalibrated_scenario_draws_from_its_sensitivity_ranges():
    lang_son = load_scenario("lang-son-2024")
    assert calibrated_factors(lang_son) == []
    factors = parameter_factors(lang_son)
    assert factors and all(f.low < f.high for f in factors)
    draw = ParameterDraws(tuple(factors), 7).scenario(lang_son, 0)
    assert draw.to_dict() != lang_son.to_dict()


def test_draws_are_common_to_every_plan_and_differ_between_replications(tmp_path):
    base = variant(tmp_path, "ls-base")
    plan = with_interventions(base, "ls-plan", QR_AND_TEAMS)
    a, b = load_scenario(str(base)), load_scenario(str(plan))
    da, db = draws_for([a, b], "parameters", 11)
    assert da is not None and db is not None
    for i in range(3):
        assert da.scenario(a, i).to_dict()["adoption"] == db.scenario(b, i).to_dict()["adoption"]
    assert da.scenario(a, 0).to_dict()["adoption"] != da.scenario(a, 1).to_dict()["adoption"]
    assert position(11, 0, "x") == position(11, 0, "x") != position(12, 0, "x")
    assert draws_for([a, b], "replications", 11) == [None, None]
    with pytest.raises(ValueError):
        draws_for([a], "both", 11)


def test_simulate_says_what_the_interval_covers_and_parameters_widen_it(tmp_path, capsys):
    scenario = variant(tmp_path / "in", "ls-short")
    widths = {}
    for mode in ("replications", "parameters"):
        root = tmp_path / mode
        assert main(["simulate", str(scenario), "--quick", "--replications", "4", "--workers", "1", "--quiet",
                     "--results-root", str(root), "--uncertainty", mode, "--lang", "en"]) == 0
        out = capsys.readouterr().out
        assert f"95% CI, {COVERS[mode]}" in out
        summary = json.loads((only_run(root, "ls-short") / "summary.json").read_text(encoding="utf-8"))
        assert summary["settings"]["uncertainty"] == COVERS[mode] == summary["headline"]["interval"]
        final = summary["share"]["final"]["all"]
        widths[mode] = final["high"] - final["low"]
    assert widths["parameters"] > widths["replications"]
