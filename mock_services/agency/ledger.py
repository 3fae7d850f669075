"""The agency one-stop-shop system's ledger (sổ hồ sơ): dossiers, fee credits and the event journal.

Scene: a citizen files a dossier (hồ sơ) at an agency; the system numbers it ``<agency>-YYMMDD-NNNN``
(a daily sequence per agency), and when the procedure has a fee it waits for the national payment
platform to say, by an IPN, that the bank approved the payment. An officer looks at the dossier's
status to know whether the fee was paid; at the end of the day a reconciliation (đối soát) against the
platform's report catches the IPNs that never arrived.

Everything here is a plain function over an open `sqlite3.Connection` that the caller runs inside a
transaction (`mock_services.common.db.Database.transact`): a credit and its journal entry are written
together or not at all, and a dossier is credited at most once — the UPDATE that credits it only
matches a dossier not yet paid, and the ``credits`` table keeps every credit so a double credit would
be visible rather than hidden.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from motcua.mock_services.common.ids import MAX_DAILY_SEQUENCE, make_dossier_code
from motcua.mock_services.errors import SequenceExhausted as SequenceExhausted

VN_TZ = dt.timezone(dt.timedelta(hours=7), "Asia/Ho_Chi_Minh")
"""Viet Nam keeps UTC+7 all year; dossier codes and reconciliation days use this calendar."""

PAID_STATUSES = ("paid", "paid_by_reconciliation")
STATUSES = ("awaiting_payment", "paid", "paid_by_reconciliation", "no_fee", "payment_failed", "cancelled")
EVENT_TYPES = (
    "dossier_submitted",
    "payment_created",
    "ipn_received",
    "payment_confirmed",
    "ipn_duplicate",
    "ipn_rejected",
    "paid_by_reconciliation",
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS day_sequence (
    agency_code TEXT NOT NULL,
    day TEXT NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (agency_code, day)
);
CREATE TABLE IF NOT EXISTS dossiers (
    dossier_code TEXT PRIMARY KEY,
    procedure_code TEXT NOT NULL,
    grp TEXT NOT NULL,
    amount_vnd INTEGER NOT NULL,
    payer_name TEXT, payer_cccd TEXT, payer_phone TEXT,
    status TEXT NOT NULL,
    payment_id TEXT UNIQUE,
    pay_url TEXT,
    paid_via TEXT,
    bank_code TEXT,
    bank_txn_no TEXT,
    bank_approved_at REAL,
    ipn_acked_at REAL,
    credited_at REAL,
    submitted_at REAL NOT NULL
);
-- Reconciliation looks dossiers up by status and day; without these it would scan the whole table.
CREATE INDEX IF NOT EXISTS dossiers_by_status_approval ON dossiers (status, bank_approved_at);
CREATE INDEX IF NOT EXISTS dossiers_by_status_submission ON dossiers (status, submitted_at);
CREATE TABLE IF NOT EXISTS credits (
    id INTEGER PRIMARY KEY,
    dossier_code TEXT NOT NULL,
    payment_id TEXT,
    amount_vnd INTEGER NOT NULL,
    via TEXT NOT NULL,
    bank_txn_no TEXT,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS credits_by_dossier ON credits (dossier_code);
-- IPNs refused before anything about them can be trusted (97: bad signature): one counter per code, so an
-- unauthenticated caller can move a number but never add a row; the counts survive a restart.
CREATE TABLE IF NOT EXISTS ipn_refusals (
    rsp_code TEXT PRIMARY KEY,
    count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    at REAL NOT NULL,
    dossier_code TEXT,
    payment_id TEXT,
    bank_code TEXT,
    grp TEXT,
    amount_vnd INTEGER,
    bank_approved_at REAL,
    ipn_acked_at REAL,
    rsp_code TEXT,
    attempt INTEGER,
    detail TEXT
);
"""


def vn_day(at: float) -> dt.date:
    """The Viet Nam calendar day of Unix time `at`."""
    return dt.datetime.fromtimestamp(at, VN_TZ).date()


def ms(at: float | None) -> float | None:
    """A wire time: Unix seconds rounded to the millisecond."""
    return None if at is None else round(at, 3)


# --------------------------------------------------------------------------- dossiers


def allocate_code(conn: sqlite3.Connection, agency_code: str, now: float) -> str:
    """Take the next dossier number of `agency_code` for today, or raise `SequenceExhausted`."""
    day = vn_day(now)
    row = conn.execute(
        "SELECT last_seq FROM day_sequence WHERE agency_code = ? AND day = ?", (agency_code, day.isoformat())
    ).fetchone()
    last = row[0] if row else 0
    if last >= MAX_DAILY_SEQUENCE:
        raise SequenceExhausted(
            f"agency {agency_code} has already numbered {MAX_DAILY_SEQUENCE} dossiers on {day.isoformat()}, "
            "the most a 4-digit daily sequence allows; file the dossier tomorrow"
        )
    conn.execute(
        "INSERT INTO day_sequence (agency_code, day, last_seq) VALUES (?, ?, ?) "
        "ON CONFLICT (agency_code, day) DO UPDATE SET last_seq = excluded.last_seq",
        (agency_code, day.isoformat(), last + 1),
    )
    return make_dossier_code(agency_code, day, last + 1)


@dataclass(frozen=True)
class NewDossier:
    """A dossier as filed, before it is stored."""

    dossier_code: str
    procedure_code: str
    group: str
    amount_vnd: int
    payer: Mapping[str, str]
    submitted_at: float
    payment_id: str | None = None
    pay_url: str | None = None


def insert_dossier(conn: sqlite3.Connection, d: NewDossier) -> None:
    """Store a filed dossier and journal it (and its payment, if it has one)."""
    status = "awaiting_payment" if d.payment_id else "no_fee"
    conn.execute(
        "INSERT INTO dossiers (dossier_code, procedure_code, grp, amount_vnd, payer_name, payer_cccd, payer_phone,"
        " status, payment_id, pay_url, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            d.dossier_code, d.procedure_code, d.group, d.amount_vnd,
            d.payer.get("name"), d.payer.get("cccd"), d.payer.get("phone"),
            status, d.payment_id, d.pay_url, d.submitted_at,
        ),
    )  # fmt: skip
    common: dict[str, Any] = {"dossier_code": d.dossier_code, "group": d.group, "amount_vnd": d.amount_vnd}
    journal(conn, "dossier_submitted", d.submitted_at, **common, detail={"procedure_code": d.procedure_code})
    if d.payment_id:
        journal(conn, "payment_created", d.submitted_at, **common, payment_id=d.payment_id)


def dossier_view(conn: sqlite3.Connection, code: str) -> dict[str, Any] | None:
    """The dossier as an officer sees it, or None."""
    row = conn.execute("SELECT * FROM dossiers WHERE dossier_code = ?", (code,)).fetchone()
    if row is None:
        return None
    credits = conn.execute("SELECT COUNT(*) FROM credits WHERE dossier_code = ?", (code,)).fetchone()[0]
    return {
        "dossier_code": row["dossier_code"],
        "procedure_code": row["procedure_code"],
        "group": row["grp"],
        "status": row["status"],
        "amount_vnd": row["amount_vnd"],
        "payment_id": row["payment_id"],
        "pay_url": row["pay_url"],
        "paid_via": row["paid_via"],
        "bank_code": row["bank_code"],
        "bank_txn_no": row["bank_txn_no"],
        "bank_approved_at": ms(row["bank_approved_at"]),
        "ipn_acked_at": ms(row["ipn_acked_at"]),
        "credited_at": ms(row["credited_at"]),
        "submitted_at": ms(row["submitted_at"]),
        "credits": credits,
    }


# --------------------------------------------------------------------------- IPN


@dataclass(frozen=True)
class IpnOutcome:
    """The agency's answer to one IPN: ``RspCode`` and ``Message``."""

    code: str
    message: str

    def body(self) -> dict[str, str]:
        return {"RspCode": self.code, "Message": self.message}


def handle_ipn(conn: sqlite3.Connection, ipn: Mapping[str, Any], now: float) -> IpnOutcome:
    """Apply one authenticated IPN: dossier (01) → amount (04) → already confirmed (02) → confirm (00).

    The signature (97) was checked before this runs; `ipn` has been validated for types.
    """
    code = ipn["dossier_code"]
    row = conn.execute(
        "SELECT status, amount_vnd, payment_id, grp FROM dossiers WHERE dossier_code = ?", (code,)
    ).fetchone()
    base = {
        "dossier_code": code,
        "payment_id": ipn["payment_id"],
        "bank_code": ipn.get("bank_code"),
        "amount_vnd": ipn["amount_vnd"],
        "attempt": ipn.get("attempt"),
        "bank_approved_at": ipn.get("bank_approved_at"),
    }
    if row is None or row["payment_id"] != ipn["payment_id"]:
        why = "no such dossier" if row is None else f"dossier has payment {row['payment_id']!r}, not this one"
        journal(conn, "ipn_rejected", now, **base, rsp_code="01", detail={"reason": why})
        return IpnOutcome("01", f"Order not found: {code} ({why})")
    base["group"] = row["grp"]
    if ipn["amount_vnd"] != row["amount_vnd"]:
        journal(conn, "ipn_rejected", now, **base, rsp_code="04", detail={"expected_vnd": row["amount_vnd"]})
        return IpnOutcome("04", f"Invalid amount: {ipn['amount_vnd']} VND, the dossier's fee is {row['amount_vnd']}")
    if row["status"] in PAID_STATUSES:
        journal(conn, "ipn_duplicate", now, **base, rsp_code="02")
        return IpnOutcome("02", "Order already confirmed")
    if ipn["response_code"] != "00":
        conn.execute("UPDATE dossiers SET status = 'payment_failed' WHERE dossier_code = ?", (code,))
        journal(conn, "ipn_received", now, **base, rsp_code="00", detail={"bank_response_code": ipn["response_code"]})
        return IpnOutcome("00", f"Payment failure recorded (bank code {ipn['response_code']})")
    _credit(conn, code, row["amount_vnd"], ipn, via="ipn", status="paid", now=now)
    journal(conn, "payment_confirmed", now, **base, ipn_acked_at=now, rsp_code="00")
    return IpnOutcome("00", "Confirm Success")


def _credit(
    conn: sqlite3.Connection, code: str, amount: int, payment: Mapping[str, Any], *, via: str, status: str, now: float
) -> None:
    """Mark the dossier paid and write its credit; the WHERE clause refuses a second credit."""
    cur = conn.execute(
        "UPDATE dossiers SET status = ?, paid_via = ?, bank_code = ?, bank_txn_no = ?, bank_approved_at = ?,"
        " ipn_acked_at = ?, credited_at = ?"
        " WHERE dossier_code = ? AND status NOT IN ('paid', 'paid_by_reconciliation')",
        (
            status, via, payment.get("bank_code"), payment.get("bank_txn_no"), payment.get("bank_approved_at"),
            now if via == "ipn" else None, now, code,
        ),
    )  # fmt: skip
    if cur.rowcount != 1:
        raise RuntimeError(f"dossier {code} was already credited; refusing a second credit")
    conn.execute(
        "INSERT INTO credits (dossier_code, payment_id, amount_vnd, via, bank_txn_no, at) VALUES (?, ?, ?, ?, ?, ?)",
        (code, payment.get("payment_id"), amount, via, payment.get("bank_txn_no"), now),
    )


# --------------------------------------------------------------------------- reconciliation


def reconcile(conn: sqlite3.Connection, day: str, payments: list[Mapping[str, Any]], now: float) -> dict[str, Any]:
    """Compare the gateway's report of `day` with the ledger; credit what the IPNs missed.

    Returns the counts of the contract (``report_count, already_paid, recovered, amount_mismatches,
    unknown_dossiers``), ``agency_only`` (dossiers the agency holds as paid that day but the report
    lacks) and the dossier codes behind each discrepancy.
    """
    result: dict[str, Any] = {
        "date": day, "report_count": len(payments), "already_paid": 0, "recovered": 0,
        "amount_mismatches": 0, "unknown_dossiers": 0, "agency_only": 0,
        "details": {"recovered": [], "amount_mismatches": [], "unknown_dossiers": [], "agency_only": []},
    }  # fmt: skip
    seen = set()
    for p in payments:
        code = str(p.get("dossier_code") or "")  # a report line without a code finds no dossier: unknown
        seen.add(code)
        row = conn.execute(
            "SELECT status, amount_vnd, payment_id, grp FROM dossiers WHERE dossier_code = ?", (code,)
        ).fetchone()
        if row is None or row["payment_id"] != p.get("payment_id"):
            result["unknown_dossiers"] += 1
            result["details"]["unknown_dossiers"].append(code)
        elif row["amount_vnd"] != p.get("amount_vnd"):
            result["amount_mismatches"] += 1
            result["details"]["amount_mismatches"].append(code)
        elif row["status"] in PAID_STATUSES:
            result["already_paid"] += 1
        else:
            _credit(conn, code, row["amount_vnd"], p, via="reconciliation", status="paid_by_reconciliation", now=now)
            journal(
                conn, "paid_by_reconciliation", now, dossier_code=code, payment_id=p.get("payment_id"),
                bank_code=p.get("bank_code"), group=row["grp"], amount_vnd=row["amount_vnd"],
                bank_approved_at=p.get("bank_approved_at"),
            )  # fmt: skip
            result["recovered"] += 1
            result["details"]["recovered"].append(code)
    for code in _paid_on_day(conn, day):
        if code not in seen:
            result["agency_only"] += 1
            result["details"]["agency_only"].append(code)
    return result


def _on_day(conn: sqlite3.Connection, column: str, where: str, time_column: str, day: str) -> list[Any]:
    """`column` of the dossiers matching `where` whose `time_column` falls on Viet Nam `day`."""
    start = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), VN_TZ).timestamp()
    sql = f"SELECT {column} FROM dossiers WHERE {where} AND {time_column} >= ? AND {time_column} < ?"
    return [r[0] for r in conn.execute(sql, (start, start + 86_400)).fetchall()]


def _paid_on_day(conn: sqlite3.Connection, day: str) -> list[str]:
    return _on_day(conn, "dossier_code", "status IN ('paid', 'paid_by_reconciliation')", "bank_approved_at", day)


def awaiting_on_day(conn: sqlite3.Connection, day: str) -> list[str]:
    """Payment ids of the dossiers filed on `day` (Viet Nam) that still await their payment."""
    where = "status = 'awaiting_payment' AND payment_id IS NOT NULL"
    return _on_day(conn, "payment_id", where, "submitted_at", day)


CLOSING_STATES = {"cancelled": "cancelled", "expired": "cancelled", "failed": "payment_failed"}
"""Gateway payment states that end a dossier's wait for payment, and the dossier status each gives."""


def close_unpaid(conn: sqlite3.Connection, states: Mapping[str, str]) -> int:
    """Close the dossiers still awaiting payment whose gateway payment (by id) ended unpaid; returns how many."""
    closed = 0
    for payment_id, state in states.items():
        status = CLOSING_STATES.get(state)
        if status:
            closed += conn.execute(
                "UPDATE dossiers SET status = ? WHERE payment_id = ? AND status = 'awaiting_payment'",
                (status, payment_id),
            ).rowcount
    return closed


# --------------------------------------------------------------------------- journal and stats


def journal(
    conn: sqlite3.Connection, type_: str, at: float, *, detail: Mapping[str, Any] | None = None, **f: Any
) -> None:
    """Append one event to the journal (in the caller's transaction)."""
    conn.execute(
        "INSERT INTO events (type, at, dossier_code, payment_id, bank_code, grp, amount_vnd, bank_approved_at,"
        " ipn_acked_at, rsp_code, attempt, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            type_, at, f.get("dossier_code"), f.get("payment_id"), f.get("bank_code"), f.get("group"),
            f.get("amount_vnd"), f.get("bank_approved_at"), f.get("ipn_acked_at"), f.get("rsp_code"),
            f.get("attempt"), json.dumps(detail, ensure_ascii=False) if detail else None,
        ),
    )  # fmt: skip


EVENT_FIELDS = ("dossier_code", "payment_id", "bank_code", "amount_vnd", "rsp_code", "attempt")


def events_since(conn: sqlite3.Connection, since: int, limit: int) -> dict[str, Any]:
    """Journal entries with ``seq > since`` (oldest first, at most `limit`) and the cursor to continue."""
    rows = conn.execute("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (since, limit)).fetchall()
    events = []
    for r in rows:
        event: dict[str, Any] = {"seq": r["seq"], "type": r["type"], "at": ms(r["at"]), "group": r["grp"]}
        event.update({k: r[k] for k in EVENT_FIELDS})
        event["bank_approved_at"] = ms(r["bank_approved_at"])
        event["ipn_acked_at"] = ms(r["ipn_acked_at"])
        if r["detail"]:
            event["detail"] = json.loads(r["detail"])
        events.append(event)
    return {"events": events, "next": rows[-1]["seq"] if rows else since}


def count_refusal(conn: sqlite3.Connection, rsp_code: str) -> None:
    """Count one IPN refused without journalling it (97: its signature is wrong, so nothing in it is trusted)."""
    conn.execute(
        "INSERT INTO ipn_refusals (rsp_code, count) VALUES (?, 1) "
        "ON CONFLICT (rsp_code) DO UPDATE SET count = count + 1",
        (rsp_code,),
    )


def stats(conn: sqlite3.Connection) -> dict[str, Any]:
    """Counts for the invariant check: the journalled answers plus the counted refusals (`count_refusal`)."""
    by_status = dict(conn.execute("SELECT status, COUNT(*) FROM dossiers GROUP BY status").fetchall())
    by_code = dict(
        conn.execute("SELECT rsp_code, COUNT(*) FROM events WHERE rsp_code IS NOT NULL GROUP BY rsp_code").fetchall()
    )
    for code, count in conn.execute("SELECT rsp_code, count FROM ipn_refusals").fetchall():
        by_code[code] = by_code.get(code, 0) + count
    double = conn.execute(
        "SELECT COUNT(*) FROM (SELECT dossier_code FROM credits GROUP BY dossier_code HAVING COUNT(*) > 1)"
    ).fetchone()[0]
    credited_vnd = conn.execute("SELECT COALESCE(SUM(amount_vnd), 0) FROM credits").fetchone()[0]
    return {
        "dossiers": sum(by_status.values()),
        "payments": conn.execute("SELECT COUNT(*) FROM dossiers WHERE payment_id IS NOT NULL").fetchone()[0],
        "by_status": {s: by_status.get(s, 0) for s in STATUSES},
        "paid": by_status.get("paid", 0),
        "paid_by_reconciliation": by_status.get("paid_by_reconciliation", 0),
        "credits": conn.execute("SELECT COUNT(*) FROM credits").fetchone()[0],
        "credited_vnd": credited_vnd,
        "double_credits": double,
        "ipn_received": sum(by_code.values()),
        "ipn_by_code": dict(sorted(by_code.items())),
        "events": conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0],
    }
