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
(`SnapshotCollector`), under the names of the thresholds' metrics (`EXPORTED`, made from
`motcua.loadtest.metrics.LIVE` and ``PROGRESS`` by ``prometheus_name``: ``motcua_callback_p95``,
``motcua_journey_failures_total`` …). Nothing is computed per request for either: each request only counts
itself (the harness's HDR histogram and per-second counts); the snapshot is taken on a timer and on a scrape,
and the CPU it takes is counted (``live_cpu_s`` in harness.json: the cost of watching, measured in the run).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from motcua.atomic import write_text
from motcua.loadtest import metrics

STATUS_INTERVAL_S = 2.0
"""How often the snapshot is taken and the status line printed."""
RATE_WINDOW_S = 10
"""req/s on the live line and the endpoint: the last 10 whole seconds (as Locust's "Current RPS")."""
LIVE_FILE = "live.json"
CALLBACK_QUANTILES = (0.5, 0.95, 0.99)



def _exported() -> dict[str, tuple[str, str]]:
    """Every exported name → (Prometheus type, help): the run's progress, then the metrics' live statistics."""
    out = dict(metrics.PROGRESS)
    for metric, stat in metrics.LIVE:
        m = metrics.METRICS[metric]
        kind = "counter" if stat == "count" else "gauge"
        doc = f"{metric}.{stat} so far ({m.unit_of(stat)}): {m.description}"
        out[metrics.prometheus_name(metric, stat)] = (kind, doc)
    return out


EXPORTED = _exported()
"""What ``/metrics`` serves (counters end in ``_total``, as Prometheus exposes them)."""


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
    """(name, labels, value) of every name in `EXPORTED`, from one snapshot."""
    yield "motcua_elapsed_seconds", {}, snap.elapsed_s
    yield "motcua_remaining_seconds", {}, snap.remaining_s
    yield "motcua_arrivals_started_total", {}, snap.arrivals_started
    yield "motcua_requests_per_s", {}, snap.requests_per_s
    values: dict[tuple[str, str], float] = {
        ("http", "count"): snap.http_requests,
        ("http_errors", "count"): snap.http_failures,
        ("journey", "count"): snap.journeys_finished,
        ("journey_failures", "count"): snap.journeys_failed,
        ("dropped_arrivals", "count"): snap.arrivals_dropped,
        ("callback", "count"): snap.callbacks,
        ("lost_callbacks", "count"): snap.lost_callbacks,
        ("late_callbacks", "count"): snap.late_callbacks,
    }
    for q, ms in snap.callback_ms.items():
        values["callback", f"p{float(q) * 100:g}"] = math.nan if ms is None else ms
    for metric, stat in metrics.LIVE:
        yield metrics.prometheus_name(metric, stat), {}, values[metric, stat]


class SnapshotCollector:
    """A prometheus-client collector that takes a fresh snapshot on every scrape (`take` is the harness's).

    `spent` is told the CPU seconds of each scrape: the snapshot, and the exposition text, which prometheus-client
    writes between the families this generator yields."""

    def __init__(self, take: Callable[[], LiveSnapshot], spent: Callable[[float], None] | None = None) -> None:
        self.take = take
        self.spent = spent

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        cpu = time.process_time()
        try:
            families: dict[str, Any] = {}
            for name, labels, value in metric_values(self.take()):
                family = families.get(name)
                if family is None:
                    kind, doc = EXPORTED[name]
                    cls = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
                    family = families[name] = cls(name, doc, labels=sorted(labels))
                family.add_metric([labels[k] for k in sorted(labels)], value)
            yield from families.values()
        finally:
            if self.spent is not None:
                self.spent(time.process_time() - cpu)


def serve_metrics(port: int, take: Callable[[], LiveSnapshot], spent: Callable[[float], None] | None = None) -> Any:
    """Serve `SnapshotCollector(take, spent)` on ``http://127.0.0.1:<port>/metrics``; the server, to shut down."""
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(take, spent))
    server, _thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    return server


class LiveWatch:
    """The run watched while it goes (master or single process): `take`'s snapshot into ``live.json`` every
    `STATUS_INTERVAL_S`, and on each scrape of the metrics endpoint; `cpu_s` is what that cost
    (``live_cpu_s`` in harness.json)."""

    def __init__(self, take: Callable[[], LiveSnapshot]) -> None:
        self.take = take
        self.cpu_s = 0.0
        self.server: Any = None
        self._greenlet: Any = None

    def spent(self, cpu_s: float) -> None:
        """CPU seconds of one snapshot written or scraped."""
        self.cpu_s += cpu_s

    def start(self, folder: Path | None, port: int) -> None:
        """``live.json`` into `folder` (None: not written) and, with a `port`, the metrics endpoint."""
        import gevent

        if port and self.server is None:
            self.server = serve_metrics(port, self.take, self.spent)
        if folder is not None and self._greenlet is None:
            self._greenlet = gevent.spawn(self._loop, folder)

    def _loop(self, folder: Path) -> None:
        import gevent

        while True:
            gevent.sleep(STATUS_INTERVAL_S)
            cpu = time.process_time()
            self.take().write(folder)
            self.spent(time.process_time() - cpu)

    def stop(self, folder: Path | None) -> None:
        """No more snapshots on the timer; the last one (the run's end) into `folder`."""
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._greenlet = None
        if folder is not None:
            self.take().write(folder)
