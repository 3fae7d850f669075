"""VietQR at the counter against the real gateway and bank: ``GET /payments/{id}/vietqr`` gives a dynamic NAPAS
payload (decoded here with the registry's `vietnam-qr-pay`, not with our own reader) and a PNG; the bank mock pays
a scanned payload and the IPN follows as for any payment; altered payloads are refused."""

from __future__ import annotations

import pytest
from helpers_mock_http import call, signed_call, wait_for
from helpers_payment_stack import write_catalogue_without_declines
from motcua.mock_services.common import vietqr
from vietnam_qr_pay import QRPay

STACK = "payment"  # tests/conftest.py's `stack`: a real gateway and bank with a scripted agency


def create(stack, amount: int) -> str:
    status, created = stack.create(amount)
    assert status == 201, created
    return created["payment_id"]


def qr_of(stack, payment_id: str) -> dict:
    status, body = call("GET", f"{stack.gateway_url}/payments/{payment_id}/vietqr")
    assert status == 200, body
    return body


def test_payload_decodes_with_the_registry_decoder(stack):
    payment_id = create(stack, 235_000)
    qr = qr_of(stack, payment_id)
    decoded = QRPay(qr["payload"])
    assert decoded.is_valid
    assert (decoded.version, decoded.init_method, decoded.currency, decoded.nation) == ("01", "12", "704", "VN")
    assert decoded.amount == "235000" and qr["amount_vnd"] == 235_000
    assert decoded.provider.guid == "A000000727" and decoded.provider.service == "QRIBFTTA"
    assert (decoded.consumer.bank_bin, decoded.consumer.bank_number) == (vietqr.COLLECTION_BIN,
                                                                         vietqr.COLLECTION_ACCOUNT)
    assert decoded.additional_data.bill_number == payment_id
    assert decoded.additional_data.purpose.startswith("HS 000.00.12.H37")
    assert len(decoded.additional_data.purpose) <= 25
    # CRC-16/CCITT-FALSE over everything before the CRC, "6304" included, upper-case hex
    assert qr["payload"][-8:-4] == "6304" and decoded.crc == vietqr.crc16(qr["payload"][:-4])
    assert QRPay(qr["payload"][:-1] + ("0" if qr["payload"][-1] != "0" else "1")).is_valid is False


def test_png_is_served(stack):
    payment_id = create(stack, 50_000)
    import urllib.request

    with urllib.request.urlopen(f"{stack.gateway_url}{qr_of(stack, payment_id)['png_url']}") as resp:
        assert resp.headers["Content-Type"] == "image/png"
        assert resp.read(8) == b"\x89PNG\r\n\x1a\n"


def test_bank_pays_a_scanned_payload_and_the_ipn_follows(stack):
    payment_id = create(stack, 120_000)
    payload = qr_of(stack, payment_id)["payload"]
    status, verdict = call("POST", f"{stack.bank_url}/vietqr/pay",
                           {"payload": payload, "bank_code": "VIETCOMBANK", "otp": "123456"})
    assert status == 200, verdict
    assert verdict["response_code"] == "00" and verdict["bill_number"] == payment_id
    ipn = wait_for(lambda: stack.agency.for_payment(payment_id))[0]
    assert ipn["amount_vnd"] == 120_000 and ipn["bank_code"] == "VIETCOMBANK" and ipn["sig_ok"]
    assert wait_for(lambda: stack.query(payment_id)["state"] == "paid")
    # paid: no QR any more, and a second scan does not charge twice
    assert call("GET", f"{stack.gateway_url}/payments/{payment_id}/vietqr")[0] == 409
    status, again = call("POST", f"{stack.bank_url}/vietqr/pay", {"payload": payload, "bank_code": "VIETCOMBANK",
                                                                  "otp": "123456"})
    assert status == 409 and again["error"] == "not_payable"
    assert len(stack.agency.for_payment(payment_id)) == 1


@pytest.mark.parametrize("alter", ["crc", "amount"])
def test_altered_payload_is_refused_and_nothing_is_charged(stack, alter):
    payment_id = create(stack, 80_000)
    payload = qr_of(stack, payment_id)["payload"]
    if alter == "crc":  # a changed amount without a new CRC
        bad = payload.replace("540580000", "540590000")
        expected = "CRC"
    else:  # a well-formed QR for the same bill with another amount
        bad = vietqr.build(90_000, payment_id, "HS forged")
        expected = "the QR says 90000 VND but the payment is 80000 VND"
    assert bad != payload
    status, body = call("POST", f"{stack.bank_url}/vietqr/pay",
                        {"payload": bad, "bank_code": "VIETCOMBANK", "otp": "123456"})
    assert status == 422 and expected in body["message"] and body["field"] == "payload"
    assert signed_call("gateway", "GET", f"{stack.bank_url}/charges/{payment_id}")[0] == 404  # never charged
    # a bad CRC is refused before anything; another amount only once the checkout named the real one
    assert stack.query(payment_id)["state"] == ("created" if alter == "crc" else "awaiting_bank")


def test_own_reader_agrees_with_the_registry_decoder():
    for amount, bill in ((1, "A"), (10_000, "PAY00000000000000001"), (99_999_999, "X" * 25)):
        payload = vietqr.build(amount, bill, "Lệ phí đăng ký kinh doanh hộ")
        ours, theirs = vietqr.parse(payload), QRPay(payload)
        assert theirs.is_valid and ours.amount_vnd == int(theirs.amount) == amount
        assert ours.bill_number == theirs.additional_data.bill_number == bill
        assert ours.purpose == theirs.additional_data.purpose == "LE PHI DANG KY KINH DOANH"
    with pytest.raises(vietqr.VietQrError, match="tag 01 must be 12"):
        static = vietqr.build(1, "A", "x").replace("010212", "010211")
        vietqr.parse(static[:-4] + vietqr.crc16(static[:-4]))


def test_counter_journey_shows_qrs_that_citizens_pay(tmp_path):
    """locustfiles/counter_qr.py as a real Locust process against the three mocks: every QR paid is credited."""
    import csv
    import subprocess
    import sys

    from motcua.mock_services.supervisor import MockStack, StackConfig

    from motcua.runs import PROJECT_ROOT

    banks = write_catalogue_without_declines(tmp_path / "banks.toml")  # every citizen's bank says yes
    config = StackConfig(data_dir=tmp_path / "mocks", time_scale=0.01,
                         extra_args={"bank": ["--latency-scale", "0", "--catalogue", str(banks)]})
    with MockStack(config) as mocks:
        proc = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(PROJECT_ROOT / "locustfiles" / "counter_qr.py"), "--headless",
             "--host", mocks.agency_url, "--counter-gateway-url", mocks.gateway_url, "--counter-bank-url",
             mocks.bank_url, "-u", "3", "-r", "3", "--run-time", "6s", "--stop-timeout", "10",
             "--csv", str(tmp_path / "counter"), "--only-summary"],
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=90,
        )
        events = call("GET", f"{mocks.agency_url}/events?since=0&limit=10000")[1]["events"]
    assert proc.returncode == 0, proc.stderr[-2000:]
    with (tmp_path / "counter_stats.csv").open() as fh:
        rows = {(r["Type"], r["Name"]): r for r in csv.DictReader(fh)}
    shown = int(rows[("GET", "counter: show VietQR")]["Request Count"])
    paid = int(rows[("POST", "citizen: pay VietQR")]["Request Count"])
    waited = rows[("COUNTER", "QR shown → dossier paid")]
    assert shown >= 6 and paid >= shown - 3  # the run may stop between showing and paying
    assert int(rows[("POST", "citizen: pay VietQR")]["Failure Count"]) == 0
    assert int(waited["Failure Count"]) == 0 and int(waited["Request Count"]) >= paid - 3
    credits = [e for e in events if e["type"] == "payment_confirmed"]
    assert len(credits) == len({e["payment_id"] for e in credits}) >= int(waited["Request Count"])
