"""The SimPy internals the counter model relies on are still there (``simpy`` is pinned to major version 4 in
pyproject.toml because of them). How the models import one another (no cycles, base modules that know no model,
the counter modules' layers) is checked by import-linter in `make lint` (`[tool.importlinter]` in pyproject.toml)."""

from __future__ import annotations

import itertools

import numpy as np
import simpy
from motcua.models.counters.mmc import _events_scheduled
from motcua.models.counters.officers import _Wake


def test_simpy_is_the_pinned_major_version():
    assert simpy.__version__.split(".")[0] == "4", (
        f"simpy {simpy.__version__}: models/counters relies on SimPy 4 internals (Event._ok/_value, "
        "Environment._eid); check models.counters.officers._Wake and models.counters.mmc, then move the pin")


def test_a_wake_rung_later_resumes_its_officer_once_with_its_value():
    """`_Wake.ring_after` triggers an event some minutes ahead as `Timeout.__init__` does (``_ok``, ``_value``,
    `Environment.schedule`): the process waiting on it resumes at that minute with the value, and the
    public properties agree."""
    env = simpy.Environment()
    wake = _Wake(env)
    seen = []

    def officer():
        value = yield wake
        seen.append((env.now, value))

    env.process(officer())
    env.run(until=1)
    assert not wake.triggered
    wake.ring_after(4.5, "citizen 7")
    assert wake.triggered and wake.ok and wake.value == "citizen 7"
    env.run()
    assert seen == [(5.5, "citizen 7")]
    assert wake.processed


def test_events_scheduled_counts_every_scheduled_event():
    """`_events_scheduled` reads SimPy's event-id counter: one id per scheduled event."""
    env = simpy.Environment()
    assert isinstance(env._eid, itertools.count)
    for delay in np.arange(5.0):
        env.timeout(delay)
    env.run()
    assert _events_scheduled(env) == 5


