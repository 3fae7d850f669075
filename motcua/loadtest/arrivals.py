"""The open workload model: citizens arrive when they arrive, not when the server lets them.

*Scenario*: at 07:30 citizens all over a province open the portal to pay. Whether the bank's
page answered the previous citizen in 50 ms or is frozen for five seconds, the next one arrives
on time. A closed-loop load generator (Locust's users wait for each response) quietly stops
arriving while the system stalls, so the stall hides itself — *coordinated omission*.

Here arrival times are drawn up front from the profile (`arrival_times`): a non-homogeneous
Poisson process by time rescaling (the k-th arrival is at Λ⁻¹(S_k) with Λ the cumulative rate and
S_k a unit-rate Poisson process), or a deterministic one (S_k = k + phase). The engine
(`OpenModelEngine`) starts a journey at each intended time in its own greenlet and hands the
journey that *intended* time, so latency includes any delay in starting it. When ``max_concurrency``
journeys are already in flight, the arrival is counted as dropped — never skipped quietly.

In distributed runs every generator (one per Locust worker) runs the profile scaled by its
``share``: the superposition of independent Poisson processes of rates ``share·λ(t)`` is a Poisson
process of rate ``λ(t)``, so the total load does not depend on how many workers split it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from motcua.loadtest.profiles import RateProfile

GRID_S = 0.01  # integration step of the cumulative rate (10 ms)


def arrival_times(
    profile: RateProfile,
    rng: np.random.Generator,
    *,
    share: float = 1.0,
    poisson: bool = True,
) -> Iterator[float]:
    """Intended arrival times (seconds from the start, increasing) of one generator.

    The generator's rate is ``share × profile.rate(t)``. Lazy, so a long run does not hold
    every arrival in memory.
    """
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share}")
    duration_s = profile.duration_s
    target = rng.exponential() if poisson else rng.uniform()  # the first S_k; a random phase if deterministic
    cumulative = 0.0
    steps = math.ceil(duration_s / GRID_S)
    for i in range(steps):
        t0 = i * GRID_S
        dt = min(GRID_S, duration_s - t0)
        rate = share * profile.rate(t0 + dt / 2)
        cell = rate * dt
        # every S_k that falls inside this cell is mapped linearly onto it (rate constant within a cell)
        while cell > 0 and target <= cumulative + cell:
            yield t0 + (target - cumulative) / rate
            target += rng.exponential() if poisson else 1.0
        cumulative += cell


@dataclass
class EngineCounts:
    """What an open-model generator did: arrivals started or dropped, and how late it started them."""

    started: int = 0
    dropped: int = 0
    max_start_lag_s: float = 0.0


class OpenModelEngine:
    """Starts journeys at intended times in their own greenlets, capped at ``max_concurrency`` in flight.

    ``start_journey(intended_at)`` runs one journey (it must time itself from ``intended_at``, an
    absolute ``time.time()``); ``on_drop(intended_at)`` is told of every arrival refused by the cap.
    """

    def __init__(
        self,
        times: Iterator[float],
        start_journey: Callable[[float], None],
        *,
        max_concurrency: int,
        on_start: Callable[[float, float], None] | None = None,
        on_drop: Callable[[float], None] | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be ≥ 1, got {max_concurrency}")
        self.times = times
        self.start_journey = start_journey
        self.max_concurrency = max_concurrency
        self.on_start = on_start
        self.on_drop = on_drop
        self.counts = EngineCounts()
        self.pool = None

    def run(self, t0: float | None = None) -> EngineCounts:
        """Run until the arrival times are exhausted, then wait for journeys in flight."""
        import gevent
        from gevent.pool import Pool

        self.pool = Pool(self.max_concurrency)
        t0 = time.time() if t0 is None else t0
        try:
            for offset in self.times:
                intended = t0 + offset
                delay = intended - time.time()
                if delay > 0:
                    gevent.sleep(delay)
                self._arrive(intended)
            self.pool.join()
        finally:
            self.pool.kill(block=False)
        return self.counts

    def _arrive(self, intended: float) -> None:
        if self.pool.full():
            self.counts.dropped += 1
            if self.on_drop:
                self.on_drop(intended)
            return
        lag = max(0.0, time.time() - intended)
        self.counts.max_start_lag_s = max(self.counts.max_start_lag_s, lag)
        self.counts.started += 1
        if self.on_start:
            self.on_start(intended, lag)
        self.pool.spawn(self.start_journey, intended)
