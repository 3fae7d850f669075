"""Inputs a planner's editor produces: a byte-order mark, UTF-16, another code page; dates outside the horizon."""

from __future__ import annotations

import copy
import datetime as dt
import tomllib

import pytest

from motcua.cli import main
from motcua.errors import ConfigError, ScenarioError
from motcua.scenario import SCENARIO_DIR, load_scenario, scenario_from_dict, scenario_warnings
from motcua.typed_config import read_toml

LANG_SON = SCENARIO_DIR / "lang-son-2024.toml"
TEXT = LANG_SON.read_text(encoding="utf-8")


def test_a_scenario_saved_with_a_utf8_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "lang-son-notepad.toml"
    path.write_bytes(b"\xef\xbb\xbf" + TEXT.encode("utf-8"))
    scenario = load_scenario(path)
    assert scenario == load_scenario(LANG_SON)
    assert any(u.name == "Huyện Cao Lộc" for u in scenario.units)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_scenario_is_refused_with_how_to_save_it_as_utf8(tmp_path, encoding):
    path = tmp_path / "lang-son-utf16.toml"
    path.write_bytes(TEXT.encode(encoding))
    with pytest.raises(ScenarioError, match=r"the scenario file is saved as UTF-16; save it again as UTF-8 "
                                            r"\(in Notepad: File › Save as › Encoding: UTF-8") as info:
        load_scenario(path)
    assert info.value.file == str(path)
    assert str(path) in str(info.value)


def test_a_file_in_a_vietnamese_code_page_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "cp1258.toml"
    path.write_bytes('[scenario]\nname = "x"\ntitle = "Lạng Sơn"\n'.encode("cp1258", errors="replace"))
    with pytest.raises(ConfigError, match=r"cp1258\.toml.*the settings file is not UTF-8 \(byte 0x\w\w on line 3, "
                                          r"perhaps Windows-1258 .*save it again as UTF-8"):
        read_toml(path, what="settings file")


def test_the_command_line_says_it_too(tmp_path, capsys):
    path = tmp_path / "utf16.toml"
    path.write_bytes(TEXT.encode("utf-16"))
    assert main(["scenario", "check", str(path)]) == 2
    assert "saved as UTF-16; save it again as UTF-8" in capsys.readouterr().err


# --- dates outside the simulated period, units that do not exist ----------------------------------------------


@pytest.fixture()
def raw() -> dict:
    return copy.deepcopy(tomllib.loads(TEXT))


def test_the_bundled_scenarios_have_no_warnings():
    for name in ("lang-son-2024", "son-la-2020-2023", "phu-tho-2021", "national"):
        assert scenario_warnings(load_scenario(name)) == [], name


def test_an_intervention_after_the_horizon_is_warned_about_naming_the_field(raw):
    raw["interventions"][0].update(start=dt.date(2026, 3, 1), end=dt.date(2026, 6, 30))  # the horizon ends 2025-12-31
    warnings = scenario_warnings(scenario_from_dict(raw, file="late.toml"))
    assert any(w.startswith("interventions[0]") and ".start = 2026-03-01: after the simulation ends (2025-12-31), "
               "so it has no effect; raise simulation.horizon_days to at least 755 to simulate it" in w
               for w in warnings), warnings


def test_an_intervention_partly_outside_the_horizon_is_warned_about(raw):
    raw["interventions"][0]["end"] = raw["simulation"]["start"].replace(year=raw["simulation"]["start"].year + 30)
    warnings = scenario_warnings(scenario_from_dict(raw, file="long.toml"))
    assert any(w.startswith("interventions[0]") and "after the simulation ends" in w and "not simulated" in w
               for w in warnings), warnings


def test_an_intervention_before_the_start_is_warned_about(raw):
    start = raw["simulation"]["start"]
    raw["interventions"][0]["start"] = start.replace(year=start.year - 2)
    raw["interventions"][0]["end"] = start.replace(year=start.year - 1)
    warnings = scenario_warnings(scenario_from_dict(raw, file="old.toml"))
    assert any("interventions[0]" in w and "before the simulation starts" in w and "no effect" in w
               for w in warnings), warnings


def test_a_sensitivity_range_of_no_field_is_warned_about(raw):
    raw.setdefault("sensitivity", {}).setdefault("relative", {})["adoption.potential_shar"] = 0.2
    warnings = scenario_warnings(scenario_from_dict(raw, file="typo.toml"))
    assert "sensitivity.relative.'adoption.potential_shar': no such field in the scenario, so it widens nothing" \
        in warnings


def test_scenario_check_prints_the_warnings(tmp_path, capsys):
    path = tmp_path / "short.toml"
    path.write_text(TEXT.replace("end = 2024-12-31", "end = 2026-12-31", 1), encoding="utf-8")
    assert main(["scenario", "check", str(path)]) == 0
    assert "  warning: interventions[0]" in capsys.readouterr().out  # ends after 2025-12-31


def test_a_target_after_the_horizon_and_an_unknown_unit_are_errors(raw):
    data = copy.deepcopy(raw)
    data["simulation"]["horizon_days"] = 100
    with pytest.raises(ScenarioError, match=r"targets\[0\]\.date = .*after the simulation ends .*raise "
                                            r"simulation\.horizon_days to at least"):
        scenario_from_dict(data, file="short.toml")
    data = copy.deepcopy(raw)
    data["interventions"][0]["units"] = ["huyen-khong-co"]
    with pytest.raises(ScenarioError, match=r"interventions\[0\]\.units\[0\] = 'huyen-khong-co': no such unit; units:"):
        scenario_from_dict(data, file="units.toml")
