"""The shop's books: the daily ledger of officer time and citizens, and the summary of a run.

`Books` is mixed into `OneStopShop`: at midnight the doors close the day's books (`Books.close_books`,
one row of `DAILY_COLUMNS`), and `Books.summary` gives a run's waits, queue by hour, officer time by
activity and counts (`CounterSummary`).
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from motcua.models.counters.params import ACTIVITIES, MINUTES_PER_DAY, CounterParams

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
    wait_by_class: dict[str, float] = field(default_factory=dict)
    """Mean wait of served citizens by class at reception (``priority``, ``ordinary``), when some have priority."""



class Books:
    """The records of a shop and the figures made from them (mixed into `OneStopShop`)."""

    env: Any
    params: CounterParams
    daily: list[tuple[float, ...]]
    waits: array
    waits_class: array
    serving_minutes: float
    cash_minutes: float
    guidance_minutes: float
    on_duty_minutes: float
    joined: int
    served: int
    guided: int
    balked: int
    reneged: int
    sent_home: int
    returned: int
    lost: int
    queue_area: float
    queue_area_by_hour: list[float]
    open_days: int
    _ledger_mark: tuple[float, ...]

    def _catch_up(self, now: float) -> None:
        raise NotImplementedError

    def _queue_changed(self, now: float) -> None:
        raise NotImplementedError

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
            wait_by_class=self.wait_by_class(),
        )

    def wait_by_class(self) -> dict[str, float]:
        """Mean wait of the served citizens by class at reception (empty when nobody has priority)."""
        if not self.waits_class:
            return {}
        waits = np.frombuffer(self.waits, dtype=float)
        priority = np.frombuffer(self.waits_class, dtype=np.int8).astype(bool)
        return {name: float(waits[chosen].mean()) if chosen.any() else math.nan
                for name, chosen in (("priority", priority), ("ordinary", ~priority))}

