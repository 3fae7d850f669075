"""The report's part on assumptions and sources that calibration and sensitivity feed: the data of its blocks.

*Scenario.* Beside the table of what is observed and what is assumed, a planner needs: how well the calibrated
model reproduces the observations, the band of the target date (the uncertainty of the parameters plus the
replications, not only the terminal's text), what a backtest showed, and which assumptions the answer depends
on (a tornado chart and a table of Sobol' indices), with what data would pin each down. The figures come from the
`motcua calibrate` and `motcua sensitivity` runs of the scenario (a ``calibrate/`` or ``sensitivity/`` folder
inside the run, else the newest of ``results/<scenario>/`` made before the run); nothing is rerun. `studies`
returns plain data (headings, sentences, table rows, the tornado chart's data URI) that
``templates/sections/studies.html.j2`` renders, with autoescape, at the top of the assumptions section.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motcua.report.field_names import field_name
from motcua.report.i18n import day, label_table, moment, number, percent
from motcua.run_layout import MANIFEST, SUMMARY
from motcua.runs import read_json

LABELS = {
    "vi": {
        "calibration": "Hiệu chỉnh theo số liệu quan sát",
        "calibration_note": "Mô hình tác tử được hiệu chỉnh như lệnh simulate chạy (rào cản, giải pháp, hướng dẫn tại "
                            "quầy); dải 95% là của giá trị trung bình qua {n} lần lặp.",
        "period": "Giai đoạn", "observed": "Quan sát", "kind": "Loại", "simulated": "Mô phỏng",
        "band95": "Dải 95%", "inside": "Nằm trong dải", "yes": "có", "no": "KHÔNG",
        "target_band": "Ngày đạt mục tiêu {share} (hạn {deadline}): tốt nhất {best}; dải {level} {low} – {high} "
                       "(tham số và các lần lặp); xác suất đạt trước hạn {p}.",
        "mean_field": "Chỉ mô hình trường trung bình (không rào cản) sẽ cho: {best}, xác suất {p}.",
        "proxy": "đại diện ±{sd}",
        "backtest": "Kiểm định ngược (backtest)",
        "backtest_note": "Khớp trên {n} quan sát đầu, dự báo {m} quan sát giữ lại.",
        "forecast": "Dự báo", "miss": "Sai lệch", "band": "Dải",
        "sensitivity": "Các giả định quan trọng nhất (phân tích độ nhạy toàn cục)",
        "sensitivity_note": "Sàng lọc Morris trên {groups} nhóm giả định, rồi chỉ số Sobol' cho {top} nhóm đứng đầu "
                            "({runs} lần chạy).",
        "assumption": "Giả định", "what_data": "Số liệu cần để xác định",
        "final_share": "Tỷ lệ cuối kỳ", "target_day": "Ngày đạt mục tiêu", "hours_freed": "Giờ làm việc giải phóng",
        "tornado_title": "Độ nhạy: giá trị ở hai đầu khoảng của mỗi giả định",
        "base": "giá trị kịch bản", "low_end": "đầu thấp của khoảng", "high_end": "đầu cao của khoảng",
        "index_header": "{output}: chỉ số tổng (riêng phần)",
        "shown_run": "Theo lần chạy motcua {kind} {run_id} (bắt đầu {started} UTC) của cùng tệp kịch bản.",
    },
    "en": {
        "calibration": "Calibration to the observations",
        "calibration_note": "The agent model is calibrated as simulate runs it (barriers, interventions, counter "
                            "guidance); the 95% band is that of the mean over {n} replications.",
        "period": "Period", "observed": "Observed", "kind": "Kind", "simulated": "Simulated",
        "band95": "95% band", "inside": "Inside the band", "yes": "yes", "no": "NO",
        "target_band": "Date the {share} target is reached (deadline {deadline}): best {best}; {level} band "
                       "{low} – {high} (parameters and replications); probability by the deadline {p}.",
        "mean_field": "The mean field alone (barriers off) would say: {best}, probability {p}.",
        "proxy": "proxy ±{sd}",
        "backtest": "Backtest",
        "backtest_note": "Fitted on the first {n} observations, forecast the {m} held out.",
        "forecast": "Forecast", "miss": "Miss", "band": "Band",
        "sensitivity": "The assumptions that matter most (global sensitivity)",
        "sensitivity_note": "Morris screening of {groups} assumption groups, then Sobol' indices of the top {top} "
                            "({runs} runs).",
        "assumption": "Assumption", "what_data": "Data that would pin it down",
        "final_share": "Final share", "target_day": "Day the target is reached", "hours_freed": "Officer-hours freed",
        "tornado_title": "Sensitivity: the figures at both ends of each assumption's range",
        "base": "scenario's value", "low_end": "low end of the range", "high_end": "high end of the range",
        "index_header": "{output}: total (first-order) index",
        "shown_run": "From the motcua {kind} run {run_id} (started {started} UTC) of the same scenario file.",
    },
}


@dataclass(frozen=True)
class Study:
    """One block of the part on calibration and sensitivity, as ``sections/studies.html.j2`` shows it (escaped).

    A heading, the paragraphs before the table, the table (`numeric`: the columns shown right-aligned), the
    paragraphs after it as (text, css class), and an image's data URI (the tornado chart) or None.
    """

    title: str
    notes: list[str]
    header: list[str]
    rows: list[list[str]]
    numeric: tuple[int, ...] = ()
    after: list[tuple[str, str]] = field(default_factory=list)
    image: str | None = None


def latest(folder: Path, kind: str, before: str | None = None, key: str | None = None,
           scenario: Mapping[str, str] | None = None) -> Path | None:
    """The newest finished run folder of `kind` in `folder` (``results/<scenario>/``), older than `before` when
    given, whose summary has a non-null `key` when given (``backtest``: the newest calibration that was a
    backtest), and made from the same scenario (`scenario`: its ``name`` and ``sha256``; each compared only where
    both runs recorded it)."""
    candidates = [run for run in (sorted(Path(folder).iterdir()) if Path(folder).is_dir() else [])
                  if (run / MANIFEST).exists() and (run / SUMMARY).exists()
                  and (before is None or run.name < before) and _same_study(run, kind, key, scenario or {})]
    return candidates[-1] if candidates else None


def _same_study(run: Path, kind: str, key: str | None, scenario: Mapping[str, str]) -> bool:
    manifest = read_json(run / MANIFEST)
    if manifest.get("kind") != kind or (key is not None and read_json(run / SUMMARY).get(key) is None):
        return False
    mine = run_scenario(manifest)
    return all(not scenario.get(k) or not mine.get(k) or scenario[k] == mine[k] for k in ("name", "sha256"))


def run_scenario(manifest: Mapping[str, Any]) -> dict[str, str]:
    """The scenario a run was made from, as its manifest records it: ``name`` and the file's ``sha256``."""
    inputs = [i for i in manifest.get("inputs", []) if i.get("role") == "scenario"]
    return {"name": manifest.get("scenario") or "", "sha256": inputs[0].get("sha256", "") if inputs else ""}


def study_folders(run_dir: Path) -> dict[str, Path]:
    """The calibrate and sensitivity runs a report shows, by kind: a ``calibrate/`` or ``sensitivity/`` folder
    inside `run_dir`, else the newest run of that kind in the run's scenario folder (``results/<scenario>/``)
    made from the same scenario file (name and SHA-256 of the file) — made before or after the run, so a study
    made after `motcua run` reaches the report when `motcua report` rebuilds it."""
    run_dir = Path(run_dir)
    manifest = read_json(run_dir / MANIFEST) if (run_dir / MANIFEST).exists() else {}
    scenario = run_scenario(manifest)
    out = {}
    for kind in ("calibrate", "sensitivity"):
        inside = run_dir / kind
        found = inside if (inside / SUMMARY).exists() else latest(run_dir.parent, kind, scenario=scenario)
        if found is not None:
            out[kind] = found
    return out


def shown_run(folder: Path, lang: str) -> str:
    """'From the motcua sensitivity run 20241121-… (started …)': which run a block shows."""
    manifest = read_json(folder / MANIFEST) if (folder / MANIFEST).exists() else {}
    t = label_table(LABELS, lang)
    return t["shown_run"].format(kind=manifest.get("kind") or folder.name, run_id=manifest.get("run_id") or folder.name,
                                 started=moment(manifest.get("started_at"), lang))


def calibration_studies(summary: dict[str, Any], lang: str) -> list[Study]:
    """Observed against simulated, the target-date band, and the backtest of a calibrate summary."""
    t = label_table(LABELS, lang)
    agent = summary.get("agent")
    study = Study(t["calibration"], [], [], [], numeric=(1, 3, 4))
    if agent:
        study.notes.append(t["calibration_note"].format(n=agent["replications"]))
        study.header.extend([t["period"], t["observed"], t["kind"], t["simulated"], t["band95"], t["inside"]])
        for obs, sim in zip(summary["observations"], agent["observations"], strict=True):
            kind = t["proxy"].format(sd=percent(obs["proxy_sd"], lang, 0)) if obs.get("proxy_sd") else ""
            study.rows.append([_period(obs, lang), percent(obs["observed"], lang, 2), kind,
                               percent(sim["simulated_mean"], lang, 2),
                               _range(sim["simulated_low95"], sim["simulated_high95"], lang),
                               t["yes"] if sim["inside"] else t["no"]])
    study.after.extend((_band_text(band, t, lang), "headline") for band in summary.get("targets", []))
    alone = (summary.get("mean_field_alone") or {}).get("targets") or []
    if agent and alone:
        study.after.append((t["mean_field"].format(best=day(alone[0]["best"], lang),
                                                   p=percent(alone[0]["probability_by_deadline"], lang, 0)), "note"))
    return [study, backtest_study(summary["backtest"], lang)] if summary.get("backtest") else [study]


def _period(row: dict[str, Any], lang: str) -> str:
    return f"{day(row['period_start'], lang)} – {day(row['period_end'], lang)}"


def _range(low: float, high: float, lang: str) -> str:
    return f"{percent(low, lang, 2)} – {percent(high, lang, 2)}"


def _band_text(band: dict[str, Any], t: dict[str, str], lang: str) -> str:
    after = "> " + day(band["searched_until"], lang)
    return t["target_band"].format(share=percent(band["share"], lang, 0), deadline=day(band["deadline"], lang),
                                   best=day(band["best"], lang) if band["best"] else after,
                                   level=percent(band["level"], lang, 0),
                                   low=day(band["low"], lang) if band["low"] else after,
                                   high=day(band["high"], lang) if band["high"] else after,
                                   p=percent(band["probability_by_deadline"], lang, 0))


def backtest_study(backtest: dict[str, Any], lang: str) -> Study:
    """The held-out observations of a backtest against their forecast and its band."""
    t = label_table(LABELS, lang)
    rows = [[_period(r, lang), percent(r["observed"], lang, 2), percent(r["forecast"], lang, 2),
             percent(r["miss"], lang, 2), _range(r["low"], r["high"], lang), t["yes"] if r["inside"] else t["no"]]
            for r in backtest["held_out"]]
    note = t["backtest_note"].format(n=len(backtest["fitted_on"]), m=len(backtest["held_out"]))
    return Study(t["backtest"], [note], [t["period"], t["observed"], t["forecast"], t["miss"], t["band"],
                                         t["inside"]], rows, numeric=(1, 2, 3, 4))


def sensitivity_study(summary: dict[str, Any], chart: str | None, lang: str) -> Study:
    """The Sobol' table of the top assumptions with what data would pin each down, and the tornado chart."""
    from motcua.models.sensitivity import what_data

    t = label_table(LABELS, lang)
    note = t["sensitivity_note"].format(groups=len(summary["groups"]), top=len(summary["top"]), runs=summary["runs"])
    outputs = summary["outputs"]
    rows = []
    for g in summary["ranking"]:
        j = summary["top"].index(g)
        indices = [(summary["sobol"][o]["ST"][j], summary["sobol"][o]["S1"][j]) for o in outputs]
        rows.append([group_label(summary, g, lang), *[f"{number(st, lang, 2)} ({number(s1, lang, 2)})"
                                                      for st, s1 in indices], what_data(g, lang)])
    header = [t["assumption"], *[t["index_header"].format(output=t[o]) for o in outputs], t["what_data"]]
    return Study(t["sensitivity"], [note], header, rows, numeric=tuple(range(1, 1 + len(outputs))), image=chart)


def group_label(summary: Mapping[str, Any], group: str, lang: str) -> str:
    """A sensitivity group in plain words: the name the run recorded (``group_labels``), else `field_name`'s."""
    return (summary.get("group_labels") or {}).get(group, {}).get(lang) or field_name(group, lang)


def studies(run_dir: Path, lang: str) -> list[Study]:
    """The blocks of the calibrate and sensitivity runs behind a report (none when there are none), each saying
    which run it shows (`study_folders` finds them)."""
    import base64

    run_dir = Path(run_dir)
    out: list[Study] = []
    for kind, folder in study_folders(run_dir).items():
        summary = read_json(folder / SUMMARY)
        if kind == "calibrate":
            blocks = calibration_studies(summary, lang)
            same = run_scenario(read_json(folder / MANIFEST)) if (folder / MANIFEST).exists() else None
            tested = None if summary.get("backtest") else latest(folder.parent, kind, key="backtest", scenario=same)
            if tested is not None:
                blocks.append(backtest_study(read_json(tested / SUMMARY)["backtest"], lang))
                blocks[-1].notes.insert(0, shown_run(tested, lang))
        else:
            png = folder / "charts" / "tornado.png"
            src = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode() if png.exists() else None
            blocks = [sensitivity_study(summary, src, lang)]
        blocks[0].notes.insert(0, shown_run(folder, lang))
        out.extend(blocks)
    return out


def tornado_chart(summary: dict[str, Any], path: Path, lang: str) -> Path:
    """One panel per output: the figure at the low and high end of each top assumption's range, around the base.

    The assumptions are in the same order in every panel (by their widest relative swing over the outputs), the
    target day is shown as a date when the summary gives the simulation's ``start``, and the legend sits below
    the panels, clear of the bars."""
    from motcua.report.numbers import percent_formatter
    from motcua.report.style import PALETTE, new_figure, save

    t = label_table(LABELS, lang)
    outputs = summary["outputs"]
    fig, axes = new_figure(11.0, 1.6 + 0.5 * len(summary["top"]))
    fig.clf()
    axes = fig.subplots(1, len(outputs), sharey=True, squeeze=False)[0]
    order = sorted(range(len(summary["top"])), key=lambda j: _swing(summary, j))
    for ax, output in zip(axes, outputs, strict=True):
        base = summary["base"][output]
        for y, j in enumerate(order):
            low, high = summary["tornado"][output][j]
            ax.barh(y, low - base, left=base, color=PALETTE[0], height=0.6, label=t["low_end"] if y == 0 else None)
            ax.barh(y, high - base, left=base, color=PALETTE[1], height=0.6, label=t["high_end"] if y == 0 else None)
        ax.axvline(base, color="#333", linewidth=1)
        ax.set_title(t[output], fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        if output == "final_share":
            ax.xaxis.set_major_formatter(percent_formatter(lang))
        elif output == "target_day" and summary.get("start"):
            ax.xaxis.set_major_formatter(_day_formatter(summary["start"], lang))
            ax.tick_params(axis="x", labelrotation=30)
    axes[0].set_yticks(range(len(order)), [group_label(summary, summary["top"][j], lang) for j in order], fontsize=7)
    fig.suptitle(f"{t['tornado_title']} ({t['base']}: |)", fontsize=10)
    fig.tight_layout()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=2, fontsize=8, frameon=False)
    return save(fig, path, lang)


def _swing(summary: dict[str, Any], j: int) -> float:
    """The widest swing of top assumption `j` over the outputs, relative to each output's widest."""
    swing = 0.0
    for output in summary["outputs"]:
        widths = [abs(high - low) for low, high in summary["tornado"][output]]
        swing = max(swing, widths[j] / (max(widths) or 1.0))
    return swing


def _day_formatter(start: str, lang: str) -> Any:
    """Tick labels of a day-index axis (day 0 = `start`) as month/year dates."""
    import datetime as dt

    from matplotlib.ticker import FuncFormatter

    first = dt.date.fromisoformat(start)

    def label(value: float, _pos: int | None = None) -> str:
        when = first + dt.timedelta(days=round(value))
        return when.strftime("%m/%Y") if lang == "vi" else when.strftime("%Y-%m")

    return FuncFormatter(label)
