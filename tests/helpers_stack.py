"""Test helpers for the whole mock stack: a citizen's payment, signed IPNs, the agency's counters.

Built on `tests.helpers_mock_http` (blocking calls, signatures, polling).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from helpers_mock_http import call, wait_for
from motcua.mock_services.common import signing
from motcua.mock_services.common.http import ADMIN_TOKEN_HEADER, TEST_ADMIN_TOKEN

PAYER = {"name": "Trần Thị Bình", "cccd": "020190123456", "phone": "0987654321"}
OTP = "123456"


def alive(pid: int) -> bool:
    """Whether a process with `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False
    except PermissionError:
        os.kill(pid, 0)
        return True


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains `text` (e.g. a test's data directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def file_dossier(agency_url: str, procedure: str = "LLTP", **extra: Any) -> dict[str, Any]:
    status, body = call("POST", f"{agency_url}/dossiers", {"procedure_code": procedure, "payer": PAYER, **extra})
    assert status == 201, body
    return body


def pay(urls: dict[str, str], dossier: dict[str, Any], bank_code: str = "VIETINBANK") -> dict[str, Any]:
    """Checkout at the gateway and charge at the bank; returns the bank's answer."""
    pid = dossier["payment"]["payment_id"]
    status, checkout = call("POST", f"{urls['gateway']}/payments/{pid}/checkout", {"bank_code": bank_code})
    assert status == 200, checkout
    body = {"charge_token": checkout["charge_token"], "bank_code": bank_code, "otp": OTP}
    status, charge = call("POST", checkout["charge_url"], body, timeout=30)
    assert status == 200, charge
    return charge


def approved_payment(urls: dict[str, str], bank_code: str = "VIETINBANK", tries: int = 20) -> tuple[dict, dict]:
    """File and pay dossiers until the bank approves one (banks decline a few per cent by design)."""
    for _ in range(tries):
        dossier = file_dossier(urls["agency"])
        charge = pay(urls, dossier, bank_code)
        if charge["response_code"] == "00":
            return dossier, charge
    raise AssertionError(f"{bank_code} declined {tries} payments in a row")


def dossier(agency_url: str, code: str) -> dict[str, Any]:
    status, body = call("GET", f"{agency_url}/dossiers/{code}")
    assert status == 200, body
    return body


def wait_paid(agency_url: str, code: str, timeout: float = 20) -> dict[str, Any]:
    return wait_for(lambda: (d := dossier(agency_url, code))["status"].startswith("paid") and d, timeout=timeout)


def stats(agency_url: str) -> dict[str, Any]:
    status, body = call("GET", f"{agency_url}/stats")
    assert status == 200, body
    return body


def send_ipn(agency_url: str, ipn: dict[str, Any], *, key_id: str = "gateway", secret: bytes | None = None):
    """POST a signed IPN to the agency as the gateway would (or with another key)."""
    raw = json.dumps(ipn).encode()
    headers = signing.sign(key_id, secret or signing.TEST_KEYS[key_id], "POST", "/ipn", raw)
    return call("POST", f"{agency_url}/ipn", headers=headers, raw=raw)


def ipn_for(dossier_body: dict[str, Any], **override: Any) -> dict[str, Any]:
    ipn = {
        "payment_id": dossier_body["payment"]["payment_id"], "dossier_code": dossier_body["dossier_code"],
        "agency_code": dossier_body["dossier_code"].split("-")[0], "amount_vnd": dossier_body["amount_vnd"],
        "bank_code": "BIDV", "bank_txn_no": "TXN-TEST-1", "response_code": "00", "group": "fee",
        "bank_approved_at": 1_718_000_000.0, "sent_at": 1_718_000_001.0, "attempt": 1,
    }  # fmt: skip
    ipn.update(override)
    return ipn


def set_faults(url: str, table: dict[str, Any]) -> dict[str, Any]:
    status, body = call("PUT", f"{url}/admin/faults", table, headers={ADMIN_TOKEN_HEADER: TEST_ADMIN_TOKEN})
    assert status == 200, body
    return body
