"""The studio's editor without a browser: schema errors mapped to fields and translated, the tomlkit round trip,
"New from …" copies that still resolve, interventions added and deleted with their provenance."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import tomlkit

import motcua.studio
from motcua.errors import InputError
from motcua.scenario import load_scenario
from motcua.studio import editor
from motcua.studio.problems import translate
from motcua.studio.texts import t
from motcua.studio.workspace import Workspace

BUNDLED = Workspace.bundled_dir()


def test_public_names_are_pinned():
    assert motcua.studio.__all__ == ["StudioConfig", "create_app"]


@pytest.mark.parametrize(("english", "vietnamese"), [
    ("impossible date: February 2024 has 29 days, not 30",
     "ngày không có thật: tháng 2/2024 có 29 ngày, không có ngày 30"),
    ("impossible date: December 2024 has 31 days, not 32",
     "ngày không có thật: tháng 12/2024 có 31 ngày, không có ngày 32"),
    ("impossible date: there is no month 13", "ngày không có thật: không có tháng 13"),
    ("ends before start 2024-07-01", "kết thúc trước ngày bắt đầu (2024-07-01)"),
    ("must be >= 1", "phải lớn hơn hoặc bằng 1"),
    ("a share must be within 0–1", "tỷ lệ phải nằm trong khoảng 0–100%"),
    ("no such unit; units: bac-son, cao-loc or '*'", "không có đơn vị này; các đơn vị: bac-son, cao-loc or '*'"),
    ("after the simulation ends (2025-12-31); raise simulation.horizon_days to at least 700",
     "sau ngày kết thúc mô phỏng (2025-12-31); tăng số ngày mô phỏng lên ít nhất 700"),
])
def test_schema_problems_in_vietnamese(english, vietnamese):
    assert translate(english, "vi") == vietnamese
    assert translate(english, "en") == english


def test_an_untranslated_problem_is_shown_in_english_rather_than_hidden():
    assert translate("a brand-new rule broke", "vi") == "a brand-new rule broke"


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def test_new_from_copies_with_references_resolving(workspace: Workspace, tmp_path: Path):
    before = {p: p.read_bytes() for p in BUNDLED.rglob("*") if p.is_file()}
    path = workspace.new_from("son-la-2020-2023", "son-la-qr")
    copy = load_scenario(path)
    assert copy.name == "son-la-qr"
    assert copy.fee_catalogue_path().is_file()
    assert copy.fee_catalogue_path() == (BUNDLED / "fee-catalogue.toml").resolve()
    assert (workspace.root / "observed" / "son-la-qr.csv").read_bytes() == \
        (BUNDLED / "observed" / "son-la-2020-2023.csv").read_bytes()
    assert "# " in path.read_text(encoding="utf-8") and "[provenance]" in path.read_text(encoding="utf-8")
    check = subprocess.run([sys.executable, "-m", "motcua.cli", "scenario", "check", str(path)], capture_output=True,
                           text=True, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert "does not exist" not in check.stdout
    assert {p: p.read_bytes() for p in BUNDLED.rglob("*") if p.is_file()} == before  # bundled files untouched


def test_new_from_refuses_unsafe_names_and_overwriting(workspace: Workspace):
    for bad in ("../evil", "Lang Son", "a/b", "", "x" * 65, ".hidden"):
        with pytest.raises(InputError):
            workspace.new_from("lang-son-2024", bad)
    workspace.new_from("lang-son-2024", "mine")
    with pytest.raises(InputError, match="already exists"):
        workspace.new_from("lang-son-2024", "mine")
    with pytest.raises(InputError):
        workspace.path_for("..")


def test_workspace_scenario_shadows_nothing_bundled(workspace: Workspace):
    workspace.new_from("lang-son-2024", "lang-son-copy")
    names = [e.name for e in workspace.all()]
    assert names[0] == "lang-son-copy" and "lang-son-2024" in names
    assert workspace.find("lang-son-2024").bundled and not workspace.find("lang-son-copy").bundled


def _form(text: str, scenario, **changes: str) -> dict[str, list[str]]:
    """The whole form as a browser would submit it unchanged, with `changes` typed in."""
    doc = tomlkit.parse(text)
    fields = editor.all_fields(editor.form_fields(doc, scenario, t("vi")))
    form = {p: ([*f.value, ""] if f.kind == "units" else [str(editor.display(f, {}, "vi"))]) for p, f in fields.items()}
    form.update({k.replace("__", "."): [v] for k, v in changes.items()})
    return form


def test_load_save_load_keeps_the_scenario_and_the_comments(workspace: Workspace):
    path = workspace.new_from("lang-son-2024", "ls")
    text = path.read_text(encoding="utf-8")
    scenario = load_scenario(path)
    result = editor.apply_form(text, _form(text, scenario), scenario, t("vi"), str(path))
    assert result.valid
    editor.save(result.doc, path)
    assert path.read_text(encoding="utf-8") == text  # nothing changed, not a byte
    assert load_scenario(path) == scenario


def test_an_edit_changes_only_its_value_and_keeps_comments(workspace: Workspace):
    path = workspace.new_from("lang-son-2024", "ls")
    text = path.read_text(encoding="utf-8")
    scenario = load_scenario(path)
    form = _form(text, scenario)
    form["interventions[0].cost_vnd"] = ["350000000"]
    form["region.units[0].observed_share"] = ["15,2"]
    result = editor.apply_form(text, form, scenario, t("vi"), str(path))
    assert result.valid, result.error
    editor.save(result.doc, path)
    saved = path.read_text(encoding="utf-8")
    assert "start = 2024-06-06           # the campaign's first day" in saved
    assert "# The campaign of 6 June 2024" in saved
    assert saved.count("\n") == text.count("\n")
    again = load_scenario(path)
    assert again.interventions[0].cost_vnd == 350_000_000
    assert again.units[0].observed_share == 0.152
    assert again.provenance == scenario.provenance


def test_an_impossible_date_is_refused_by_the_schema_on_its_field(workspace: Workspace):
    path = workspace.new_from("lang-son-2024", "ls")
    text = path.read_text(encoding="utf-8")
    scenario = load_scenario(path)
    form = _form(text, scenario)
    form["interventions[1].start"] = ["2024-02-30"]
    result = editor.apply_form(text, form, scenario, t("vi"), str(path))
    assert not result.valid
    assert result.error.field == "interventions[1].start" and result.error.value == "2024-02-30"
    assert editor.field_of_error(result.error, list(form)) == "interventions[1].start"
    assert translate(result.error.problem, "vi") == "ngày không có thật: tháng 2/2024 có 29 ngày, không có ngày 30"
    assert result.raw == {"interventions[1].start": "2024-02-30"}


def test_a_unit_list_error_lands_on_the_units_field(workspace: Workspace):
    path = workspace.new_from("lang-son-2024", "ls")
    text = path.read_text(encoding="utf-8")
    scenario = load_scenario(path)
    form = _form(text, scenario)
    form["targets[0].units"] = [""]  # every box unticked
    result = editor.apply_form(text, form, scenario, t("vi"), str(path))
    assert result.error.field == "targets[0].units"
    assert editor.field_of_error(result.error, list(form)) == "targets[0].units"


def test_add_qr_from_july_then_delete_renumbers_provenance(workspace: Workspace):
    path = workspace.new_from("lang-son-2024", "ls")
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    index = editor.add_intervention(doc, "qr_at_counter", today=dt.date(2026, 1, 2))
    assert index == 3
    editor.set_in(doc, "interventions[3].start", dt.date(2024, 7, 1))
    result = editor.check(doc, {}, str(path))
    assert result.valid and result.scenario.interventions[3].kind == "qr_at_counter"
    assert result.scenario.provenance["interventions[3]"].startswith("assumed: added in motcua studio on 2026-01-02")
    editor.delete_intervention(doc, 1)
    result = editor.check(doc, {}, str(path))
    assert result.valid
    assert [i.kind for i in result.scenario.interventions] == ["information_campaign", "vneid_drive", "qr_at_counter"]
    assert result.scenario.provenance["interventions[1]"].startswith("assumed: a plausible lever after the 15 June")
    assert "interventions[3]" not in result.scenario.provenance


def test_an_intervention_outside_the_horizon_is_a_warning(workspace: Workspace):
    path = workspace.new_from("lang-son-2024", "ls")
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    editor.set_in(doc, "interventions[0].end", dt.date(2026, 6, 30))
    result = editor.check(doc, {}, str(path))
    assert result.valid
    assert [w["key"] for w in result.warnings] == ["warn_outside"]
    assert result.warnings[0]["sim_end"] == "2025-12-31"


def test_advanced_fields_carry_provenance_badges():
    scenario = load_scenario(BUNDLED / "lang-son-2024.toml")
    fields = {f.path: f for f in editor.advanced_fields(scenario)}
    assert fields["adoption.behaviour.vneid_required_from"].badge == "observed"
    assert fields["adoption.p_per_year"].badge == "assumed"
    assert "to be fitted" in fields["adoption.p_per_year"].source
    assert fields["citizens.smartphone"].help == "citizens.smartphone"  # the schema path, for engineers


def test_advanced_fields_are_named_as_the_report_names_them():
    from motcua.report.field_names import field_name

    scenario = load_scenario(BUNDLED / "lang-son-2024.toml")
    vi = {f.path: f.label for f in editor.advanced_fields(scenario, "vi")}
    assert vi["adoption.p_per_year"] == "Hệ số đổi mới p (người tự chuyển sang trực tuyến, mỗi năm)"
    assert vi["adoption.behaviour.qr_counter_uptake"] == "Tỷ lệ người trả bằng QR khi quầy có mã QR"
    assert all(label == field_name(path, "vi", scenario) for path, label in vi.items())  # one home for the names
    assert not [path for path, label in vi.items() if label == path]
    en = {f.path: f.label for f in editor.advanced_fields(scenario, "en")}
    assert en["adoption.p_per_year"] != vi["adoption.p_per_year"]


def test_a_units_row_edits_population_dossiers_share_and_counters(workspace: Workspace):
    path = workspace.new_from("lang-son-2024", "ls")
    text = path.read_text(encoding="utf-8")
    scenario = load_scenario(path)
    form = _form(text, scenario)
    form.update({"region.units[1].population": ["110000"], "region.units[1].fee_dossiers_per_year": ["25000"],
                 "region.units[1].counters.officers": ["7"], "region.units[1].counters.counters": ["7"]})
    result = editor.apply_form(text, form, scenario, t("vi"), str(path))
    assert result.valid, result.error
    editor.save(result.doc, path)
    again = load_scenario(path)
    unit = again.units[1]
    assert (unit.population, unit.fee_dossiers_per_year, unit.counters.counters, unit.counters.officers) == (
        110000, 25000, 7, 7)
    assert again.units[0] == scenario.units[0] and again.provenance == scenario.provenance
    assert path.read_text(encoding="utf-8").count("\n") == text.count("\n")  # values in place, comments kept
    form = _form(path.read_text(encoding="utf-8"), again)
    form["region.units[1].counters.officers"] = ["0"]
    result = editor.apply_form(path.read_text(encoding="utf-8"), form, again, t("vi"), str(path))
    assert not result.valid and result.error.field == "region.units[1].counters.officers"


def test_add_a_unit_then_delete_one_that_an_intervention_names(workspace: Workspace):
    path = workspace.new_from("lang-son-2024", "ls")
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    index = editor.add_unit(doc, today=dt.date(2026, 1, 2))
    result = editor.check(doc, {}, str(path))
    assert result.valid, result.error
    new = result.scenario.units[index]
    assert new.id == f"unit-{index + 1}" and new.counters == result.scenario.units[index - 1].counters
    assert result.scenario.provenance[f"region.units[{new.id}]"].startswith("assumed: added in motcua studio on "
                                                                             "2026-01-02")
    editor.save(doc, path)
    assert load_scenario(path).units[index].id == new.id  # saved, and it loads
    gone = result.scenario.units[0].id
    assert [k for k in doc["provenance"] if k.startswith(f"region.units[{gone}]")]
    editor.set_in(doc, "interventions[0].units", [gone])
    editor.delete_unit(doc, 0)
    result = editor.check(doc, {}, str(path))
    assert not result.valid and "no such unit" in result.error.problem  # refused on the intervention's field
    assert result.error.field.startswith("interventions[0].units")
    assert not [k for k in doc["provenance"] if k.startswith(f"region.units[{gone}]")]


def test_every_studio_text_exists_in_both_languages():
    from motcua.report.i18n import STUDIO_TEXTS, TEXTS

    assert STUDIO_TEXTS["vi"].keys() == STUDIO_TEXTS["en"].keys()
    assert all(TEXTS[lang][f"studio.{key}"] == words for lang in ("vi", "en")  # one table: the report's TEXTS
               for key, words in STUDIO_TEXTS[lang].items())
    assert t("vi")("answer") == STUDIO_TEXTS["vi"]["answer"]  # the studio's word first
    assert t("vi")("unit") == "Đơn vị" and t("en")("unit") == "Unit"  # the report's own wording


def test_observation_and_calibration_problems_in_vietnamese():
    from motcua.studio.pages import failure_text
    from motcua.studio.problems import observation_problem

    line = "/ws/observed/.ls.csv.upload: line 4, share = '1.4': a share must be within 0–1 (e.g. 0.25 for 25%)"
    assert observation_problem(line, "vi") == "dòng 4, cột share, giá trị '1.4': tỷ lệ phải nằm trong khoảng 0–100%"
    assert observation_problem(line, "en").startswith("line 4, column share, value '1.4': a share must be")
    missing = "/ws/observed/.ls.csv.upload: missing column(s) share; the header must include unit,period_start,…"
    assert observation_problem(missing, "vi").startswith("thiếu cột share;")
    origin = ("observation on line 2 starts 2024-01-01, before the calibration origin 2024-06-06; pass --origin "
              "2024-01-01 (and --fit-initial if the units had a share then)")
    assert failure_text(origin, "vi") == ("quan sát ở dòng 2 bắt đầu từ 2024-01-01, trước ngày bắt đầu mô phỏng "
                                          "2024-06-06: hiệu chỉnh từ dòng lệnh với --origin 2024-01-01, hoặc dùng số "
                                          "liệu từ 2024-06-06 trở đi")
    assert failure_text(origin, "en") == origin
