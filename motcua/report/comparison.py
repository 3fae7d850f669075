"""``comparison.html``: the page a planner takes from `motcua compare` — each plan against the baseline.

It shows, for each plan, the paired differences with their intervals (final share, date the target is
reached, probability of meeting it), the added cost and the cost per point gained ("not distinguishable
from zero" when the effect's interval holds zero), the contributions of the interventions the plan adds
(alone, left out, Shapley share: they do not add up), and the compare charts embedded. Rendered with the
report's Jinja2 environment (`motcua.report.html.environment`), number formats and texts (`motcua.report.i18n`,
keys ``cmp_*``, shared ones such as the coverage of the intervals); Vietnamese by default, ``--lang en``.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from motcua.report.i18n import check_lang, day, number, percent, text
from motcua.run_layout import write_text

COMPARISON_HTML = "comparison.html"
CHARTS = ("compare_trajectories", "compare_units", "compare_differences")

COVERS_KEYS = {"parameters and replications": "covers_parameters", "replications only": "covers_replications"}
"""The report's sentence for what an interval covers (`models.uncertainty.COVERS`' values)."""


def _band(est: dict[str, Any] | None, fmt: Any) -> str:
    if not est or est.get("mean") is None:
        return "—"
    if est.get("low") is None or est.get("high") is None:
        return fmt(est["mean"])
    return f"{fmt(est['mean'])} ({fmt(est['low'])} – {fmt(est['high'])})"


def plan_view(diff: dict[str, Any], lang: str) -> dict[str, Any]:
    """The rows of one plan's table and its contributions, formatted in `lang`."""
    d = diff["decision"]

    def t(key: str, **values: Any) -> str:
        return text(lang, key, **values)

    def pts(v: float) -> str:
        return number(v, lang, 2)

    rows = [[t("cmp_final_share"), "", "", _band(d["final_share_points"], pts)
             + ("" if d["effect_distinguishable"] else f" — {t('not_distinguishable')}")]]
    notes = []
    if "reach_days" in d:
        r = d["reach_days"]
        rows.append([t("cmp_reach_days"), "", "", t("cmp_neither") if r.get("neither") == r.get("n")
                     else _band(r, lambda v: number(v, lang, 0))])
        p = d["probability_by_deadline"]
        rows.append([t("cmp_probability"), _band(p["baseline"], lambda v: percent(v, lang, 0)),
                     _band(p["plan"], lambda v: percent(v, lang, 0)),
                     _band(p["difference"], lambda v: number(100 * v, lang, 1))])
        if r.get("censored") and r.get("neither") != r.get("n"):
            notes.append(t("cmp_censored", n=d["reach_days"]["censored"]))
    cpp = d["cost_per_point_vnd"]
    rows.append([t("cmp_added_cost"), "", "", number(d["added_cost_vnd"], lang)])
    rows.append([t("cmp_cost_per_point"), "", "", t("not_distinguishable") if isinstance(cpp, str)
                 else t("cmp_no_gain") if cpp is None else number(cpp, lang)])
    view: dict[str, Any] = {"name": diff["scenario"], "rows": rows, "notes": notes, "contributions": None,
                            "no_contributions": None}
    c = diff.get("contributions")
    if c and c.get("computed"):
        name = "name" if lang == "vi" else "name_en"
        view["contributions"] = {
            "rows": [[r[name], number(r["cost_vnd"], lang), pts(r["alone_points"]), pts(r["left_out_points"]),
                      pts(r["shapley_points"])] for r in c["interventions"]],
            "note": t("cmp_additive_note", alone=pts(c["sum_alone_points"]), left_out=pts(c["sum_left_out_points"]),
                      effect=pts(c["plan_effect_points"]), subsets=c["subsets"], replications=c["replications"])}
    elif c:
        view["no_contributions"] = t("cmp_no_contributions", reason=c["reason"])
    return view


def render_comparison(comparison: dict[str, Any], charts: dict[str, Path], lang: str = "vi") -> str:
    """The page as a string (the same summary and charts give the same page)."""
    from motcua.report.html import environment

    lang = check_lang(lang)

    def t(key: str, **values: Any) -> str:
        return text(lang, key, **values)

    s = comparison["settings"]
    baseline = comparison["summaries"][0]
    title = baseline["scenario"].get("title_en" if lang == "en" else "title") or baseline["scenario"]["name"]
    covers = COVERS_KEYS.get(s.get("uncertainty", "replications only"), "covers_replications")
    images = {name: base64.b64encode(path.read_bytes()).decode("ascii") for name, path in charts.items()}
    return environment().get_template("comparison.html.j2").render(
        lang=lang, t=t, title=t("cmp_title", scenario=title),
        settings=t("cmp_settings", replications=s["replications"], seed=s["seed"]) + " "
        + t("interval_covers", covers=t(covers)),
        heading=t("cmp_plans", baseline=comparison["baseline"]),
        plans=[plan_view(dict(d), lang) for d in comparison["differences"] if "decision" in d],
        header=[t("cmp_figure"), t("cmp_baseline"), t("cmp_plan"), t("cmp_difference")],
        contribution_header=[t("intervention"), t("cost"), t("cmp_alone"), t("cmp_left_out"), t("cmp_shapley")],
        images=images, day=lambda iso: day(iso, lang))


def write_comparison_report(comparison: Any, run_dir: Path, lang: str = "vi") -> Path:
    """Write ``comparison.html`` into `run_dir`, embedding the compare charts found there."""
    run_dir = Path(run_dir)
    charts = {name: run_dir / f"{name}.png" for name in CHARTS if (run_dir / f"{name}.png").exists()}
    return write_text(run_dir / COMPARISON_HTML, render_comparison(comparison, charts, lang))
