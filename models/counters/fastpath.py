"""The counter model's speed tricks, fenced: the only code of the model that leans on SimPy's internals or on
CPython tricks. Everything else uses SimPy's public API and plain Python.

*Why.* A realistic year of one shop schedules about one SimPy event per visit (the end of its service), so what
each event and each visit costs in Python adds up:

- `TimedEvent.succeed_after` triggers an event some minutes ahead, as ``simpy.Timeout.__init__`` does (it sets
  ``Event._ok`` and ``Event._value``), but pushes the queue entry straight onto ``Environment._queue`` with the
  next id of ``Environment._eid`` instead of calling ``Environment.schedule`` (one Python call less per service);
- `new_tuples` builds the day's `Visit` named tuples with ``tuple.__new__`` mapped in C, instead of calling the
  named tuple's Python ``__new__`` once per visit;
- `events_scheduled` reads the number of events an environment has scheduled from ``Environment._eid``.

*What they buy* (``benchmarks/bench_counters.py``, which times the model with these paths and
with the plain ones, `plain_path`, in the same run; 2-core shared machine, SimPy 4.1.2, CPython 3.11):
best of 7 alternating runs, the M/M/5 of 100,000 customers took 0.618 s with these paths and 0.657 s without
(6% faster), a realistic shop over 1,500 days (4 officers, ~90 visits a day) 0.846 s against 0.876 s (3.5%);
the medians of the same runs were within the machine's noise of each other (0.692 / 0.689 s, 1.12 / 1.00 s).
The benchmark's own line (``fastpath_gain``, ``realistic_fastpath_gain``) gave −1.3% and +16.5% on shorter
runs: noise. So the gain is a few percent at most; if SimPy changes these internals, drop the fast paths
(the plain ones give the same results, event for event) rather than port them.

*The fence.* ``tests/test_counters_fastpath.py`` fails with a message naming the internal if SimPy changes one
(`check_simpy_internals`), and checks that traced shop days are the same, event for event, on both paths.
``simpy`` is pinned to major version 4 in pyproject.toml because of them.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Iterator
from heapq import heappush
from typing import Any, TypeVar

import simpy
from simpy.events import NORMAL, PENDING

T = TypeVar("T", bound=tuple[Any, ...])


class TimedEvent(simpy.Event):
    """A SimPy event that can be triggered some time ahead, as a `simpy.Timeout` is."""

    def succeed_after(self, delay: float, value: object) -> None:
        """Trigger this event `delay` time units from now with `value` (= ``env.schedule(self, NORMAL, delay)``
        after marking it a success, without the method call: SimPy 4's queue entry, pushed directly)."""
        self._ok = True
        self._value = value
        env = self.env
        heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), self))


def _succeed_after_plain(self: TimedEvent, delay: float, value: object) -> None:
    """`TimedEvent.succeed_after` the plain way: SimPy's own ``Environment.schedule``, as ``Timeout`` calls it."""
    self._ok = True
    self._value = value
    self.env.schedule(self, NORMAL, delay)


_plain = False
"""True within `plain_path`."""


def new_tuples(cls: type[T], rows: Iterable[Iterable[Any]]) -> list[T]:
    """``[cls(*row) for row in rows]`` for a named tuple `cls`, built in C: its fields are not checked or
    defaulted, so every row must give every field in order."""
    if _plain:
        return [cls(*row) for row in rows]
    return list(map(tuple.__new__, itertools.repeat(cls), rows))


def events_scheduled(env: simpy.Environment) -> int:
    """Events `env` has scheduled so far (SimPy numbers them from a counter; reading it uses up one id,
    harmless at the end of a run)."""
    return next(env._eid)


@contextlib.contextmanager
def plain_path() -> Iterator[None]:
    """Within this block the model takes the plain ways instead of the fast ones (for the test that compares
    them and the benchmark that times them; it changes module state, so not while another thread simulates)."""
    global _plain
    fast_succeed = TimedEvent.succeed_after
    TimedEvent.succeed_after = _succeed_after_plain  # type: ignore[method-assign]
    _plain = True
    try:
        yield
    finally:
        TimedEvent.succeed_after = fast_succeed  # type: ignore[method-assign]
        _plain = False


def check_simpy_internals() -> None:
    """Raise `RuntimeError` naming what changed if SimPy's internals the fast paths use no longer look as they
    do in SimPy 4: ``Environment._queue`` a heap list of (time, priority, id, event) entries, ``Environment._eid``
    an `itertools.count`, ``Environment._now`` the clock, ``Event._value`` ``PENDING`` until an event is
    triggered and ``Event._ok``/``_value`` what triggering sets."""
    env = simpy.Environment()
    event = simpy.Event(env)
    problems = []
    if getattr(event, "_value", None) is not PENDING:
        problems.append("an untriggered Event's _value is not simpy.events.PENDING")
    event.succeed("probe")
    if getattr(event, "_ok", None) is not True or getattr(event, "_value", None) != "probe":
        problems.append("Event.succeed no longer sets Event._ok and Event._value")
    queue = getattr(env, "_queue", None)
    if not (isinstance(queue, list) and len(queue) == 1 and isinstance(queue[0], tuple) and len(queue[0]) == 4):
        problems.append(f"Environment._queue is {queue!r}, expected a list of (time, priority, id, event) tuples")
    elif queue[0][:2] != (0, NORMAL) or queue[0][3] is not event:
        problems.append(f"Environment._queue's entry {queue[0]!r} is not (time, NORMAL, id, event)")
    if not isinstance(getattr(env, "_eid", None), itertools.count):
        problems.append(f"Environment._eid is {getattr(env, '_eid', None)!r}, expected an itertools.count")
    if getattr(env, "_now", None) != env.now:
        problems.append("Environment._now is not the clock Environment.now reads")
    if problems:
        raise RuntimeError(
            f"simpy {simpy.__version__} changed internals that models/counters/fastpath.py uses: "
            + "; ".join(problems)
            + ". Run the plain path (fastpath.plain_path) or port the fast path, then move the simpy pin.")
