"""Callback latency: how long after the bank approved a payment the agency knew it was paid.

*Scenario*: a citizen pays 200,000 VND for a judicial record certificate; the bank approves at
10:02:03.120; the national platform forwards the notification (IPN) to the province's one-stop-shop
system, which acknowledges it at 10:02:03.480. The 360 ms in between is the callback latency the
engineers' SLO is about. If the IPN is lost, the officer at the counter cannot tell the dossier (hồ sơ)
was paid — Phú Thọ's "status not synchronised" — until reconciliation (đối soát) finds it.

No Locust worker sees the IPN: it goes from the gateway to the agency. So the harness reads the
agency's event journal (``GET /events?since=N``) from ONE place (the Locust master, or the only
process of a local run) — `motcua.safety.JournalReader`, the reader the invariant uses too — and a
`CallbackCorrelator` turns each ``payment_confirmed`` event into a ``CALLBACK`` sample timed by the
agency's own timestamps (``ipn_acked_at − bank_approved_at``). Workers tell the correlator which
payments the bank approved and which it declined (Locust custom messages), so a callback that has not
arrived ``deadline_s`` after approval becomes a ``CALLBACK`` *failure* instead of a silent omission.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from motcua.safety import CONFIRM_TYPES, ipn_latency_ms

CALLBACK = "CALLBACK"
IPN_TYPE = "payment_confirmed"
DUPLICATE_IPN = "ipn_duplicate"
"""The agency's journal event of an IPN for a dossier already paid (answered 02)."""
IPN_ACK = "ipn_ack"
"""Kind (a): bank approval → agency acknowledged the IPN."""
OFFICER_SEES_PAID = "officer_sees_paid"
"""Kind (b): the citizen's success page → an officer polling the dossier sees it paid."""
STATUS_POLL = "motcua_status_poll"
POLL_CONTEXT = {STATUS_POLL: True}
"""The Locust request context of a status poll (the officer's dossier, the citizen's order page): the waiting for
"paid", counted apart from the journeys' HTTP requests, so polls do not drive ``error_rate``
(`motcua.loadtest.plugin.Harness`, summary.json's ``status_polling``)."""

# fire(request_type, name, response_time_ms, exception_or_None): `events.request.fire` in the locustfile
Fire = Callable[[str, str, float, Exception | None], None]


class CallbackLost(Exception):
    """A callback did not arrive within its deadline (a CALLBACK failure in Locust's statistics)."""


def callback_names(kind: str, bank_code: str | None, group: str | None) -> tuple[str, str]:
    """The two Locust names of one callback: by bank and by payment group."""
    return f"{kind} bank:{bank_code or '?'}", f"{kind} group:{group or '?'}"


@dataclass
class Approval:
    """A payment the bank approved, as the citizen's charge response told the harness."""

    payment_id: str
    dossier_code: str
    bank_code: str
    group: str
    amount_vnd: int
    """The amount the bank charged (its answer's ``amount_vnd``): the invariant compares the credit with it."""
    approved_at: float


@dataclass
class CallbackSample:
    """One measured callback (kind, bank, group, latency in ms, ok)."""

    kind: str
    payment_id: str
    bank_code: str
    group: str
    latency_ms: float
    ok: bool
    at: float

    def as_row(self) -> list[Any]:
        return [self.kind, self.payment_id, self.bank_code, self.group, round(self.latency_ms, 3), self.ok, self.at]


SAMPLE_HEADER = ["kind", "payment_id", "bank_code", "group", "latency_ms", "ok", "at"]


@dataclass
class CallbackCorrelator:
    """Matches bank approvals with the agency's confirmations; fires CALLBACK samples and failures."""

    fire: Fire
    deadline_s: float
    approvals: dict[str, Approval] = field(default_factory=dict)
    pending: dict[str, float] = field(default_factory=dict)
    """payment_id → wall-clock deadline of approved payments not yet confirmed."""
    confirmed_via: dict[str, list[str]] = field(default_factory=dict)
    """payment_id → the confirm event types seen (``payment_confirmed``/``paid_by_reconciliation``)."""
    declined: dict[str, str] = field(default_factory=dict)
    """payment_id → dossier code of payments the bank declined: the agency must never mark them paid."""
    samples: list[CallbackSample] = field(default_factory=list)
    lost: set[str] = field(default_factory=set)
    late: set[str] = field(default_factory=set)
    reconciled: set[str] = field(default_factory=set)
    """Approved payments the reconciliation credited before any IPN; pending until their IPN or deadline."""
    events_seen: int = 0

    def approve(self, approval: Approval) -> None:
        """The bank approved a payment (reported by the worker that ran the citizen's journey)."""
        if approval.payment_id in self.approvals:
            return
        self.approvals[approval.payment_id] = approval
        if IPN_TYPE not in self.confirmed_via.get(approval.payment_id, ()):
            self.pending[approval.payment_id] = approval.approved_at + self.deadline_s

    def decline(self, payment_id: str, dossier_code: str) -> None:
        """The bank declined a payment (reported by the worker that ran the citizen's journey)."""
        self.declined[payment_id] = dossier_code

    def observe(self, event: Mapping[str, Any]) -> None:
        """One event of the agency's journal.

        A payment the reconciliation (đối soát) credits before its IPN came stays pending: if the IPN still arrives
        (journalled ``ipn_duplicate``, the agency answering 02) within the deadline, the callback arrived; if it
        does not, the callback is lost (and the reconciliation recovered the payment)."""
        self.events_seen += 1
        kind = event.get("type")
        payment_id = event.get("payment_id")
        if not payment_id:
            return
        if kind == DUPLICATE_IPN:
            self._ipn_after_reconciliation(payment_id, event)
            return
        if kind not in CONFIRM_TYPES:
            return
        first = payment_id not in self.confirmed_via
        self.confirmed_via.setdefault(payment_id, []).append(kind)
        if not first:
            return  # a second confirmation: the invariant check reports it
        if kind == "paid_by_reconciliation":
            self.reconciled.add(payment_id)  # still waiting for its IPN, until the deadline
            return
        self.pending.pop(payment_id, None)
        if payment_id in self.lost:
            self.late.add(payment_id)  # already reported as a failure; do not count it twice
            return
        # the citizen's bank answer when known: exact, where a VNPay IPN's vnp_PayDate has whole seconds only
        approval = self.approvals.get(payment_id)
        ms = ipn_latency_ms({**event, "bank_approved_at": approval.approved_at} if approval is not None else event)
        if ms is not None:
            self._record(IPN_ACK, payment_id, event.get("bank_code"), event.get("group"), ms, None)

    def _ipn_after_reconciliation(self, payment_id: str, event: Mapping[str, Any]) -> None:
        if payment_id not in self.reconciled:
            return
        self.reconciled.discard(payment_id)
        if payment_id in self.lost:
            self.late.add(payment_id)
            return
        self.pending.pop(payment_id, None)
        approval = self.approvals.get(payment_id)
        approved = approval.approved_at if approval is not None else event.get("bank_approved_at")
        if approved and event.get("at"):
            ms = (float(event["at"]) - float(approved)) * 1000
            self._record(IPN_ACK, payment_id, event.get("bank_code"), event.get("group"), ms, None)

    def expire(self, now: float | None = None) -> int:
        """Turn every approval past its deadline into a CALLBACK failure; returns how many."""
        now = time.time() if now is None else now
        overdue = [pid for pid, deadline in self.pending.items() if deadline <= now]
        for pid in overdue:
            del self.pending[pid]
            self.lost.add(pid)
            appr = self.approvals[pid]
            why = f"no IPN acknowledged within {self.deadline_s:g} s of bank approval"
            if pid in self.reconciled:
                why += "; the payment was found only by reconciliation (đối soát)"
            self._record(IPN_ACK, pid, appr.bank_code, appr.group, self.deadline_s * 1000, CallbackLost(why))
        return len(overdue)

    def _record(self, kind: str, pid: str, bank: str | None, group: str | None, ms: float,
                error: Exception | None) -> None:
        ms = round(max(0.0, ms), 3)  # the agency stamps milliseconds; drop float noise
        self.samples.append(CallbackSample(kind, pid, bank or "?", group or "?", ms, error is None, time.time()))
        for name in callback_names(kind, bank, group):
            self.fire(CALLBACK, name, ms, error)

    def latest_deadline(self) -> float | None:
        return max(self.pending.values()) if self.pending else None
