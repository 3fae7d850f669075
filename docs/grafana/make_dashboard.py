"""Write docs/grafana/motcua-loadtest.json: a Grafana dashboard of a running ``motcua loadtest``.

Built with grafana-foundation-sdk (Grafana Labs' typed builders; ``pip install grafana-foundation-sdk``, not a
dependency of motcua). Its panels query the live metrics of the load generator (``--metrics-port``,
named by `motcua.loadtest.metrics.prometheus_name` after the metrics summary.json and the thresholds use, and its
``PROGRESS``) and the mock services' ``/metrics`` (``motcua_http_*``); tests/test_live.py checks that every metric a
panel names exists. Regenerate after changing a metric name::

    python docs/grafana/make_dashboard.py
"""

from __future__ import annotations

import json
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from motcua.loadtest.metrics import prometheus_name as name

OUT = Path(__file__).with_name("motcua-loadtest.json")
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

PANELS = [
    # (title, kind, unit, [(expr, legend)]) — the load generator's names from motcua.loadtest.metrics (one list)
    ("Arrivals started and dropped", "timeseries", "short",
     [("motcua_arrivals_started_total", "started"), (name("dropped_arrivals", "count"), "dropped")]),
    ("HTTP requests per second (last 10 s)", "timeseries", "reqps", [("motcua_requests_per_s", "req/s")]),
    ("HTTP failures", "stat", "short", [(name("http_errors", "count"), "failures")]),
    ("Journey failures", "stat", "short", [(name("journey_failures", "count"), "journeys failed")]),
    ("Callback latency (bank approval → IPN acknowledged)", "timeseries", "ms",
     [(name("callback", stat), stat) for stat in ("p50", "p95", "p99")]),
    ("Lost and late callbacks", "stat", "short",
     [(name("lost_callbacks", "count"), "lost"), (name("late_callbacks", "count"), "late")]),
    ("Mock services: requests per second by route", "timeseries", "reqps",
     [("sum by (job, route) (rate(motcua_http_requests_total[30s]))", "{{job}} {{route}}")]),
    ("Mock services: p95 answer time by route", "timeseries", "s",
     [("histogram_quantile(0.95, sum by (job, route, le) (rate(motcua_http_request_seconds_bucket[30s])))",
       "{{job}} {{route}}")]),
]


def build() -> dict:
    """The dashboard as Grafana's JSON model."""
    board = (
        dashboard.Dashboard("motcua load test (live)")
        .uid("motcua-loadtest")
        .tags(["motcua", "loadtest"])
        .refresh("5s")
        .time("now-15m", "now")
        .with_variable(dashboard.DatasourceVariable("datasource").label("Prometheus").type("prometheus"))
    )
    for title, kind, unit, queries in PANELS:
        panel = timeseries.Panel() if kind == "timeseries" else stat.Panel()
        panel = panel.title(title).unit(unit).height(8).span(12)
        panel = panel.datasource(DATASOURCE)
        for index, (expr, legend) in enumerate(queries):
            panel = panel.with_target(prometheus.Dataquery().expr(expr).legend_format(legend).ref_id("ABCD"[index]))
        board = board.with_panel(panel)
    return json.loads(JSONEncoder(sort_keys=True, indent=2).encode(board.build()))


def main() -> None:
    OUT.write_text(json.dumps(build(), indent=2, sort_keys=True) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
