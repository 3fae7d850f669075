"""The payment state machine: every legal move, every illegal one refused naming both states."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from motcua.mock_services.common.payments import (
    FINAL_STATES,
    TRANSITIONS,
    IllegalTransition,
    State,
    can_transition,
    refund_target,
    transition,
)

LEGAL = {
    ("created", "awaiting_bank"), ("created", "cancelled"), ("created", "expired"),
    ("created", "awaiting_officer_confirmation"),
    ("awaiting_bank", "paid"), ("awaiting_bank", "failed"), ("awaiting_bank", "cancelled"),
    ("awaiting_bank", "expired"),
    ("awaiting_officer_confirmation", "paid"), ("awaiting_officer_confirmation", "failed"),
    ("paid", "partially_refunded"), ("paid", "refunded"),
    ("partially_refunded", "partially_refunded"), ("partially_refunded", "refunded"),
}


def test_the_table_is_the_contract():
    """docs/contracts.md §1 lists exactly these moves."""
    table = {(a.value, b.value) for a, moves in TRANSITIONS.items() for b in moves}
    assert table == LEGAL
    assert {s.value for s in FINAL_STATES} == {"failed", "cancelled", "expired", "refunded"}


@pytest.mark.parametrize(("a", "b"), sorted(itertools.product([s.value for s in State], repeat=2)))
def test_every_pair(a, b):
    if (a, b) in LEGAL:
        assert transition(a, b) == State(b)
    else:
        with pytest.raises(IllegalTransition, match=f"cannot move from {a} to {b}"):
            transition(a, b, "pay-1")


def test_message_names_payment_and_allowed_moves():
    with pytest.raises(IllegalTransition, match=r"payment p1 cannot move from paid to awaiting_bank; "
                                                r"allowed from paid: partially_refunded, refunded"):
        transition(State.PAID, State.AWAITING_BANK, "p1")
    with pytest.raises(IllegalTransition, match=r"allowed from expired: none \(final state\)"):
        transition("expired", "paid")


@given(st.lists(st.sampled_from(list(State)), max_size=12))
def test_random_walks_never_leave_a_final_state(path):
    state = State.CREATED
    for target in path:
        if can_transition(state, target):
            assert state not in FINAL_STATES
            state = transition(state, target)
        else:
            with pytest.raises(IllegalTransition):
                transition(state, target)


@given(st.integers(1, 10**9), st.integers(1, 10**9))
def test_refund_target(amount, refunded):
    refunded = min(refunded, amount)
    expected = State.REFUNDED if refunded == amount else State.PARTIALLY_REFUNDED
    assert refund_target(refunded, amount) == expected
