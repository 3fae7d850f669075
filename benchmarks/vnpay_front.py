"""Complete payments through the gateway's VNPay front, for `bench_payments.py` to set beside its JSON-API loop.

A complete VNPay payment: the merchant signs a ``vpcpay.html`` URL → the citizen opens it (the payer's
HTML page; its form gives the payment id) → chooses a bank → is charged at the bank → the bank notifies
the gateway → the gateway's IPN GET is verified and acknowledged ``00`` by the merchant. The merchant is a
minimal VNPay IPN receiver (`serve_merchant`) in its own process, on the load CPU like the agency of the
JSON loop. It is counted when the IPN is acknowledged. The stack is set up as in `bench_payments` (whose
HTTP client, closed loop and CPU clock it uses: `harness`): gateway pinned to its `GATEWAY_CPU`, bank,
merchant and load to `LOAD_CPU`, bank latency off, schedules compressed.

    figures = bench(bench_payments, duration_s=5, concurrency=128)
    figures["vnpay_gateway_cpu_ms_per_payment"]     # → payments per gateway core

Run alone: ``.venv/bin/python benchmarks/vnpay_front.py [--duration S] [--concurrency N]``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from motcua.mock_services.common import vnpay_wire as wire  # noqa: E402
from motcua.mock_services.supervisor import MockStack, StackConfig, free_port  # noqa: E402

TMN = "BENCH001"
SECRET = "TEST-ONLY-bench-vnpay-secret-0001"
AGENCY = "000.00.20.H37"
CHOOSE = re.compile(rb'action="(/paymentv2/pay/[A-Z0-9]+)"')


# ---------------------------------------------------------------------------- the merchant's IPN receiver


def serve_merchant(port: int) -> None:
    """A merchant's VNPay IPN endpoint: verify, answer 00, remember when (``GET /acks`` lists them)."""
    from urllib.parse import parse_qsl

    import uvloop
    from aiohttp import web

    acks: list[float] = []

    async def ipn(request: web.Request) -> web.Response:
        params = dict(parse_qsl(request.query_string, keep_blank_values=True))
        if not wire.verify_params(params, SECRET.encode()):
            return web.json_response({"RspCode": "97", "Message": "Invalid signature"})
        acks.append(time.time())
        return web.json_response({"RspCode": "00", "Message": "Confirm Success"})

    async def list_acks(_request: web.Request) -> web.Response:
        return web.json_response(acks)

    app = web.Application()
    app.router.add_get("/ipn", ipn)
    app.router.add_get("/acks", list_acks)
    app.router.add_get("/healthz", lambda _r: web.json_response({"ok": True}))  # type: ignore[arg-type,return-value]
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, loop=uvloop.new_event_loop())


def start_merchant(port: int, cpu: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, __file__, "--serve-merchant", str(port)], stdout=subprocess.DEVNULL,
                            preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            import urllib.request

            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the benchmark's VNPay merchant did not start")


# ---------------------------------------------------------------------------- the citizen


class VnpayCitizen:
    """One citizen's browser paying through the VNPay front; `connection` is bench_payments' HTTP/1.1 client."""

    serial = 0

    def __init__(self, urls: dict[str, str], *, connection: Callable[[str], Any]) -> None:
        self.gateway, self.bank = connection(urls["gateway"]), connection(urls["bank"])
        self.base = urls["gateway"]

    def payment_path(self) -> str:
        VnpayCitizen.serial += 1
        now = time.time()
        params = {
            "vnp_Version": wire.VERSION, "vnp_Command": "pay", "vnp_TmnCode": TMN, "vnp_Amount": "20000000",
            "vnp_CurrCode": "VND", "vnp_TxnRef": f"B{os.getpid()}N{VnpayCitizen.serial}",
            "vnp_OrderInfo": "Thanh toan le phi ho so", "vnp_OrderType": "other", "vnp_Locale": "vn",
            "vnp_ReturnUrl": "http://127.0.0.1:9/return", "vnp_IpAddr": "127.0.0.1",
            "vnp_CreateDate": wire.vn_time(now), "vnp_ExpireDate": wire.vn_time(now + 900),
        }
        return f"{wire.PAY_PATH}?{wire.signed_query(params, SECRET.encode())}"

    async def pay(self) -> bool:
        """Open the payment URL, choose a bank, charge; True when the bank approved (the IPN follows)."""
        status, page = await self.gateway.request("GET", self.payment_path())
        match = CHOOSE.search(page) if status == 200 else None
        if match is None:
            return False
        status, body = await self.gateway.request("POST", match.group(1).decode(), b'{"bank_code":"VIETINBANK"}')
        if status != 200:
            return False
        chosen = json.loads(body)
        charge = {"charge_token": chosen["charge_token"], "bank_code": "VIETINBANK", "otp": "123456"}
        status, body = await self.bank.request("POST", "/charge", json.dumps(charge).encode())
        return status == 200 and json.loads(body).get("response_code") == "00"

    def close(self) -> None:
        self.gateway.close()
        self.bank.close()


# ---------------------------------------------------------------------------- the measurement


def acks(merchant_port: int) -> list[float]:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{merchant_port}/acks", timeout=30) as resp:
        return json.loads(resp.read())


async def measure(harness: ModuleType, stack: MockStack, merchant_port: int, duration_s: float,
                  concurrency: int) -> dict[str, float]:
    urls, pid = stack.urls, stack.pid("gateway")
    assert pid is not None
    citizen = partial(VnpayCitizen, connection=harness.Connection)
    await harness.closed_loop(urls, concurrency, min(2.0, duration_s), citizen)  # warm-up
    await asyncio.sleep(1.0)
    before_acks = len(acks(merchant_port))
    cpu_before = harness.cpu_seconds(pid)
    start, end, approved = await harness.closed_loop(urls, concurrency, duration_s, citizen)
    await asyncio.sleep(1.0)  # the IPNs of the last charges
    cpu_used = harness.cpu_seconds(pid) - cpu_before
    all_acks = acks(merchant_port)[before_acks:]
    in_window = [t for t in all_acks if start <= t <= end]
    per_payment_ms = 1000 * cpu_used / max(len(all_acks), 1)
    return {
        "vnpay_payments_per_s": len(in_window) / (end - start),
        "vnpay_approved_in_window": approved,
        "vnpay_gateway_cpu_share": cpu_used / (end - start + 1.0),
        "vnpay_gateway_cpu_ms_per_payment": per_payment_ms,
        "vnpay_payments_per_gateway_core": 1000.0 / per_payment_ms if per_payment_ms else float("nan"),
    }


def write_terminals(path: Path, merchant_port: int) -> Path:
    path.write_text(f'[[terminals]]\ntmn_code = "{TMN}"\nhash_secret = "{SECRET}"\n'
                    f'ipn_url = "http://127.0.0.1:{merchant_port}/ipn"\nagency_code = "{AGENCY}"\n', encoding="utf-8")
    return path


def bench(harness: ModuleType, *, duration_s: float, concurrency: int) -> dict[str, float]:
    """A stack of its own (as bench_payments sets it up), the merchant, the closed loop: the VNPay figures."""
    import uvloop

    gateway_cpu, load_cpu = harness.GATEWAY_CPU, harness.LOAD_CPU
    port = free_port()
    merchant = start_merchant(port, load_cpu)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-vnpay-") as tmp:
            config = StackConfig(
                data_dir=Path(tmp), time_scale=0.001, admin_token=None,
                extra_args={"bank": ["--latency-scale", "0"]},
                cpu_affinity={"gateway": frozenset({gateway_cpu}), "bank": frozenset({load_cpu}),
                              "agency": frozenset({load_cpu})},
                terminals_file=write_terminals(Path(tmp) / "terminals.toml", port),
            )  # fmt: skip
            with MockStack(config) as stack, asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                return runner.run(measure(harness, stack, port, duration_s, concurrency))
    finally:
        merchant.terminate()
        merchant.wait(10)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--serve-merchant", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_merchant:
        serve_merchant(args.serve_merchant)
        return
    import bench_payments

    os.sched_setaffinity(0, {bench_payments.LOAD_CPU})
    figures = bench(bench_payments, duration_s=args.duration, concurrency=args.concurrency)
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
