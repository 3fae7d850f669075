"""Replications: confidence intervals against known values, seeds, executors, common random numbers.

The replication function here is a small stand-in (an M/M/1 queue by the Lindley recursion), so
that these tests check the machinery alone; tests/test_coupled.py runs the real coupled model.
"""

from __future__ import annotations

import dataclasses
import io
import sys

import numpy as np
import pytest
from motcua.models.replications import (
    Estimate,
    ExecutorSpec,
    child_seed,
    json_number,
    map_replications,
    mean_ci,
    paired_difference,
    proportion_ci,
    run_comparison,
    run_replications,
    spawn_seeds,
    start_comparison,
)
from scipy import stats

from motcua.errors import InputError, ServiceError


@dataclasses.dataclass(frozen=True)
class QueueScenario:
    """Stand-in scenario: an M/M/1 queue with arrival rate `arrival_rate` and service rate 1."""

    arrival_rate: float


def mm1_mean_wait(scenario: QueueScenario, seed: np.random.SeedSequence, quick: bool, quality: object) -> float:
    """Stand-in replication: mean wait of 2,000 customers of an M/M/1 queue (Lindley recursion).

    Inter-arrival and service times come from separate sub-streams, as in the coupled model, so
    that under common random numbers two arrival rates see the same service times.
    """
    arrivals = np.random.default_rng(child_seed(seed, 0)).standard_exponential(2000) / scenario.arrival_rate
    services = np.random.default_rng(child_seed(seed, 1)).standard_exponential(2000)
    wait, total = 0.0, 0.0
    for gap, service in zip(arrivals[1:], services[:-1], strict=True):
        wait = max(0.0, wait + service - gap)
        total += wait
    return total / 1999


def failing_replication(scenario: QueueScenario, seed: np.random.SeedSequence, quick: bool, quality: object) -> float:
    if seed.spawn_key[-1] == 2:
        raise RuntimeError("boom")
    return 0.0


# --- confidence intervals ------------------------------------------------------------------------
def test_mean_ci_matches_student_t_known_values():
    est = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    # mean 3, s = sqrt(2.5), t_{0.975, 4} = 2.776445 → half-width 1.963243
    assert est.mean == pytest.approx(3.0)
    assert est.high - est.mean == pytest.approx(1.963243, abs=1e-6)
    assert est.low == pytest.approx(3.0 - 1.963243, abs=1e-6)
    low, high = stats.t.interval(0.95, 4, loc=3.0, scale=stats.sem([1, 2, 3, 4, 5]))
    assert (est.low, est.high) == pytest.approx((low, high))


def test_mean_ci_per_element_ignores_missing_replications():
    samples = np.array([[1.0, np.nan], [2.0, 5.0], [3.0, np.nan]])
    est = mean_ci(samples)
    assert list(est.n) == [3, 1]
    assert est.mean[1] == 5.0
    assert np.isnan(est.low[1]) and np.isnan(est.high[1])  # one value gives no interval
    assert est.to_json()["low"][1] is None  # and JSON says null, never NaN


def test_mean_ci_cut_to_bounds():
    shares = [0.0, 0.0, 0.01]
    assert mean_ci(shares).low < 0  # the t interval alone leaves 0–1
    est = mean_ci(shares, bounds=(0.0, 1.0))
    assert est.low == 0.0 and est.high == mean_ci(shares).high and est.mean == pytest.approx(0.01 / 3)


def test_wilson_interval_known_values():
    none = proportion_ci(0, 20)
    assert none.mean == 0 and none.low == 0
    assert none.high == pytest.approx(0.16113, abs=1e-5)  # 95% Wilson upper bound for 0 of 20
    half = proportion_ci(10, 20)
    assert (half.low, half.high) == pytest.approx((0.29930, 0.70070), abs=1e-5)


def test_paired_difference_is_mean_ci_of_differences():
    a, b = np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.5, 5.5])
    assert paired_difference(a, b) == mean_ci(b - a)
    with pytest.raises(ValueError, match="same shape"):
        paired_difference(a, b[:2])


def test_json_number_writes_null_for_nan_and_rounds():
    assert json_number([1.23456789, float("nan"), float("inf")], 3) == [1.235, None, None]
    assert Estimate(2.0, 1.0, 3.0, 7).to_json() == {"mean": 2.0, "low": 1.0, "high": 3.0, "n": 7}


# --- seeds and executors --------------------------------------------------------------------------
def test_seed_and_replication_count_are_validated():
    with pytest.raises(InputError, match=r"--replications 0: must be at least 1"):
        spawn_seeds(1, 0)
    with pytest.raises(InputError, match=r"--seed -3: must be a non-negative integer"):
        spawn_seeds(-3, 2)
    with pytest.raises(InputError, match=r"--workers 0: must be at least 1"):
        ExecutorSpec.from_options(workers=0)


def test_child_seed_does_not_depend_on_earlier_spawns():
    seed = spawn_seeds(11, 3)[1]
    before = child_seed(seed, 0).generate_state(4)
    seed.spawn(5)  # a careless spawn on the shared object must not shift the children
    assert (child_seed(seed, 0).generate_state(4) == before).all()
    assert not (child_seed(seed, 1).generate_state(4) == before).all()


def test_same_seed_same_results_and_other_seed_other_results():
    scenario = QueueScenario(0.7)
    first = run_replications(scenario, 4, 2024, executor="serial", replicate=mm1_mean_wait, progress=False)
    again = run_replications(scenario, 4, 2024, executor="serial", replicate=mm1_mean_wait, progress=False)
    other = run_replications(scenario, 4, 2025, executor="serial", replicate=mm1_mean_wait, progress=False)
    assert first.results == again.results
    assert len(set(first.results)) == 4  # replications are not copies of each other
    assert set(first.results).isdisjoint(other.results)


def test_serial_processes_and_dask_give_identical_results():
    from distributed import LocalCluster

    scenario = QueueScenario(0.8)
    serial = run_replications(scenario, 6, 7, executor=ExecutorSpec(kind="serial"), replicate=mm1_mean_wait,
                              progress=False)
    processes = run_replications(scenario, 6, 7, executor=ExecutorSpec(workers=2), replicate=mm1_mean_wait,
                                 progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, host="127.0.0.1", protocol="tcp://",
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        dask = run_replications(scenario, 6, 7, executor=cluster.scheduler_address, replicate=mm1_mean_wait,
                                progress=False)
    assert serial.results == processes.results == dask.results
    assert processes.executor == "processes x2" and dask.executor.startswith("dask tcp://127.0.0.1:")


def worker_niceness(scenario: QueueScenario, seed: np.random.SeedSequence, quick: bool, quality: object) -> int:
    import os

    return os.nice(0)


def test_a_started_comparison_split_into_batches_gives_the_sets_of_one_batch():
    """`motcua run` starts the interventions' plans beside its load test and the baseline alone: a replication
    depends on its scenario and seed only, so the split changes no figure."""
    plans = [QueueScenario(0.6), QueueScenario(0.7), QueueScenario(0.8)]
    whole = run_comparison(plans, 4, 11, executor="serial", replicate=mm1_mean_wait, progress=False)
    later = start_comparison(plans[1:], 4, 11, executor=ExecutorSpec(workers=2), replicate=mm1_mean_wait, nice=3)
    first = start_comparison(plans[:1], 4, 11, executor=ExecutorSpec(workers=2), replicate=mm1_mean_wait)
    split = first.wait(progress=False) + later.wait(progress=False)
    assert [r.results for r in split] == [r.results for r in whole]
    assert [r.scenario for r in split] == plans and split[1].executor == "processes x2"
    assert 0 < split[1].wall_s == split[2].wall_s


def test_started_replications_run_at_the_niceness_asked_and_serial_ones_when_collected():
    import os

    tasks = [(QueueScenario(0.5), s, False, None) for s in spawn_seeds(5, 2)]
    mine = os.nice(0)
    pool = start_comparison([QueueScenario(0.5)], 2, 5, executor=ExecutorSpec(workers=2), replicate=worker_niceness,
                            nice=4)
    assert pool.wait(progress=False)[0].results == [min(mine + 4, 19)] * 2
    assert map_replications(worker_niceness, tasks, executor=ExecutorSpec(workers=2), progress=False) == [mine] * 2
    serial = start_comparison([QueueScenario(0.5)], 2, 5, executor="serial", replicate=worker_niceness, nice=4)
    assert serial.pending.finished_at is None  # nothing ran yet: serial replications run when collected
    assert serial.wait(progress=False)[0].results == [mine] * 2  # this process is never reniced
    assert serial.pending.finished_at is not None


def test_cancelled_started_replications_leave_no_pool_behind():
    started = start_comparison([QueueScenario(0.5)], 4, 5, executor=ExecutorSpec(workers=2),
                               replicate=mm1_mean_wait)
    started.cancel()
    assert started.pending.pool is not None
    with pytest.raises(RuntimeError, match="after shutdown"):
        started.pending.pool.submit(mm1_mean_wait, QueueScenario(0.5), spawn_seeds(5, 1)[0], False, None)


def test_a_failing_replication_is_reported_with_its_index():
    for executor in ("serial", ExecutorSpec(workers=2)):
        with pytest.raises(RuntimeError, match="boom") as info:
            run_replications(QueueScenario(0.5), 4, 1, executor=executor, replicate=failing_replication,
                             progress=False)
        assert "in replication 2" in info.value.__notes__


def test_unreachable_dask_scheduler_names_the_option(monkeypatch):
    import socket

    with socket.socket() as sock:  # a free loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr("motcua.models.replications.DASK_CONNECT_TIMEOUT", "1s")
    with pytest.raises(ServiceError, match=rf"--dask-scheduler tcp://127.0.0.1:{port}: cannot reach"):
        map_replications(mm1_mean_wait, [(QueueScenario(0.5), s, False, None) for s in spawn_seeds(1, 2)],
                         executor=ExecutorSpec(kind="dask", address=f"tcp://127.0.0.1:{port}"), progress=False)


# --- common random numbers ---------------------------------------------------------------------------
def test_common_random_numbers_shrink_the_variance_of_a_difference():
    """Replication i of both scenarios shares its seed; the paired differences must vary far less
    than differences of independent runs (F test on the two variances, one-sided, 1% level)."""
    low, high = QueueScenario(0.60), QueueScenario(0.65)
    n = 24
    crn = run_comparison([low, high], n, 99, executor="serial", replicate=mm1_mean_wait, progress=False)
    independent_high = run_replications(high, n, 100, executor="serial", replicate=mm1_mean_wait, progress=False)
    a = np.array(crn[0].results)
    d_crn = np.array(crn[1].results) - a
    d_ind = np.array(independent_high.results) - a
    f_stat = d_ind.var(ddof=1) / d_crn.var(ddof=1)
    p_value = stats.f.sf(f_stat, n - 1, n - 1)
    assert p_value < 0.01, f"F = {f_stat:.2f}, p = {p_value:.3g}"
    # Both estimate the same effect: a busier queue waits longer (theory: 1.5 → 1.857 for M/M/1).
    assert paired_difference(a, np.array(crn[1].results)).low > 0


# --- progress bar ---------------------------------------------------------------------------------------
class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(monkeypatch, capsys):
    tasks = [(QueueScenario(0.5), s, False, None) for s in spawn_seeds(3, 3)]
    map_replications(mm1_mean_wait, tasks, executor=ExecutorSpec(kind="serial"), progress=True)
    assert capsys.readouterr().err == ""  # stderr is not a terminal under pytest: no bar in logs
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    map_replications(mm1_mean_wait, tasks, executor=ExecutorSpec(kind="serial"), progress=True)
    assert "replications:" in terminal.getvalue() and "/3 [" in terminal.getvalue()
    quiet = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    map_replications(mm1_mean_wait, tasks, executor=ExecutorSpec(kind="serial"), progress=False)  # --quiet
    assert quiet.getvalue() == ""


def test_settle_replications_defaults_caps_and_refusals():
    from types import SimpleNamespace

    from motcua.models.replications import settle_replications

    scenario = SimpleNamespace(simulation=SimpleNamespace(replications=20, seed=2024))
    assert settle_replications(scenario, None, None, quick_replications=3) == (20, 2024)
    assert settle_replications(scenario, None, 7, quick=True, quick_replications=3) == (3, 7)
    assert settle_replications(scenario, 5, None, quick=True, quick_replications=3) == (5, 2024)
    with pytest.raises(InputError, match=r"--replications 1: must be at least 2 \(for CIs\); e.g. --replications 3"):
        settle_replications(scenario, 1, None, quick_replications=3, minimum=2, why=" (for CIs)")
    with pytest.raises(InputError, match=r"--seed -1: must be a non-negative integer"):
        settle_replications(scenario, None, -1, quick_replications=3)
