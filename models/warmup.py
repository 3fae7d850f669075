"""Choosing a warm-up from the data: MSER-5 (the Marginal Standard Error Rule on batch means of five).

A run that starts empty (an M/M/c queue at 08:00 with nobody waiting) reports waits that are too short until
the queue has filled to its usual length. MSER picks the truncation point d* that minimises the squared
standard error of the mean of what is left,

    MSER(d) = Σ_{i>d} (Y_i − Ȳ_d)² / (n − d)²,   d ≤ n/2,

over batch means Y_i of five consecutive observations (White 1997; Franklin & White 2008, "Stationarity tests
and MSER-5", Proc. Winter Simulation Conference). Past the middle of the series the rule is not trusted (the
remaining half is too short to judge), so the search stops there; a minimum at the bound means the run is too
short for its transient, which `Truncation.at_bound` says.

The daily counter model needs none of this: the shop opens empty every morning by law and practice, so the
empty start is part of what is modelled (`motcua.models.counters`). The M/M/c harness of the Erlang C check
(`simulate_mmc(..., warmup="mser5")`, `motcua validate erlang-c --warmup mser5`) uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BATCH = 5


@dataclass(frozen=True)
class Truncation:
    """Where MSER-5 cuts a series: the observations discarded at its start."""

    discarded: int
    """Observations discarded (a multiple of the batch size)."""
    at_bound: bool
    """The minimum fell on the search's bound (half the series): the run is too short for its transient."""


def mser5(series: np.ndarray, batch: int = BATCH) -> Truncation:
    """The MSER truncation point of `series` (in time order), on batch means of `batch` observations."""
    values = np.asarray(series, dtype=float)
    k = values.size // batch
    if k < 4:
        raise ValueError(f"MSER needs at least {4 * batch} observations, got {values.size}")
    means = values[: k * batch].reshape(k, batch).mean(axis=1)
    # the sums of what is left after dropping d batches, for every d at once (suffix sums)
    tail_sum = np.cumsum(means[::-1])[::-1]
    tail_sq = np.cumsum((means**2)[::-1])[::-1]
    left = np.arange(k, 0, -1, dtype=float)  # batches left after dropping d = 0 … k − 1
    squares = tail_sq - tail_sum**2 / left  # Σ (Y_i − Ȳ_d)², without a second pass
    limit = k // 2
    statistic = squares[: limit + 1] / left[: limit + 1] ** 2
    d = int(np.argmin(statistic))
    return Truncation(discarded=d * batch, at_bound=d == limit)
