"""``summary.json`` of a load test: Locust's statistics beside the harness's exact ones.

Keys (documented for readers in results/README.md):

- ``scenario``, ``model`` (open|closed), ``profile`` (kind, duration, scale, base rate), ``workers``, ``run_seconds``;
- ``throughput``: ``requests_per_s``, ``journeys_per_s`` (finished), ``http_requests``, ``http_failures``,
  ``journeys_finished`` — over the profile's duration; the journeys' own requests (``error_rate`` is theirs);
- ``status_polling``: ``requests``, ``failures``, ``failure_share`` — the officer's (and a merchant citizen's)
  polls of a status until it says paid: the waiting, counted apart from the journeys' requests and failures;
- ``arrivals``: ``intended``, ``started``, ``dropped``, ``dropped_share``, ``max_start_lag_ms`` (open model);
- ``request_types``: per HTTP request type and name, exact-to-3-digits HDR percentiles (ms) and Locust's
  bucketed ones (``locust``) side by side;
- ``journeys``: exact percentiles of whole journeys, timed from the intended start, all and by outcome;
- ``callbacks``: ``ipn_ack`` (bank approval → IPN acknowledged, by the agency's timestamps; a lost callback
  counts at its deadline) overall, ``by_bank`` and ``by_group``; ``officer_sees_paid`` likewise;
- ``lost_callbacks``, ``late_callbacks``; ``reconciliation`` (per day); ``invariant``;
- ``slo_measured`` and ``slo`` (verdicts); ``timeline`` (per second: started, dropped, requests, journey p99).

`Summary` is what a load test hands back (summary.json's content and the run folder); `ChartWriter` is what
draws its charts.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from motcua import safety
from motcua.errors import SLOBreach
from motcua.loadtest.callback_stats import callback_summaries
from motcua.loadtest.callbacks import IPN_ACK, SAMPLE_HEADER
from motcua.loadtest.percentiles import HdrSet, exact_summary
from motcua.loadtest.profiles import RateProfile
from motcua.loadtest.slo import raise_if_failed, verdicts_of
from motcua.safety import nearest_rank

LOCUST_PERCENTILES = ("50%", "95%", "99%", "100%")
CREATE_REQUEST = "POST /dossiers"


@dataclass
class Summary:
    """The outcome of `motcua.loadtest.runner.run_loadtest`: summary.json's content and where the run was written."""

    data: dict[str, Any]
    run_dir: Path

    @property
    def passed(self) -> bool:
        return self.data["invariant"]["ok"] is not False and all(v["passed"] for v in self.data["slo"])

    def raise_if_breached(self) -> None:
        """`InvariantBreach` (exit 4) if the invariant broke, else `SLOBreach` (exit 3) if a gate failed."""
        safety.Verdict.from_dict(self.data["invariant"]).raise_if_broken()
        if "capacity" in self.data:
            capacity = self.data["capacity"]
            if capacity["knee_rate_per_s"] is None and capacity.get("unclear_at") is not None:
                raise SLOBreach(f"--find-capacity: the first rate's verdict ({capacity['unclear_at']:g}/s) is still "
                                "unclear after its repeats; run each step longer (--duration) or raise "
                                "--capacity-repeats")
            if capacity["knee_rate_per_s"] is None:
                raise SLOBreach("--find-capacity: the SLOs broke already at the first rate; start lower with --rate")
            return
        raise_if_failed(verdicts_of(self.data))


class ChartWriter(Protocol):
    """What draws a load test's charts (`motcua.report.loadtest_charts` satisfies it)."""

    def write_charts(self, harness: Mapping[str, Any], folder: Path, lang: str = "vi") -> list[Path]: ...

    def capacity_chart(self, steps: Sequence[Any], path: Path, lang: str = "vi") -> Path: ...


class RunShape(Protocol):
    """What the summary records of how the test ran (`motcua.loadtest.runner.LoadtestOptions` has it)."""

    @property
    def model(self) -> str: ...
    @property
    def workers(self) -> int: ...
    @property
    def users(self) -> int | None: ...


def read_locust_stats(locust_dir: Path) -> dict[str, dict[str, Any]]:
    """Locust's own ``stats_stats.csv``: "TYPE name" → counts and its bucketed percentiles."""
    path = Path(locust_dir) / "stats_stats.csv"
    if not path.exists():
        return {}
    rows = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            key = f"{row['Type']} {row['Name']}".strip()
            rows[key] = {
                "type": row["Type"],
                "count": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                **{f"p{p.rstrip('%')}": _number(row.get(p)) for p in LOCUST_PERCENTILES},
            }
    return rows


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "", "N/A") else None
    except ValueError:
        return None


def officer_summaries(rows: list[list[Any]]) -> dict[str, Any]:
    samples = [
        {
            "kind": "officer_sees_paid",
            "payment_id": r[0],
            "bank_code": r[1],
            "group": r[2],
            "latency_ms": r[3],
            "ok": r[4],
            "at": 0,
        }
        for r in rows
    ]
    return callback_summaries([[s[k] for k in SAMPLE_HEADER] for s in samples]).get("officer_sees_paid", {})


def journey_summaries(rows: list[list[Any]]) -> dict[str, Any]:
    """Exact percentiles of whole journeys, all and by outcome, and the failures (by the step they failed at)."""
    by_name: dict[str, list[float]] = defaultdict(list)
    for name, _intended, latency, _ok in rows:
        by_name[name].append(latency)
    by_step = Counter(failed_step(r[0]) for r in rows if not r[3])
    return {
        "all": exact_summary(r[2] for r in rows),
        "failures": sum(1 for r in rows if not r[3]),
        "failures_by_step": dict(by_step.most_common()),
        "by_outcome": {name: exact_summary(values) for name, values in sorted(by_name.items())},
    }


def failed_step(journey_name: str) -> str:
    """The step a failed journey stopped at: ``citizen failed at charge`` → ``charge``."""
    return journey_name.split(" failed at ", 1)[1] if " failed at " in journey_name else journey_name


def failure_reasons(locust_dir: Path, limit: int = 5) -> list[dict[str, Any]]:
    """The most frequent failures of Locust's ``stats_failures.csv``: type, name (the step), error, count."""
    path = Path(locust_dir) / "stats_failures.csv"
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        rows = [
            {"type": r["Method"], "name": r["Name"], "error": r["Error"], "count": int(r["Occurrences"])}
            for r in csv.DictReader(fh)
        ]
    rows.sort(key=lambda r: -int(r["count"]))
    return rows[:limit]


def status_polling(polls: Sequence[int]) -> dict[str, Any]:
    """The status polls (answered, failed) as summary.json shows them: apart from the journeys' HTTP errors."""
    answered, failed = polls
    total = answered + failed
    return {"requests": total, "failures": failed, "failure_share": failed / total if total else None}


def timeline(harness: Mapping[str, Any], t0: float) -> list[dict[str, Any]]:
    """Per second since the start: arrivals started/dropped, HTTP requests, journey percentiles by intended start."""
    seconds: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"started": 0, "dropped": 0, "requests": 0, "failures": 0, "latencies": []}
    )
    for intended, _lag in harness["arrivals"]:
        seconds[int(intended - t0)]["started"] += 1
    for intended in harness["drops"]:
        seconds[int(intended - t0)]["dropped"] += 1
    for sec, (ok, failed) in harness["http"].items():
        seconds[int(int(sec) - t0)]["requests"] += ok + failed
        seconds[int(int(sec) - t0)]["failures"] += failed
    for _name, intended, latency, _ok in harness["journeys"]:
        seconds[int(intended - t0)]["latencies"].append(latency)
    out = []
    for sec in sorted(s for s in seconds if s >= 0):
        row = seconds[sec]
        lat = sorted(row.pop("latencies"))
        row.update(
            {
                "second": sec,
                "journeys": len(lat),
                "p50_ms": nearest_rank(lat, 50) if lat else None,
                "p95_ms": nearest_rank(lat, 95) if lat else None,
                "p99_ms": nearest_rank(lat, 99) if lat else None,
            }
        )
        out.append(row)
    return out


def start_time(harness: Mapping[str, Any]) -> float:
    """The run's time origin: the first intended arrival (or the harness's start)."""
    firsts = [a[0] for a in harness["arrivals"]] or [j[1] for j in harness["journeys"]]
    return min(firsts) if firsts else float(harness["started_at"])


def build_summary(
    harness: Mapping[str, Any],
    locust_dir: Path,
    *,
    scenario: str,
    profile: RateProfile,
    options: RunShape,
    reconciliation: list[dict[str, Any]],
    invariant: dict[str, Any],
    run_seconds: float,
    deadline_s: float | None = None,
    ipn_confirmed: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """summary.json's content (without the SLO verdicts, which the runner adds).

    `ipn_confirmed` are the payments the agency's journal shows paid by an IPN (the invariant's reading, after the
    harness stopped watching): a callback the harness gave up on but that did arrive is late, not lost."""
    hdr = HdrSet()
    hdr.merge_encoded(harness["hdr"])
    locust = read_locust_stats(locust_dir)
    requests: dict[str, dict[str, Any]] = hdr.summary()  # each row gains its "locust" twin below
    for key, row in requests.items():
        row["locust"] = locust.get(key)
    http_total = sum(ok + failed for ok, failed in harness["http"].values())
    http_failed = sum(failed for _ok, failed in harness["http"].values())
    started, dropped = len(harness["arrivals"]), len(harness["drops"])
    duration = profile.duration_s
    deadline_ms = None if deadline_s is None else deadline_s * 1000
    callbacks = callback_summaries(harness["callbacks"], deadline_ms)
    callbacks["officer_sees_paid"] = officer_summaries(harness["officer"])
    journeys = journey_summaries(harness["journeys"])
    create = requests.get(CREATE_REQUEST, {})
    late = set(harness["late"]) | (set(harness["lost"]) & set(ipn_confirmed))
    lost = set(harness["lost"]) - late
    data = {
        "scenario": scenario,
        "model": options.model,
        "profile": profile.describe(),
        "workers": options.workers,
        "users": options.users,
        "run_seconds": round(run_seconds, 3),
        "throughput": {
            "requests_per_s": http_total / duration,
            "journeys_per_s": len(harness["journeys"]) / duration,
            "started_per_s": started / duration,
            "http_requests": http_total,
            "http_failures": http_failed,
            "journeys_finished": len(harness["journeys"]),
        },
        "arrivals": {
            "intended": started + dropped,
            "started": started,
            "dropped": dropped,
            "dropped_share": dropped / (started + dropped) if started + dropped else 0.0,
            "max_start_lag_ms": max((lag for _t, lag in harness["arrivals"]), default=0.0) * 1000,
        },
        "request_types": requests,
        "locust_stats": locust,
        "journeys": journeys,
        "callbacks": callbacks,
        "approvals": len(harness["approvals"]),
        "lost_callbacks": len(lost),
        "late_callbacks": len(late),
        "status_polling": status_polling(harness.get("polls") or (0, 0)),
        "failure_reasons": failure_reasons(locust_dir),
        "aborted": harness.get("aborted"),
        "reconciliation": reconciliation,
        "invariant": invariant,
        "slo_measured": {
            "callback_p95_ms": callbacks[IPN_ACK].get("p95"),
            "create_p99_ms": create.get("p99"),
            "error_rate": http_failed / http_total if http_total else None,
            "dropped_arrivals": dropped / (started + dropped) if started + dropped else 0.0,
            "lost_callbacks": len(lost),
            "late_callbacks": len(late),
            "journey_failures": journeys["failures"] / len(harness["journeys"]) if harness["journeys"] else None,
        },
        "slo_censored": ["callback_p95_ms"] if "p95" in callbacks[IPN_ACK].get("censored", ()) else [],
        "timeline": timeline(harness, start_time(harness)),
    }
    return data
