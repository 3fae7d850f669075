"""The gateway's ledger: payments, bank results and the IPN outbox in SQLite.

Every function here is a unit of work for `Database.transact` (it takes the connection, runs inside
the group commit, and either finishes or raises — then nothing it wrote stays). The state of a
payment changes only through `mock_services.common.payments.transition`.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from motcua.mock_services.common.catalogue import PAYMENT_GROUPS
from motcua.mock_services.common.payments import SETTLED_STATES, State, refund_target, transition
from motcua.mock_services.errors import ApiError

SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (
    payment_id       TEXT PRIMARY KEY,
    idempotency_key  TEXT NOT NULL UNIQUE,
    fingerprint      TEXT NOT NULL,
    agency_code      TEXT NOT NULL,
    dossier_code     TEXT NOT NULL,
    procedure_code   TEXT NOT NULL,
    grp              TEXT NOT NULL,
    amount_vnd       INTEGER NOT NULL CHECK (amount_vnd > 0),
    refunded_vnd     INTEGER NOT NULL DEFAULT 0,
    payer            TEXT NOT NULL,
    ipn_url          TEXT NOT NULL,
    return_url       TEXT NOT NULL,
    state            TEXT NOT NULL,
    bank_code        TEXT,
    bank_txn_no      TEXT UNIQUE,
    response_code    TEXT,
    created_at       REAL NOT NULL,
    expires_at       REAL NOT NULL,
    bank_approved_at REAL,
    recon_day        TEXT,
    notified_at      REAL,
    protocol         TEXT NOT NULL DEFAULT 'motcua'   -- motcua (JSON API) | vnpay (VNPay 2.1.0 front)
);
CREATE INDEX IF NOT EXISTS payments_by_expiry ON payments (state, expires_at);
CREATE INDEX IF NOT EXISTS payments_by_day ON payments (agency_code, recon_day);
CREATE TABLE IF NOT EXISTS ipn_outbox (
    payment_id   TEXT PRIMARY KEY REFERENCES payments (payment_id),
    status       TEXT NOT NULL,          -- pending | done | gave_up | lost
    attempts     INTEGER NOT NULL DEFAULT 0,
    copies       INTEGER NOT NULL DEFAULT 0,
    next_at      REAL NOT NULL,
    acked_at     REAL,
    last_code    TEXT,
    last_error   TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON ipn_outbox (status, next_at);
CREATE TABLE IF NOT EXISTS vnpay_orders (
    transaction_no INTEGER PRIMARY KEY AUTOINCREMENT,   -- vnp_TransactionNo
    payment_id     TEXT NOT NULL UNIQUE REFERENCES payments (payment_id),
    tmn_code       TEXT NOT NULL,
    txn_ref        TEXT NOT NULL,
    vn_day         TEXT NOT NULL,                       -- the UTC+7 day of vnp_CreateDate
    create_date    TEXT NOT NULL,
    order_info     TEXT NOT NULL,
    order_type     TEXT NOT NULL,
    locale         TEXT NOT NULL,
    ip_addr        TEXT NOT NULL,
    UNIQUE (tmn_code, vn_day, txn_ref)
);
CREATE TABLE IF NOT EXISTS vnpay_requests (
    tmn_code   TEXT NOT NULL,
    vn_day     TEXT NOT NULL,
    request_id TEXT NOT NULL,
    PRIMARY KEY (tmn_code, vn_day, request_id)
);
"""

GROUPS = PAYMENT_GROUPS

VNPAY = "vnpay"
"""`payments.protocol` of a payment created through the VNPay front."""
VN_TZ = dt.timezone(dt.timedelta(hours=7), "Asia/Ho_Chi_Minh")
"""Viet Nam keeps UTC+7 all year; reconciliation days are days of this calendar."""

_PAYER_JSON = json.JSONEncoder(ensure_ascii=False).encode
"""The stored payer text, as ``json.dumps(payer, ensure_ascii=False)`` writes it (one encoder, not one per call)."""
MANUAL_BANK_CODE = "MANUAL"
CLOSED_UNPAID = frozenset({State.CANCELLED.value, State.EXPIRED.value, State.FAILED.value})


def vn_day(epoch_s: float) -> str:
    """The Asia/Ho_Chi_Minh calendar day (``YYYY-MM-DD``) of an epoch time."""
    return dt.datetime.fromtimestamp(epoch_s, VN_TZ).date().isoformat()


def ms(t: float | None) -> float | None:
    """Epoch seconds with millisecond precision, as the wire format wants."""
    return None if t is None else round(t, 3)


@dataclass(frozen=True, kw_only=True)
class NewPayment:
    """A validated create request from an agency's dossier system."""

    agency_code: str
    dossier_code: str
    procedure_code: str
    group: str
    amount_vnd: int
    payer: dict[str, str]
    ipn_url: str
    return_url: str
    expires_in_s: float


@dataclass(frozen=True, kw_only=True)
class BankResult:
    """A bank's verdict on a charge, from its notification or from an inquiry."""

    payment_id: str
    bank_code: str
    response_code: str
    bank_txn_no: str
    amount_vnd: int
    approved_at: float | None


# --------------------------------------------------------------------------- reads


def payment_row(conn: sqlite3.Connection, payment_id: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM payments WHERE payment_id = ?", (payment_id,)).fetchone()


def require_payment(conn: sqlite3.Connection, payment_id: str) -> sqlite3.Row:
    row = payment_row(conn, payment_id)
    if row is None:
        raise ApiError(404, "payment_not_found", f"no payment {payment_id!r} at this gateway", field="payment_id")
    return row


def payment_view(conn: sqlite3.Connection, payment_id: str) -> dict[str, Any] | None:
    """The payment as the status query (querydr) shows it, with its IPN delivery (docs/contracts.md §1)."""
    row = conn.execute(
        "SELECT p.*, coalesce(o.attempts, 0) AS ipn_attempts, o.acked_at AS ipn_acked_at"
        " FROM payments p LEFT JOIN ipn_outbox o USING (payment_id) WHERE p.payment_id = ?", (payment_id,),
    ).fetchone()
    return None if row is None else _view(row)


def _view(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "payment_id": row["payment_id"],
        "dossier_code": row["dossier_code"],
        "agency_code": row["agency_code"],
        "group": row["grp"],
        "amount_vnd": row["amount_vnd"],
        "refunded_vnd": row["refunded_vnd"],
        "state": row["state"],
        "bank_code": row["bank_code"],
        "bank_txn_no": row["bank_txn_no"],
        "response_code": row["response_code"],
        "created_at": ms(row["created_at"]),
        "expires_at": ms(row["expires_at"]),
        "bank_approved_at": ms(row["bank_approved_at"]),
        "notified_at": ms(row["notified_at"]),
        "ipn_acked_at": ms(row["ipn_acked_at"]),
        "ipn_attempts": row["ipn_attempts"],
    }


def ipn_payload(row: sqlite3.Row, attempt: int, sent_at: float) -> dict[str, Any]:
    """The body of an IPN to the agency (docs/contracts.md §1)."""
    return {
        "payment_id": row["payment_id"],
        "dossier_code": row["dossier_code"],
        "agency_code": row["agency_code"],
        "amount_vnd": row["amount_vnd"],
        "bank_code": row["bank_code"],
        "bank_txn_no": row["bank_txn_no"],
        "response_code": row["response_code"],
        "group": row["grp"],
        "bank_approved_at": ms(row["bank_approved_at"]),
        "sent_at": ms(sent_at),
        "attempt": attempt,
    }


def reconciliation(conn: sqlite3.Connection, agency_code: str, day: str) -> dict[str, Any]:
    """Đối soát: the bank-approved payments of one agency on one UTC+7 day."""
    rows = conn.execute(
        "SELECT payment_id, dossier_code, amount_vnd, bank_code, bank_txn_no, bank_approved_at FROM payments"
        " WHERE agency_code = ? AND recon_day = ? AND state IN (?, ?, ?) ORDER BY bank_approved_at, payment_id",
        (agency_code, day, *sorted(SETTLED_STATES)),
    ).fetchall()
    payments = [{**dict(r), "bank_approved_at": ms(r["bank_approved_at"])} for r in rows]
    return {
        "agency_code": agency_code,
        "date": day,
        "payments": payments,
        "count": len(payments),
        "total_vnd": sum(p["amount_vnd"] for p in payments),
    }


def stats(conn: sqlite3.Connection) -> dict[str, Any]:
    by_state = dict(conn.execute("SELECT state, count(*) FROM payments GROUP BY state").fetchall())
    outbox = dict(conn.execute("SELECT status, count(*) FROM ipn_outbox GROUP BY status").fetchall())
    attempts, copies = conn.execute(
        "SELECT coalesce(sum(attempts), 0), coalesce(sum(copies), 0) FROM ipn_outbox"
    ).fetchone()
    return {
        "payments": sum(by_state.values()),
        "by_state": by_state,
        "ipn": {
            "pending": outbox.get("pending", 0),
            "done": outbox.get("done", 0),
            "gave_up": outbox.get("gave_up", 0),
            "lost": outbox.get("lost", 0),
            "attempts": attempts,
            "copies": copies,
        },
        "bank_results": conn.execute("SELECT count(*) FROM payments WHERE bank_txn_no IS NOT NULL").fetchone()[0],
    }


# --------------------------------------------------------------------------- writes


def insert_payment(
    conn: sqlite3.Connection, new: NewPayment, *, payment_id: str, idempotency_key: str, fingerprint: str, now: float,
    protocol: str = "motcua",
) -> tuple[sqlite3.Row, bool]:
    """Create the payment, or return the one made earlier with the same key (409 if its body differed)."""
    row = conn.execute(
        "INSERT INTO payments (payment_id, idempotency_key, fingerprint, agency_code, dossier_code, procedure_code,"
        " grp, amount_vnd, payer, ipn_url, return_url, state, created_at, expires_at, protocol)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING *",
        (
            payment_id, idempotency_key, fingerprint, new.agency_code, new.dossier_code, new.procedure_code,
            new.group, new.amount_vnd, _PAYER_JSON(new.payer), new.ipn_url, new.return_url,
            State.CREATED.value, now, now + new.expires_in_s, protocol,
        ),
    ).fetchone()
    if row is not None:
        return row, True
    # The key was used before (the insert did nothing): the same body gets the same payment.
    existing = conn.execute("SELECT * FROM payments WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
    if existing["fingerprint"] != fingerprint:
        raise ApiError(
            409, "idempotency_conflict",
            f"Idempotency-Key {idempotency_key.split(':', 1)[-1]!r} was already used for payment "
            f"{existing['payment_id']} with a different body; use a new key for a new payment",
            field="Idempotency-Key",
        )
    return existing, False


def move(
    conn: sqlite3.Connection, payment_id: str, target: State, *, row: sqlite3.Row | None = None, **columns: Any
) -> sqlite3.Row:
    """Change a payment's state through the state machine, setting `columns` too; return the new row.

    `row` is the payment as just read in this unit, if the caller has it (saves a query).
    """
    row = row if row is not None else require_payment(conn, payment_id)
    transition(row["state"], target, payment_id)
    assignments = ", ".join(f"{name} = ?" for name in ["state", *columns])
    return conn.execute(
        f"UPDATE payments SET {assignments} WHERE payment_id = ? RETURNING *",  # column names are ours
        (target.value, *columns.values(), payment_id),
    ).fetchone()


def move_from(
    conn: sqlite3.Connection, payment_id: str, source: State, target: State, *, extra_where: str = "",
    params: tuple[Any, ...] = (), **columns: Any,
) -> sqlite3.Row | None:
    """Move the payment from `source` to `target` in one statement if it is in `source` (else None).

    The hot paths use it; the move is checked against the state machine like every other.
    """
    transition(source, target, payment_id)
    assignments = ", ".join(f"{name} = ?" for name in ["state", *columns])
    return conn.execute(
        f"UPDATE payments SET {assignments} WHERE payment_id = ? AND state = ?{extra_where} RETURNING *",
        (target.value, *columns.values(), payment_id, source.value, *params),
    ).fetchone()


def checkout(conn: sqlite3.Connection, payment_id: str, bank_code: str, now: float) -> sqlite3.Row:
    """The citizen chose a bank; choosing the same bank again is harmless, another bank is refused."""
    row = move_from(conn, payment_id, State.CREATED, State.AWAITING_BANK, extra_where=" AND expires_at > ?",
                    params=(now,), bank_code=bank_code)
    if row is not None:
        return row
    row = require_payment(conn, payment_id)
    if row["state"] == State.AWAITING_BANK.value and row["bank_code"] == bank_code:
        return row
    if row["state"] == State.CREATED.value and row["expires_at"] <= now:
        raise ApiError(
            409, "payment_expired",
            f"payment {payment_id} expired at {ms(row['expires_at'])}; the agency must create a new payment",
        )
    return move(conn, payment_id, State.AWAITING_BANK, row=row, bank_code=bank_code)


def apply_bank_result(
    conn: sqlite3.Connection, result: BankResult, *, now: float, ipn_status: str, ipn_due_at: float
) -> tuple[sqlite3.Row, str]:
    """Record a bank's verdict once (idempotent by bank_txn_no); return (payment, what happened).

    ``00`` moves the payment to ``paid`` and puts its IPN in the outbox (status `ipn_status`, due at
    `ipn_due_at`): "applied". Any other code moves it to ``failed`` ("applied"), or, if the payment
    is already closed without money (cancelled, expired, failed), changes nothing ("ignored"): a decline
    of a payment nobody can pay any more is no news. The same verdict again: "duplicate". An approval
    of a closed payment is refused by the state machine (409): that money needs a person to look at it.
    """
    row = require_payment(conn, result.payment_id)
    if row["bank_txn_no"] == result.bank_txn_no:
        return row, "duplicate"  # the same verdict again (a retried notification, or an inquiry after it)
    if result.response_code != "00" and row["state"] in CLOSED_UNPAID:
        return row, "ignored"
    if result.amount_vnd != row["amount_vnd"]:
        raise ApiError(
            422, "amount_mismatch",
            f"amount_vnd {result.amount_vnd} differs from the payment's {row['amount_vnd']} VND",
            field="amount_vnd",
        )
    if row["bank_code"] is not None and result.bank_code != row["bank_code"]:
        raise ApiError(
            422, "bank_mismatch", f"bank_code {result.bank_code!r} is not the bank chosen at checkout "
            f"({row['bank_code']!r})", field="bank_code",
        )
    if row["bank_txn_no"] is not None:
        # A second, different verdict for one payment: the state machine refuses it (e.g. paid → failed).
        transition(row["state"], State.PAID if result.response_code == "00" else State.FAILED, result.payment_id)
    try:
        if result.response_code != "00":
            row = move(conn, result.payment_id, State.FAILED, row=row, response_code=result.response_code,
                       notified_at=now, bank_txn_no=result.bank_txn_no)
            if row["protocol"] == VNPAY:  # VNPay tells the merchant about a failed payment too
                enqueue_ipn(conn, result.payment_id, ipn_status, ipn_due_at)
            return row, "applied"
        approved = result.approved_at if result.approved_at is not None else now
        row = move(
            conn, result.payment_id, State.PAID, row=row, response_code="00", bank_txn_no=result.bank_txn_no,
            bank_approved_at=approved, recon_day=vn_day(approved), notified_at=now,
        )
    except sqlite3.IntegrityError:  # bank_txn_no is UNIQUE: another payment already carries it
        raise ApiError(
            409, "bank_txn_reused", f"bank_txn_no {result.bank_txn_no!r} already belongs to another payment",
            field="bank_txn_no",
        ) from None
    enqueue_ipn(conn, result.payment_id, ipn_status, ipn_due_at)
    return row, "applied"


def enqueue_ipn(conn: sqlite3.Connection, payment_id: str, status: str, due_at: float) -> None:
    """Put the payment's IPN in the outbox (status ``pending`` or ``lost``), due at `due_at`."""
    conn.execute("INSERT INTO ipn_outbox (payment_id, status, next_at) VALUES (?, ?, ?)", (payment_id, status, due_at))


def notifies(row: sqlite3.Row) -> bool:
    """Whether the merchant hears of this payment's verdict by IPN (paid; or failed, on the VNPay front)."""
    return row["state"] == State.PAID.value or (row["state"] == State.FAILED.value and row["protocol"] == VNPAY)


def confirm_transfer(
    conn: sqlite3.Connection, payment_id: str, *, approved: bool, bank_txn_no: str, now: float, ipn_status: str,
) -> sqlite3.Row:
    """An officer confirmed (or rejected) a manual bank transfer."""
    row = require_payment(conn, payment_id)
    if row["state"] != State.AWAITING_OFFICER_CONFIRMATION.value:
        transition(row["state"], State.PAID if approved else State.FAILED, payment_id)  # raises: names both states
    result = BankResult(
        payment_id=payment_id, bank_code=MANUAL_BANK_CODE, response_code="00" if approved else "24",
        bank_txn_no=bank_txn_no, amount_vnd=row["amount_vnd"], approved_at=now if approved else None,
    )
    return apply_bank_result(conn, result, now=now, ipn_status=ipn_status, ipn_due_at=now)[0]


def refund(conn: sqlite3.Connection, payment_id: str, amount_vnd: int) -> sqlite3.Row:
    row = require_payment(conn, payment_id)
    refundable = row["amount_vnd"] - row["refunded_vnd"]
    if row["state"] in (State.PAID.value, State.PARTIALLY_REFUNDED.value) and amount_vnd > refundable:
        raise ApiError(
            422, "refund_too_large",
            f"amount_vnd {amount_vnd} exceeds what is left to refund ({refundable} of {row['amount_vnd']} VND)",
            field="amount_vnd",
        )
    total = row["refunded_vnd"] + amount_vnd
    return move(conn, payment_id, refund_target(total, row["amount_vnd"]), row=row, refunded_vnd=total)


def expire_unstarted(conn: sqlite3.Connection, now: float) -> int:
    """Expire payments whose citizen never chose a bank before the deadline."""
    ids = [r[0] for r in conn.execute(
        "SELECT payment_id FROM payments WHERE state = ? AND expires_at <= ?", (State.CREATED.value, now)
    )]
    for payment_id in ids:
        move(conn, payment_id, State.EXPIRED)
    return len(ids)


def record_ipn_attempt(
    conn: sqlite3.Connection, payment_id: str, *, attempt: int, code: str | None, error: str | None,
    status: str, next_at: float, copies: int, now: float,
) -> None:
    conn.execute(
        "UPDATE ipn_outbox SET status = ?, attempts = ?, next_at = ?, last_code = ?, last_error = ?,"
        " copies = copies + ?, acked_at = ? WHERE payment_id = ?",
        (status, attempt, next_at, code, error, copies, now if status == "done" else None, payment_id),
    )


# --------------------------------------------------------------------------- the VNPay front's records


@dataclass(frozen=True, kw_only=True)
class VnpayOrder:
    """What a VNPay payment URL says beyond the payment itself (docs/contracts.md §1b)."""

    tmn_code: str
    txn_ref: str
    vn_day: str
    create_date: str
    order_info: str
    order_type: str
    locale: str
    ip_addr: str


def insert_vnpay_payment(
    conn: sqlite3.Connection, new: NewPayment, order: VnpayOrder, *, payment_id: str, fingerprint: str, now: float
) -> tuple[sqlite3.Row, int | None]:
    """Create a VNPay payment, idempotent by terminal + vnp_TxnRef + day (409 if the URL's order differed).

    Returns the payment and its new vnp_TransactionNo (None when it existed already).
    """
    key = f"vnpay:{order.tmn_code}:{order.vn_day}:{order.txn_ref}"
    row, created = insert_payment(conn, new, payment_id=payment_id, idempotency_key=key, fingerprint=fingerprint,
                                  now=now, protocol=VNPAY)
    if not created:
        return row, None
    cursor = conn.execute(
        "INSERT INTO vnpay_orders (payment_id, tmn_code, txn_ref, vn_day, create_date, order_info, order_type,"
        " locale, ip_addr) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (payment_id, order.tmn_code, order.txn_ref, order.vn_day, order.create_date, order.order_info,
         order.order_type, order.locale, order.ip_addr),
    )
    return row, cursor.lastrowid


def vnpay_payment(conn: sqlite3.Connection, payment_id: str) -> sqlite3.Row | None:
    """A VNPay payment with its order (columns of both tables), or None."""
    return conn.execute(
        "SELECT p.*, v.* FROM payments p JOIN vnpay_orders v USING (payment_id) WHERE p.payment_id = ?",
        (payment_id,),
    ).fetchone()


def find_vnpay_payment(conn: sqlite3.Connection, tmn_code: str, vn_day: str, txn_ref: str) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT p.*, v.* FROM vnpay_orders v JOIN payments p USING (payment_id)"
        " WHERE v.tmn_code = ? AND v.vn_day = ? AND v.txn_ref = ?", (tmn_code, vn_day, txn_ref),
    ).fetchone()


def claim_request_id(conn: sqlite3.Connection, tmn_code: str, vn_day: str, request_id: str) -> bool:
    """Record a query/refund ``vnp_RequestId``; False if the terminal already used it that day (code 94)."""
    return conn.execute(
        "INSERT INTO vnpay_requests (tmn_code, vn_day, request_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
        " RETURNING 1", (tmn_code, vn_day, request_id),
    ).fetchone() is not None
