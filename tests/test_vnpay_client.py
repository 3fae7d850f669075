"""A real VNPay merchant client that nobody here wrote — the npm library ``vnpay`` (pinned in
tests/vnpay_client/package-lock.json, installed by ``make`` with ``npm ci``) — against the gateway's VNPay
front: its payment URLs are payable, its return/IPN checks accept what the gateway sends and reject what
the tampering fault sends, its queryDr and refund check the gateway's signed answers.

Node.js is required: without it these tests fail with a message saying how to install it (never skip).
The Node process runs with TZ=Asia/Ho_Chi_Minh, so every vnp_CreateDate is passed explicitly (the
library's default is right only in UTC, vnpay.md §5).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from helpers_mock_http import call, wait_for
from helpers_vnpay import OTHER_SECRET, OTHER_TMN, SECRET, TMN, get, no_faults_fixture, query_of, vnpay_stack_fixture  # noqa: F401 (fixtures)
from motcua.mock_services.common import vnpay_wire as wire

CLIENT_DIR = Path(__file__).resolve().parent / "vnpay_client"


def node(request: dict) -> dict:
    exe = shutil.which("node")
    if exe is None:
        pytest.fail("Node.js is not installed, and the VNPay client tests need it (the npm library vnpay): "
                    "install it (Debian: apt-get install nodejs npm; .ci/run does this) and run `make`")
    if not (CLIENT_DIR / "node_modules" / "vnpay" / "package.json").is_file():
        pytest.fail(f"the npm library vnpay is not installed in {CLIENT_DIR}/node_modules: run `make node-deps` "
                    "(npm ci --prefix tests/vnpay_client)")
    proc = subprocess.run([exe, "client.mjs"], input=json.dumps(request), cwd=CLIENT_DIR, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "TZ": "Asia/Ho_Chi_Minh"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)




def config(stack, tmn=TMN, secret=SECRET) -> dict:
    return {"host": stack.gateway_url, "tmnCode": tmn, "secureSecret": secret}


def build(stack, ref: str, amount_vnd: int, *, tmn=TMN, secret=SECRET) -> tuple[str, str]:
    """The library's payment URL for an order; returns (url, vnp_CreateDate)."""
    now = time.time()
    created = wire.vn_time(now)
    url = node({"op": "build", "config": config(stack, tmn, secret), "payment": {
        "vnp_Amount": amount_vnd, "vnp_IpAddr": "127.0.0.1", "vnp_TxnRef": ref,
        "vnp_OrderInfo": f"Thanh toan le phi ho so {ref} (LLTP) 50% ~ *", "vnp_OrderType": "other",
        "vnp_ReturnUrl": "http://127.0.0.1:9/vnpay/return?from=motcua", "vnp_Locale": "vn",
        "vnp_CreateDate": int(created), "vnp_ExpireDate": int(wire.vn_time(now + 900)),
    }})["url"]
    assert url.startswith(stack.gateway_url + "/paymentv2/vpcpay.html?")
    return url, created


def pay_through(stack, url: str, bank: str = "VIETINBANK") -> dict:
    status, page, location = get(url, accept_json=True)
    assert status == 200, (page, location)
    status, chosen = call("POST", stack.gateway_url + page["choose_url"], {"bank_code": bank})
    assert status == 200, chosen
    status, verdict = stack.charge(chosen["charge_token"], bank)
    assert status == 200 and verdict["response_code"] == "00", verdict
    status, _, back = get(verdict["return_url"])
    assert status == 302, back
    return {"page": page, "return_query": back.split("?", 1)[1]}


def new_ref() -> str:
    return "LIB" + uuid.uuid4().hex[:10].upper()


def test_a_library_url_is_payable_and_its_ipn_arrives(stack):
    ref = new_ref()
    url, _ = build(stack, ref, 150_000)
    out = pay_through(stack, url)
    assert out["page"]["amount_vnd"] == 150_000
    (ipn,) = wait_for(lambda: stack.merchant.for_ref(ref))
    assert ipn["sig_ok"] and ipn["vnp_Amount"] == "15000000"
    assert stack.query(out["page"]["payment_id"])["state"] == "paid"


def test_a_tampered_library_url_is_refused_with_70(stack):
    url, _ = build(stack, new_ref(), 150_000)
    tampered = url.replace("vnp_Amount=15000000", "vnp_Amount=1500000")
    assert tampered != url
    status, _, location = get(tampered)
    assert status == 302 and "code=70" in location


def test_library_default_create_date_is_wrong_outside_utc_and_refused(stack):
    # Without vnp_CreateDate the library stamps "UTC + 7 h" read in local time: in Viet Nam that is 7 h ahead.
    payment = {"vnp_Amount": 10_000, "vnp_IpAddr": "127.0.0.1", "vnp_TxnRef": new_ref(), "vnp_OrderInfo": "Le phi",
               "vnp_ReturnUrl": "http://127.0.0.1:9/r", "vnp_ExpireDate": int(wire.vn_time(time.time() + 86400))}
    url = node({"op": "build", "config": config(stack), "payment": payment})["url"]
    stamped = wire.parse_vn_time(query_of(url)["vnp_CreateDate"], "vnp_CreateDate")
    assert stamped - time.time() > 6 * 3600
    status, _, location = get(url)
    assert status == 302 and "code=03" in location and "field=vnp_CreateDate" in location


def test_library_accepts_the_return_and_ipn_and_rejects_a_tampered_ipn(stack):
    stack.faults("gateway", {"gateway": {"ipn": {"bad_signature": 1.0}}})
    ref = new_ref()
    url, _ = build(stack, ref, 99_000)
    out = pay_through(stack, url)
    first, second = wait_for(lambda: len(stack.merchant.for_ref(ref)) >= 2 and stack.merchant.for_ref(ref))
    assert not first["sig_ok"] and second["sig_ok"]
    # The merchant's vnp_ReturnUrl carries its own "?from=motcua"; the library signs every parameter it is
    # given, so a merchant must hand it only the vnp_* ones (the gateway adds nothing else).
    whole = out["return_query"]
    vnp_only = "&".join(part for part in whole.split("&") if part.startswith("vnp_"))
    assert whole.startswith("from=motcua&")
    foreign, ret = node({"op": "verify", "config": config(stack), "queries": [whole, vnp_only]})["results"]
    assert foreign["isVerified"] is False
    assert ret["isVerified"] and ret["isSuccess"] and ret["vnp_Amount"] == 99_000 and ret["vnp_TxnRef"] == ref
    ipns = node({"op": "verify", "config": config(stack), "ipn": True,
                 "queries": [first["raw_query"], second["raw_query"]]})["results"]
    assert [r["isVerified"] for r in ipns] == [False, True]
    assert ipns[1]["isSuccess"] and ipns[1]["vnp_Amount"] == 99_000
    # A non-numeric vnp_Amount makes the library throw instead of answering "not verified" (vnpay.md §5).
    (odd,) = node({"op": "verify", "config": config(stack), "ipn": True,
                   "queries": [second["raw_query"].replace("vnp_Amount=9900000", "vnp_Amount=abc")]})["results"]
    assert odd == {"threw": "Invalid amount"}


def _querydr(stack, ref, created, **config_kw) -> dict:
    return node({"op": "querydr", "config": config(stack, **config_kw), "query": {
        "vnp_RequestId": uuid.uuid4().hex[:16], "vnp_TxnRef": ref, "vnp_TransactionDate": int(created),
        "vnp_CreateDate": int(wire.vn_time(time.time())), "vnp_IpAddr": "127.0.0.1",
        "vnp_OrderInfo": f"Truy van {ref}"}})


def test_library_querydr_verifies_the_signed_answer(stack):
    ref = new_ref()
    url, created = build(stack, ref, 120_000)
    pay_through(stack, url)
    answer = _querydr(stack, ref, created)
    assert answer["isVerified"] and answer["isSuccess"], answer
    assert answer["vnp_TransactionStatus"] == "00" and answer["vnp_Amount"] == "12000000"
    missing = _querydr(stack, "NOSUCH" + ref, created)
    assert missing["vnp_ResponseCode"] == "91" and missing["isVerified"] and not missing["isSuccess"]
    wrong_key = _querydr(stack, ref, created, secret="TEST-ONLY-not-the-terminal-secret")
    assert wrong_key["vnp_ResponseCode"] == "97" and not wrong_key["isVerified"]
    # An answer without vnp_SecureHash (the gateway cannot sign for an unknown terminal: 02) is not checked at
    # all by the library: it reports isVerified true.
    unknown = _querydr(stack, ref, created, tmn="NOSUCH01")
    assert unknown["vnp_ResponseCode"] == "02" and "vnp_SecureHash" not in unknown and unknown["isVerified"]


def _refund(stack, ref, created, amount_vnd, kind, *, tmn=TMN, secret=SECRET, transaction_no=None) -> dict:
    refund = {
        "vnp_RequestId": uuid.uuid4().hex[:16], "vnp_TxnRef": ref, "vnp_Amount": amount_vnd,
        "vnp_TransactionType": kind, "vnp_TransactionDate": int(created), "vnp_CreateBy": "can-bo-mot-cua",
        "vnp_CreateDate": int(wire.vn_time(time.time())), "vnp_IpAddr": "127.0.0.1",
        "vnp_OrderInfo": f"Hoan tien {ref}",
    }
    if transaction_no is not None:
        refund["vnp_TransactionNo"] = transaction_no
    return node({"op": "refund", "config": config(stack, tmn, secret), "refund": refund})


def test_library_refund_and_which_way_the_amount_is_signed(stack):
    # Terminal TMN signs the refund answer's vnp_Amount as sent (× 100, VNPay's rule for every signed field):
    # the refund is done, but the library recomputes the hash with vnp_Amount ÷ 100 and reports it unverified.
    ref = new_ref()
    url, created = build(stack, ref, 300_000)
    pay_through(stack, url)
    part = _refund(stack, ref, created, 100_000, "03")  # no vnp_TransactionNo: the library signs "0"
    assert part["vnp_ResponseCode"] == "00" and part["isSuccess"], part
    assert part["vnp_Amount"] == 100_000  # the library divided the wire's 10000000 by 100
    assert part["isVerified"] is False
    # … while the hash the gateway sent is right over the wire's × 100 amount (the library shows its own
    # vnp_Message text; the gateway's is the API code's).
    as_sent = {**part, "vnp_Amount": "10000000", "vnp_Message": wire.API_CODES["00"]}
    assert wire.pipe_hash(SECRET.encode(), as_sent, wire.REFUND_RESPONSE) == part["vnp_SecureHash"]
    # Terminal OTHER_TMN (refund_amount_signing = "vnd") signs it ÷ 100, as the library checks: verified.
    ref2 = new_ref()
    url2, created2 = build(stack, ref2, 300_000, tmn=OTHER_TMN, secret=OTHER_SECRET)
    out = pay_through(stack, url2)
    number = int(query_of("?" + out["return_query"])["vnp_TransactionNo"])
    full = _refund(stack, ref2, created2, 300_000, "02", tmn=OTHER_TMN, secret=OTHER_SECRET, transaction_no=number)
    assert full["vnp_ResponseCode"] == "00" and full["isVerified"] is True, full
    assert stack.query(out["page"]["payment_id"])["state"] == "refunded"
    refused = _refund(stack, ref2, created2, 1_000, "03", tmn=OTHER_TMN, secret=OTHER_SECRET)
    assert refused["vnp_ResponseCode"] == "95" and not refused["isSuccess"]


def test_library_get_bank_list(stack):
    banks = node({"op": "banks", "config": config(stack)})["banks"]
    assert "VIETINBANK" in {b["bank_code"] for b in banks}
    assert [b["display_order"] for b in banks] == list(range(1, len(banks) + 1))
    assert all(b["logo_link"].startswith(stack.gateway_url) for b in banks)


def test_missing_node_fails_the_tests_with_how_to_install_it(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(pytest.fail.Exception, match=r"Node.js is not installed.*apt-get install nodejs npm"):
        node({"op": "banks"})
