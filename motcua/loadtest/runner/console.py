"""What a load test prints when it ends: journeys, requests, the callback latency, the invariant, the SLO table
and, after a capacity search, the knee."""

from __future__ import annotations

from typing import Any

from motcua import safety
from motcua.loadtest import slo
from motcua.loadtest.slo import table, verdicts_of
from motcua.loadtest.summary import Summary


def print_report(summary: Summary) -> None:
    """The run's report on standard output (``motcua loadtest`` without ``--quiet``)."""
    data = summary.data
    cb = data["callbacks"]["ipn_ack"]
    throughput = data["throughput"]
    finished, failed = throughput["journeys_finished"], data["journeys"].get("failures", 0)
    lines = [
        f"load test of {data['scenario']} ({data['model']} model) → {summary.run_dir}",
        f"  journeys started {data['arrivals']['started']}, dropped {data['arrivals']['dropped']}, "
        f"finished {finished}, failed {failed}{share(failed, finished)}; "
        f"requests {throughput['http_requests']} ({throughput['requests_per_s']:.1f}/s), "
        f"HTTP errors {throughput['http_failures']}{share(throughput['http_failures'], throughput['http_requests'])}",
        polling_line(data.get("status_polling")),
        callback_line(cb, data),
        f"  invariant: {invariant_line(data['invariant'])}",
        *failure_lines(data.get("failure_reasons", [])),
        table(verdicts_of(data)),
    ]
    if data.get("time_scale") not in (None, 1.0):
        lines.insert(
            3,
            f"  (mocks at --time-scale {data['time_scale']:g}: notification delays and IPN retries — so "
            "callback latencies, the callback deadline and the callback limits — are compressed by that factor; "
            f"{slo.mock_clock_note(data['time_scale'])})",
        )
    if data.get("aborted"):
        lines.insert(1, f"  ABORTED early: the threshold {data['aborted']!r} had already failed (--slo-abort)")
    if "capacity" in data:
        lines += capacity_lines(data["capacity"])
    print("\n".join(lines), flush=True)


VERDICT_WORDS = {"held": "held (clear)", "broke": "BROKE (clear)", "unclear": "UNCLEAR"}


def polling_line(polling: dict[str, Any] | None) -> str:
    """The status polls, apart: how much waiting for "paid" there was, and how often a poll failed."""
    if not polling or not polling["requests"]:
        return "  status polling: none"
    failures, total = polling["failures"], polling["requests"]
    return (f"  status polling (waiting for \"paid\", not in the HTTP errors): {total} polls, "
            f"{failures} failed{share(failures, total)}")


def share(part: int, whole: int) -> str:
    return f" ({part / whole:.1%})" if whole else ""


def callback_line(cb: dict[str, Any], data: dict[str, Any]) -> str:
    """The callback percentiles; one that falls on a lost or late callback shows ``≥ deadline (censored …)``."""
    censored = set(cb.get("censored", ()))

    def stat(key: str) -> str:
        text = format_ms(cb.get(key))
        return f"≥ {text} (censored at the deadline)" if key in censored else text

    return (
        f"  callback (bank approval → IPN ack): n={cb.get('count', 0)} p50={stat('p50')} p95={stat('p95')} "
        f"p99={stat('p99')} max={stat('max')}; lost {data['lost_callbacks']} (never arrived), "
        f"late {data.get('late_callbacks', 0)} (after the {data.get('callback_deadline_s') or 0:g} s deadline)"
    )


def invariant_line(invariant: dict[str, Any]) -> str:
    """The invariant's verdict, or "nothing to check" when the run had no approved payment."""
    verdict = safety.Verdict.from_dict(invariant)
    if verdict.ok and verdict.bank_approved == 0:
        return "NOTHING TO CHECK — no payment was approved, so no callback or credit could be checked"
    return verdict.describe()


def failure_lines(reasons: list[dict[str, Any]]) -> list[str]:
    """The top failure reasons (Locust's ``stats_failures.csv``), with the step (request or journey name)."""
    if not reasons:
        return []
    lines = ["  top failures (count × type step: error):"]
    lines += [f"    {r['count']:>5} × {r['type']} {r['name']}: {r['error'][:160]}" for r in reasons]
    return lines


def capacity_lines(cap: dict[str, Any]) -> list[str]:
    """The capacity search: each rate with its runs, the failure share and its interval, and the knee."""
    lines = ["capacity steps (rate/s, runs, failure share of journeys and callbacks with its 95% interval, verdict):"]
    for step in cap["steps"]:
        low, high = step.get("interval", (None, None))
        interval = "" if low is None else f" [{low:.2%}, {high:.2%}]"
        lines.append(
            f"  {step['rate_per_s']:>8g}/s  runs {step.get('runs', 1)}  failures "
            f"{step.get('failures', 0)}/{step.get('trials', 0)}{interval}  "
            f"{VERDICT_WORDS.get(step.get('verdict', ''), 'held' if step['held'] else 'BROKE')}"
        )
    if cap.get("unclear_at") is not None:
        lines.append(f"capacity: unclear at {cap['unclear_at']:g}/s after {cap['steps'][-1].get('runs', 1)} runs — "
                     "the 95% interval still straddles the limit; run each step longer (--duration) or raise "
                     "--capacity-repeats")
    if cap["knee_rate_per_s"] is None:
        if cap.get("unclear_at") is None:
            lines.append("capacity: the SLOs broke already at the first rate")
    elif cap["broke"]:
        lines.append(f"capacity knee: {cap['knee_rate_per_s']:g} journeys/s held; the next step broke an SLO")
    else:
        lines.append(f"capacity: ≥ {cap['knee_rate_per_s']:g} journeys/s (no SLO broke in {len(cap['steps'])} steps)")
    return lines


def format_ms(value: float | None) -> str:
    """A latency of the report: ``1,234.5 ms``, or ``—`` when nothing was measured."""
    return "—" if value is None else f"{value:,.1f} ms"
