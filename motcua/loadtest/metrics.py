"""The measured metrics of a load test, by name: what a threshold (`motcua.loadtest.thresholds`) can gate on.

One list for every reader: the SLO verdicts, summary.json, the live Prometheus endpoint (`LIVE`, named by
`prometheus_name`: ``callback.p95`` → ``motcua_callback_p95``, a count ``motcua_<metric>_total``) and the Grafana
dashboard built on it (docs/grafana/). Each metric has statistics
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


NAMED_GATES: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    "callback_p95_ms": ("callback", "p95", ()),
    "create_p99_ms": ("http", "p99", (("route", "POST /dossiers"),)),
    "error_rate": ("http_errors", "rate", ()),
    "dropped_arrivals": ("dropped_arrivals", "rate", ()),
    "lost_callbacks": ("lost_callbacks", "count", ()),
    "late_callbacks": ("late_callbacks", "count", ()),
    "journey_failures": ("journey_failures", "rate", ()),
    "conformance": ("conformance", "count", ()),
}
"""The scenario's named ``[slo]`` gates (``error_rate = 0.01``), each as the metric, statistic and tags it bounds
(``≤`` its limit): ``--slo error_rate=0.01`` and ``--slo 'http_errors.rate <= 1%'`` are the same threshold."""
LIVE: tuple[tuple[str, str], ...] = (
    ("http", "count"), ("http_errors", "count"), ("journey", "count"), ("journey_failures", "count"),
    ("dropped_arrivals", "count"), ("callback", "count"), ("callback", "p50"), ("callback", "p95"), ("callback", "p99"),
    ("lost_callbacks", "count"), ("late_callbacks", "count"),
)
"""The ``metric.stat`` pairs the load generator exports while it runs (`motcua.loadtest.live`, ``--metrics-port``)."""
PROGRESS: dict[str, tuple[str, str]] = {
    # exported name: (Prometheus type, help) — how far the run has got; not metrics a threshold gates on
    "motcua_elapsed_seconds": ("gauge", "seconds since the test started"),
    "motcua_remaining_seconds": ("gauge", "seconds of the arrival profile still to play"),
    "motcua_arrivals_started_total": ("counter", "arrivals.started: journeys started so far"),
    "motcua_requests_per_s": (
        "gauge", "HTTP requests per second over the last 10 s (summary.json's throughput.requests_per_s: the whole run)"
    ),
}
"""The run's progress, exported beside `LIVE` (the status line shows the same figures)."""


def prometheus_name(metric: str, stat: str) -> str:
    """The name a live exporter gives ``metric.stat``: ``callback.p95`` → ``motcua_callback_p95``; a count is a
    Prometheus counter, ``motcua_<metric>_total`` (``lost_callbacks.count`` → ``motcua_lost_callbacks_total``)."""
    return f"motcua_{metric}_total" if stat == "count" else f"motcua_{metric}_{stat}"
