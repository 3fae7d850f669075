"""``comparison.html``: the page a planner takes from `motcua compare` — each plan against the baseline.

It shows, for each plan, the paired differences with their intervals (final share, date the target is
reached, probability of meeting it), the added cost and the cost per point gained ("not distinguishable
from zero" when the effect's interval holds zero), the contributions of the interventions the plan adds
(alone, left out, Shapley share: they do not add up), and the compare charts embedded. Rendered with the
report's Jinja2 environment (`motcua.report.html.environment`) and number formats (`motcua.report.i18n`);
Vietnamese by default, ``--lang en``.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from motcua.report.i18n import check_lang, day, number, percent
from motcua.run_layout import write_text

COMPARISON_HTML = "comparison.html"
CHARTS = ("compare_trajectories", "compare_units", "compare_differences")

TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "So sánh phương án — {scenario}",
        "settings": "{replications} lần lặp, hạt giống {seed}, cùng số ngẫu nhiên cho mọi phương án; "
                    "khoảng tin cậy 95% ({interval}).",
        "plans": "Phương án so với phương án gốc ({baseline})",
        "figure": "Chỉ số", "baseline": "Phương án gốc", "plan": "Phương án", "difference": "Chênh lệch",
        "final_share": "Tỷ lệ thanh toán trực tuyến cuối kỳ (điểm %)",
        "reach_days": "Ngày đạt mục tiêu (số ngày, âm: sớm hơn)",
        "probability": "Xác suất đạt mục tiêu đúng hạn",
        "added_cost": "Chi phí tăng thêm (VND)", "cost_per_point": "Chi phí cho mỗi điểm % tăng thêm (VND)",
        "not_distinguishable": "không phân biệt được với 0",
        "no_gain": "không tăng",
        "neither": "không đạt trong tầm mô phỏng ở cả hai phương án",
        "censored": "{n} lần lặp không đạt mục tiêu trong tầm mô phỏng được tính là ngày cuối tầm mô phỏng.",
        "contributions": "Đóng góp của từng biện pháp (điểm %)",
        "intervention": "Biện pháp", "cost": "Chi phí (VND)", "alone": "Riêng lẻ", "left_out": "Khi bỏ khỏi phương án",
        "shapley": "Phần Shapley",
        "additive_note": "Các đóng góp không cộng dồn: riêng lẻ cộng lại {alone} điểm, khi bỏ khỏi phương án "
                         "cộng lại {left_out} điểm, trong khi cả phương án tăng {effect} điểm. Phần Shapley chia "
                         "đúng hiệu quả của phương án, lấy trung bình theo mọi thứ tự thêm biện pháp ({subsets} tổ "
                         "hợp, {replications} lần lặp mỗi tổ hợp, cùng số ngẫu nhiên).",
        "no_contributions": "Không tính đóng góp: {reason}.",
        "charts": "Biểu đồ",
        "replications only": "chỉ biến động giữa các lần lặp",
        "parameters and replications": "cả tham số và biến động giữa các lần lặp",
    },
    "en": {
        "title": "Plans compared — {scenario}",
        "settings": "{replications} replications, seed {seed}, the same random numbers for every plan; "
                    "95% confidence intervals ({interval}).",
        "plans": "Plans against the baseline ({baseline})",
        "figure": "Figure", "baseline": "Baseline", "plan": "Plan", "difference": "Difference",
        "final_share": "Share paid online at the end (percentage points)",
        "reach_days": "Date the target is reached (days; negative: sooner)",
        "probability": "Probability of meeting the target by its deadline",
        "added_cost": "Added cost (VND)", "cost_per_point": "Cost per percentage point gained (VND)",
        "not_distinguishable": "not distinguishable from zero",
        "no_gain": "no gain",
        "neither": "not reached within the horizon by either plan",
        "censored": "{n} replication(s) not reaching the target within the horizon count as its last day.",
        "contributions": "Contributions of each intervention (percentage points)",
        "intervention": "Intervention", "cost": "Cost (VND)", "alone": "Alone", "left_out": "Left out of the plan",
        "shapley": "Shapley share",
        "additive_note": "Contributions do not add up: alone they sum to {alone} points, each left out of the plan "
                         "to {left_out}, while the whole plan gains {effect}. Shapley shares split the plan's effect "
                         "exactly, averaging each intervention's effect over every order of adding them ({subsets} "
                         "subsets, {replications} replications each, common random numbers).",
        "no_contributions": "Contributions not computed: {reason}.",
        "charts": "Charts",
        "replications only": "replications only",
        "parameters and replications": "parameters and replications",
    },
}


def _band(est: dict[str, Any] | None, fmt: Any) -> str:
    if not est or est.get("mean") is None:
        return "—"
    if est.get("low") is None or est.get("high") is None:
        return fmt(est["mean"])
    return f"{fmt(est['mean'])} ({fmt(est['low'])} – {fmt(est['high'])})"


def plan_view(diff: dict[str, Any], lang: str) -> dict[str, Any]:
    """The rows of one plan's table and its contributions, formatted in `lang`."""
    t = TEXTS[lang]
    d = diff["decision"]

    def pts(v: float) -> str:
        return number(v, lang, 2)

    rows = [[t["final_share"], "", "", _band(d["final_share_points"], pts)
             + ("" if d["effect_distinguishable"] else f" — {t['not_distinguishable']}")]]
    notes = []
    if "reach_days" in d:
        r = d["reach_days"]
        rows.append([t["reach_days"], "", "", t["neither"] if r.get("neither") == r.get("n")
                     else _band(r, lambda v: number(v, lang, 0))])
        p = d["probability_by_deadline"]
        rows.append([t["probability"], _band(p["baseline"], lambda v: percent(v, lang, 0)),
                     _band(p["plan"], lambda v: percent(v, lang, 0)),
                     _band(p["difference"], lambda v: number(100 * v, lang, 1))])
        if r.get("censored") and r.get("neither") != r.get("n"):
            notes.append(t["censored"].format(n=d["reach_days"]["censored"]))
    cpp = d["cost_per_point_vnd"]
    rows.append([t["added_cost"], "", "", number(d["added_cost_vnd"], lang)])
    rows.append([t["cost_per_point"], "", "", t["not_distinguishable"] if isinstance(cpp, str)
                 else t["no_gain"] if cpp is None else number(cpp, lang)])
    view: dict[str, Any] = {"name": diff["scenario"], "rows": rows, "notes": notes, "contributions": None,
                            "no_contributions": None}
    c = diff.get("contributions")
    if c and c.get("computed"):
        name = "name" if lang == "vi" else "name_en"
        view["contributions"] = {
            "rows": [[r[name], number(r["cost_vnd"], lang), pts(r["alone_points"]), pts(r["left_out_points"]),
                      pts(r["shapley_points"])] for r in c["interventions"]],
            "note": t["additive_note"].format(alone=pts(c["sum_alone_points"]), left_out=pts(c["sum_left_out_points"]),
                                              effect=pts(c["plan_effect_points"]), subsets=c["subsets"],
                                              replications=c["replications"])}
    elif c:
        view["no_contributions"] = t["no_contributions"].format(reason=c["reason"])
    return view


def render_comparison(comparison: dict[str, Any], charts: dict[str, Path], lang: str = "vi") -> str:
    """The page as a string (the same summary and charts give the same page)."""
    from motcua.report.html import environment

    lang = check_lang(lang)
    t = TEXTS[lang]
    s = comparison["settings"]
    baseline = comparison["summaries"][0]
    title = baseline["scenario"].get("title_en" if lang == "en" else "title") or baseline["scenario"]["name"]
    interval = t.get(s.get("uncertainty", "replications only"), s.get("uncertainty", "replications only"))
    images = {name: base64.b64encode(path.read_bytes()).decode("ascii") for name, path in charts.items()}
    return environment().get_template("comparison.html.j2").render(
        lang=lang, t=t, title=t["title"].format(scenario=title),
        settings=t["settings"].format(replications=s["replications"], seed=s["seed"], interval=interval),
        heading=t["plans"].format(baseline=comparison["baseline"]),
        plans=[plan_view(dict(d), lang) for d in comparison["differences"] if "decision" in d],
        header=[t["figure"], t["baseline"], t["plan"], t["difference"]],
        contribution_header=[t["intervention"], t["cost"], t["alone"], t["left_out"], t["shapley"]],
        images=images, day=lambda iso: day(iso, lang))


def write_comparison_report(comparison: Any, run_dir: Path, lang: str = "vi") -> Path:
    """Write ``comparison.html`` into `run_dir`, embedding the compare charts found there."""
    run_dir = Path(run_dir)
    charts = {name: run_dir / f"{name}.png" for name in CHARTS if (run_dir / f"{name}.png").exists()}
    return write_text(run_dir / COMPARISON_HTML, render_comparison(comparison, charts, lang))
