"""The interactive charts of the results and compare pages, as Plotly figure descriptions (plain JSON).

The server builds each figure from the run's ``summary.json`` (the same data the report's matplotlib charts draw),
and ``static/studio.js`` hands it to Plotly.js, served from the ``plotly`` wheel. A planner hovers for values and
clicks a unit in the legend to hide or show it (a unit's band and line share a legend group). On Vietnamese pages
numbers use the decimal comma and the thousands dot (``separators``) and dates read dd/mm/yyyy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from motcua.report.style import PALETTE, TARGET_COLOR
from motcua.run_layout import ComparisonSummary, SimulationSummary, localized

Figure = dict[str, Any]


def layout(lang: str, title: str, **extra: Any) -> dict[str, Any]:
    """The house layout: title, Vietnamese separators and date format, legend below."""
    return {"title": {"text": title, "font": {"size": 15}}, "separators": ",." if lang == "vi" else ".,",
            "font": {"family": "DejaVu Sans, Noto Sans, Arial, sans-serif"}, "hovermode": "x unified",
            "legend": {"orientation": "h", "y": -0.2}, "margin": {"t": 50, "l": 60, "r": 20, "b": 40},
            "xaxis": {"tickformat": "%d/%m/%Y" if lang == "vi" else "%Y-%m-%d",
                      "hoverformat": "%d/%m/%Y" if lang == "vi" else "%Y-%m-%d"}, **extra}


def _color(k: int) -> str:
    return PALETTE[k % len(PALETTE)]


def _band(x: list[str], est: Mapping[str, Any], name: str, color: str, group: str, visible: Any = True,
          scale: float = 1.0) -> list[dict[str, Any]]:
    """A mean line with its 95% band (low, then high filled to it), one legend entry."""
    def scaled(values: Sequence[Any]) -> list[Any]:
        return [None if v is None else scale * v for v in values]

    common = {"x": x, "legendgroup": group, "visible": visible, "type": "scatter", "mode": "lines"}
    return [
        {**common, "y": scaled(est["low"]), "line": {"width": 0, "color": color}, "showlegend": False,
         "hoverinfo": "skip"},
        {**common, "y": scaled(est["high"]), "line": {"width": 0, "color": color}, "fill": "tonexty",
         "opacity": 0.2, "showlegend": False, "hoverinfo": "skip"},
        {**common, "y": scaled(est["mean"]), "name": name, "line": {"width": 2.5 if group == "all" else 1.5,
                                                                     "color": color},
         "hovertemplate": "%{y:.1%}"},
    ]


def _target_shapes(summary: SimulationSummary) -> list[dict[str, Any]]:
    shapes = []
    for target in summary["targets"][:1]:
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": target["share"],
                       "y1": target["share"], "line": {"color": TARGET_COLOR, "dash": "dash"}})
        shapes.append({"type": "line", "yref": "paper", "y0": 0, "y1": 1, "x0": target["date"], "x1": target["date"],
                       "line": {"color": TARGET_COLOR, "dash": "dot"}})
    return shapes


def unit_names(summary: SimulationSummary, all_units: str, lang: str) -> dict[str, str]:
    return {"all": all_units, **{u["id"]: localized(u, "name", lang) for u in summary["units"]}}


def trajectories(summary: SimulationSummary, tr: Callable[..., str], lang: str) -> Figure:
    """Weekly share paid online with its 95% band, all units and each unit, with the target line and deadline."""
    weekly = summary["share"]["weekly"]
    names = unit_names(summary, tr("all_units"), lang)
    data = []
    for k, sid in enumerate(summary["share"]["series"]):
        data += _band(weekly["labels"], weekly["series"][sid], names.get(sid, sid), _color(k), sid)
    return {"data": data, "layout": layout(lang, tr("ch_trajectories"), shapes=_target_shapes(summary),
                                           yaxis={"tickformat": ".0%", "rangemode": "tozero"})}


def waits(summary: SimulationSummary, tr: Callable[..., str], lang: str) -> Figure:
    """Counter wait p90 per unit, before and after, with 95% error bars."""
    names = unit_names(summary, tr("all_units"), lang)
    units = summary["counter_waits"]["units"]
    periods = summary["counter_waits"]["periods"]
    data = []
    for k, period in enumerate(periods):
        ests = [units[u][period]["p90"] for u in units]
        span = periods[period]
        data.append({"type": "bar", "name": f"p90 {span['start']} – {span['end']}", "x": [names[u] for u in units],
                     "y": [e["mean"] for e in ests], "marker": {"color": _color(k)},
                     "error_y": _errors(ests), "hovertemplate": "%{y:.1f}"})
    return {"data": data, "layout": layout(lang, tr("ch_waits"), barmode="group", hovermode="closest",
                                           xaxis={"type": "category"}, yaxis={"title": {"text": "min"}})}


def officer_hours(summary: SimulationSummary, tr: Callable[..., str], lang: str) -> Figure:
    """Officer-hours per open day by activity, stacked, before and after, per unit."""
    from motcua.report.simulation_charts import labels

    lab = labels(lang)
    names = unit_names(summary, tr("all_units"), lang)
    per_day = summary["officer_hours"]["per_open_day"]
    x: list[list[str]] = [[], []]
    for uid, periods in per_day.items():
        for period in periods:
            x[0].append(names.get(uid, uid))
            x[1].append(lab["before_short"] if period == "before" else lab["after_short"])
    data = []
    for k, activity in enumerate(summary["officer_hours"]["activities"]):
        y = [per_day[uid][period][activity]["mean"] for uid, periods in per_day.items() for period in periods]
        data.append({"type": "bar", "name": lab.get(f"act_{activity}", activity), "x": x, "y": y,
                     "marker": {"color": _color(k)}, "hovertemplate": "%{y:.1f}"})
    return {"data": data, "layout": layout(lang, tr("ch_hours"), barmode="stack", hovermode="closest",
                                           xaxis={"type": "multicategory"}, yaxis={"title": {"text": "h"}})}


def costs(interventions: Sequence[Any], tr: Callable[..., str], lang: str) -> Figure:
    """The cost of each intervention of the scenario (VND)."""
    names = [localized({"name": i.name or tr(f"k_{i.kind}"), "name_en": i.name_en}, "name", lang)
             for i in interventions]
    return {"data": [{"type": "bar", "x": [i.cost_vnd for i in interventions], "y": names, "orientation": "h",
                      "marker": {"color": PALETTE[0]}, "hovertemplate": "%{x:,.0f} VND"}],
            "layout": layout(lang, tr("ch_costs"), hovermode="closest", xaxis={"tickformat": ",.0f"},
                             yaxis={"automargin": True}, margin={"l": 260, "t": 50, "r": 20, "b": 40})}


def compare_trajectories(comparison: ComparisonSummary, tr: Callable[..., str], lang: str) -> Figure:
    """All-units weekly share of each scenario with its band, against the baseline's target."""
    data = []
    for k, summary in enumerate(comparison["summaries"]):
        weekly = summary["share"]["weekly"]
        name = summary["scenario"]["name"]
        data += _band(weekly["labels"], weekly["series"]["all"], name, _color(k), name)
    return {"data": data, "layout": layout(lang, tr("ch_compare"), shapes=_target_shapes(comparison["summaries"][0]),
                                           yaxis={"tickformat": ".0%", "rangemode": "tozero"})}


def compare_differences(comparison: ComparisonSummary, tr: Callable[..., str], lang: str) -> Figure:
    """Paired difference of the final share from the baseline, by unit, in points with 95% error bars."""
    first = comparison["summaries"][0]
    names = unit_names(first, tr("all_units"), lang)
    ids = first["share"]["series"]
    data = []
    for k, diff in enumerate(comparison["differences"], start=1):
        ests = [diff["final_share"][s] for s in ids]
        data.append({"type": "bar", "orientation": "h", "name": diff["scenario"], "y": [names.get(s, s) for s in ids],
                     "x": [None if e["mean"] is None else 100 * e["mean"] for e in ests],
                     "error_x": _errors(ests, 100.0), "marker": {"color": _color(k)}, "hovertemplate": "%{x:.2f}"})
    return {"data": data, "layout": layout(lang, tr("ch_diffs"), barmode="group", hovermode="closest",
                                           xaxis={"zeroline": True, "zerolinewidth": 2},
                                           yaxis={"automargin": True, "autorange": "reversed"})}


def _errors(ests: Sequence[Any], scale: float = 1.0) -> dict[str, Any]:
    """Asymmetric error bars of JSON estimates (0 where a bound is missing)."""
    def gap(e: Any, bound: str) -> float:
        if e["mean"] is None or e.get(bound) is None:
            return 0.0
        return scale * abs(e[bound] - e["mean"])

    return {"type": "data", "symmetric": False, "array": [gap(e, "high") for e in ests],
            "arrayminus": [gap(e, "low") for e in ests]}
