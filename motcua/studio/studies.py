"""What the results page of a study says: a ``motcua calibrate`` or ``motcua sensitivity`` run, answer first.

*Scenario.* Before trusting a plan, a planner asks two things of her scenario: does the model reproduce what the
province observed (calibrate: the fitted parameters, how far the fit misses, and the date the target is reached
as a band over the parameters' uncertainty), and which assumptions does the answer hang on (sensitivity: the top
assumptions, with what data would pin each down). The tables and sentences are the report's own
(`motcua.report.assumptions`: the blocks ``report.html`` shows for the same runs), so the page and the report say
the same; this module only puts the answer first and names the parameters in plain words
(`motcua.report.field_names`).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from motcua.report.assumptions import Study, calibration_studies, group_label, sensitivity_study
from motcua.report.field_names import field_name
from motcua.report.i18n import number, percent

CHARTS = {"calibrate": "charts/fit.png", "sensitivity": "charts/tornado.png"}
"""The chart each study's command draws into its run folder."""
TOP_SHOWN = 3
"""How many assumptions the answer of a sensitivity run names."""


def study_view(run_dir: Path, kind: str, summary: Mapping[str, Any], tr: Callable[..., str],
               lang: str) -> dict[str, Any]:
    """The answer sentences, the report's blocks of the study, its warnings and its chart (a data URI)."""
    data = dict(summary)
    if kind == "calibrate":
        blocks = calibration_studies(data, lang)
        answer = [text for text, css in blocks[0].after if css == "headline"] + calibration_sentences(data, tr, lang)
        warnings = [str(w) for w in data.get("warnings") or []]
    else:
        blocks = [sensitivity_study(data, None, lang)]
        answer = [sensitivity_sentence(data, tr, lang)]
        warnings = []
    return {"answer": answer, "studies": [_without_headlines(b) for b in blocks], "warnings": warnings,
            "chart": chart_uri(run_dir / CHARTS[kind])}


def calibration_sentences(summary: Mapping[str, Any], tr: Callable[..., str], lang: str) -> list[str]:
    """The fitted parameters with their intervals, and how far the fit is from the observations."""
    level = percent(summary.get("interval_level", 0.8), lang, 0)
    intervals = summary.get("intervals") or {}
    parts = []
    for name in summary.get("free_parameters") or []:
        value = summary["estimates"][name]
        low, high = (intervals.get(name) or (None, None))[:2]
        band = f" ({level}: {_num(low, lang)} – {_num(high, lang)})" if low is not None and high is not None else ""
        parts.append(f"{field_name(f'adoption.{name}', lang)} = {_num(value, lang)}{band}")
    out = [tr("cal_fitted", parameters="; ".join(parts))] if parts else []
    out.append(tr("cal_rmse", rmse=number(100 * float(summary["rmse"]), lang, 2),
                  n=len(summary.get("observations") or [])))
    return out


def sensitivity_sentence(summary: Mapping[str, Any], tr: Callable[..., str], lang: str) -> str:
    """The assumptions the answer depends on most, in plain words."""
    ranking = list(summary.get("ranking") or summary.get("top") or [])[:TOP_SHOWN]
    names = ", ".join(f"«{group_label(summary, g, lang)}»" for g in ranking)
    return tr("sens_top", names=names or "—", groups=len(summary.get("groups") or []))


def _num(value: Any, lang: str) -> str:
    """A fitted value to three significant digits (a p of 0.00001 is not shown as 0)."""
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return number(value, lang, 0)
    return number(value, lang, min(7, max(0, 2 - math.floor(math.log10(abs(value))))))


def _without_headlines(study: Study) -> Study:
    """The block without the sentences the answer already says."""
    return Study(study.title, study.notes, study.header, study.rows, study.numeric,
                 [(text, css) for text, css in study.after if css != "headline"], study.image)


def chart_uri(path: Path) -> str | None:
    """A PNG chart of the run folder as a data URI (the page's policy allows images from data: only)."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode() if path.is_file() else None
