"""Parameters of one unit's one-stop shop (Bộ phận một cửa): officers, opening hours, demand, service times.

`CounterParams` holds everything the counter model reads, checked when built (a bad value names the
field, shows it and says what it must be); `CounterParams.from_unit` reads a scenario unit's
``[region.units.counters]`` table and `CounterParams.mmc` switches the realism off (an M/M/c queue).
Figures marked *assumed* are not from the source articles (see `/work/shared/domain.md`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MINUTES_PER_DAY = 1440
ACTIVITIES = ("serving", "cash", "guidance", "idle")
"""Officer activities, in the order of `OneStopShop.officer_minutes` and the daily ledger."""

# Kinds of visit to the counter.
FEE_CASH = 0  # fee-bearing dossier, fee paid in cash at the counter
FEE_QR = 1  # fee-bearing dossier, fee paid by QR code at the counter
FREE = 2  # dossier of a procedure without fee
HELP = 3  # a citizen who comes for help to file or pay online
KIND_NAMES = ("fee_cash", "fee_qr", "free", "help")

# *Assumed* arrival profile: multipliers by hour of day (morning rush after opening, a smaller
# peak after lunch). Only hours inside an opening window matter.
DEFAULT_HOURLY = (
    0, 0, 0, 0, 0, 0, 0, 1.6,
    1.8, 1.4, 1.0, 0.6, 0, 0.8, 1.1, 1.0,
    0.7, 0, 0, 0, 0, 0, 0, 0,
)  # fmt: skip
# *Assumed*: Monday busiest, Friday afternoon quiet; Saturday/Sunday only count if open.
DEFAULT_WEEKDAY_FACTORS = (1.25, 1.05, 1.0, 0.95, 0.85, 0.6, 0.4)
# *Assumed* season: busy before Tết (Jan) and in the school-enrolment months (Jul–Aug), quiet in
# the Tết month (Feb). Normalised to a mean of 1 over the year.
DEFAULT_MONTH_FACTORS = (1.25, 0.6, 1.05, 1.0, 0.95, 1.0, 1.15, 1.15, 1.0, 0.95, 0.95, 0.95)


@dataclass(frozen=True)
class Procedure:
    """A group of administrative procedures (TTHC) with its share of counter dossiers."""

    name: str
    share: float
    """Share of in-person dossiers of this group (the shares of a shop sum to 1)."""
    minutes_factor: float
    """Receiving time relative to the shop's ``receive_minutes``."""


# *Assumed* mix: domain.md names civil status, labour/social affairs and land as the busiest
# counters; land dossiers take longest to check.
DEFAULT_PROCEDURES = (
    Procedure("justice_civil_status", 0.45, 0.8),
    Procedure("labour_social_affairs", 0.20, 1.0),
    Procedure("natural_resources_land", 0.25, 1.4),
    Procedure("other", 0.10, 1.0),
)


def parse_window(text: str) -> tuple[float, float]:
    """``"07:30-11:30"`` → (450.0, 690.0) minutes after midnight."""
    try:
        first, last = (part.strip() for part in text.split("-"))
        opens, closes = (_minutes_of(first), _minutes_of(last))
    except ValueError:
        raise ValueError(f'opening window {text!r} is not "HH:MM-HH:MM" (e.g. "07:30-11:30")') from None
    if not opens < closes:
        raise ValueError(f"opening window {text!r} closes before it opens; write e.g. \"07:30-11:30\"")
    return opens, closes


def _minutes_of(clock: str) -> float:
    hours, minutes = clock.split(":")
    value = int(hours) * 60 + int(minutes)
    if not 0 <= value <= MINUTES_PER_DAY or int(minutes) >= 60:
        raise ValueError(clock)
    return float(value)


@dataclass(frozen=True, kw_only=True)
class CounterParams:
    """Everything the counter model needs about one unit's one-stop shop. Times in minutes.

    ``opening=None`` switches the realism off: the shop is open around the clock with all officers
    on, arrivals are Poisson at ``poisson_arrivals_per_minute`` (see `CounterParams.mmc`).
    """

    officers: int = 3
    """Officers on duty at the counters on an open day."""
    counters: int | None = None
    """Counter desks; fewer desks than officers caps the seats. None: one desk per officer."""
    opening: tuple[tuple[float, float], ...] | None = ((450.0, 690.0), (810.0, 1020.0))
    """Opening windows (minutes after midnight); lunch is the gap between them."""
    weekdays: tuple[int, ...] = (1, 2, 3, 4, 5)
    """Open ISO weekdays (1 = Monday)."""
    fee_dossiers_per_day: float = 40.0
    """Fee-bearing dossiers a day before any are paid online (the online share removes some)."""
    free_dossiers_per_day: float = 20.0
    """Dossiers of free procedures a day (*assumed* when the scenario does not say)."""
    help_seekers_per_day: float = 0.0
    """People who come only for help to file or pay online."""
    receive_minutes: float = 10.0
    """Mean officer minutes to check and receive a dossier (an online-filed dossier costs only this)."""
    cash_minutes: float = 4.0
    """Mean extra minutes to collect a fee in cash (count, receipt, cash book)."""
    qr_minutes: float = 1.0
    """Mean extra minutes when the fee is paid by QR code at the counter."""
    guidance_minutes: float = 20.0
    """Mean officer minutes to guide one citizen through filing/paying online ("cầm tay chỉ việc")."""
    service_cv: float | None = 0.5
    """Coefficient of variation of every service time (gamma); None: exponential (*assumed* 0.5)."""
    procedures: tuple[Procedure, ...] = DEFAULT_PROCEDURES
    qr_share: float = 0.0
    """Share of counter fee payers who pay by QR (the ``qr_at_counter`` intervention raises it)."""
    guide_share: float = 0.0
    """Share of cash payers an officer offers to guide online instead (``counter_guidance``)."""
    guide_max_queue: int = 3
    """Officers only guide when at most this many people wait ("it takes too long" otherwise)."""
    hourly: tuple[float, ...] = DEFAULT_HOURLY
    weekday_factors: tuple[float, ...] = DEFAULT_WEEKDAY_FACTORS
    month_factors: tuple[float, ...] = DEFAULT_MONTH_FACTORS
    window_officers: tuple[int, ...] | None = None
    """Officers seated in each opening window, e.g. (4, 3) when one officer does back-office work in the
    afternoon; None: every officer in every window."""
    closed_dates: frozenset[dt.date] = frozenset()
    """Days the shop stays shut although it is an open weekday (Tết, 30/4–1/5, 2/9); none by default."""
    break_minutes: float = 15.0
    """Each officer's break in each opening window, staggered between officers (*assumed*)."""
    balk_queue: int | None = 20
    """A citizen who finds this many people waiting goes home at once (*assumed*); None: never."""
    patience_minutes: float | None = 90.0
    """Mean minutes a citizen waits before giving up (exponential, *assumed*); None: forever."""
    return_share: float = 0.9
    """Share of those who balked, reneged or were sent home at closing who come back the next open day."""
    patience_distribution: str = "exponential"
    """Law of each citizen's patience, of mean ``patience_minutes``: ``exponential``, ``lognormal`` or ``weibull``
    (the last two with coefficient of variation ``patience_cv``)."""
    patience_cv: float = 1.0
    """Coefficient of variation of patience for ``lognormal`` and ``weibull`` (an exponential's is 1)."""
    join_theta: float | None = None
    """Balking that falls with the queue: a citizen who finds n waiting joins with probability exp(−n/θ)
    (before the hard ``balk_queue`` cap); None: everyone joins below the cap."""
    join_table: tuple[float, ...] | None = None
    """Balking by a declared table: entry n is the probability of joining when n wait (the last entry holds
    beyond the table; the first must be 1: nobody balks at an empty queue). Exclusive with ``join_theta``."""
    priority_share: float = 0.0
    """Share of visits with priority at reception (người cao tuổi, phụ nữ mang thai, người khuyết tật…):
    served before every ordinary citizen waiting, first-come first-served among themselves, never
    interrupting a service in progress (non-pre-emptive: the modelling choice; see `PRIORITY_RULE`)."""
    poisson_arrivals_per_minute: float = 0.0
    """Only when ``opening`` is None: the Poisson arrival rate."""

    def __post_init__(self) -> None:
        require(self.officers >= 1, "officers", self.officers, "must be >= 1")
        require(self.counters is None or self.counters >= 1, "counters", self.counters, "must be >= 1")
        for name in ("fee_dossiers_per_day", "free_dossiers_per_day", "help_seekers_per_day", "cash_minutes",
                     "qr_minutes", "break_minutes", "poisson_arrivals_per_minute"):
            require(getattr(self, name) >= 0, name, getattr(self, name), "must be >= 0")
        for name in ("receive_minutes", "guidance_minutes"):
            require(getattr(self, name) > 0, name, getattr(self, name), "must be > 0")
        for name in ("qr_share", "guide_share", "return_share"):
            require(0 <= getattr(self, name) <= 1, name, getattr(self, name), "must be a share within [0, 1]")
        require(self.service_cv is None or self.service_cv > 0, "service_cv", self.service_cv, "must be > 0")
        require(self.patience_minutes is None or self.patience_minutes > 0, "patience_minutes",
                 self.patience_minutes, "must be > 0 (or None: citizens never give up)")
        require(self.patience_distribution in PATIENCE_DISTRIBUTIONS, "patience_distribution",
                 self.patience_distribution, f"must be one of {', '.join(PATIENCE_DISTRIBUTIONS)}")
        require(0.05 <= self.patience_cv <= 10, "patience_cv", self.patience_cv, "must be within [0.05, 10]")
        require(self.join_theta is None or self.join_theta > 0, "join_theta", self.join_theta,
                 "must be > 0 (or None: no probabilistic balking)")
        require(self.join_table is None or (bool(self.join_table) and self.join_table[0] == 1.0
                                            and all(0 <= p <= 1 for p in self.join_table)),
                 "join_table", self.join_table, "must be probabilities within [0, 1] starting with 1.0")
        require(self.join_theta is None or self.join_table is None, "join_table", self.join_table,
                 "cannot be given together with join_theta: choose one law of joining")
        require(0 <= self.priority_share <= 1, "priority_share", self.priority_share,
                 "must be a share within [0, 1]")
        require(len(self.hourly) == 24, "hourly", self.hourly, "needs 24 multipliers, one per hour")
        require(len(self.weekday_factors) == 7, "weekday_factors", self.weekday_factors, "needs 7 multipliers")
        require(len(self.month_factors) == 12, "month_factors", self.month_factors, "needs 12 multipliers")
        require(bool(self.procedures) and math.isclose(sum(p.share for p in self.procedures), 1.0, abs_tol=1e-6),
                 "procedures", [p.share for p in self.procedures], "shares must sum to 1")
        if self.opening is None:
            require(self.poisson_arrivals_per_minute > 0, "poisson_arrivals_per_minute",
                     self.poisson_arrivals_per_minute, "must be > 0 when the shop is always open (opening=None)")
        else:
            require(bool(self.weekdays) and set(self.weekdays) <= set(range(1, 8)), "weekdays", self.weekdays,
                     "must list ISO weekdays 1..7 (1 = Monday)")
            ends = [edge for window in self.opening for edge in window]
            require(ends == sorted(ends) and ends[0] >= 0 and ends[-1] <= MINUTES_PER_DAY, "opening",
                     self.opening, "windows must be in order within the day and must not overlap")
            require(arrival_intensity(self).sum() > 0, "hourly", self.hourly,
                     "is zero in every opening hour: nobody could arrive")
            require(self.window_officers is None or (len(self.window_officers) == len(self.opening) and all(
                0 <= n <= self.seats for n in self.window_officers)), "window_officers", self.window_officers,
                f"needs one count per opening window, each within 0..{self.seats} (the seated officers)")

    def join_probability(self, waiting: int) -> float:
        """Probability that a citizen who finds `waiting` people in the queue joins it (below ``balk_queue``)."""
        if self.join_theta is not None:
            return math.exp(-waiting / self.join_theta)
        if self.join_table is not None:
            return self.join_table[min(waiting, len(self.join_table) - 1)]
        return 1.0

    @property
    def joins_by_chance(self) -> bool:
        """Whether joining the queue is a draw (``join_theta`` or ``join_table``), not only the hard cap."""
        return self.join_theta is not None or self.join_table is not None

    @property
    def seats(self) -> int:
        """Officers who can sit at a counter at the same time."""
        return self.officers if self.counters is None else min(self.officers, self.counters)

    @classmethod
    def mmc(cls, servers: int, arrival_rate: float, service_rate: float, **extra: Any) -> CounterParams:
        """The shop with its realism switched off: an M/M/c queue (rates per minute).

        `extra` switches chosen pieces back on for the theory checks, e.g. ``priority_share`` (Cobham's
        two-class priority queue) or ``join_theta`` (a birth–death chain with state-dependent balking)."""
        require(arrival_rate > 0, "arrival_rate", arrival_rate, "must be > 0")
        require(service_rate > 0, "service_rate", service_rate, "must be > 0")
        return cls(officers=servers, opening=None, poisson_arrivals_per_minute=arrival_rate,
                   receive_minutes=1.0 / service_rate, service_cv=None, procedures=(Procedure("any", 1.0, 1.0),),
                   balk_queue=None, patience_minutes=None, break_minutes=0.0, **extra)

    @classmethod
    def from_unit(cls, unit: Any, **overrides: Any) -> CounterParams:
        """Parameters from a scenario unit (`motcua.scenario.Unit` with its ``counters`` table).

        The scenario's ``service_minutes`` are totals per in-person visit: ``qr`` is receiving the
        dossier plus a QR payment (`QR_PAYMENT_MINUTES`, *assumed*), ``cash`` receiving plus
        collecting cash, ``guidance`` one guided citizen. ``online_filed`` (back-office handling of
        dossiers filed online) happens away from the queue and is not modelled here.
        """
        counters = unit.counters
        if counters is None:
            raise ValueError(f"unit {unit.id!r} has no [region.units.counters] table; add one or leave the unit "
                             "out of the counter model")
        service = counters.service_minutes
        qr_payment = min(QR_PAYMENT_MINUTES, service.qr / 2)
        receive = service.qr - qr_payment
        open_days = open_days_per_year(counters.weekdays)
        values: dict[str, Any] = {
            "officers": counters.officers,
            "counters": counters.counters,
            "opening": tuple(parse_window(window) for window in counters.opening),
            "weekdays": tuple(counters.weekdays),
            "fee_dossiers_per_day": unit.fee_dossiers_per_year / open_days,
            "free_dossiers_per_day": FREE_PER_FEE_DOSSIER * unit.fee_dossiers_per_year / open_days,
            "help_seekers_per_day": counters.help_seekers_per_day,
            "receive_minutes": receive,
            "cash_minutes": max(0.0, service.cash - receive),
            "qr_minutes": qr_payment,
            "guidance_minutes": service.guidance,
            "patience_minutes": counters.patience_minutes if counters.reneging else None,
            "balk_queue": counters.balk_queue_length if counters.balking else None,
            "join_theta": counters.join_theta if counters.balking else None,
            "join_table": counters.join_table if counters.balking else None,
            "patience_distribution": counters.patience_distribution,
            "patience_cv": counters.patience_cv,
            "priority_share": counters.priority_share,
            "service_cv": counters.service_cv,
            "break_minutes": counters.break_minutes,
            "return_share": counters.return_share,
            "window_officers": counters.window_officers,
        }
        if counters.hourly is not None:
            values["hourly"] = tuple(counters.hourly)
        values.update(overrides)
        return cls(**values)


PATIENCE_DISTRIBUTIONS = ("exponential", "lognormal", "weibull")
"""Laws of a citizen's patience the model draws from (all of mean ``patience_minutes``)."""
PRIORITY_RULE = (
    "non-pre-emptive: priority citizens are served next and never interrupt a service in progress. A modelling "
    "choice: Decree 107/2021/NĐ-CP let one-stop units open a dedicated counter for the elderly, pregnant women and "
    "people with disabilities (a layout rule, not an order of service); Decree 118/2025/NĐ-CP replaced it and no "
    "priority provision of it was found; Đà Nẵng's priority card serves holders next, in card order, and says "
    "nothing of interrupting (research/lang-son-2025.md §3)")
"""The priority rule the model applies, with its basis (shown in reports and the scenario README)."""
QR_PAYMENT_MINUTES = 1.0
"""*Assumed* officer minutes of a QR payment at the counter (scan, check the confirmation)."""
FREE_PER_FEE_DOSSIER = 0.5
"""*Assumed* free in-person dossiers per fee-bearing dossier (scenarios do not give them yet)."""


def require(ok: bool, name: str, value: object, problem: str) -> None:
    """Raise `ValueError` naming the parameter, the problem and the value unless `ok`."""
    if not ok:
        raise ValueError(f'"{name}" {problem}, got {value!r}')


def open_days_per_year(weekdays: Sequence[int]) -> float:
    """Average number of open days in a year for a set of ISO weekdays (public holidays ignored)."""
    return 365.25 / 7 * len(set(weekdays))


def arrival_intensity(params: CounterParams) -> np.ndarray:
    """(1440,) relative arrival intensity by minute: the hourly profile inside the opening windows."""
    intensity = np.zeros(MINUTES_PER_DAY)
    hourly = np.repeat(np.asarray(params.hourly, dtype=float), 60)
    for opens, closes in params.opening or ():
        intensity[int(opens): int(closes)] = hourly[int(opens): int(closes)]
    return intensity

