"""The agency mock in VNPay mode (``--protocol vnpay``) against the real gateway, bank and agency processes:
signed payment URLs, the IPN answer order 97 → 99 → 01 → 04 → 02 → 00, one credit however many copies,
the return page, and reconciliation by querydr when the IPN is lost."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
from helpers_mock_http import call, wait_for
from helpers_payment_stack import write_catalogue_without_declines
from helpers_vnpay import get
from motcua.mock_services.common import vnpay_wire as wire
from motcua.mock_services.common.http import TEST_ADMIN_TOKEN
from motcua.mock_services.common.vnpay_terminals import default_terminal
from motcua.mock_services.supervisor import MockStack, StackConfig

PAYER = {"name": "Trần Thị Bình", "cccd": "001190012345", "phone": "0987654321"}
ADMIN = {"X-Admin-Token": TEST_ADMIN_TOKEN}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockStack]:
    data = tmp_path_factory.mktemp("agency-vnpay")
    # Banks decline a few per cent by design (keyed by the random payment id): these tests need approvals.
    banks = write_catalogue_without_declines(data / "banks-no-declines.toml")
    config = StackConfig(data_dir=data, time_scale=0.01, agency_protocol="vnpay",
                         extra_args={"bank": ["--latency-scale", "0", "--catalogue", str(banks)]})
    with MockStack(config) as st:
        yield st


@pytest.fixture(autouse=True)
def no_faults(stack: MockStack) -> Iterator[None]:
    yield
    assert call("PUT", f"{stack.gateway_url}/admin/faults", {}, headers=ADMIN)[0] == 200


SECRET = default_terminal().hash_secret.encode()


def file_dossier(stack: MockStack, amount: int = 150_000) -> dict:
    status, body = call("POST", f"{stack.agency_url}/dossiers",
                        {"procedure_code": "LLTP", "payer": PAYER, "amount_vnd": amount})
    assert status == 201, body
    return body


def pay(stack: MockStack, pay_url: str, bank: str = "VIETINBANK") -> dict:
    """The citizen: open the signed URL (payer's page as JSON), choose a bank, confirm at the bank."""
    status, page, _ = get(pay_url, accept_json=True)
    assert status == 200, page
    status, chosen = call("POST", stack.gateway_url + page["choose_url"], {"bank_code": bank})
    assert status == 200, chosen
    status, verdict = call("POST", chosen["charge_url"],
                           {"charge_token": chosen["charge_token"], "bank_code": bank, "otp": "123456"})
    assert status == 200 and verdict["response_code"] == "00", verdict
    return {**chosen, "verdict": verdict}


def dossier(stack: MockStack, code: str) -> dict:
    return call("GET", f"{stack.agency_url}/dossiers/{code}")[1]


def credits_of(stack: MockStack, code: str) -> list[dict]:
    events = call("GET", f"{stack.agency_url}/events?since=0&limit=10000")[1]["events"]
    return [e for e in events if e["dossier_code"] == code and e["type"] in ("payment_confirmed",
                                                                              "paid_by_reconciliation")]


def ipn(stack: MockStack, params: dict[str, str], secret: bytes = SECRET) -> str:
    status, body, _ = get(f"{stack.agency_url}/vnpay/ipn?{wire.signed_query(params, secret)}")
    assert status == 200, body
    return body["RspCode"]


def ipn_params(code: str, amount_vnd: int, **overrides: str) -> dict[str, str]:
    params = {
        "vnp_TmnCode": default_terminal().tmn_code, "vnp_Amount": str(amount_vnd * 100), "vnp_BankCode": "NCB",
        "vnp_BankTranNo": "VNP" + code[-6:].replace("-", ""), "vnp_CardType": "ATM",
        "vnp_OrderInfo": f"Thanh toan {code}", "vnp_PayDate": wire.vn_time(time.time()), "vnp_ResponseCode": "00",
        "vnp_TransactionNo": "4242", "vnp_TransactionStatus": "00", "vnp_TxnRef": code,
    }
    params.update(overrides)
    return params


def test_dossier_pays_through_the_vnpay_front_and_is_credited_once(stack: MockStack):
    filed = file_dossier(stack)
    url = filed["payment"]["pay_url"]
    parts = urlsplit(url)
    assert parts.path == wire.PAY_PATH
    query = dict(parse_qsl(parts.query))
    assert query["vnp_TxnRef"] == filed["dossier_code"] and query["vnp_Amount"] == "15000000"
    assert wire.verify_params(query, SECRET)
    pay(stack, url)
    wait_for(lambda: dossier(stack, filed["dossier_code"])["status"] == "paid")
    [credit] = credits_of(stack, filed["dossier_code"])
    assert credit["payment_id"] == filed["payment"]["payment_id"]  # the gateway's id, computed by the agency
    assert credit["amount_vnd"] == 150_000
    # the gateway's outbox got 00 and stopped; a replay of the same IPN is answered 02 and credits nothing
    assert ipn(stack, ipn_params(filed["dossier_code"], 150_000)) == "02"
    assert len(credits_of(stack, filed["dossier_code"])) == 1
    assert call("GET", f"{stack.agency_url}/stats")[1]["double_credits"] == 0


def test_ipn_answers_in_the_documented_order(stack: MockStack):
    code = file_dossier(stack, 90_000)["dossier_code"]
    good = ipn_params(code, 90_000)
    # 97 before anything else: a wrong secret, even on an otherwise wrong order
    assert ipn(stack, ipn_params("NO-SUCH", 1), b"not-the-terminal-secret") == "97"
    tampered = wire.signed_query(good, SECRET).replace("vnp_Amount=9000000", "vnp_Amount=9000100")
    assert get(f"{stack.agency_url}/vnpay/ipn?{tampered}")[1]["RspCode"] == "97"
    # 99: signed, but ill-typed (the amount is not VND × 100; a response code of one digit)
    assert ipn(stack, {**good, "vnp_Amount": "9000050"}) == "99"
    assert ipn(stack, {**good, "vnp_ResponseCode": "0"}) == "99"
    # 01 → 04 → 00 → 02
    assert ipn(stack, ipn_params(code + "X", 90_000)) == "01"
    assert ipn(stack, ipn_params(code, 91_000)) == "04"
    assert dossier(stack, code)["status"] == "awaiting_payment"
    assert ipn(stack, good) == "00"
    assert ipn(stack, good) == "02"
    assert dossier(stack, code)["status"] == "paid"
    assert len(credits_of(stack, code)) == 1


def test_failed_payment_ipn_closes_the_dossier_unpaid(stack: MockStack):
    code = file_dossier(stack, 40_000)["dossier_code"]
    params = ipn_params(code, 40_000, vnp_ResponseCode="24", vnp_TransactionStatus="02", vnp_TransactionNo="0")
    del params["vnp_BankTranNo"]
    assert ipn(stack, params) == "00"
    assert dossier(stack, code)["status"] == "payment_failed"
    assert credits_of(stack, code) == []


def test_return_page_verifies_the_gateways_redirect(stack: MockStack):
    filed = file_dossier(stack, 60_000)
    chosen = pay(stack, filed["payment"]["pay_url"])
    wait_for(lambda: dossier(stack, filed["dossier_code"])["status"] == "paid")
    status, _, location = get(chosen["return_url"])
    assert status == 302 and location.startswith(f"{stack.agency_url}/vnpay/return?")
    status, page, _ = get(location, accept_json=True)
    assert status == 200
    assert page == {"verified": True, "dossier_code": filed["dossier_code"], "response_code": "00", "status": "paid"}
    status, page, _ = get(location.replace("vnp_ResponseCode=00", "vnp_ResponseCode=24"), accept_json=True)
    assert page["verified"] is False and page["status"] is None


def test_lost_ipn_is_recovered_by_querydr_reconciliation(stack: MockStack):
    lost = {"gateway": {"ipn": {"lost": 1.0}}}
    assert call("PUT", f"{stack.gateway_url}/admin/faults", lost, headers=ADMIN)[0] == 200
    filed = file_dossier(stack, 70_000)
    pending = file_dossier(stack, 80_000)  # its URL never opened: the gateway has no such transaction (91)
    pay(stack, filed["payment"]["pay_url"])
    time.sleep(0.5)
    assert dossier(stack, filed["dossier_code"])["status"] == "awaiting_payment"
    day = wire.vn_day_of(wire.vn_time(time.time()))
    status, result = call("POST", f"{stack.agency_url}/reconcile", {"date": day, "query_pending": True})
    assert status == 200, result
    assert result["protocol"] == "vnpay" and result["recovered"] >= 1
    assert result["query_states"].get("status 00", 0) >= 1 and result["query_states"].get("querydr 91", 0) >= 1
    assert filed["dossier_code"] in result["details"]["recovered"]
    assert dossier(stack, filed["dossier_code"])["status"] == "paid_by_reconciliation"
    assert dossier(stack, pending["dossier_code"])["status"] == "awaiting_payment"
    [credit] = credits_of(stack, filed["dossier_code"])
    assert credit["type"] == "paid_by_reconciliation" and credit["amount_vnd"] == 70_000
    again = call("POST", f"{stack.agency_url}/reconcile", {"date": day, "query_pending": True})[1]
    assert filed["dossier_code"] not in again["details"]["recovered"]


def test_openapi_documents_every_route_of_vnpay_mode(stack: MockStack):
    from openapi_spec_validator import validate

    doc = call("GET", f"{stack.agency_url}/openapi.json")[1]
    validate(doc)
    assert {"/vnpay/ipn", "/vnpay/return", "/dossiers", "/reconcile"} <= set(doc["paths"])


def test_every_served_route_is_documented_in_vnpay_mode(tmp_path):
    from motcua.mock_services.agency import AgencyConfig, build_app
    from motcua.mock_services.common.catalogue import load_fee_catalogue

    config = AgencyConfig(data_dir=tmp_path, gateway_url="http://127.0.0.1:9", public_url="http://127.0.0.1:9",
                          catalogue=load_fee_catalogue(None), protocol="vnpay", vnpay_terminal=default_terminal())
    app = build_app(config)
    served = {(r.method.lower(), r.resource.canonical) for r in app.router.routes() if r.method != "HEAD"}
    from motcua.mock_services.agency.openapi import OPENAPI
    from motcua.mock_services.agency.vnpay import with_vnpay_routes

    documented = {(m, p) for p, ops in with_vnpay_routes(OPENAPI, "vnpay")["paths"].items() for m in ops}
    assert served <= documented and ("get", "/vnpay/ipn") in served


def test_mock_command_starts_the_agency_in_vnpay_mode(tmp_path):
    """`motcua mock --protocol vnpay` prints the URLs; its agency hands out signed vpcpay URLs; --check refuses."""
    import json
    import signal
    import subprocess
    import sys

    from motcua.runs import PROJECT_ROOT

    proc = subprocess.Popen([sys.executable, "-m", "motcua.cli", "mock", "--protocol", "vnpay", "--data-dir",
                             str(tmp_path / "d")], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = next(ln for ln in proc.stdout if ln.startswith("{"))
        urls = json.loads(line)["urls"]
        status, body = call("POST", f"{urls['agency']}/dossiers", {"procedure_code": "LLTP", "payer": PAYER})
        assert status == 201 and body["payment"]["pay_url"].startswith(f"{urls['gateway']}{wire.PAY_PATH}?")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    check = subprocess.run([sys.executable, "-m", "motcua.cli", "mock", "--protocol", "vnpay", "--check"],
                           cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert check.returncode == 2 and "--protocol vnpay" in check.stderr
