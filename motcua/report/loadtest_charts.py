"""Charts of a load test: throughput over time, journey latency percentiles over time, callback CDF by bank.

Read from ``harness.json`` (the harness's exact samples), drawn in the house style
(`motcua.report.style`), written next to ``summary.json``:

- ``throughput.png``: arrivals started and dropped, HTTP requests and failures per second — in an open
  model the started line stays level while the system stalls;
- ``latency.png``: p50/p95/p99 of whole journeys by the second of their *intended* start — a stall shows
  as a tower here even though Locust's per-request times look calm;
- ``callback_cdf.png``: the empirical CDF of bank approval → IPN acknowledged, one line per bank; callbacks
  lost past the deadline are the part of the curve that never reaches 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from motcua.loadtest.callbacks import IPN_ACK, SAMPLE_HEADER
from motcua.loadtest.summary import start_time, timeline
from motcua.report.style import PALETTE, TARGET_COLOR, new_figure, save


def write_charts(harness: Mapping[str, Any], folder: Path) -> list[Path]:
    folder = Path(folder)
    rows = timeline(harness, start_time(harness))
    return [
        throughput_chart(rows, folder / "throughput.png"),
        latency_chart(rows, folder / "latency.png"),
        callback_cdf_chart(harness["callbacks"], folder / "callback_cdf.png"),
    ]


def throughput_chart(rows: list[Mapping[str, Any]], path: Path) -> Path:
    fig, ax = new_figure()
    seconds = [r["second"] for r in rows]
    for key, label in (("started", "journeys started/s"), ("dropped", "arrivals dropped/s"),
                       ("requests", "HTTP requests/s"), ("failures", "HTTP failures/s")):  # fmt: skip
        ax.plot(seconds, [r[key] for r in rows], label=label, drawstyle="steps-post")
    ax.set_xlabel("seconds since the first arrival")
    ax.set_ylabel("per second")
    ax.set_title("Throughput over time")
    ax.legend(loc="upper left", fontsize="small")
    return save(fig, path)


def latency_chart(rows: list[Mapping[str, Any]], path: Path) -> Path:
    fig, ax = new_figure()
    with_data = [r for r in rows if r["journeys"]]
    seconds = [r["second"] for r in with_data]
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        ax.plot(seconds, [r[key] for r in with_data], label=f"journey {key[:-3]}", marker=".", markersize=3)
    ax.set_yscale("log")
    ax.set_xlabel("second of the intended start")
    ax.set_ylabel("journey latency from the intended start (ms)")
    ax.set_title("Journey latency percentiles over time (open model: no coordinated omission)")
    ax.legend(loc="upper left", fontsize="small")
    return save(fig, path)


def callback_cdf_chart(callback_rows: list[list[Any]], path: Path) -> Path:
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
        ax.step(delivered, [(k + 1) / n for k in range(len(delivered))], where="post",
                label=f"{bank} (n={n}, lost {n - len(delivered)})", color=PALETTE[i % len(PALETTE)])  # fmt: skip
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("bank approval → IPN acknowledged (ms)")
    ax.set_ylabel("share of approved payments")
    ax.set_title("Callback latency by bank (empirical CDF)")
    if banks:
        ax.legend(loc="lower right", fontsize="small")
    else:
        ax.text(0.5, 0.5, "no callbacks in this run", transform=ax.transAxes, ha="center")
    return save(fig, path)


def capacity_chart(steps: list[Mapping[str, Any]], path: Path) -> Path:
    """--find-capacity: each step's callback p95 and create p99 against its arrival rate, the knee marked."""
    fig, ax = new_figure()
    rates = [s["rate_per_s"] for s in steps]
    for i, (gate, label) in enumerate((("callback_p95_ms", "callback p95"), ("create_p99_ms", "create p99"))):
        measured = [next((v["measured"] for v in s["slo"] if v["name"] == gate), None) for s in steps]
        ax.plot(rates, measured, marker="o", label=label, color=PALETTE[i])
        limit = next((v["limit"] for v in steps[0]["slo"] if v["name"] == gate), None)
        if limit is not None:
            ax.axhline(limit, linestyle="--", color=PALETTE[i], alpha=0.6, label=f"{label} limit")
    for s in steps:
        if not s["held"]:
            ax.axvline(s["rate_per_s"], color=TARGET_COLOR, alpha=0.5, label="first rate that broke an SLO")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arrival rate (journeys/s)")
    ax.set_ylabel("ms")
    ax.set_title("Capacity search: latency against arrival rate")
    ax.legend(loc="upper left", fontsize="small")
    return save(fig, path)
