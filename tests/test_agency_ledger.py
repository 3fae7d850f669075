"""The agency's ledger on a real SQLite file: dossier numbering, IPN checks, reconciliation, no double credit."""

from __future__ import annotations

import sqlite3
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from motcua.mock_services.agency import ledger

AGENCY = "000.00.20.H37"
PAYER = {"name": "Nguyễn Văn An", "cccd": "020090123456", "phone": "0912345678"}
NOW = 1_718_000_000.0  # 2024-06-10 13:13 in Viet Nam


def _conn(tmp_path, name="agency.sqlite") -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / name, isolation_level=None)
    conn.row_factory = sqlite3.Row
    # These tests are about the ledger's logic; durability is the services' (WAL, group commit) and is
    # tested end to end. Without fsync per statement the property test runs in seconds on a busy disk.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.executescript(ledger.SCHEMA)
    return conn


def _file(conn, amount=200_000, payment_id="pay-1", now=NOW) -> str:
    code = ledger.allocate_code(conn, AGENCY, now)
    ledger.insert_dossier(
        conn,
        ledger.NewDossier(
            dossier_code=code, procedure_code="LLTP", group="fee", amount_vnd=amount, payer=PAYER,
            submitted_at=now, payment_id=payment_id, pay_url=f"http://gw/pay/{payment_id}",
        ),
    )  # fmt: skip
    return code


def _ipn(code, payment_id="pay-1", amount=200_000, response_code="00", txn="T1"):
    return {
        "payment_id": payment_id, "dossier_code": code, "amount_vnd": amount, "response_code": response_code,
        "bank_code": "VIETINBANK", "bank_txn_no": txn, "bank_approved_at": NOW + 1, "attempt": 1,
    }  # fmt: skip


def test_dossier_codes_follow_the_daily_sequence_of_each_agency(tmp_path):
    conn = _conn(tmp_path)
    first = ledger.allocate_code(conn, AGENCY, NOW)
    second = ledger.allocate_code(conn, AGENCY, NOW)
    other = ledger.allocate_code(conn, "000.00.12.H37", NOW)
    next_day = ledger.allocate_code(conn, AGENCY, NOW + 86_400)
    assert (first, second) == (f"{AGENCY}-240610-0001", f"{AGENCY}-240610-0002")
    assert other == "000.00.12.H37-240610-0001"
    assert next_day == f"{AGENCY}-240611-0001"


def test_day_of_a_dossier_code_is_the_viet_nam_day(tmp_path):
    conn = _conn(tmp_path)
    # 2024-06-10 17:30 UTC is already 2024-06-11 00:30 in Viet Nam.
    assert ledger.allocate_code(conn, AGENCY, 1_718_040_600.0).endswith("-240611-0001")


def test_the_ten_thousandth_dossier_of_a_day_is_refused_and_nothing_is_written(tmp_path):
    conn = _conn(tmp_path)
    conn.execute("INSERT INTO day_sequence VALUES (?, '2024-06-10', 9998)", (AGENCY,))
    assert ledger.allocate_code(conn, AGENCY, NOW).endswith("-240610-9999")
    with pytest.raises(ledger.SequenceExhausted, match=r"already numbered 9999 dossiers on 2024-06-10.*tomorrow"):
        ledger.allocate_code(conn, AGENCY, NOW)
    assert conn.execute("SELECT last_seq FROM day_sequence").fetchone()[0] == 9999


def test_ipn_checks_in_the_documented_order(tmp_path):
    conn = _conn(tmp_path)
    code = _file(conn)
    assert ledger.handle_ipn(conn, _ipn(f"{AGENCY}-240610-0099"), NOW).code == "01"  # no such dossier
    assert ledger.handle_ipn(conn, _ipn(code, payment_id="pay-other"), NOW).code == "01"  # not its payment
    assert ledger.handle_ipn(conn, _ipn(code, amount=1), NOW).code == "04"
    assert ledger.dossier_view(conn, code)["status"] == "awaiting_payment"
    ok = ledger.handle_ipn(conn, _ipn(code), NOW + 2)
    assert (ok.code, ok.message) == ("00", "Confirm Success")
    again = ledger.handle_ipn(conn, _ipn(code), NOW + 3)
    assert again.code == "02"
    # Amount is checked before "already confirmed": a tampered duplicate is 04, not 02.
    assert ledger.handle_ipn(conn, _ipn(code, amount=5), NOW + 4).code == "04"
    view = ledger.dossier_view(conn, code)
    assert view["status"] == "paid" and view["paid_via"] == "ipn" and view["credits"] == 1
    assert view["bank_approved_at"] == NOW + 1 and view["ipn_acked_at"] == NOW + 2


def test_a_failed_payment_ipn_is_recorded_without_credit(tmp_path):
    conn = _conn(tmp_path)
    code = _file(conn)
    assert ledger.handle_ipn(conn, _ipn(code, response_code="51"), NOW).code == "00"
    assert ledger.dossier_view(conn, code)["status"] == "payment_failed"
    assert ledger.stats(conn)["credits"] == 0


def test_journal_and_stats_count_every_answer(tmp_path):
    conn = _conn(tmp_path)
    code = _file(conn)
    for ipn in (_ipn(code, amount=3), _ipn(code), _ipn(code), _ipn("nope")):
        ledger.handle_ipn(conn, ipn, NOW)
    ledger.count_refusal(conn, "97")
    ledger.count_refusal(conn, "97")
    stats = ledger.stats(conn)
    assert stats["ipn_by_code"] == {"00": 1, "01": 1, "02": 1, "04": 1, "97": 2}
    assert stats["ipn_received"] == 6 and stats["paid"] == 1 and stats["double_credits"] == 0
    page = ledger.events_since(conn, 0, 3)
    assert [e["type"] for e in page["events"]] == ["dossier_submitted", "payment_created", "ipn_rejected"]
    rest = ledger.events_since(conn, page["next"], 100)
    assert [e["type"] for e in rest["events"]] == ["payment_confirmed", "ipn_duplicate", "ipn_rejected"]
    assert ledger.events_since(conn, rest["next"], 100) == {"events": [], "next": rest["next"]}


def test_double_credit_detector_sees_a_second_credit_row(tmp_path):
    # The ledger never writes two credits; this proves /stats would notice if something did.
    conn = _conn(tmp_path)
    code = _file(conn)
    ledger.handle_ipn(conn, _ipn(code), NOW)
    conn.execute("INSERT INTO credits (dossier_code, amount_vnd, via, at) VALUES (?, 200000, 'bug', 0)", (code,))
    assert ledger.stats(conn)["double_credits"] == 1


def test_reconciliation_recovers_missed_payments_once_and_counts_discrepancies(tmp_path):
    conn = _conn(tmp_path)
    missed = _file(conn, payment_id="pay-1")
    confirmed = _file(conn, payment_id="pay-2")
    mismatch = _file(conn, payment_id="pay-3")
    ledger.handle_ipn(conn, _ipn(confirmed, payment_id="pay-2"), NOW)
    paid_only_here = _file(conn, payment_id="pay-4")
    ledger.handle_ipn(conn, _ipn(paid_only_here, payment_id="pay-4"), NOW)

    def row(code, pid, amount=200_000):
        return {"payment_id": pid, "dossier_code": code, "amount_vnd": amount, "bank_code": "BIDV",
                "bank_txn_no": f"T-{pid}", "bank_approved_at": NOW + 5}  # fmt: skip

    report = [row(missed, "pay-1"), row(confirmed, "pay-2"), row(mismatch, "pay-3", 999), row("X-1", "pay-9")]
    result = ledger.reconcile(conn, "2024-06-10", report, NOW + 60)
    counts = {k: result[k] for k in ("report_count", "already_paid", "recovered", "amount_mismatches",
                                     "unknown_dossiers", "agency_only")}  # fmt: skip
    assert counts == {"report_count": 4, "already_paid": 1, "recovered": 1, "amount_mismatches": 1,
                      "unknown_dossiers": 1, "agency_only": 1}  # fmt: skip
    assert result["details"]["agency_only"] == [paid_only_here]
    view = ledger.dossier_view(conn, missed)
    assert view["status"] == "paid_by_reconciliation" and view["paid_via"] == "reconciliation"
    assert view["bank_approved_at"] == NOW + 5 and view["ipn_acked_at"] is None and view["credits"] == 1
    assert ledger.dossier_view(conn, mismatch)["status"] == "awaiting_payment"
    # Running it again recovers nothing; a late IPN for the recovered dossier is a duplicate.
    again = ledger.reconcile(conn, "2024-06-10", report, NOW + 120)
    assert (again["recovered"], again["already_paid"]) == (0, 2)
    assert ledger.handle_ipn(conn, _ipn(missed), NOW + 130).code == "02"
    assert ledger.stats(conn)["double_credits"] == 0


@settings(max_examples=40, deadline=None)
@given(
    deliveries=st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from(["ok", "bad_amount", "declined"])), min_size=1, max_size=25
    ),
    reported=st.sets(st.integers(0, 3)),
)
def test_any_interleaving_of_ipns_and_reconciliation_credits_each_dossier_at_most_once(
    tmp_path_factory, deliveries, reported
):
    conn = _conn(tmp_path_factory.mktemp("ledger"))
    codes = [_file(conn, payment_id=f"pay-{i}") for i in range(4)]
    credited_by_ipn = set()
    for index, kind in deliveries:
        amount = 1 if kind == "bad_amount" else 200_000
        rc = "51" if kind == "declined" else "00"
        answer = ledger.handle_ipn(conn, _ipn(codes[index], f"pay-{index}", amount, rc), time.time()).code
        if kind == "ok" and answer == "00":
            credited_by_ipn.add(index)
    report = [
        {"payment_id": f"pay-{i}", "dossier_code": codes[i], "amount_vnd": 200_000, "bank_approved_at": NOW}
        for i in reported
    ]
    ledger.reconcile(conn, "2024-06-10", report, time.time())
    stats = ledger.stats(conn)
    assert stats["double_credits"] == 0
    paid = {i for i, c in enumerate(codes) if ledger.dossier_view(conn, c)["status"] in ledger.PAID_STATUSES}
    assert paid == credited_by_ipn | set(reported)
    assert stats["credits"] == len(paid) and stats["credited_vnd"] == 200_000 * len(paid)
