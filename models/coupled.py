"""One replication of a scenario: adoption and every unit's one-stop-shop counters in one SimPy environment.

*Scenario.* Each morning the adoption model advances the province's citizens one day: some learn
of online payment, some become able to pay online, some try it, some lapse after a payment that
failed or was shown as unpaid. The share of fee-bearing dossiers paid online today (``share_today``)
decides how many people still come to the one-stop-shop counter (bộ phận một cửa) of each unit:
the counters read it when a citizen arrives. At the counter, officers who guide a citizen through
the online flow ("cầm tay chỉ việc") hand that citizen back to the adoption model
(``add_guided``), so guidance capacity feeds adoption and adoption empties the queue.

The clock is in minutes from 00:00 (Asia/Ho_Chi_Minh) of ``simulation.start``; a day is 1,440.
The result is compact NumPy arrays that pickle cheaply, so replications can run on other
processes or a Dask cluster.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

MINUTES_PER_DAY = 1440
PERIOD_DAYS = 28
"""Length of the "before" and "after" windows in which counter waits and officer time are compared."""

PERIODS = ("before", "after")
WAIT_STATS = ("p50", "p90", "mean", "count")


@dataclass(frozen=True)
class ReplicationResult:
    """What one replication reports. Days count from ``start``; units follow ``unit_ids``."""

    start: dt.date
    """First simulated day (``simulation.start``)."""
    unit_ids: tuple[str, ...]
    months: tuple[str, ...]
    """Calendar months of the horizon, ``YYYY-MM``, in order (rows of ``officer_minutes``)."""
    activities: tuple[str, ...]
    """Officer activities (columns of ``officer_minutes``), e.g. serving, cash, guidance, idle."""
    periods: tuple[tuple[int, int], ...]
    """Day ranges [first, end) of the "before" and "after" windows (see `PERIODS`)."""
    daily_share: np.ndarray
    """(days, units) float32: share of fee-bearing dossiers paid online that day."""
    counter_visits: np.ndarray
    """(days, units) int32: people who came to the counter (in-person dossiers and help seekers)."""
    guided: np.ndarray
    """(days, units) int32: citizens an officer guided to pay online (fed to the adoption model)."""
    told_unpaid: np.ndarray
    """(days, units) int32: citizens who paid online but were told their fee was unpaid."""
    waits: np.ndarray
    """(units, periods, 4) float32: counter wait p50, p90, mean (minutes) and count per window; NaN if none."""
    officer_minutes: np.ndarray
    """(months, units, activities) float32: officer minutes by activity per calendar month."""
    period_officer_minutes: np.ndarray
    """(periods, units, activities) float32: officer minutes by activity within each window."""
    open_days: np.ndarray
    """(periods, units) int32: days the counters were open within each window."""

    @property
    def days(self) -> int:
        return int(self.daily_share.shape[0])
