"""Charts of a load test: throughput over time, journey latency percentiles over time, callback CDF by bank.

Read from ``harness.json`` (the harness's exact samples), drawn in the house style
(`motcua.report.style`), written next to ``summary.json``:

- ``throughput.png``: arrivals started and dropped, HTTP requests and failures per second — in an open
  model the started line stays level while the system stalls;
- ``latency.png``: p50/p95/p99 of whole journeys by the second of their *intended* start — a stall shows
  as a tower here even though Locust's per-request times look calm;
- ``callback_cdf.png``: the empirical CDF of bank approval → IPN acknowledged, one line per bank; callbacks
  lost past the deadline are the part of the curve that never reaches 1.

Labels are Vietnamese (``vi``, the workbench's default, as in the simulation charts) or English (``en``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.ticker import NullFormatter, ScalarFormatter

from motcua.loadtest.callbacks import IPN_ACK, SAMPLE_HEADER
from motcua.loadtest.summary import start_time, timeline
from motcua.report.i18n import label_table
from motcua.report.style import PALETTE, TARGET_COLOR, legend_outside, new_figure, save
from motcua.run_layout import CapacityStep

LABELS: dict[str, dict[str, str]] = {  # keys: LANGS
    "vi": {
        "started": "hành trình bắt đầu/giây",
        "dropped": "lượt đến bị bỏ/giây",
        "requests": "yêu cầu HTTP/giây",
        "failures": "yêu cầu HTTP lỗi/giây",
        "since_first": "giây kể từ lượt đến đầu tiên",
        "per_second": "mỗi giây",
        "throughput_title": "Thông lượng theo thời gian",
        "journey": "hành trình {q}",
        "intended_second": "giây bắt đầu dự kiến",
        "journey_latency": "độ trễ hành trình tính từ lúc bắt đầu dự kiến (ms)",
        "latency_title": "Phân vị độ trễ hành trình theo thời gian (mô hình mở)",
        "bank_line": "{bank} (n={n}, mất {lost})",
        "callback_axis": "ngân hàng duyệt → hệ thống một cửa xác nhận IPN (ms)",
        "share_axis": "tỷ lệ giao dịch đã được duyệt",
        "cdf_title": "Độ trễ callback theo ngân hàng (hàm phân phối thực nghiệm)",
        "no_callbacks": "lần chạy này không có callback",
        "callback_p95": "callback p95",
        "create_p99": "tạo hồ sơ và thanh toán p99",
        "limit": "ngưỡng {label}",
        "broke": "tốc độ đầu tiên vi phạm SLO",
        "rate_axis": "tốc độ đến (hành trình/giây)",
        "capacity_title": "Tìm năng lực: độ trễ theo tốc độ đến",
    },
    "en": {
        "started": "journeys started/s",
        "dropped": "arrivals dropped/s",
        "requests": "HTTP requests/s",
        "failures": "HTTP failures/s",
        "since_first": "seconds since the first arrival",
        "per_second": "per second",
        "throughput_title": "Throughput over time",
        "journey": "journey {q}",
        "intended_second": "second of the intended start",
        "journey_latency": "journey latency from the intended start (ms)",
        "latency_title": "Journey latency percentiles over time (open model: no coordinated omission)",
        "bank_line": "{bank} (n={n}, lost {lost})",
        "callback_axis": "bank approval → IPN acknowledged (ms)",
        "share_axis": "share of approved payments",
        "cdf_title": "Callback latency by bank (empirical CDF)",
        "no_callbacks": "no callbacks in this run",
        "callback_p95": "callback p95",
        "create_p99": "create p99",
        "limit": "{label} limit",
        "broke": "first rate that broke an SLO",
        "rate_axis": "arrival rate (journeys/s)",
        "capacity_title": "Capacity search: latency against arrival rate",
    },
}


def labels(lang: str) -> dict[str, str]:
    """The label table of `lang`; an unknown language is refused with the choices."""
    return label_table(LABELS, lang)


CHART_NAMES = ("throughput", "latency", "callback_cdf")
"""The charts `write_charts` draws, by file stem, in its order."""


def write_charts(harness: Mapping[str, Any], folder: Path, lang: str = "vi") -> list[Path]:
    folder = Path(folder)
    words = labels(lang)
    rows = timeline(harness, start_time(harness))
    throughput, latency, cdf = (folder / f"{name}.png" for name in CHART_NAMES)
    return [
        throughput_chart(rows, throughput, words, lang),
        latency_chart(rows, latency, words, lang),
        callback_cdf_chart(harness["callbacks"], cdf, words, lang),
    ]


def throughput_chart(rows: Sequence[Mapping[str, Any]], path: Path, words: Mapping[str, str],
                     lang: str = "vi") -> Path:
    fig, ax = new_figure()
    seconds = [r["second"] for r in rows]
    for key in ("started", "dropped", "requests", "failures"):
        ax.plot(seconds, [r[key] for r in rows], label=words[key], drawstyle="steps-post")
    ax.set_xlabel(words["since_first"])
    ax.set_ylabel(words["per_second"])
    ax.set_title(words["throughput_title"])
    legend_outside(ax)
    return save(fig, path, lang)


def latency_chart(rows: Sequence[Mapping[str, Any]], path: Path, words: Mapping[str, str],
                  lang: str = "vi") -> Path:
    fig, ax = new_figure()
    with_data = [r for r in rows if r["journeys"]]
    seconds = [r["second"] for r in with_data]
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        label = words["journey"].format(q=key[:-3])
        ax.plot(seconds, [r[key] for r in with_data], label=label, marker=".", markersize=3)
    ax.set_yscale("log")
    ax.set_xlabel(words["intended_second"])
    ax.set_ylabel(words["journey_latency"])
    ax.set_title(words["latency_title"])
    legend_outside(ax)
    return save(fig, path, lang)


def callback_cdf_chart(callback_rows: list[list[Any]], path: Path, words: Mapping[str, str],
                       lang: str = "vi") -> Path:
    fig, ax = new_figure()
    samples = [dict(zip(SAMPLE_HEADER, r, strict=True)) for r in callback_rows]
    samples = [s for s in samples if s["kind"] == IPN_ACK]
    banks = sorted({s["bank_code"] for s in samples})
    for i, bank in enumerate(banks):
        mine = [s for s in samples if s["bank_code"] == bank]
        delivered = sorted(s["latency_ms"] for s in mine if s["ok"])
        if not delivered:
            continue
        n = len(mine)  # lost callbacks keep the curve below 1
        label = words["bank_line"].format(bank=bank, n=n, lost=n - len(delivered))
        ax.step(
            delivered,
            [(k + 1) / n for k in range(len(delivered))],
            where="post",
            label=label,
            color=PALETTE[i % len(PALETTE)],
        )
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(words["callback_axis"])
    ax.set_ylabel(words["share_axis"])
    ax.set_title(words["cdf_title"])
    if banks:
        legend_outside(ax)
    else:
        ax.text(0.5, 0.5, words["no_callbacks"], transform=ax.transAxes, ha="center")
    return save(fig, path, lang)


def capacity_chart(steps: Sequence[CapacityStep], path: Path, lang: str = "vi") -> Path:
    """--find-capacity: each step's callback p95 and create p99 against its arrival rate, the knee marked."""
    words = labels(lang)
    fig, ax = new_figure()
    rates = [s["rate_per_s"] for s in steps]
    for i, gate in enumerate(("callback_p95_ms", "create_p99_ms")):
        label = words[gate.rsplit("_", 1)[0]]
        measured = [next((v["measured"] for v in s["slo"] if v["name"] == gate), None) for s in steps]
        ax.plot(rates, measured, marker="o", label=label, color=PALETTE[i])
        limit = next((v["limit"] for v in steps[0]["slo"] if v["name"] == gate), None)
        if limit is not None:
            ax.axhline(limit, linestyle="--", color=PALETTE[i], alpha=0.6, label=words["limit"].format(label=label))
    for s in steps:
        if not s["held"]:
            ax.axvline(s["rate_per_s"], color=TARGET_COLOR, alpha=0.5, label=words["broke"])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(rates)  # every step's rate labelled: within one decade a log axis would show no tick at all
    ax.xaxis.set_major_formatter(ScalarFormatter())  # 20, 40, 80 rather than 2×10¹
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(words["rate_axis"])
    ax.set_ylabel("ms")
    ax.set_title(words["capacity_title"])
    legend_outside(ax)
    return save(fig, path, lang)
