"""Money, signatures and identifiers: the properties every service relies on."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from motcua.mock_services.common import signing
from motcua.mock_services.common.charge_token import (
    ChargeClaims,
    ChargeTokenError,
    make_charge_token,
    read_charge_token,
)
from motcua.mock_services.common.ids import (
    IdError,
    check_agency_code,
    make_cccd,
    make_dossier_code,
    parse_cccd,
    parse_dossier_code,
)
from motcua.mock_services.common.money import MAX_VND, MoneyError, format_vnd, parse_vnd

KEYS = signing.TEST_KEYS


# ---------------------------------------------------------------------------- money


@given(st.integers(0, MAX_VND))
def test_whole_vnd_pass_unchanged(amount):
    assert parse_vnd(amount) == amount


@given(st.one_of(st.floats(allow_nan=True), st.booleans(), st.text(), st.none(), st.integers(max_value=-1)))
def test_everything_else_is_refused_naming_the_field(value):
    with pytest.raises(MoneyError, match="fee_vnd"):
        parse_vnd(value, "fee_vnd")


def test_zero_and_format():
    with pytest.raises(MoneyError, match="free procedure creates no payment"):
        parse_vnd(0, allow_zero=False)
    assert format_vnd(200_000) == "200.000 ₫" and format_vnd(0) == "0 ₫"


@given(st.integers(0, MAX_VND))
def test_format_round_trips(amount):
    assert int(format_vnd(amount).removesuffix(" ₫").replace(".", "")) == amount


# ---------------------------------------------------------------------------- signing


paths = st.from_regex(r"/[a-z0-9/_-]{0,40}(\?[a-z]=[a-z0-9]{1,8})?", fullmatch=True)


@given(st.sampled_from(["GET", "POST", "PUT"]), paths, st.binary(max_size=512))
def test_signed_messages_verify(method, path, body):
    headers = signing.sign("agency", KEYS["agency"], method, path, body)
    assert signing.verify(KEYS, method, path, headers, body) == "agency"


@settings(max_examples=60)
@given(paths, st.binary(min_size=1, max_size=256), st.data())
def test_any_changed_byte_is_refused(path, body, data):
    headers = signing.sign("bank", KEYS["bank"], "POST", path, body)
    i = data.draw(st.integers(0, len(body) - 1))
    tampered = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1:]
    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.verify(KEYS, "POST", path, headers, tampered)
    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.verify(KEYS, "POST", path + "x", headers, body)


@given(st.integers(-10_000, 10_000))
def test_time_window(offset):
    now = 1_700_000_000
    headers = signing.sign("gateway", KEYS["gateway"], "POST", "/ipn", b"{}", timestamp=now + offset)
    if abs(offset) <= signing.DEFAULT_TOLERANCE_S:
        assert signing.verify(KEYS, "POST", "/ipn", headers, b"{}", now=now) == "gateway"
    else:
        with pytest.raises(signing.SignatureError, match="replay"):
            signing.verify(KEYS, "POST", "/ipn", headers, b"{}", now=now)


def test_unknown_key_and_missing_headers():
    headers = signing.sign("mallory", b"secret", "POST", "/x", b"")
    with pytest.raises(signing.SignatureError, match="unknown key id 'mallory'"):
        signing.verify(KEYS, "POST", "/x", headers, b"")
    with pytest.raises(signing.SignatureError, match="missing signature headers"):
        signing.verify(KEYS, "POST", "/x", {}, b"")


@given(st.text(min_size=1, max_size=30), st.integers(1, MAX_VND))
def test_charge_token_round_trip_and_tamper(payment_id, amount):
    claims = ChargeClaims(payment_id=payment_id, amount_vnd=amount, bank_code="BIDV", return_url="http://r",
                          expires_at=1.5)
    token = make_charge_token(claims, KEYS["gateway"], 1_700_000_000)
    assert read_charge_token(token, KEYS["gateway"]) == claims
    with pytest.raises(ChargeTokenError, match="signature does not match"):
        read_charge_token(token, KEYS["bank"])
    forged = make_charge_token(ChargeClaims(**{**claims.__dict__, "amount_vnd": amount + 1}), KEYS["bank"], 1)
    head = forged.split(".")[0]
    with pytest.raises(ChargeTokenError):
        read_charge_token(head + token[token.index("."):], KEYS["gateway"])


# ---------------------------------------------------------------------------- identifiers


@given(st.sampled_from(["001", "020", "025", "079"]), st.integers(1900, 2199), st.booleans(), st.integers(0, 2**32))
def test_cccd_round_trip(province, year, female, seed):
    number = make_cccd(province, year, female, np.random.default_rng(seed))
    assert len(number) == 12 and number.isdigit()
    assert parse_cccd(number) == (province, year, female)


def test_cccd_refusals():
    with pytest.raises(IdError, match="1900–2199"):
        make_cccd("001", 1899, False, np.random.default_rng(0))
    with pytest.raises(IdError, match="cccd must be 12 digits"):
        parse_cccd("0010900012")


# YYMMDD has a two-digit year read as 2000–2099 (the workbench never meets a dossier of the 1900s).
@given(st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)), st.integers(1, 9999))
def test_dossier_code_round_trip(day, seq):
    code = make_dossier_code("000.00.12.H37", day, seq)
    assert parse_dossier_code(code) == ("000.00.12.H37", day, seq)


def test_dossier_code_limits():
    with pytest.raises(IdError, match="daily numbering is exhausted"):
        make_dossier_code("000.00.12.H37", dt.date(2024, 6, 7), 10_000)
    with pytest.raises(IdError, match="1999-12-31 is outside 2000–2099"):
        make_dossier_code("000.00.12.H37", dt.date(1999, 12, 31), 1)
    with pytest.raises(IdError, match="impossible date"):
        parse_dossier_code("000.00.12.H37-241332-0001")
    with pytest.raises(IdError, match="QCVN 102:2016"):
        check_agency_code("H37")


def test_signing_is_fast_enough_for_the_hot_path():
    """Sign + verify a 1 KiB body well under 100 µs each (the gateway does one per request).

    Counted in this process's CPU time, not wall time: on a busy shared machine other processes' time would be
    counted too.
    """
    body = b"x" * 1024
    start = time.process_time()
    for _ in range(2000):
        signing.verify(KEYS, "POST", "/p", signing.sign("agency", KEYS["agency"], "POST", "/p", body), body)
    assert (time.process_time() - start) / 2000 < 200e-6
