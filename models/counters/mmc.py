"""The counter model as an M/M/c queue, for the Erlang C check (`motcua validate erlang-c`).

`simulate_mmc` runs the real `OneStopShop` with `CounterParams.mmc` (Poisson arrivals, exponential
service, c officers always on, no balking, reneging or breaks), so the check exercises the model's code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import simpy
from motcua.models.counters.fastpath import events_scheduled
from motcua.models.counters.params import CounterParams, require
from motcua.models.counters.shop import OneStopShop
from motcua.models.warmup import mser5

MSER5 = "mser5"


@dataclass(frozen=True)
class MMCResult:
    """One M/M/c run of the counter model, after the warm-up."""

    waits: np.ndarray
    """Waiting times of the measured customers, in the time unit of the rates."""
    utilisation: float
    """Service work offered per server per unit of time (→ λ/(cμ))."""
    customers: int
    events: int
    """SimPy events scheduled in the run (for the benchmark)."""
    classes: np.ndarray | None = None
    """Class at reception of each measured customer (1 priority, 0 ordinary), when some have priority."""
    balked: int = 0
    """Arrivals who did not join (a join probability or cap given in `extra`)."""
    arrivals: int = 0
    """All arrivals, those who balked included."""
    warmup: int = 0
    """Customers discarded at the start (given, or chosen by MSER-5)."""
    warmup_at_bound: bool = False
    """MSER-5's minimum fell on half the run: the run is too short for its start-up transient."""

    def mean_wait_of(self, priority: int) -> float:
        """Mean wait of the measured customers of one class (1 priority, 0 ordinary)."""
        if self.classes is None:
            raise ValueError("no classes in this run: give priority_share")
        return float(self.waits[self.classes == priority].mean())

    @property
    def mean_wait(self) -> float:
        return float(self.waits.mean())

    @property
    def p_wait(self) -> float:
        return float((self.waits > 0).mean())


def simulate_mmc(
    servers: int,
    arrival_rate: float,
    service_rate: float,
    customers: int,
    rng: np.random.Generator,
    warmup: int | Literal["mser5"] | None = None,
    **extra: Any,
) -> MMCResult:
    """Runs the counter model as an M/M/c queue: `warmup` customers (default a tenth of
    `customers`) are discarded, then `customers` are measured; the run ends when all are served.
    With ``warmup="mser5"`` the run has `customers` customers and the warm-up is chosen from their waits
    by MSER-5 (`motcua.models.warmup`); the rest are measured.

    `extra` switches pieces of the model back on (`CounterParams.mmc`): ``priority_share`` for Cobham's
    priority queue, ``join_theta`` / ``join_table`` for state-dependent balking (then `customers` counts
    arrivals, and the measured waits are those of the joiners after the first `warmup` joiners)."""
    require(servers >= 1, "servers", servers, "must be >= 1")
    require(customers >= 1, "customers", customers, "must be >= 1")
    chosen = warmup == MSER5
    fixed = customers // 10 if warmup is None else warmup if isinstance(warmup, int) else 0
    require(chosen or (isinstance(warmup, int | None) and fixed >= 0), "warmup", warmup, f'must be >= 0 or "{MSER5}"')
    if arrival_rate >= servers * service_rate and not (extra.get("join_theta") or extra.get("join_table")):
        raise ValueError(f'the queue is unstable: "arrival_rate" {arrival_rate!r} >= "servers" × "service_rate" = '
                         f"{servers * service_rate!r}; lower the arrival rate or add servers")
    env = simpy.Environment()
    shop = OneStopShop(env, CounterParams.mmc(servers, arrival_rate, service_rate, **extra), rng,
                       customers=fixed + customers)
    env.run()
    arrived = np.frombuffer(shop.waits_arrived, dtype=float)
    waits = np.frombuffer(shop.waits, dtype=float)
    order = np.argsort(arrived, kind="stable")
    cut = mser5(waits[order]) if chosen else None
    start = cut.discarded if cut else fixed
    measured = waits[order][start:]  # (with balking: the joiners after the first `start` joiners)
    classes = np.frombuffer(shop.waits_class, dtype=np.int8)[order][start:].copy() if shop.waits_class else None
    work = shop.serving_minutes
    return MMCResult(waits=measured.copy(), utilisation=work / (servers * shop.last_arrival),
                     customers=int(measured.size), events=events_scheduled(env), classes=classes,
                     balked=shop.balked, arrivals=shop.joined + shop.balked, warmup=start,
                     warmup_at_bound=bool(cut and cut.at_bound))

