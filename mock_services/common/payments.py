"""The one payment state machine of the national payment platform (docs/contracts.md §1).

A payment starts ``created`` when an agency's dossier system asks the gateway to collect a fee.
The citizen chooses a bank (``awaiting_bank``); the bank approves (``paid``) or declines
(``failed``); the citizen may cancel, and an unpaid payment expires. A manual bank transfer waits
for an officer to confirm it (``awaiting_officer_confirmation``). A paid fee may be refunded in
part (``partially_refunded``) or in full (``refunded``)::

    created ──> awaiting_bank ──> paid | failed | cancelled | expired
    created ──> cancelled | expired
    created ──> awaiting_officer_confirmation ──> paid | failed
    paid ──> partially_refunded ──> refunded ;  paid ──> refunded

Every state change goes through `transition`; any other move raises `IllegalTransition`, which the
services answer with 409 ``{"error": "illegal_transition", "message": "… from <a> to <b>"}``.
"""

from __future__ import annotations

from enum import StrEnum

from motcua.mock_services.errors import IllegalTransition as IllegalTransition


class State(StrEnum):
    """The states of a payment."""

    CREATED = "created"
    AWAITING_BANK = "awaiting_bank"
    AWAITING_OFFICER_CONFIRMATION = "awaiting_officer_confirmation"
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.CREATED: frozenset({State.AWAITING_BANK, State.CANCELLED, State.EXPIRED,
                              State.AWAITING_OFFICER_CONFIRMATION}),
    State.AWAITING_BANK: frozenset({State.PAID, State.FAILED, State.CANCELLED, State.EXPIRED}),
    State.AWAITING_OFFICER_CONFIRMATION: frozenset({State.PAID, State.FAILED}),
    State.PAID: frozenset({State.PARTIALLY_REFUNDED, State.REFUNDED}),
    State.PARTIALLY_REFUNDED: frozenset({State.PARTIALLY_REFUNDED, State.REFUNDED}),
    State.FAILED: frozenset(),
    State.CANCELLED: frozenset(),
    State.EXPIRED: frozenset(),
    State.REFUNDED: frozenset(),
}
"""The legal moves; a partially refunded payment may be refunded again in part until nothing is left."""

FINAL_STATES = frozenset(state for state, moves in TRANSITIONS.items() if not moves)
"""States a payment never leaves."""

SETTLED_STATES = frozenset({State.PAID, State.PARTIALLY_REFUNDED, State.REFUNDED})
"""States in which the bank has approved the money (what reconciliation reports)."""


def can_transition(current: State | str, target: State | str) -> bool:
    return State(target) in TRANSITIONS[State(current)]


def transition(current: State | str, target: State | str, payment_id: str | None = None) -> State:
    """Return the new state, or raise `IllegalTransition` naming both states."""
    if not can_transition(current, target):
        now = State(current)
        raise IllegalTransition(now, State(target), payment_id, allowed=TRANSITIONS[now])
    return State(target)


def refund_target(refunded_vnd: int, amount_vnd: int) -> State:
    """The state after refunds totalling `refunded_vnd` of a payment of `amount_vnd`."""
    return State.REFUNDED if refunded_vnd >= amount_vnd else State.PARTIALLY_REFUNDED
