"""`motcua loadtest --protocol vnpay --merchant FILE`: a merchant system under test, measured from the gateway's
records. A careful merchant passes with every callback measured; a careless one (00 to everything, a credit per
IPN) fails with exit 4 naming it, for the tampered IPNs and the second credits; a bad merchant file exits 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_merchant import PyMerchant, merchant_file
from motcua.mock_services.supervisor import free_port

from motcua.errors import ConfigError
from motcua.loadtest.merchant import judge, load_merchant, run_merchant
from motcua.loadtest.runner import LoadtestOptions, run_loadtest
from motcua.runs import PROJECT_ROOT

PEAK_DAY = PROJECT_ROOT / "scenarios" / "peak-day.toml"


def options(**kw) -> LoadtestOptions:
    base = dict(profile="constant", rate_per_s=4, duration_s=5, seed=3, quiet=True, time_scale=0.01,
                arrivals="deterministic", callback_deadline_s=8, protocol="vnpay")
    return LoadtestOptions(**{**base, **kw})


def test_careful_merchant_passes_with_every_callback_measured_across_two_workers(tmp_path: Path):
    port = free_port()
    shop = PyMerchant(port)
    try:
        file = merchant_file(tmp_path / "merchant.toml", shop.url, port)
        summary = run_merchant(PEAK_DAY, options(merchant_file=file, workers=2), tmp_path / "run")
        summary.raise_if_breached()
    finally:
        shop.stop()
    data = summary.data
    inv = data["invariant"]
    assert data["protocol"] == "vnpay" and inv["merchant"] == "python test merchant"
    assert inv["ok"] is True and inv["bank_approved"] >= 10
    # the gateway's own records: every approved payment acknowledged once, with 00
    assert inv["acknowledged"] == inv["bank_approved"] == sum(o["credits"] for o in shop.orders.values())
    assert inv["rsp_codes"] == {"00": inv["bank_approved"]}
    assert inv["ipn_calls_per_payment"] == {"1": inv["bank_approved"]}
    assert data["journeys"]["all"]["count"] == len(shop.orders) == data["arrivals"]["started"]
    cb = data["callbacks"]["ipn_ack"]
    assert cb["count"] == inv["bank_approved"] and cb["failures"] == 0 and 0 < cb["p50"] <= cb["p95"] < 8000
    # the status page showed "paid" for each one, and no order was credited twice
    assert data["callbacks"]["status_sees_paid"]["count"] == inv["bank_approved"]
    assert inv["status_not_paid_count"] == 0 and inv["credited_twice_count"] == 0
    assert all(o["credits"] <= 1 for o in shop.orders.values())
    assert (summary.run_dir / "mocks" / "terminals.toml").read_text().count(f"{shop.url}/vnpay/ipn") == 1


def test_careless_merchant_fails_with_exit_4_naming_it(tmp_path: Path):
    port = free_port()
    shop = PyMerchant(port, careful=False)
    faults = tmp_path / "faults.toml"
    faults.write_text("seed = 5\n[gateway.ipn]\nbad_signature = 0.4\nduplicate = { rate = 0.4, copies = 1 }\n")
    try:
        file = merchant_file(tmp_path / "merchant.toml", shop.url, port)
        proc = subprocess.run(
            [sys.executable, "-m", "motcua.cli", "loadtest", str(PEAK_DAY), "--protocol", "vnpay", "--merchant",
             str(file), "--faults", str(faults), "--profile", "constant", "--rate", "4", "--duration", "5s",
             "--time-scale", "0.01", "--callback-deadline", "8", "--arrivals", "deterministic",
             "--out", str(tmp_path / "run"), "--junit", str(tmp_path / "junit.xml")],
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180,
        )
    finally:
        shop.stop()
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "merchant 'python test merchant' broke the payment invariant" in proc.stderr
    assert "answered 00 to a tampered IPN" in proc.stderr and "credited twice" in proc.stderr
    inv = json.loads((tmp_path / "run" / "summary.json").read_text())["invariant"]
    assert inv["ok"] is False and inv["accepted_tampered_count"] >= 1 and inv["credited_twice_count"] >= 1
    assert all("(signature)" in ref for ref in inv["accepted_tampered"])
    junit = (tmp_path / "junit.xml").read_text()
    assert "<failure" in junit and "00 to a tampered IPN" in junit and "python test merchant" in junit


def test_judge_reads_the_records():
    """Lost, late, tampered and second 00s from the gateway's records (no services needed)."""
    def payment(ref, approved_at, *deliveries):
        return {"payment_id": "P" + ref, "txn_ref": ref, "bank_code": "VCB", "grp": "fee", "amount_vnd": 1000,
                "bank_approved_at": approved_at,
                "deliveries": [{"kind": k, "tampered": t, "sent_at": a, "answered_at": a, "rsp_code": c,
                                "error": None} for k, t, a, c in deliveries]}

    records = [
        payment("OK", 100.0, ("attempt", None, 100.5, "00")),
        payment("RETRY", 100.0, ("attempt", None, 100.1, "99"), ("attempt", None, 101.0, "02")),
        payment("TAMPER", 100.0, ("attempt", "signature", 100.2, "00"), ("attempt", None, 102.0, "00")),
        payment("TWICE", 100.0, ("attempt", None, 100.3, "00"), ("copy", None, 100.3, "00")),
        payment("LATE", 100.0, ("attempt", None, 120.0, "00")),
        payment("LOST", 100.0),
    ]
    verdict, samples = judge(records, deadline_s=10)
    assert verdict.lost == ["LATE", "LOST"] and verdict.acknowledged == 4
    assert verdict.breaches == {"accepted_tampered": ["TAMPER (signature)"], "credited_twice": ["TWICE"]}
    assert verdict.rsp_codes == {"00": 6, "02": 1, "99": 1}
    assert verdict.calls_per_payment == {"0": 1, "1": 2, "2": 3}
    latency = {s[1]: s[4] for s in samples}
    assert latency["POK"] == 500 and latency["PRETRY"] == 1000 and latency["PTAMPER"] == 2000
    assert latency["PLOST"] == 10_000 and not dict((s[1], s[5]) for s in samples)["PLOST"]


@pytest.mark.parametrize(("old", "new", "field", "problem"), [
    ('method = "POST"', 'method = "PUT"', "start.method", "must be one of GET, POST"),
    ('phone = "{phone}"', 'phone = "{phnoe}"', "start.body.phone", "unknown placeholder {phnoe}"),
    ('pay_url_in = "json"', 'pay_url_in = "jsno"', "start.pay_url_in", "did you mean 'json'"),
    ('paid_field = "paid"', 'paid_feild = "paid"', "status.paid_feild", "unknown"),
    ("/orders/{txn_ref}", "/orders/all", "status.url", "must contain {txn_ref}"),
    ("gateway_port = 18080", "gateway_port = 80", "gateway_port", ">= 1024"),
    ('url = "http://127.0.0.1:3000/vnpay/ipn"', 'url = "http://10.1.2.3/vnpay/ipn"', "ipn.url", "not loopback"),
])
def test_merchant_file_errors_name_file_field_and_value(tmp_path: Path, old, new, field, problem):
    good = merchant_file(tmp_path / "merchant.toml", "http://127.0.0.1:3000", 18080)
    text = good.read_text()
    assert old in text
    good.write_text(text.replace(old, new))
    with pytest.raises(ConfigError, match=problem) as info:
        load_merchant(good)
    assert info.value.file == str(good) and info.value.field == field


def test_bad_merchant_file_exits_2_before_anything_starts(tmp_path: Path):
    file = merchant_file(tmp_path / "merchant.toml", "http://10.0.0.7:3000", 18080)
    proc = subprocess.run([sys.executable, "-m", "motcua.cli", "loadtest", str(PEAK_DAY), "--protocol", "vnpay",
                           "--merchant", str(file), "--out", str(tmp_path / "run")],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "merchant.toml: start.url = 'http://10.0.0.7:3000/orders'" in proc.stderr
    assert "--allow-non-loopback" in proc.stderr and not (tmp_path / "run").exists()
    assert load_merchant(file, allow_non_loopback=True).start.url == "http://10.0.0.7:3000/orders"
    proc = subprocess.run([sys.executable, "-m", "motcua.cli", "loadtest", str(PEAK_DAY), "--merchant",
                           str(merchant_file(tmp_path / "m2.toml", "http://127.0.0.1:3000", 18080))],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--merchant needs --protocol vnpay" in proc.stderr


@pytest.mark.slow
def test_agency_mock_in_vnpay_mode_under_load(tmp_path: Path):
    """--protocol vnpay without --merchant: the agency mock integrates by VNPay; the usual invariant holds."""
    summary = run_loadtest(PEAK_DAY, options(duration_s=4), tmp_path / "run")
    data = summary.data
    assert data["request_types"]["GET /paymentv2/vpcpay.html"]["count"] >= data["approvals"] > 5
    assert "POST /paymentv2/pay/[id]" in data["request_types"]
    assert data["invariant"]["ok"] is True and data["invariant"]["paid_by_ipn"] == data["approvals"]
    assert data["callbacks"]["ipn_ack"]["count"] == data["approvals"] and data["lost_callbacks"] == 0
    assert data["reconciliation"] and all(r.get("protocol") == "vnpay" for r in data["reconciliation"])
