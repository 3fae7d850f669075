"""The counter officer (cán bộ một cửa): "has this dossier been paid yet?"

*Scenario*: a citizen paid online and was shown the success page. At the one-stop-shop counter an
officer keeps the dossier (hồ sơ) open and refreshes its status every ``officer_poll_s`` seconds
until it says paid — the moment she can go on processing it. When the agency system never learns of
the payment (Lạng Sơn: "the agency did not receive the status right after the citizen paid"), she
waits in vain; after the callback deadline that is a ``CALLBACK`` failure.

`OfficerDesk` is one officer per Locust process watching every dossier its citizens paid. The time
from the success page to her seeing "paid" is the ``CALLBACK officer_sees_paid`` metric (by bank and
by payment group); it includes her polling interval, as real officers' waits do.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

import gevent

from motcua.loadtest.callbacks import CALLBACK, OFFICER_SEES_PAID, POLL_CONTEXT, CallbackLost, callback_names
from motcua.loadtest.journey_stats import log_outside_total

if TYPE_CHECKING:
    from locust.contrib.fasthttp import FastHttpSession
    from locust.env import Environment

PAID = ("paid", "paid_by_reconciliation")


class OfficerWitness(Protocol):
    """What the desk tells the harness (`motcua.loadtest.plugin.Harness`), and the Locust run it reports to."""

    environment: Environment

    def officer_saw(self, dossier: str, bank: str, group: str, latency_ms: float, ok: bool) -> None: ...


class OfficerDesk:
    """Polls the status of dossiers whose citizens saw the success page, until paid or the deadline."""

    def __init__(self, client: FastHttpSession, agency_url: str, harness: OfficerWitness, *, poll_s: float,
                 deadline_s: float) -> None:
        self.client, self.agency_url, self.harness = client, agency_url.rstrip("/"), harness
        self.poll_s, self.deadline_s = poll_s, deadline_s
        self.watching: dict[str, tuple[float, str, str]] = {}  # dossier → (success page at, bank, group)
        self._greenlet: gevent.Greenlet | None = None

    def watch(self, dossier_code: str, success_at: float, bank: str, group: str) -> None:
        self.watching[dossier_code] = (success_at, bank, group)
        if self._greenlet is None or self._greenlet.dead:
            self._greenlet = gevent.spawn(self._shift)

    def _shift(self) -> None:
        while self.watching:
            self.round()
            gevent.sleep(self.poll_s)

    def round(self) -> None:
        """Look at every open dossier once."""
        codes = list(self.watching)
        for code, status in zip(codes, self.statuses(codes), strict=True):
            success_at, bank, group = self.watching[code]
            now = time.time()
            if status in PAID:
                self._saw(code, bank, group, (now - success_at) * 1000, None)
            elif now - success_at > self.deadline_s:
                error = CallbackLost(f"officer still sees {status!r} {self.deadline_s:g} s after the success page")
                self._saw(code, bank, group, self.deadline_s * 1000, error)

    def statuses(self, codes: list[str]) -> list[str | None]:
        """The status of each dossier, one after the other (as one officer clicks through them)."""
        return [self.status(code) for code in codes]

    def status(self, code: str) -> str | None:
        url = f"{self.agency_url}/dossiers/{code}"
        with self.client.get(url, name="/dossiers/[code] (officer)", catch_response=True,
                             context=POLL_CONTEXT) as resp:
            if resp.status_code != 200:
                resp.failure(f"{resp.status_code}")
                return None
            return resp.json().get("status")

    def _saw(self, code: str, bank: str, group: str, ms: float, error: Exception | None) -> None:
        del self.watching[code]
        self.harness.officer_saw(code, bank, group, ms, error is None)
        for name in callback_names(OFFICER_SEES_PAID, bank, group):
            log_outside_total(self.harness.environment.stats, CALLBACK, name, ms, error)

    def drain(self) -> None:
        """At the end of the run: keep polling until every watched dossier is paid or past its deadline."""
        limit = time.time() + self.deadline_s + self.poll_s + 1
        while self.watching and time.time() < limit:
            gevent.sleep(min(self.poll_s, 0.2))
        if self.watching:  # the polling greenlet died: settle the rest ourselves
            self.round()
