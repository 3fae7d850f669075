"""The example merchant (examples/vnpay-merchant, built on the npm `vnpay` library) load-tested end to end with
``--protocol vnpay --merchant``: without faults every approved payment is confirmed once; with the gateway's IPN
faults (tampered, wrong amount, duplicated, reordered) it answers 97/04/02 as it should and never credits twice.

Node.js 18+ and ``make node-deps`` (npm ci of the example's lockfile) are required: a missing Node fails these
tests with a message, it never skips them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from motcua.mock_services.supervisor import free_port

from motcua.errors import SLOBreach
from motcua.loadtest.merchant import run_merchant
from motcua.loadtest.runner import LoadtestOptions
from motcua.runs import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "examples" / "vnpay-merchant"
PEAK_DAY = PROJECT_ROOT / "scenarios" / "peak-day.toml"


def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail("Node.js 18+ is required for the example merchant (Debian: apt-get install nodejs npm)")
    if not (EXAMPLE / "node_modules" / "vnpay").is_dir():
        pytest.fail(f"the example's npm packages are missing: run `make node-deps` (npm ci --prefix {EXAMPLE})")
    return found


class ExampleMerchant:
    """The example server on free ports, and its merchant file rewritten for them."""

    def __init__(self, tmp: Path) -> None:
        self.port, self.gateway_port = free_port(), free_port()
        env = {**os.environ, "PORT": str(self.port), "VNPAY_HOST": f"http://127.0.0.1:{self.gateway_port}",
               "DATA_FILE": str(tmp / "orders.jsonl")}
        self.log = (tmp / "merchant.log").open("wb")
        self.proc = subprocess.Popen([node(), "server.mjs"], cwd=EXAMPLE, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 15
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):
                    break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    pytest.fail(f"the example merchant did not start: {(tmp / 'merchant.log').read_text()}")
                time.sleep(0.1)
        text = (EXAMPLE / "merchant.toml").read_text(encoding="utf-8")
        assert text.count("127.0.0.1:3000") == 3 and "gateway_port = 18080" in text
        self.file = tmp / "merchant.toml"
        self.file.write_text(text.replace("127.0.0.1:3000", f"127.0.0.1:{self.port}")
                             .replace("gateway_port = 18080", f"gateway_port = {self.gateway_port}"))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture()
def example(tmp_path: Path) -> Iterator[ExampleMerchant]:
    shop = ExampleMerchant(tmp_path)
    try:
        yield shop
    finally:
        shop.stop()


def run(example: ExampleMerchant, tmp_path: Path, **kw) -> dict:
    options = LoadtestOptions(**{
        "profile": "constant", "rate_per_s": 4, "duration_s": 5, "seed": 8, "quiet": True, "time_scale": 0.01,
        "arrivals": "deterministic", "callback_deadline_s": 8, "protocol": "vnpay", "merchant_file": example.file,
        **kw})
    summary = run_merchant(PEAK_DAY, options, tmp_path / "run")
    summary.raise_if_breached()
    return summary.data


def test_example_merchant_confirms_every_payment_once(example: ExampleMerchant, tmp_path: Path):
    data = run(example, tmp_path)
    inv = data["invariant"]
    assert inv["ok"] is True and inv["bank_approved"] >= 10
    assert inv["rsp_codes"] == {"00": inv["bank_approved"]} and inv["lost_callbacks"] == 0
    assert inv["status_checked"] == inv["bank_approved"] and inv["status_not_paid_count"] == 0
    cb = data["callbacks"]["ipn_ack"]
    assert cb["count"] == inv["bank_approved"] and cb["failures"] == 0 and cb["p95"] < 8000
    assert data["callbacks"]["status_sees_paid"]["count"] == inv["bank_approved"]


def test_example_merchant_survives_the_gateways_ipn_faults(example: ExampleMerchant, tmp_path: Path):
    faults = tmp_path / "faults.toml"
    # The draws are per payment, and the merchant names its orders, so each run draws anew: the rates make every
    # kind all but certain among ~20 payments (a bad signature hides an amount bump on the same first attempt,
    # so P(no 04) = (1 - 0.5 × 0.65)^20 < 0.1%; P(no 97) = 0.65^20, P(no 02) = 0.6^20).
    faults.write_text("seed = 3\n[gateway.ipn]\nbad_signature = 0.35\namount_mismatch = 0.5\n"
                      "duplicate = { rate = 0.4, copies = 2 }\nreorder = 0.2\nreorder_delay_s = 0.3\n")
    data = run(example, tmp_path, faults_file=faults)
    inv = data["invariant"]
    assert inv["ok"] is True, inv
    codes = inv["rsp_codes"]
    assert codes.get("97", 0) >= 1 and codes.get("04", 0) >= 1 and codes.get("02", 0) >= 1
    assert inv["accepted_tampered_count"] == inv["credited_twice_count"] == 0
    # a tampered first attempt is retried: those payments took more than one call, and all were confirmed
    assert any(int(n) > 1 for n in inv["ipn_calls_per_payment"])
    assert inv["lost_callbacks"] == 0 and inv["status_not_paid_count"] == 0
    assert data["callbacks"]["ipn_ack"]["count"] == inv["bank_approved"] >= 10


@pytest.mark.slow
def test_lost_ipns_are_lost_callbacks_of_the_example_merchant(example: ExampleMerchant, tmp_path: Path):
    """Lost IPNs (the gateway never sends them): lost callbacks, never paid on the status page, the gate fails."""
    faults = tmp_path / "faults.toml"
    faults.write_text("seed = 4\n[gateway.ipn]\nlost = 0.3\nreorder = 0.3\nreorder_delay_s = 2.0\n")
    with pytest.raises(SLOBreach, match="lost_callbacks"):  # raised by Summary.raise_if_breached in `run`
        run(example, tmp_path, faults_file=faults, duration_s=10, callback_deadline_s=6)
    data = json.loads((tmp_path / "run" / "summary.json").read_text())
    inv = data["invariant"]
    assert inv["ok"] is True  # losing an IPN is the gateway's fault, not a breach by the merchant
    assert inv["lost_callbacks"] >= 3 and inv["ipn_calls_per_payment"].get("0", 0) == inv["lost_callbacks"]
    assert inv["status_not_paid_count"] == inv["lost_callbacks"]
    assert data["callbacks"]["ipn_ack"]["failures"] == inv["lost_callbacks"]
    assert next(v for v in data["slo"] if v["name"] == "lost_callbacks")["passed"] is False
    # the held-back (reordered) first attempts show as callbacks of about reorder_delay_s
    assert data["callbacks"]["ipn_ack"]["delivered_p95"] >= 1500


def test_example_credits_once_across_a_restart_and_a_torn_journal(tmp_path: Path):
    """The store is a journal: a credit survives a restart (the copy is answered 02), a torn last line is ignored."""
    from helpers_vnpay import get
    from motcua.mock_services.common import vnpay_wire as wire
    from motcua.mock_services.common.vnpay_terminals import default_terminal

    shop = ExampleMerchant(tmp_path)
    try:
        req = urllib.request.Request(f"{shop.url}/orders", data=json.dumps({"amount_vnd": 120_000}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            ref = json.loads(resp.read())["ref"]
        params = {"vnp_TmnCode": "MOTCUA01", "vnp_Amount": "12000000", "vnp_BankCode": "NCB",
                  "vnp_BankTranNo": "VNP1", "vnp_CardType": "ATM", "vnp_OrderInfo": "x",
                  "vnp_PayDate": wire.vn_time(time.time()), "vnp_ResponseCode": "00", "vnp_TransactionNo": "1",
                  "vnp_TransactionStatus": "00", "vnp_TxnRef": ref}
        query = wire.signed_query(params, default_terminal().hash_secret.encode())
        assert get(f"{shop.url}/vnpay/ipn?{query}")[1]["RspCode"] == "00"
    finally:
        shop.stop()
    with (tmp_path / "orders.jsonl").open("a") as fh:
        fh.write('{"op": "credit", "ref": "')  # a crash in the middle of a write
    shop = ExampleMerchant(tmp_path)
    try:
        assert get(f"{shop.url}/orders/{ref}")[1] == {"ref": ref, "status": "paid", "paid": True, "credits": 1,
                                                      "amount_vnd": 120_000}
        assert get(f"{shop.url}/vnpay/ipn?{query}")[1]["RspCode"] == "02"
        assert get(f"{shop.url}/vnpay/ipn?{query.replace('vnp_Amount=12000000', 'vnp_Amount=12000100')}"
                   )[1]["RspCode"] == "97"
        assert get(f"{shop.url}/orders/{ref}")[1]["credits"] == 1
    finally:
        shop.stop()
