"""The officers' queue of one unit's one-stop shop (`OneStopShop`): who waits, who is called, who gives up.

Officers and the doors are SimPy processes (`models.counters.officers`, `models.counters.arrivals`);
citizens are entries in the shop's queue. An officer with nobody to serve calls the next expected
citizen ahead of time and wakes when done serving them; citizens who come while every officer is busy
or away join the queue at their minute, and those whose patience runs out leave at theirs, the next
time anyone looks at the queue. So a visit costs one SimPy event (the end of its service).
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
from array import array
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import simpy
from motcua.models.counters.arrivals import ArrivalDraws, Visit, arrival_cdf, doors, poisson_doors
from motcua.models.counters.books import DAILY_COLUMNS, Books
from motcua.models.counters.officers import DUTY_ENDS, Wake, officer_at_counter, officer_on_shift
from motcua.models.counters.params import FEE_CASH, FEE_QR, FREE, CounterParams


class _Waiting:
    """A citizen in the queue: their visit, arrival minute, and whether they still wait."""

    __slots__ = ("arrived", "visit", "waiting")

    def __init__(self, visit: Visit, arrived: float) -> None:
        self.visit = visit
        self.arrived = arrived
        self.waiting = True



class OneStopShop(ArrivalDraws, Books):
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
        self._joins_by_chance = params.joins_by_chance
        self._by_class = params.priority_share > 0
        self.guide_share = params.guide_share
        """Share of cash payers who accept an officer's offer to guide them online (may change daily)."""
        self.qr_share = params.qr_share
        """Share of counter fee payers who pay by QR (may change daily)."""

        # Records: plain floats and compact arrays, no per-event dicts.
        self.waits = array("d")
        """Minutes each served citizen waited, in the order they were called."""
        self.waits_arrived = array("d")
        """Arrival minute of the citizen behind each entry of ``waits``."""
        self.waits_class = array("b")
        """Class of each entry of ``waits`` (1 priority, 0 ordinary), kept only when some citizens have priority."""
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
        self._priority_queue: deque[_Waiting] = deque()
        """Waiting citizens with priority at reception, in order of arrival: called before ``_queue``."""
        self._deadlines: list[tuple[float, int, _Waiting]] = []
        self._deadline_order = itertools.count()
        self._idle: dict[int, Wake] = {}
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
            self._arrival_cdf = arrival_cdf(params)
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
        if (self.balk_queue is not None and self.waiting >= self.balk_queue) or (
                self._joins_by_chance and self.waiting
                and self.rng.random() >= self.params.join_probability(self.waiting)):
            self.balked += 1
            if trace is not None:
                trace.append((f"citizen {visit.number}", "balks", now))
            self.come_back(visit)
            return
        self.joined += 1
        idle = self._idle
        if idle:  # an officer sits idle only while nobody waits: they call this citizen now
            officer = next(iter(idle))
            idle.pop(officer).succeed_after(self._serve(visit, now, now), visit)
            return
        self._queue_changed(now)
        self.waiting += 1
        entry = _Waiting(visit, now)
        (self._priority_queue if visit.priority else self._queue).append(entry)
        if visit.patience is not None:
            heapq.heappush(self._deadlines, (now + visit.patience, next(self._deadline_order), entry))

    def call_next(self) -> tuple[Visit, float] | None:
        """An officer calls the first citizen still waiting and starts serving them: returns the
        visit and its service minutes, or None when nobody waits."""
        now = self.env.now
        expected, deadlines = self._expected, self._deadlines
        if (expected and expected[0][0] <= now) or (deadlines and deadlines[0][0] <= now):
            self._catch_up(now)  # (most calls find nothing due: this skips the call)
        for queue in (self._priority_queue, self._queue) if self._by_class else (self._queue,):
            while queue:
                entry = queue.popleft()
                if entry.waiting:
                    entry.waiting = False
                    return entry.visit, self.start_service(entry.visit, entry.arrived)
        return None

    def wait_for_citizen(self, officer: int, until: float) -> Wake:
        """What an officer with nobody to serve waits on until minute `until`.

        If the next expected citizen walks in before `until`, the officer calls them now, ahead of time,
        and wakes when done serving them (value: the visit). That is what would happen at their arrival:
        nobody waits now, and nobody else walks in before them, so nobody is called, balks or gives up
        meanwhile, and an officer idle now is still idle then (others who run out of people later call
        the citizens after). Otherwise the officer sits idle until a citizen walks in (`_walk_in`; value:
        the visit, when done serving them), the doors announce more citizens or an officer leaving at
        this minute hands over the queue (None), or the break or closing time comes (`DUTY_ENDS`)."""
        wake = Wake(self.env)
        expected = self._expected
        if expected and expected[0][0] < until and (self.balk_queue is None or self.balk_queue > 0):
            at, visit = expected.popleft()
            self.joined += 1
            wake.succeed_after(at - self.env.now + self._serve(visit, at, at), visit)
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
        if (self._queue or self._priority_queue) and self._idle:
            self._wake(next(iter(self._idle)), None)

    def _duty_timer(self, timer: simpy.Event) -> None:
        if timer.value in self._idle:
            self._wake(timer.value, DUTY_ENDS)

    def _wake(self, officer: int, value: object) -> None:
        self._idle.pop(officer).succeed_after(0.0, value)

    def send_home(self) -> None:
        """The doors close for the day: everyone still waiting goes home."""
        now = self.env.now
        self._catch_up(now)
        for entry in sorted((*self._priority_queue, *self._queue), key=lambda e: e.arrived):
            if entry.waiting:
                entry.waiting = False
                self.give_up(entry.visit, entry.arrived, now, sent_home=True)
        self._queue.clear()
        self._priority_queue.clear()
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
        if self._by_class:
            self.waits_class.append(visit.priority)
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

