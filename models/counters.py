"""The one-stop-shop counters (Bộ phận một cửa) of one unit, as a SimPy model.

*Scenario.* Each working day the doors of a district's one-stop shop open at 07:30. Citizens come
in to file dossiers (hồ sơ) in person: fee-bearing dossiers whose fee was not paid online (the
share paid online comes from a callable, so the adoption model can drive it day by day), free
dossiers, and people who come for help to file or pay online. Most arrive in the morning rush;
Mondays and the months before Tết are busier. A citizen who finds the hall packed goes home
(balks); one who waits too long gives up (reneges); both usually come back another day. Officers
(cán bộ một cửa) sit at the counters through two opening windows with lunch in between (fewer may
staff the afternoon; the shop shuts on holidays), each takes one short break per window, and always
finishes the citizen in front of them before leaving.
Receiving a dossier takes minutes that depend on the procedure; collecting cash adds minutes, a QR
payment fewer; walking a citizen through paying online ("cầm tay chỉ việc") costs guidance minutes
but hands the adoption model a citizen who has *tried* paying online (``on_guided``).

The clock is in minutes from 00:00 (Asia/Ho_Chi_Minh) of ``start``; a day is 1,440 minutes.

*How it runs.* Officers and the doors are SimPy processes; citizens are entries in the shop's queue.
An officer with nobody to serve calls the next expected citizen ahead of time and wakes when done
serving them; citizens who come while every officer is busy or away join the queue at their minute,
and those whose patience runs out leave at theirs, the next time anyone looks at the queue. So a
visit costs one SimPy event (the end of its service) instead of a process, a request, a patience
timer and a condition, and the numbers are those of arrivals as events (with a ``trace`` they are
events, and a test checks both ways give the same numbers).

With `CounterParams.mmc` the same code runs as an M/M/c queue (Poisson arrivals, exponential
service, c officers always on, no balking, reneging or breaks); `simulate_mmc` uses it for the
Erlang C check in `motcua validate erlang-c`, so the check exercises the real model code.

Figures marked *assumed* below are not from the source articles (see `/work/shared/domain.md`).
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
import sys
from array import array
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import simpy
from scipy import special

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
    poisson_arrivals_per_minute: float = 0.0
    """Only when ``opening`` is None: the Poisson arrival rate."""

    def __post_init__(self) -> None:
        _require(self.officers >= 1, "officers", self.officers, "must be >= 1")
        _require(self.counters is None or self.counters >= 1, "counters", self.counters, "must be >= 1")
        for name in ("fee_dossiers_per_day", "free_dossiers_per_day", "help_seekers_per_day", "cash_minutes",
                     "qr_minutes", "break_minutes", "poisson_arrivals_per_minute"):
            _require(getattr(self, name) >= 0, name, getattr(self, name), "must be >= 0")
        for name in ("receive_minutes", "guidance_minutes"):
            _require(getattr(self, name) > 0, name, getattr(self, name), "must be > 0")
        for name in ("qr_share", "guide_share", "return_share"):
            _require(0 <= getattr(self, name) <= 1, name, getattr(self, name), "must be a share within [0, 1]")
        _require(self.service_cv is None or self.service_cv > 0, "service_cv", self.service_cv, "must be > 0")
        _require(self.patience_minutes is None or self.patience_minutes > 0, "patience_minutes",
                 self.patience_minutes, "must be > 0 (or None: citizens never give up)")
        _require(len(self.hourly) == 24, "hourly", self.hourly, "needs 24 multipliers, one per hour")
        _require(len(self.weekday_factors) == 7, "weekday_factors", self.weekday_factors, "needs 7 multipliers")
        _require(len(self.month_factors) == 12, "month_factors", self.month_factors, "needs 12 multipliers")
        _require(bool(self.procedures) and math.isclose(sum(p.share for p in self.procedures), 1.0, abs_tol=1e-6),
                 "procedures", [p.share for p in self.procedures], "shares must sum to 1")
        if self.opening is None:
            _require(self.poisson_arrivals_per_minute > 0, "poisson_arrivals_per_minute",
                     self.poisson_arrivals_per_minute, "must be > 0 when the shop is always open (opening=None)")
        else:
            _require(bool(self.weekdays) and set(self.weekdays) <= set(range(1, 8)), "weekdays", self.weekdays,
                     "must list ISO weekdays 1..7 (1 = Monday)")
            ends = [edge for window in self.opening for edge in window]
            _require(ends == sorted(ends) and ends[0] >= 0 and ends[-1] <= MINUTES_PER_DAY, "opening",
                     self.opening, "windows must be in order within the day and must not overlap")
            _require(_arrival_intensity(self).sum() > 0, "hourly", self.hourly,
                     "is zero in every opening hour: nobody could arrive")
            _require(self.window_officers is None or (len(self.window_officers) == len(self.opening) and all(
                0 <= n <= self.seats for n in self.window_officers)), "window_officers", self.window_officers,
                f"needs one count per opening window, each within 0..{self.seats} (the seated officers)")

    @property
    def seats(self) -> int:
        """Officers who can sit at a counter at the same time."""
        return self.officers if self.counters is None else min(self.officers, self.counters)

    @classmethod
    def mmc(cls, servers: int, arrival_rate: float, service_rate: float) -> CounterParams:
        """The shop with its realism switched off: an M/M/c queue (rates per minute)."""
        _require(arrival_rate > 0, "arrival_rate", arrival_rate, "must be > 0")
        _require(service_rate > 0, "service_rate", service_rate, "must be > 0")
        return cls(officers=servers, opening=None, poisson_arrivals_per_minute=arrival_rate,
                   receive_minutes=1.0 / service_rate, service_cv=None, procedures=(Procedure("any", 1.0, 1.0),),
                   balk_queue=None, patience_minutes=None, break_minutes=0.0)

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
            "patience_minutes": counters.patience_minutes,
            "balk_queue": counters.balk_queue_length,
        }
        values.update(overrides)
        return cls(**values)


QR_PAYMENT_MINUTES = 1.0
"""*Assumed* officer minutes of a QR payment at the counter (scan, check the confirmation)."""
FREE_PER_FEE_DOSSIER = 0.5
"""*Assumed* free in-person dossiers per fee-bearing dossier (scenarios do not give them yet)."""


def _require(ok: bool, name: str, value: object, problem: str) -> None:
    if not ok:
        raise ValueError(f'"{name}" {problem}, got {value!r}')


def open_days_per_year(weekdays: Sequence[int]) -> float:
    """Average number of open days in a year for a set of ISO weekdays (public holidays ignored)."""
    return 365.25 / 7 * len(set(weekdays))


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


class _Waiting:
    """A citizen in the queue: their visit, arrival minute, and whether they still wait."""

    __slots__ = ("arrived", "visit", "waiting")

    def __init__(self, visit: Visit, arrived: float) -> None:
        self.visit = visit
        self.arrived = arrived
        self.waiting = True


def citizen_at_counter(env: simpy.Environment, shop: OneStopShop, visit: Visit) -> Iterator[simpy.Event]:
    """A citizen (công dân) walks into the one-stop shop now, as a process of their own.

    Looks at the queue and goes home if it is too long; otherwise takes a number and waits, until an
    officer calls them (`officer_at_counter`), their patience runs out, or the doors close for the day;
    those who leave unserved usually come back another day. The day's citizens need no process each:
    the doors announce them (`OneStopShop.expect`) and a waiting citizen is a queue entry that the
    officers call, so a visit costs one SimPy event, the end of its service.
    """
    shop.arrive(visit)
    yield from ()


def officer_on_shift(env: simpy.Environment, shop: OneStopShop, officer: int) -> Iterator[simpy.Event]:
    """An officer (cán bộ một cửa) on a shift at the counters.

    On each open day: sits down when a window opens, takes one short break per window, and
    leaves for lunch or home when it closes, always after finishing the citizen being served.
    """
    params = shop.params
    me = f"officer {officer}"
    note = shop.trace.append if shop.trace is not None else _no_trace
    windows = params.opening or ()
    if not any(shop.on_shift(officer, window) for window in range(len(windows))):
        return  # staffs no window (``window_officers``)
    day = 0
    while True:
        while not shop.is_open(day):
            day += 1
        for window, (opens, closes) in enumerate(windows):
            if not shop.on_shift(officer, window):
                continue
            yield env.timeout(max(0.0, day * MINUTES_PER_DAY + opens - env.now))
            seated = env.now
            note((me, "sits down", env.now))
            break_at = shop.break_start(officer, window)
            if break_at is not None:
                yield from officer_at_counter(env, shop, officer, day * MINUTES_PER_DAY + break_at)
                shop.on_duty_minutes += env.now - seated
                note((me, "goes on break", env.now))
                yield env.timeout(params.break_minutes)
                seated = env.now
                note((me, "back from break", env.now))
            yield from officer_at_counter(env, shop, officer, day * MINUTES_PER_DAY + closes)
            shop.on_duty_minutes += env.now - seated
            note((me, "leaves", env.now))
        day += 1


def officer_at_counter(env: simpy.Environment, shop: OneStopShop, officer: int,
                       until: float) -> Iterator[simpy.Event]:
    """An officer seated at a counter until minute `until`: calls the first waiting citizen, serves
    them, calls the next; waits for someone to walk in when nobody waits. Returns at `until`, or
    after finishing the citizen in front of them when service runs past it."""
    trace = shop.trace
    if env.now < until < math.inf:
        shop.duty_ends(officer, until)
    while env.now < until:
        called = shop.call_next()
        if called is None:
            # Idle: a citizen who walks in is called at once and this wakes when done serving them.
            woken = yield shop.wait_for_citizen(officer, until)
            if woken is _DUTY_ENDS:
                break
            if woken is None:  # handed a queue by an officer leaving at this minute
                continue
            visit = woken
        else:
            visit, minutes = called
            yield env.timeout(minutes)
        if trace is not None:
            trace.append((f"citizen {visit.number}", "leaves served", env.now))
    shop.hand_over()


class _Wake(simpy.Event):
    """An idle officer's wake-up call. `ring_after` triggers it some minutes from now, as `env.timeout`
    does, so that an officer who calls a citizen walking in wakes only once done serving them: one
    SimPy event for the call and the service instead of two."""

    def ring_after(self, minutes: float, value: object) -> None:
        self._ok = True
        self._value = value
        self.env.schedule(self, simpy.events.NORMAL, minutes)


_DUTY_ENDS = object()
"""Value of an idle officer's wake-up event when their break or closing time has come."""


def _no_trace(_: tuple[str, str, float]) -> None:
    pass


def doors(env: simpy.Environment, shop: OneStopShop) -> Iterator[simpy.Event]:
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
            visits: list[Visit]) -> Iterator[simpy.Event]:
    """Citizens walk in at `times`. Without a trace the doors only announce them (`OneStopShop.expect`:
    officers call them, no SimPy event per arrival); with one, each arrival is an event of its own, so
    that the trace lists everything in the order it happens. Both give the same numbers (a test checks)."""
    if shop.trace is None:
        shop.expect(times, visits)
        return
    for at, visit in zip(times, visits, strict=True):
        yield env.timeout(at - env.now)
        shop.arrive(visit)


def poisson_doors(env: simpy.Environment, shop: OneStopShop, customers: int) -> Iterator[simpy.Event]:
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


class OneStopShop:
    """The one-stop-shop counters (Bộ phận một cửa) of one unit, with their records.

    ``unit`` is a scenario unit (with a ``counters`` table) or a `CounterParams`. ``online_share()``
    is read once per open day: the share of fee-bearing dossiers paid online that day.
    ``on_guided(n)`` is called when an officer guides ``n`` citizens through paying online.
    ``guide_share`` and ``qr_share`` may be changed between days (interventions). ``start`` is the
    date of minute 0 (weekday, month and holidays follow it). ``customers`` only serves the M/M/c
    mode (``opening=None``): how many citizens arrive before the doors stop. ``trace``: see below.
    """

    def __init__(
        self,
        env: simpy.Environment,
        unit: Any,
        rng: np.random.Generator,
        *,
        online_share: Callable[[], float] = lambda: 0.0,
        on_guided: Callable[[int], None] | None = None,
        start: dt.date = dt.date(2024, 1, 1),
        customers: int | None = None,
        trace: list[tuple[str, str, float]] | None = None,
    ) -> None:
        self.env = env
        self.params: CounterParams = unit if isinstance(unit, CounterParams) else CounterParams.from_unit(unit)
        self.rng = rng
        self.online_share = online_share
        self.on_guided = on_guided
        self.start = start
        self.trace = trace
        """If a list: ``(actor, action, minute)`` tuples are appended as things happen (for small tests)."""
        params = self.params
        self.always_open = params.opening is None
        self.balk_queue = params.balk_queue
        self.guide_share = params.guide_share
        """Share of cash payers who accept an officer's offer to guide them online (may change daily)."""
        self.qr_share = params.qr_share
        """Share of counter fee payers who pay by QR (may change daily)."""

        # Records: plain floats and compact arrays, no per-event dicts.
        self.waits = array("d")
        """Minutes each served citizen waited, in the order they were called."""
        self.waits_arrived = array("d")
        """Arrival minute of the citizen behind each entry of ``waits``."""
        self.abandoned_waits = array("d")
        """Minutes waited by citizens who gave up or were sent home at closing."""
        self.serving_minutes = self.cash_minutes = self.guidance_minutes = 0.0
        self.on_duty_minutes = 0.0
        """Officer-minutes seated at a counter (breaks and lunch excluded, overtime included)."""
        self.joined = self.served = self.balked = self.reneged = self.sent_home = 0
        self.returned = self.lost = self.guided = 0
        """Counts: ``returned`` visits were re-queued for another day, ``lost`` ones never came back."""
        self.waiting = 0
        """Citizens waiting right now (not yet called)."""
        self.queue_area = 0.0
        """∫ waiting dt over the whole run (citizen-minutes in the queue)."""
        self.queue_area_by_hour = [0.0] * 24
        self.open_days = 0
        self.daily: list[tuple[float, ...]] = []
        """One row per simulated day (see `DAILY_COLUMNS`), appended at midnight."""
        self.last_arrival = 0.0

        # The queue: waiting citizens in order of arrival, with their patience deadlines in a heap. A
        # citizen who gives up is taken off lazily, at their deadline's minute, the next time anyone
        # looks at the queue (`_catch_up`); the records come out as if they had left at that minute.
        self._queue: deque[_Waiting] = deque()
        self._deadlines: list[tuple[float, int, _Waiting]] = []
        self._deadline_order = itertools.count()
        self._idle: dict[int, _Wake] = {}
        """Officers seated with nobody to serve, by number, each with the event that wakes them."""
        self._expected: deque[tuple[float, Visit]] = deque()
        """Citizens announced by the doors who have not walked in yet: (minute, visit), in order."""
        self._last_change = 0.0
        self._returning: list[Visit] = []
        self._numbers = itertools.count(1)
        self._ledger_mark = (0.0,) * len(DAILY_COLUMNS)
        if params.opening is None:
            for officer in range(params.seats):
                env.process(officer_at_counter(env, self, officer, math.inf))
            env.process(poisson_doors(env, self, customers if customers is not None else 10**9))
        else:
            self._arrival_cdf = _arrival_cdf(params)
            open_weekdays = sorted(set(params.weekdays))
            mean_weekday = sum(params.weekday_factors[d - 1] for d in open_weekdays) / len(open_weekdays)
            self._weekday_factor = [f / mean_weekday for f in params.weekday_factors]
            mean_month = sum(params.month_factors) / 12
            self._month_factor = [f / mean_month for f in params.month_factors]
            for officer in range(params.seats):
                env.process(officer_on_shift(env, self, officer))
            env.process(doors(env, self))

    # -- the calendar ---------------------------------------------------------------------------
    def date_of(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=day)

    def is_open(self, day: int) -> bool:
        date = self.date_of(day)
        return date.isoweekday() in self.params.weekdays and date not in self.params.closed_dates

    def on_shift(self, officer: int, window: int) -> bool:
        """Whether `officer` sits at a counter in opening `window`."""
        staffed = self.params.window_officers
        return staffed is None or officer < staffed[window]

    def break_start(self, officer: int, window: int) -> float | None:
        """Minute of the day at which `officer` leaves for the break of `window`; staggered so that
        officers do not all leave at once."""
        params = self.params
        if not params.break_minutes or params.opening is None:
            return None
        opens, closes = params.opening[window]
        if closes - opens < 2 * params.break_minutes:
            return None
        return opens + (closes - opens) * (officer + 1) / (params.seats + 1) - params.break_minutes / 2

    # -- the queue ------------------------------------------------------------------------------
    def arrive(self, visit: Visit) -> None:
        """A citizen walks in now (an arrival event: `citizen_at_counter`, or the doors when a trace is
        kept); see `_walk_in`."""
        now = self.env.now
        self._catch_up(now)
        self._walk_in(visit, now)

    def expect(self, times: Sequence[float], visits: Sequence[Visit]) -> None:
        """The doors announce citizens who will walk in at `times` (sorted, after any announced before).

        No event marks their arrivals: an officer who runs out of people to serve calls the next of them
        ahead of time (`wait_for_citizen`), and those who come while every officer is busy or away join the
        queue at their minute the next time anyone looks at it (`_catch_up`). Idle officers are woken to
        look at the news."""
        self._expected.extend(zip(times, visits, strict=True))
        for officer in list(self._idle):
            self._wake(officer, None)

    def _walk_in(self, visit: Visit, now: float) -> None:
        """A citizen walks in at minute `now`: goes home at once if the queue is too long (balks), else
        joins it and, if an officer sits idle, that officer calls them."""
        trace = self.trace
        if trace is not None:
            trace.append((f"citizen {visit.number}", "arrives", now))
        if self.balk_queue is not None and self.waiting >= self.balk_queue:
            self.balked += 1
            if trace is not None:
                trace.append((f"citizen {visit.number}", "balks", now))
            self.come_back(visit)
            return
        self.joined += 1
        idle = self._idle
        if idle:  # an officer sits idle only while nobody waits: they call this citizen now
            officer = next(iter(idle))
            idle.pop(officer).ring_after(self._serve(visit, now, now), visit)
            return
        self._queue_changed(now)
        self.waiting += 1
        entry = _Waiting(visit, now)
        self._queue.append(entry)
        if visit.patience is not None:
            heapq.heappush(self._deadlines, (now + visit.patience, next(self._deadline_order), entry))

    def call_next(self) -> tuple[Visit, float] | None:
        """An officer calls the first citizen still waiting and starts serving them: returns the
        visit and its service minutes, or None when nobody waits."""
        now = self.env.now
        self._catch_up(now)
        queue = self._queue
        while queue:
            entry = queue.popleft()
            if entry.waiting:
                entry.waiting = False
                return entry.visit, self.start_service(entry.visit, entry.arrived)
        return None

    def wait_for_citizen(self, officer: int, until: float) -> _Wake:
        """What an officer with nobody to serve waits on until minute `until`.

        If the next expected citizen walks in before `until`, the officer calls them now, ahead of time,
        and wakes when done serving them (value: the visit). That is what would happen at their arrival:
        nobody waits now, and nobody else walks in before them, so nobody is called, balks or gives up
        meanwhile, and an officer idle now is still idle then (others who run out of people later call
        the citizens after). Otherwise the officer sits idle until a citizen walks in (`_walk_in`; value:
        the visit, when done serving them), the doors announce more citizens or an officer leaving at
        this minute hands over the queue (None), or the break or closing time comes (`_DUTY_ENDS`)."""
        wake = _Wake(self.env)
        expected = self._expected
        if expected and expected[0][0] < until and (self.balk_queue is None or self.balk_queue > 0):
            at, visit = expected.popleft()
            self.joined += 1
            wake.ring_after(at - self.env.now + self._serve(visit, at, at), visit)
        else:
            self._idle[officer] = wake
        return wake

    def duty_ends(self, officer: int, at: float) -> None:
        """At minute `at`, `officer` is due to leave the counter: wake them then if they sit idle (an
        officer serving someone leaves after finishing)."""
        timer = self.env.timeout(at - self.env.now, officer)
        timer.callbacks.append(self._duty_timer)

    def hand_over(self) -> None:
        """An officer leaves the counter: if anyone waits and another officer sits idle, that one calls
        them (an officer woken by a citizen at the very minute their duty ends leaves instead)."""
        if self._queue and self._idle:
            self._wake(next(iter(self._idle)), None)

    def _duty_timer(self, timer: simpy.Event) -> None:
        if timer.value in self._idle:
            self._wake(timer.value, _DUTY_ENDS)

    def _wake(self, officer: int, value: object) -> None:
        self._idle.pop(officer).ring_after(0.0, value)

    def send_home(self) -> None:
        """The doors close for the day: everyone still waiting goes home."""
        now = self.env.now
        self._catch_up(now)
        for entry in self._queue:
            if entry.waiting:
                entry.waiting = False
                self.give_up(entry.visit, entry.arrived, now, sent_home=True)
        self._queue.clear()
        self._deadlines.clear()

    def _catch_up(self, now: float) -> None:
        """Brings the queue to minute `now`: in time order, expected citizens walk in at their minutes
        (`expect`) and those whose patience ran out leave at theirs (a citizen who gives up is taken off
        lazily, but the records come out as if they had left at that minute)."""
        expected, deadlines = self._expected, self._deadlines
        while True:
            next_arrival = expected[0][0] if expected else math.inf
            next_deadline = deadlines[0][0] if deadlines else math.inf
            if next_deadline <= next_arrival:
                if next_deadline > now:
                    return
                at, _, entry = heapq.heappop(deadlines)
                if entry.waiting:
                    entry.waiting = False
                    self.give_up(entry.visit, entry.arrived, at, sent_home=False)
            elif next_arrival <= now:
                at, visit = expected.popleft()
                self._walk_in(visit, at)
            else:
                return

    def _queue_changed(self, now: float) -> None:
        """Adds the citizen-minutes waited since the last change, split by hour of day."""
        since = self._last_change
        waiting = self.waiting
        if waiting and now > since:
            self.queue_area += waiting * (now - since)
            by_hour = self.queue_area_by_hour
            while True:
                hour_end = (since // 60 + 1) * 60
                part_end = now if now < hour_end else hour_end
                by_hour[int(since // 60) % 24] += waiting * (part_end - since)
                if part_end >= now:
                    break
                since = part_end
        self._last_change = now

    def start_service(self, visit: Visit, arrived: float) -> float:
        """An officer calls the citizen: records the wait and the officer's minutes by activity, and
        returns the service time."""
        now = self.env.now
        self._queue_changed(now)
        self.waiting -= 1
        return self._serve(visit, arrived, now)

    def _serve(self, visit: Visit, arrived: float, now: float) -> float:
        self.served += 1
        self.waits.append(now - arrived)
        self.waits_arrived.append(arrived)
        if self.trace is not None:
            self.trace.append((f"citizen {visit.number}", "called", now))
        kind = visit.kind
        if kind == FREE:
            self.serving_minutes += visit.receive
            return visit.receive
        if kind == FEE_QR:
            self.serving_minutes += visit.receive + visit.payment
            return visit.receive + visit.payment
        if kind == FEE_CASH and not (visit.accepts_guidance < self.guide_share
                                     and self.waiting <= self.params.guide_max_queue):
            self.serving_minutes += visit.receive
            self.cash_minutes += visit.payment
            return visit.receive + visit.payment
        # A help seeker, or a cash payer an officer walks through paying online instead.
        self.serving_minutes += visit.receive
        self.guidance_minutes += visit.guidance
        self.guided += 1
        if self.on_guided is not None:
            self.on_guided(1)
        return visit.receive + visit.guidance

    def give_up(self, visit: Visit, arrived: float, now: float, *, sent_home: bool) -> None:
        """A waiting citizen leaves at minute `now` without being served: reneged, or sent home at closing."""
        self._queue_changed(now)
        self.waiting -= 1
        self.abandoned_waits.append(now - arrived)
        if sent_home:
            self.sent_home += 1
        else:
            self.reneged += 1
        if self.trace is not None:
            self.trace.append((f"citizen {visit.number}", "sent home" if sent_home else "gives up", now))
        self.come_back(visit)

    def come_back(self, visit: Visit) -> None:
        """Most who leave unserved come back on the next open day; the rest are lost."""
        if self.rng.random() < self.params.return_share:
            self.returned += 1
            self._returning.append(visit._replace(attempt=visit.attempt + 1))
        else:
            self.lost += 1

    # -- arrivals -------------------------------------------------------------------------------
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
        help_seekers, free, fee = poisson_quantile(rng.random(3), means).tolist()
        kinds = np.repeat(np.array([HELP, FREE, FEE_CASH]), [help_seekers, free, fee])
        kinds[help_seekers + free:][rng.random(fee) < self.qr_share] = FEE_QR
        visits = self.draw_visits(kinds) + self._returning
        self._returning = []
        order_u = rng.random(len(visits))
        minute = np.searchsorted(self._arrival_cdf, order_u, side="right")
        times = day * MINUTES_PER_DAY + minute + rng.random(len(visits))
        order = np.argsort(times, kind="stable")
        self.open_days += 1
        return times[order].tolist(), [visits[i] for i in order.tolist()]

    def draw_visits(self, kinds: np.ndarray) -> list[Visit]:
        """One visit for each entry of `kinds` (FEE_CASH, FEE_QR, FREE, HELP) with its service minutes
        and patience drawn: each from a unit draw scaled by the mean of the visit's kind and procedure."""
        count = len(kinds)
        if count == 0:
            return []
        params, rng = self.params, self.rng
        factors = np.array([p.minutes_factor for p in params.procedures])
        if len(factors) > 1:
            factors = factors[rng.choice(len(factors), count, p=[p.share for p in params.procedures])]
        receive = self._service_draw(count) * params.receive_minutes * factors * (kinds != HELP)
        payment_mean = np.array([params.cash_minutes, params.qr_minutes, 0.0, 0.0])  # by kind
        payment = self._service_draw(count) * payment_mean[kinds]
        guided_kind = (kinds == FEE_CASH) | (kinds == HELP)
        guidance = self._service_draw(count) * params.guidance_minutes * guided_kind
        # An offer of guidance is accepted below guide_share; a help seeker is always guided.
        accepts = np.where(kinds == FEE_CASH, rng.random(count), np.where(kinds == HELP, -1.0, 1.0))
        if params.patience_minutes is None:
            patience: list[float | None] = [None] * count
        else:
            patience = rng.exponential(params.patience_minutes, count).tolist()
        return list(map(Visit, itertools.islice(self._numbers, count), kinds.tolist(), receive.tolist(),
                        payment.tolist(), guidance.tolist(), patience, accepts.tolist()))

    def _service_draw(self, count: int) -> np.ndarray:
        """`count` service times of mean 1: gamma with the shop's CV, or exponential when ``service_cv``
        is None (the caller scales them by the mean)."""
        cv = self.params.service_cv
        if cv is None:
            return self.rng.exponential(1.0, count)
        shape = 1.0 / (cv * cv)
        return self.rng.gamma(shape, 1.0 / shape, count)

    # -- books ----------------------------------------------------------------------------------
    def close_books(self, day: int) -> None:
        """Appends the day's row to ``daily`` (differences of the running totals)."""
        now = self.env.now
        self._catch_up(now)
        self._queue_changed(now)
        totals = self._totals()
        self.daily.append(tuple(t - m for t, m in zip(totals, self._ledger_mark, strict=True)))
        self._ledger_mark = totals

    def finish(self) -> None:
        """Closes the books of the day in progress at the end of a run (`env.run(until=…)` stops
        just before the midnight at which the doors would close them)."""
        days_begun = math.ceil(self.env.now / MINUTES_PER_DAY)
        if len(self.daily) < days_begun:
            self.close_books(len(self.daily))

    def _totals(self) -> tuple[float, ...]:
        busy = self.serving_minutes + self.cash_minutes + self.guidance_minutes
        return (self.serving_minutes, self.cash_minutes, self.guidance_minutes,
                max(0.0, self.on_duty_minutes - busy), self.on_duty_minutes, float(self.joined + self.balked),
                float(self.served), float(self.guided), float(self.balked), float(self.reneged),
                float(self.sent_home), self.queue_area)

    def daily_table(self) -> np.ndarray:
        """(days, len(DAILY_COLUMNS)) float64: one row per day closed so far."""
        return np.array(self.daily, dtype=float).reshape(-1, len(DAILY_COLUMNS))

    @property
    def officer_minutes(self) -> dict[str, float]:
        """Officer-minutes by activity (``serving``, ``cash``, ``guidance``, ``idle``) so far."""
        on_duty = self.on_duty_minutes if self.params.opening is not None else self.params.seats * self.env.now
        busy = self.serving_minutes + self.cash_minutes + self.guidance_minutes
        return dict(zip(ACTIVITIES, (self.serving_minutes, self.cash_minutes, self.guidance_minutes,
                                     max(0.0, on_duty - busy)), strict=True))

    def summary(self) -> CounterSummary:
        """The figures of the run so far."""
        self._catch_up(self.env.now)
        self._queue_changed(self.env.now)
        waits = np.frombuffer(self.waits, dtype=float) if self.waits else np.zeros(0)
        minutes = self.officer_minutes
        on_duty = sum(minutes.values())
        open_days = max(1, self.open_days)
        return CounterSummary(
            wait_mean=float(waits.mean()) if waits.size else math.nan,
            wait_p50=float(np.quantile(waits, 0.5)) if waits.size else math.nan,
            wait_p90=float(np.quantile(waits, 0.9)) if waits.size else math.nan,
            p_wait=float((waits > 0).mean()) if waits.size else math.nan,
            queue_by_hour=np.array(self.queue_area_by_hour) / (60.0 * open_days),
            utilisation=(on_duty - minutes["idle"]) / on_duty if on_duty else math.nan,
            officer_hours={name: value / 60.0 for name, value in minutes.items()},
            counts={"arrivals": self.joined + self.balked, "joined": self.joined, "served": self.served,
                    "balked": self.balked, "reneged": self.reneged, "sent_home": self.sent_home,
                    "returned": self.returned, "lost": self.lost, "guided": self.guided},
        )


DAILY_COLUMNS = ("serving", "cash", "guidance", "idle", "on_duty", "visits", "served", "guided", "balked",
                 "reneged", "sent_home", "queue_minutes")
"""Columns of `OneStopShop.daily_table`: officer-minutes by activity and on duty, people who came
(``visits`` includes those who balked), served, guided online, balked, reneged, sent home at
closing, and citizen-minutes spent waiting."""


@dataclass(frozen=True)
class CounterSummary:
    """Figures of one shop over a run. Waits in minutes; officer time in hours."""

    wait_mean: float
    wait_p50: float
    wait_p90: float
    p_wait: float
    """Share of served citizens who waited at all."""
    queue_by_hour: np.ndarray
    """(24,) mean number of citizens waiting in each hour of the day, over open days."""
    utilisation: float
    """Busy share of the officer-time seated at the counters."""
    officer_hours: dict[str, float]
    """By activity: ``serving``, ``cash``, ``guidance``, ``idle``."""
    counts: dict[str, int] = field(default_factory=dict)


def _arrival_intensity(params: CounterParams) -> np.ndarray:
    """(1440,) relative arrival intensity by minute: the hourly profile inside the opening windows."""
    intensity = np.zeros(MINUTES_PER_DAY)
    hourly = np.repeat(np.asarray(params.hourly, dtype=float), 60)
    for opens, closes in params.opening or ():
        intensity[int(opens): int(closes)] = hourly[int(opens): int(closes)]
    return intensity


def _arrival_cdf(params: CounterParams) -> np.ndarray:
    """Cumulative share of a day's arrivals by minute."""
    cdf = np.cumsum(_arrival_intensity(params))
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
    warmup: int | None = None,
) -> MMCResult:
    """Runs the counter model as an M/M/c queue: `warmup` customers (default a tenth of
    `customers`) are discarded, then `customers` are measured; the run ends when all are served."""
    _require(servers >= 1, "servers", servers, "must be >= 1")
    _require(customers >= 1, "customers", customers, "must be >= 1")
    warmup = customers // 10 if warmup is None else warmup
    _require(warmup >= 0, "warmup", warmup, "must be >= 0")
    if arrival_rate >= servers * service_rate:
        raise ValueError(f'the queue is unstable: "arrival_rate" {arrival_rate!r} >= "servers" × "service_rate" = '
                         f"{servers * service_rate!r}; lower the arrival rate or add servers")
    env = simpy.Environment()
    shop = OneStopShop(env, CounterParams.mmc(servers, arrival_rate, service_rate), rng, customers=warmup + customers)
    env.run()
    arrived = np.frombuffer(shop.waits_arrived, dtype=float)
    waits = np.frombuffer(shop.waits, dtype=float)
    order = np.argsort(arrived, kind="stable")
    measured = waits[order][warmup:]
    work = shop.serving_minutes
    return MMCResult(waits=measured.copy(), utilisation=work / (servers * shop.last_arrival),
                     customers=int(measured.size), events=_events_scheduled(env))


def _events_scheduled(env: simpy.Environment) -> int:
    """Events the environment has scheduled so far (SimPy numbers them from a counter)."""
    return next(env._eid)  # reading it consumes one id, harmless at the end of a run


def describe(summary: CounterSummary) -> str:
    """A few lines a planner can read: waits, the queue through the day, officers' time, the counts."""
    hours = summary.officer_hours
    busy_hours = [h for h in range(24) if summary.queue_by_hour[h] >= 0.05]  # those that print as 0.0 say nothing
    queue = " | ".join(f"{h:02d}h {summary.queue_by_hour[h]:.1f}" for h in busy_hours)
    counts = ", ".join(f"{name.replace('_', ' ')} {value}" for name, value in summary.counts.items())
    return "\n".join([
        f"wait (minutes): mean {summary.wait_mean:.1f}, p50 {summary.wait_p50:.1f}, p90 {summary.wait_p90:.1f}; "
        f"{summary.p_wait:.0%} waited at all",
        f"people waiting, by hour: {queue}",
        f"officers: utilisation {summary.utilisation:.0%}; hours serving {hours['serving']:.1f}, "
        f"cash {hours['cash']:.1f}, guidance {hours['guidance']:.1f}, idle {hours['idle']:.1f}",
        f"citizens: {counts}",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m models.counters [DAYS] [SEED]``: one default shop (3 officers, 60 dossiers a day)."""
    args = list(argv if argv is not None else sys.argv[1:])
    days = int(args[0]) if args else 5
    seed = int(args[1]) if len(args) > 1 else 1
    env = simpy.Environment()
    shop = OneStopShop(env, CounterParams(), np.random.default_rng(seed), start=dt.date(2024, 1, 1))
    env.run(until=days * MINUTES_PER_DAY)
    print(f"One-stop shop, {shop.params.officers} officers, {days} days from {shop.start}, seed {seed}")
    print(describe(shop.summary()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
