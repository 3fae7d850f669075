"""The gateway as a real process, with a real bank process and an agency stand-in for IPNs."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from helpers_mock_http import call, signed_call, signed_headers, wait_for
from helpers_payment_stack import AGENCY_CODE, PaymentStack, new_payment_body
from motcua.mock_services.common import signing
from motcua.mock_services.gateway.ledger import vn_day

STACK = "payment"  # conftest.stack: a real gateway and bank, an agency stand-in


@pytest.fixture(autouse=True)
def _clean(stack):
    stack.clear_faults()


def _acked(stack, pid, timeout=10):
    return wait_for(lambda: (lambda q: q if q["ipn_acked_at"] else None)(stack.query(pid)), timeout=timeout)


def test_happy_path_records_every_time(stack):
    pid, verdict = stack.pay(150_000)
    assert verdict["response_code"] == "00"
    q = _acked(stack, pid)
    assert q["state"] == "paid" and q["amount_vnd"] == 150_000 and q["ipn_attempts"] == 1
    assert q["created_at"] <= q["bank_approved_at"] <= q["notified_at"] <= q["ipn_acked_at"]
    [ipn] = stack.agency.for_payment(pid)
    assert ipn["sig_ok"] and ipn["amount_vnd"] == 150_000 and ipn["bank_txn_no"] == verdict["bank_txn_no"]
    assert ipn["dossier_code"].startswith(AGENCY_CODE) and ipn["group"] == "fee" and ipn["attempt"] == 1


def test_idempotent_create_and_409_on_other_body(stack):
    key = uuid.uuid4().hex
    first = stack.create(200_000, key=key)
    again = stack.create(200_000, key=key)
    assert first[0] == 201 and again[0] == 200 and again[1]["payment_id"] == first[1]["payment_id"]
    status, body = stack.create(300_000, key=key)
    assert status == 409 and body["error"] == "idempotency_conflict" and key in body["message"]
    assert body["field"] == "Idempotency-Key"


def test_signature_bad_missing_replayed_write_nothing(stack):
    before = stack.stats()["payments"]
    body = new_payment_body(ipn_url=stack.agency.ipn_url())
    raw = json.dumps(body).encode()
    url = stack.gateway_url + "/payments"
    headers = {**signed_headers("agency", "POST", url, raw), "Idempotency-Key": "k-sig"}
    tampered = raw.replace(b"200000", b"2000")
    status, answer = call("POST", url, raw=tampered, headers=headers)
    assert status == 401 and answer["error"] == "bad_signature" and "does not match" in answer["message"]
    status, answer = call("POST", url, raw=raw, headers={"Idempotency-Key": "k-sig"})
    assert status == 401 and "missing signature headers" in answer["message"]
    old = int(time.time()) - 3600
    headers = {**signed_headers("agency", "POST", url, raw, timestamp=old), "Idempotency-Key": "k-sig"}
    status, answer = call("POST", url, raw=raw, headers=headers)
    assert status == 401 and "outside the" in answer["message"] and "replay" in answer["message"]
    bank_signed = {**signed_headers("bank", "POST", url, raw), "Idempotency-Key": "k-sig"}
    assert call("POST", url, raw=raw, headers=bank_signed)[0] == 401  # the bank's key cannot create payments
    assert stack.stats()["payments"] == before


@pytest.mark.parametrize(
    ("override", "status", "error", "field"),
    [
        ({"amount_vnd": 0}, 422, "zero_fee", "amount_vnd"),
        ({"amount_vnd": 1500.5}, 422, "invalid_amount", "amount_vnd"),
        ({"amount_vnd": "200000"}, 422, "invalid_amount", "amount_vnd"),
        ({"amount_vnd": -5}, 422, "invalid_amount", "amount_vnd"),
        ({"group": "donation"}, 422, "invalid_field", "group"),
        ({"agency_code": "H37"}, 422, "invalid_field", "agency_code"),
        ({"dossier_code": "000.00.99.H99-240607-0001"}, 422, "invalid_field", "dossier_code"),
        ({"payer": {"name": "A", "cccd": "123", "phone": "09"}}, 422, "invalid_field", "payer.cccd"),
        ({"ipn_url": "ftp://x"}, 422, "invalid_field", "ipn_url"),
        ({"expires_in_s": 0}, 422, "invalid_field", "expires_in_s"),
    ],
)
def test_invalid_create_names_the_field_and_writes_nothing(stack, override, status, error, field):
    before = stack.stats()["payments"]
    fields = dict(override)
    got = stack.create(fields.pop("amount_vnd", 200_000), check_amount=False, **fields)
    assert got[0] == status and got[1]["error"] == error and got[1]["field"] == field, got
    assert stack.stats()["payments"] == before


def test_zero_fee_message(stack):
    status, body = stack.create(0)
    assert status == 422 and "free procedure creates no payment" in body["message"]


def test_malformed_oversized_and_missing_key(stack):
    url = stack.gateway_url + "/payments"
    before = stack.stats()["payments"]
    raw = b'{"agency_code": "000.00.12.H37",'
    status, body = call("POST", url, raw=raw, headers={**signed_headers("agency", "POST", url, raw),
                                                        "Idempotency-Key": "m"})
    assert status == 400 and body["error"] == "malformed_json" and "line 1" in body["message"]
    raw = json.dumps({**new_payment_body(), "padding": "x" * 70_000}).encode()
    status, body = call("POST", url, raw=raw, headers={**signed_headers("agency", "POST", url, raw),
                                                        "Idempotency-Key": "m"})
    assert status == 413 and body["error"] == "body_too_large" and "65536" in body["message"]
    status, body = signed_call("agency", "POST", url, new_payment_body())
    assert status == 400 and body["field"] == "Idempotency-Key"
    assert stack.stats()["payments"] == before


def test_illegal_transition_names_both_states(stack):
    pid, _ = stack.pay()
    _acked(stack, pid)
    status, body = call("POST", f"{stack.gateway_url}/payments/{pid}/cancel")
    assert status == 409 and body["error"] == "illegal_transition"
    assert "from paid to cancelled" in body["message"]
    status, body = stack.checkout(pid)
    assert status == 409 and "from paid to awaiting_bank" in body["message"]
    assert stack.query(pid)["state"] == "paid"


def test_cancel_then_checkout_is_refused(stack):
    _, created = stack.create()
    pid = created["payment_id"]
    assert call("POST", f"{stack.gateway_url}/payments/{pid}/cancel")[1]["state"] == "cancelled"
    status, body = stack.checkout(pid)
    assert status == 409 and "from cancelled to awaiting_bank" in body["message"]


def test_refund_partial_then_full(stack):
    pid, _ = stack.pay(100_000)
    _acked(stack, pid)
    url = f"{stack.gateway_url}/payments/{pid}/refund"
    assert signed_call("agency", "POST", url, {"amount_vnd": 30_000})[1] == {
        "payment_id": pid, "state": "partially_refunded", "refunded_vnd": 30_000}
    status, body = signed_call("agency", "POST", url, {"amount_vnd": 80_000})
    assert status == 422 and body["error"] == "refund_too_large" and "70000" in body["message"]
    assert signed_call("agency", "POST", url, {"amount_vnd": 70_000})[1]["state"] == "refunded"
    status, body = signed_call("agency", "POST", url, {"amount_vnd": 1})
    assert status == 409 and "from refunded to" in body["message"]
    _, created = stack.create()
    status, body = signed_call("agency", "POST", f"{stack.gateway_url}/payments/{created['payment_id']}/refund",
                               {"amount_vnd": 1})
    assert status == 409 and "from created to partially_refunded" in body["message"]


def test_manual_transfer_confirmed_by_officer_sends_ipn(stack):
    _, created = stack.create(2_000)
    pid = created["payment_id"]
    base = f"{stack.gateway_url}/payments/{pid}"
    status, body = signed_call("agency", "POST", base + "/confirm-transfer", {})
    assert status == 409 and "from created to paid" in body["message"]
    assert signed_call("agency", "POST", base + "/manual-transfer", {})[1]["state"] == "awaiting_officer_confirmation"
    assert signed_call("agency", "POST", base + "/confirm-transfer", {"bank_txn_no": "UNC-001"})[1]["state"] == "paid"
    q = _acked(stack, pid)
    assert q["bank_txn_no"] == "UNC-001" and q["bank_code"] == "MANUAL"
    assert stack.agency.for_payment(pid)[0]["amount_vnd"] == 2_000


def test_declined_charge_fails_the_payment_without_ipn(stack):
    stack.faults("bank", {"bank": {"outage": {"banks": ["BIDV"]}}})
    pid, verdict = stack.pay(bank="BIDV")
    assert verdict["response_code"] == "75" and verdict["approved_at"] is None
    wait_for(lambda: stack.query(pid)["state"] == "failed")
    assert stack.query(pid)["response_code"] == "75"
    time.sleep(0.2)
    assert stack.agency.for_payment(pid) == []


def test_bank_notifications_are_signed_and_idempotent(stack):
    pid, verdict = stack.pay()
    _acked(stack, pid)
    url = stack.gateway_url + "/bank-notifications"
    note = {k: verdict[k] for k in ("payment_id", "bank_code", "response_code", "bank_txn_no", "amount_vnd",
                                    "approved_at")}
    assert signed_call("bank", "POST", url, note)[1]["status"] == "duplicate"
    assert signed_call("agency", "POST", url, note)[0] == 401
    assert len(stack.agency.for_payment(pid)) == 1  # the duplicate queued no second IPN


def test_ipn_retried_until_00(stack):
    """99, then a timeout, then HTTP 500, then 00: four attempts, delivery ends, acked once."""
    _, created = stack.create(script="99,hang,500,00")
    pid = created["payment_id"]
    token = stack.checkout(pid)[1]["charge_token"]
    stack.charge(token)
    q = _acked(stack, pid, timeout=15)
    assert q["ipn_attempts"] == 4
    attempts = [r["attempt"] for r in stack.agency.for_payment(pid)]
    assert attempts == [1, 2, 3, 4]
    time.sleep(0.5)
    assert len(stack.agency.for_payment(pid)) == 4  # nothing after the 00


def test_reconciliation_report_is_signed_and_complete(stack):
    pid, verdict = stack.pay(77_000)
    _acked(stack, pid)
    day = vn_day(verdict["approved_at"])
    url = f"{stack.gateway_url}/reconciliation?agency_code={AGENCY_CODE}&date={day}"
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    conn.request("GET", f"{parts.path}?{parts.query}", headers=signed_headers("agency", "GET", url))
    resp = conn.getresponse()
    raw = resp.read()
    assert resp.status == 200
    assert signing.verify(signing.TEST_KEYS, "GET", f"{parts.path}?{parts.query}", dict(resp.getheaders()), raw) \
        == "gateway"
    report = json.loads(raw)
    mine = [p for p in report["payments"] if p["payment_id"] == pid]
    assert mine and mine[0]["amount_vnd"] == 77_000 and mine[0]["bank_txn_no"] == verdict["bank_txn_no"]
    assert report["count"] == len(report["payments"]) and report["total_vnd"] == sum(
        p["amount_vnd"] for p in report["payments"])
    status, body = signed_call("agency", "GET", f"{stack.gateway_url}/reconciliation?agency_code={AGENCY_CODE}"
                               "&date=2024-13-01")
    assert status == 422 and body["field"] == "date"


def test_unpaid_payment_expires(stack):
    _, created = stack.create(expires_in_s=0.3)
    pid = created["payment_id"]
    wait_for(lambda: stack.query(pid)["state"] == "expired", timeout=5)
    status, body = stack.checkout(pid)
    assert status == 409 and "from expired to awaiting_bank" in body["message"]


def test_outbox_survives_kill_9(tmp_path):
    """The bank approved, the agency is down; kill -9 the gateway; restart: the IPN is delivered."""
    st = PaymentStack(tmp_path, gateway_args=["--ipn-schedule", "100,100,100"])  # 1 s apart at time scale 0.01
    try:
        _, created = st.create(script="500,00")
        pid = created["payment_id"]
        st.charge(st.checkout(pid)[1]["charge_token"])
        wait_for(lambda: len(st.agency.for_payment(pid)) == 1)  # the first attempt failed with HTTP 500
        wait_for(lambda: st.stats()["ipn"]["attempts"] == 1)  # ... and the gateway has recorded it
        st.gateway.kill()
        st.restart("gateway")
        q = wait_for(lambda: (lambda q: q if q["ipn_acked_at"] else None)(st.query(pid)), timeout=10)
        assert q["ipn_attempts"] == 2 and q["state"] == "paid"
        assert [r["attempt"] for r in st.agency.for_payment(pid)] == [1, 2]
        assert st.gateway.stop() == 0  # SIGTERM: a clean, prompt exit
    finally:
        st.stop()


# ---------------------------------------------------------------------------- IPN faults


def _paid(stack, amount=50_000, script="00"):
    _, created = stack.create(amount, script=script)
    pid = created["payment_id"]
    stack.charge(stack.checkout(pid)[1]["charge_token"])
    return pid


def test_fault_ipn_lost(stack):
    stack.faults("gateway", {"gateway": {"ipn": {"lost": 1.0}}})
    pid = _paid(stack)
    wait_for(lambda: stack.query(pid)["state"] == "paid")
    time.sleep(0.3)
    assert stack.agency.for_payment(pid) == [] and stack.query(pid)["ipn_acked_at"] is None
    assert stack.stats()["ipn"]["lost"] >= 1


def test_fault_ipn_duplicated(stack):
    stack.faults("gateway", {"gateway": {"ipn": {"duplicate": {"rate": 1.0, "copies": 2}}}})
    pid = _paid(stack)
    _acked(stack, pid)
    wait_for(lambda: len(stack.agency.for_payment(pid)) == 3)
    assert {r["bank_txn_no"] for r in stack.agency.for_payment(pid)} == {stack.query(pid)["bank_txn_no"]}


def test_fault_ipn_bad_signature_then_good(stack):
    stack.faults("gateway", {"gateway": {"ipn": {"bad_signature": 1.0}}})
    pid = _paid(stack)
    q = _acked(stack, pid)
    got = stack.agency.for_payment(pid)
    assert [r["sig_ok"] for r in got] == [False, True] and q["ipn_attempts"] == 2


def test_fault_ipn_amount_mismatch_then_right(stack):
    stack.faults("gateway", {"gateway": {"ipn": {"amount_mismatch": 1.0}}})
    pid = _paid(stack, 50_000)
    _acked(stack, pid)
    assert [r["amount_vnd"] for r in stack.agency.for_payment(pid)] == [51_000, 50_000]


def test_fault_ipn_reordered(stack):
    stack.faults("gateway", {"gateway": {"ipn": {"reorder": 1.0, "reorder_delay_s": 2.0}}})
    held = _paid(stack)
    wait_for(lambda: stack.query(held)["state"] == "paid")  # its IPN is now held back
    stack.faults("gateway", {})
    prompt = _paid(stack)
    _acked(stack, prompt)
    _acked(stack, held)
    order = [r["payment_id"] for r in stack.agency.received if r["payment_id"] in (held, prompt)]
    assert order == [prompt, held]


def test_fault_ipn_early(stack):
    stack.faults("gateway", {"gateway": {"ipn": {"early": 1.0}}})
    pid = _paid(stack)
    _acked(stack, pid)
    got = stack.agency.for_payment(pid)
    assert got[0]["attempt"] == 0  # the early copy, sent before the gateway committed the payment
    assert any(r["attempt"] == 1 for r in got)


def test_http_faults_on_gateway_routes(stack):
    stack.faults("gateway", {"gateway": {"errors": {"status": 503, "rate": 1.0, "routes": ["POST /payments"]}}})
    status, body = stack.create()
    assert status == 503 and body["error"] == "injected_fault"
    stack.faults("gateway", {"gateway": {"latency": {"kind": "fixed", "ms": 300, "routes": ["POST /payments"]}}})
    start = time.perf_counter()
    assert stack.create()[0] == 201
    assert time.perf_counter() - start >= 0.3


def test_ipn_gives_up_after_the_schedule(stack):
    """An agency that always answers 99 gets the 10 attempts of the schedule, then no more."""
    before = stack.stats()["ipn"]["gave_up"]
    pid = _paid(stack, script="99")
    wait_for(lambda: stack.stats()["ipn"]["gave_up"] == before + 1, timeout=15)
    q = stack.query(pid)
    assert q["ipn_attempts"] == 10 and q["ipn_acked_at"] is None and q["state"] == "paid"
    time.sleep(0.4)
    assert [r["attempt"] for r in stack.agency.for_payment(pid)] == list(range(1, 11))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ipn-schedule", "300,abc"], "--ipn-schedule must be comma-separated seconds"),
        (["--time-scale", "0"], "--time-scale must be above zero, got 0.0"),
        (["--faults", "/nonexistent/faults.toml"],
         "/nonexistent/faults.toml: (file) = '/nonexistent/faults.toml': fault file not found; see docs/contracts.md"),
    ],
)
def test_command_line_errors_are_clear(tmp_path, args, message):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "motcua.mock_services.gateway", "--port", "0", "--data-dir",
                           str(tmp_path), *args], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and message in proc.stderr


def test_same_seed_and_keys_give_the_same_faults(tmp_path):
    """Payment ids follow from the idempotency keys, so keyed fault draws repeat across runs."""
    from helpers_mock_http import ServerThread
    from motcua.mock_services.common.faults import parse_faults
    from motcua.mock_services.common.http import current_faults
    from motcua.mock_services.gateway import GatewayConfig, build_app

    table = {"seed": 5, "gateway": {"ipn": {"lost": 0.5}}}
    outcomes = []
    for run in ("a", "b"):
        app = build_app(GatewayConfig(data_dir=tmp_path / run),
                        faults=parse_faults(table).for_service("gateway"))
        with ServerThread(app) as srv:
            ids = [signed_call("agency", "POST", srv.url + "/payments", new_payment_body(seq=i),
                               extra={"Idempotency-Key": f"k{i}"})[1]["payment_id"] for i in range(1, 21)]
            faults = current_faults(app)
            outcomes.append([(pid, faults.chance(0.5, key=pid, kind="ipn_lost")) for pid in ids])
    assert outcomes[0] == outcomes[1]
    assert 3 <= sum(lost for _, lost in outcomes[0]) <= 17


def test_bad_fault_file_stops_the_start_naming_file_field_value(tmp_path):
    import subprocess
    import sys

    faults = tmp_path / "faults.toml"
    faults.write_text('seed = 1\n[gateway.ipn]\nlost = 1.5\n')
    proc = subprocess.run([sys.executable, "-m", "motcua.mock_services.gateway", "--port", "0", "--data-dir",
                           str(tmp_path), "--faults", str(faults)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert f"{faults}: gateway.ipn.lost = 1.5: a share must be within 0–1; if 1.5 is a percentage" in proc.stderr


def test_verdicts_on_a_cancelled_payment(stack):
    """The payer cancelled while at the bank: a decline is acknowledged and ignored, an approval is refused."""
    _, created = stack.create(40_000)
    pid = created["payment_id"]
    assert stack.checkout(pid)[0] == 200
    assert call("POST", f"{stack.gateway_url}/payments/{pid}/cancel")[1]["state"] == "cancelled"
    url = stack.gateway_url + "/bank-notifications"
    note = {"payment_id": pid, "bank_code": "VIETINBANK", "response_code": "24", "bank_txn_no": f"D{pid}",
            "amount_vnd": 40_000, "approved_at": None}
    assert signed_call("bank", "POST", url, note)[1] == {"payment_id": pid, "state": "cancelled", "status": "ignored"}
    status, body = signed_call("bank", "POST", url, {**note, "response_code": "00", "bank_txn_no": f"A{pid}",
                                                     "approved_at": time.time()})
    assert status == 409 and "from cancelled to paid" in body["message"]
    assert stack.query(pid)["state"] == "cancelled" and stack.agency.for_payment(pid) == []
