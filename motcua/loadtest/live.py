"""The run watched live: a snapshot of the load test so far, as a status line and as Prometheus metrics.

*Scenario*: an engineer starts ``motcua loadtest peak-day --duration 10m`` and wants to see it go. Every
`STATUS_INTERVAL_S` the Locust master (or the single process) takes a `LiveSnapshot` of what the harness has
recorded so far and writes it as ``live.json`` into the run folder; ``motcua loadtest`` reads it and prints
the status line on stderr (`status_line`)::

    [   35s / 60s] arrivals 1,041 (dropped 0) · 29.8 req/s (last 10 s) · errors 0 · journey failures 2 ·
    callback p95 812 ms · lost 0 · late 0          (one line)

Its req/s is the last `RATE_WINDOW_S` seconds' (as Locust's "Current RPS"); summary.json's
``throughput.requests_per_s`` is the whole run's requests over the profile's length
(``throughput.rate_window_s``), so the two differ while the rate changes and at the end of a run.

With ``--metrics-port N`` the same snapshot is served on ``http://127.0.0.1:N/metrics`` for Prometheus
(`SnapshotCollector`), under names that follow summary.json's keys (`METRICS`); nothing is computed per
request for either: the snapshot is taken on a timer and on a scrape.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from motcua.atomic import write_text

STATUS_INTERVAL_S = 2.0
"""How often the snapshot is taken and the status line printed."""
RATE_WINDOW_S = 10
"""req/s on the live line and the endpoint: the last 10 whole seconds (as Locust's "Current RPS")."""
LIVE_FILE = "live.json"
CALLBACK_QUANTILES = (0.5, 0.95, 0.99)

METRICS: dict[str, tuple[str, str]] = {
    # name: (type, help) — the summary.json key each follows is in the help text
    "motcua_elapsed_seconds": ("gauge", "seconds since the test started"),
    "motcua_remaining_seconds": ("gauge", "seconds of the arrival profile still to play"),
    "motcua_arrivals_started": ("counter", "arrivals.started: journeys started so far"),
    "motcua_arrivals_dropped": ("counter", "arrivals.dropped: arrivals dropped at the concurrency cap"),
    "motcua_throughput_http_requests": ("counter", "throughput.http_requests: HTTP requests so far"),
    "motcua_throughput_http_failures": ("counter", "throughput.http_failures: failed HTTP requests so far"),
    "motcua_throughput_requests_per_s": (
        "gauge", "HTTP requests per second over the last 10 s (summary.json's throughput.requests_per_s: the whole run)"
    ),
    "motcua_journeys_finished": ("counter", "throughput.journeys_finished: journeys finished so far"),
    "motcua_journeys_failed": ("counter", "journeys that did not end as the journey expects, so far"),
    "motcua_callbacks_ipn_ack_ms": ("gauge", "callbacks.ipn_ack: bank approval to IPN acknowledged (measured), ms"),
    "motcua_callbacks_ipn_ack_count": ("counter", "callbacks.ipn_ack: callbacks measured so far"),
    "motcua_lost_callbacks": ("counter", "lost_callbacks: approvals past the deadline with no callback"),
    "motcua_late_callbacks": ("counter", "late_callbacks: callbacks that came after the deadline"),
}


@dataclass(frozen=True)
class LiveSnapshot:
    """What a load test has recorded so far (the master's view: every worker's last report included)."""

    elapsed_s: float
    duration_s: float
    arrivals_started: int
    arrivals_dropped: int
    http_requests: int
    http_failures: int
    requests_per_s: float
    journeys_finished: int
    journeys_failed: int
    callbacks: int
    callback_ms: dict[str, float | None]
    """Percentiles of the measured callbacks so far, by quantile (``"0.95"``); None before the first."""
    lost_callbacks: int
    late_callbacks: int
    finished: bool = False

    @property
    def remaining_s(self) -> float:
        return max(0.0, self.duration_s - self.elapsed_s)

    def write(self, folder: Path) -> Path:
        return write_text(folder / LIVE_FILE, json.dumps(asdict(self)))

    @classmethod
    def read(cls, folder: Path) -> LiveSnapshot | None:
        """The last snapshot written into `folder`, or None (none yet, or caught half-written)."""
        try:
            return cls(**json.loads((folder / LIVE_FILE).read_text()))
        except (OSError, ValueError, TypeError):
            return None


def nearest_rank_ms(sorted_ms: Sequence[float], q: float) -> float | None:
    """The nearest-rank `q` quantile of already sorted values (None if there are none)."""
    if not sorted_ms:
        return None
    return float(sorted_ms[min(len(sorted_ms) - 1, max(0, math.ceil(q * len(sorted_ms)) - 1))])


def requests_per_s(http: dict[int, list[int]], now_s: float) -> float:
    """Mean HTTP requests per second over the last `RATE_WINDOW_S` whole seconds before `now_s`."""
    last = int(now_s) - 1
    total = sum(sum(http.get(sec, (0, 0))) for sec in range(last - RATE_WINDOW_S + 1, last + 1))
    return total / RATE_WINDOW_S


def _count(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def status_line(snap: LiveSnapshot) -> str:
    """One line of the run so far (``--quiet`` silences it)."""
    p95 = snap.callback_ms.get("0.95")
    mark = " (draining)" if snap.remaining_s <= 0 and not snap.finished else ""
    return (
        f"[{snap.elapsed_s:5.0f}s / {snap.duration_s:.0f}s{mark}] arrivals {snap.arrivals_started:,} "
        f"(dropped {snap.arrivals_dropped:,}) · {snap.requests_per_s:.1f} req/s (last {RATE_WINDOW_S} s) · "
        f"errors {snap.http_failures:,} · journey failures {snap.journeys_failed:,} · callback p95 {_count(p95)} ms · "
        f"lost {snap.lost_callbacks:,} · late {snap.late_callbacks:,}"
    )


def metric_values(snap: LiveSnapshot) -> Iterator[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of every metric in `METRICS`, from one snapshot."""
    yield "motcua_elapsed_seconds", {}, snap.elapsed_s
    yield "motcua_remaining_seconds", {}, snap.remaining_s
    yield "motcua_arrivals_started", {}, snap.arrivals_started
    yield "motcua_arrivals_dropped", {}, snap.arrivals_dropped
    yield "motcua_throughput_http_requests", {}, snap.http_requests
    yield "motcua_throughput_http_failures", {}, snap.http_failures
    yield "motcua_throughput_requests_per_s", {}, snap.requests_per_s
    yield "motcua_journeys_finished", {}, snap.journeys_finished
    yield "motcua_journeys_failed", {}, snap.journeys_failed
    for q, ms in snap.callback_ms.items():
        yield "motcua_callbacks_ipn_ack_ms", {"quantile": q}, math.nan if ms is None else ms
    yield "motcua_callbacks_ipn_ack_count", {}, snap.callbacks
    yield "motcua_lost_callbacks", {}, snap.lost_callbacks
    yield "motcua_late_callbacks", {}, snap.late_callbacks


class SnapshotCollector:
    """A prometheus-client collector that takes a fresh snapshot on every scrape (`take` is the harness's)."""

    def __init__(self, take: Any) -> None:
        self.take = take

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        families: dict[str, Any] = {}
        for name, labels, value in metric_values(self.take()):
            family = families.get(name)
            if family is None:
                kind, doc = METRICS[name]
                cls = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
                family = families[name] = cls(name, doc, labels=sorted(labels))
            family.add_metric([labels[k] for k in sorted(labels)], value)
        yield from families.values()


def serve_metrics(port: int, take: Any) -> Any:
    """Serve `SnapshotCollector(take)` on ``http://127.0.0.1:<port>/metrics``; the server, to shut down."""
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(take))
    server, _thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    return server
