"""The campaign report: one self-contained ``report.html`` (charts embedded as base64 PNG) and ``charts/``.

*Scenario.* A planner puts the report in front of the provincial committee: did the campaign reach
45%, when, how sure are we; which levers paid off per point; what happens at the counters; and,
from the engineers' side, can the payment path carry the busiest day, and what do slow callbacks
cost in adoption. Everything is read from the run folder that `motcua run` wrote (nothing is
rerun), so `motcua report RUN_DIR --lang en` rebuilds it, in either language, with identical
content for the same inputs. Every text goes through `html.escape`; labels are Vietnamese by
default (`motcua.report.i18n`).
"""

from __future__ import annotations

import base64
import html
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motcua.errors import InputError
from motcua.report.i18n import check_lang, day, number, percent, seconds, text
from motcua.runs import MANIFEST, read_json

REPORT = "report.html"
CHARTS = "charts"
REPORT_STEPS = ("simulate", "demand", "loadtest", "feedback")
STYLE = """
body{font-family:"DejaVu Sans","Noto Sans",Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#1b2631;line-height:1.45}
h1{font-size:1.6em;color:#1f5aa6}h2{border-bottom:2px solid #1f5aa6;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}th,td{border:1px solid #ccd;padding:.3em .6em;
text-align:left;vertical-align:top}th{background:#eef3fa}td.num{text-align:right;white-space:nowrap}
.pass{color:#1e7b34;font-weight:bold}.fail{color:#b03a2e;font-weight:bold}.note{color:#5d6d7e;font-size:.9em}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #dde}.headline{background:#f4f8fd;
border-left:4px solid #1f5aa6;padding:.6em 1em}code{font-size:.85em;word-break:break-all}
"""


def esc(value: Any) -> str:
    """Any value as escaped HTML text."""
    return html.escape("" if value is None else str(value), quote=True)


@dataclass
class RunFiles:
    """The saved outputs of one `motcua run` folder (None where a step left nothing)."""

    run_dir: Path
    manifest: dict[str, Any]
    summary: dict[str, Any] | None
    simulate: dict[str, Any]
    interventions: dict[str, Any] | None
    demand: dict[str, Any] | None
    loadtest: dict[str, Any] | None
    harness: dict[str, Any] | None
    quality: dict[str, Any] | None
    feedback: dict[str, Any] | None
    flawless: dict[str, Any] | None
    comparison: dict[str, Any] | None
    scenario: Any

    @classmethod
    def load(cls, run_dir: Path) -> RunFiles:
        run_dir = Path(run_dir)
        if not (run_dir / MANIFEST).exists() or not (run_dir / "simulate" / "summary.json").exists():
            raise InputError(f"{run_dir}: not a folder written by `motcua run` (needs {MANIFEST} and "
                             "simulate/summary.json); list runs with `motcua results list`")

        def opt(*parts: str) -> Any:
            path = run_dir.joinpath(*parts)
            return read_json(path) if path.exists() else None

        from motcua.pipeline import loadtest_folder
        from motcua.scenario import load_scenario

        loadtest, harness = opt("loadtest", "summary.json"), None
        if loadtest is not None:
            folder = loadtest_folder(run_dir)  # with --find-capacity: the step at the projected peak
            capacity = loadtest.get("capacity")
            loadtest = read_json(folder / "summary.json")
            if capacity:
                loadtest["capacity"] = capacity
            harness = read_json(folder / "harness.json") if (folder / "harness.json").exists() else None
        scenario_file = run_dir / "scenario.toml"
        return cls(run_dir=run_dir, manifest=read_json(run_dir / MANIFEST), summary=opt("summary.json"),
                   simulate=read_json(run_dir / "simulate" / "summary.json"),
                   interventions=opt("simulate", "interventions.json"), demand=opt("demand", "demand.json"),
                   loadtest=loadtest, harness=harness,
                   quality=opt("feedback", "quality.json"), feedback=opt("feedback", "summary.json"),
                   flawless=opt("feedback", "flawless-summary.json"), comparison=opt("feedback", "comparison.json"),
                   scenario=load_scenario(scenario_file) if scenario_file.exists() else None)


# ---------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------
def draw_charts(files: RunFiles, folder: Path, lang: str) -> dict[str, Path]:
    """Every chart of the report as PNG in `folder`, by name."""
    from motcua.report import campaign_charts as cc
    from motcua.report.loadtest_charts import capacity_chart, write_charts
    from motcua.report.simulation_charts import simulation_charts

    folder.mkdir(parents=True, exist_ok=True)
    charts = {p.stem: p for p in simulation_charts(files.simulate, folder, lang)}
    if files.interventions and files.interventions["interventions"]:
        charts["interventions"] = cc.interventions(files.interventions["interventions"],
                                                   folder / "interventions.png", lang)
    if files.demand:
        charts["demand_hourly"] = cc.demand_hourly(files.demand, folder / "demand_hourly.png", lang)
    if files.harness:
        charts.update({p.stem: p for p in write_charts(files.harness, folder, lang)})
    if files.quality and files.quality["by_bank"]:
        charts["callback_real_time"] = cc.callback_real_time(files.quality, folder / "callback_real_time.png", lang)
    if files.feedback and files.flawless:
        charts["feedback_trajectories"] = cc.feedback_trajectories(
            {"assumed": files.simulate, "measured": files.feedback, "flawless": files.flawless},
            folder / "feedback_trajectories.png", lang)
    if files.loadtest and files.loadtest.get("capacity", {}).get("steps"):
        charts["capacity"] = capacity_chart(files.loadtest["capacity"]["steps"], folder / "capacity.png", lang)
    return charts


def figure(charts: dict[str, Path], name: str, lang: str) -> str:
    """An embedded chart (base64 PNG) with its file name as caption; nothing if it was not drawn."""
    path = charts.get(name)
    if path is None:
        return ""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    alt = text(lang, "chart_alt", name=path.name)
    return (f'<figure><img class="chart" src="data:image/png;base64,{data}" alt="{esc(alt)}">'
            f'<figcaption class="note">{esc(CHARTS + "/" + path.name)}</figcaption></figure>')


# ---------------------------------------------------------------------------------------------
# HTML pieces
# ---------------------------------------------------------------------------------------------
def table(header: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()) -> str:
    """An HTML table; every cell is escaped unless it is a `Raw` value."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            css = ' class="num"' if i in numeric else ""
            content = cell.html if isinstance(cell, Raw) else esc(cell)
            cells.append(f"<td{css}>{content}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


@dataclass(frozen=True)
class Raw:
    """HTML that is already escaped (a verdict with its class)."""

    html: str


def para(content: str, css: str = "") -> str:
    return f'<p{f" class={chr(34)}{css}{chr(34)}" if css else ""}>{esc(content)}</p>'


def band(est: dict[str, Any] | None, lang: str, fmt=None) -> str:
    """'mean (low–high)' of a JSON estimate."""
    fmt = fmt or (lambda v: percent(v, lang))
    if not est or est.get("mean") is None:
        return text(lang, "not_estimable")
    if est.get("low") is None:
        return fmt(est["mean"])
    return f"{fmt(est['mean'])} ({fmt(est['low'])}–{fmt(est['high'])})"


def points(value: float | None, lang: str) -> str:
    if value is None:
        return "—"
    return number(100 * value, lang, 2)


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------
def section_summary(f: RunFiles, lang: str) -> str:
    sim = f.simulate
    head = sim["headline"]
    s = sim["settings"]
    out = []
    if head.get("target_share") is not None:
        p = head["probability_by_deadline"]
        values = {"share": percent(head["target_share"], lang, 0), "date": day(head["target_date"], lang),
                  "p": percent(p["mean"], lang, 0), "p_low": percent(p["low"], lang, 0),
                  "p_high": percent(p["high"], lang, 0)}
        if p["mean"] is not None and p["mean"] >= 0.5:
            out.append(text(lang, "target_reached", when=day(head["reached_date_mean"], lang),
                            p10=day(head["reached_date_p10"], lang),
                            p90=day(head["reached_date_p90"], lang) if head["reached_date_p90"]
                            else text(lang, "never"), **values))
        else:
            sentence = text(lang, "target_missed", **values)
            if head.get("reached_date_mean"):
                sentence += text(lang, "target_missed_when", when=day(head["reached_date_mean"], lang))
            out.append(sentence)
    else:
        out.append(text(lang, "no_target"))
    final = head["final_share"]
    out.append(text(lang, "final_share", end=day(s["end"], lang), share=percent(final["mean"], lang),
                    low=percent(final["low"], lang), high=percent(final["high"], lang),
                    replications=s["replications"], seed=s["seed"]))
    if f.quality and f.comparison:
        diff = f.comparison["measured_vs_flawless"]["final_share"]["all"]
        out.append(text(lang, "feedback_sentence", p95=seconds(f.quality["callback_p95_s"], lang),
                        told=percent(f.quality["told_unpaid_share_observed"], lang),
                        points=points(diff["mean"], lang), low=points(diff["low"], lang),
                        high=points(diff["high"], lang)))
    if f.loadtest:
        failed = [v["name"] for v in f.loadtest["slo"] if not v["passed"]]
        out.append(text(lang, "slo_breached", names=", ".join(failed)) if failed else text(lang, "slo_all_passed"))
        if f.loadtest["invariant"]["ok"] is False:
            out.append(text(lang, "invariant_broken"))
    body = "".join(para(x) for x in out)
    if s.get("quick"):
        body += para(text(lang, "quick_note"), "note")
    return f'<div class="headline">{body}</div>'


def section_units(f: RunFiles, charts: dict[str, Path], lang: str) -> str:
    sim = f.simulate
    names = {u["id"]: u["name"] for u in sim["units"]}
    observed = {u["id"]: u.get("observed_share") for u in sim["units"]}
    if f.scenario is not None:  # the region's own observed share stands for all units
        observed["all"] = f.scenario.region.observed_share
    target = sim["targets"][0] if sim["targets"] else None
    rows = []
    for sid in sim["share"]["series"]:
        reach = (target["all_units"] if sid == "all" else target["per_unit"].get(sid)) if target else None
        rows.append([text(lang, "all_units") if sid == "all" else names.get(sid, sid),
                     percent(observed.get(sid), lang), band(sim["share"]["final"][sid], lang),
                     band(reach["probability_by_deadline"], lang) if reach else "—",
                     day(reach["date_mean"], lang) if reach and reach["date_mean"] else text(lang, "never")])
    header = [text(lang, k) for k in ("unit", "observed_start", "final", "p_target", "reached_when")]
    return table(header, rows, numeric=(1, 2, 3)) + figure(charts, "units_vs_target", lang)


def section_interventions(f: RunFiles, charts: dict[str, Path], lang: str) -> str:
    items = (f.interventions or {}).get("interventions") or []
    if not items:
        return para(text(lang, "no_interventions"))
    rows = [[a["name"], f"{day(a['start'], lang)} – {day(a['end'], lang)}", number(a["cost_vnd"], lang),
             band(a["points_gained"], lang, lambda v: points(v, lang)),
             number(a["cost_per_point_vnd"], lang) if a["cost_per_point_vnd"] else text(lang, "not_estimable")]
            for a in items]
    header = [text(lang, k) for k in ("intervention", "period", "cost", "points_gained", "cost_per_point")]
    return para(text(lang, "interventions_method"), "note") + table(header, rows, numeric=(2, 3, 4)) \
        + figure(charts, "interventions", lang)


def section_counters(f: RunFiles, charts: dict[str, Path], lang: str) -> str:
    sim = f.simulate
    names = {u["id"]: u["name"] for u in sim["units"]}
    freed = sim["officer_hours"]["freed_per_open_day"]
    rows = []
    for uid, waits in sim["counter_waits"]["units"].items():
        before, after = waits["before"]["p90"]["mean"], waits["after"]["p90"]["mean"]
        rows.append([names.get(uid, uid), f"{number(before, lang, 1)} → {number(after, lang, 1)}",
                     band(freed.get(uid), lang, lambda v: number(v, lang, 1))])
    rows.append([text(lang, "all_units"), "", band(freed.get("all"), lang, lambda v: number(v, lang, 1))])
    header = [text(lang, "unit"), text(lang, "wait_before_after"), text(lang, "freed_per_day")]
    return table(header, rows, numeric=(1, 2)) + figure(charts, "counter_waits", lang) \
        + figure(charts, "officer_hours", lang)


def section_demand(f: RunFiles, charts: dict[str, Path], lang: str) -> str:
    d = f.demand
    if not d:
        return para(text(lang, "missing", what="demand/demand.json"))
    total = d["platform_payments"]
    out = [para(text(lang, "peak_day", date=day(d["date"], lang), total=number(total["mean"], lang),
                     low=number(total["low"], lang), high=number(total["high"], lang),
                     min=number(total["min"], lang), max=number(total["max"], lang),
                     fee=number(d["fee_payments"]["mean"], lang))),
           para(text(lang, "demand_method", profile=d["hourly"]["shape_source"]), "note")]
    hour = d["hourly"]["peak_hour"]

    def rows(kind: str, label) -> list[list[str]]:
        return [[label(name), band(est, lang, lambda v: number(v, lang, 1)),
                 number(d["hourly"][kind][name]["mean"][hour], lang, 1)] for name, est in d[kind].items()]

    peak = text(lang, "peak_hour", hour=hour)
    out.append(table([text(lang, "group"), text(lang, "per_day"), peak],
                     rows("by_group", lambda g: text(lang, f"g_{g}")), numeric=(1, 2)))
    out.append(table([text(lang, "bank"), text(lang, "per_day"), peak], rows("by_bank", str), numeric=(1, 2)))
    profile = d["load_profile"]
    out.append(para(text(lang, "compression", duration=number(profile["duration_s"], lang),
                         factor=number(profile["compression"], lang),
                         completion=number(profile["completion"], lang, 3),
                         rate=number(profile["rate_per_s"], lang, 2),
                         peak=number(profile["peak_rate_per_s"], lang, 2))))
    return "".join(out) + figure(charts, "demand_hourly", lang)


def _ms(value: float | None, lang: str) -> str:
    return "—" if value is None else seconds(value / 1000, lang)


def section_load(f: RunFiles, charts: dict[str, Path], lang: str) -> str:
    t = f.loadtest
    if not t:
        return para(text(lang, "missing", what="loadtest/summary.json"))
    params = f.manifest.get("parameters", {})
    target = params.get("agency_url") or text(lang, "mocks")
    out = [para(text(lang, "load_against", target=target))]
    if params.get("faults_file"):
        out.append(para(text(lang, "faults", file=Path(params["faults_file"]).name)))
    cb = t["callbacks"]["ipn_ack"]
    out.append(para(text(lang, "load_figures", started=number(t["arrivals"]["started"], lang),
                         dropped=number(t["arrivals"]["dropped"], lang),
                         rps=number(t["throughput"]["requests_per_s"], lang, 1),
                         errors=percent(t["slo_measured"].get("error_rate"), lang, 2),
                         p50=_ms(cb.get("p50"), lang), p95=_ms(cb.get("p95"), lang), p99=_ms(cb.get("p99"), lang),
                         lost=number(t["lost_callbacks"], lang),
                         recovered=number(t["invariant"].get("paid_by_reconciliation", 0), lang))))
    return "".join(out) + figure(charts, "throughput", lang) + figure(charts, "latency", lang)


def section_callbacks(f: RunFiles, charts: dict[str, Path], lang: str) -> str:
    t = f.loadtest
    if not t:
        return para(text(lang, "missing", what="loadtest/summary.json"))
    by_bank = t["callbacks"]["ipn_ack"].get("by_bank", {})
    rows = [[bank, number(s.get("count", 0), lang), _ms(s.get("p50"), lang), _ms(s.get("p95"), lang),
             number(s.get("failures", 0), lang)] for bank, s in by_bank.items()]
    header = [text(lang, k) for k in ("cb_bank", "cb_n", "cb_p50", "cb_p95", "cb_lost")]
    return table(header, rows, numeric=(1, 2, 3, 4)) + figure(charts, "callback_cdf", lang) \
        + figure(charts, "callback_real_time", lang)


def section_feedback(f: RunFiles, charts: dict[str, Path], lang: str) -> str:
    q, c = f.quality, f.comparison
    if not q or not c:
        return para(text(lang, "missing", what="feedback/"))
    a = q["assumed"]
    fed = q["fed_back"]
    after = seconds(q["unpaid_notice_after_s"], lang)
    rows = [[text(lang, "q_failure"), percent(a["failure_rate"], lang, 2), percent(fed["failure_rate"], lang, 2)],
            [text(lang, "q_p50"), seconds(a["callback_p50_s"], lang), seconds(fed["callback_p50_s"], lang)],
            [text(lang, "q_p95"), seconds(a["callback_p95_s"], lang), seconds(fed["callback_p95_s"], lang)],
            [text(lang, "q_unpaid", after=after), percent(q["assumed_told_unpaid_share"], lang, 2),
             percent(q["told_unpaid_share_observed"], lang, 2)]]
    out = [f"<h3>{esc(text(lang, 'quality_table'))}</h3>",
           table(["", text(lang, "q_assumed"), text(lang, "q_measured")], rows, numeric=(1, 2)),
           para(text(lang, "time_scale_note", speed=number(1 / q["time_scale"], lang), scale=q["time_scale"],
                     deadline=seconds(q["callback_deadline_s"], lang)), "note")]
    told = c["told_unpaid_total"]
    diff_rows = []
    for key in ("measured_vs_assumed", "measured_vs_flawless"):
        d = c[key]
        diff_rows.append([text(lang, f"fb_{key}"), band(d["final_share"]["all"], lang, lambda v: points(v, lang))])
    diff_rows.append([text(lang, "fb_told"), " / ".join(
        f"{text(lang, 'c_' + name)}: {band(est, lang, lambda v: number(v, lang))}" for name, est in told.items())])
    out.append(table([text(lang, "fb_compare"), text(lang, "fb_final")], diff_rows, numeric=(1,)))
    return "".join(out) + figure(charts, "feedback_trajectories", lang)


def section_capacity(f: RunFiles, charts: dict[str, Path], lang: str) -> str:
    if not f.demand:
        return para(text(lang, "missing", what="demand/demand.json"))
    profile = f.demand["load_profile"]
    projected = number(profile["rate_per_s"], lang, 2)
    cap = (f.loadtest or {}).get("capacity")
    if not cap:
        return para(text(lang, "capacity_not_measured", projected=projected,
                         peak=number(profile["peak_rate_per_s"], lang, 2)))
    knee = cap["knee_rate_per_s"]
    if knee is None:
        return para(text(lang, "capacity_broke_first", projected=projected)) + figure(charts, "capacity", lang)
    key = "capacity_measured" if cap.get("broke", True) else "capacity_never_broke"
    return para(text(lang, key, knee=number(knee, lang, 2), projected=projected,
                     headroom=number(knee / profile["rate_per_s"], lang, 2))) + figure(charts, "capacity", lang)


def section_slo(f: RunFiles, lang: str) -> str:
    if not f.loadtest:
        return para(text(lang, "missing", what="loadtest/summary.json"))
    rows = []
    for v in f.loadtest["slo"]:
        verdict = Raw(f'<span class="pass">{esc(text(lang, "pass"))}</span>' if v["passed"]
                      else f'<span class="fail">{esc(text(lang, "fail"))}</span>')
        measured = "—" if v["measured"] is None else f"{v['measured']:.4g}"
        rows.append([f"{v['name']} — {v.get('description', '')}", f"{v['limit']:.4g} {v.get('unit', '')}",
                     f"{measured} {v.get('unit', '')}", verdict])
    header = [text(lang, k) for k in ("slo_name", "slo_limit", "slo_measured", "slo_verdict")]
    return table(header, rows, numeric=(1, 2))


def _kind_of(provenance: str) -> str:
    kind = provenance.partition(":")[0].strip()
    return kind if kind in ("observed", "assumed", "derived", "setting") else "unmarked"


def _value_text(value: Any) -> str:
    out = json.dumps(value, ensure_ascii=False, default=str)
    return out if len(out) <= 160 else out[:157] + "…"


def assumption_rows(scenario: Any, quality: dict[str, Any] | None, lang: str) -> list[list[str]]:
    """One row per provenance entry of the scenario (and per unmarked number), plus the measured quality."""
    from motcua.typed_config import get_path

    data = scenario.to_dict()
    entries = dict(scenario.provenance)
    for unit in scenario.units:
        if unit.observed_share_source:
            entries.setdefault(f"region.units[{unit.id}].observed_share", f"observed: {unit.observed_share_source}")
    if scenario.region.observed_share_source:
        entries.setdefault("region.observed_share", f"observed: {scenario.region.observed_share_source}")
    for path in scenario.unmarked_numbers():
        entries.setdefault(path, "")
    rows = []
    for path in sorted(entries):
        try:
            value = get_path(data, path)
        except (KeyError, ValueError, IndexError):
            value = None
        source = entries[path]
        rows.append([path, _value_text(value), text(lang, f"k_{_kind_of(source)}"), source])
    if quality and quality.get("measured"):
        fed = quality["fed_back"]
        for key in ("failure_rate", "callback_p50_s", "callback_p95_s"):
            rows.append([f"payment_system ({key}, feedback)", _value_text(round(fed[key], 4)), text(lang, "k_observed"),
                         "observed: measured by the load test of this run (loadtest/, feedback/quality.json)"])
    return rows


def section_assumptions(f: RunFiles, lang: str) -> str:
    from motcua.report.assumptions import fragment

    # Calibration (observed vs simulated, target-date band, backtest) and sensitivity (Sobol' table, tornado).
    out = [fragment(f.run_dir, lang)]
    if f.scenario is not None:
        header = [text(lang, k) for k in ("field", "value", "kind", "source")]
        out.append(table(header, assumption_rows(f.scenario, f.quality, lang)))
        sources = [[s.id, s.title, f"{s.place}, {s.year}", s.url or s.seed or ""] for s in f.scenario.scenario.sources]
        if sources:
            out.append(f"<h3>{esc(text(lang, 'sources'))}</h3>" + table(
                ["id", text(lang, "src_title"), text(lang, "src_place"), text(lang, "src_where")], sources))
    steps = [s for s in f.manifest.get("steps", []) if s["name"] in REPORT_STEPS]
    if steps:
        out.append(f"<h3>{esc(text(lang, 'steps'))}</h3>")
        out.append(table([text(lang, "step"), text(lang, "seconds"), text(lang, "outputs")],
                         [[s["name"], number(s["seconds"], lang, 1), s.get("folder", "")] for s in steps],
                         numeric=(1,)))
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------
def render(f: RunFiles, charts: dict[str, Path], lang: str) -> str:
    """The whole page as a string (deterministic for the same files and charts)."""
    title = text(lang, "report_title", title=f.simulate["scenario"].get("title") or f.simulate["scenario"]["name"])
    sections = [
        ("summary", "s_summary", section_summary(f, lang)),
        ("units", "s_units", section_units(f, charts, lang)),
        ("trajectories", "s_trajectories", figure(charts, "share_trajectories", lang)),
        ("interventions", "s_interventions", section_interventions(f, charts, lang)),
        ("counters", "s_counters", section_counters(f, charts, lang)),
        ("demand", "s_demand", section_demand(f, charts, lang)),
        ("load", "s_load", section_load(f, charts, lang)),
        ("callbacks", "s_callbacks", section_callbacks(f, charts, lang)),
        ("feedback", "s_feedback", section_feedback(f, charts, lang)),
        ("capacity", "s_capacity", section_capacity(f, charts, lang)),
        ("slo", "s_slo", section_slo(f, lang)),
        ("assumptions", "s_assumptions", section_assumptions(f, lang)),
    ]
    m = f.manifest
    toc = "".join(f'<li><a href="#{key}">{esc(text(lang, label))}</a></li>' for key, label, _ in sections)
    body = "".join(f'<section id="{key}"><h2>{esc(text(lang, label))}</h2>{content}</section>'
                   for key, label, content in sections)
    meta = text(lang, "generated_from", run_id=m.get("run_id", ""), started=m.get("started_at", ""),
                command=m.get("command_line", ""))
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{esc(title)}</h1>\n"
            f'<p class="note"><code>{esc(meta)}</code></p>\n'
            f'<nav><h2>{esc(text(lang, "toc"))}</h2><ol>{toc}</ol></nav>\n'
            f"{body}\n</body>\n</html>\n")


def build_report(run_dir: Path, lang: str = "vi") -> Path:
    """Draw the charts into ``charts/`` and write ``report.html`` in `run_dir`, from its saved files only."""
    check_lang(lang)
    run_dir = Path(run_dir)
    files = RunFiles.load(run_dir)
    charts = draw_charts(files, run_dir / CHARTS, lang)
    page = render(files, charts, lang)
    path = run_dir / REPORT
    fd, tmp = tempfile.mkstemp(dir=run_dir, prefix=".report.", suffix=".html")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(page)
    os.replace(tmp, path)
    return path
