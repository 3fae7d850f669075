"""Replications: independent random streams, where they run, and the uncertainty of what they report.

*Scenario.* A planner asks "when do we reach 45%?". One simulated year is one draw from many
possible years, so the workbench runs the same scenario N times with independent random streams
and reports every figure as a mean with a 95% confidence interval (Student t over the N
replications). Replications are independent, so they run in parallel: on local processes by
default, serially with ``workers=1``, or on a Dask distributed cluster given its scheduler address.

Random streams. ``numpy.random.SeedSequence(seed).spawn(n)`` gives n child seeds whose streams
do not overlap in practice; replication i always gets child i. Results are gathered in
replication order, never in completion order, so the same seed gives the same results whichever
executor ran them and however many workers it had.

Common random numbers (CRN). `run_comparison` gives replication i of *every* scenario the same
child seed. What that guarantees: the two runs of replication i start from identical random
states, so wherever the scenarios do not differ (and the model draws the same numbers in the same
order) they see the same citizens, the same arrivals and the same service times; the difference
between scenarios is then estimated pairwise (B_i − A_i), and its variance is smaller the more the
two runs stay in step. What it does not guarantee: once a scenario changes what the model draws
(an intervention that guides more citizens, so more random numbers are consumed), the streams
drift apart from that point on; CRN then helps less, but never biases the estimate. The coupled
model gives each component (adoption, each unit's counters) its own child stream so that a
change in one unit does not shift the numbers another unit sees.

Layers (no import cycle): `models.streams` (child seeds) and `models.executor` (where replications run,
given a model function) know no model; `models.coupled` (one replication) uses the streams; this module
sits on top and gives the executor the coupled model by default. Its names stay importable from here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from motcua.models.coupled import run_replication_task
from motcua.models.executor import (
    DASK_CONNECT_TIMEOUT,
    PROCESSES,
    SERIAL,
    ExecutorSpec,
    PendingReplications,
    _as_spec,
    map_replications,
    start_replications,
)
from motcua.models.streams import _check_seed, child_seed, spawn_seeds

from motcua.errors import InputError

__all__ = [
    "CONFIDENCE", "DASK_CONNECT_TIMEOUT", "PROCESSES", "SERIAL", "Estimate", "ExecutorSpec", "PendingComparison",
    "ReplicationSet", "child_seed", "json_number", "map_replications", "mean_ci", "paired_difference",
    "proportion_ci", "run_comparison", "run_replications", "settle_replications", "spawn_seeds", "start_comparison",
    "t_quantile",
]

CONFIDENCE = 0.95
"""Level of every confidence interval the workbench reports."""



def settle_replications(scenario: Any, replications: int | None, seed: int | None, *, quick: bool = False,
                        quick_replications: int, minimum: int = 1, why: str = "") -> tuple[int, int]:
    """The replications and seed a command runs: the ones given, else the scenario's (capped at
    `quick_replications` with ``quick``); refuses fewer than `minimum` replications or a negative seed."""
    if replications is None:
        replications = scenario.simulation.replications
        if quick:
            replications = min(replications, quick_replications)
    if replications < minimum:
        raise InputError(f"--replications {replications}: must be at least {minimum}{why}; "
                         f"e.g. --replications {max(minimum, 3)}")
    return replications, _check_seed(scenario.simulation.seed if seed is None else seed)


# ---------------------------------------------------------------------------------------------
# Estimates with confidence intervals
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Estimate:
    """A figure estimated over replications: its mean and a confidence interval [low, high].

    Scalars for one figure, arrays (same shape) for a series such as a monthly trajectory.
    Bounds are NaN where fewer than two replications gave a value.
    """

    mean: Any
    low: Any
    high: Any
    n: Any
    """How many replications gave a value (per element for a series)."""

    def to_json(self, digits: int = 6) -> dict[str, Any]:
        """``{"mean", "low", "high", "n"}`` with NaN written as null, rounded to `digits`."""
        return {
            "mean": json_number(self.mean, digits),
            "low": json_number(self.low, digits),
            "high": json_number(self.high, digits),
            "n": json_number(self.n, 0),
        }


def json_number(value: Any, digits: int = 6) -> Any:
    """A float, int, list or nested list with NaN/inf as None (JSON has no NaN)."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        v = float(arr)
        if not np.isfinite(v):
            return None
        return round(v) if digits == 0 else round(v, digits)
    return [json_number(x, digits) for x in arr]


def t_quantile(confidence: float, dof: Any) -> Any:
    """Two-sided Student t critical value for `confidence` with `dof` degrees of freedom."""
    from scipy import stats

    return stats.t.ppf(0.5 + confidence / 2, dof)


def mean_ci(samples: Any, *, axis: int = 0, confidence: float = CONFIDENCE,
            bounds: tuple[float, float] | None = None) -> Estimate:
    """Mean and Student-t confidence interval over `axis` (replications), ignoring NaN.

    For n values with sample standard deviation s, the interval is mean ± t_{n−1} · s / √n, cut to
    `bounds` when given (a share's interval stays within 0–1 even with few replications).
    """
    x = np.asarray(samples, dtype=float)
    n = np.sum(~np.isnan(x), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.nansum(x, axis=axis)
        mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
        centred = np.where(np.isnan(x), 0.0, x - np.expand_dims(mean, axis))
        var = np.sum(centred**2, axis=axis) / np.maximum(n - 1, 1)
        half = np.where(n >= 2, t_quantile(confidence, np.maximum(n - 1, 1)) * np.sqrt(var / np.maximum(n, 1)), np.nan)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = np.clip(low, *bounds), np.clip(high, *bounds)
    return Estimate(_scalar(mean), _scalar(low), _scalar(high), _scalar(n))


def paired_difference(a: Any, b: Any, *, confidence: float = CONFIDENCE) -> Estimate:
    """Mean and CI of b − a over paired replications (replication i of both scenarios, same seed)."""
    a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a_arr.shape != b_arr.shape:
        raise ValueError(f"paired samples must have the same shape, got {a_arr.shape} and {b_arr.shape}")
    return mean_ci(b_arr - a_arr, confidence=confidence)


def proportion_ci(successes: int, n: int, *, confidence: float = CONFIDENCE) -> Estimate:
    """A probability estimated from `successes` of `n` replications, with the Wilson score interval.

    Wilson rather than Student t: with 0 or n successes a t interval collapses to a point, which
    would claim certainty that 20 replications cannot give.
    """
    from scipy import stats

    if n < 1:
        return Estimate(np.nan, np.nan, np.nan, 0)
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), n)


def _scalar(x: Any) -> Any:
    return float(x) if np.ndim(x) == 0 else x


# ---------------------------------------------------------------------------------------------
# Scenario replications (the coupled model by default)
# ---------------------------------------------------------------------------------------------
@dataclass
class ReplicationSet:
    """The replications of one scenario, in replication order, with how they were run."""

    scenario: Any
    results: list[Any]
    seed: int
    seeds: list[np.random.SeedSequence] = field(repr=False)
    executor: str
    wall_s: float


def run_replications(
    scenario: Any,
    replications: int,
    seed: int,
    *,
    executor: ExecutorSpec | str | None = None,
    progress: bool = True,
    quick: bool = False,
    quality: Any = None,
    replicate: Callable[..., Any] | None = None,
    draws: Any = None,
) -> ReplicationSet:
    """Run `replications` replications of `scenario`; replication i uses child seed i of `seed`.

    `executor` is an `ExecutorSpec`, ``"serial"``, ``"processes"`` or a Dask scheduler address.
    `replicate(scenario, seed_sequence, quick, quality)` runs one replication; by default the
    coupled model (`models.coupled.run_replication_task`).
    """
    return run_comparison([scenario], replications, seed, executor=executor, progress=progress,
                          quick=quick, quality=quality, replicate=replicate,
                          draws=None if draws is None else [draws])[0]


def run_comparison(
    scenarios: Sequence[Any],
    replications: int,
    seed: int,
    *,
    executor: ExecutorSpec | str | None = None,
    progress: bool = True,
    quick: bool = False,
    quality: Any = None,
    replicate: Callable[..., Any] | None = None,
    draws: Sequence[Any] | None = None,
) -> list[ReplicationSet]:
    """Run every scenario under common random numbers: replication i of each uses child seed i.

    All scenarios' replications go to the executor (`models.executor.map_replications`) as one batch, so a
    pool stays busy across them; `replicate` runs one replication (default: the coupled model). `draws`
    (one per scenario, `models.uncertainty.ParameterDraws` or None) gives replication i its own parameter
    vector (the same for every scenario's shared assumptions): intervals then cover parameters as well.
    """
    return start_comparison(scenarios, replications, seed, executor=executor, quick=quick, quality=quality,
                            replicate=replicate, draws=draws).wait(progress=progress)


def start_comparison(
    scenarios: Sequence[Any],
    replications: int,
    seed: int,
    *,
    executor: ExecutorSpec | str | None = None,
    quick: bool = False,
    quality: Any = None,
    replicate: Callable[..., Any] | None = None,
    draws: Sequence[Any] | None = None,
    nice: int = 0,
) -> PendingComparison:
    """`run_comparison` started and left running (`models.executor.start_replications`, at priority `nice`);
    `PendingComparison.wait` gives the same sets `run_comparison` would. A replication's result depends on its
    scenario, draw and seed only, so splitting plans into batches changes no figure."""
    spec = _as_spec(executor)
    seeds = spawn_seeds(seed, replications)
    plans = draws if draws is not None else [None] * len(scenarios)
    tasks = [(scenario if draw is None else draw.scenario(scenario, i), child, quick, quality)
             for scenario, draw in zip(scenarios, plans, strict=True) for i, child in enumerate(seeds)]
    started = time.perf_counter()
    pending = start_replications(replicate or run_replication_task, tasks, executor=spec, nice=nice)
    return PendingComparison(list(scenarios), replications, int(seed), seeds, spec, pending, started)


@dataclass
class PendingComparison:
    """The replications of `start_comparison`, running; `wait` sorts them back into one set per scenario."""

    scenarios: list[Any]
    replications: int
    seed: int
    seeds: list[np.random.SeedSequence] = field(repr=False)
    executor: ExecutorSpec
    pending: PendingReplications = field(repr=False)
    started: float
    """`time.perf_counter()` when the replications were handed to the executor."""

    def wait(self, *, progress: bool = True) -> list[ReplicationSet]:
        """One `ReplicationSet` per scenario, in order (``wall_s``: from the start to the last replication's end,
        so time spent waiting to be collected is not counted)."""
        flat = self.pending.results(progress=progress)
        wall = (self.pending.finished_at or time.perf_counter()) - self.started
        n = self.replications
        return [ReplicationSet(scenario, flat[k * n:(k + 1) * n], self.seed, self.seeds, self.executor.describe(),
                               wall)
                for k, scenario in enumerate(self.scenarios)]

    def cancel(self) -> None:
        """Give up on the replications not started yet (a run that failed before collecting them)."""
        self.pending.cancel()
