"""The campaign report: one self-contained ``report.html`` (charts embedded as base64 PNG) and ``charts/``.

*Scenario.* A planner puts the report in front of the provincial committee: did the campaign reach
45%, when, how sure are we; which levers paid off per point; what happens at the counters; and,
from the engineers' side, can the payment path carry the busiest day, and what do slow callbacks
cost in adoption. Everything is read from the run folder that `motcua run` wrote (nothing is
rerun), so `motcua report RUN_DIR --lang en` rebuilds it, in either language, with identical
content for the same inputs.

The page is rendered by Jinja2 with autoescape from ``templates/``: ``report.html.j2`` is the page,
``sections/<key>.html.j2`` one template per section (`motcua.report.sections` gives each its data),
``macros.html.j2`` the tables and figures they share. Labels are Vietnamese by default
(`motcua.report.i18n`); scenario titles, unit and intervention names are shown in the report's
language when the scenario gives both (`motcua.run_layout.localized`).
"""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from motcua.report.i18n import check_lang, moment, text
from motcua.report.sections import SECTIONS, ReportInput
from motcua.run_layout import CAPACITY_CHART, RunFiles, RunLayout, localized, write_text

if TYPE_CHECKING:
    from motcua.report.assumptions import Study

__all__ = ["REPORT_XLSX", "RunFiles", "build_report", "draw_charts", "render", "render_studies"]

REPORT_XLSX = "report.xlsx"
"""The report's tables as an Excel workbook, beside ``report.html`` (`motcua.report.workbook`)."""


# ---------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------
def draw_charts(files: RunFiles, folder: Path, lang: str, *, loadtest_drawn: Path | None = None) -> dict[str, Path]:
    """Every chart of the report as PNG in `folder`, by name.

    `loadtest_drawn`: the folder where the load test drew its own charts in `lang` with the current export
    settings (`motcua run` builds the report right after it); they are copied rather than drawn again."""
    from motcua.report import campaign_charts as cc
    from motcua.report.loadtest_charts import capacity_chart
    from motcua.report.simulation_charts import simulation_charts

    folder.mkdir(parents=True, exist_ok=True)
    charts = {p.stem: p for p in simulation_charts(files.simulate, folder, lang)}
    if files.interventions and files.interventions["interventions"]:
        charts["interventions"] = cc.interventions(files.interventions["interventions"],
                                                   folder / "interventions.png", lang)
    if files.demand:
        charts["demand_hourly"] = cc.demand_hourly(files.demand, folder / "demand_hourly.png", lang)
    if files.harness:
        charts.update({p.stem: p for p in loadtest_charts(files, folder, lang, loadtest_drawn)})
    if files.quality and files.quality["by_bank"]:
        charts["callback_real_time"] = cc.callback_real_time(files.quality, folder / "callback_real_time.png", lang)
    if files.feedback and files.flawless:
        charts["feedback_trajectories"] = cc.feedback_trajectories(
            {"assumed": files.simulate, "measured": files.feedback, "flawless": files.flawless},
            folder / "feedback_trajectories.png", lang)
    capacity = files.loadtest.get("capacity") if files.loadtest else None
    if capacity and capacity["steps"]:
        charts["capacity"] = capacity_chart(capacity["steps"], folder / CAPACITY_CHART, lang)
    return charts


def loadtest_charts(files: RunFiles, folder: Path, lang: str, drawn: Path | None) -> list[Path]:
    """The load test's charts in `folder`: copied from `drawn` when every one is there, else drawn."""
    import shutil

    from motcua.report.export import current
    from motcua.report.loadtest_charts import CHART_NAMES, write_charts

    assert files.harness is not None
    suffixes = current().suffixes(".png")
    sources = [drawn / f"{name}{suffix}" for name in CHART_NAMES for suffix in suffixes] if drawn else []
    if not sources or not all(source.is_file() for source in sources):
        return write_charts(files.harness, folder, lang)
    for source in sources:
        shutil.copyfile(source, folder / source.name)
    return [folder / f"{name}.png" for name in CHART_NAMES]


@dataclass(frozen=True)
class Chart:
    """A chart as the page embeds it: base64 PNG and its alternative text (no file path: the chart has a title)."""

    data: str
    alt: str


def embed(charts: dict[str, Path], lang: str) -> dict[str, Chart]:
    """Every drawn chart, ready for the ``figure`` macro."""
    return {name: Chart(data=base64.b64encode(path.read_bytes()).decode("ascii"),
                        alt=text(lang, "chart_alt", name=path.stem.replace("_", " ")))
            for name, path in charts.items()}


@functools.cache
def environment() -> jinja2.Environment:
    """The report's templates (package data of `motcua.report`), escaping every value."""
    return jinja2.Environment(loader=jinja2.PackageLoader("motcua.report", "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True)


def render(f: RunFiles, charts: dict[str, Path], lang: str) -> str:
    """The whole page as a string (deterministic for the same files and charts)."""
    from motcua.scenario import load_scenario

    scenario = load_scenario(f.scenario_file) if f.scenario_file else None
    report = ReportInput(f, scenario, lang)
    info = f.simulate["scenario"]
    m = f.manifest
    views = {s.key: s.view(report) for s in SECTIONS}
    template = environment().get_template("report.html.j2")
    return template.render(
        lang=lang, t=report.t, sections=SECTIONS, views=views, figures=embed(charts, lang),
        title=text(lang, "report_title", title=localized(info, "title", lang) or info["name"]),
        meta=text(lang, "generated_from", run_id=m.get("run_id", ""), started=moment(m.get("started_at"), lang),
                  command=m.get("command_line", "")))


def render_studies(studies: list[Study]) -> str:
    """The calibrate and sensitivity blocks alone, as the assumptions section shows them (escaped)."""
    return environment().get_template("sections/studies.html.j2").render(view={"studies": studies})


def build_report(run_dir: Path, lang: str = "vi", *, loadtest_drawn: bool = False) -> Path:
    """Draw the charts into ``charts/``, write ``report.html`` and its tables as ``report.xlsx`` in `run_dir`, from
    its saved files only. `loadtest_drawn`: the load test drew its charts in `lang` just before (in this process,
    with the same export settings), so they are copied from its folder, not drawn twice."""
    from motcua.report.workbook import report_workbook

    check_lang(lang)
    layout = RunLayout(Path(run_dir))
    files = RunFiles.load(layout.root)
    drawn = layout.projected_loadtest().root if loadtest_drawn else None
    charts = draw_charts(files, layout.charts, lang, loadtest_drawn=drawn)
    page = render(files, charts, lang)
    report_workbook(page, layout.root / REPORT_XLSX, lang)
    return write_text(layout.report, page)
