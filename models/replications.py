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
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from motcua.errors import InputError, ServiceError

CONFIDENCE = 0.95
"""Level of every confidence interval the workbench reports."""

DASK_CONNECT_TIMEOUT = "10s"
"""How long to try reaching a Dask scheduler before giving up."""

SERIAL = "serial"
PROCESSES = "processes"


# ---------------------------------------------------------------------------------------------
# Random streams
# ---------------------------------------------------------------------------------------------
def spawn_seeds(seed: int | np.random.SeedSequence, replications: int) -> list[np.random.SeedSequence]:
    """Child seeds for `replications` independent replications of one run seeded with `seed`."""
    if replications < 1:
        raise InputError(f"--replications {replications}: must be at least 1; use e.g. --replications 20")
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(_check_seed(seed))
    return root.spawn(replications)


def child_seed(seed: np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """The `index`-th child of `seed`, without touching `seed`.

    ``SeedSequence.spawn`` counts the children it already gave, so spawning twice from the same
    object (as a serial run does, once per scenario) would give different children; deriving them
    from the spawn key keeps replication i's sub-streams identical in every scenario and executor.
    """
    return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, index), pool_size=seed.pool_size)


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"--seed {seed!r}: must be a non-negative integer, e.g. --seed 2024")
    return int(seed)


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
# Where replications run
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExecutorSpec:
    """Where replications run: ``serial`` (this process), ``processes`` (a local pool) or a Dask scheduler."""

    kind: str = PROCESSES
    workers: int | None = None
    """Local worker processes; None means one per CPU core."""
    address: str | None = None
    """Dask scheduler address (``tcp://host:port``) when kind is ``dask``."""

    @classmethod
    def from_options(cls, *, workers: int | None = None, dask_scheduler: str | None = None) -> ExecutorSpec:
        """The executor the command-line options ask for (``--workers``, ``--dask-scheduler``)."""
        if workers is not None and workers < 1:
            raise InputError(f"--workers {workers}: must be at least 1; --workers 1 runs serially")
        if dask_scheduler:
            return cls(kind="dask", address=dask_scheduler)
        if workers == 1:
            return cls(kind=SERIAL, workers=1)
        return cls(kind=PROCESSES, workers=workers)

    def describe(self) -> str:
        if self.kind == "dask":
            return f"dask {self.address}"
        if self.kind == SERIAL:
            return "serial"
        return f"processes x{self.workers or os.cpu_count() or 1}"


def map_replications(
    fn: Callable[..., Any],
    tasks: Sequence[tuple[Any, ...]],
    *,
    executor: ExecutorSpec | None = None,
    progress: bool = True,
    description: str = "replications",
) -> list[Any]:
    """``[fn(*task) for task in tasks]``, run by `executor`, returned in the order of `tasks`.

    `fn` and the tasks must pickle (a module-level function, dataclasses, NumPy arrays). The first
    failing replication stops the run and is re-raised with a note naming its index.
    """
    executor = executor or ExecutorSpec()
    bar = _progress_bar(len(tasks), progress, description)
    try:
        if executor.kind == SERIAL or len(tasks) <= 1:
            return _run_serial(fn, tasks, bar)
        if executor.kind == "dask":
            return _run_dask(fn, tasks, executor.address or "", bar)
        return _run_processes(fn, tasks, executor.workers, bar)
    finally:
        bar.close()


def _progress_bar(total: int, enabled: bool, description: str):
    from tqdm import tqdm

    # A bar only where a person watches: never in logs, pipes or CI output.
    return tqdm(total=total, desc=description, unit="rep", file=sys.stderr,
                disable=not enabled or not sys.stderr.isatty(), leave=False)


def _run_serial(fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], bar) -> list[Any]:
    results = []
    for index, task in enumerate(tasks):
        try:
            results.append(fn(*task))
        except Exception as exc:
            exc.add_note(f"in replication {index}")
            raise
        bar.update(1)
    return results


def _run_processes(fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], workers: int | None, bar) -> list[Any]:
    workers = min(workers or os.cpu_count() or 1, len(tasks))
    # fork: workers inherit the imported modules, so a pool starts in milliseconds, not seconds.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        futures: list[Future] = [pool.submit(fn, *task) for task in tasks]
        index_of = {f: i for i, f in enumerate(futures)}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for f in done:
                exc = f.exception()
                if exc is not None:
                    exc.add_note(f"in replication {index_of[f]}")
                    raise exc
                bar.update(1)
        return [f.result() for f in futures]
    except BaseException:
        # A failure or Ctrl-C: drop the queued replications instead of running them to the end.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)


def _run_dask(fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], address: str, bar) -> list[Any]:
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - dask[distributed] is a dependency
        raise InputError("--dask-scheduler needs dask.distributed: pip install 'dask[distributed]'") from None
    try:
        client = Client(address, timeout=DASK_CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ServiceError(
            f"--dask-scheduler {address}: cannot reach the Dask scheduler ({exc}); start one with "
            f"`dask scheduler` and workers with `dask worker {address}`, or drop the option to run locally"
        ) from None
    try:
        # pure=False: two tasks with equal arguments are still two replications.
        futures = [client.submit(fn, *task, pure=False) for task in tasks]
        index_of = {f.key: i for i, f in enumerate(futures)}
        for f in as_completed(futures, loop=client.loop):
            if f.status == "error":
                exc = f.exception()
                exc.add_note(f"in replication {index_of[f.key]} (on the Dask cluster {address})")
                client.cancel(futures)
                raise exc
            bar.update(1)
        return client.gather(futures)
    finally:
        client.close()


# ---------------------------------------------------------------------------------------------
# Scenario replications
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


def _default_replicate() -> Callable[..., Any]:
    from models.coupled import run_replication_task

    return run_replication_task


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
) -> ReplicationSet:
    """Run `replications` replications of `scenario`; replication i uses child seed i of `seed`.

    `executor` is an `ExecutorSpec`, ``"serial"``, ``"processes"`` or a Dask scheduler address.
    `replicate(scenario, seed_sequence, quick, quality)` runs one replication; by default the
    coupled model (`models.coupled`).
    """
    return run_comparison([scenario], replications, seed, executor=executor, progress=progress,
                          quick=quick, quality=quality, replicate=replicate)[0]


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
) -> list[ReplicationSet]:
    """Run every scenario under common random numbers: replication i of each uses child seed i.

    All scenarios' replications go to the executor as one batch, so a pool stays busy across them.
    """
    spec = _as_spec(executor)
    seeds = spawn_seeds(seed, replications)
    fn = replicate or _default_replicate()
    tasks = [(scenario, child, quick, quality) for scenario in scenarios for child in seeds]
    started = time.perf_counter()
    flat = map_replications(fn, tasks, executor=spec, progress=progress)
    wall = time.perf_counter() - started
    return [
        ReplicationSet(scenario, flat[k * replications:(k + 1) * replications], int(seed), seeds,
                       spec.describe(), wall)
        for k, scenario in enumerate(scenarios)
    ]


def _as_spec(executor: ExecutorSpec | str | None) -> ExecutorSpec:
    if executor is None or isinstance(executor, ExecutorSpec):
        return executor or ExecutorSpec()
    if executor == SERIAL:
        return ExecutorSpec(kind=SERIAL, workers=1)
    if executor == PROCESSES:
        return ExecutorSpec()
    return ExecutorSpec(kind="dask", address=executor)
