"""Callback percentiles where a callback that never came within its deadline counts as +∞ (right-censored).

*Scenario*: 2 of 40 Agribank IPNs did not arrive within the 45 s deadline. Their "latency" is not 45 s — it is
at least 45 s, maybe forever. A p95 that falls on one of them is only known to be ≥ 45 s, so it is shown as the
deadline and named in the block's ``censored`` list; no gate passes on it (`motcua.loadtest.slo`). The same
summaries serve summary.json (`motcua.loadtest.summary`) and the live abort check (`motcua.loadtest.abort`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from motcua.loadtest.callbacks import IPN_ACK, SAMPLE_HEADER
from motcua.loadtest.percentiles import exact_summary
from motcua.safety import nearest_rank


def callback_summaries(rows: list[list[Any]], deadline_ms: float | None = None) -> dict[str, Any]:
    """Exact percentiles of callback samples, overall, by bank and by payment group (lost or late ones censored)."""
    samples = [dict(zip(SAMPLE_HEADER, r, strict=True)) for r in rows]
    out: dict[str, Any] = {}
    for kind in sorted({s["kind"] for s in samples} | {IPN_ACK}):
        mine = [s for s in samples if s["kind"] == kind]
        out[kind] = _with_failures(mine, deadline_ms)
        out[kind]["by_bank"] = {
            b: _with_failures([s for s in mine if s["bank_code"] == b], deadline_ms)
            for b in sorted({s["bank_code"] for s in mine})
        }
        out[kind]["by_group"] = {
            g: _with_failures([s for s in mine if s["group"] == g], deadline_ms)
            for g in sorted({s["group"] for s in mine})
        }
    return out


def _with_failures(samples: Sequence[Mapping[str, Any]], deadline_ms: float | None = None) -> dict[str, Any]:
    """Percentiles where a failed sample (no IPN within the deadline) counts as +∞: right-censored.

    A statistic that falls on such a sample is only known to be ≥ the deadline; it shows the deadline (or the
    sample's own value when no deadline is given) and is named in ``censored``, so no reader takes it for a
    measurement and no gate passes on it."""
    ok = sorted(s["latency_ms"] for s in samples if s["ok"])
    failed = [s["latency_ms"] for s in samples if not s["ok"]]
    floor = deadline_ms if deadline_ms is not None else max(failed, default=0.0)
    values = ok + [math.inf] * len(failed)
    summary: dict[str, Any] = exact_summary(values)
    censored = [key for key, value in summary.items() if isinstance(value, float) and math.isinf(value)]
    for key in censored:
        summary[key] = floor
    if failed and "mean" in summary:
        summary["mean"] = (sum(ok) + floor * len(failed)) / len(values)
        censored.append("mean")
    summary["censored"] = censored
    summary["failures"] = len(failed)
    summary["delivered_p95"] = nearest_rank(ok, 95) if ok else None
    return summary


