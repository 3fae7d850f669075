"""The agency one-stop-shop system over HTTP, with the real gateway and bank processes beside it."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import subprocess
import sys
import time

import pytest
from helpers_mock_http import call, signed_call, wait_for
from helpers_stack import (
    PAYER,
    approved_payment,
    dossier,
    file_dossier,
    ipn_for,
    send_ipn,
    stats,
    wait_paid,
)
from motcua.mock_services.agency import ledger
from motcua.mock_services.supervisor import free_port

MOCK_STACK = {"seed": 3, "time_scale": 0.01}
CODE_RE = re.compile(r"^000\.00\.20\.H37-\d{6}-\d{4}$")


def _journal_end(agency_url: str) -> int:
    return stats(agency_url)["events"]


def test_happy_path_dossier_paid_by_ipn_with_timestamps(stack):
    filed, charge = approved_payment(stack.urls)
    assert CODE_RE.match(filed["dossier_code"]) and filed["status"] == "awaiting_payment"
    assert filed["amount_vnd"] == 200_000 and filed["payment"]["payment_id"]
    view = wait_paid(stack.agency_url, filed["dossier_code"])
    assert view["status"] == "paid" and view["paid_via"] == "ipn" and view["credits"] == 1
    assert view["bank_approved_at"] == pytest.approx(charge["approved_at"], abs=0.002)
    assert view["ipn_acked_at"] >= view["bank_approved_at"]
    _, page = call("GET", f"{stack.agency_url}/events?since=0&limit=10000")
    mine = [e for e in page["events"] if e["dossier_code"] == filed["dossier_code"]]
    assert [e["type"] for e in mine][:2] == ["dossier_submitted", "payment_created"]
    confirmed = [e for e in mine if e["type"] == "payment_confirmed"]
    assert len(confirmed) == 1 and confirmed[0]["ipn_acked_at"] == view["ipn_acked_at"]


def test_free_procedure_has_no_payment(stack):
    body = file_dossier(stack.agency_url, "KHAISINH")
    assert body["status"] == "no_fee" and body["payment"] is None and body["amount_vnd"] == 0
    assert dossier(stack.agency_url, body["dossier_code"])["payment_id"] is None


def test_per_page_fee_multiplies_by_the_pages(stack):
    assert file_dossier(stack.agency_url, "CTBS", quantity=7)["amount_vnd"] == 14_000


def test_ipn_with_a_bad_signature_is_97_and_writes_nothing(stack):
    filed = file_dossier(stack.agency_url)
    before = stats(stack.agency_url)
    status, answer = send_ipn(stack.agency_url, ipn_for(filed), key_id="gateway", secret=b"not-the-gateway-key")
    assert status == 200 and answer["RspCode"] == "97" and "signature" in answer["Message"]
    status, answer = send_ipn(stack.agency_url, ipn_for(filed), key_id="agency")  # a valid key, but not the gateway's
    assert answer["RspCode"] == "97"
    after = stats(stack.agency_url)
    assert after["events"] == before["events"] and after["credits"] == before["credits"]
    assert after["ipn_by_code"]["97"] == before["ipn_by_code"].get("97", 0) + 2
    assert dossier(stack.agency_url, filed["dossier_code"])["status"] == "awaiting_payment"


def test_ipn_answers_01_04_then_00_then_02_and_credits_once(stack):
    filed = file_dossier(stack.agency_url)
    unknown = ipn_for(filed, dossier_code="000.00.20.H37-200101-0001")
    assert send_ipn(stack.agency_url, unknown)[1]["RspCode"] == "01"
    assert send_ipn(stack.agency_url, ipn_for(filed, amount_vnd=1))[1]["RspCode"] == "04"
    assert dossier(stack.agency_url, filed["dossier_code"])["status"] == "awaiting_payment"
    assert send_ipn(stack.agency_url, ipn_for(filed))[1] == {"RspCode": "00", "Message": "Confirm Success"}
    for _ in range(3):
        assert send_ipn(stack.agency_url, ipn_for(filed))[1]["RspCode"] == "02"
    view = dossier(stack.agency_url, filed["dossier_code"])
    assert view["status"] == "paid" and view["credits"] == 1
    assert stats(stack.agency_url)["double_credits"] == 0


def test_signed_ipn_with_bad_fields_is_99_naming_the_field(stack):
    filed = file_dossier(stack.agency_url)
    status, answer = send_ipn(stack.agency_url, ipn_for(filed, amount_vnd="200000"))
    assert status == 200 and answer["RspCode"] == "99" and "amount_vnd" in answer["Message"]
    assert dossier(stack.agency_url, filed["dossier_code"])["credits"] == 0


@pytest.mark.parametrize(
    ("raw", "status", "error"),
    [
        (b"{not json", 400, "malformed_json"),
        (b"[1, 2]", 400, "malformed_json"),
        (b"{}", 422, "missing_field"),
        (json.dumps({"procedure_code": "LLTP", "payer": {**PAYER, "cccd": "12"}}).encode(), 422, "invalid_field"),
        (json.dumps({"procedure_code": "NOPE", "payer": PAYER}).encode(), 422, "unknown_procedure"),
        (json.dumps({"procedure_code": "LLTP", "payer": PAYER, "amount_vnd": 1.5}).encode(), 422, "invalid_amount"),
        (json.dumps({"procedure_code": "LLTP", "payer": PAYER, "group": "bribe"}).encode(), 422, "invalid_field"),
        (b"{" + b" " * 70_000 + b"}", 413, "body_too_large"),
    ],
)
def test_refused_dossier_is_a_json_error_and_writes_nothing(stack, raw, status, error):
    before = _journal_end(stack.agency_url)
    got_status, body = call("POST", f"{stack.agency_url}/dossiers", raw=raw)
    assert (got_status, body["error"]) == (status, error) and body["message"]
    assert _journal_end(stack.agency_url) == before


def test_malformed_signed_ipn_is_400_and_oversized_is_413(stack):
    before = _journal_end(stack.agency_url)
    status, body = signed_call("gateway", "POST", f"{stack.agency_url}/ipn", ["not", "an", "object"])
    assert status == 400 and body["error"] == "malformed_json"
    status, body = call("POST", f"{stack.agency_url}/ipn", raw=b"x" * 70_000)
    assert status == 413 and body["error"] == "body_too_large"
    assert _journal_end(stack.agency_url) == before


def test_unknown_dossier_view_is_404_json(stack):
    status, body = call("GET", f"{stack.agency_url}/dossiers/000.00.20.H37-200101-0001")
    assert status == 404 and body["error"] == "dossier_not_found"


def test_event_journal_pages_with_a_cursor(stack):
    file_dossier(stack.agency_url, "KHAISINH")
    file_dossier(stack.agency_url, "KHAISINH")
    end = _journal_end(stack.agency_url)
    status, page = call("GET", f"{stack.agency_url}/events?since={end - 2}&limit=1")
    assert status == 200 and [e["seq"] for e in page["events"]] == [end - 1] and page["next"] == end - 1
    status, page = call("GET", f"{stack.agency_url}/events?since={page['next']}&limit=50")
    assert [e["seq"] for e in page["events"]] == [end]
    assert call("GET", f"{stack.agency_url}/events?since={end}")[1] == {"events": [], "next": end}
    status, body = call("GET", f"{stack.agency_url}/events?limit=0")
    assert status == 422 and body["field"] == "limit"
    status, body = call("GET", f"{stack.agency_url}/events?since=abc")
    assert status == 422 and body["field"] == "since"


def test_reconcile_refuses_a_bad_date(stack):
    status, body = call("POST", f"{stack.agency_url}/reconcile", {"date": "2024-13-45"})
    assert status == 422 and body["field"] == "date" and "YYYY-MM-DD" in body["message"]


def test_reconcile_against_the_gateway_report_finds_paid_payments(stack):
    filed, charge = approved_payment(stack.urls)
    wait_paid(stack.agency_url, filed["dossier_code"])
    day = ledger.vn_day(charge["approved_at"]).isoformat()
    status, result = call("POST", f"{stack.agency_url}/reconcile", {"date": day})
    assert status == 200, result
    assert result["report_count"] >= 1 and result["already_paid"] >= 1 and result["unknown_dossiers"] == 0
    assert result["amount_mismatches"] == 0


def test_reconcile_with_query_closes_dossiers_whose_payment_was_cancelled(stack):
    filed = file_dossier(stack.agency_url)
    status, body = call("POST", f"{stack.gateway_url}/payments/{filed['payment']['payment_id']}/cancel", {})
    assert status == 200 and body["state"] == "cancelled", body
    day = ledger.vn_day(time.time()).isoformat()
    status, result = call("POST", f"{stack.agency_url}/reconcile", {"date": day, "query_pending": True})
    assert status == 200 and result["queried"] >= 1 and result["closed_unpaid"] >= 1, result
    assert result["query_states"].get("cancelled", 0) >= 1
    assert dossier(stack.agency_url, filed["dossier_code"])["status"] == "cancelled"
    status, body = call("POST", f"{stack.agency_url}/reconcile", {"date": day, "query_pending": "yes"})
    assert status == 422 and body["field"] == "query_pending"


def test_openapi_document_is_valid_and_lists_every_route(stack, tmp_path):
    from motcua.mock_services.agency import AGENCY, AgencyConfig, build_app
    from motcua.mock_services.common.catalogue import load_fee_catalogue
    from openapi_spec_validator import validate

    status, doc = call("GET", f"{stack.agency_url}/openapi.json")
    assert status == 200
    validate(doc)
    config = AgencyConfig(data_dir=tmp_path, gateway_url="http://127.0.0.1:1", public_url="http://127.0.0.1:2",
                          catalogue=load_fee_catalogue())  # fmt: skip
    app = build_app(config)
    app[AGENCY].db.close()
    served = {(r.method.lower(), r.resource.canonical) for r in app.router.routes() if r.method != "HEAD"}
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert served <= documented, served - documented


@contextlib.contextmanager
def standalone_agency(data_dir):
    """An agency process alone, its gateway URL pointing at a closed port (free procedures need no gateway)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "motcua.mock_services.agency", "--port", str(port), "--data-dir", str(data_dir),
         "--gateway-url", f"http://127.0.0.1:{free_port()}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _healthy(url), timeout=20)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_daily_sequence_overflow_is_refused_with_409(tmp_path):
    """The 10,000th dossier of a day: a standalone agency (free procedures need no gateway)."""
    day = ledger.vn_day(time.time()).isoformat()
    conn = sqlite3.connect(tmp_path / "agency.sqlite")
    conn.executescript(ledger.SCHEMA)
    conn.execute("INSERT INTO day_sequence VALUES ('000.00.20.H37', ?, 9998)", (day,))
    conn.commit()
    conn.close()
    with standalone_agency(tmp_path) as url:
        last = file_dossier(url, "KHAISINH")
        assert last["dossier_code"].endswith("-9999")
        before = stats(url)
        status, body = call("POST", f"{url}/dossiers", {"procedure_code": "KHAISINH", "payer": PAYER})
        assert status == 409 and body["error"] == "dossier_sequence_exhausted"
        assert "9999" in body["message"] and "tomorrow" in body["message"]
        assert stats(url)["events"] == before["events"] and stats(url)["dossiers"] == before["dossiers"]


def _healthy(url: str) -> bool:
    try:
        return call("GET", f"{url}/healthz", timeout=1)[0] == 200
    except OSError:
        return False


def test_agency_refuses_a_bad_agency_code_at_start(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "motcua.mock_services.agency", "--port", "0", "--data-dir", str(tmp_path),
         "--gateway-url", "http://127.0.0.1:1", "--agency-code", "H37"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 2 and "agency_code must look like '000.00.12.H37'" in proc.stderr


def test_dossier_is_not_filed_when_the_gateway_is_down(tmp_path):
    with standalone_agency(tmp_path) as url:
        status, body = call("POST", f"{url}/dossiers", {"procedure_code": "LLTP", "payer": PAYER})
        assert status == 503 and body["error"] == "gateway_unavailable" and "after 4 tries" in body["message"]
        assert stats(url)["dossiers"] == 0
