"""The gateway ledger under random sequences of operations (Hypothesis): its invariants always hold.

Every operation is a unit of work on a real SQLite database, as the gateway runs it; a refused one
(`ApiError`, `IllegalTransition`) must leave nothing behind, and no other exception may escape.
"""

from __future__ import annotations

import itertools
import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st
from motcua.mock_services.common.http import ApiError
from motcua.mock_services.common.payments import FINAL_STATES, SETTLED_STATES, IllegalTransition, State
from motcua.mock_services.gateway import ledger

AMOUNT = 100_000
NEW = ledger.NewPayment(
    agency_code="000.00.12.H37", dossier_code="000.00.12.H37-240607-0001", procedure_code="p", group="fee",
    amount_vnd=AMOUNT, payer={"name": "A", "cccd": "020090001234", "phone": "0912345678"},
    ipn_url="http://127.0.0.1:9/ipn", return_url="http://127.0.0.1:9/r", expires_in_s=20,
)

operations = st.lists(
    st.tuples(
        # Weighted by repetition, so that many sequences get as far as paid and refunded.
        st.sampled_from(["create", "checkout", "checkout", "approve", "approve", "approve", "decline", "cancel",
                         "refund", "refund", "refund", "manual", "confirm", "reject", "expire", "replay"]),
        st.integers(0, 2),  # which payment (all three exist from the start)
        st.sampled_from([AMOUNT, AMOUNT // 2, 1, AMOUNT + 1]),  # a refund amount (full, half, tiny, too much)
        st.sampled_from(["VIETINBANK", "VIETINBANK", "BIDV"]),  # BIDV: not the bank chosen at checkout
    ),
    max_size=40,
)


def _apply(conn: sqlite3.Connection, op: str, i: int, amount: int, bank: str, clock: list[float]) -> None:
    pid, now = f"P{i}", clock[0]
    clock[0] += 1.0  # every operation moves time on: payments expire after 20 s
    result = ledger.BankResult(payment_id=pid, bank_code=bank, response_code="00" if op == "approve" else "51",
                               bank_txn_no=f"T{i}-{op}", amount_vnd=AMOUNT, approved_at=now)
    if op == "create":  # the agency sends the create again (same key, same body)
        ledger.insert_payment(conn, NEW, payment_id=pid, idempotency_key=f"k{i}", fingerprint="f", now=now)
    elif op == "checkout":
        ledger.checkout(conn, pid, bank, now)
    elif op in ("approve", "decline"):
        ledger.apply_bank_result(conn, result, now=now, ipn_status="pending", ipn_due_at=now)
    elif op == "replay":  # the bank sends the approval again
        ledger.apply_bank_result(conn, result.__class__(**{**result.__dict__, "response_code": "00",
                                                          "bank_txn_no": f"T{i}-approve"}),
                                 now=now, ipn_status="pending", ipn_due_at=now)
    elif op == "cancel":
        ledger.move(conn, pid, State.CANCELLED)
    elif op == "refund":
        ledger.refund(conn, pid, amount)
    elif op == "manual":
        ledger.move(conn, pid, State.AWAITING_OFFICER_CONFIRMATION, bank_code="MANUAL")
    elif op in ("confirm", "reject"):
        ledger.confirm_transfer(conn, pid, approved=op == "confirm", bank_txn_no=f"M{i}-{op}", now=now,
                                ipn_status="pending")
    elif op == "expire":
        ledger.expire_unstarted(conn, now)


def _snapshot(conn: sqlite3.Connection) -> list[tuple]:
    return [tuple(r) for r in conn.execute("SELECT * FROM payments ORDER BY payment_id")] + [
        tuple(r) for r in conn.execute("SELECT * FROM ipn_outbox ORDER BY payment_id")]


@settings(max_examples=300, deadline=None)
@given(operations)
def test_ledger_invariants_hold_under_any_sequence(ops):
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.executescript(ledger.SCHEMA)
    clock = [1_700_000_000.0]
    for i in range(3):
        _apply(conn, "create", i, 0, "BIDV", clock)
    history: dict[str, list[str]] = {}
    for op, i, amount, bank in ops:
        before = _snapshot(conn)
        conn.execute("SAVEPOINT op")
        try:
            _apply(conn, op, i, amount, bank, clock)
        except (ApiError, IllegalTransition):
            conn.execute("ROLLBACK TO op")
            assert _snapshot(conn) == before  # a refused operation leaves nothing behind
        conn.execute("RELEASE op")
        for row in conn.execute("SELECT payment_id, state FROM payments"):
            history.setdefault(row[0], []).append(row[1])
    outbox = {r[0] for r in conn.execute("SELECT payment_id FROM ipn_outbox")}
    for row in conn.execute("SELECT * FROM payments"):
        state = State(row["state"])
        settled = state in SETTLED_STATES
        assert (row["bank_approved_at"] is not None) == settled
        assert (row["payment_id"] in outbox) == settled  # an IPN is queued exactly for approved payments
        assert 0 <= row["refunded_vnd"] <= row["amount_vnd"]
        assert (row["refunded_vnd"] > 0) == (state in (State.PARTIALLY_REFUNDED, State.REFUNDED))
        assert (row["refunded_vnd"] == row["amount_vnd"]) == (state == State.REFUNDED)
    for states in history.values():
        for earlier, later in itertools.pairwise(states):
            if State(earlier) in FINAL_STATES:
                assert later == earlier  # nothing leaves a final state
