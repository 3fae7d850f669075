"""The optimised plan in the run's ``report.html`` (vi/en): the plan, the cost–probability front, the search, the
guarantee.

*Scenario.* The office takes `motcua optimise`'s answer to the provincial committee: which levers, where, from
when, at what effort and cost; how it compares with the other plans the search simulated (the front: no plan
cheaper and more likely at once); how much searching stands behind it; and the sentence it can stand behind
("re-run on 200 streams the search never saw: 178 reached 45% by 31/12/2024, so P ≥ 0.84 with 95% confidence").
Everything is read from the run's ``summary.json``; the chart is drawn with the report's chart style and number
format (`motcua.report.style`, `motcua.report.numbers`), the page uses the report's templates and texts
(``templates/optimise.html.j2``, the ``o_``/``c_front`` keys of `motcua.report.i18n`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from motcua.report.i18n import check_lang, day, number, percent, text
from motcua.run_layout import write_text

REPORT_HTML = "report.html"
FRONT_CHART = "optimise_front"
SOURCES = ("optuna", "random")
BASELINES = ("random_search", "scenario_plan", "even_spread")


def _merit_axis(summary: Mapping[str, Any], start: dt.date) -> tuple[str, Any, Any]:
    """What the chart's y axis shows: P̂ (least cost) or the p-quantile reach date (earliest date), with the
    value of a front row and of the chosen plan."""
    if summary["objective"] == "earliest_date":
        def when(merit: float) -> dt.date:
            return start + dt.timedelta(days=-merit)

        chosen = summary["search_estimate"].get("date")
        return "c_front_date", when, dt.date.fromisoformat(chosen) if chosen else None
    return "c_front_p", float, summary["search_estimate"]["p"]


def front_chart(summary: Mapping[str, Any], start: dt.date, path: Path, lang: str) -> Path:
    """Cost against probability (or date) of every plan the search simulated, the non-dominated front, and the
    chosen plan marked; the required probability drawn as the target line."""
    from motcua.report.numbers import percent_formatter
    from motcua.report.style import PALETTE, legend_outside, new_figure, save, target_line

    fig, ax = new_figure(9, 5)
    axis, value, chosen = _merit_axis(summary, start)
    front = summary["front"]
    if summary["objective"] == "least_cost":
        rows = [r for r in summary["trace"] if r["source"] == "optuna"]
        ax.scatter([r["cost"] / 1e6 for r in rows], [r["p"] for r in rows], s=18, color=PALETTE[5], alpha=0.5,
                   label=text(lang, "c_front_searched"))
        ax.yaxis.set_major_formatter(percent_formatter(lang))
        target_line(ax, summary["probability"], text(lang, "c_front_required", p=percent(summary["probability"],
                                                                                          lang, 0)))
    ax.step([r["cost_vnd"] / 1e6 for r in front], [value(r["merit"]) for r in front], where="post",
            color=PALETTE[0], marker="o", label=text(lang, "c_front_front"))
    if chosen is not None:
        ax.scatter([summary["cost_vnd"] / 1e6], [chosen], s=160, marker="*", color=PALETTE[1], zorder=5,
                   label=text(lang, "c_front_chosen"))
    ax.set_xlabel(text(lang, "c_front_cost"))
    ax.set_ylabel(text(lang, axis))
    ax.set_title(text(lang, "c_front_title"))
    legend_outside(ax)
    return save(fig, path, lang)


def plan_table(summary: Mapping[str, Any], lang: str) -> list[list[str]]:
    """Rows: lever (its Vietnamese name in a Vietnamese report), units, from–to, effort, cost."""
    rows = []
    for row in summary["plan"]:
        name = (row.get("name_vi") if lang == "vi" else None) or row["name"] or row["lever"]
        rows.append([name, ", ".join(row["units"]), f"{day(row['from'], lang)} – {day(row['to'], lang)}",
                     number(row["intensity"], lang, 2), number(row["cost_vnd"], lang)])
    return rows


def trace_table(summary: Mapping[str, Any], lang: str) -> list[list[str]]:
    """Per search (TPE, random): plans simulated, how many looked feasible, the best feasible score."""
    out = []
    for source in SOURCES:
        rows = [r for r in summary["trace"] if r["source"] == source]
        if not rows:
            continue
        feasible = [r for r in rows if r["feasible"]]
        best = min((r["score"] for r in feasible), default=None)
        if best is not None and summary["objective"] == "earliest_date":
            shown = text(lang, "o_day", day=number(best, lang))
        else:
            shown = number(best, lang) + " VND" if best is not None else "—"
        out.append([text(lang, f"o_src_{source}"), number(len(rows), lang), number(len(feasible), lang), shown])
    return out


def guarantee_sentence(summary: Mapping[str, Any], lang: str) -> str:
    """The guarantee as one sentence: fresh streams, successes, P̂, the one-sided bound and the verdict."""
    g = summary["guarantee"]
    key = "o_guarantee_date" if summary["objective"] == "earliest_date" else "o_guarantee"
    out = text(lang, key, n=number(g["n"], lang), successes=number(g["successes"], lang), date=day(g["by_date"], lang),
               p=number(g["p"], lang, 2), confidence=percent(g["confidence"], lang, 0),
               lower=number(g["lower_bound"], lang, 2), required=number(summary["probability"], lang, 2),
               verdict=text(lang, "o_holds" if g["holds"] else "o_fails"))
    if g.get("parameter_draws"):
        out += " " + text(lang, "o_draws", draws=number(g["parameter_draws"], lang), factors=number(g["factors"], lang))
    return out


def baseline_table(summary: Mapping[str, Any], lang: str) -> list[list[str]]:
    """Rows: baseline, its cost, P̂ and lower bound on the same fresh streams, what the chosen plan saves."""
    return [[text(lang, f"o_b_{name}"), number(b["cost_vnd"], lang), number(b["p"], lang, 2),
             number(b["lower_bound"], lang, 2), number(b["cost_difference_vnd"], lang),
             day(b.get("quantile_date"), lang)]
            for name, b in summary["baselines"].items() if name in BASELINES]


def optimise_view(summary: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """Everything the section shows, formatted in `lang`."""
    p = summary["probability"]
    goal = (text(lang, "o_goal_earliest_date", p=number(p, lang, 2), budget=number(summary.get("budget_vnd"), lang))
            if summary["objective"] == "earliest_date" else text(lang, "o_goal_least_cost", p=number(p, lang, 2)))
    covers = text(lang, "o_cover_parameters" if summary["uncertainty"].startswith("parameters")
                  else "o_cover_replications")
    return {
        "goal": goal, "covers": covers,
        "infeasible": None if summary["feasible"] else text(lang, "o_infeasible",
                                                              p=number(summary["search_estimate"]["p"], lang, 2)),
        "plan_header": [text(lang, k) for k in ("o_lever", "o_units", "o_period", "o_effort", "o_cost")],
        "plan": plan_table(summary, lang), "total": text(lang, "o_total", cost=number(summary["cost_vnd"], lang)),
        "trace_header": [text(lang, k) for k in ("o_source", "o_plans", "o_feasible", "o_best")],
        "trace": trace_table(summary, lang),
        "trace_note": text(lang, "o_trace_note", simulations=number(summary["simulations"], lang),
                           wall=number(summary.get("timing", {}).get("wall_s"), lang, 1)),
        "guarantee": guarantee_sentence(summary, lang),
        "baseline_header": [text(lang, k) for k in ("o_baseline", "o_cost", "o_p", "o_lower", "o_saving", "o_date")],
        "baselines": baseline_table(summary, lang),
    }


def render_optimise(summary: Mapping[str, Any], title: str, charts: dict[str, Path], lang: str = "vi") -> str:
    """The page as a string (the same summary and charts give the same page)."""
    from motcua.report.html import embed, environment

    lang = check_lang(lang)
    return environment().get_template("optimise.html.j2").render(
        lang=lang, t=lambda key, **values: text(lang, key, **values), title=text(lang, "o_title", scenario=title),
        view=optimise_view(summary, lang), figures=embed(charts, lang), chart=FRONT_CHART)


def write_optimise_report(summary: Mapping[str, Any], scenario: Any, run_dir: Path, lang: str = "vi") -> Path:
    """Draw the front chart into ``charts/`` and write ``report.html`` into `run_dir`."""
    run_dir = Path(run_dir)
    (run_dir / "charts").mkdir(parents=True, exist_ok=True)
    chart = front_chart(summary, scenario.simulation.start, run_dir / "charts" / f"{FRONT_CHART}.png", lang)
    meta = scenario.scenario
    title = (meta.title_en or meta.title) if lang == "en" else meta.title
    return write_text(run_dir / REPORT_HTML, render_optimise(summary, title, {FRONT_CHART: chart}, lang))
