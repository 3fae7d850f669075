"""Abort on fail: stop a run early once a threshold has already failed (k6's ``abortOnFail``).

*Scenario*: a 30-minute soak with ``--slo 'lost_callbacks.count < 1' --slo-abort``; at minute 3 an IPN is lost.
The count cannot come back under its limit, so waiting 27 more minutes teaches nothing: the harness ends the
test, the run folder is written as usual, and the summary says which threshold stopped it (``aborted``).

The harness's reader (the Locust master, or the only process) knows the callbacks exactly while the run goes,
so the metrics checked live are those: ``callback`` (percentiles need `MIN_CALLBACKS` samples first, so one slow
callback at the start does not stop a run), ``lost_callbacks``, ``late_callbacks``. Other metrics are judged at
the end, as always; an abort threshold on them is refused before anything starts (`check_live`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from motcua.errors import InputError
from motcua.loadtest.callback_stats import callback_summaries
from motcua.loadtest.callbacks import CallbackCorrelator
from motcua.loadtest.thresholds import Threshold, measure, parse

LIVE_METRICS = ("callback", "lost_callbacks", "late_callbacks")
MIN_CALLBACKS = 20
CHECK_EVERY_S = 1.0


def check_live(thresholds: Sequence[Threshold]) -> None:
    """`InputError` (exit 2) for an abort threshold on a metric the harness cannot judge while the run goes."""
    for t in thresholds:
        if t.abort and t.metric not in LIVE_METRICS:
            raise InputError(f"--slo {t.expression!r} with abort: only {', '.join(LIVE_METRICS)} are checked while "
                             "the run goes; the others are judged at the end")


@dataclass
class AbortWatch:
    """The abort thresholds of a run, checked against the correlator at most once per `CHECK_EVERY_S`."""

    thresholds: list[Threshold]
    deadline_ms: float
    failed: str | None = None
    """The expression of the threshold that stopped the run."""
    _next_check: float = field(default=0.0, repr=False)

    @classmethod
    def from_expressions(cls, expressions: Sequence[str], deadline_s: float) -> AbortWatch:
        return cls([parse(e, abort=True) for e in expressions], deadline_s * 1000)

    def check(self, corr: CallbackCorrelator, now: float | None = None) -> str | None:
        """The failed threshold's expression the first time one has failed, else None."""
        now = time.time() if now is None else now
        if self.failed is not None or not self.thresholds or now < self._next_check:
            return None
        self._next_check = now + CHECK_EVERY_S
        callbacks = callback_summaries([s.as_row() for s in corr.samples], self.deadline_ms)
        data = {
            "callbacks": callbacks,
            "lost_callbacks": len(corr.lost - corr.late),
            "late_callbacks": len(corr.late),
            "approvals": len(corr.approvals),
        }
        for t in self.thresholds:
            value, censored = measure(data, t)
            if value is None or (t.metric == "callback" and callbacks["ipn_ack"]["count"] < MIN_CALLBACKS):
                continue
            if not t.holds(value, censored):
                self.failed = t.expression
                return self.failed
        return None
