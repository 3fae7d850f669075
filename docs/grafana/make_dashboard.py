"""Write docs/grafana/motcua-loadtest.json: a Grafana dashboard of a running ``motcua loadtest``.

Built with grafana-foundation-sdk (Grafana Labs' typed builders; ``pip install grafana-foundation-sdk``, not a
dependency of motcua). Its panels query the live metrics of the load generator (``--metrics-port``,
`motcua.loadtest.live.METRICS`) and the mock services' ``/metrics`` (``motcua_http_*``); tests/test_live.py checks
that every metric a panel names exists. Regenerate after changing a metric name::

    python docs/grafana/make_dashboard.py
"""

from __future__ import annotations

import json
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder

OUT = Path(__file__).with_name("motcua-loadtest.json")
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

PANELS = [
    # (title, kind, unit, [(expr, legend)])
    ("Arrivals started and dropped", "timeseries", "short",
     [("motcua_arrivals_started_total", "started"), ("motcua_arrivals_dropped_total", "dropped")]),
    ("HTTP requests per second (last 10 s)", "timeseries", "reqps",
     [("motcua_throughput_requests_per_s", "req/s")]),
    ("HTTP failures", "stat", "short", [("motcua_throughput_http_failures_total", "failures")]),
    ("Journey failures", "stat", "short", [("motcua_journeys_failed_total", "journeys failed")]),
    ("Callback latency (bank approval → IPN acknowledged)", "timeseries", "ms",
     [('motcua_callbacks_ipn_ack_ms{quantile="0.5"}', "p50"), ('motcua_callbacks_ipn_ack_ms{quantile="0.95"}', "p95"),
      ('motcua_callbacks_ipn_ack_ms{quantile="0.99"}', "p99")]),
    ("Lost and late callbacks", "stat", "short",
     [("motcua_lost_callbacks_total", "lost"), ("motcua_late_callbacks_total", "late")]),
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
