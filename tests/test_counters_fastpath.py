"""The counter model's speed tricks (`models.counters.fastpath`) against the SimPy internals they use, and
against the plain ways they replace. If SimPy changes one of those internals, a test here fails naming it (``simpy``
is pinned to major version 4 in pyproject.toml because of them). How the models import one another (no cycles,
base modules that know no model, the counter modules' layers) is checked by import-linter in `make lint`
(`[tool.importlinter]` in pyproject.toml)."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest
import simpy
from motcua.models.counters import CounterParams, OneStopShop, Visit, fastpath, simulate_mmc
from motcua.models.counters.fastpath import TimedEvent, check_simpy_internals, events_scheduled, new_tuples

MONDAY = dt.date(2024, 3, 4)


def test_simpy_is_the_pinned_major_version():
    assert simpy.__version__.split(".")[0] == "4", (
        f"simpy {simpy.__version__}: models/counters/fastpath.py relies on SimPy 4 internals (Event._ok/_value, "
        "Environment._queue/_eid/_now); check it, then move the pin")


def test_simpy_internals_are_as_the_fast_path_expects():
    check_simpy_internals()  # raises RuntimeError naming the changed internal
    env = simpy.Environment()
    assert isinstance(env._queue, list), "Environment._queue is no longer a list (the fast path heappushes onto it)"
    assert isinstance(env._eid, itertools.count), "Environment._eid is no longer an itertools.count"
    assert isinstance(env._now, (int, float)), "Environment._now is no longer the clock"


def test_the_internals_check_names_what_changed(monkeypatch):
    monkeypatch.setattr(simpy.Environment, "schedule", lambda self, event, priority=1, delay=0: None)
    with pytest.raises(RuntimeError, match=r"changed internals that models/counters/fastpath\.py uses: "
                                           r"Environment\._queue is \[\], expected"):
        check_simpy_internals()


def test_an_event_triggered_ahead_resumes_its_process_once_with_its_value():
    """`TimedEvent.succeed_after` triggers an event some minutes ahead as `Timeout.__init__` does: the process
    waiting on it resumes at that minute with the value, and the public properties agree."""
    env = simpy.Environment()
    wake = TimedEvent(env)
    seen = []

    def officer():
        value = yield wake
        seen.append((env.now, value))

    env.process(officer())
    env.run(until=1)
    assert not wake.triggered
    wake.succeed_after(4.5, "citizen 7")
    assert wake.triggered and wake.ok and wake.value == "citizen 7"
    env.run()
    assert seen == [(5.5, "citizen 7")]
    assert wake.processed


def test_events_scheduled_counts_every_scheduled_event():
    env = simpy.Environment()
    for delay in np.arange(5.0):
        env.timeout(delay)
    env.run()
    assert events_scheduled(env) == 5


def test_tuples_built_in_c_equal_the_named_tuples_constructor():
    rows = [(1, 0, 8.5, 4.0, 15.0, None, 0.3, 1, 0), (2, 3, 0.0, 0.0, 12.0, 40.0, -1.0, 1, 1)]
    fast = new_tuples(Visit, rows)
    with fastpath.plain_path():
        plain = new_tuples(Visit, rows)
    assert fast == plain == [Visit(*row) for row in rows]
    assert all(type(v) is Visit for v in fast + plain)


def _traced_week(params: CounterParams) -> tuple[list[tuple[str, str, float]], list[float], tuple[int, ...]]:
    env = simpy.Environment()
    trace: list[tuple[str, str, float]] = []
    shop = OneStopShop(env, params, np.random.default_rng(5), start=MONDAY, online_share=lambda: 0.2, trace=trace)
    env.run(until=7 * 1440)
    return trace, list(shop.waits), (shop.served, shop.balked, shop.reneged, shop.sent_home, shop.guided,
                                     events_scheduled(env))


def test_the_fast_path_gives_the_plain_paths_trace_event_for_event():
    """A busy week of a shop with breaks, balking, reneging and guidance: the same (actor, action, minute) trace,
    waits, counts and number of SimPy events with the fast paths and with the plain ones."""
    params = CounterParams(officers=2, fee_dossiers_per_day=45.0, free_dossiers_per_day=15.0,
                           help_seekers_per_day=4.0, receive_minutes=8.0, cash_minutes=4.0, qr_minutes=1.0,
                           guidance_minutes=15.0, guide_share=0.3, patience_minutes=45.0, balk_queue=6)
    fast = _traced_week(params)
    with fastpath.plain_path():
        plain = _traced_week(params)
    assert TimedEvent.succeed_after is not fastpath._succeed_after_plain  # restored on leaving the block
    assert len(fast[0]) > 500 and {"balks", "gives up", "goes on break", "leaves served"} <= {a for _, a, _ in fast[0]}
    assert fast == plain


def test_the_fast_path_gives_the_plain_paths_mmc_run():
    fast = simulate_mmc(3, 2.4, 1.0, 3000, np.random.default_rng(8))
    with fastpath.plain_path():
        plain = simulate_mmc(3, 2.4, 1.0, 3000, np.random.default_rng(8))
    assert np.array_equal(fast.waits, plain.waits) and fast.events == plain.events
