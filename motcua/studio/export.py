"""Exports for the campaign plan: charts as PNG at 300 dpi and SVG, tables as XLSX and CSV, the HTML report.

Charts are the report's own matplotlib charts (`motcua.report.simulation_charts`), drawn again at print
resolution (300 dpi, `motcua.report.export.exporting`) or as SVG (`motcua.report.style.save`).
Tables carry raw numbers (shares as fractions formatted as percentages, dates as dates) under Vietnamese or English
headers; the CSV starts with a UTF-8 byte-order mark so Excel on Windows shows "Huyện Cao Lộc" as written. The
report of a simulation is the campaign report (`motcua.report.html.render`) over the run's ``summary.json``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motcua.run_layout import REPORT, ComparisonSummary, SimulationSummary, localized
from motcua.studio.views import scenario_of, simulate_files

SIMULATION_CHARTS = ("share_trajectories", "units_vs_target", "counter_waits", "officer_hours")
COMPARISON_CHARTS = ("compare_trajectories", "compare_units", "compare_differences")
FORMATS = ("png", "svg")
PRINT_DPI = 300


@dataclass(frozen=True)
class Table:
    """A table to export: its sheet name, headers and rows of raw values, and which columns are shares."""

    name: str
    header: list[str]
    rows: list[list[Any]]
    percent_columns: tuple[int, ...] = ()


def chart(kind: str, summary: dict[str, Any], name: str, fmt: str, lang: str, folder: Path) -> Path:
    """Draw chart `name` of a simulate or compare summary as `fmt` (``png`` at 300 dpi, or ``svg``) in `folder`."""
    from motcua.report import simulation_charts as charts
    from motcua.report.export import ChartExport, exporting

    allowed = COMPARISON_CHARTS if kind == "compare" else SIMULATION_CHARTS
    if name not in allowed or fmt not in FORMATS:
        raise KeyError(f"chart {name}.{fmt}: choose one of {', '.join(allowed)} as {' or '.join(FORMATS)}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.{fmt}"
    draw: Callable[..., Path] = getattr(charts, name)
    argument: Any = summary
    if name in ("compare_trajectories", "compare_units"):
        argument = summary["summaries"]
    with exporting(ChartExport(dpi=PRINT_DPI, formats=(fmt,))):  # the report's one chart writer, at print size
        return draw(argument, path, lang)


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def simulation_tables(summary: SimulationSummary, tr: Callable[..., str], lang: str) -> list[Table]:
    """The units against the target, and the weekly share of every series, as tables."""
    names = {"all": tr("all_units"), **{u["id"]: localized(u, "name", lang) for u in summary["units"]}}
    observed = {u["id"]: u.get("observed_share") for u in summary["units"]}
    target = summary["targets"][0] if summary["targets"] else None
    low, high = ("KTC 95% thấp", "KTC 95% cao") if lang == "vi" else ("95% CI low", "95% CI high")
    units = []
    for sid in summary["share"]["series"]:
        final = summary["share"]["final"][sid]
        reach = (target["all_units"] if sid == "all" else target["per_unit"].get(sid)) if target else None
        p = reach["probability_by_deadline"]["mean"] if reach else None
        units.append([names.get(sid, sid), observed.get(sid), final["mean"], final["low"], final["high"], p,
                      _date(reach["date_mean"]) if reach else None])
    unit_table = Table(tr("unit") if lang == "vi" else "units",
                       [tr("unit"), tr("observed_start"), tr("final"), low, high, tr("p_target"), tr("reached_when")],
                       units, percent_columns=(1, 2, 3, 4, 5))
    weekly = summary["share"]["weekly"]
    ids = summary["share"]["series"]
    header = [tr("c_week")] + [f"{names.get(s, s)} ({k})" for s in ids for k in ("mean", "low", "high")]
    rows: list[list[Any]] = [[_date(label), *(weekly["series"][s][k][i] for s in ids
                                               for k in ("mean", "low", "high"))]
                             for i, label in enumerate(weekly["labels"])]
    return [unit_table, Table(tr("c_week") if lang == "vi" else "weekly", header, rows,
                              percent_columns=tuple(range(1, len(header))))]


def comparison_tables(comparison: ComparisonSummary, tr: Callable[..., str], lang: str) -> list[Table]:
    """The paired differences of the final share by unit (points as fractions), then each scenario's tables."""
    first = comparison["summaries"][0]
    names = {"all": tr("all_units"), **{u["id"]: localized(u, "name", lang) for u in first["units"]}}
    low, high = ("KTC 95% thấp", "KTC 95% cao") if lang == "vi" else ("95% CI low", "95% CI high")
    rows = []
    for diff in comparison["differences"]:
        for sid, est in diff["final_share"].items():
            rows.append([f"{diff['scenario']} − {diff['baseline']}", names.get(sid, sid), est["mean"], est["low"],
                         est["high"]])
    tables = [Table("differences", [tr("scenario_col"), tr("unit"), tr("d_final_share"), low, high], rows,
                    percent_columns=(2, 3, 4))]
    for summary in comparison["summaries"]:
        unit_table = simulation_tables(summary, tr, lang)[0]
        tables.append(Table(summary["scenario"]["name"][:31], unit_table.header, unit_table.rows,
                            unit_table.percent_columns))
    return tables


def xlsx(tables: list[Table]) -> bytes:
    """An Excel workbook, one sheet per table, numbers as numbers (shares as percentages, dates as dates)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(_sheet_name(table.name, book.sheetnames))
        sheet.append(table.header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(row)
        for col in table.percent_columns:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=col + 1, max_col=col + 1):
                cell.number_format = "0.0%"
        for (cell,) in sheet.iter_rows(min_row=2, min_col=1, max_col=1):
            if isinstance(cell.value, dt.date):
                cell.number_format = "DD/MM/YYYY"
        sheet.column_dimensions["A"].width = 34
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_name(name: str, taken: list[str]) -> str:
    clean = "".join(c for c in name if c not in "[]:*?/\\")[:31] or "sheet"
    return clean if clean not in taken else f"{clean[:28]}-{len(taken)}"


def csv_bytes(table: Table) -> bytes:
    """One table as CSV in UTF-8 with a byte-order mark (Excel on Windows then reads the diacritics)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.header)
    for row in table.rows:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, dt.date) else v for v in row])
    return out.getvalue().encode("utf-8-sig")


def report(run_dir: Path, manifest: dict[str, Any], summary: Any, lang: str, index: int = 0) -> Path:
    """The campaign report of a simulation (or of scenario `index` of a comparison), drawn once into the run folder."""
    from motcua.report.html import draw_charts, render
    from motcua.run_layout import write_text

    kind = manifest.get("kind")
    one = summary["summaries"][index] if kind == "compare" else summary
    name = REPORT if kind != "compare" else f"report-{one['scenario']['name']}.html"
    path = run_dir / (name if lang == "vi" else name.replace(".html", f".{lang}.html"))
    if path.exists():
        return path
    scenario = scenario_of(manifest, index)
    files = simulate_files(run_dir, one, manifest, Path(scenario.file) if scenario else None)
    charts = draw_charts(files, run_dir / "charts", lang)
    return write_text(path, render(files, charts, lang))


def run_lang(manifest: dict[str, Any]) -> str:
    """The language a run wrote its pages in (its ``--lang``; Vietnamese by default)."""
    command = list(manifest.get("command") or [])
    return command[command.index("--lang") + 1] if "--lang" in command[:-1] else "vi"


def comparison_report(run_dir: Path, manifest: dict[str, Any], summary: Any, lang: str) -> Path:
    """The comparison page of a compare run: its own ``comparison.html`` when written in `lang`, else the same page
    drawn by the report package in `lang` (``comparison.<lang>.html``, once), with the run's charts."""
    from motcua.report.comparison import CHARTS, COMPARISON_HTML, render_comparison
    from motcua.run_layout import write_text

    own = run_dir / COMPARISON_HTML
    if own.is_file() and run_lang(manifest) == lang:
        return own
    path = run_dir / COMPARISON_HTML.replace(".html", f".{lang}.html")
    if path.exists():
        return path
    charts = {name: run_dir / f"{name}.png" for name in CHARTS if (run_dir / f"{name}.png").exists()}
    return write_text(path, render_comparison(summary, charts, lang))
