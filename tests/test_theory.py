"""The closed forms themselves, against values worked out by hand or published."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from motcua.models.theory import bass_cdf, bass_peak_time, erlang_c, mmc_mean_wait, mmc_wait_quantile


def test_mm1_reduces_to_textbook_formulas():
    lam, mu = 0.8, 1.0
    assert erlang_c(1, lam, mu) == pytest.approx(lam / mu)
    assert mmc_mean_wait(1, lam, mu) == pytest.approx((lam / mu) / (mu - lam))


def test_mm2_known_value():
    # a = 1 erlang on 2 servers: C = 1/3, Wq = C / (2μ − λ) = 1/3
    assert erlang_c(2, 1.0, 1.0) == pytest.approx(1 / 3)
    assert mmc_mean_wait(2, 1.0, 1.0) == pytest.approx(1 / 3)


def _erlang_c_exact(servers: int, load: Fraction) -> Fraction:
    """Erlang C from its textbook sum, in exact rational arithmetic (no recursion, no rounding):
    C = (aᶜ/c!)·c/(c − a) / (Σ_{k<c} aᵏ/k! + (aᶜ/c!)·c/(c − a))."""
    top = load**servers / math.factorial(servers) * servers / (servers - load)
    return top / (sum(load**k / math.factorial(k) for k in range(servers)) + top)


@pytest.mark.parametrize(("servers", "load"), [(300, Fraction(290)), (10, Fraction(17, 2)), (1, Fraction(4, 5))])
def test_erlang_c_matches_the_exact_textbook_sum(servers, load):
    """The Erlang B recursion in floating point against the textbook sum in exact fractions, for hundreds of
    servers near saturation too (where the sum's terms overflow a float)."""
    reference = float(_erlang_c_exact(servers, load))
    assert erlang_c(servers, float(load), 1.0) == pytest.approx(reference, rel=1e-9, abs=0)


def test_erlang_c_is_stable_for_many_servers():
    # 290 erlangs on 300 servers: the exact sum above gives 0.4493598466425404 (written out, so that a change in
    # the reference shows too); the recursion keeps 1e-9 of it where aᶜ/c! alone overflows a float.
    assert erlang_c(300, 290.0, 1.0) == pytest.approx(0.4493598466425404, rel=1e-9, abs=0)


def test_wait_quantile_matches_the_exponential_tail():
    c, lam, mu = 3, 2.4, 1.0
    pw = erlang_c(c, lam, mu)
    t = mmc_wait_quantile(0.95, c, lam, mu)
    assert pw * math.exp(-(c * mu - lam) * t) == pytest.approx(0.05)
    assert mmc_wait_quantile(0.01, c, lam, mu) == 0.0


def test_unstable_queue_is_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"unstable: utilisation .* = 1\.200 >= 1; add servers"):
        erlang_c(2, 2.4, 1.0)
    with pytest.raises(ValueError, match='"servers" must be >= 1, got 0'):
        erlang_c(0, 1.0, 1.0)


def test_bass_cdf_properties():
    p, q = 0.03, 0.38  # the classic published averages (Sultan, Farley and Lehmann 1990)
    t = np.linspace(0, 30, 301)
    f = bass_cdf(t, p, q)
    assert f[0] == 0 and np.all(np.diff(f) > 0) and f[-1] < 1
    # the adoption rate peaks at ln(q/p)/(p+q), where F = (q−p)/(2q)
    assert bass_cdf(bass_peak_time(p, q), p, q) == pytest.approx((q - p) / (2 * q))
    # with q = 0 it is exponential saturation
    assert bass_cdf(2.0, 0.1, 0.0) == pytest.approx(1 - math.exp(-0.2))
