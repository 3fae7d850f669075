"""The measured metrics of a load test, by name: what a threshold (`motcua.loadtest.thresholds`) can gate on.

One list for every reader: the SLO verdicts, summary.json, and the live status line and Prometheus endpoint
(they should export these names, with ``motcua_`` in front and ``.`` as ``_``). Each metric has statistics
(``p95``, ``rate``, ``count`` …) and tags it can be filtered by (``bank``, ``group``, ``route``, ``step``,
``outcome``):

| metric             | unit  | statistics                 | tags        | what                                     |
| ------------------ | ----- | -------------------------- | ----------- | ---------------------------------------- |
| `callback`         | ms    | p50 p90 p95 p99 p99_9 max  | bank, group | bank approval → IPN acknowledged         |
| `officer`          | ms    | (and mean, count)          | bank, group | success page → officer sees it paid      |
| `http`             | ms    | the same                   | route       | one HTTP request (``POST /dossiers``)    |
| `journey`          | ms    | the same                   | outcome     | a whole journey from its intended start  |
| `journey_failures` | share | rate count                 | step        | journeys that did not end as expected    |
| `http_errors`      | share | rate count                 |             | failed HTTP requests ÷ requests          |
| `dropped_arrivals` | share | rate count                 |             | arrivals refused by the concurrency cap  |
| `lost_callbacks`   | count | count rate                 |             | approved, no IPN ever arrived            |
| `late_callbacks`   | count | count rate                 |             | approved, IPN came after the deadline    |
"""

from __future__ import annotations

from dataclasses import dataclass

LATENCY_STATS = ("p50", "p90", "p95", "p99", "p99_9", "max", "mean", "count")
SHARE_STATS = ("rate", "count")


@dataclass(frozen=True)
class Metric:
    """One measured metric: its unit (of the main statistic), statistics and tags."""

    name: str
    unit: str
    """``ms`` (latency), ``share`` (0–1) or ``count``."""
    stats: tuple[str, ...]
    tags: tuple[str, ...]
    description: str

    def unit_of(self, stat: str) -> str:
        """The unit of one statistic: counts are counts, rates are shares, the rest the metric's unit."""
        if stat == "count":
            return "count"
        if stat == "rate":
            return "share"
        return self.unit


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("callback", "ms", LATENCY_STATS, ("bank", "group"), "bank approval → IPN acknowledged"),
        Metric("officer", "ms", LATENCY_STATS, ("bank", "group"), "success page → officer sees the dossier paid"),
        Metric("http", "ms", LATENCY_STATS, ("route",), "HTTP request latency"),
        Metric("journey", "ms", LATENCY_STATS, ("outcome",), "whole journey, from its intended start"),
        Metric("journey_failures", "share", SHARE_STATS, ("step",), "journeys that did not end as expected"),
        Metric("http_errors", "share", SHARE_STATS, (), "failed HTTP requests ÷ HTTP requests"),
        Metric("dropped_arrivals", "share", SHARE_STATS, (), "arrivals refused by the concurrency cap"),
        Metric("lost_callbacks", "count", ("count", "rate"), (), "approved payments whose IPN never arrived"),
        Metric("late_callbacks", "count", ("count", "rate"), (), "approved payments whose IPN came after the deadline"),
        Metric("conformance", "count", ("count",), (), "deviations of a merchant's VNPay payment URLs (--merchant)"),
    )
}


def prometheus_name(metric: str, stat: str) -> str:
    """The name a live exporter gives ``metric.stat`` (``callback.p95`` → ``motcua_callback_p95``)."""
    return f"motcua_{metric}_{stat}"
