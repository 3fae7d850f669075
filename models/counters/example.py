"""A runnable example: one default shop for a few days, described in a few lines a planner can read.

    python -m models.counters [DAYS] [SEED]
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence

import numpy as np
import simpy
from motcua.models.counters.books import CounterSummary
from motcua.models.counters.params import MINUTES_PER_DAY, CounterParams
from motcua.models.counters.shop import OneStopShop


def describe(summary: CounterSummary) -> str:
    """A few lines a planner can read: waits, the queue through the day, officers' time, the counts."""
    hours = summary.officer_hours
    busy_hours = [h for h in range(24) if summary.queue_by_hour[h] >= 0.05]  # those that print as 0.0 say nothing
    queue = " | ".join(f"{h:02d}h {summary.queue_by_hour[h]:.1f}" for h in busy_hours)
    counts = ", ".join(f"{name.replace('_', ' ')} {value}" for name, value in summary.counts.items())
    return "\n".join([
        f"wait (minutes): mean {summary.wait_mean:.1f}, p50 {summary.wait_p50:.1f}, p90 {summary.wait_p90:.1f}; "
        f"{summary.p_wait:.0%} waited at all",
        f"people waiting, by hour: {queue}",
        f"officers: utilisation {summary.utilisation:.0%}; hours serving {hours['serving']:.1f}, "
        f"cash {hours['cash']:.1f}, guidance {hours['guidance']:.1f}, idle {hours['idle']:.1f}",
        f"citizens: {counts}",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m models.counters [DAYS] [SEED]``: one default shop (3 officers, 60 dossiers a day)."""
    args = list(argv if argv is not None else sys.argv[1:])
    days = int(args[0]) if args else 5
    seed = int(args[1]) if len(args) > 1 else 1
    env = simpy.Environment()
    shop = OneStopShop(env, CounterParams(), np.random.default_rng(seed), start=dt.date(2024, 1, 1))
    env.run(until=days * MINUTES_PER_DAY)
    print(f"One-stop shop, {shop.params.officers} officers, {days} days from {shop.start}, seed {seed}")
    print(describe(shop.summary()))
    return 0

