"""The sections of the campaign report: what each one says, as data for its template.

*Scenario.* Each section of ``report.html`` answers one question of the provincial committee (did
the campaign reach the target, which lever paid off, can the payment path carry the busiest day …).
A section is a `Section`: its key (the anchor ``#key``, the heading ``s_<key>`` of `motcua.report.i18n`)
and a view function that turns the run's saved files (`motcua.run_layout.RunFiles`) into the plain
values its template ``templates/sections/<key>.html.j2`` lays out. Numbers are formatted here, in the report's
language; the templates hold the markup, and Jinja2 escapes every value.

To add a section, write a view here, its template, and an entry in `SECTIONS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motcua.report.i18n import TEXTS, day, duration, number, percent, text
from motcua.run_layout import (
    DEMAND,
    DEMAND_JSON,
    FEEDBACK,
    LOADTEST,
    STEP_FOLDERS,
    SUMMARY,
    Estimate,
    RunFiles,
    localized,
)

View = dict[str, Any]


@dataclass(frozen=True)
class ReportInput:
    """What every view reads: the run's files, the scenario as run (None if the folder lacks it), the language."""

    files: RunFiles
    scenario: Any
    lang: str

    def t(self, key: str, **values: Any) -> str:
        """The text `key` in the report's language."""
        return text(self.lang, key, **values)


@dataclass(frozen=True)
class Section:
    """One section of the report: ``<section id="key">``, its heading, and the view its template shows."""

    key: str
    view: Callable[[ReportInput], View]

    @property
    def title(self) -> str:
        """Key of the heading in `motcua.report.i18n.TEXTS`: ``s_<key>``."""
        return f"s_{self.key}"

    @property
    def template(self) -> str:
        return f"sections/{self.key}.html.j2"


def band(est: Estimate | None, lang: str, fmt: Callable[[float], str] | None = None) -> str:
    """'mean (low–high)' of a JSON estimate."""
    show = fmt or (lambda v: percent(v, lang))
    if not est or est.get("mean") is None:
        return text(lang, "not_estimable")
    mean, low, high = est["mean"], est["low"], est["high"]
    assert mean is not None
    if low is None or high is None:
        return show(mean)
    return f"{show(mean)} ({show(low)}–{show(high)})"


def points(value: float | None, lang: str) -> str:
    """A share difference in percentage points."""
    return "—" if value is None else number(100 * value, lang, 2)


def _ms(value: float | None, lang: str) -> str:
    return "—" if value is None else duration(value / 1000, lang)


def _missing(r: ReportInput, what: str) -> View:
    return {"missing": r.t("missing", what=what)}


# ---------------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------------
def summary_view(r: ReportInput) -> View:
    f, lang = r.files, r.lang
    head, s = f.simulate["headline"], f.simulate["settings"]
    sentences = []
    p = head["probability_by_deadline"]
    if head.get("target_share") is not None and p is not None:
        values = {"share": percent(head["target_share"], lang, 0), "date": day(head["target_date"], lang),
                  "p": percent(p["mean"], lang, 0), "p_low": percent(p["low"], lang, 0),
                  "p_high": percent(p["high"], lang, 0)}
        if p["mean"] is not None and p["mean"] >= 0.5:
            sentences.append(r.t("target_reached", when=day(head["reached_date_mean"], lang),
                                 p10=day(head["reached_date_p10"], lang),
                                 p90=day(head["reached_date_p90"], lang) if head["reached_date_p90"]
                                 else r.t("never"), **values))
        else:
            sentence = r.t("target_missed", **values)
            if head.get("reached_date_mean"):
                sentence += r.t("target_missed_when", when=day(head["reached_date_mean"], lang))
            sentences.append(sentence)
        within = head.get("reached_within_horizon")
        if within is not None and within < 1:
            sentences[-1] += r.t("target_not_by_end", end=day(head.get("horizon_end"), lang),
                                 share=percent(1 - within, lang, 0))
    else:
        sentences.append(r.t("no_target"))
    final = head["final_share"]
    sentences.append(r.t("final_share", end=day(s["end"], lang), share=percent(final["mean"], lang),
                         low=percent(final["low"], lang), high=percent(final["high"], lang),
                         replications=s["replications"], seed=s["seed"]))
    sentences.append(r.t("interval_covers", covers=r.t("covers_parameters" if s.get("uncertainty", "").startswith(
        "parameters") else "covers_replications")))
    if f.quality and f.comparison:
        diff = f.comparison["measured_vs_flawless"]["final_share"]["all"]
        sentences.append(r.t("feedback_sentence", p95=duration(f.quality["callback_p95_s"], lang),
                             told=percent(f.quality["told_unpaid_share_observed"], lang),
                             points=points(diff["mean"], lang), low=points(diff["low"], lang),
                             high=points(diff["high"], lang)))
    if f.loadtest:
        failed = [slo_name(r, v) for v in f.loadtest["slo"] if not v["passed"]]
        sentences.append(r.t("slo_breached", names=", ".join(failed)) if failed else r.t("slo_all_passed"))
        if f.loadtest["invariant"]["ok"] is False:
            sentences.append(r.t("invariant_broken"))
    return {"sentences": sentences, "quick": bool(s.get("quick"))}


def unit_names(r: ReportInput) -> dict[str, str]:
    """Unit id → name in the report's language (``all`` → 'all units')."""
    return {"all": r.t("all_units"), **{u["id"]: localized(u, "name", r.lang) for u in r.files.simulate["units"]}}


def units_view(r: ReportInput) -> View:
    sim, lang = r.files.simulate, r.lang
    names = unit_names(r)
    observed = {u["id"]: u.get("observed_share") for u in sim["units"]}
    start = sim.get("start_share")
    if start:  # all units: the units' observed shares weighted as the model weighs them, the province's beside
        prov = start["province_observed"]
        observed["all"] = start["observed"]["all"]
        cells = {"all": r.t("province_observed", share=percent(observed["all"], lang),
                            province=percent(prov["share"], lang), source=prov["source"] or "—")
                 if prov.get("share") is not None else percent(observed["all"], lang)}
    elif r.scenario is not None:  # an older run: the region's own observed share stands for all units
        observed["all"] = r.scenario.region.observed_share
        cells = {}
    else:
        cells = {}
    target = sim["targets"][0] if sim["targets"] else None
    rows = []
    for sid in sim["share"]["series"]:
        reach = (target["all_units"] if sid == "all" else target["per_unit"].get(sid)) if target else None
        rows.append([names.get(sid, sid), cells.get(sid, percent(observed.get(sid), lang)),
                     band(sim["share"]["final"][sid], lang),
                     band(reach["probability_by_deadline"], lang) if reach else "—",
                     day(reach["date_mean"], lang) if reach and reach["date_mean"] else r.t("never")])
    return {"rows": rows}


def interventions_view(r: ReportInput) -> View:
    lang = r.lang
    items = r.files.interventions["interventions"] if r.files.interventions else []
    rows = [[localized(a, "name", lang), f"{day(a['start'], lang)} – {day(a['end'], lang)}",
             number(a["cost_vnd"], lang), band(a["points_gained"], lang, lambda v: points(v, lang)),
             cost_per_point(r, a)] for a in items]
    return {"rows": rows}


def cost_per_point(r: ReportInput, assessed: Mapping[str, Any]) -> str:
    """VND per point gained, by `motcua compare`'s rule (`motcua.compare_decision.cost_per_point`, recomputed so a run
    made before the rule reads the same): "not distinguishable from zero" when the gain's interval includes zero,
    "not estimable" for a loss."""
    from motcua.compare_decision import cost_per_point as decision_cost_per_point

    value = decision_cost_per_point(int(assessed["cost_vnd"]), dict(assessed["points_gained"] or {}))
    if isinstance(value, str):
        return r.t("not_distinguishable")
    return r.t("not_estimable") if value is None else number(value, r.lang)


def counters_view(r: ReportInput) -> View:
    sim, lang = r.files.simulate, r.lang
    names = unit_names(r)
    freed = sim["officer_hours"]["freed_per_open_day"]

    def hours(est: Estimate | None) -> str:
        return band(est, lang, lambda v: number(v, lang, 1))

    rows = []
    for uid, waits in sim["counter_waits"]["units"].items():
        before, after = waits["before"]["p90"]["mean"], waits["after"]["p90"]["mean"]
        rows.append([names.get(uid, uid), f"{number(before, lang, 1)} → {number(after, lang, 1)}",
                     hours(freed.get(uid))])
    rows.append([r.t("all_units"), "", hours(freed.get("all"))])
    return {"rows": rows}


def demand_view(r: ReportInput) -> View:
    d, lang = r.files.demand, r.lang
    if not d:
        return _missing(r, f"{DEMAND}/{DEMAND_JSON}")
    total, hourly, profile = d["platform_payments"], d["hourly"], d["load_profile"]
    hour = hourly["peak_hour"]

    def rows(kind: str, label: Callable[[str], str]) -> list[list[str]]:
        daily, per_hour = (d["by_group"], hourly["by_group"]) if kind == "group" else (d["by_bank"], hourly["by_bank"])
        return [[label(name), band(est, lang, lambda v: number(v, lang, 1)),
                 number(per_hour[name]["mean"][hour], lang, 1)] for name, est in daily.items()]

    return {
        "peak_day": r.t("peak_day", date=day(d["date"], lang), total=number(total["mean"], lang),
                        low=number(total["low"], lang), high=number(total["high"], lang),
                        min=number(total.get("min"), lang), max=number(total.get("max"), lang),
                        fee=number(d["fee_payments"]["mean"], lang)),
        "method": r.t("demand_method", profile=hourly["shape_source"]),
        "peak_hour": r.t("peak_hour", hour=hour),
        "by_group": rows("group", lambda g: r.t(f"g_{g}")),
        "by_bank": rows("bank", str),
        "compression": r.t("compression", duration=number(profile["duration_s"], lang),
                           factor=number(profile["compression"], lang),
                           completion=number(profile["completion"], lang, 3),
                           rate=number(profile["rate_per_s"], lang, 2),
                           peak=number(profile["peak_rate_per_s"], lang, 2)),
    }


def load_view(r: ReportInput) -> View:
    t, lang = r.files.loadtest, r.lang
    if not t:
        return _missing(r, f"{LOADTEST}/{SUMMARY}")
    params = r.files.manifest.get("parameters", {})
    cb = t["callbacks"]["ipn_ack"]
    return {
        "against": r.t("load_against", target=params.get("agency_url") or r.t("mocks")),
        "faults": r.t("faults", file=Path(params["faults_file"]).name) if params.get("faults_file") else None,
        "conformance": _conformance(r, t.get("conformance")),
        "figures": r.t("load_figures", started=number(t["arrivals"]["started"], lang),
                       dropped=number(t["arrivals"]["dropped"], lang),
                       rps=number(t["throughput"]["requests_per_s"], lang, 1),
                       errors=percent(t["slo_measured"].get("error_rate"), lang, 2),
                       p50=_ms(cb.get("p50"), lang), p95=_ms(cb.get("p95"), lang), p99=_ms(cb.get("p99"), lang),
                       lost=number(t["lost_callbacks"], lang),
                       recovered=number(t["invariant"].get("paid_by_reconciliation", 0), lang)),
    }


def _conformance(r: ReportInput, conf: Any) -> str | None:
    """The findings of a merchant run (`motcua.loadtest.merchant_ipns.conformance`) as one sentence, if any."""
    if not conf or not conf["findings"]:
        return None
    kinds = ", ".join(f"{f['kind']}{' ' + f['detail'] if f['detail'] else ''} ×{number(f['count'], r.lang)}"
                      for f in conf["findings"])
    return r.t("conformance", deviations=number(conf["deviations"], r.lang), refused=number(conf["refused"], r.lang),
               kinds=kinds)


def callbacks_view(r: ReportInput) -> View:
    t, lang = r.files.loadtest, r.lang
    if not t:
        return _missing(r, f"{LOADTEST}/{SUMMARY}")
    by_bank = t["callbacks"]["ipn_ack"].get("by_bank", {})
    return {"rows": [[bank, number(s.get("count", 0), lang), _ms(s.get("p50"), lang), _ms(s.get("p95"), lang),
                      number(s.get("failures", 0), lang)] for bank, s in by_bank.items()]}


def feedback_view(r: ReportInput) -> View:
    q, c, lang = r.files.quality, r.files.comparison, r.lang
    if not q or not c:
        return _missing(r, f"{FEEDBACK}/")
    a, fed = q["assumed"], q.get("fed_back", q["assumed"])
    after = duration(q["unpaid_notice_after_s"], lang)
    quality_rows = [
        [r.t("q_failure"), percent(a["failure_rate"], lang, 2), percent(fed["failure_rate"], lang, 2)],
        [r.t("q_p50"), duration(a["callback_p50_s"], lang), duration(fed["callback_p50_s"], lang)],
        [r.t("q_p95"), duration(a["callback_p95_s"], lang), duration(fed["callback_p95_s"], lang)],
        [r.t("q_unpaid", after=after), percent(q["assumed_told_unpaid_share"], lang, 2),
         percent(q["told_unpaid_share_observed"], lang, 2)]]
    diff_rows = [[r.t("fb_measured_vs_assumed"),
                  band(c["measured_vs_assumed"]["final_share"]["all"], lang, lambda v: points(v, lang))],
                 [r.t("fb_measured_vs_flawless"),
                  band(c["measured_vs_flawless"]["final_share"]["all"], lang, lambda v: points(v, lang))],
                 [r.t("fb_told"), " / ".join(f"{r.t('c_' + name)}: {band(est, lang, lambda v: number(v, lang))}"
                                             for name, est in c["told_unpaid_total"].items())]]
    return {"quality_rows": quality_rows, "diff_rows": diff_rows,
            "time_scale": r.t("time_scale_note", speed=number(1 / q["time_scale"], lang),
                              scale=number(q["time_scale"], lang, 2),
                              deadline=duration(q["callback_deadline_s"], lang))}


def capacity_view(r: ReportInput) -> View:
    lang = r.lang
    if not r.files.demand:
        return _missing(r, f"{DEMAND}/{DEMAND_JSON}")
    profile = r.files.demand["load_profile"]
    projected = number(profile["rate_per_s"], lang, 2)
    cap = r.files.loadtest.get("capacity") if r.files.loadtest else None
    if not cap:
        return {"sentence": r.t("capacity_not_measured", projected=projected,
                                peak=number(profile["peak_rate_per_s"], lang, 2)), "chart": False}
    knee = cap["knee_rate_per_s"]
    if knee is None:
        return {"sentence": r.t("capacity_broke_first", projected=projected), "chart": True}
    key = "capacity_measured" if cap.get("broke", True) else "capacity_never_broke"
    return {"sentence": r.t(key, knee=number(knee, lang, 2), projected=projected,
                            headroom=number(knee / profile["rate_per_s"], lang, 2)), "chart": True}


def slo_name(r: ReportInput, verdict: Mapping[str, Any]) -> str:
    """A gate in the reader's words ('Xác nhận thanh toán: 95% trong vòng …'), else its own description."""
    key = f"slo_{verdict['name']}"
    return r.t(key) if key in TEXTS[r.lang] else verdict.get("description") or verdict["name"]


def slo_measure(value: float | None, unit: str, lang: str) -> str:
    """A limit or a measured value as a planner reads it: '30 giây', '1,00%', '0 giao dịch'."""
    if value is None:
        return text(lang, "not_measured")
    if unit == "ms":
        return duration(value / 1000, lang)
    if unit == "share":
        return percent(value, lang, 2)
    return number(value, lang, 0 if float(value).is_integer() else 1)


def slo_view(r: ReportInput) -> View:
    if not r.files.loadtest:
        return _missing(r, f"{LOADTEST}/{SUMMARY}")
    rows = [{"name": slo_name(r, v), "limit": ("≤ " + slo_measure(v["limit"], v.get("unit", ""), r.lang)),
             "measured": slo_measure(v["measured"], v.get("unit", ""), r.lang), "passed": v["passed"]}
            for v in r.files.loadtest["slo"]]
    return {"rows": rows}


def assumptions_view(r: ReportInput) -> View:
    """The calibrate and sensitivity runs behind the report, then the assumptions that matter most in plain words
    (`motcua.report.key_assumptions`); the full list is in the appendix."""
    from motcua.report.assumptions import studies, study_folders
    from motcua.report.key_assumptions import key_assumptions
    from motcua.runs import read_json

    view: View = {"studies": studies(r.files.run_dir, r.lang), "key": None}
    if r.scenario is not None:
        folder = study_folders(r.files.run_dir).get("sensitivity")
        summary = read_json(folder / SUMMARY) if folder is not None else None
        key = key_assumptions(r.scenario, summary, r.lang)
        view["key"] = {"rows": key.rows, "ranked_by": key.ranked_by}
    return view


def appendix_view(r: ReportInput) -> View:
    """Every provenance entry with its source and field path, the sources, and the steps of the run."""
    from motcua.report.key_assumptions import appendix_rows

    lang = r.lang
    view: View = {"rows": None, "sources": [], "steps": []}
    if r.scenario is not None:
        view["rows"] = appendix_rows(r.scenario, r.files.quality, lang)
        view["sources"] = [[s.id, s.title, f"{s.place}, {s.year}", s.url or s.seed or ""]
                           for s in r.scenario.scenario.sources]
    view["steps"] = [[s["name"], number(s["seconds"], lang, 1), s.get("folder", "")]
                     for s in r.files.manifest.get("steps", []) if s["name"] in STEP_FOLDERS]
    return view


def no_view(r: ReportInput) -> View:
    """A section that only shows charts."""
    return {}


SECTIONS: tuple[Section, ...] = (
    Section("summary", summary_view),
    Section("units", units_view),
    Section("trajectories", no_view),
    Section("interventions", interventions_view),
    Section("counters", counters_view),
    Section("demand", demand_view),
    Section("load", load_view),
    Section("callbacks", callbacks_view),
    Section("feedback", feedback_view),
    Section("capacity", capacity_view),
    Section("slo", slo_view),
    Section("assumptions", assumptions_view),
    Section("appendix", appendix_view),
)
"""The sections of ``report.html``, in order."""
