"""Closed forms that the models are checked against.

- Erlang C: the M/M/c queue (Poisson arrivals at rate λ, exponential service at rate μ per
  server, c servers, infinite waiting room, no balking). The counter model must reproduce its
  mean wait when its realism is switched off.
- Cobham: the non-pre-emptive priority M/M/c with classes of equal service rate; class k waits
  W_k = C(c, a) / (cμ (1 − σ_{k−1})(1 − σ_k)), σ_k the load of classes 1..k per server
  (`priority_mmc_waits`). The counter model with priority at reception must reproduce it.
- Balking birth–death chain: M/M/c where an arrival finding n waiting joins with probability p(n); its
  stationary law in closed form (`balking_chain`), which the counter model's join probability must match.
- Bass diffusion: F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p) e^{−(p+q)t}), the adopted share at time t
  with innovation coefficient p and imitation coefficient q. The adoption model must reduce to it
  with barriers off and constant outreach effort (`models.bass_check` runs that check).
- Generalized Bass mean field: dF/dt = (p + q·F/m)(m − F)·x(t) with a daily outreach effort x(t), solved in
  closed form (`mean_field_share`): the adoption model's deterministic shadow with barriers off, and what
  calibration fits (`models.calibration`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from motcua.errors import InputError

DAYS_PER_YEAR = 365.25
"""Rates are per year; a simulated day is 1/365.25 of a year."""

Effort = float | Sequence[float] | np.ndarray | Callable[[int], float]
"""Outreach effort x(t): a constant, daily values (day d covers [d, d+1)), or a function of the day."""


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


def priority_mmc_waits(servers: int, arrival_rates: Sequence[float], service_rate: float) -> list[float]:
    """Mean wait in queue of each class of a non-pre-emptive priority M/M/c (Cobham 1954).

    Classes in priority order (first = highest), all served at rate `service_rate` per server. With
    a = Σλ/μ, C(c, a) the Erlang C probability of waiting and σ_k = Σ_{i≤k} λ_i/(cμ):
    W_k = C(c, a) / (cμ · (1 − σ_{k−1}) · (1 − σ_k)).
    """
    if not arrival_rates or any(rate < 0 for rate in arrival_rates):
        raise ValueError(f'"arrival_rates" must be one or more rates >= 0, got {list(arrival_rates)!r}')
    total = float(sum(arrival_rates))
    pw = erlang_c(servers, total, service_rate)
    capacity = servers * service_rate
    waits, before = [], 0.0
    for rate in arrival_rates:
        after = before + rate / capacity
        waits.append(pw / (capacity * (1 - before) * (1 - after)))
        before = after
    return waits


@dataclass(frozen=True)
class BalkingChain:
    """The stationary figures of an M/M/c queue with state-dependent balking (a birth–death chain)."""

    probabilities: np.ndarray
    """π_k, the stationary probability of k citizens in the system (waiting + in service)."""
    balk_share: float
    """Share of arrivals who do not join (PASTA: Σ π_k (1 − p(k − c)) over k ≥ c)."""
    mean_waiting: float
    """L_q, the mean number waiting."""
    mean_wait: float
    """W_q of those who join, by Little's law: L_q / (λ · (1 − balk_share))."""


def balking_chain(servers: int, arrival_rate: float, service_rate: float,
                  join_probability: Callable[[int], float], *, tol: float = 1e-12,
                  max_states: int = 100_000) -> BalkingChain:
    """Exact stationary figures of M/M/c where an arrival who finds n waiting joins with probability p(n).

    Birth rate λ in states k < c and λ·p(k − c) above; death rate min(k, c)·μ. π_{k+1} = π_k·birth_k/death_{k+1},
    summed until the terms fall below `tol` of the total (the chain is truncated there, so p must fall, or
    λ < cμ, for it to end).
    """
    if servers < 1:
        raise ValueError(f'"servers" must be >= 1, got {servers!r}')
    _check_positive("arrival_rate", arrival_rate)
    _check_positive("service_rate", service_rate)
    terms, term, k = [1.0], 1.0, 0
    while k < max_states:
        birth = arrival_rate * (1.0 if k < servers else join_probability(k - servers))
        term *= birth / (min(k + 1, servers) * service_rate)
        terms.append(term)
        k += 1
        if k > servers and term < tol * sum(terms):
            break
    else:
        raise ValueError("the balking chain did not settle within max_states: the queue is unstable")
    pi = np.asarray(terms) / sum(terms)
    states = np.arange(pi.size)
    waiting = np.maximum(states - servers, 0)
    join = np.array([1.0 if k < servers else join_probability(int(k - servers)) for k in states])
    balk = float((pi * (1 - join)).sum())
    lq = float((pi * waiting).sum())
    return BalkingChain(probabilities=pi, balk_share=balk, mean_waiting=lq,
                        mean_wait=lq / (arrival_rate * (1 - balk)))


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


# --- the Generalized Bass mean field ---


def _bad(name: str, value: object, problem: str) -> None:
    """A mean-field argument is wrong: the same words as the adoption model's own parameter errors."""
    raise InputError(f'adoption parameter "{name}" = {value!r} {problem}')


def _cumulative_effort(t_days: np.ndarray, effort: Effort) -> np.ndarray:
    """X(t) = ∫₀ᵗ x(s) ds in years, with x constant within each day (as in the agent model)."""
    if callable(effort):
        n = int(np.ceil(t_days.max())) + 1 if t_days.size else 1
        effort = np.array([effort(d) for d in range(n)], dtype=float)
    if np.ndim(effort) == 0:
        x = float(effort)  # type: ignore[arg-type]
        if not x > 0:
            _bad("effort", x, "must be > 0")
        return t_days * x / DAYS_PER_YEAR
    daily = np.asarray(effort, dtype=float)
    if daily.ndim != 1 or (daily <= 0).any() or not np.isfinite(daily).all():
        _bad("effort", daily, "must be a positive number, a 1-D array of positive daily efforts, or a callable")
    if t_days.size and t_days.max() > len(daily):
        _bad("effort", f"{len(daily)} days", f"covers fewer days than t_days reaches ({t_days.max():g})")
    whole = np.floor(t_days).astype(np.int64)
    before = np.concatenate([[0.0], np.cumsum(daily)])
    part = np.where(whole < len(daily), daily[np.minimum(whole, len(daily) - 1)], 0.0) * (t_days - whole)
    return (before[whole] + part) / DAYS_PER_YEAR


def mean_field_share(t_days: float | Sequence[float] | np.ndarray, p: float, q: float, effort: Effort = 1.0, *,
                     initial_share: float = 0.0, potential: float = 1.0) -> np.ndarray:
    """The deterministic mean field of the model with barriers off: Generalized Bass in closed form.

    dF/dt = (p + q·F/m)(m − F)·x(t) (t in years, F the adopted share, m the potential) has the solution
    F(t) = m·Bass(τ₀ + X(t)) with X(t) = ∫₀ᵗ x, and τ₀ the Bass time at which Bass(τ₀) = initial_share/m.
    `effort` is x: a constant, an array of daily values (day d covers [d, d+1)), or a function of the day.
    """
    if not (p > 0 and math.isfinite(p)):
        _bad("p", p, "must be > 0 (innovation coefficient per year)")
    if not (q >= 0 and math.isfinite(q)):
        _bad("q", q, "must be >= 0 (imitation coefficient per year)")
    if not 0 < potential <= 1:
        _bad("potential", potential, "must be within (0, 1]")
    if not 0 <= initial_share < potential:
        _bad("initial_share", initial_share, f"must be within [0, potential = {potential})")
    t = np.asarray(t_days, dtype=float)
    if (t < 0).any():
        _bad("t_days", t.min(), "must be >= 0 (days from the start)")
    f0 = initial_share / potential
    tau0 = -math.log((1 - f0) / (1 + f0 * q / p)) / (p + q)
    return potential * np.asarray(bass_cdf(tau0 + _cumulative_effort(t, effort), p, q))
