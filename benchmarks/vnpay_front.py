"""The VNPay 2.1.0 front of `bench_payments.py`: the citizen's payment through it, and the merchant that is paid.

A complete VNPay payment: the merchant signs a ``vpcpay.html`` URL (`mock_services.common.vnpay_wire`) →
the citizen's browser opens it (the payer's HTML page; its form names the payment) → chooses a bank → is
charged at the bank → the bank notifies the gateway → the gateway's signed IPN ``GET`` is verified and
acknowledged ``00`` by the merchant. It is counted when the merchant acknowledges it, as the JSON API's
payment is counted when the agency does.

The merchant is a minimal VNPay IPN receiver on the services' plumbing (`mock_services.common.http`), in
its own process on the load CPU like the agency of the JSON front: this file run as a script
(`merchant`). Unlike the agency it keeps its acknowledgements in memory (nothing durable): its cost
is on the load CPU, not the gateway's. The gateway knows it through a terminal file written with
`mock_services.common.vnpay_terminals.TERMINAL_FILE` (`write_terminals`).

    with merchant(LOAD_CPU) as (merchant_url, _pid):
        config = StackConfig(..., terminals_file=write_terminals(tmp / "terminals.toml", merchant_url))
        urls = {**stack.urls, "merchant": merchant_url}
        await pay_vnpay(client, urls)               # True when the bank approved (the IPN follows)
        await vnpay_completions(urls, since)        # [(bank approved at, IPN acknowledged at)]

The VNPay front alone: ``.venv/bin/python benchmarks/bench_payments.py --front vnpay``.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

if __name__ == "__main__":  # the merchant's process: the project beside this folder
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib import start_service, stop
from motcua.mock_services.common import vnpay_wire as wire
from motcua.mock_services.common.fastclient import HttpClient
from motcua.mock_services.common.vnpay_terminals import TERMINAL_FILE, Terminal, TerminalFile

TMN = "BENCH001"
SECRET = "TEST-ONLY-bench-vnpay-secret-0001"
"""A TEST secret, published: it protects nothing."""
AGENCY = "000.00.20.H37"
AMOUNT_VND = 200_000
CHOOSE = re.compile(rb'action="(/paymentv2/pay/[A-Z0-9]+)"')
JSON = {"Content-Type": "application/json"}
CHOICE = b'{"bank_code":"VIETINBANK"}'

_serial = itertools.count(1)
approved_at: dict[str, float] = {}
"""When the bank approved each vnp_TxnRef (its charge answer), to pair with the merchant's acknowledgement."""


# ---------------------------------------------------------------------------- the citizen


def payment_url(gateway_url: str) -> tuple[str, str]:
    """A fresh order's signed ``vpcpay.html`` URL, as the merchant builds it: (vnp_TxnRef, URL)."""
    ref = f"B{os.getpid()}N{next(_serial)}"
    now = time.time()
    params = {
        "vnp_Version": wire.VERSION, "vnp_Command": "pay", "vnp_TmnCode": TMN,
        "vnp_Amount": str(wire.to_wire_amount(AMOUNT_VND)), "vnp_CurrCode": "VND", "vnp_TxnRef": ref,
        "vnp_OrderInfo": "Thanh toan le phi ho so", "vnp_OrderType": "other", "vnp_Locale": "vn",
        "vnp_ReturnUrl": "http://127.0.0.1:9/return", "vnp_IpAddr": "127.0.0.1",
        "vnp_CreateDate": wire.vn_time(now), "vnp_ExpireDate": wire.vn_time(now + 900),
    }  # fmt: skip
    return ref, wire.payment_url(gateway_url, SECRET.encode(), params)


async def pay_vnpay(client: HttpClient, urls: dict[str, str]) -> bool:
    """Open the merchant's payment URL, choose a bank on the payer's page, charge at the bank."""
    ref, url = payment_url(urls["gateway"])
    page = await client.request("GET", url)
    match = CHOOSE.search(page.body) if page.status == 200 else None
    if match is None:
        return False
    status, body = await client.post(urls["gateway"] + match.group(1).decode(), CHOICE, JSON)
    if status != 200:
        return False
    chosen = json.loads(body)
    charge = {"charge_token": chosen["charge_token"], "bank_code": "VIETINBANK", "otp": "123456"}
    status, body = await client.post(chosen["charge_url"], json.dumps(charge).encode(), JSON)
    verdict = json.loads(body) if status == 200 else {}
    if verdict.get("response_code") != "00":
        return False
    approved_at[ref] = verdict["approved_at"]
    return True


# ---------------------------------------------------------------------------- the merchant


def write_terminals(path: Path, merchant_url: str) -> Path:
    """The gateway's terminal file: one TEST terminal whose IPNs go to the merchant at `merchant_url`."""
    terminal = Terminal(tmn_code=TMN, hash_secret=SECRET, agency_code=AGENCY, ipn_url=f"{merchant_url}/ipn",
                        name="bench_payments merchant")
    return TERMINAL_FILE.write(TerminalFile(terminals=(terminal,)), path, comment="written by bench_payments")


@contextmanager
def merchant(cpu: int) -> Iterator[tuple[str, int]]:
    """The merchant's IPN receiver in its own process pinned to `cpu`, while the block runs: (URL, pid)."""
    proc, url = start_service([sys.executable, str(Path(__file__).resolve())], cpu)
    try:
        yield url, proc.pid
    finally:
        stop(proc)


def serve_merchant() -> None:
    """A merchant's VNPay IPN endpoint: verify, answer 00, remember (``GET /acks?since=N`` lists them)."""
    from urllib.parse import parse_qsl

    from aiohttp import web
    from motcua.mock_services.common.http import create_app, json_response, run_service

    acks: list[tuple[str, float]] = []
    """(vnp_TxnRef, when acknowledged) of every verified IPN, in order."""

    async def ipn(request: web.Request) -> web.Response:
        params = dict(parse_qsl(request.query_string, keep_blank_values=True))
        if not wire.verify_params(params, SECRET.encode()):
            return json_response({"RspCode": "97", "Message": wire.IPN_ANSWERS["97"]})
        acks.append((params.get("vnp_TxnRef", ""), time.time()))
        return json_response({"RspCode": "00", "Message": wire.IPN_ANSWERS["00"]})

    async def list_acks(request: web.Request) -> web.Response:
        return json_response({"acks": acks[int(request.query.get("since", "0")):], "next": len(acks)})

    app = create_app("agency", openapi={"openapi": "3.1.0", "info": {"title": "bench merchant", "version": "0"},
                                        "paths": {}})  # the agency's stand-in: a merchant built against VNPay
    app.router.add_get("/ipn", ipn)
    app.router.add_get("/acks", list_acks)
    run_service(app, port=0)


# ---------------------------------------------------------------------------- its complete payments


async def merchant_acks(merchant_url: str, since: int) -> dict:
    """The merchant's acknowledgements after the first `since`: ``{acks: [[ref, at], …], next}``."""
    client = HttpClient(timeout_s=30)
    try:
        answer = await client.request("GET", f"{merchant_url}/acks?since={since}")
    finally:
        client.close()
    if answer.status != 200:
        raise RuntimeError(f"GET {merchant_url}/acks → HTTP {answer.status}: {answer.body[:200]!r}")
    return json.loads(answer.body)


async def vnpay_position(urls: dict[str, str]) -> int:
    """How many IPNs the merchant has acknowledged so far."""
    return (await merchant_acks(urls["merchant"], sys.maxsize))["next"]


async def vnpay_completions(urls: dict[str, str], since: int) -> list[tuple[float, float]]:
    """(bank approved at, IPN acknowledged at) of the payments the merchant acknowledged after `since`."""
    acks = (await merchant_acks(urls["merchant"], since))["acks"]
    return [(approved_at[ref], at) for ref, at in acks if ref in approved_at]


if __name__ == "__main__":
    serve_merchant()
