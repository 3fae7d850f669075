"""What production merchants send: every sample language's encoder verifies and is named; deviations are
accepted by default and noted as findings; ``--vnpay-strict`` refuses them (docs/contracts.md §1d)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shutil
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from helpers_vnpay import SECRET, TMN, VnpayStack
from motcua.mock_services.common import vnpay_wire as wire
from motcua.mock_services.gateway.vnpay.encoders import BY_NAME, ENCODERS, matching_encoder

from motcua.loadtest.merchant_ipns import in_flight, judge_unpaid, race_of

ROOT = Path(__file__).resolve().parents[1]
AWKWARD = "Le phi *~'()! ho so Thanh toán hồ sơ"
"""Every character the sample languages' encoders treat differently: * ~ ' ( ) ! space, and Vietnamese."""


def signed(encoder_name: str, params: dict[str, str], secret: bytes = SECRET.encode()) -> dict[str, str]:
    data = BY_NAME[encoder_name].sign_data(params)
    return {**params, "vnp_SecureHash": hmac.new(secret, data.encode(), hashlib.sha512).hexdigest()}


def params_with(value: str) -> dict[str, str]:
    return {"vnp_TmnCode": TMN, "vnp_Amount": "1000000", "vnp_OrderInfo": value, "vnp_TxnRef": "R1"}


# ---------------------------------------------------------------------------- the encoders


@pytest.mark.parametrize("encoder", [e.name for e in ENCODERS])
def test_each_sample_languages_signature_verifies_and_is_named(encoder):
    params = signed(encoder, params_with(AWKWARD))
    assert matching_encoder(params, SECRET.encode()) == encoder
    assert matching_encoder(params, b"another secret") is None
    strict = matching_encoder(params, SECRET.encode(), strict=True)
    assert strict == ("form" if encoder == "form" else None)


def test_the_encoders_differ_on_the_awkward_characters_only():
    outputs = {e.name: e.encode(AWKWARD) for e in ENCODERS}
    assert len(set(outputs.values())) == len(ENCODERS), outputs
    assert {e.encode("Thanh-toan_ho.so09") for e in ENCODERS} == {"Thanh-toan_ho.so09"}


def test_encoders_agree_with_the_platforms_at_hand():
    """The written-from-the-docs encoders match Python's quote_plus and the front's WHATWG encoder."""
    assert BY_NAME["python_quote_plus"].encode(AWKWARD) == quote_plus(AWKWARD)
    assert BY_NAME["form"].encode(AWKWARD) == wire.form(AWKWARD)
    assert BY_NAME["dotnet_httputility"].encode("ệ") == "%e1%bb%87"
    assert BY_NAME["php_urlencode"].encode("*~") == "%2A%7E"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_encoders_agree_with_node():
    script = ("const v=process.argv[1]; console.log(JSON.stringify([new URLSearchParams({v}).toString().slice(2),"
              " encodeURIComponent(v), encodeURIComponent(v).replace(/%20/g,'+'),"
              " require('querystring').escape(v)]))")
    out = json.loads(subprocess.run(["node", "-e", script, AWKWARD], capture_output=True, text=True,
                                    check=True, timeout=30).stdout)
    assert out == [BY_NAME["form"].encode(AWKWARD), BY_NAME["node_querystring"].encode(AWKWARD),
                   BY_NAME["node_uri_component_plus"].encode(AWKWARD), BY_NAME["node_querystring"].encode(AWKWARD)]


# ---------------------------------------------------------------------------- the lenient front


@pytest.fixture(scope="module")
def lenient(tmp_path_factory):
    st = VnpayStack(tmp_path_factory.mktemp("vnpay-lenient"), strict=False)
    try:
        yield st
    finally:
        st.stop()


def records(stack: VnpayStack, since: float) -> dict:
    url = f"{stack.gateway_url}/vnpay/ipn-records?tmn_code={TMN}&since={since!r}"
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


def ref() -> str:
    return "F" + uuid.uuid4().hex[:12].upper()


def url_of(stack: VnpayStack, params: dict[str, str], encoder: str = "form") -> str:
    query = "&".join(f"{k}={BY_NAME[encoder].encode(v)}" for k, v in sorted(params.items()))
    return f"{stack.gateway_url}{wire.PAY_PATH}?{query}"


def test_production_merchants_urls_are_accepted_and_each_deviation_named(lenient):
    since = time.time() - 1
    utc_now = time.time() - 7 * 3600  # a merchant writing UTC as if it were UTC+7
    params = lenient.pay_params(ref(), 120_000, vnp_OrderInfo="Thanh toán hồ sơ (lệ phí)~",
                                vnp_CreateDate=wire.vn_time(utc_now), vnp_IpAddr="127.0.0.1, 10.0.0.7",
                                vnp_SecureHashType="HmacSHA512", vnp_Inv_Phone="0912345678")
    del params["vnp_ExpireDate"]
    status, page, location = lenient.open(url_of(lenient, signed("python_quote_plus", params)))
    assert status == 200, (page, location)
    found = {(f["kind"], f["detail"]): f for f in records(lenient, since)["findings"]}
    assert set(found) >= {
        ("expire_date_missing", ""), ("order_info_diacritics", ""), ("create_date_not_utc7", "-7 h"),
        ("secure_hash_type_present", ""), ("signature_encoder", "python_quote_plus"), ("ip_addr_not_ip", ""),
        ("unknown_parameter", "vnp_Inv_Phone"),
    }, found
    assert found[("ip_addr_not_ip", "")]["example"] == "vnp_IpAddr=127.0.0.1, 10.0.0.7"
    assert all(f["count"] == 1 for f in found.values())


def test_a_reused_txn_ref_is_refused_01_and_named_as_the_cause(lenient):
    since = time.time() - 1
    r = ref()
    assert lenient.open(lenient.url_for(lenient.pay_params(r, 100_000)))[0] == 200
    for amount in (110_000, 130_000):
        status, _, location = lenient.open(lenient.url_for(lenient.pay_params(r, amount)))
        assert status == 302 and "code=01" in location
    found = {(f["kind"], f["detail"]): f for f in records(lenient, since)["findings"]}
    assert found[("txn_ref_reused", "")]["count"] == 2 and r in found[("txn_ref_reused", "")]["example"]
    assert found[("refused", "01 vnp_TxnRef")]["count"] == 2


def test_strict_refuses_what_lenient_notes(tmp_path):
    st = VnpayStack(tmp_path / "strict", strict=True)
    try:
        params = st.pay_params(ref(), vnp_OrderInfo="Le phi (ho so)!")
        status, _, location = st.open(url_of(st, signed("dotnet_webutility", params), "dotnet_webutility"))
        assert status == 302 and "code=70" in location
        since = time.time() - 5
        found = records(st, since)["findings"]
        assert [(f["kind"], f["detail"]) for f in found] == [("refused", "70 vnp_SecureHash")]
        upper = signed("form", st.pay_params(ref()))
        upper["vnp_SecureHash"] = upper["vnp_SecureHash"].upper()
        assert "code=70" in (st.open(url_of(st, upper))[2] or "")
    finally:
        st.stop()


def test_upper_case_hex_is_accepted_and_noted(lenient):
    since = time.time() - 1
    params = signed("form", lenient.pay_params(ref()))
    params["vnp_SecureHash"] = params["vnp_SecureHash"].upper()
    assert lenient.open(url_of(lenient, params))[0] == 200
    kinds = {f["kind"] for f in records(lenient, since)["findings"]}
    assert "secure_hash_upper_case" in kinds


# ---------------------------------------------------------------------------- judging every IPN


def delivery(sent, answered, code, tampered=None, kind="attempt"):
    return {"kind": kind, "tampered": tampered, "sent_at": sent, "answered_at": answered, "rsp_code": code,
            "error": None}


def test_concurrent_duplicates_are_shown_as_a_race():
    payment = {"txn_ref": "R1", "payment_id": "p1", "bank_approved_at": 10.0,
               "deliveries": [delivery(11.0, 11.5, "00"), delivery(11.01, 11.4, "00", kind="copy"),
                              delivery(11.02, 11.3, "02", kind="copy"), delivery(20.0, 20.1, "02")]}
    race = race_of(payment)
    assert race["race"] and race["in_flight_at_once"] == 3 and race["answers"] == ["00", "00", "02", "02"]
    assert in_flight([delivery(1, 2, "00"), delivery(2, 3, "00")]) == 1  # one after the other: no race


def test_failed_payments_ipns_are_judged():
    approved = [{"txn_ref": "PAID1", "payment_id": "a", "bank_approved_at": 5.0, "deliveries": []}]
    unpaid = [
        {"txn_ref": "OK1", "payment_id": "u1", "state": "failed", "response_code": "51",
         "deliveries": [delivery(1, 1.1, "00"), delivery(2, 2.1, "02")]},
        {"txn_ref": "TWICE", "payment_id": "u2", "state": "failed", "response_code": "51",
         "deliveries": [delivery(1, 1.1, "00"), delivery(2, 2.1, "00")]},
        {"txn_ref": "CREDITED", "payment_id": "u3", "state": "cancelled", "response_code": None,
         "deliveries": [delivery(1, 1.1, "00")]},
        {"txn_ref": "PAID1", "payment_id": "u4", "state": "failed", "response_code": "24",
         "deliveries": [delivery(6, 6.1, "00")]},
    ]
    statuses = {"OK1": {"paid": False, "credits": 0}, "CREDITED": {"paid": True, "credits": 1}}
    breaches, evidence, codes = judge_unpaid(unpaid, approved, statuses)
    assert breaches == {"credited_failed": ["CREDITED"], "confirmed_twice": ["TWICE"],
                        "failed_after_success": ["PAID1"]}
    assert codes == {"00": 5, "02": 1}
    assert [e["txn_ref"] for e in evidence] == ["TWICE", "CREDITED", "PAID1"]
    assert evidence[0]["calls"][1] == {"kind": "attempt", "tampered": None, "sent_at": 2, "answered_at": 2.1,
                                       "rsp_code": "00"}


# ---------------------------------------------------------------------------- section references


SECTION_CITED = re.compile(r"contracts(?:\.md)?`?[^§\n]{0,12}§(\d+[a-z]?)")
"""A citation of docs/contracts.md: "docs/contracts.md §6b", "contracts.md` §2", "contracts §1"."""


def test_every_section_reference_exists_in_contracts():
    """Every "contracts.md §N" cited in code, examples, tests and docs, and every bare "§N" inside
    docs/contracts.md (not "vnpay.md §N", which is shared/vnpay.md), is a numbered heading there."""
    contracts = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^#+\s*(\d+[a-z]?)\.\s", contracts, re.MULTILINE))
    assert {"1", "1b", "1d", "6b"} <= sections, sections
    cited: dict[str, set[str]] = {}
    files = [ROOT / "README.md", *(p for folder in ("motcua", "mock_services", "locustfiles", "examples", "docs",
                                                    "tests", "scenarios", "models")
                                   for p in (ROOT / folder).rglob("*"))]
    for path in files:
        if path.suffix not in {".py", ".toml", ".md", ".mjs"} or "node_modules" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in SECTION_CITED.finditer(text):
            cited.setdefault(match.group(1), set()).add(str(path.relative_to(ROOT)))
    for match in re.finditer(r"(?<!vnpay\.md )§(\d+[a-z]?)", contracts):
        cited.setdefault(match.group(1), set()).add("docs/contracts.md")
    missing = {s: sorted(where) for s, where in cited.items() if s not in sections}
    assert not missing, f"sections cited but absent from docs/contracts.md: {missing}"
    assert SECTION_CITED.search("see docs/contracts.md §1d") and not SECTION_CITED.search("vnpay.md §3")


# ---------------------------------------------------------------------------- the report's loadtest section


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_reports_load_section_names_the_findings(lang):
    from motcua.report.sections import ReportInput, _conformance

    r = ReportInput(files=None, scenario=None, lang=lang)  # type: ignore[arg-type]
    conf = {"deviations": 7, "refused": 2, "findings": [
        {"kind": "expire_date_missing", "detail": "", "count": 5},
        {"kind": "signature_encoder", "detail": "php_urlencode", "count": 2},
        {"kind": "refused", "detail": "01 vnp_TxnRef", "count": 2}]}
    sentence = _conformance(r, conf)
    assert sentence is not None and "expire_date_missing ×5" in sentence
    assert "signature_encoder php_urlencode ×2" in sentence and "refused 01 vnp_TxnRef ×2" in sentence
    assert _conformance(r, {"deviations": 0, "refused": 0, "findings": []}) is None
    assert _conformance(r, None) is None
