"""Who comes to the counter and when: the day's visits, their arrival minutes, and the doors.

Each open day the doors (`doors`) draw the day's help seekers, free and fee-bearing dossiers
(`ArrivalDraws.draw_day`: Poisson counts by inverse transform, `poisson_quantile`, so that scenarios
under common random numbers stay in step), each with its service minutes and patience
(`ArrivalDraws.draw_visits`), and arrival minutes from the shop's hourly, weekday and month profile.
In the M/M/c mode `poisson_doors` lets a Poisson stream in instead.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import simpy
from motcua.models.counters.fastpath import new_tuples
from motcua.models.counters.params import (
    FEE_CASH,
    FEE_QR,
    FREE,
    HELP,
    MINUTES_PER_DAY,
    CounterParams,
    arrival_intensity,
)
from scipy import optimize, special

if TYPE_CHECKING:
    import datetime as dt

    from motcua.models.counters.shop import OneStopShop

SimProcess = Generator[simpy.Event, Any, None]
"""What a SimPy process function of the counter model returns."""


class Visit(NamedTuple):
    """One citizen's visit to the counter, drawn when the day's arrivals are drawn."""

    number: int
    """The citizen's number in this shop (kept when they come back another day)."""
    kind: int
    """FEE_CASH, FEE_QR, FREE or HELP."""
    receive: float
    """Minutes to receive the dossier (0 for a help seeker)."""
    payment: float
    """Extra minutes to collect the fee (cash or QR) at the counter."""
    guidance: float
    """Minutes an officer spends if they guide this citizen online."""
    patience: float | None
    """Minutes the citizen will wait before giving up; None: forever."""
    accepts_guidance: float
    """A uniform draw: an offer of guidance is accepted when it is below ``guide_share``."""
    attempt: int = 1
    """1 on the first visit, 2 when coming back after giving up, …"""
    priority: int = 0
    """1 for a citizen with priority at reception (served before ordinary citizens, non-pre-emptive), else 0."""


def arrival_cdf(params: CounterParams) -> np.ndarray:
    """Cumulative share of a day's arrivals by minute."""
    cdf = np.cumsum(arrival_intensity(params))
    return cdf / cdf[-1]


def poisson_quantile(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Poisson counts by inverse transform: for each uniform `u` the smallest k with P(N <= k) >= u.

    One uniform per count, and a count that never falls when its mean rises: under common random
    numbers two scenarios draw the same uniforms and their counts move together (NumPy's own
    Poisson sampler uses a variable number of uniforms, which puts every later draw out of step).
    """
    u, mean = np.asarray(u, dtype=float), np.asarray(mean, dtype=float)
    positive = mean > 0
    safe_mean = np.where(positive, mean, 1.0)
    k = np.maximum(np.ceil(special.pdtrik(u, safe_mean)), 0.0)
    # pdtrik inverts the CDF in floating point: step one down or up where it landed next to the answer.
    k = np.where((k > 0) & (special.pdtr(k - 1, safe_mean) >= u), k - 1, k)
    k = np.where(special.pdtr(k, safe_mean) < u, k + 1, k)
    return np.where(positive, k, 0.0).astype(np.int64)



def _few_poisson_quantiles(u: list[float], mean: list[float]) -> list[int]:
    """`poisson_quantile` for a handful of counts, one by one: the same scipy functions and steps on scalars,
    which for three counts a day costs a fraction of the array version's overhead. Falls back to it where
    the inverse is not finite (the array version's answer there is kept, whatever it is)."""
    counts = []
    for ui, mi in zip(u, mean, strict=True):
        if not mi > 0:
            counts.append(0)
            continue
        guess = float(special.pdtrik(ui, mi))
        if not math.isfinite(guess):
            return poisson_quantile(np.array(u), np.array(mean)).tolist()
        k = max(math.ceil(guess), 0)
        if k > 0 and special.pdtr(k - 1, mi) >= ui:
            k -= 1
        if special.pdtr(k, mi) < ui:
            k += 1
        counts.append(k)
    return counts


class ArrivalDraws:
    """The random draws of a shop's arrivals (mixed into `OneStopShop`, whose state they read and keep)."""

    params: CounterParams
    rng: np.random.Generator
    online_share: Callable[[], float]
    qr_share: float
    open_days: int
    _arrival_cdf: np.ndarray
    _weekday_factor: list[float]
    _month_factor: list[float]
    _returning: list[Visit]
    _numbers: Iterator[int]

    def date_of(self, day: int) -> dt.date:
        raise NotImplementedError

    def draw_day(self, day: int) -> tuple[list[float], list[Visit]]:
        """The arrival minutes (sorted) and visits of an open day, including those coming back.

        The day's counts of help seekers, free and fee-bearing dossiers come by inverse transform,
        one uniform each, and the fee payers' choice of QR from one uniform per payer, so that two
        scenarios run under common random numbers draw the same numbers in the same order whatever
        their means (`poisson_quantile`); help seekers and free dossiers, whose means do not depend on
        adoption, come first and keep their draws when the number of fee payers differs.
        """
        params, rng = self.params, self.rng
        date = self.date_of(day)
        factor = self._weekday_factor[date.isoweekday() - 1] * self._month_factor[date.month - 1]
        in_person_share = 1.0 - min(1.0, max(0.0, float(self.online_share())))
        means = np.array([params.help_seekers_per_day, params.free_dossiers_per_day,
                          params.fee_dossiers_per_day * in_person_share]) * factor
        help_seekers, free, fee = _few_poisson_quantiles(rng.random(3).tolist(), means.tolist())
        kinds = np.repeat(np.array([HELP, FREE, FEE_CASH]), [help_seekers, free, fee])
        kinds[help_seekers + free:][rng.random(fee) < self.qr_share] = FEE_QR
        visits = self.draw_visits(kinds) + self._returning
        self._returning = []
        order_u = rng.random(len(visits))
        minute = np.searchsorted(self._arrival_cdf, order_u, side="right")
        times = day * MINUTES_PER_DAY + minute + rng.random(len(visits))
        order = np.argsort(times, kind="stable")
        self.open_days += 1
        return times[order].tolist(), list(map(visits.__getitem__, order.tolist()))

    def draw_visits(self, kinds: np.ndarray) -> list[Visit]:
        """One visit for each entry of `kinds` (FEE_CASH, FEE_QR, FREE, HELP) with its service minutes
        and patience drawn: each from a unit draw scaled by the mean of the visit's kind and procedure."""
        count = len(kinds)
        if count == 0:
            return []
        params, rng = self.params, self.rng
        factors, procedure_cdf, payment_mean = self._draw_tables
        if len(factors) > 1:
            # = rng.choice(len(factors), count, p=shares): the same uniforms and the same search, without its checks
            factors = factors[procedure_cdf.searchsorted(rng.random(count), side="right")]
        receive = self._service_draw(count) * params.receive_minutes * factors * (kinds != HELP)
        payment = self._service_draw(count) * payment_mean[kinds]
        guided_kind = (kinds == FEE_CASH) | (kinds == HELP)
        guidance = self._service_draw(count) * params.guidance_minutes * guided_kind
        # An offer of guidance is accepted below guide_share; a help seeker is always guided.
        accepts = np.where(kinds == FEE_CASH, rng.random(count), np.where(kinds == HELP, -1.0, 1.0))
        if params.patience_minutes is None:
            patience: list[float | None] = [None] * count
        else:
            patience = patience_draw(rng, params, count).tolist()
        # Priority is drawn only when some citizens have it, so that scenarios without it keep their streams.
        priority = ((rng.random(count) < params.priority_share).astype(int).tolist() if params.priority_share
                    else itertools.repeat(0))
        fields = zip(itertools.islice(self._numbers, count), kinds.tolist(), receive.tolist(), payment.tolist(),
                     guidance.tolist(), patience, accepts.tolist(), itertools.repeat(1), priority)
        return new_tuples(Visit, fields)

    @functools.cached_property
    def _draw_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per shop, computed once: receiving-time factor by procedure, the cumulative shares of the procedures
        (as `Generator.choice` computes them from ``p``), and the mean payment minutes by kind of visit."""
        params = self.params
        cdf = np.cumsum(np.array([p.share for p in params.procedures], dtype=float))
        cdf /= cdf[-1]
        return (np.array([p.minutes_factor for p in params.procedures]), cdf,
                np.array([params.cash_minutes, params.qr_minutes, 0.0, 0.0]))  # payment by kind

    def _service_draw(self, count: int) -> np.ndarray:
        """`count` service times of mean 1: gamma with the shop's CV, or exponential when ``service_cv``
        is None (the caller scales them by the mean)."""
        cv = self.params.service_cv
        if cv is None:
            return self.rng.exponential(1.0, count)
        shape = 1.0 / (cv * cv)
        return self.rng.gamma(shape, 1.0 / shape, count)


def patience_draw(rng: np.random.Generator, params: CounterParams, count: int) -> np.ndarray:
    """`count` patience times of mean ``patience_minutes`` from ``patience_distribution``: exponential (the
    draws of earlier versions, unchanged), lognormal or Weibull with coefficient of variation ``patience_cv``."""
    mean = params.patience_minutes
    assert mean is not None
    law, cv = params.patience_distribution, params.patience_cv
    if law == "exponential":
        return rng.exponential(mean, count)
    if law == "lognormal":
        sigma2 = math.log1p(cv * cv)
        return rng.lognormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2), count)
    shape = weibull_shape(cv)
    return rng.weibull(shape, count) * (mean / math.gamma(1 + 1 / shape))


@functools.lru_cache(maxsize=64)
def weibull_shape(cv: float) -> float:
    """The Weibull shape k whose coefficient of variation is `cv`: √(Γ(1+2/k)/Γ(1+1/k)² − 1) = cv."""
    def excess(log_k: float) -> float:
        k = math.exp(log_k)
        return math.exp(math.lgamma(1 + 2 / k) - 2 * math.lgamma(1 + 1 / k)) - 1 - cv * cv
    return math.exp(optimize.brentq(excess, math.log(0.05), math.log(50.0)))


def doors(env: simpy.Environment, shop: OneStopShop) -> SimProcess:
    """The doors of the one-stop shop: each open day the day's citizens walk in at their times,
    and at the last closing those still waiting are sent home. Books close at midnight."""
    params = shop.params
    assert params.opening is not None
    last_close = params.opening[-1][1]
    day = 0
    while True:
        if shop.is_open(day):
            times, visits = shop.draw_day(day)
            yield from walk_in(env, shop, times, visits)
            yield env.timeout(max(0.0, day * MINUTES_PER_DAY + last_close - env.now))
            shop.send_home()
        yield env.timeout(max(0.0, (day + 1) * MINUTES_PER_DAY - env.now))
        shop.close_books(day)
        day += 1


def walk_in(env: simpy.Environment, shop: OneStopShop, times: list[float],
            visits: list[Visit]) -> SimProcess:
    """Citizens walk in at `times`. Without a trace the doors only announce them (`OneStopShop.expect`:
    officers call them, no SimPy event per arrival); with one, each arrival is an event of its own, so
    that the trace lists everything in the order it happens. Both give the same numbers (a test checks)."""
    if shop.trace is None:
        shop.expect(times, visits)
        return
    for at, visit in zip(times, visits, strict=True):
        yield env.timeout(at - env.now)
        shop.arrive(visit)


def poisson_doors(env: simpy.Environment, shop: OneStopShop, customers: int) -> SimProcess:
    """Doors that never close: `customers` citizens arrive as a Poisson stream (the M/M/c mode)."""
    params = shop.params
    mean_gap = 1.0 / params.poisson_arrivals_per_minute
    block = 4096
    arrived = 0
    while arrived < customers:
        size = min(block, customers - arrived)
        times = shop.last_arrival + np.cumsum(shop.rng.exponential(mean_gap, size))
        yield from walk_in(env, shop, times.tolist(), shop.draw_visits(np.full(size, FREE)))
        yield env.timeout(max(0.0, times[-1] - env.now))  # then the next block
        shop.last_arrival = float(times[-1])
        arrived += size

