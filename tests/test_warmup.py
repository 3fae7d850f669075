"""MSER-5, the warm-up chosen from the data (`motcua.models.warmup`), and its use in the Erlang C check.

On synthetic series with a known transient the rule cuts near its end and leaves a stationary series alone;
on the counter model run as M/M/c from an empty start its truncated mean agrees with Erlang C.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from motcua.models.counters import simulate_mmc
from motcua.models.warmup import mser5

from motcua.commands.validate import compare_erlang_c, erlang_verdict


def test_a_transient_is_cut_near_its_end_and_a_stationary_series_is_left_alone():
    rng = np.random.default_rng(7)
    series = rng.normal(0.0, 1.0, 10_000)
    series[:1000] += np.linspace(-6.0, 0.0, 1000)  # an empty queue filling up over 1,000 observations
    cut = mser5(series)
    assert 500 <= cut.discarded <= 1200 and cut.discarded % 5 == 0 and not cut.at_bound
    assert mser5(rng.normal(0.0, 1.0, 10_000)).discarded <= 500


def test_a_series_that_never_settles_is_cut_at_the_bound_and_says_so():
    trend = np.linspace(0.0, 10.0, 2_000) + np.random.default_rng(1).normal(0, 0.1, 2_000)
    cut = mser5(trend)
    assert cut.at_bound and cut.discarded == 1_000


def test_too_short_a_series_is_refused():
    with pytest.raises(ValueError, match="at least 20 observations, got 12"):
        mser5(np.zeros(12))


def test_the_mmc_harness_measures_what_mser5_leaves():
    run = simulate_mmc(2, 1.8, 1.0, 20_000, np.random.default_rng(3), warmup="mser5")
    assert run.customers + run.warmup == 20_000 and run.waits.size == run.customers
    fixed = simulate_mmc(2, 1.8, 1.0, 20_000, np.random.default_rng(3), warmup=700)
    assert fixed.warmup == 700 and fixed.customers == 20_000
    with pytest.raises(ValueError, match='"warmup" must be >= 0 or "mser5", got \'auto\''):
        simulate_mmc(2, 1.8, 1.0, 100, np.random.default_rng(3), warmup="auto")  # type: ignore[arg-type]


def test_erlang_c_holds_with_the_warm_up_chosen_by_mser5():
    result = compare_erlang_c(3, 2.4, 1.0, 30_000, 6, seed=11, warmup="mser5")
    agrees, reason = erlang_verdict(result, 0.02)
    assert agrees, reason
    assert len(result["warmup"]) == 6 and result["warmup_at_bound"] == 0


def test_validate_takes_mser5_and_names_a_bad_warm_up():
    base = [sys.executable, "-m", "motcua.cli", "validate", "erlang-c", "--servers", "2", "--arrival-rate", "1.2",
            "--service-rate", "1", "--customers", "4000", "--replications", "3"]
    ok = subprocess.run([*base, "--warmup", "mser5"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "warm-up: chosen by MSER-5" in ok.stdout and "of 4,000 per replication" in ok.stdout
    bad = subprocess.run([*base, "--warmup", "auto"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--warmup: 'auto': give a number of customers (e.g. 500) or mser5" in bad.stderr
