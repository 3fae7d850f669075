"""What a load test prints when it ends: journeys, requests, the callback latency, the invariant, the SLO table
and, after a capacity search, the knee."""

from __future__ import annotations

from motcua import safety
from motcua.loadtest.slo import table, verdicts_of
from motcua.loadtest.summary import Summary


def print_report(summary: Summary) -> None:
    """The run's report on standard output (``motcua loadtest`` without ``--quiet``)."""
    data = summary.data
    cb = data["callbacks"]["ipn_ack"]
    lines = [
        f"load test of {data['scenario']} ({data['model']} model) → {summary.run_dir}",
        f"  journeys started {data['arrivals']['started']}, dropped {data['arrivals']['dropped']}, "
        f"finished {data['throughput']['journeys_finished']}; "
        f"requests {data['throughput']['http_requests']} ({data['throughput']['requests_per_s']:.1f}/s)",
        f"  callback (bank approval → IPN ack): n={cb.get('count', 0)} p50={format_ms(cb.get('p50'))} "
        f"p95={format_ms(cb.get('p95'))} p99={format_ms(cb.get('p99'))} max={format_ms(cb.get('max'))}; "
        f"lost {data['lost_callbacks']}",
        f"  invariant: {safety.Verdict.from_dict(data['invariant']).describe()}",
        table(verdicts_of(data)),
    ]
    if data.get("time_scale") not in (None, 1.0):
        lines.insert(
            3,
            f"  (mocks at --time-scale {data['time_scale']:g}: notification delays and IPN retries — so "
            "callback latencies — are compressed by that factor)",
        )
    if "capacity" in data:
        cap = data["capacity"]
        if cap["knee_rate_per_s"] is None:
            lines.append("capacity: the SLOs broke already at the first rate")
        elif cap["broke"]:
            lines.append(f"capacity knee: {cap['knee_rate_per_s']:g} journeys/s held; the next step broke an SLO")
        else:
            lines.append(
                f"capacity: ≥ {cap['knee_rate_per_s']:g} journeys/s (no SLO broke in {len(cap['steps'])} steps)"
            )
    print("\n".join(lines), flush=True)


def format_ms(value: float | None) -> str:
    """A latency of the report: ``1,234.5 ms``, or ``—`` when nothing was measured."""
    return "—" if value is None else f"{value:,.1f} ms"
