"""A Flask + SQLite shop (tests/merchants/flask_shop.py) as a merchant under test: with its defects motcua accepts
its URLs, names each deviation (findings) and each defect (a race to a double credit, credits on failed IPNs);
the fixed variant passes with no findings. Both log in, send an API key header and a form body ([login], headers)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from merchants.flask_shop import FlaskShop, shop_file
from motcua.mock_services.common.vnpay_terminals import default_terminal
from motcua.mock_services.supervisor import free_port

from motcua.loadtest.merchant_ipns import findings_table
from motcua.runs import PROJECT_ROOT

PEAK_DAY = PROJECT_ROOT / "scenarios" / "peak-day.toml"


def run_shop(tmp_path: Path, *, fixed: bool, faults: str, extra: tuple[str, ...] = (), cancel_share: float = 0.2
             ) -> tuple[int, str, dict]:
    port = free_port()
    terminal = default_terminal()
    shop = FlaskShop(port, tmp_path / "shop.sqlite", fixed=fixed, tmn_code=terminal.tmn_code,
                     hash_secret=terminal.hash_secret)
    faults_file = tmp_path / "faults.toml"
    faults_file.write_text(faults, encoding="utf-8")
    try:
        file = shop_file(tmp_path / "merchant.toml", shop.url, port, cancel_share=cancel_share)
        proc = subprocess.run(
            [sys.executable, "-m", "motcua.cli", "loadtest", str(PEAK_DAY), "--protocol", "vnpay", "--merchant",
             str(file), "--faults", str(faults_file), "--profile", "constant", "--rate", "4", "--duration", "6s",
             "--time-scale", "0.01", "--callback-deadline", "8", "--arrivals", "deterministic", "--seed", "7",
             "--out", str(tmp_path / "run"), *extra],
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=240,
        )
    finally:
        shop.stop()
    return proc.returncode, proc.stdout + proc.stderr, json.loads((tmp_path / "run" / "summary.json").read_text())


DUPLICATES = "seed = 5\n[gateway.ipn]\nduplicate = { rate = 1.0, copies = 2 }\n"


def test_defective_flask_shop_is_accepted_and_each_deviation_and_defect_named(tmp_path: Path):
    # clock-based references let about one order a second through: more of those cancel, so a failed IPN comes
    code, out, data = run_shop(tmp_path, fixed=False, faults=DUPLICATES, cancel_share=0.5)
    assert code == 4, out
    found = {(f["kind"], f["detail"]) for f in data["conformance"]["findings"]}
    assert {("expire_date_missing", ""), ("order_info_diacritics", ""), ("create_date_not_utc7", "-7 h"),
            ("secure_hash_type_present", ""), ("signature_encoder", "python_quote_plus"),
            ("ip_addr_not_ip", "")} <= found, found
    assert ("txn_ref_reused", "") in found and ("refused", "01 vnp_TxnRef") in found  # clock-based references
    inv = data["invariant"]
    assert inv["bank_approved"] >= 1, out
    # the unlocked read-then-write: concurrent duplicate IPNs, two 00s, shown as a race
    assert inv["credited_twice_count"] >= 1
    race = inv["races"][0]
    assert race["race"] and race["in_flight_at_once"] >= 2 and race["answers"].count("00") >= 2
    # crediting on a failed IPN: the cancelled citizens' orders show paid
    assert inv["credited_failed_count"] >= 1 and inv["evidence"][0]["calls"]
    assert "a race" in out and "credited failed" in out and "txn_ref_reused" in out
    print(findings_table(data["conformance"]))  # the README's table comes from such a run


def test_fixed_flask_shop_passes_with_no_findings(tmp_path: Path):
    code, out, data = run_shop(tmp_path, fixed=True, faults=DUPLICATES, extra=("--slo", "conformance=0"))
    assert code == 0, out
    inv = data["invariant"]
    assert inv["ok"] and inv["bank_approved"] >= 10 and inv["lost_callbacks"] == 0
    assert inv["unpaid"] >= 1 and set(inv["unpaid_rsp_codes"]) <= {"00", "02"}  # cancels confirmed once, then 02
    assert data["conformance"] == {"deviations": 0, "refused": 0, "findings": []}
    assert any(v["name"] == "conformance" and v["passed"] for v in data["slo"]), data["slo"]


def test_strict_refuses_the_defective_shop_and_names_why(tmp_path: Path):
    code, out, data = run_shop(tmp_path, fixed=False, faults="seed = 5\n", extra=("--strict",))
    assert code in (0, 3), out  # nothing to breach: every URL refused (the error-rate gate may fail)
    assert data["strict"] is True and data["invariant"]["bank_approved"] == 0
    refused = {f["detail"] for f in data["conformance"]["findings"] if f["kind"] == "refused"}
    assert refused & {"70 vnp_SecureHash", "03 vnp_ExpireDate", "03 vnp_OrderInfo"}, refused
    assert "nothing to check" in out
