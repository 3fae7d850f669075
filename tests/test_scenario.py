"""The scenario schema: bundled files load, every kind of error names the file, field and value."""

from __future__ import annotations

import calendar
import collections.abc
import copy
import dataclasses
import datetime as dt
import json
import math
import re
import statistics
import subprocess
import tomllib
import types
import typing

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import motcua.scenario
from motcua.cli import main
from motcua.errors import ScenarioError
from motcua.runs import PROJECT_ROOT
from motcua.scenario import (
    DEFAULT_PROVENANCE,
    SCENARIO_DIR,
    Z95_ROUNDED,
    BehaviourParameters,
    Scenario,
    SystemQuality,
    bundled_scenarios,
    json_schema,
    load_scenario,
    provenance_entries,
    scenario_from_dict,
)
from motcua.typed_config import json_ready, validate

LANG_SON = SCENARIO_DIR / "lang-son-2024.toml"
BUNDLED = ["lang-son-2024", "son-la-2020-2023", "phu-tho-2021", "national"]


@pytest.fixture(scope="module")
def raw() -> dict:
    """The Lạng Sơn scenario as plain TOML data, to break in each test."""
    return tomllib.loads(LANG_SON.read_text(encoding="utf-8"))


def broken(raw: dict, edit) -> dict:
    data = copy.deepcopy(raw)
    edit(data)
    return data


def refuse(data: dict, match: str) -> ScenarioError:
    with pytest.raises(ScenarioError, match=match) as info:
        scenario_from_dict(data, file="broken.toml")
    assert info.value.file == "broken.toml"
    return info.value


# --- bundled scenarios ---------------------------------------------------------------------------


def test_the_four_bundled_scenarios_are_found():
    names = {p.stem for p in bundled_scenarios()}
    assert set(BUNDLED) <= names
    assert "fee-catalogue" not in names


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_scenario_loads_and_every_number_has_provenance(name):
    scenario = load_scenario(SCENARIO_DIR / f"{name}.toml")
    assert scenario.name == name
    assert scenario.unmarked_numbers() == []
    assert scenario.fee_catalogue_path() == SCENARIO_DIR / "fee-catalogue.toml"
    assert "peak_day" in scenario.load.profiles and scenario.load.profiles["peak_day"].kind == "peak_day"
    assert len(scenario.load.profiles["peak_day"].hourly) == 24
    assert scenario.slo.callback_p95_ms > 0
    assert math.isclose(sum(b.share for b in scenario.payment_system.banks), 1.0)


def test_lang_son_holds_the_observed_figures():
    s = load_scenario("lang-son-2024")  # a bare name means the bundled file
    shares = {u.id: u.observed_share for u in s.units}
    assert shares == {"cao-loc": 0.149, "lang-son-city": 0.1607, "dept-natural-resources": 0.0648,
                      "huu-lung": 0.0886, "bac-son": 0.1173}
    assert s.region.observed_share == 0.1734
    assert [(t.share, t.date) for t in s.targets] == [(0.45, dt.date(2024, 12, 31))]
    campaign = s.interventions[0]
    assert (campaign.start, campaign.end) == (dt.date(2024, 6, 6), dt.date(2024, 12, 31))
    assert s.provenance_of("region.units[cao-loc].observed_share") == "observed: lang-son-2024"
    assert s.provenance_of("region.units[0].population").startswith("assumed:")
    assert s.provenance_of("citizens.rural").startswith("assumed:")
    assert s.provenance_of("region.units[0].counters.patience_minutes") == "assumed: typical district one-stop shop"
    assert s.provenance_of("adoption.habit_after_uses").startswith("assumed:")


def test_lang_son_writes_out_every_behaviour_assumption_with_its_provenance():
    """[adoption.behaviour] in the Lạng Sơn file: every parameter, at the schema's defaults (so results do not
    change), each with its own provenance entry; in files that leave the table out the values are defaults."""
    s = load_scenario("lang-son-2024")
    assert s.adoption.behaviour == BehaviourParameters()
    for f in dataclasses.fields(BehaviourParameters):
        path = f"adoption.behaviour.{f.name}"
        assert path in s.given, f"{path} is not written out in lang-son-2024.toml"
        assert path in s.provenance, f"{path} has no provenance entry of its own"
    assert s.provenance_of("adoption.behaviour.qr_lift").startswith("assumed: ")
    assert s.provenance_of("adoption.behaviour.vneid_required_from").startswith("observed: lang-son-2024")
    assert s.provenance_of("adoption.behaviour.agents_per_unit").startswith("setting: ")
    national = load_scenario("national")  # writes no behaviour table; its [provenance] `adoption` entry is about p, q
    assert national.adoption.behaviour == BehaviourParameters()
    assert national.provenance_of("adoption.behaviour.cash_factor") == "assumed: default of motcua/scenario.py"
    assert national.provenance_of("adoption.behaviour") == "assumed: default of motcua/scenario.py"
    assert national.provenance_of("adoption.p_per_year") == national.provenance["adoption"]
    son_la = load_scenario("son-la-2020-2023")  # writes only the strengths of its own levers
    assert son_la.provenance_of("adoption.behaviour.qr_lift").startswith("assumed: QR payment")
    assert son_la.provenance_of("adoption.behaviour.cash_factor") == son_la.provenance["adoption.behaviour"]
    assert son_la.provenance_of("adoption.behaviour.cash_factor").startswith("assumed: the defaults of motcua/")


def test_national_groups_follow_the_observed_counts():
    groups = load_scenario("national").payment_system.groups
    assert math.isclose(groups.insurance, 16000 / 38000, abs_tol=1e-6)
    assert math.isclose(groups.fee, 10600 / 38000, abs_tol=1e-6)
    assert math.isclose(groups.fine, 5300 / 38000, abs_tol=1e-6)


def _type_errors(value, hint, path):
    """Where `value` does not match the type `hint` (frozen dataclasses, tuples, Literals, unions, mappings)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is typing.Any:
        return []
    if origin is typing.Literal:
        return [] if value in args else [f"{path} = {value!r} not in {args}"]
    if origin in (typing.Union, types.UnionType):
        found = [_type_errors(value, a, path) for a in args]
        return [] if any(not f for f in found) else [f"{path} = {value!r} matches none of {args}"]
    if origin is tuple:
        if not isinstance(value, tuple):
            return [f"{path} is a {type(value).__name__}, not a tuple"]
        items = args[:1] * len(value) if len(args) == 2 and args[1] is Ellipsis else args
        pairs = enumerate(zip(value, items, strict=True))
        return [e for i, (v, a) in pairs for e in _type_errors(v, a, f"{path}[{i}]")]
    if origin in (dict, collections.abc.Mapping):
        if not isinstance(value, collections.abc.Mapping):
            return [f"{path} is a {type(value).__name__}, not a mapping"]
        return [e for k, v in value.items() for e in _type_errors(v, args[1], f"{path}[{k!r}]")] if args else []
    if dataclasses.is_dataclass(hint):
        if type(value) is not hint:
            return [f"{path} is a {type(value).__name__}, not {hint.__name__}"]
        if not type(value).__dataclass_params__.frozen:
            return [f"{path}: {hint.__name__} is not frozen"]
        hints = typing.get_type_hints(hint)
        return [e for f in dataclasses.fields(value) for e in _type_errors(getattr(value, f.name), hints[f.name],
                                                                           f"{path}.{f.name}")]
    if hint is float:
        return [] if isinstance(value, int | float) and not isinstance(value, bool) else [f"{path} = {value!r}"]
    if isinstance(hint, type):
        ok = isinstance(value, hint) and not (hint is int and isinstance(value, bool))
        return [] if ok else [f"{path} = {value!r} is not a {hint.__name__}"]
    return []


@pytest.mark.parametrize("name", ["lang-son-2024", "national", "peak-day"])
def test_every_field_of_a_loaded_scenario_is_frozen_and_has_its_declared_type(name):
    """Walks the whole loaded scenario against its annotations: a list where a tuple is declared, a str
    where a date is, or a dataclass that is not frozen, fails here (and names the field path)."""
    s = load_scenario(name)
    assert _type_errors(s, type(s), "scenario") == []
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.simulation.seed = 1  # type: ignore[misc]


# --- errors name the file, the field path and the value -------------------------------------------


def test_impossible_bare_date_from_the_article_is_refused(tmp_path):
    text = LANG_SON.read_text(encoding="utf-8").replace("end = 2024-12-31", "end = 2024-12-32", 1)
    path = tmp_path / "lang-son-typo.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"interventions\[0\]\.end = '2024-12-32': impossible date: "
                                            r"December 2024 has 31 days, not 32") as info:
        load_scenario(path)
    assert info.value.file == str(path)


def test_impossible_quoted_date_is_refused(raw):
    data = broken(raw, lambda d: d["interventions"][0].update(end="2024-12-32"))
    refuse(data, r"interventions\[0\]\.end = '2024-12-32': impossible date: December 2024 has 31 days, not 32")
    data = broken(raw, lambda d: d["targets"][0].update(date="2023-02-29"))
    refuse(data, r"targets\[0\]\.date = '2023-02-29': impossible date: February 2023 has 28 days, not 29")
    data = broken(raw, lambda d: d["targets"][0].update(date="2024-13-01"))
    refuse(data, r"targets\[0\]\.date = '2024-13-01': impossible date: there is no month 13")
    data = broken(raw, lambda d: d["targets"][0].update(date="31/12/2024"))
    refuse(data, r"targets\[0\]\.date = '31/12/2024': expected a date written YYYY-MM-DD")


def test_share_outside_0_1_names_the_unit_path(raw):
    data = broken(raw, lambda d: d["region"]["units"][2].update(observed_share=6.48))
    error = refuse(data, r"broken.toml: region\.units\[2\]\.observed_share = 6\.48: a share must be within 0–1; "
                         r"if 6\.48 is a percentage, write 0\.0648")
    assert (error.field, error.value) == ("region.units[2].observed_share", 6.48)


def test_unknown_key_is_an_error_with_a_suggestion(raw):
    def typo(d):
        d["region"]["units"][3]["comunes"] = d["region"]["units"][3].pop("communes")

    refuse(broken(raw, typo), r"region\.units\[3\]\.comunes = 24: unknown key; did you mean 'communes'\?")
    refuse(broken(raw, lambda d: d.update(adoptoin={})), r"adoptoin = \{\}: unknown key; did you mean 'adoption'\?")


def test_unknown_choice_suggests_the_closest(raw):
    data = broken(raw, lambda d: d["interventions"][1].update(kind="counter_guidence"))
    refuse(data, r"interventions\[1\]\.kind = 'counter_guidence': must be one of .*did you mean 'counter_guidance'")


def test_missing_required_key(raw):
    data = broken(raw, lambda d: d["citizens"].pop("smartphone"))
    refuse(data, r"citizens\.smartphone = <missing>: required: own a smartphone")


def test_behaviour_out_of_bounds_is_refused_with_file_path_and_value(raw, tmp_path):
    data = broken(raw, lambda d: d["adoption"]["behaviour"].update(cash_factor=1.5))
    error = refuse(data, r"broken\.toml: adoption\.behaviour\.cash_factor = 1\.5: must be <= 1")
    assert (error.field, error.value) == ("adoption.behaviour.cash_factor", 1.5)
    data = broken(raw, lambda d: d["adoption"]["behaviour"].update(qr_counter_uptake=20))
    refuse(data, r"adoption\.behaviour\.qr_counter_uptake = 20: a share must be within 0–1; if 20 is a percentage, "
                 r"write 0\.2")
    data = broken(raw, lambda d: d["adoption"]["behaviour"].update(team_per_year=-3.0))
    refuse(data, r"adoption\.behaviour\.team_per_year = -3\.0: must be >= 0")
    data = broken(raw, lambda d: d["adoption"]["behaviour"].update(agents_per_unit=2.5e4))
    refuse(data, r"adoption\.behaviour\.agents_per_unit = 25000\.0: expected a whole number")
    data = broken(raw, lambda d: d["adoption"]["behaviour"].update(vneid_required_from="2024-06-31"))
    refuse(data, r"adoption\.behaviour\.vneid_required_from = '2024-06-31': impossible date: June 2024 has 30 days")
    # from a file on disk, as `motcua scenario check` reads it
    path = tmp_path / "lang-son-bad-lever.toml"
    path.write_text(LANG_SON.read_text(encoding="utf-8").replace("\nqr_lift = 0.6\n", "\nqr_lift = 1.6\n"),
                    encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"lang-son-bad-lever\.toml: adoption\.behaviour\.qr_lift = 1\.6: "
                                            r"must be <= 1") as info:
        load_scenario(path)
    assert info.value.file == str(path)


def test_unknown_behaviour_key_suggests_the_closest(raw):
    def typo(d):
        d["adoption"]["behaviour"]["qr_lfit"] = d["adoption"]["behaviour"].pop("qr_lift")

    refuse(broken(raw, typo), r"adoption\.behaviour\.qr_lfit = 0\.6: unknown key; did you mean 'qr_lift'\?")
    refuse(broken(raw, lambda d: d["adoption"].update(behavior={})),
           r"adoption\.behavior = \{\}: unknown key; did you mean 'behaviour'\?")


def test_behaviour_table_is_optional_and_partial(raw):
    whole = broken(raw, lambda d: d["adoption"].pop("behaviour"))
    whole["provenance"] = {k: v for k, v in raw["provenance"].items() if not k.startswith("adoption.behaviour.")}
    assert scenario_from_dict(whole).adoption.behaviour == BehaviourParameters()
    part = copy.deepcopy(whole)
    part["adoption"]["behaviour"] = {"qr_lift": 0.9}
    part["provenance"]["adoption.behaviour.qr_lift"] = "assumed: a stronger QR lever"
    s = scenario_from_dict(part)
    assert s.adoption.behaviour == BehaviourParameters(qr_lift=0.9)
    assert s.unmarked_numbers() == []
    assert s.with_overrides({"adoption.behaviour.qr_lift": 0.3}).adoption.behaviour.qr_lift == 0.3
    with pytest.raises(ScenarioError, match=r"adoption\.behaviour\.qr_lift = 3: must be <= 1"):
        s.with_overrides({"adoption.behaviour.qr_lift": 3})


def test_behaviour_built_in_code_meets_the_same_bounds():
    validate(BehaviourParameters(), file="code")
    with pytest.raises(ScenarioError, match=r"code: adoption\.behaviour\.reach_rural = -0\.1: must be >= 0"):
        validate(BehaviourParameters(reach_rural=-0.1), file="code", path="adoption.behaviour")


def test_mixes_must_sum_to_one(raw):
    data = broken(raw, lambda d: d["payment_system"]["groups"].update(fee=0.7))
    refuse(data, r"payment_system\.groups = \{.*\}: the payment group shares must sum to 1, but they sum to 1\.08")
    data = broken(raw, lambda d: d["payment_system"]["banks"][0].update(share=0.5))
    refuse(data, r"payment_system\.banks = \{'VIETINBANK': 0\.5.*\}: the bank shares must sum to 1, "
                 r"but they sum to 1\.2")


def test_a_scenario_bank_is_the_bank_services_profile_with_a_required_share(raw):
    from motcua.payment_platform import BankProfile

    assert all(type(bank) is BankProfile for bank in load_scenario("lang-son-2024").payment_system.banks)
    data = broken(raw, lambda d: d["payment_system"]["banks"][1].pop("share"))
    refuse(data, r"payment_system\.banks\[1\]\.share = None: required in a scenario: the share of payments through")
    data = broken(raw, lambda d: d["payment_system"]["banks"][0]["decline"].update({"99": 0.1}))
    refuse(data, r"payment_system\.banks\[0\]\.decline\.\"99\" = 0\.1: unknown response code '99'; known: 07, 11")


def test_money_must_be_whole_vnd(raw):
    data = broken(raw, lambda d: d["interventions"][0].update(cost_vnd=1.5e6))
    refuse(data, r"interventions\[0\]\.cost_vnd = 1500000\.0: must be a whole number of VND \(an integer")
    data = broken(raw, lambda d: d["interventions"][0].update(cost_vnd=-5))
    refuse(data, r"interventions\[0\]\.cost_vnd = -5: .*must not be negative")


def test_wrong_types(raw):
    data = broken(raw, lambda d: d["region"]["units"][0].update(population="80000"))
    refuse(data, r"region\.units\[0\]\.population = '80000': expected a number")
    data = broken(raw, lambda d: d["simulation"].update(horizon_days=10.5))
    refuse(data, r"simulation\.horizon_days = 10\.5: expected a whole number")
    data = broken(raw, lambda d: d["adoption"].update(p_per_year=0))
    refuse(data, r"adoption\.p_per_year = 0: must be > 0")


def test_references_must_exist(raw):
    data = broken(raw, lambda d: d["interventions"][1].update(units=["cao-lock"]))
    refuse(data, r"interventions\[1\]\.units\[0\] = 'cao-lock': no such unit; units: bac-son, cao-loc")
    data = broken(raw, lambda d: d["region"]["units"][1].update(observed_share_source="lang-son"))
    refuse(data, r"region\.units\[1\]\.observed_share_source = 'lang-son': cites source 'lang-son', which is not")
    data = broken(raw, lambda d: d["load"].update(profile="peak"))
    refuse(data, r"load\.profile = 'peak': no such profile; defined: smoke, ramp, peak_day")
    data = broken(raw, lambda d: d["region"]["units"][1].update(id="cao-loc"))
    refuse(data, r"region\.units\[1\]\.id = 'cao-loc': duplicate")


def test_provenance_is_checked(raw):
    data = broken(raw, lambda d: d["provenance"].update({"citizens.smartfone": "assumed: x"}))
    refuse(data, r"provenance\.\"citizens\.smartfone\" = 'assumed: x': 'citizens\.smartfone' is not a field")
    data = broken(raw, lambda d: d["provenance"].update({"citizens": "guessed"}))
    refuse(data, r"provenance\.citizens = 'guessed': does not match .*start with observed:, assumed:")
    data = broken(raw, lambda d: d["provenance"].update({"citizens": "observed: somewhere-else"}))
    refuse(data, r"provenance\.citizens = 'somewhere-else': cites source 'somewhere-else'")


def test_periods_targets_and_profiles(raw):
    data = broken(raw, lambda d: d["interventions"][0].update(start=dt.date(2025, 1, 1)))
    refuse(data, r"interventions\[0\]\.end = '2024-12-31': ends before start 2025-01-01")
    data = broken(raw, lambda d: d["targets"][0].update(date=dt.date(2026, 6, 30)))
    refuse(data, r"targets\[0\]\.date = '2026-06-30': after the simulation ends \(2025-12-31\); raise "
                 r"simulation\.horizon_days to at least 755")
    data = broken(raw, lambda d: d["interventions"][1].pop("guidance_minutes"))
    refuse(data, r"interventions\[1\]\.guidance_minutes = None: counter_guidance needs guidance_minutes")
    data = broken(raw, lambda d: d["load"]["profiles"]["peak_day"].update(hourly=[1.0] * 23))
    refuse(data, r"load\.profiles\.peak_day\.hourly = \[1\.0, .*\]: needs 24 multipliers")
    data = broken(raw, lambda d: d["region"]["units"][0]["counters"].update(opening=["07:30-11:30", "11:00-17:00"]))
    refuse(data, r"region\.units\[0\]\.counters\.opening\[1\] = '11:00-17:00': not a valid period")
    data = broken(raw, lambda d: d["payment_system"]["banks"][0]["decline"].update({"99": 0.1}))
    refuse(data, r"payment_system\.banks\[0\]\.decline\.\"99\" = 0\.1: unknown response code '99'")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.one_of(st.integers(min_value=0, max_value=10**15), st.floats(allow_nan=False), st.text(max_size=5),
                        st.integers(max_value=-1)))
def test_money_accepts_whole_vnd_only(raw, amount):
    data = broken(raw, lambda d: d["interventions"][2].update(cost_vnd=amount))
    if isinstance(amount, int) and amount >= 0:
        assert scenario_from_dict(data).interventions[2].cost_vnd == amount
    else:
        refuse(data, r"interventions\[2\]\.cost_vnd = .*: must (be a whole number of VND|not be negative)")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(share=st.floats(min_value=0, max_value=1))
def test_any_share_within_0_1_is_accepted(raw, share):
    data = broken(raw, lambda d: d["region"]["units"][1].update(observed_share=share))
    assert scenario_from_dict(data).units[1].observed_share == share


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(share=st.one_of(st.floats(max_value=-1e-9, allow_infinity=False), st.floats(min_value=1 + 1e-9,
                                                                                     allow_infinity=False)))
def test_any_share_outside_0_1_is_refused_with_its_path(raw, share):
    data = broken(raw, lambda d: d["citizens"].update(digital_skill=share))
    refuse(data, r"citizens\.digital_skill = .*: a share must be within 0–1")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=st.dates(min_value=dt.date(2024, 6, 7), max_value=dt.date(2024, 12, 31)), as_text=st.booleans())
def test_any_real_date_is_accepted_as_date_or_iso_text(raw, day, as_text):
    data = broken(raw, lambda d: d["interventions"][0].update(end=day.isoformat() if as_text else day))
    assert scenario_from_dict(data).interventions[0].end == day


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(year=st.integers(2000, 2100), month=st.integers(1, 12), extra=st.integers(1, 68))
def test_any_day_past_the_end_of_its_month_is_impossible(raw, year, month, extra):
    last = calendar.monthrange(year, month)[1]
    day = last + extra if last + extra <= 99 else 99
    text = f"{year:04d}-{month:02d}-{day:02d}"
    data = broken(raw, lambda d: d["targets"][0].update(date=text))
    refuse(data, rf"targets\[0\]\.date = '{text}': impossible date: \w+ {year} has {last} days, not {day}")


# --- JSON Schema ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("name", BUNDLED)
def test_json_schema_accepts_every_bundled_scenario(validator, name):
    data = tomllib.loads((SCENARIO_DIR / f"{name}.toml").read_text(encoding="utf-8"))
    validator.validate(json_ready(data))


def test_json_schema_rejects_broken_scenarios(validator, raw):
    cases = {
        "unknown key": lambda d: d["citizens"].update(smartfone=0.5),
        "share above 1": lambda d: d["citizens"].update(smartphone=1.5),
        "text for a number": lambda d: d["region"]["units"][0].update(population="80000"),
        "impossible date": lambda d: d["interventions"][0].update(end="2024-12-32"),
        "unknown intervention kind": lambda d: d["interventions"][0].update(kind="billboards"),
        "missing section": lambda d: d.pop("slo"),
        "float money": lambda d: d["interventions"][0].update(cost_vnd=1.5),
        "behaviour factor above 1": lambda d: d["adoption"]["behaviour"].update(cash_factor=1.5),
        "unknown behaviour key": lambda d: d["adoption"]["behaviour"].update(qr_lfit=0.5),
    }
    for what, edit in cases.items():
        errors = list(validator.iter_errors(json_ready(broken(raw, edit))))
        assert errors, f"the JSON Schema accepted a scenario with {what}"


def test_json_schema_documents_units_and_defaults():
    schema = json_schema()
    unit = schema["$defs"]["Unit"]["properties"]
    assert unit["observed_share"]["maximum"] == 1
    assert "[per year]" in unit["fee_dossiers_per_year"]["description"]
    assert schema["$defs"]["Counters"]["properties"]["opening"]["default"] == ["07:30-11:30", "13:30-17:00"]
    assert schema["$defs"]["Intervention"]["properties"]["cost_vnd"]["type"] == "integer"
    assert schema["$defs"]["AdoptionParams"]["properties"]["behaviour"]["$ref"] == "#/$defs/BehaviourParameters"
    behaviour = schema["$defs"]["BehaviourParameters"]
    assert "required" not in behaviour  # every key optional, with its default
    assert behaviour["properties"]["cash_factor"] | {"description": ""} == {
        "type": "number", "minimum": 0, "maximum": 1, "default": 0.6, "description": ""}
    assert behaviour["properties"]["team_per_year"]["description"].endswith("[per year]")
    assert behaviour["properties"]["agents_per_unit"]["default"] == 20_000
    assert behaviour["properties"]["vneid_required_from"]["default"] == "2024-06-15"
    assert "assumption" in behaviour["description"]


# --- variants ------------------------------------------------------------------------------------


def test_overrides_and_seeds_are_validated_copies():
    s = load_scenario(LANG_SON)
    t = s.with_overrides({"adoption.p_per_year": 0.02, "region.units[cao-loc].observed_share": 0.2})
    assert t.adoption.p_per_year == 0.02 and t.units[0].observed_share == 0.2
    assert s.adoption.p_per_year == 0.05 and s.units[0].observed_share == 0.149
    assert s.with_seed(7, replications=3).simulation.seed == 7
    assert s.with_seed(7, replications=3).simulation.replications == 3
    with pytest.raises(ScenarioError, match=r"adoption\.q_per_year = -1: must be >= 0"):
        s.with_overrides({"adoption.q_per_year": -1})
    with pytest.raises(ScenarioError, match=r"adoption\.nope\.x = 1: no such field to override"):
        s.with_overrides({"adoption.nope.x": 1})
    with pytest.raises(ScenarioError, match=r"adoption\.p_per_yr = 1: unknown key; did you mean 'p_per_year'"):
        s.with_overrides({"adoption.p_per_yr": 1})


def test_quality_from_a_load_test_replaces_the_payment_system():
    s = load_scenario(LANG_SON)
    assert s.quality == SystemQuality(failure_rate=0.03, callback_p50_s=4.0, callback_p95_s=120.0,
                                      unpaid_notice_after_s=600.0)
    measured = SystemQuality.from_measurements(failure_rate=0.08, callback_p50_ms=1500, callback_p95_ms=900_000,
                                               unpaid_notice_after_s=600)
    t = s.with_quality(measured)
    assert t.quality == measured
    assert t.provenance_of("payment_system.callback_delay_s.p95") == "derived: measured by a load test"
    with pytest.raises(ScenarioError, match=r"quality\.failure_rate = 1\.5: a share must be within 0–1"):
        SystemQuality.from_measurements(failure_rate=1.5, callback_p50_ms=1, callback_p95_ms=2,
                                        unpaid_notice_after_s=60)


def test_unpaid_notice_probability_follows_the_lognormal_fit():
    q = SystemQuality(failure_rate=0, callback_p50_s=4.0, callback_p95_s=120.0, unpaid_notice_after_s=120.0)
    assert q.unpaid_notice_probability() == pytest.approx(0.05, abs=1e-6)
    q = dataclasses.replace(q, unpaid_notice_after_s=4.0)
    assert q.unpaid_notice_probability() == pytest.approx(0.5, abs=1e-9)


def test_the_lognormal_fit_uses_the_normal_quantile_as_the_outputs_always_had_it():
    assert abs(Z95_ROUNDED - statistics.NormalDist().inv_cdf(0.95)) < 1e-7
    # the figure feedback/quality.json carries for Lạng Sơn, bit for bit
    assert load_scenario(LANG_SON).quality.unpaid_notice_probability() == 0.007692351598437064


def test_a_p95_below_its_p50_is_refused_in_both_tables_with_the_same_words(raw):
    why = "the 95th percentile cannot be below the median"
    data = broken(raw, lambda d: d["payment_system"]["callback_delay_s"].update(p95=1.0))
    refuse(data, rf"payment_system\.callback_delay_s\.p95 = 1\.0: below p50 = 4\.0; {why}$")
    with pytest.raises(ScenarioError, match=rf"quality\.callback_p95_s = 0\.5: below callback_p50_s = 2\.0; {why}$"):
        SystemQuality.from_measurements(failure_rate=0, callback_p50_ms=2000, callback_p95_ms=500,
                                        unpaid_notice_after_s=60)


def test_profiles_give_rates_over_time():
    profiles = load_scenario(LANG_SON).load.profiles
    day = profiles["peak_day"]
    assert day.total_s(time_compression=240) == 360
    assert day.rate_at(9 * 3600 / 240 + 1, time_compression=240) == pytest.approx(3 * 3.0)
    assert profiles["ramp"].rate_at(60) == pytest.approx(25.5)
    assert profiles["smoke"].total_s() == 30


def test_a_profile_built_without_its_kinds_fields_names_the_missing_one():
    """A profile made in code skips ``check``; reading it says which field its kind needs (not a TypeError)."""
    from motcua.scenario import Profile
    from motcua.typed_config import FieldProblem

    with pytest.raises(FieldProblem, match="duration_s: a ramp profile needs duration_s"):
        Profile(kind="ramp", rate_per_s=2.0).total_s()
    spike = Profile(kind="spike", rate_per_s=2.0, duration_s=10.0, spike_at_s=2.0, spike_s=3.0)
    assert spike.rate_at(1.0) == 2.0
    with pytest.raises(FieldProblem, match="spike_rate_per_s: a spike profile needs spike_rate_per_s"):
        spike.rate_at(3.0)


def test_scenario_dataclass_round_trips_through_plain_data():
    s = load_scenario(LANG_SON)
    again = scenario_from_dict(s.to_dict(), file=s.file)
    assert again == s and isinstance(again, Scenario)


# --- the command line ----------------------------------------------------------------------------


def test_cli_check_prints_a_summary_per_file(capsys):
    assert main(["scenario", "check", str(LANG_SON), "son-la-2020-2023"]) == 0
    out = capsys.readouterr().out
    assert "lang-son-2024: Lạng Sơn 2024" in out and "Huyện Cao Lộc (14.90%)" in out
    assert "45% by 2024-12-31 (Decision 497)" in out and "son-la-2020-2023" in out


def test_cli_check_fails_with_exit_2_and_the_message(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(LANG_SON.read_text(encoding="utf-8").replace("end = 2024-12-31", "end = 2024-12-32", 1),
                    encoding="utf-8")
    assert main(["scenario", "check", str(path)]) == 2
    assert "impossible date: December 2024 has 31 days, not 32" in capsys.readouterr().err
    # With several files, every file is checked and the bad one does not hide the good one.
    assert main(["scenario", "check", str(path), str(LANG_SON)]) == 2
    captured = capsys.readouterr()
    assert "lang-son-2024.toml: OK" in captured.out
    assert "bad.toml: interventions[0].end = '2024-12-32'" in captured.err and "1 of 2 file(s) invalid" in captured.err


def test_cli_schema_writes_the_json_schema(tmp_path):
    out = tmp_path / "scenario.schema.json"
    assert main(["scenario", "schema", "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == json_schema()


def test_committed_schema_file_is_up_to_date():
    committed = json.loads((SCENARIO_DIR / "scenario.schema.json").read_text(encoding="utf-8"))
    assert committed == json_schema(), "regenerate: motcua scenario schema --out scenarios/scenario.schema.json"


def test_toml_syntax_error_names_the_line_and_the_key(tmp_path):
    path = tmp_path / "syntax.toml"
    path.write_text(LANG_SON.read_text(encoding="utf-8").replace("horizon_days = 574", "horizon_days = 574 days"),
                    encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"syntax\.toml: simulation\.horizon_days = 'horizon_days = 574 days.*': "
                                            r"not valid TOML: .*line \d+"):
        load_scenario(path)


def test_missing_file_lists_the_bundled_scenarios(tmp_path):
    with pytest.raises(ScenarioError, match=r"file not found; bundled scenarios: .*lang-son-2024"):
        load_scenario(tmp_path / "nowhere.toml")


def test_numbers_without_provenance_are_listed(raw):
    data = broken(raw, lambda d: d.update(provenance={}))
    bare = scenario_from_dict(data, file="bare.toml")
    unmarked = bare.unmarked_numbers()
    assert "citizens.smartphone" in unmarked and "region.units[0].population" in unmarked
    assert "region.units[0].observed_share" not in unmarked  # it cites observed_share_source
    assert not [p for p in unmarked if p.startswith("scenario.")]


def test_overrides_keep_track_of_what_was_written(raw):
    bare = scenario_from_dict(broken(raw, lambda d: d.update(provenance={})), file="bare.toml")
    assert bare.provenance_of("region.units[0].counters.patience_minutes") == "assumed: default of motcua/scenario.py"
    changed = bare.with_overrides({"region.units[0].counters.patience_minutes": 45.0})
    assert "region.units[0].counters.patience_minutes" in changed.unmarked_numbers()
    assert changed.provenance_of("region.units[1].counters.patience_minutes").startswith("assumed: default")
    assert len(changed.unmarked_numbers()) == len(bare.unmarked_numbers()) + 1


def test_written_only_data_round_trips_without_the_defaults():
    s = load_scenario(LANG_SON)
    written = s.to_dict(written_only=True)
    assert "patience_minutes" not in written["region"]["units"][0]["counters"]
    assert "target_date" not in written["simulation"]
    again = scenario_from_dict(written, file=s.file)
    assert again == s and again.given == s.given


# --- provenance: one table for the schema and the report -----------------------------------------


def test_provenance_entries_add_each_observed_share_by_unit_id(raw):
    s = load_scenario(LANG_SON)
    entries = provenance_entries(s)
    assert entries["region.units[cao-loc].observed_share"] == "observed: lang-son-2024"
    assert {k: v for k, v in entries.items() if k in s.provenance} == dict(s.provenance)
    assert len(entries) == len(s.provenance) + sum(1 for u in s.units if u.observed_share_source) + 1  # + region
    for path, text in entries.items():
        assert s.provenance_of(path) == text, path


def test_an_entry_for_an_observed_share_by_index_is_not_repeated_by_id(raw):
    data = broken(raw, lambda d: d["provenance"].update({"region.units[1].observed_share": "derived: recounted"}))
    s = scenario_from_dict(data, file="recounted.toml")
    entries = provenance_entries(s)
    assert entries["region.units[1].observed_share"] == "derived: recounted"
    assert f"region.units[{s.units[1].id}].observed_share" not in entries
    assert "region.units[cao-loc].observed_share" in entries  # the others still cite their source
    assert s.provenance_of(f"region.units[{s.units[1].id}].observed_share") == "derived: recounted"


def test_an_unwritten_value_is_a_default_of_the_schema():
    national = load_scenario("national")
    assert national.provenance_of("adoption.behaviour.cash_factor") == DEFAULT_PROVENANCE
    assert DEFAULT_PROVENANCE == "assumed: default of motcua/scenario.py"  # the text the outputs carry


# --- the package's public names --------------------------------------------------------------------


def test_the_public_names_of_the_scenario_package():
    assert sorted(motcua.scenario.__all__) == sorted([
        "ALL_UNITS", "DEFAULT_PROVENANCE", "OUTREACH_KINDS", "PAYMENT_GROUPS", "PROVENANCE_KINDS", "SCENARIO_DIR",
        "SCENARIO_FILE", "SLO", "SLUG", "VNEID_LEVEL2_REQUIRED_FROM", "Z95_ROUNDED", "AdoptionParams",
        "BehaviourParameters", "CallbackDelay", "Citizens", "CostBasis", "Costs", "Counters", "Intervention",
        "InterventionKind", "LeverCost", "Load", "Meta", "Objective", "Optimise", "OptimisedLever", "PaymentSystem",
        "Profile", "ProfileKind", "Region", "Scenario", "SensitivityRanges",
        "ServiceMinutes", "Simulation", "Source", "Steps", "SystemQuality", "Target", "Unit", "UnitKind",
        "bundled_scenarios", "json_schema", "lever_intervention", "load_scenario", "price_intervention",
        "provenance_entries", "scenario_file", "scenario_from_dict", "scenario_warnings",
    ])
    assert all(hasattr(motcua.scenario, name) for name in motcua.scenario.__all__)


def test_every_name_the_repository_imports_from_the_scenario_package_is_public():
    """``from motcua.scenario import X`` keeps working for every X the code, tests and notebooks use."""
    files = subprocess.run(["git", "ls-files", "*.py", "*.ipynb"], capture_output=True, text=True, check=True,
                           cwd=PROJECT_ROOT).stdout.split()
    imported = set()
    for name in files:
        text = (PROJECT_ROOT / name).read_text(encoding="utf-8").replace("\\n", "\n")
        found = re.findall(r'^\s*"?from motcua\.scenario import \(([^)]*)\)', text, flags=re.M)
        found += re.findall(r'^\s*"?from motcua\.scenario import ([^(\n][^\n]*)', text, flags=re.M)
        for names in found:
            names = re.sub(r"#[^\n]*", "", names)
            imported |= {n.split(" as ")[0].strip() for n in names.split(",") if n.strip()}
    assert {"load_scenario", "Scenario", "OUTREACH_KINDS", "Profile"} <= imported
    assert imported <= set(motcua.scenario.__all__)
