"""The campaign report: self-contained, Vietnamese by default, escaped, rebuilt identically from saved files."""

from __future__ import annotations

import re
import shutil

import pytest
from helpers_run import shared_run

from motcua.errors import InputError
from motcua.report.html import build_report, render
from motcua.report.i18n import TEXTS, number, percent, text
from motcua.run_layout import RunFiles

# The shared run (made by whichever test asks first) takes a few minutes on a busy 2-core machine.
pytestmark = pytest.mark.timeout(600)
SECTIONS = ("summary", "units", "trajectories", "interventions", "counters", "demand", "load", "callbacks",
            "feedback", "capacity", "slo", "assumptions", "appendix")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return shared_run(tmp_path_factory)


@pytest.fixture
def run_copy(run_dir, tmp_path):
    """A copy to rebuild in (the shared run stays as `motcua run` wrote it)."""
    return shutil.copytree(run_dir, tmp_path / "run")


def test_report_is_vietnamese_utf8_with_every_section_and_chart(run_dir):
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="vi">' in page and '<meta charset="utf-8">' in page
    for word in ("Tóm tắt", "Nhu cầu thanh toán trực tuyến trong ngày cao điểm", "Các giả định và nguồn số liệu",
                 "Huyện Cao Lộc", "Thành phố Lạng Sơn"):
        assert word in page
    assert all(f'<section id="{s}">' in page for s in SECTIONS)
    charts = sorted((run_dir / "charts").glob("*.png"))
    assert len(re.findall(r'src="data:image/png;base64,', page)) == len(charts) >= 10
    assert "src=\"http" not in page and "<script" not in page  # self-contained, nothing to fetch


def test_report_says_the_slo_broke_and_marks_assumptions(run_dir):
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    # half the IPNs are lost: the callback p95 falls on a lost (censored) callback and fails too
    names = ", ".join(TEXTS["vi"][f"slo_{gate}"] for gate in ("callback_p95_ms", "lost_callbacks"))
    assert text("vi", "slo_breached", names=names) in page
    assert '<span class="fail">KHÔNG ĐẠT</span>' in page
    slo = page[page.index('<section id="slo">'):page.index('<section id="assumptions">')]
    assert "Số giao dịch ngân hàng đã duyệt nhưng không được báo về hệ thống" in slo and "e+" not in slo
    assert "giây" in slo and " ms<" not in slo.replace("ms</td>", "")  # limits in words: '≤ 30 giây', not 3e+04 ms
    assumptions = page[page.index('<section id="assumptions">'):page.index('<section id="appendix">')]
    assert "<h3>Các giả định quan trọng nhất</h3>" in assumptions
    assert "Tỷ lệ tối đa người dân sẵn sàng thanh toán trực tuyến" in assumptions
    assert "adoption." not in assumptions and "{" not in assumptions  # no code paths or JSON in the main text
    appendix = page[page.index('<section id="appendix">'):]
    assert "lang-son-2024" in appendix and "approximate district population" in appendix
    assert ">quan sát<" in appendix and ">giả định<" in appendix and "Dân số — Huyện Cao Lộc" in appendix
    assert "đo bằng kiểm thử tải của lần chạy này" in appendix


def test_report_rebuilds_identically_from_saved_files(run_dir, run_copy):
    from motcua.cli import main

    before = (run_dir / "report.html").read_text(encoding="utf-8")
    assert main(["report", str(run_copy)]) == 0
    assert (run_copy / "report.html").read_text(encoding="utf-8") == before


def test_a_run_copies_the_load_test_charts_instead_of_drawing_them_twice(run_dir, run_copy):
    """`motcua run` builds its report right after the load test drew its charts (same language and export): the
    report copies them; a rebuild without that promise, or with one missing, draws them."""
    for name in ("throughput", "latency", "callback_cdf"):  # the run's report charts are the load test's, as drawn
        assert (run_dir / "charts" / f"{name}.png").read_bytes() == (run_dir / "loadtest" / f"{name}.png").read_bytes()
    marker = b"\x89PNG drawn by the load test"
    (run_copy / "loadtest" / "latency.png").write_bytes(marker)
    build_report(run_copy, "vi", loadtest_drawn=True)
    assert (run_copy / "charts" / "latency.png").read_bytes() == marker
    build_report(run_copy, "vi")
    assert (run_copy / "charts" / "latency.png").read_bytes() == (run_dir / "charts" / "latency.png").read_bytes()
    (run_copy / "loadtest" / "throughput.png").unlink()
    (run_copy / "loadtest" / "latency.png").write_bytes(marker)
    build_report(run_copy, "vi", loadtest_drawn=True)  # one missing: all three drawn, none copied
    assert (run_copy / "charts" / "latency.png").read_bytes() == (run_dir / "charts" / "latency.png").read_bytes()


def test_report_in_english(run_copy):
    page = build_report(run_copy, "en").read_text(encoding="utf-8")
    assert '<html lang="en">' in page
    assert "Peak-day online-payment demand" in page and "Tóm tắt" not in page


def test_every_text_is_escaped(run_copy):
    files = RunFiles.load(run_copy)
    files.simulate["scenario"]["title"] = "<script>alert('x')</script> & co"
    files.simulate["units"][0]["name"] = '<img src=x onerror="alert(1)">'
    page = render(files, {}, "vi")
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co" in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page


def test_report_speaks_one_language(run_dir, run_copy):
    """Scenario title, intervention and unit names follow --lang (title/name in Vietnamese, *_en in English)."""
    vi = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "<title>Báo cáo chiến dịch thanh toán trực tuyến — Lạng Sơn 2024: chiến dịch thanh toán phí" in vi
    assert "Chiến dịch: tuyên truyền, vận động" in vi and "Công an cấp tài khoản định danh điện tử VNeID mức 2" in vi
    for english in ("Campaign: outreach and encouragement", "online fee payment campaign towards the 45% target",
                    "Level-2 VNeID enrolment with the police"):
        assert english not in vi
    en = build_report(run_copy, "en").read_text(encoding="utf-8")
    assert "<title>Online fee payment campaign report — Lạng Sơn 2024: online fee payment campaign towards" in en
    assert "Campaign: outreach and encouragement" in en and "Chiến dịch: tuyên truyền" not in en


def test_report_sections_keep_their_order_and_templates():
    from motcua.report.html import environment
    from motcua.report.sections import SECTIONS as REPORT_SECTIONS

    assert tuple(s.key for s in REPORT_SECTIONS) == SECTIONS
    for s in REPORT_SECTIONS:
        environment().get_template(s.template)  # every section has its template (package data)


def test_templates_are_package_data():
    """A non-editable install ships every template: pyproject's package-data globs cover the folder."""
    import tomllib
    from pathlib import Path

    from motcua.runs import PROJECT_ROOT

    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["motcua.report"]
    package = PROJECT_ROOT / "motcua" / "report"
    shipped = {p for g in globs for p in package.glob(g)}
    templates = {p for p in (package / "templates").rglob("*") if p.is_file()}
    assert templates and templates <= shipped
    assert {"report.html.j2", "studies.html.j2"} <= {Path(p).name for p in templates}


EVIL = "<script>alert('x')</script>"
CALIBRATE = {
    "observations": [{"period_start": "2024-01-01", "period_end": "2024-06-30", "observed": 0.107, "proxy_sd": 0.02}],
    "agent": {"replications": 8, "observations": [{"simulated_mean": 0.112, "simulated_low95": 0.098,
                                                   "simulated_high95": 0.126, "inside": True}]},
    "targets": [{"share": 0.45, "deadline": "2025-12-31", "best": "2025-09-14", "level": 0.9, "low": "2025-07-02",
                 "high": None, "searched_until": "2026-12-31", "probability_by_deadline": 0.62}],
    "mean_field_alone": {"targets": [{"best": "2025-03-01", "probability_by_deadline": 0.97}]},
    "backtest": {"fitted_on": [{}, {}], "held_out": [{"period_start": "2024-07-01", "period_end": "2024-12-31",
                                                      "observed": 0.15, "forecast": 0.1375, "miss": -0.0125,
                                                      "low": 0.13, "high": 0.145, "inside": False}]},
}
SENSITIVITY = {"groups": ["a", "b", EVIL], "top": ["citizens.digital_skill", EVIL], "runs": 96,
               "ranking": [EVIL, "citizens.digital_skill"], "outputs": ["final_share", "target_day"],
               "sobol": {"final_share": {"ST": [0.83, 0.12], "S1": [0.61, 0.05]},
                         "target_day": {"ST": [0.44, 0.51], "S1": [0.30, 0.40]}}}


def _study_run(folder, kind, summary):
    import json

    (folder / "charts").mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"kind": kind}), encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


def test_assumptions_show_the_calibrate_and_sensitivity_runs_beside_the_run_escaped(run_copy):
    """The newest calibrate and sensitivity runs of the scenario's folder made before the run are in the section."""
    _study_run(run_copy.parent / "20200101-000000-cal1", "calibrate", CALIBRATE)
    sens = _study_run(run_copy.parent / "20200102-000000-sen1", "sensitivity", SENSITIVITY)
    (sens / "charts" / "tornado.png").write_bytes(b"\x89PNG tornado")
    page = render(RunFiles.load(run_copy), {}, "en")
    section = page[page.index('<section id="assumptions">'):]
    assert section.index("<h3>Calibration to the observations</h3>") < section.index("<h3>Backtest</h3>") \
        < section.index("<h3>The assumptions that matter most (global sensitivity)</h3>") \
        < section.index("<h3>The assumptions that matter most</h3>")  # the studies first, then the key table
    assert "the 95% band is that of the mean over 8 replications" in section
    assert '<td>2024-01-01 – 2024-06-30</td><td class="num">10.70%</td><td>proxy ±2%</td>' in section
    assert '<td class="num">11.20%</td><td class="num">9.80% – 12.60%</td><td>yes</td>' in section
    assert ('<p class="headline">Date the 45% target is reached (deadline 2025-12-31): best 2025-09-14; 90% band '
            "2025-07-02 – &gt; 2026-12-31 (parameters and replications); probability by the deadline 62%.</p>"
            ) in section
    assert "The mean field alone (barriers off) would say: 2025-03-01, probability 97%." in section
    assert "Fitted on the first 2 observations, forecast the 1 held out." in section
    assert '<td class="num">-1.25%</td><td class="num">13.00% – 14.50%</td><td>NO</td>' in section
    assert "Morris screening of 3 assumption groups, then Sobol&#39; indices of the top 2 (96 runs)." in section
    assert '<td class="num">0.83 (0.61)</td><td class="num">0.44 (0.30)</td>' in section
    assert "<th>Final share: total (first-order) index</th>" in section and "a household survey" in section
    assert "<td>Can complete an online form and payment unaided</td>" in section  # a group by its plain name
    assert 'src="data:image/png;base64,iVBORyB0b3JuYWRv"' in section
    # A group name from a scenario file is text, never markup: in the table and in what data would pin it down.
    assert "<script>" not in page
    assert section.count("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") == 2


def test_report_refuses_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(InputError, match=r"not a folder written by `motcua run`"):
        build_report(tmp_path)
    with pytest.raises(InputError, match=r"--lang 'fr': unknown language; choose one of vi, en"):
        build_report(tmp_path, "fr")


def test_both_languages_have_the_same_keys():
    from motcua.report.i18n import LANGS

    assert set(TEXTS) == set(LANGS)
    assert TEXTS["vi"].keys() == TEXTS["en"].keys()


def test_vietnamese_numbers_use_decimal_comma():
    assert percent(0.1734, "vi") == "17,3%" and percent(0.1734, "en") == "17.3%"
    assert number(1234567.5, "vi", 1) == "1.234.567,5" and number(1234567.5, "en", 1) == "1,234,567.5"


def test_a_scenario_without_english_names_still_loads_and_shows_its_one_name(tmp_path):
    """Files written before title_en/name_en load unchanged; English reports then show the one name."""
    from motcua.models.figures import scenario_facts

    from motcua.run_layout import localized
    from motcua.scenario import SCENARIO_DIR, load_scenario

    old = "\n".join(line for line in (SCENARIO_DIR / "lang-son-2024.toml").read_text(encoding="utf-8").split("\n")
                    if not line.startswith(("title_en =", "name_en =")))
    shutil.copy(SCENARIO_DIR / "fee-catalogue.toml", tmp_path)
    (tmp_path / "old.toml").write_text(old, encoding="utf-8")
    scenario = load_scenario(tmp_path / "old.toml")
    assert scenario.scenario.title_en == "" and all(i.name_en == "" for i in scenario.interventions)
    facts = scenario_facts(scenario)
    assert facts.title_en == "" and localized({"title": facts.title}, "title", "en") == scenario.scenario.title

    from motcua.pipeline import intervention_label

    item = scenario.interventions[0]
    assert intervention_label(item, 0, "en") == intervention_label(item, 0) == "Chiến dịch: tuyên truyền, vận động"
    bundled = load_scenario("lang-son-2024").interventions[0]
    assert intervention_label(bundled, 0, "en") == "Campaign: outreach and encouragement"


def test_report_rebuilds_with_svg_charts_and_an_xlsx_of_its_tables(run_copy):
    """`motcua report RUN --format png,svg`: every chart also as SVG; report.xlsx holds the page's tables."""
    from openpyxl import load_workbook

    from motcua.cli import main

    assert main(["report", str(run_copy), "--format", "png,svg"]) == 0
    pngs = sorted(p.stem for p in (run_copy / "charts").glob("*.png"))
    assert pngs and sorted(p.stem for p in (run_copy / "charts").glob("*.svg")) == pngs
    book = load_workbook(run_copy / "report.xlsx")
    units = book["Các đơn vị so với mục tiêu"]
    assert units["A1"].value == "Đơn vị" and units["A2"].value == "Toàn bộ các đơn vị"
    assert any(row[0].value == "Huyện Cao Lộc" and isinstance(row[1].value, float) for row in units.iter_rows())
    page = (run_copy / "report.html").read_text(encoding="utf-8")
    assert "figcaption" not in page and "charts/" not in page  # no file paths under the charts
