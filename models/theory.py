"""Closed forms that the models are checked against.

- Erlang C: the M/M/c queue (Poisson arrivals at rate λ, exponential service at rate μ per
  server, c servers, infinite waiting room, no balking). The counter model must reproduce its
  mean wait when its realism is switched off.
- Bass diffusion: F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p) e^{−(p+q)t}), the adopted share at time t
  with innovation coefficient p and imitation coefficient q. The adoption model must reduce to it
  with barriers off and constant outreach effort.
"""

from __future__ import annotations

import math

import numpy as np


def _check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f'"{name}" must be > 0, got {value!r}')


def erlang_c(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Probability that an arriving customer waits (all `servers` busy) in M/M/c.

    Computed through the Erlang B recursion, which is stable for hundreds of servers.
    """
    if servers < 1:
        raise ValueError(f'"servers" must be >= 1, got {servers!r}')
    _check_positive("arrival_rate", arrival_rate)
    _check_positive("service_rate", service_rate)
    load = arrival_rate / service_rate  # offered load a = λ/μ, in erlangs
    rho = load / servers
    if rho >= 1:
        raise ValueError(
            f"the queue is unstable: utilisation λ/(cμ) = {rho:.3f} >= 1; add servers or lower the arrival rate"
        )
    erlang_b = 1.0
    for k in range(1, servers + 1):
        erlang_b = load * erlang_b / (k + load * erlang_b)
    return erlang_b / (1 - rho + rho * erlang_b)


def mmc_mean_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time in queue Wq of M/M/c, in the time unit of the rates."""
    return erlang_c(servers, arrival_rate, service_rate) / (servers * service_rate - arrival_rate)


def mmc_wait_quantile(q: float, servers: int, arrival_rate: float, service_rate: float) -> float:
    """The q-quantile of the waiting time in M/M/c (zero when q is below the no-wait probability)."""
    if not 0 <= q < 1:
        raise ValueError(f'"q" must be within [0, 1), got {q!r}')
    pw = erlang_c(servers, arrival_rate, service_rate)
    if q <= 1 - pw:
        return 0.0
    # P(W > t) = pw · exp(−(cμ − λ) t)
    return math.log(pw / (1 - q)) / (servers * service_rate - arrival_rate)


def mmc_utilisation(servers: int, arrival_rate: float, service_rate: float) -> float:
    return arrival_rate / (servers * service_rate)


def bass_cdf(t: np.ndarray | float, p: float, q: float) -> np.ndarray | float:
    """Bass adopted share F(t); t in the time unit of p and q."""
    _check_positive("p", p)
    if q < 0:
        raise ValueError(f'"q" must be >= 0, got {q!r}')
    e = np.exp(-(p + q) * np.asarray(t, dtype=float))
    result = (1 - e) / (1 + (q / p) * e)
    return float(result) if np.ndim(result) == 0 else result


def bass_peak_time(p: float, q: float) -> float:
    """Time of the peak adoption rate, ln(q/p)/(p+q); zero when q <= p."""
    _check_positive("p", p)
    return max(0.0, math.log(q / p) / (p + q)) if q > 0 else 0.0
