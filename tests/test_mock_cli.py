"""`motcua mock` and `motcua mock --check` as a user runs them: real processes, exit codes, run directories."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers_mock_http import call, wait_for
from helpers_stack import processes_mentioning
from motcua.mock_services.common.vnpay_wire import payment_url, vn_time

from motcua.cli import main
from motcua.errors import EXIT_BAD_INPUT, EXIT_INVARIANT_BREACH

ROOT = Path(__file__).resolve().parent.parent


def motcua(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "motcua.cli", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def test_check_pushes_payments_through_with_faults_and_exits_0(tmp_path):
    out = tmp_path / "run"
    proc = motcua("mock", "--check", "--payments", "60", "--data-dir", str(tmp_path / "data"), "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for label in ("payments", "bank", "IPN", "callback latency", "reconciliation", "invariant"):
        assert f"\n{label}" in f"\n{proc.stdout}", label
    assert "OK: every bank-approved payment paid exactly once, for the amount charged" in proc.stdout
    summary = json.loads((out / "summary.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    assert summary["payments"] == 60 and summary["invariant"]["ok"] is True
    assert summary["approved"] == summary["paid_by_ipn"] + summary["paid_by_reconciliation"]
    assert summary["invariant"]["credited_vnd"] == summary["invariant"]["approved_vnd"] == summary["approved_vnd"] > 0
    assert summary["callback_latency_ms"]["p50"] is not None
    assert manifest["kind"] == "mock-check" and manifest["invariant_ok"] is True
    assert [i["role"] for i in manifest["inputs"]] == ["faults"]
    assert (out / "logs" / "gateway.log").exists()
    with (out / "payments.csv").open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 60
    approved = [r for r in rows if r["response_code"] == "00"]
    assert len(approved) == summary["approved"] and all(r["agency_status"].startswith("paid") for r in approved)
    assert all(r["credits"] == "1" for r in approved)
    assert processes_mentioning(str(tmp_path / "data")) == []


def test_check_exits_4_when_lost_ipns_are_not_reconciled(tmp_path):
    faults = tmp_path / "lost.toml"
    faults.write_text("seed = 3\n[gateway.ipn]\nlost = 1.0\n")
    out = tmp_path / "run"
    proc = motcua(
        "mock", "--check", "--payments", "12", "--faults", str(faults), "--no-reconcile", "--time-scale", "0.002",
        "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == EXIT_INVARIANT_BREACH, proc.stdout + proc.stderr
    assert "payment invariant broken" in proc.stderr and "lost (bank-approved, not paid at the agency)" in proc.stderr
    summary = json.loads((out / "summary.json").read_text())  # the evidence is kept
    invariant = summary["invariant"]
    assert invariant["ok"] is False and invariant["lost_count"] == len(invariant["lost"]) == summary["approved"] > 0
    assert invariant["credited_twice_count"] == invariant["wrong_amount_count"] == 0


def test_mock_serves_until_sigterm_then_stops_everything(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "motcua.cli", "mock", "--data-dir", str(tmp_path), "--seed", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        urls = vnpay = None
        for line in proc.stdout:
            if line.startswith("{"):
                urls, vnpay = json.loads(line)["urls"], json.loads(line)["vnpay"]
                break
        assert urls and set(urls) == {"gateway", "bank", "agency"}
        for name, url in urls.items():
            assert call("GET", f"{url}/healthz")[1]["service"] == name
        # The printed VNPay terminal signs a payment URL that its front accepts.
        assert vnpay["url"] == urls["gateway"] and vnpay["tmn_code"] == "MOTCUA01"
        now = time.time()
        params = {"vnp_Version": "2.1.0", "vnp_Command": "pay", "vnp_TmnCode": vnpay["tmn_code"],
                  "vnp_Amount": "5000000", "vnp_CurrCode": "VND", "vnp_TxnRef": "MOCK1", "vnp_OrderInfo": "Le phi",
                  "vnp_OrderType": "other", "vnp_Locale": "vn", "vnp_ReturnUrl": "http://127.0.0.1:9/r",
                  "vnp_IpAddr": "127.0.0.1", "vnp_CreateDate": vn_time(now), "vnp_ExpireDate": vn_time(now + 600)}
        url = payment_url(vnpay["url"], vnpay["hash_secret"].encode(), params)
        status, page = call("GET", url, headers={"Accept": "application/json"})
        assert status == 200 and page["amount_vnd"] == 50_000, page
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "stopped: all services shut down" in out
        wait_for(lambda: processes_mentioning(str(tmp_path)) == [], timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--check", "--faults", "/nonexistent.toml"], "faults file /nonexistent.toml not found"),
        (["--check", "--no-faults", "--faults", "x.toml"], "--no-faults and --faults FILE contradict"),
        (["--check", "--payments", "0"], "payments must be a whole number >= 1, got 0"),
        (["--gateway-port", "99999"], "gateway_port must be a port number 0–65535"),
    ],
)
def test_bad_input_exits_2_naming_the_problem(tmp_path, capsys, args, message):
    assert main(["mock", "--data-dir", str(tmp_path), *args]) == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err


def test_config_file_settings_and_their_errors(tmp_path, capsys):
    from motcua.cli import build_parser
    from motcua.commands.mock import settings

    config = tmp_path / "mock.toml"
    config.write_text('[mock]\nseed = 9\ntime_scale = 0.5\nfaults = "f.toml"\n')
    args = build_parser().parse_args(["mock", "--config", str(config), "--seed", "3"])
    values = settings(args)
    assert values["seed"] == 3 and values["time_scale"] == 0.5 and values["faults"] == tmp_path / "f.toml"
    for text, message in [
        ("", "mock.toml: mock = <missing>: required: put the settings (data_dir, seed, time_scale, faults, "),
        ("[stack]\nseed = 1\n", "mock.toml: stack = {'seed': 1}: unknown key; known keys: mock"),
        ("[mock]\nsed = 1\n", "mock.toml: mock.sed = 1: unknown key; did you mean 'seed'? known keys: data_dir, "),
        ("[mock]\ngateway_port = 70000\n", "mock.toml: mock.gateway_port = 70000: must be <= 65535"),
        ("[mock]\nseed = \n", "mock.toml: mock.seed = 'seed =': not valid TOML: Invalid value (at line 2"),
    ]:
        config.write_text(text)
        assert main(["mock", "--config", str(config)]) == EXIT_BAD_INPUT
        assert message in capsys.readouterr().err
    assert main(["mock", "--config", str(tmp_path / "none.toml")]) == EXIT_BAD_INPUT
    assert "none.toml: (file) = " in capsys.readouterr().err
