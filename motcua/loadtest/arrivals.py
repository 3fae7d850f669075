"""The open workload model: citizens arrive when they arrive, not when the server lets them.

*Scenario*: at 07:30 citizens all over a province open the portal to pay. Whether the bank's
page answered the previous citizen in 50 ms or is frozen for five seconds, the next one arrives
on time. A closed-loop load generator (Locust's users wait for each response) quietly stops
arriving while the system stalls, so the stall hides itself — *coordinated omission*.

Here arrival times are drawn up front from the profile (`arrival_times`): a non-homogeneous
Poisson process by time rescaling (the k-th arrival is at Λ⁻¹(S_k) with Λ the cumulative rate and
S_k a unit-rate Poisson process), or a deterministic one (S_k = k + phase). The engine
(`OpenModelEngine`) starts a journey at each intended time on one of its reusable lanes and hands
the journey that *intended* time, so latency includes any delay in starting it. When an arrival falls
due while ``max_concurrency`` journeys are already in flight, it is counted as dropped — never skipped
quietly.

In distributed runs every generator (one per Locust worker) runs the profile scaled by its
``share``: the superposition of independent Poisson processes of rates ``share·λ(t)`` is a Poisson
process of rate ``λ(t)``, so the total load does not depend on how many workers split it.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from motcua.loadtest.profiles import RateProfile

GRID_S = 0.01  # integration step of the cumulative rate (10 ms)
DRAW_BLOCK = 4096  # unit-rate exponential gaps drawn at once (one NumPy call instead of one per arrival)


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
    gaps = _exponential_gaps(rng) if poisson else itertools.repeat(1.0)  # S_{k+1} − S_k
    target = next(gaps) if poisson else rng.uniform()  # the first S_k; a random phase if deterministic
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
            target += next(gaps)
        cumulative += cell


def _exponential_gaps(rng: np.random.Generator) -> Iterator[float]:
    """Unit-rate exponential draws, one at a time, drawn from ``rng`` in blocks."""
    while True:
        yield from rng.exponential(size=DRAW_BLOCK).tolist()


@dataclass
class EngineCounts:
    """What an open-model generator did: arrivals started or dropped, and how late it started them."""

    started: int = 0
    dropped: int = 0
    max_start_lag_s: float = 0.0


class OpenModelEngine:
    """Starts journeys at intended times on reusable *lanes*, capped at ``max_concurrency`` lanes.

    A lane is one greenlet that claims the next unclaimed arrival, waits for its intended time,
    runs the journey, and claims again — like k6's constant-arrival-rate executor with its
    preallocated virtual users. A greenlet per arrival would cost a spawn, a switch and a dead
    greenlet for every citizen; the lanes cost a loop turn and one timer per arrival not yet due.

    There is always a *free* lane (one waiting for the arrival it claimed, or just opened to claim
    one) while the cap allows: when the last free lane starts its journey, a spare lane is opened
    at once, so the next arrival is already watched and nothing else wakes per arrival. So the
    lanes number the most journeys ever in flight at once, plus one. Only at the cap does a
    dispatcher watch the next unclaimed arrival: if it falls due while every lane is busy with a
    journey, it is counted dropped (never skipped quietly).

    ``start_journey(intended_at)`` runs one journey (it must time itself from ``intended_at``, an
    absolute ``time.time()``); ``on_start(intended_at, lag_s)`` is told of every arrival started and
    ``on_drop(intended_at)`` of every arrival refused by the cap.
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
        self.times = iter(times)
        self.start_journey = start_journey
        self.max_concurrency = max_concurrency
        self.on_start = on_start
        self.on_drop = on_drop
        self.counts = EngineCounts()
        self.lanes: list = []
        self._t0 = 0.0
        self._next: float | None = None  # the next unclaimed arrival (absolute), None when exhausted
        self._free = 0  # lanes not running a journey: waiting for the arrival they claimed, or about to claim
        self._all_busy: Any = None  # gevent Event: set when at the cap every lane runs a journey (or arrivals end)

    def run(self, t0: float | None = None) -> EngineCounts:
        """Run until the arrival times are exhausted, then wait for journeys in flight."""
        import gevent
        from gevent.event import Event

        self._t0 = time.time() if t0 is None else t0
        self._all_busy = Event()
        self._advance()
        try:
            if self._next is not None:
                self._open_lane()
            self._dispatch()
            gevent.joinall(self.lanes)
        finally:
            gevent.killall(self.lanes, block=False)
        return self.counts

    @property
    def lanes_open(self) -> int:
        """Lanes opened so far: the most journeys that were ever in flight at once plus one spare, or fewer."""
        return len(self.lanes)

    def _advance(self) -> None:
        offset = next(self.times, None)
        self._next = None if offset is None else self._t0 + offset
        if self._next is None:
            self._all_busy.set()  # the dispatcher may be waiting: nothing left to watch

    def _claim(self) -> float | None:
        """Take the next unclaimed arrival (its absolute intended time), or None when there are no more."""
        intended = self._next
        if intended is not None:
            self._advance()
        return intended

    def _open_lane(self) -> None:
        import gevent

        self._free += 1
        self.lanes.append(gevent.spawn(self._lane))

    def _dispatch(self) -> None:
        """At the cap, with every lane busy: drop each arrival that falls due before a lane frees up."""
        import gevent

        while self._next is not None:
            if self._free:
                # a free lane will claim the next arrival; look again once every lane is busy at the cap
                self._all_busy.clear()
                self._all_busy.wait()
                continue
            delay = self._next - time.time()
            if delay > 0:
                gevent.sleep(delay)  # meanwhile a lane that frees up may claim it: then look again
                continue
            intended = self._next
            self._advance()
            self.counts.dropped += 1
            if self.on_drop:
                self.on_drop(intended)

    def _lane(self) -> None:
        import gevent

        while True:
            intended = self._claim()
            if intended is None:
                self._free -= 1
                return
            delay = intended - time.time()
            if delay > 0:
                gevent.sleep(delay)
            self._free -= 1
            if not self._free and self._next is not None:  # the last free lane: a spare, or the dispatcher watches
                if len(self.lanes) < self.max_concurrency:
                    self._open_lane()
                else:
                    self._all_busy.set()
            self._start(intended)
            self._free += 1

    def _start(self, intended: float) -> None:
        lag = max(0.0, time.time() - intended)
        counts = self.counts
        if lag > counts.max_start_lag_s:
            counts.max_start_lag_s = lag
        counts.started += 1
        if self.on_start:
            self.on_start(intended, lag)
        try:
            self.start_journey(intended)
        except Exception:  # a journey's own bug must not close its lane (a pool's greenlet would just die)
            import logging

            logging.getLogger(__name__).exception("journey starting at %.3f failed", intended)
