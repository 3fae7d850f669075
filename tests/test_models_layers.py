"""The models package imports one way (no cycles), and the SimPy internals the counter model relies on are
still there (``simpy`` is pinned to major version 4 in pyproject.toml because of them)."""

from __future__ import annotations

import itertools

import grimp
import numpy as np
import pytest
import simpy
from motcua.models.counters.mmc import _events_scheduled
from motcua.models.counters.officers import _Wake

BASE = ("motcua.models.streams", "motcua.models.executor", "motcua.models.scenario_edit", "motcua.models.theory")
"""Modules that know no model: they must not import the adoption, counter or coupled models."""
MODELS = ("motcua.models.adoption", "motcua.models.counters", "motcua.models.coupled", "motcua.models.replications", "motcua.models.calibration")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("models", exclude_type_checking_imports=True)


def test_no_import_cycle_in_models(graph):
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                cycles.append((importer, *back))
    assert cycles == [], f"import cycles in models/: {cycles}"


def test_the_replication_layers_run_one_way(graph):
    for low, high in itertools.product(BASE, MODELS):
        chain = graph.find_shortest_chain(importer=low, imported=high)
        assert chain is None, f"{low} must not import {high}, but {' -> '.join(chain or ())}"
    # One replication does not know how replications are run or summarised.
    for high in ("motcua.models.replications", "motcua.models.executor"):
        assert graph.find_shortest_chain(importer="motcua.models.coupled", imported=high) is None


def test_a_cycle_would_be_found():
    """The cycle test can fail: the graph of a made-up two-module cycle has a chain both ways."""
    toy = grimp.ImportGraph()
    toy.add_import(importer="pkg.a", imported="pkg.b")
    toy.add_import(importer="pkg.b", imported="pkg.a")
    assert toy.find_shortest_chain(importer="pkg.b", imported="pkg.a") == ("pkg.b", "pkg.a")


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


COUNTER_LAYERS = ("params", ("arrivals", "books"), "officers", "shop", ("mmc", "example"))
"""The counter model's modules from the bottom up: each imports only modules of the layers below it."""


def test_the_counter_modules_are_layered(graph):
    layers = [(name,) if isinstance(name, str) else name for name in COUNTER_LAYERS]
    for level, modules in enumerate(layers):
        above = [f"motcua.models.counters.{m}" for layer in layers[level:] for m in layer]
        for module in modules:
            imported = graph.find_modules_directly_imported_by(f"motcua.models.counters.{module}")
            wrong = sorted(set(imported) & (set(above) - {f"motcua.models.counters.{module}"}))
            assert wrong == [], f"motcua.models.counters.{module} imports {wrong}, which sit on its own layer or above"
