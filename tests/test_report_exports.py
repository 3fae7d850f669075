"""Exports for the campaign plan and a report that reads as one document: number formats shared by charts and
tables, SVG and 300 dpi charts, report.xlsx, CSVs with a byte-order mark, plain names, sensitivity in words."""

from __future__ import annotations

import json

import pytest

from motcua.cli import build_parser
from motcua.errors import InputError
from motcua.report.export import ChartExport, chart_export, exporting
from motcua.report.numbers import NumberFormatter, duration, number, percent, percent_formatter
from motcua.scenario import load_scenario

# --- one number format -------------------------------------------------------------------------------------------


def test_tick_labels_use_the_decimal_comma_and_the_thousands_dot():
    assert NumberFormatter("vi").format_ticks([0.5, 1.0, 1.5]) == ["0,5", "1,0", "1,5"]
    assert NumberFormatter("en").format_ticks([0.5, 1.0, 1.5]) == ["0.5", "1.0", "1.5"]
    assert NumberFormatter("vi").format_ticks([0, 10000, 20000]) == ["0", "10.000", "20.000"]
    assert percent_formatter("vi").format_ticks([0.0, 0.125, 0.25]) == ["0,0%", "12,5%", "25,0%"]
    assert percent_formatter("vi").format_ticks([0.0, 0.2, 0.4]) == ["0%", "20%", "40%"]


def test_a_chart_saved_for_vietnamese_has_vietnamese_ticks_like_the_tables(tmp_path):
    import matplotlib.pyplot as plt

    from motcua.report.style import save

    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [0.0, 1.8, 2.5])
    save(fig, tmp_path / "hours.png", "vi")
    formatter = ax.yaxis.get_major_formatter()
    assert isinstance(formatter, NumberFormatter) and formatter.lang == "vi"
    labels = formatter.format_ticks(list(ax.get_yticks()))
    assert "0,5" in labels and "1,5" in labels
    assert number(1.8, "vi", 1) == "1,8"  # what the table beside it writes


def a_plan(name: str, level: float) -> dict:
    """The part of a simulate summary the compare trajectory chart reads: weekly all-units share and a target."""
    weeks = [f"2024-{m:02d}-01" for m in range(6, 13)] + ["2025-01-06", "2025-02-03"]
    mean = [level + 0.01 * k for k in range(len(weeks))]
    return {"scenario": {"name": name, "region": "Lạng Sơn"},
            "share": {"weekly": {"labels": weeks, "series": {"all": {
                "mean": mean, "low": [m - 0.01 for m in mean], "high": [m + 0.01 for m in mean]}}}},
            "targets": [{"share": 0.45, "date": "2024-12-31", "deadline_within_horizon": True}]}


def test_the_compare_trajectories_read_like_the_report_charts(tmp_path, monkeypatch):
    """As the report's own charts: dates and shares in the page's format, the legend outside the axes, the target
    labelled on its line (not a legend entry that could hide it)."""
    import matplotlib.pyplot as plt

    import motcua.report.style as style
    from motcua.report.simulation_charts import compare_trajectories

    drawn = []
    monkeypatch.setattr(plt, "close", lambda fig: drawn.append(fig))
    compare_trajectories([a_plan("base", 0.12), a_plan("qr-teams", 0.14)], tmp_path / "t.png", "vi")
    ax = drawn[-1].axes[0]
    dates = [label.get_text() for label in ax.get_xticklabels()]
    assert any(text.endswith("/2024") for text in dates) and not any(text.startswith("2024-") for text in dates)
    assert ax.yaxis.get_major_formatter().lang == "vi"
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["base", "qr-teams"]  # the target is not a legend entry
    assert legend.get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1  # right of the axes
    assert any("Mục tiêu 45%" in t.get_text() for t in ax.texts)
    assert style.TARGET_COLOR in {line.get_color() for line in ax.get_lines()}


def test_run_times_read_as_the_page_writes_dates():
    from motcua.report.numbers import moment

    assert moment("2026-12-08T00:35:48.915+00:00", "vi") == "08/12/2026 00:35"
    assert moment("2026-12-08T00:35:48.915+00:00", "en") == "2026-12-08 00:35"
    assert moment("2026-12-08", "vi") == "08/12/2026" and moment(None, "vi") == "—"


def test_durations_read_as_words():
    assert duration(30, "vi") == "30 giây" and duration(30, "en") == "30 s"
    assert duration(4.25, "vi") == "4,2 giây"  # banker's rounding of 4.25 aside: one decimal
    assert duration(0.85, "vi") == "850 ms" and duration(600, "vi") == "10 phút" and duration(5400, "vi") == "90 phút"
    assert duration(3 * 3600, "vi") == "3 giờ"
    assert percent(0.1734, "vi") == "17,3%"


def test_slo_limits_and_measures_read_as_a_planner_reads_them():
    from motcua.report.sections import slo_measure

    assert slo_measure(30000, "ms", "vi") == "30 giây"
    assert slo_measure(0.01, "share", "vi") == "1,00%"
    assert slo_measure(0, "count", "vi") == "0"
    assert slo_measure(None, "ms", "vi") == "chưa đo"


# --- chart exports -------------------------------------------------------------------------------------------------


def test_charts_export_as_svg_and_at_300_dpi(tmp_path):
    import matplotlib.pyplot as plt
    from PIL import Image

    from motcua.report.style import save

    def draw(path):
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot([0, 1], [0, 1])
        return save(fig, path, "vi")

    draw(tmp_path / "default.png")
    assert not (tmp_path / "default.svg").exists()  # the default stays PNG only
    with exporting(ChartExport(dpi=300, formats=("png", "svg"))):
        assert draw(tmp_path / "print.png") == tmp_path / "print.png"
    svg = (tmp_path / "print.svg").read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and "<svg" in svg
    small, large = Image.open(tmp_path / "default.png"), Image.open(tmp_path / "print.png")
    assert large.size[0] > 2 * small.size[0]
    assert round(large.info["dpi"][0]) == 300
    with exporting(ChartExport(dpi=300, formats=("png", "svg"))):
        draw(tmp_path / "again.png")
    assert (tmp_path / "again.svg").read_bytes() == (tmp_path / "print.svg").read_bytes()  # no date, no random ids


@pytest.mark.parametrize("command", [["run", "lang-son-2024"], ["simulate", "lang-son-2024"],
                                     ["compare", "a", "b"], ["report", "somewhere"]])
def test_dpi_and_format_are_options_of_every_command_that_draws(command):
    args = build_parser().parse_args([*command, "--dpi", "300", "--format", "png,SVG"])
    assert chart_export(args) == ChartExport(dpi=300, formats=("png", "svg"))
    assert chart_export(build_parser().parse_args(command)) == ChartExport()


def test_unknown_formats_and_resolutions_are_refused_with_the_choices():
    with pytest.raises(InputError, match=r"--format png,jpg: unknown format jpg; choose among png, svg, pdf"):
        chart_export(build_parser().parse_args(["report", "x", "--format", "png,jpg"]))
    with pytest.raises(InputError, match=r"--dpi 5: out of range; use 30–1200 \(300 for print\)"):
        chart_export(build_parser().parse_args(["report", "x", "--dpi", "5"]))


# --- tables: XLSX and CSV --------------------------------------------------------------------------------------


def test_the_report_tables_become_an_xlsx_with_vietnamese_headers_and_numbers(tmp_path):
    from openpyxl import load_workbook

    from motcua.report.workbook import report_workbook

    page = ("<h2>Các đơn vị so với mục tiêu</h2><table><thead><tr><th>Đơn vị</th><th>Tỷ lệ quan sát ban đầu</th>"
            "<th>Chi phí (VND)</th></tr></thead><tbody><tr><td>Huyện Cao Lộc</td><td class=\"num\">17,3%</td>"
            "<td>1.234.500</td></tr><tr><td>Thành phố Lạng Sơn</td><td>—</td><td>12/2024</td></tr></tbody></table>")
    path = report_workbook(page, tmp_path / "report.xlsx", "vi")
    sheet = load_workbook(path)["Các đơn vị so với mục tiêu"]
    assert [c.value for c in sheet[1]] == ["Đơn vị", "Tỷ lệ quan sát ban đầu", "Chi phí (VND)"]
    assert sheet["A2"].value == "Huyện Cao Lộc"
    assert sheet["B2"].value == pytest.approx(0.173) and sheet["B2"].number_format == "0.0%"
    assert sheet["C2"].value == 1234500
    assert sheet["B3"].value == "—" and sheet["C3"].value == "12/2024"


def test_csv_files_start_with_a_byte_order_mark_and_read_back(tmp_path):
    import pandas as pd

    from motcua.runs import write_csv

    path = write_csv(tmp_path / "units.csv", ["unit", "share"], [["Huyện Cao Lộc", 0.173]])
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    assert path.read_text(encoding="utf-8-sig").splitlines()[1] == "Huyện Cao Lộc,0.173"
    assert pd.read_csv(path).columns.tolist() == ["unit", "share"]


# --- plain names, the key assumptions, sensitivity in words -------------------------------------------------


def test_field_paths_have_plain_vietnamese_names():
    from motcua.report.field_names import field_name

    scenario = load_scenario("lang-son-2024")
    assert field_name("adoption.potential_share", "vi") == "Tỷ lệ tối đa người dân sẵn sàng thanh toán trực tuyến"
    assert field_name("region.units[cao-loc].population", "vi", scenario) == "Dân số — Huyện Cao Lộc"
    assert field_name("interventions[0]", "vi", scenario) == "Giải pháp «Chiến dịch: tuyên truyền, vận động»"
    assert field_name("region.units[*].counters", "en").endswith("— every unit")


def test_key_assumptions_without_a_sensitivity_run_follow_the_documented_rule():
    from motcua.report.key_assumptions import KEY_ROWS, key_assumptions

    scenario = load_scenario("lang-son-2024")
    key = key_assumptions(scenario, None, "vi")
    assert len(key.rows) == KEY_ROWS and "quy tắc cố định" in key.ranked_by
    names = [row[0] for row in key.rows]
    assert names[0] == "Tỷ lệ tối đa người dân sẵn sàng thanh toán trực tuyến"
    assert names[1].startswith("Hệ số đổi mới p")
    for row in key.rows:  # no code paths, no JSON
        assert not any(ch in cell for cell in row for ch in "{[]}") and "adoption." not in "".join(row)


def test_key_assumptions_follow_the_sensitivity_run_when_there_is_one():
    from motcua.report.key_assumptions import key_assumptions

    scenario = load_scenario("lang-son-2024")
    summary = {"ranking": ["citizens.digital_skill", "adoption.potential_share"], "groups": [], "morris": {}}
    key = key_assumptions(scenario, summary, "vi")
    assert [row[0] for row in key.rows[:2]] == ["Tỷ lệ người tự làm được thủ tục và thanh toán trực tuyến",
                                                "Tỷ lệ tối đa người dân sẵn sàng thanh toán trực tuyến"]
    assert "phân tích độ nhạy" in key.ranked_by


def _study(folder, kind, summary, scenario="lang-son-2024", sha="abc", run_id=None):
    (folder / "charts").mkdir(parents=True)
    manifest = {"kind": kind, "run_id": run_id or folder.name, "scenario": scenario, "started_at": "2026-12-07T20:00",
                "inputs": [{"role": "scenario", "path": "x.toml", "sha256": sha}]}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


SENSITIVITY = {"groups": ["a"], "top": ["adoption.potential_share"], "runs": 9, "ranking": ["adoption.potential_share"],
               "outputs": ["final_share"], "sobol": {"final_share": {"ST": [0.8], "S1": [0.6]}}}


def test_a_sensitivity_run_made_after_the_run_reaches_the_report_if_it_is_of_the_same_file(tmp_path):
    from motcua.report.assumptions import studies, study_folders

    run = _study(tmp_path / "20261207-100000-run1", "run", {}, sha="abc")
    later = _study(tmp_path / "20261207-120000-sen2", "sensitivity", SENSITIVITY, sha="abc")
    _study(tmp_path / "20261207-130000-sen3", "sensitivity", SENSITIVITY, sha="other")  # another version of the file
    _study(tmp_path / "20261207-140000-sen4", "sensitivity", SENSITIVITY, scenario="son-la-2020-2023", sha="abc")
    assert study_folders(run) == {"sensitivity": later}
    blocks = studies(run, "vi")
    assert blocks[0].notes[0] == ("Theo lần chạy motcua sensitivity 20261207-120000-sen2 (bắt đầu 07/12/2026 20:00 "
                                  "UTC) của cùng tệp kịch bản.")
    assert blocks[0].rows[0][0] == "Tỷ lệ tối đa người dân sẵn sàng thanh toán trực tuyến"
    assert blocks[0].rows[0][1] == "0,80 (0,60)"


def test_sensitivity_prints_names_and_dates_not_paths_and_day_numbers():
    from motcua.commands.sensitivity import describe, plain_names

    scenario = load_scenario("lang-son-2024")
    groups = ["interventions[0]", "adoption.potential_share"]
    summary = {"scenario": "lang-son-2024", "factors": [{}, {}], "groups": groups, "top": groups,
               "ranking": groups, "outputs": ["final_share", "target_day", "hours_freed"],
               "base": {"final_share": 0.25, "target_day": 502.0, "hours_freed": 1.8},
               "morris": {o: {"mu_star": [0.01, 30.0], "sigma": [0, 0]} for o in ("final_share", "target_day",
                                                                                  "hours_freed")},
               "sobol": {o: {"ST": [0.5, 0.4], "S1": [0.3, 0.2]} for o in ("final_share", "target_day", "hours_freed")},
               "data_to_pin_down": dict.fromkeys(groups, "x"), "data_to_pin_down_vi": dict.fromkeys(groups, "y"),
               "censored_target_days": 0, "horizon_days": 574, "group_labels": plain_names(scenario, groups),
               "start": "2024-06-06", "target": {"share": 0.45, "date": "2024-12-31"}}
    vi, en = describe(summary, "vi"), describe(summary, "en")
    for out in (vi, en):
        assert "mu*" not in out and "interventions[0]" not in out and "target day 502" not in out
    assert "đạt mục tiêu 45% vào 21/10/2025" in vi and "Giải pháp «Chiến dịch: tuyên truyền, vận động»" in vi
    assert "the 45% target reached on 2025-10-21" in en and "1,8 giờ" not in en and "1,8" in vi
    # its words live in the one text table (`sens_*` of motcua.report.i18n), not in the command
    import motcua.commands.sensitivity as command
    from motcua.report.i18n import text

    assert not hasattr(command, "WORDS")
    assert text("vi", "sens_morris") in vi and text("en", "sens_sobol") in en and text("en", "sens_data") in en
