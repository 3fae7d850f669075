"""Charts of a simulation a planner can paste into a campaign plan, drawn from ``summary.json`` alone.

Because they read only the saved summary, `motcua report` can redraw them without rerunning
anything. Every label exists in Vietnamese (``lang="vi"``, the default) and English (``"en"``).

- ``share_trajectories.png``: weekly share paid online, all units with its 95% band and each unit,
  against the target line and deadline;
- ``units_vs_target.png``: each unit's share at the end of the horizon (95% CI) beside its observed
  starting share and the target;
- ``counter_waits.png``: counter wait p50 and p90 per unit, before and after;
- ``officer_hours.png``: officer-hours per open day by activity, before and after, and hours freed;
- for a comparison: ``compare_trajectories.png``, ``compare_units.png``, ``compare_differences.png``.

With more than `MANY_UNITS` units (a commune-level province, the nation's 3,321) the trajectories show the
spread across units (the middle 80% and the median unit) instead of a line each, the units are ranked on one
axis, and the counter charts keep the `TOP_UNITS` with the longest waits or the most officer-hours, saying so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from motcua.report.i18n import label_table, number
from motcua.run_layout import ComparisonSummary, Estimate, SimulationSummary, localized

if TYPE_CHECKING:  # matplotlib loads with the first chart
    from matplotlib.axes import Axes

MANY_UNITS = 30
"""Above this many units (a commune-level province has 65, the nation 3,321) a line or a bar per unit says
nothing: the charts show the spread across units, every unit ranked, or the units that matter most."""
TOP_UNITS = 20
"""How many units the counter charts keep when there are more than `MANY_UNITS` (the longest waits, the most
officer-hours), named in the title."""

LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "share_title": "Tỷ lệ hồ sơ có phí được thanh toán trực tuyến — {scenario}",
        "share_axis": "Tỷ lệ thanh toán trực tuyến",
        "week_axis": "Tuần bắt đầu",
        "all": "Toàn bộ các đơn vị",
        "band": "Khoảng tin cậy 95%",
        "target": "Mục tiêu {share} đến {date}",
        "deadline": "Hạn mục tiêu",
        "units_title": "Tỷ lệ cuối kỳ theo đơn vị so với mục tiêu — {scenario}",
        "observed": "Tỷ lệ quan sát ban đầu",
        "simulated": "Mô phỏng cuối kỳ (KTC 95%)",
        "waits_title": "Thời gian chờ tại bộ phận một cửa — {scenario}",
        "wait_axis": "Phút chờ",
        "before": "Trước ({start} – {end})",
        "after": "Sau ({start} – {end})",
        "p50": "Trung vị (p50)",
        "p90": "Phân vị 90 (p90)",
        "mean": "Trung bình",
        "p50_zero": "Trung vị (p50) = 0 phút ở mọi đơn vị: hơn một nửa người dân không phải chờ",
        "officer_title": "Giờ làm việc của cán bộ mỗi ngày mở cửa — {scenario}",
        "officer_axis": "Giờ cán bộ / ngày mở cửa",
        "freed": "giải phóng {hours} giờ/ngày",
        "before_short": "Trước",
        "after_short": "Sau",
        "act_serving": "Tiếp nhận hồ sơ",
        "act_cash": "Thu tiền mặt",
        "act_qr": "Thu qua mã QR",
        "act_guidance": "Hướng dẫn thanh toán trực tuyến",
        "act_idle": "Không có khách",
        "compare_title": "So sánh kịch bản: tỷ lệ thanh toán trực tuyến, toàn bộ các đơn vị — {scenario}",
        "compare_units_title": "Tỷ lệ cuối kỳ theo đơn vị và kịch bản — {scenario}",
        "diff_title": "Chênh lệch tỷ lệ cuối kỳ so với «{baseline}» (cặp số ngẫu nhiên chung, KTC 95%)",
        "diff_axis": "Chênh lệch (điểm phần trăm)",
        "units_spread": "80% số đơn vị ở giữa (10%–90%, {n} đơn vị)",
        "median_unit": "Đơn vị trung vị",
        "rank_axis": "Đơn vị, xếp theo tỷ lệ cuối kỳ ({n} đơn vị)",
        "top_units": "{k} đơn vị có {what} lớn nhất trong {n}",
        "top_wait": "thời gian chờ p90",
        "top_hours": "giờ cán bộ",
        "before_after": "Mỗi đơn vị: cột trái là trước, cột phải (nhạt) là sau",
    },
    "en": {
        "share_title": "Share of fee-bearing dossiers paid online — {scenario}",
        "share_axis": "Share paid online",
        "week_axis": "Week starting",
        "all": "All units",
        "band": "95% confidence band",
        "target": "Target {share} by {date}",
        "deadline": "Target deadline",
        "units_title": "Share at the end of the horizon by unit vs target — {scenario}",
        "observed": "Observed starting share",
        "simulated": "Simulated, end of horizon (95% CI)",
        "waits_title": "Waiting time at the one-stop-shop counter — {scenario}",
        "wait_axis": "Minutes waiting",
        "before": "Before ({start} – {end})",
        "after": "After ({start} – {end})",
        "p50": "Median (p50)",
        "p90": "90th percentile (p90)",
        "mean": "Mean",
        "p50_zero": "Median (p50) = 0 min at every unit: more than half of citizens do not wait",
        "officer_title": "Officer-hours per open day by activity — {scenario}",
        "officer_axis": "Officer-hours per open day",
        "freed": "{hours} h/day freed",
        "before_short": "Before",
        "after_short": "After",
        "act_serving": "Receiving dossiers",
        "act_cash": "Collecting cash",
        "act_qr": "QR payment",
        "act_guidance": "Guiding online payment",
        "act_idle": "Idle",
        "compare_title": "Scenarios compared: share paid online, all units — {scenario}",
        "compare_units_title": "Share at the end of the horizon by unit and scenario — {scenario}",
        "diff_title": "Difference in final share vs “{baseline}” (common random numbers, 95% CI)",
        "diff_axis": "Difference (percentage points)",
        "units_spread": "Middle 80% of units (10th–90th percentile, {n} units)",
        "median_unit": "Median unit",
        "rank_axis": "Units, ranked by final share ({n} units)",
        "top_units": "the {k} units with the most {what} of {n}",
        "top_wait": "p90 waiting time",
        "top_hours": "officer-hours",
        "before_after": "Each unit: left bar before, right bar (pale) after",
    },
}


def labels(lang: str) -> dict[str, str]:
    """The label table of `lang`; an unknown language is refused with the choices."""
    return label_table(LABELS, lang)


def _arr(values: Any) -> np.ndarray:
    """A JSON list (with nulls) as a float array with NaN."""
    return np.array([np.nan if v is None else v for v in np.atleast_1d(values)], dtype=float)


def _num(value: Any) -> float:
    return np.nan if value is None else float(value)


def _mean_err(estimates: Sequence[Estimate], scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Means and asymmetric error-bar lengths (2 × n, zero where a bound is missing) of JSON estimates."""
    mean = scale * _arr([e["mean"] for e in estimates])
    low, high = scale * _arr([e["low"] for e in estimates]), scale * _arr([e["high"] for e in estimates])
    return mean, np.nan_to_num(np.vstack([mean - low, high - mean]))


def _pct(share: float, lang: str) -> str:
    from motcua.report.numbers import digits_for, percent

    return percent(share, lang, min(1, digits_for([100 * share])))


def _date(text: str, lang: str) -> str:
    d = dt.date.fromisoformat(text)
    return d.strftime("%d/%m/%Y") if lang == "vi" else d.isoformat()


def _unit_names(summary: SimulationSummary, lab: dict[str, str], lang: str) -> dict[str, str]:
    return {"all": lab["all"], **{u["id"]: localized(u, "name", lang) for u in summary["units"]}}


def _scenario_title(summary: SimulationSummary) -> str:
    """What chart titles name: the region (short, in its own language), else the scenario name."""
    return summary["scenario"].get("region") or summary["scenario"]["name"]


def _scenario_label(summary: SimulationSummary) -> str:
    """What legends name when scenarios are compared: the scenario's short name."""
    return summary["scenario"]["name"]


def _percent_axis(ax: Axes, axis: str = "y", lang: str = "vi") -> None:
    from motcua.report.numbers import percent_formatter

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(percent_formatter(lang))


def _target_lines(ax: Axes, summary: SimulationSummary, lab: dict[str, str], lang: str, dates: bool = True) -> None:
    from motcua.report.style import TARGET_COLOR

    for target in summary.get("targets", [])[:1]:
        ax.axhline(target["share"], color=TARGET_COLOR, linestyle="--", linewidth=1.2,
                   label=lab["target"].format(share=_pct(target["share"], lang), date=_date(target["date"], lang)))
        if dates and target.get("deadline_within_horizon"):
            # matplotlib's stubs say float; its date converter takes the date (the x axis holds dates)
            ax.axvline(dt.date.fromisoformat(target["date"]),  # type: ignore[arg-type]
                       color=TARGET_COLOR, linestyle=":", linewidth=1.0)


def _labelled_target(ax: Axes, summary: SimulationSummary, lab: dict[str, str], lang: str) -> None:
    """The first target as a dashed line labelled on the chart, and its deadline as a dotted line."""
    from motcua.report.style import TARGET_COLOR, target_line

    for target in summary.get("targets", [])[:1]:
        target_line(ax, target["share"], lab["target"].format(share=_pct(target["share"], lang),
                                                             date=_date(target["date"], lang)))
        if target.get("deadline_within_horizon"):
            ax.axvline(dt.date.fromisoformat(target["date"]),  # type: ignore[arg-type]
                       color=TARGET_COLOR, linestyle=":", linewidth=1.0)


# ---------------------------------------------------------------------------------------------
# One scenario
# ---------------------------------------------------------------------------------------------
def share_trajectories(summary: SimulationSummary, path: Path, lang: str = "vi") -> Path:
    from motcua.report.style import PALETTE, legend_outside, new_figure, save

    lab = labels(lang)
    names = _unit_names(summary, lab, lang)
    weekly = summary["share"]["weekly"]
    x = [dt.date.fromisoformat(d) for d in weekly["labels"]]
    fig, ax = new_figure(9, 5)
    series = summary["share"]["series"]
    many = len(series) - 1 > MANY_UNITS
    if many:
        _units_spread(ax, x, [_arr(weekly["series"][sid]["mean"]) for sid in series if sid != "all"], lab)
    for i, sid in enumerate(series):
        est = weekly["series"][sid]
        if many and sid != "all":
            continue
        if sid == "all":
            ax.fill_between(x, _arr(est["low"]), _arr(est["high"]), color=PALETTE[0], alpha=0.2, label=lab["band"])
            ax.plot(x, _arr(est["mean"]), color=PALETTE[0], linewidth=2.5, label=names[sid])
        else:
            ax.plot(x, _arr(est["mean"]), color=PALETTE[1 + (i - 1) % (len(PALETTE) - 1)], linewidth=1.2,
                    alpha=0.85, label=names.get(sid, sid))
    ax.set_ylim(bottom=0)
    _labelled_target(ax, summary, lab, lang)
    ax.set_title(lab["share_title"].format(scenario=_scenario_title(summary)))
    ax.set_xlabel(lab["week_axis"])
    ax.set_ylabel(lab["share_axis"])
    _percent_axis(ax, "y", lang)
    legend_outside(ax)
    fig.autofmt_xdate()
    return save(fig, path, lang)


def _units_spread(ax: Axes, x: Any, means: Sequence[np.ndarray], lab: dict[str, str]) -> None:
    """The spread of many units' weekly shares: the middle 80% shaded and the median unit dashed."""
    from motcua.report.style import PALETTE

    matrix = np.vstack(means)
    with np.errstate(all="ignore"):
        low, mid, high = np.nanpercentile(matrix, [10, 50, 90], axis=0)
    ax.fill_between(x, low, high, color=PALETTE[5], alpha=0.25, label=lab["units_spread"].format(n=len(means)))
    ax.plot(x, mid, color=PALETTE[5], linestyle="--", linewidth=1.2, label=lab["median_unit"])


def units_vs_target(summary: SimulationSummary, path: Path, lang: str = "vi") -> Path:
    from motcua.report.style import PALETTE, legend_outside, new_figure, save, target_line

    lab = labels(lang)
    if len(summary["share"]["series"]) - 1 > MANY_UNITS:
        return _units_ranked(summary, path, lab, lang)
    names = _unit_names(summary, lab, lang)
    ids = summary["share"]["series"]
    final = summary["share"]["final"]
    observed = {u["id"]: u.get("observed_share") for u in summary["units"]}
    y = np.arange(len(ids))
    mean, err = _mean_err([final[s] for s in ids])
    fig, ax = new_figure(9, 0.6 * len(ids) + 2)
    ax.barh(y, mean, xerr=err, color=[PALETTE[0] if s == "all" else PALETTE[5] for s in ids], alpha=0.85,
            capsize=3, label=lab["simulated"])
    obs = np.array([_num(observed.get(s)) for s in ids])
    ax.plot(obs, y, "D", color=PALETTE[1], label=lab["observed"])
    for target in summary.get("targets", [])[:1]:
        target_line(ax, target["share"], lab["target"].format(share=_pct(target["share"], lang),
                                                             date=_date(target["date"], lang)), vertical=True)
    ax.set_yticks(y, [names.get(s, s) for s in ids])
    ax.invert_yaxis()
    ax.set_title(lab["units_title"].format(scenario=_scenario_title(summary)))
    _percent_axis(ax, "x", lang)
    legend_outside(ax)
    return save(fig, path, lang)


def _units_ranked(summary: SimulationSummary, path: Path, lab: dict[str, str], lang: str) -> Path:
    """Every unit's final share (95% CI) ranked, its observed start beside it, the all-units figure and the
    target across: one chart for any number of units."""
    from motcua.report.style import PALETTE, legend_outside, new_figure, save, target_line

    final = summary["share"]["final"]
    ids = [s for s in summary["share"]["series"] if s != "all"]
    observed = {u["id"]: _num(u.get("observed_share")) for u in summary["units"]}
    mean, err = _mean_err([final[s] for s in ids])
    order = np.argsort(mean, kind="stable")
    rank = np.arange(1, len(ids) + 1)
    fig, ax = new_figure(9, 5)
    ax.fill_between(rank, (mean - err[0])[order], (mean + err[1])[order], color=PALETTE[5], alpha=0.3)
    ax.plot(rank, mean[order], color=PALETTE[5], linewidth=1.2, label=lab["simulated"])
    ax.plot(rank, np.array([observed[ids[i]] for i in order]), ".", markersize=2, color=PALETTE[1],
            label=lab["observed"])
    ax.axhline(_num(final["all"]["mean"]), color=PALETTE[0], linewidth=1.5, label=lab["all"])
    for target in summary.get("targets", [])[:1]:
        target_line(ax, target["share"], lab["target"].format(share=_pct(target["share"], lang),
                                                             date=_date(target["date"], lang)))
    ax.set_xlabel(lab["rank_axis"].format(n=number(len(ids), lang)))
    ax.set_title(lab["units_title"].format(scenario=_scenario_title(summary)))
    _percent_axis(ax, "y", lang)
    legend_outside(ax)
    return save(fig, path, lang)


def _top(units: list[str], weight: dict[str, float], lab: dict[str, str], what: str, lang: str
         ) -> tuple[list[str], str]:
    """The `TOP_UNITS` units of largest `weight` when there are more than `MANY_UNITS`, and the title's note."""
    if len(units) <= MANY_UNITS:
        return units, ""
    kept = sorted(units, key=lambda u: -np.nan_to_num(weight[u], nan=-np.inf))[:TOP_UNITS]
    note = lab["top_units"].format(k=TOP_UNITS, what=lab[what], n=number(len(units), lang))
    return kept, f"\n({note})"


def _many_ticks(note: str, rotation: int = 0) -> dict[str, Any]:
    """Unit names upright, or standing on end when the chart keeps the top units of many (long names collide)."""
    if note:
        return {"rotation": 90, "ha": "center", "fontsize": 7}
    return {"rotation": rotation, "ha": "right"} if rotation else {}


def _period_labels(summary: SimulationSummary, lab: dict[str, str], lang: str) -> list[str]:
    periods = summary["counter_waits"]["periods"]
    return [lab[name].format(start=_date(w["start"], lang), end=_date(w["end"], lang)) for name, w in periods.items()]


def counter_waits(summary: SimulationSummary, path: Path, lang: str = "vi") -> Path:
    import matplotlib.pyplot as plt

    from motcua.report.style import PALETTE, save

    lab = labels(lang)
    names = _unit_names(summary, lab, lang)
    waits = summary["counter_waits"]["units"]
    periods = list(summary["counter_waits"]["periods"])
    units, note = _top(list(waits), {u: max(_num(waits[u][p]["p90"]["mean"]) for p in periods) for u in waits},
                       lab, "top_wait", lang)
    plabels = _period_labels(summary, lab, lang)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), sharey=False)
    x = np.arange(len(units))
    width = 0.8 / len(periods)
    p50_zero = all(_num(waits[u][p]["p50"]["mean"]) == 0 for u in units for p in periods)
    # An all-zero median panel says nothing: show the mean instead and say why in a note.
    stats = ("mean", "p90") if p50_zero else ("p50", "p90")
    for ax, stat in zip(axes, stats, strict=True):
        for p, pname in enumerate(periods):
            mean, err = _mean_err([waits[u][pname][stat] for u in units])
            ax.bar(x + (p - (len(periods) - 1) / 2) * width, np.nan_to_num(mean), width, yerr=err, capsize=3,
                   color=PALETTE[p], label=plabels[p])
        ax.set_title(lab[stat])
        ax.set_xticks(x, [names.get(u, u) for u in units], **_many_ticks(note, rotation=30))
        ax.set_ylabel(lab["wait_axis"])
    fig.suptitle(lab["waits_title"].format(scenario=_scenario_title(summary)) + note)
    fig.tight_layout()
    # Below the rotated unit names: the periods, then the note on the median.
    fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=2,
               fontsize=8)
    if p50_zero:
        fig.text(0.5, -0.07, lab["p50_zero"], ha="center", va="top", fontsize=8, style="italic")
    return save(fig, path, lang)


def officer_hours(summary: SimulationSummary, path: Path, lang: str = "vi") -> Path:
    from motcua.report.style import PALETTE, new_figure, save

    lab = labels(lang)
    names = _unit_names(summary, lab, lang)
    oh = summary["officer_hours"]
    acts = [a for a in oh["activities"] if a != "idle"]  # idle time is not work freed or spent
    work = {u: sum(np.nan_to_num(_num(oh["per_open_day"][u]["before"][a]["mean"])) for a in acts)
            for u in oh["per_open_day"]}
    units, note = _top(list(oh["per_open_day"]), work, lab, "top_hours", lang)
    fig, ax = new_figure(10, 5)
    x = np.arange(len(units))
    width = 0.38
    for p, (pname, short) in enumerate((("before", "before_short"), ("after", "after_short"))):
        bottom = np.zeros(len(units))
        for j, act in enumerate(acts):
            values = np.nan_to_num([_num(oh["per_open_day"][u][pname][act]["mean"]) for u in units])
            ax.bar(x + (p - 0.5) * width, values, width, bottom=bottom, color=PALETTE[j % len(PALETTE)],
                   alpha=1.0 if p == 0 else 0.55, edgecolor="white",
                   label=lab.get(f"act_{act}", act) if p == 0 else None)
            bottom += values
        for xi, top in zip(x, bottom, strict=True):
            if not note:  # with many units the words would collide: the axis label says which bar is which
                ax.text(xi + (p - 0.5) * width, top, lab[short], ha="center", va="bottom", fontsize=7)
    freed = oh["freed_per_open_day"]
    for xi, u in zip(x, units, strict=True):
        hours = _num(freed[u]["mean"])
        if np.isfinite(hours) and not note:
            ax.annotate(lab["freed"].format(hours=number(hours, lang, 1)), (xi, 0), xytext=(0, -38),
                        textcoords="offset points", ha="center", fontsize=7, color=PALETTE[2])
    ax.set_xticks(x, [names.get(u, u) for u in units], **_many_ticks(note))
    ax.tick_params(axis="x", labelsize=7 if note else 8)
    if note:
        ax.set_xlabel(lab["before_after"])
    ax.set_ylabel(lab["officer_axis"])
    ax.set_title(lab["officer_title"].format(scenario=_scenario_title(summary)) + note)
    ax.legend(fontsize=8)
    return save(fig, path, lang)


def simulation_charts(summary: SimulationSummary, out_dir: Path, lang: str = "vi") -> list[Path]:
    """All charts of one scenario's summary, as PNG files in `out_dir`."""
    labels(lang)
    out_dir = Path(out_dir)
    return [
        share_trajectories(summary, out_dir / "share_trajectories.png", lang),
        units_vs_target(summary, out_dir / "units_vs_target.png", lang),
        counter_waits(summary, out_dir / "counter_waits.png", lang),
        officer_hours(summary, out_dir / "officer_hours.png", lang),
    ]


# ---------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------
def compare_trajectories(summaries: Sequence[SimulationSummary], path: Path, lang: str = "vi") -> Path:
    from motcua.report.style import PALETTE, legend_outside, new_figure, save

    lab = labels(lang)
    fig, ax = new_figure(9, 5)
    for k, summary in enumerate(summaries):
        weekly = summary["share"]["weekly"]
        x = [dt.date.fromisoformat(d) for d in weekly["labels"]]
        est = weekly["series"]["all"]
        color = PALETTE[k % len(PALETTE)]
        ax.fill_between(x, _arr(est["low"]), _arr(est["high"]), color=color, alpha=0.18)
        ax.plot(x, _arr(est["mean"]), color=color, linewidth=2, label=_scenario_label(summary))
    ax.set_ylim(bottom=0)
    _labelled_target(ax, summaries[0], lab, lang)  # labelled on its line: the legend stays clear of it
    ax.set_title(lab["compare_title"].format(scenario=_scenario_title(summaries[0])))
    ax.set_xlabel(lab["week_axis"])
    ax.set_ylabel(lab["share_axis"])
    _percent_axis(ax, "y", lang)
    legend_outside(ax)
    fig.autofmt_xdate()
    return save(fig, path, lang)  # dates and numbers on the axes in the page's format


def compare_units(summaries: Sequence[SimulationSummary], path: Path, lang: str = "vi") -> Path:
    from motcua.report.style import PALETTE, legend_outside, new_figure, save

    lab = labels(lang)
    names = _unit_names(summaries[0], lab, lang)
    ids = summaries[0]["share"]["series"]
    x = np.arange(len(ids))
    width = 0.8 / len(summaries)
    fig, ax = new_figure(10, 5)
    for k, summary in enumerate(summaries):
        mean, err = _mean_err([summary["share"]["final"][s] for s in ids])
        ax.bar(x + (k - (len(summaries) - 1) / 2) * width, mean, width, yerr=err, capsize=3,
               color=PALETTE[k % len(PALETTE)], label=_scenario_label(summary))
    # A target line only where the bars are the target's quantity: the share on its deadline. The bars are
    # the share at the horizon's end, so the line is drawn only when the horizon ends on the deadline.
    if any(t["date"] == summaries[0]["settings"]["end"] for t in summaries[0].get("targets", [])[:1]):
        _target_lines(ax, summaries[0], lab, lang, dates=False)
    ax.set_xticks(x, [names.get(s, s) for s in ids], rotation=30, ha="right")
    ax.set_ylabel(lab["share_axis"])
    _percent_axis(ax, "y", lang)
    ax.set_title(lab["compare_units_title"].format(scenario=_scenario_title(summaries[0])))
    legend_outside(ax)
    return save(fig, path, lang)


def compare_differences(comparison: ComparisonSummary, path: Path, lang: str = "vi") -> Path:
    from motcua.report.style import PALETTE, legend_outside, new_figure, save

    lab = labels(lang)
    summaries = comparison["summaries"]
    names = _unit_names(summaries[0], lab, lang)
    titles = {s["scenario"]["name"]: _scenario_label(s) for s in summaries}
    ids = summaries[0]["share"]["series"]
    diffs = comparison["differences"]
    y = np.arange(len(ids))
    height = 0.8 / max(1, len(diffs))
    fig, ax = new_figure(9, 0.6 * len(ids) + 2)
    for k, diff in enumerate(diffs):
        mean, err = _mean_err([diff["final_share"][s] for s in ids], scale=100.0)
        ax.barh(y + (k - (len(diffs) - 1) / 2) * height, mean, height, xerr=err, capsize=3,
                color=PALETTE[(k + 1) % len(PALETTE)], label=titles.get(diff["scenario"], diff["scenario"]))
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [names.get(s, s) for s in ids])
    ax.invert_yaxis()
    ax.set_xlabel(lab["diff_axis"])
    ax.set_title(lab["diff_title"].format(baseline=titles.get(comparison["baseline"], comparison["baseline"])),
                 fontsize=10)
    legend_outside(ax)
    return save(fig, path, lang)


def comparison_charts(comparison: ComparisonSummary, out_dir: Path, lang: str = "vi") -> list[Path]:
    """The side-by-side charts of a `motcua compare` summary, as PNG files in `out_dir`."""
    labels(lang)
    out_dir = Path(out_dir)
    summaries = comparison["summaries"]
    return [
        compare_trajectories(summaries, out_dir / "compare_trajectories.png", lang),
        compare_units(summaries, out_dir / "compare_units.png", lang),
        compare_differences(comparison, out_dir / "compare_differences.png", lang),
    ]
