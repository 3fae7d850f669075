"""The gateway's VNPay 2.1.0 front against real gateway and bank processes: payment URL checks, the payer's
page, return redirect, IPN GETs from the outbox (retries and faults), querydr, refund and the bank list."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
import uuid
from urllib.parse import urlencode

import pytest
from helpers_mock_http import call, wait_for
from helpers_vnpay import (  # noqa: F401 (fixtures)
    OTHER_SECRET,
    OTHER_TMN,
    SECRET,
    TMN,
    api_body,
    get,
    no_faults_fixture,
    query_of,
    vnpay_stack_fixture,
)
from motcua.mock_services.common import vnpay_wire as wire
from motcua.mock_services.common.vnpay_terminals import load_terminals

from motcua.errors import ConfigError


def ref() -> str:
    return "T" + uuid.uuid4().hex[:12].upper()


def payments(stack) -> int:
    return stack.stats()["payments"]


# ---------------------------------------------------------------------------- the wire module


def test_form_encoding_is_whatwg():
    assert wire.form("a b~c*d-e.f_g/h") == "a+b%7Ec*d-e.f_g%2Fh"
    assert wire.form("Thanh toán") == "Thanh+to%C3%A1n"
    data = wire.sign_data({"vnp_B": "2", "vnp_A": "x y", "vnp_Empty": "", "vnp_SecureHash": "ff",
                           "vnp_SecureHashType": "HmacSHA512"})
    assert data == "vnp_A=x+y&vnp_B=2"


@pytest.mark.parametrize("value", ["100050", "1e6", "-100", "0", "", "00", 1000.0, True, "１００"])
def test_wire_amount_must_be_vnd_times_100(value):
    with pytest.raises(ValueError, match="vnp_Amount"):
        wire.parse_wire_amount(value)


def test_wire_amount_and_time_round_trip():
    assert wire.parse_wire_amount("1000000") == 10_000
    assert wire.parse_wire_amount(1000000) == 10_000
    assert wire.vn_time(0) == "19700101070000"  # UTC+7
    assert wire.parse_vn_time("19700101070000", "vnp_CreateDate") == 0
    with pytest.raises(ValueError, match="vnp_CreateDate is not a real date"):
        wire.parse_vn_time("20240230120000", "vnp_CreateDate")


# ---------------------------------------------------------------------------- terminals


def test_bundled_terminal_is_a_marked_test_terminal():
    (terminal,) = load_terminals().values()
    assert terminal.tmn_code == "MOTCUA01" and terminal.hash_secret.startswith("TESTONLY")


@pytest.mark.parametrize(("text", "field", "problem"), [
    ('[[terminals]]\ntmn_code = "short"\nhash_secret = "x" \nagency_code = "000.00.20.H37"\n',
     "terminals[0].tmn_code", "8 upper-case"),
    ('[[terminals]]\ntmn_code = "ABCDEFGH"\nhash_secret = "TEST-ONLY-0123456789"\nagency_code = "H37"\n',
     "terminals[0].agency_code", "000.00.20.H37"),
    ('[[terminals]]\ntmn_code = "ABCDEFGH"\nhash_secret = "TEST-ONLY-0123456789"\nagency_code = "000.00.20.H37"\n'
     'ipn_url = "ftp://x"\n', "terminals[0].ipn_url", "http"),
    ('[[terminals]]\ntmn_code = "ABCDEFGH"\nhash_secret = "TEST-ONLY-0123456789"\nagency_code = "000.00.20.H37"\n'
     'ipn_ulr = "http://x"\n', "terminals[0].ipn_ulr", "did you mean 'ipn_url'"),
    ('[[terminals]]\ntmn_code = "ABCDEFGH"\nhash_secret = "TEST-ONLY-0123456789"\nagency_code = "000.00.20.H37"\n'
     '[[terminals]]\ntmn_code = "ABCDEFGH"\nhash_secret = "TEST-ONLY-0123456789"\nagency_code = "000.00.20.H37"\n',
     "terminals[1].tmn_code", "earlier terminal"),
])
def test_terminal_file_errors_name_file_field_and_value(tmp_path, text, field, problem):
    path = tmp_path / "t.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=problem) as info:
        load_terminals(path)
    assert info.value.file == str(path) and info.value.field == field


def test_gateway_refuses_a_bad_terminal_file_with_exit_2(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[[terminals]]\ntmn_code = "bad"\n', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "motcua.mock_services.gateway", "--port", "0", "--data-dir",
                           str(tmp_path), "--terminals", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "terminals[0].tmn_code" in proc.stderr and "'bad'" in proc.stderr


# ---------------------------------------------------------------------------- the payment URL


def test_good_url_creates_one_payment_idempotently(stack):
    before = payments(stack)
    r = ref()
    params = stack.pay_params(r, 150_000)
    status, page, _ = stack.open(stack.url_for(params))
    assert status == 200
    assert page["amount_vnd"] == 150_000 and page["vnp_TxnRef"] == r and page["state"] == "created"
    assert {b["code"] for b in page["banks"]} >= {"VIETINBANK"}
    again = stack.open(stack.url_for({**params, "vnp_IpAddr": "10.0.0.7"}))[1]
    assert again["payment_id"] == page["payment_id"]
    assert payments(stack) == before + 1
    status, html, _ = get(stack.url_for(params))
    assert status == 200 and 'id="vnpay-choose"' in html and 'name="bank_code"' in html


def _refused(stack, url):
    before = payments(stack)
    status, _, location = get(url)
    assert status == 302 and location.startswith("/paymentv2/Payment/Error.html?"), (status, location)
    page_status, page, _ = get(stack.gateway_url + location, accept_json=True)
    assert page_status == 200
    assert payments(stack) == before, "a refused payment URL must write nothing"
    return page


def test_same_ref_same_day_other_amount_is_refused_01(stack):
    r = ref()
    assert stack.open(stack.url_for(stack.pay_params(r, 100_000)))[0] == 200
    page = _refused(stack, stack.url_for(stack.pay_params(r, 120_000)))
    assert page["code"] == "01" and page["field"] == "vnp_TxnRef"


@pytest.mark.parametrize(("change", "code", "field"), [
    ({"vnp_Amount": "100050"}, "03", "vnp_Amount"),
    ({"vnp_Amount": "1000000.00"}, "03", "vnp_Amount"),
    ({"vnp_CurrCode": "USD"}, "03", "vnp_CurrCode"),
    ({"vnp_Version": "2.0.0"}, "03", "vnp_Version"),
    ({"vnp_OrderInfo": "Thanh toán hồ sơ"}, "03", "vnp_OrderInfo"),
    ({"vnp_ReturnUrl": ""}, "03", "vnp_ReturnUrl"),
    ({"vnp_IpAddr": "not-an-ip"}, "03", "vnp_IpAddr"),
    ({"vnp_Locale": "fr"}, "03", "vnp_Locale"),
    ({"vnp_CreateDate": "20240230120000"}, "03", "vnp_CreateDate"),
    ({"vnp_ExpireDate": "20200101000000", "vnp_CreateDate": "20191231230000"}, "11", "vnp_ExpireDate"),
    ({"vnp_OrderInfo": "x" * 256}, "03", "vnp_OrderInfo"),
    ({"vnp_Foo": "1"}, "03", "vnp_Foo"),
])
def test_bad_fields_get_the_error_page_naming_the_field(stack, change, code, field):
    params = {**stack.pay_params(ref()), **change}
    page = _refused(stack, stack.url_for(params))
    assert (page["code"], page["field"]) == (code, field), page


def test_tampered_unsigned_and_foreign_urls_are_refused(stack):
    url = stack.url_for(stack.pay_params(ref(), 100_000))
    tampered = url.replace("vnp_Amount=10000000", "vnp_Amount=100")
    assert tampered != url
    assert _refused(stack, tampered)["code"] == "70"
    assert _refused(stack, url.split("&vnp_SecureHash=")[0])["code"] == "70"
    assert _refused(stack, stack.url_for(stack.pay_params(ref()), secret=OTHER_SECRET))["code"] == "70"
    page = _refused(stack, stack.url_for(stack.pay_params(ref(), vnp_TmnCode="NOSUCH01")))
    assert (page["code"], page["field"]) == ("02", "vnp_TmnCode")
    assert _refused(stack, url + "&vnp_Amount=100")["code"] == "03"  # a parameter given twice


# ---------------------------------------------------------------------------- after the bank's verdict


def test_paid_payment_redirects_signed_and_sends_a_signed_ipn_get(stack):
    r = ref()
    stack.merchant.amounts[r] = 250_000 * 100
    out = stack.pay(r, 250_000)
    assert out["verdict"]["response_code"] == "00"
    status, _, location = get(out["verdict"]["return_url"])
    assert status == 302 and location.startswith("http://127.0.0.1:9/vnpay/return?")
    back = query_of(location)
    assert wire.verify_params(back, SECRET.encode())
    assert back["vnp_ResponseCode"] == "00" and back["vnp_TransactionStatus"] == "00"
    assert back["vnp_Amount"] == "25000000" and back["vnp_TxnRef"] == r and back["vnp_BankCode"] == "VIETINBANK"
    (ipn,) = wait_for(lambda: stack.merchant.for_ref(r))
    assert ipn["sig_ok"]
    sent = {k for k in ipn if k.startswith("vnp_")}
    assert sent == {"vnp_TmnCode", "vnp_Amount", "vnp_BankCode", "vnp_BankTranNo", "vnp_CardType", "vnp_PayDate",
                    "vnp_OrderInfo", "vnp_TransactionNo", "vnp_ResponseCode", "vnp_TransactionStatus",
                    "vnp_TxnRef", "vnp_SecureHash"}
    assert all(k.startswith("vnp_") for k in query_of("?" + ipn["raw_query"]))
    assert ipn["vnp_CardType"] == "ATM" and ipn["vnp_BankTranNo"] == out["verdict"]["bank_txn_no"]
    wait_for(lambda: stack.stats()["ipn"]["pending"] == 0)


def test_ipn_is_retried_until_00_from_the_outbox(stack):
    stack.merchant.script = "99,01,00"
    r = ref()
    stack.pay(r)
    calls = wait_for(lambda: len(stack.merchant.for_ref(r)) >= 3 and stack.merchant.for_ref(r), timeout=20)
    assert len(calls) == 3
    gaps = [b["at"] - a["at"] for a, b in itertools.pairwise(calls)]
    assert all(g >= 0.15 for g in gaps), gaps  # 20 s × time-scale 0.01 apart


@pytest.mark.parametrize(("faults", "first_code"), [
    ({"bad_signature": 1.0}, "97"),
    ({"amount_mismatch": 1.0}, "04"),
])
def test_tampered_first_ipn_is_refused_then_delivered(stack, faults, first_code):
    stack.faults("gateway", {"gateway": {"ipn": faults}})
    r = ref()
    stack.merchant.amounts[r] = 200_000 * 100
    stack.pay(r)
    first, second = wait_for(lambda: len(stack.merchant.for_ref(r)) >= 2 and stack.merchant.for_ref(r), timeout=20)
    if first_code == "97":
        assert not first["sig_ok"] and second["sig_ok"]
    else:
        assert first["sig_ok"] and first["vnp_Amount"] == str(201_000 * 100)
        assert second["vnp_Amount"] == str(200_000 * 100)


def test_duplicate_and_lost_ipn_faults_apply(stack):
    stack.faults("gateway", {"gateway": {"ipn": {"duplicate": {"rate": 1.0, "copies": 2}}}})
    r = ref()
    stack.pay(r)
    wait_for(lambda: len(stack.merchant.for_ref(r)) == 3)
    stack.faults("gateway", {"gateway": {"ipn": {"lost": 1.0}}})
    lost = ref()
    out = stack.pay(lost)
    get(out["verdict"]["return_url"])
    wait_for(lambda: stack.stats()["ipn"]["lost"] >= 1)
    assert stack.merchant.for_ref(lost) == []


def test_cancelled_payment_returns_24_with_transaction_no_0(stack):
    r = ref()
    page = stack.open(stack.url_for(stack.pay_params(r)))[1]
    status, _, location = get_post(stack.gateway_url + page["cancel_url"])
    assert status == 302
    back = query_of(location)
    assert wire.verify_params(back, SECRET.encode())
    assert back["vnp_ResponseCode"] == "24" and back["vnp_TransactionNo"] == "0"
    assert "vnp_BankTranNo" not in back
    assert (back["vnp_BankCode"], back["vnp_CardType"]) == ("VNPAY", "QRCODE")  # always present (vnpay.md §3)
    wait_for(lambda: stack.merchant.for_ref(r))  # the merchant hears of the cancel by IPN too
    ipn = stack.merchant.for_ref(r)[0]
    assert ipn["sig_ok"] and ipn["vnp_ResponseCode"] == "24" and ipn["vnp_TransactionNo"] == "0"


def get_post(url):
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("POST", parts.path)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp.status, None, resp.getheader("Location")


# ---------------------------------------------------------------------------- querydr and refund


def _api(stack, body):
    status, answer = call("POST", stack.gateway_url + "/merchant_webapi/api/transaction", body)
    assert status == 200
    assert None not in answer.values(), "VNPay answers never carry JSON null"
    return answer


def _querydr(stack, r, create_date, request_id=None, secret=SECRET, **extra):
    return _api(stack, api_body(
        "querydr", secret, vnp_RequestId=request_id or uuid.uuid4().hex[:16], vnp_TxnRef=r,
        vnp_TransactionDate=create_date, vnp_CreateDate=wire.vn_time(time.time()),
        vnp_IpAddr="127.0.0.1", vnp_OrderInfo=f"Query {r}", **extra))


def _paid(stack, amount=200_000):
    """A paid payment: (vnp_TxnRef, its vnp_CreateDate, the payer page)."""
    r = ref()
    out = stack.pay(r, amount)
    get(out["verdict"]["return_url"])  # settles by inquiry if the notice is late
    assert stack.query(out["page"]["payment_id"])["state"] == "paid"
    return r, out["params"]["vnp_CreateDate"], out["page"]


def test_querydr_answers_signed_and_its_codes(stack):
    r, create_date, _ = _paid(stack)
    answer = _querydr(stack, r, create_date)
    assert answer["vnp_ResponseCode"] == "00" and answer["vnp_TransactionStatus"] == "00"
    assert answer["vnp_Amount"] == "20000000" and answer["vnp_TxnRef"] == r
    assert wire.verify_pipe(SECRET.encode(), answer, wire.QUERYDR_RESPONSE)
    assert _querydr(stack, "NOPE" + r, create_date)["vnp_ResponseCode"] == "91"
    assert _querydr(stack, r, create_date, secret=OTHER_SECRET)["vnp_ResponseCode"] == "97"
    _querydr(stack, r, create_date, request_id="REQ-" + r)
    dup = _querydr(stack, r, create_date, request_id="REQ-" + r)
    assert dup["vnp_ResponseCode"] == "94" and wire.verify_pipe(SECRET.encode(), dup, wire.QUERYDR_RESPONSE)
    unknown = _api(stack, {**api_body("querydr", vnp_RequestId="x"), "vnp_TmnCode": "NOSUCH01"})
    assert unknown["vnp_ResponseCode"] == "02" and "vnp_SecureHash" not in unknown
    assert _api(stack, {"vnp_Command": "oops"})["vnp_ResponseCode"] == "03"


def _refund(stack, r, create_date, amount_vnd, kind, **extra):
    return _api(stack, api_body(
        "refund", vnp_RequestId=uuid.uuid4().hex[:16], vnp_TransactionType=kind, vnp_TxnRef=r,
        vnp_Amount=amount_vnd * 100, vnp_TransactionNo=extra.pop("no", ""), vnp_TransactionDate=create_date,
        vnp_CreateBy="officer", vnp_CreateDate=wire.vn_time(time.time()), vnp_IpAddr="127.0.0.1",
        vnp_OrderInfo=f"Hoan tien {r}", **extra))


def test_refund_partial_then_full_and_its_codes(stack):
    r, create_date, page = _paid(stack, 300_000)
    assert _refund(stack, r, create_date, 300_001, "03")["vnp_ResponseCode"] == "03"
    part = _refund(stack, r, create_date, 100_000, "03")
    assert part["vnp_ResponseCode"] == "00" and part["vnp_Amount"] == "10000000"
    assert wire.verify_pipe(SECRET.encode(), part, wire.REFUND_RESPONSE)  # x100: signed as sent
    assert stack.query(page["payment_id"])["refunded_vnd"] == 100_000
    assert _refund(stack, r, create_date, 100_000, "02")["vnp_ResponseCode"] == "03"  # full must be what is left
    full = _refund(stack, r, create_date, 200_000, "02")
    assert full["vnp_ResponseCode"] == "00"
    assert stack.query(page["payment_id"])["state"] == "refunded"
    assert _refund(stack, r, create_date, 1_000, "03")["vnp_ResponseCode"] == "95"
    unpaid = ref()
    params = stack.pay_params(unpaid)
    stack.open(stack.url_for(params))
    assert _refund(stack, unpaid, params["vnp_CreateDate"], 1_000, "03")["vnp_ResponseCode"] == "95"
    assert _refund(stack, unpaid, "20200101000000", 1_000, "03")["vnp_ResponseCode"] == "91"


def test_bank_list_for_the_library(stack):
    status, banks = call("POST", stack.gateway_url + "/qrpayauth/api/merchant/get_bank_list",
                         raw=f"tmn_code={TMN}".encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and banks
    assert set(banks[0]) == {"bank_code", "bank_name", "logo_link", "bank_type", "display_order"}
    for tmn_code, wanted in (("NOPE", 400), ("", 400), ("NOPE0000", 404)):  # malformed; well-formed but unknown
        status, answer = call("POST", stack.gateway_url + "/qrpayauth/api/merchant/get_bank_list",
                              raw=f"tmn_code={tmn_code}".encode(),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert status == wanted and answer["field"] == "tmn_code", (tmn_code, status, answer)
    assert OTHER_TMN  # both test terminals are configured


def test_real_vnpay_answers_match_the_openapi_document(stack):
    import jsonschema

    doc = call("GET", stack.gateway_url + "/openapi.json")[1]

    def check(path, method, status, body, media="application/json"):
        schema = doc["paths"][path][method]["responses"][str(status)]["content"][media]["schema"]
        jsonschema.validate(body, {**schema, "components": doc["components"]}, cls=jsonschema.Draft202012Validator)

    r, create_date, page = _paid(stack)
    check("/paymentv2/vpcpay.html", "get", 200, page)
    check("/merchant_webapi/api/transaction", "post", 200, _querydr(stack, r, create_date))
    bad = get(stack.url_for(stack.pay_params(ref(), vnp_Locale="fr")))[2]
    check("/paymentv2/Payment/Error.html", "get", 200, get(stack.gateway_url + bad, accept_json=True)[1])
    banks = call("POST", stack.gateway_url + "/qrpayauth/api/merchant/get_bank_list", raw=f"tmn_code={TMN}".encode(),
                 headers={"Content-Type": "application/x-www-form-urlencoded"})[1]
    check("/qrpayauth/api/merchant/get_bank_list", "post", 200, banks)
    status, chosen = call("POST", stack.gateway_url + stack.open(stack.url_for(stack.pay_params(ref())))[1][
        "choose_url"], {"bank_code": "BIDV"})
    check("/paymentv2/pay/{payment_id}", "post", status, chosen)
    # refusals: a command that is neither querydr nor refund (no vnp_Command to echo); an error page without a code
    no_command = call("POST", stack.gateway_url + "/merchant_webapi/api/transaction", {"vnp_Command": 0})[1]
    assert no_command["vnp_ResponseCode"] == "03" and "vnp_Command" not in no_command, no_command
    check("/merchant_webapi/api/transaction", "post", 200, no_command)
    for code in ("", "7", "x9", "\u0667\u0665"):  # missing, short, not digits, Arabic-Indic digits
        status, body, _ = get(stack.gateway_url + "/paymentv2/Payment/Error.html?" + urlencode({"code": code}),
                              accept_json=True)
        assert status == 400 and body["field"] == "code", (code, status, body)
        check("/paymentv2/Payment/Error.html", "get", 400, body)
        status, page, _ = get(stack.gateway_url + "/paymentv2/Payment/Error.html?" + urlencode({"code": code}))
        assert status == 400 and "two digits" in page and f"<p id=\"code\">{code}<" not in page


def test_a_declined_payment_is_told_to_the_merchant_too(stack):
    stack.faults("bank", {"bank": {"outage": {"banks": ["BIDV"], "code": "75"}}})
    r = ref()
    out = stack.pay(r, bank="BIDV")
    assert out["verdict"]["response_code"] == "75"
    (ipn,) = wait_for(lambda: stack.merchant.for_ref(r))
    assert ipn["sig_ok"] and ipn["vnp_ResponseCode"] == "75" and ipn["vnp_TransactionStatus"] == "02"
    assert "vnp_BankTranNo" not in ipn and ipn["vnp_BankCode"] == "BIDV"
    back = query_of(get(out["verdict"]["return_url"])[2])
    assert back["vnp_ResponseCode"] == "75" and wire.verify_params(back, SECRET.encode())
    assert stack.query(out["page"]["payment_id"])["state"] == "failed"
