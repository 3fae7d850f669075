"""Where replications run: this process, a local pool of processes, or a Dask cluster.

Generic: `map_replications(fn, tasks, executor=…)` runs any picklable function over a list of tasks; it
knows no model (`models.replications.run_comparison` hands it the coupled model, or the `replicate`
function it is given). Results come back in task order, never in completion order,
so the same seed gives the same results whichever executor ran them and however many workers it had.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Protocol

from motcua.errors import InputError, ServiceError

DASK_CONNECT_TIMEOUT = "10s"
"""How long to try reaching a Dask scheduler before giving up."""

SERIAL = "serial"
PROCESSES = "processes"

PROGRESS_FILE_ENV = "MOTCUA_PROGRESS_FILE"
"""When this environment variable names a file, `map_replications` also appends ``<finished> <total>`` lines to it
(``0 <total>`` when a batch starts, then one line per finished replication): the progress hook a supervising process
such as ``motcua studio`` reads, whether or not a progress bar is shown."""


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
    return start_replications(fn, tasks, executor=executor).results(progress=progress, description=description)


def start_replications(
    fn: Callable[..., Any],
    tasks: Sequence[tuple[Any, ...]],
    *,
    executor: ExecutorSpec | None = None,
    nice: int = 0,
) -> PendingReplications:
    """Start ``[fn(*task) for task in tasks]`` and return at once; `PendingReplications.results` collects them.

    On a local pool the replications run while the caller does something else (`motcua run` starts the
    interventions' runs before its load test, which mostly waits on the network); `nice` lowers the workers'
    priority (``os.nice``) so they take only the CPU the caller leaves. Serial and Dask runs start when
    `results` is called. Results are the same as `map_replications`' whichever way they ran.
    """
    executor = executor or ExecutorSpec()
    if executor.kind != PROCESSES or len(tasks) <= 1:
        return PendingReplications(fn, tasks, executor)
    workers = min(executor.workers or os.cpu_count() or 1, len(tasks))
    # fork: workers inherit the imported modules, so a pool starts in milliseconds, not seconds.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_lower_priority, initargs=(nice,))
    try:
        futures = [pool.submit(fn, *task) for task in tasks]
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    return PendingReplications(fn, tasks, executor, pool=pool, futures=futures)


def _lower_priority(nice: int) -> None:
    """A pool worker's first act: add `nice` to its niceness (0 leaves it as it is)."""
    if nice:
        os.nice(nice)


class PendingReplications:
    """Replications handed to an executor: already running on a local pool, or run when collected."""

    def __init__(self, fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], executor: ExecutorSpec, *,
                 pool: ProcessPoolExecutor | None = None, futures: list[Future] | None = None) -> None:
        self.fn, self.tasks, self.executor = fn, tasks, executor
        self.pool, self.futures = pool, futures
        self.finished_at: float | None = None
        """`time.perf_counter()` when the last replication finished (set by `results`)."""
        for f in futures or []:
            f.add_done_callback(self._finished)

    def _finished(self, _future: Future) -> None:
        self.finished_at = time.perf_counter()

    def results(self, *, progress: bool = True, description: str = "replications") -> list[Any]:
        """The results in the order of the tasks, once all have finished (a progress bar ticks as they do)."""
        bar = _progress_bar(len(self.tasks), progress, description)
        try:
            if self.pool is not None and self.futures is not None:
                return _collect(self.pool, self.futures, bar)
            if self.executor.kind == SERIAL or len(self.tasks) <= 1:
                results = _run_serial(self.fn, self.tasks, bar)
            elif self.executor.kind == "dask":
                results = _run_dask(self.fn, self.tasks, self.executor.address or "", bar)
            else:  # pragma: no cover - `start_replications` gave local pools their futures
                raise AssertionError(f"unknown executor {self.executor.kind!r}")
            self.finished_at = time.perf_counter()
            return results
        finally:
            bar.close()

    def cancel(self) -> None:
        """Drop the replications not started yet and let the pool go (nothing to do when none was started)."""
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


class Progress(Protocol):
    """What the runners use of a progress bar (tqdm's): one tick per finished replication."""

    def update(self, n: float = 1) -> object: ...
    def close(self) -> None: ...


def _progress_bar(total: int, enabled: bool, description: str) -> Progress:
    from tqdm import tqdm

    # A bar only where a person watches: never in logs, pipes or CI output.
    bar = tqdm(total=total, desc=description, unit="rep", file=sys.stderr,
               disable=not enabled or not sys.stderr.isatty(), leave=False)
    listener = os.environ.get(PROGRESS_FILE_ENV)
    return _ProgressFile(bar, listener, total) if listener else bar


class _ProgressFile:
    """A progress bar that also appends ``<finished> <total>`` lines to the file of `PROGRESS_FILE_ENV`."""

    def __init__(self, bar: Progress, path: str, total: int) -> None:
        self.bar, self.total, self.done = bar, total, 0
        self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self._write()

    def _write(self) -> None:
        self.file.write(f"{self.done} {self.total}\n")
        self.file.flush()

    def update(self, n: float = 1) -> object:
        self.done += int(n)
        self._write()
        return self.bar.update(n)

    def close(self) -> None:
        self.bar.close()
        self.file.close()


def _run_serial(fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], bar: Progress) -> list[Any]:
    results = []
    for index, task in enumerate(tasks):
        try:
            results.append(fn(*task))
        except Exception as exc:
            exc.add_note(f"in replication {index}")
            raise
        bar.update(1)
    return results


def _collect(pool: ProcessPoolExecutor, futures: list[Future], bar: Progress) -> list[Any]:
    """The futures' results in submission order, ticking `bar` as each finishes; the pool is shut down after."""
    try:
        index_of = {f: i for i, f in enumerate(futures)}
        pending = set(futures)
        while pending:
            # one at a time as they finish, so the progress moves (FIRST_EXCEPTION waited for all of them)
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
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


def _run_dask(fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], address: str, bar: Progress) -> list[Any]:
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
                failure = f.exception()
                failure.add_note(f"in replication {index_of[f.key]} (on the Dask cluster {address})")
                client.cancel(futures)
                raise failure
            bar.update(1)
        return client.gather(futures)
    finally:
        client.close()


def _as_spec(executor: ExecutorSpec | str | None) -> ExecutorSpec:
    if executor is None or isinstance(executor, ExecutorSpec):
        return executor or ExecutorSpec()
    if executor == SERIAL:
        return ExecutorSpec(kind=SERIAL, workers=1)
    if executor == PROCESSES:
        return ExecutorSpec()
    return ExecutorSpec(kind="dask", address=executor)
