"""What the results, compare and runs pages say, built from the run folders the commands wrote.

The answer of a simulation is the report's own (`motcua.report.sections.summary_view` and ``units_view`` over the
run's ``summary.json``), so the page and ``report.html`` say the same sentence. The compare page shows the paired
differences of the comparison summary as rows of `DIFF_ROWS`: a new figure of the summary is shown by adding a row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from motcua.report.assumptions import group_label
from motcua.report.i18n import day, number, percent
from motcua.report.sections import ReportInput, summary_view, units_view
from motcua.run_layout import (
    MANIFEST,
    REPORT,
    SUMMARY,
    ComparisonSummary,
    Manifest,
    RunFiles,
    SimulationSummary,
    read_json,
)
from motcua.runs import list_runs
from motcua.scenario import Scenario, load_scenario

READ_ONLY_KINDS = ("loadtest", "run", "calibrate", "sensitivity", "mock-check")
"""Runs the studio lists and links but never writes into (engineers' load tests, `motcua run` …)."""


def simulate_files(run_dir: Path, summary: SimulationSummary, manifest: Mapping[str, Any],
                   scenario_file: Path | None) -> RunFiles:
    """A `RunFiles` view of a `motcua simulate` folder (one scenario's summary), for the report's views."""
    return RunFiles(run_dir=run_dir, manifest=cast(Manifest, dict(manifest)), summary=None, simulate=summary,
                    interventions=None, demand=None, loadtest=None, harness=None, quality=None, feedback=None,
                    flawless=None, comparison=None, scenario_file=scenario_file)


def scenario_of(manifest: Mapping[str, Any], index: int = 0) -> Scenario | None:
    """The scenario file a run read, when it is still there and still loads."""
    inputs = [i for i in manifest.get("inputs", []) if str(i.get("role", "")).startswith("scenario")]
    if index >= len(inputs):
        return None
    path = Path(inputs[index]["path"])
    if not path.is_absolute():
        path = Path(manifest.get("cwd", ".")) / path
    try:
        return load_scenario(path) if path.is_file() else None
    except Exception:  # an edited file that no longer loads: the page shows the run without it
        return None


def answer(run_dir: Path, summary: SimulationSummary, manifest: Mapping[str, Any], scenario: Scenario | None,
           lang: str) -> dict[str, Any]:
    """The answer first: the report's summary sentences, its units table, and the total cost."""
    files = simulate_files(run_dir, summary, manifest, Path(scenario.file) if scenario else None)
    report = ReportInput(files, scenario, lang)
    cost = sum(i.cost_vnd for i in scenario.interventions) if scenario else None
    return {"sentences": summary_view(report)["sentences"], "quick": bool(summary["settings"].get("quick")),
            "units": units_view(report)["rows"], "cost": number(cost, lang) if cost is not None else None}


# ---------------------------------------------------------------------------------------------
# Paired differences
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiffRow:
    """One row of the compare table: its label and how to read and show the figure of a `Differences` entry."""

    label: Callable[[Callable[..., str], Mapping[str, Any]], str]
    estimate: Callable[[Mapping[str, Any]], Mapping[str, Any] | None]
    show: Callable[[float, str], str]


def _points(value: float, lang: str) -> str:
    return number(100 * value, lang, 2)


def signed(text: str) -> str:
    """A number with its sign written: '+3,62', '−3,62' (a true minus sign)."""
    return text.replace("-", "−", 1) if text.startswith("-") else f"+{text}" if text not in ("0", "0,00", "0.00") \
        else text


def _target_name(comparison: Mapping[str, Any], lang: str) -> str:
    targets = comparison["summaries"][0]["targets"]
    if not targets:
        return "—"
    return f"{percent(targets[0]['share'], lang, 0)} / {day(targets[0]['date'], lang)}"


def _decision(diff: Mapping[str, Any], key: str) -> Any:
    """A figure of the plan's decision block (`motcua.compare_decision.decision`), or None before it existed."""
    return (diff.get("decision") or {}).get(key)


def _whole(value: Any) -> Mapping[str, Any] | None:
    """A figure without an interval (VND), as an estimate; None when it is not a number (e.g. 'not distinguishable')."""
    return {"mean": value} if isinstance(value, int | float) and not isinstance(value, bool) else None


DIFF_ROWS: tuple[DiffRow, ...] = (
    DiffRow(lambda tr, c: tr("d_final_share"), lambda d: d["final_share"]["all"], _points),
    DiffRow(lambda tr, c: tr("d_probability", target=_target_name(c, tr("lang"))),
            lambda d: (_decision(d, "probability_by_deadline") or {}).get("difference"), _points),
    DiffRow(lambda tr, c: tr("d_date"), lambda d: _decision(d, "reach_days"), lambda v, lang: number(v, lang, 0)),
    DiffRow(lambda tr, c: tr("d_cost"), lambda d: _whole(_decision(d, "added_cost_vnd")),
            lambda v, lang: number(v, lang, 0)),
    DiffRow(lambda tr, c: tr("d_cost_per_point"), lambda d: _whole(_decision(d, "cost_per_point_vnd")),
            lambda v, lang: number(v, lang, 0)),
    DiffRow(lambda tr, c: tr("d_busy_hours"), lambda d: d["busy_officer_hours"]["all"],
            lambda v, lang: number(v, lang, 0)),
    DiffRow(lambda tr, c: tr("d_freed"), lambda d: (d.get("hours_freed_per_open_day") or {}).get("all"),
            lambda v, lang: number(v, lang, 1)),
)
"""The figures of the compare table; rows whose figure the summary does not have (yet) are left out."""


def difference_table(comparison: ComparisonSummary, tr: Callable[..., str], lang: str) -> dict[str, Any]:
    """Header (one column per non-baseline scenario) and rows of paired differences with their intervals."""
    diffs = [cast(Mapping[str, Any], d) for d in comparison["differences"]]
    rows = []
    for row in DIFF_ROWS:
        ests = [row.estimate(d) for d in diffs]
        if all(e is None or not isinstance(e, Mapping) or "mean" not in e for e in ests):
            continue
        rows.append([row.label(tr, comparison), *(_band_of(e, row, lang) for e in ests)])
    header = [tr("d_measure"), *(f"{d['scenario']} − {d['baseline']}" for d in diffs)]
    return {"header": header, "rows": rows}


def _band_of(est: Mapping[str, Any] | None, row: DiffRow, lang: str) -> str:
    """'mean [low; high]' with signs: a difference and its 95% interval."""
    if not est or est.get("mean") is None:
        return "—"
    mean = signed(row.show(est["mean"], lang))
    if est.get("low") is None or est.get("high") is None:
        return mean
    return f"{mean} [{signed(row.show(est['low'], lang))}; {signed(row.show(est['high'], lang))}]"


def contribution_tables(comparison: ComparisonSummary, tr: Callable[..., str], lang: str) -> list[dict[str, Any]]:
    """Per plan, each added intervention's cost, its effect alone and its Shapley share of the plan's effect
    (`motcua.compare_decision.contributions`), and its cost per point of that share — none while the plan's own
    gain cannot be told from zero (as the decision's cost per point); plans whose contributions were not computed
    are left out."""
    out = []
    name = "name" if lang == "vi" else "name_en"
    for diff in comparison["differences"]:
        found = cast(Mapping[str, Any], diff).get("contributions") or {}
        if not found.get("computed"):
            continue
        sure = _decision(diff, "effect_distinguishable") is not False  # the plan's own gain is told from zero
        rows = [[r[name] or r["name"], number(r["cost_vnd"], lang), signed(number(r["alone_points"], lang, 2)),
                 signed(number(r["shapley_points"], lang, 2)),
                 _cost_per_share(r, tr, lang) if sure else tr("c_not_distinguishable")]
                for r in found["interventions"]]
        out.append({"plan": diff["scenario"], "rows": rows,
                    "header": [tr("c_intervention"), tr("c_cost"), tr("c_alone"), tr("c_shapley"),
                               tr("c_cost_per_point")]})
    return out


def _cost_per_share(row: Mapping[str, Any], tr: Callable[..., str], lang: str) -> str:
    """VND per point of the intervention's Shapley share; no figure when it gains nothing."""
    share = row.get("shapley_points") or 0
    return number(round(row["cost_vnd"] / share), lang) if share > 0 else tr("c_no_gain")


def verdict_sentence(comparison: ComparisonSummary, tr: Callable[..., str], lang: str) -> list[str]:
    """One sentence per plan compared with the baseline: better, worse, or not told apart, and how sure."""
    out = []
    for diff in comparison["differences"]:
        est = diff["final_share"]["all"]
        mean, low, high = est["mean"], est["low"], est["high"]
        if mean is None:
            continue
        values = {"a": diff["baseline"], "b": diff["scenario"], "pts": _points(abs(mean), lang),
                  "low": signed(_points(low, lang)) if low is not None else "—",
                  "high": signed(_points(high, lang)) if high is not None else "—"}
        p_better = probability_positive(mean, low, high, est.get("n"))
        if low is not None and low > 0:
            out.append(tr("better", p=percent(p_better, lang, 0), **values))
        elif high is not None and high < 0:
            out.append(tr("worse", p=percent(1 - p_better, lang, 0), **values))
        else:
            out.append(tr("unsure", p=percent(p_better, lang, 0), **values))
    return out


def probability_positive(mean: float, low: float | None, high: float | None, n: Any) -> float:
    """P(difference > 0) under the Student-t approximation the interval came from (≈, one-sided)."""
    from scipy import stats

    if low is None or high is None or high <= low:
        return 1.0 if mean > 0 else 0.0
    dof = max(int(n or 2) - 1, 1)
    se = (high - low) / 2 / stats.t.ppf(0.975, dof)
    return float(stats.t.cdf(mean / se, dof)) if se > 0 else float(mean > 0)


# ---------------------------------------------------------------------------------------------
# The run list
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunRow:
    """One run of the run list."""

    scenario: str
    run_id: str
    kind: str
    started: str
    verdict: str
    report: str | None
    """Path of the report, relative to the run folder, when there is one."""
    read_only: bool
    path: Path


def short_verdict(kind: str, summary: Mapping[str, Any] | None, tr: Callable[..., str], lang: str) -> str:
    """The verdict the run list shows: target met or missed with its probability, SLOs held or broken."""
    if not summary:
        return "—"
    head = summary.get("headline") or {}
    if kind == "simulate":
        return _target_verdict(head, tr, lang)
    if kind == "compare":
        return "; ".join(f"{name}: {_target_verdict(h, tr, lang)}" for name, h in head.items())
    if kind == "run":
        slo = head.get("slo", "")
        p = head.get("p_target")
        return f"{head.get('target') or ''} {percent(p, lang, 0) if p is not None else ''}; SLO {slo}".strip()
    if kind == "calibrate":
        words = [tr("v_rmse", rmse=number(100 * float(summary.get("rmse") or 0), lang, 2))]
        if head.get("reached_best"):
            words.append(tr("v_reached", date=day(head["reached_best"], lang)))
        return "; ".join(words)
    if kind == "sensitivity" and summary.get("ranking"):
        return tr("v_top", name=group_label(summary, summary["ranking"][0], lang))
    if kind == "loadtest":
        slo = summary.get("slo") or []
        failed = [v["name"] for v in slo if not v.get("passed")]
        invariant = (summary.get("invariant") or {}).get("ok")
        words = [tr("fail") + ": " + ", ".join(failed) if failed else "SLO " + tr("pass")]
        if invariant is False:
            words.append(tr("invariant_broken"))
        return "; ".join(words)
    return "—"


def _target_verdict(head: Mapping[str, Any], tr: Callable[..., str], lang: str) -> str:
    p = (head.get("probability_by_deadline") or {}).get("mean")
    if head.get("target_share") is None or p is None:
        return percent((head.get("final_share") or {}).get("mean"), lang)
    word = tr("pass") if p >= 0.5 else tr("fail")
    return (f"{percent(head['target_share'], lang, 0)} / {day(head['target_date'], lang)}: {word} "
            f"(p = {percent(p, lang, 0)})")


def run_rows(results_root: Path, tr: Callable[..., str], lang: str) -> list[RunRow]:
    """Every finished run under `results_root`, newest first."""
    rows = []
    for info in reversed(list_runs(results_root)):
        m = info.manifest
        kind = m.get("kind") or ""
        summary = info.summary
        if kind == "loadtest" and summary is None and (info.path / "loadtest" / SUMMARY).exists():
            summary = read_json(info.path / "loadtest" / SUMMARY)
        report = None
        for candidate in (REPORT, f"locust/{REPORT}"):
            if (info.path / candidate).exists():
                report = candidate
                break
        if kind in ("simulate", "compare") and report is None:
            report = REPORT  # drawn on first opening
        rows.append(RunRow(info.path.parent.name, info.path.name, kind, m.get("started_at", "")[:19].replace("T", " "),
                           short_verdict(kind, summary, tr, lang), report, kind in READ_ONLY_KINDS, info.path))
    return rows


def load_run(run_dir: Path) -> tuple[dict[str, Any], Any]:
    """The manifest and summary of a run folder."""
    summary = run_dir / SUMMARY
    return read_json(run_dir / MANIFEST), read_json(summary) if summary.exists() else None


def finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
