"""Charts only the closed loop of `motcua run` has, drawn from the run folder's saved files (vi/en).

- ``demand_hourly.png``: payments per hour on the busiest day, stacked by payment group, with the
  95% band of the total (``demand/demand.json``);
- ``interventions.png``: points of final share each intervention contributes, with 95% CIs
  (``simulate/interventions.json``);
- ``feedback_trajectories.png``: the all-units share with the assumed, the measured and a flawless
  payment system, against the target (``simulate/``, ``feedback/`` summaries);
- ``callback_real_time.png``: empirical CDF of callback delays in real-time equivalents by bank,
  with the moment a citizen is told "unpaid" (``feedback/quality.json``).

The load test's own charts (throughput, latency, callback CDF, capacity) come from
`motcua.report.loadtest_charts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from motcua.report.i18n import duration, percent, text
from motcua.run_layout import AssessedIntervention, DemandFile, QualityFile, SimulationSummary, localized


def _arr(values: Any) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in np.atleast_1d(values)], dtype=float)


def demand_hourly(demand: DemandFile, path: Path, lang: str) -> Path:
    from motcua.report.style import PALETTE, legend_outside, new_figure, save

    hourly = demand["hourly"]
    hours = np.arange(24)
    fig, ax = new_figure(9, 4.8)
    bottom = np.zeros(24)
    for j, (group, est) in enumerate(hourly["by_group"].items()):
        values = np.nan_to_num(_arr(est["mean"]))
        ax.bar(hours, values, bottom=bottom, color=PALETTE[j % len(PALETTE)], label=text(lang, f"g_{group}"))
        bottom += values
    total = hourly["total"]
    ax.fill_between(hours, _arr(total["low"]), _arr(total["high"]), step="mid", color="black", alpha=0.15,
                    label=text(lang, "c_band"))
    ax.set_xticks(hours)
    ax.set_xlabel(text(lang, "c_hour"))
    ax.set_ylabel(text(lang, "c_demand_axis"))
    from motcua.report.i18n import day

    ax.set_title(text(lang, "c_demand_title", date=day(demand["date"], lang)))
    legend_outside(ax)
    return save(fig, path, lang)


def interventions(assessed: Sequence[AssessedIntervention], path: Path, lang: str) -> Path:
    from motcua.report.style import PALETTE, new_figure, save

    fig, ax = new_figure(9, 0.7 * max(len(assessed), 1) + 2)
    y = np.arange(len(assessed))
    mean = 100 * _arr([a["points_gained"]["mean"] for a in assessed])
    low = 100 * _arr([a["points_gained"]["low"] for a in assessed])
    high = 100 * _arr([a["points_gained"]["high"] for a in assessed])
    err = np.nan_to_num(np.vstack([mean - low, high - mean]))
    ax.barh(y, np.nan_to_num(mean), xerr=err, color=PALETTE[0], alpha=0.85, capsize=3)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [localized(a, "name", lang) for a in assessed])
    ax.invert_yaxis()
    ax.set_xlabel(text(lang, "c_points"))
    ax.set_title(text(lang, "c_interventions_title"))
    return save(fig, path, lang)


def feedback_trajectories(summaries: Mapping[str, SimulationSummary], path: Path, lang: str) -> Path:
    """Weekly all-units share for each quality (``assumed``, ``measured``, ``flawless``) with 95% bands."""
    from motcua.report.numbers import percent_formatter
    from motcua.report.style import PALETTE, legend_outside, new_figure, save, target_line

    fig, ax = new_figure(9, 5)
    for j, (name, summary) in enumerate(summaries.items()):
        weekly = summary["share"]["weekly"]
        x = [dt.date.fromisoformat(d) for d in weekly["labels"]]
        est = weekly["series"]["all"]
        ax.fill_between(x, _arr(est["low"]), _arr(est["high"]), color=PALETTE[j], alpha=0.15)
        ax.plot(x, _arr(est["mean"]), color=PALETTE[j], linewidth=2, label=text(lang, f"c_{name}"))
    first = next(iter(summaries.values()))
    ax.set_ylim(bottom=0)
    for target in first.get("targets", [])[:1]:
        target_line(ax, target["share"], text(lang, "c_target", share=percent(target["share"], lang, 0)))
    ax.yaxis.set_major_formatter(percent_formatter(lang))
    ax.set_xlabel(text(lang, "c_week"))
    ax.set_ylabel(text(lang, "c_share"))
    ax.set_title(text(lang, "c_feedback_title"))
    legend_outside(ax)
    fig.autofmt_xdate()
    return save(fig, path, lang)


def callback_real_time(quality: QualityFile, path: Path, lang: str) -> Path:
    from motcua.report.style import PALETTE, legend_outside, new_figure, save, target_line

    fig, ax = new_figure(9, 4.8)
    for i, (bank, info) in enumerate(quality["by_bank"].items()):
        values = np.asarray(info["seconds"], dtype=float)
        if values.size == 0:
            continue
        ax.step(values, np.arange(1, values.size + 1) / values.size, where="post", color=PALETTE[i % len(PALETTE)],
                label=f"{bank} (n={info['count']})")
    notice = quality["unpaid_notice_after_s"]
    ax.set_xscale("log")
    target_line(ax, notice, text(lang, "c_notice", after=duration(notice, lang)), vertical=True)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(text(lang, "c_cb_axis"))
    ax.set_ylabel(text(lang, "c_cb_share"))
    ax.set_title(text(lang, "c_cb_title"))
    legend_outside(ax)
    return save(fig, path, lang)

