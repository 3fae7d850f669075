"""The officers (cán bộ một cửa) at the counters, as SimPy processes, and the citizen's walk-in.

An officer on a shift sits down when an opening window opens, takes one short break per window and
leaves for lunch or home when it closes, always after finishing the citizen being served
(`officer_on_shift`); while seated they call and serve the waiting citizens one after the other
(`officer_at_counter`). An idle officer waits on a `Wake` event that the shop rings when a citizen
walks in, when the doors announce more citizens, or when the break or closing time comes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import simpy
from motcua.models.counters.arrivals import SimProcess, Visit
from motcua.models.counters.fastpath import TimedEvent
from motcua.models.counters.params import MINUTES_PER_DAY

if TYPE_CHECKING:
    from motcua.models.counters.shop import OneStopShop


def citizen_at_counter(env: simpy.Environment, shop: OneStopShop, visit: Visit) -> SimProcess:
    """A citizen (công dân) walks into the one-stop shop now, as a process of their own.

    Looks at the queue and goes home if it is too long; otherwise takes a number and waits, until an
    officer calls them (`officer_at_counter`), their patience runs out, or the doors close for the day;
    those who leave unserved usually come back another day. The day's citizens need no process each:
    the doors announce them (`OneStopShop.expect`) and a waiting citizen is a queue entry that the
    officers call, so a visit costs one SimPy event, the end of its service.
    """
    shop.arrive(visit)
    yield from ()


def officer_on_shift(env: simpy.Environment, shop: OneStopShop, officer: int) -> SimProcess:
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
                       until: float) -> SimProcess:
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
            if woken is DUTY_ENDS:
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


class Wake(TimedEvent):
    """An idle officer's wake-up call. `succeed_after` triggers it some minutes from now, as `env.timeout`
    does, so that an officer who calls a citizen walking in wakes only once done serving them: one
    SimPy event for the call and the service instead of two."""


DUTY_ENDS = object()
"""Value of an idle officer's wake-up event when their break or closing time has come."""


def _no_trace(_: tuple[str, str, float]) -> None:
    pass

