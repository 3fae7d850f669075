"""Complete payments per second through the mock stack, against the same server stack's trivial JSON POST rate.

A complete payment is the citizen's whole flow and its asynchronous tail: file a dossier at the agency
(which creates the payment at the gateway) → checkout at the gateway → charge at the bank → the bank
notifies the gateway → the gateway's IPN is acknowledged by the agency, durably stored (the agency's
``payment_confirmed`` journal entry, committed before the ``00`` answer). It is counted when the IPN is
acknowledged.

The gateway process is pinned to CPU 0; the bank, the agency and this load generator to CPU 1. Bank
latency is off (``--latency-scale 0``) and every delay schedule compressed 1000×. The baseline is a
trivial JSON POST handler built with the same plumbing (`mock_services.common.http`: same middlewares,
uvloop runner), also pinned to CPU 0. The load generator is a minimal keep-alive HTTP/1.1 client on
asyncio streams, much cheaper per request than aiohttp's client, so it does not hide the servers' cost.

Because CPU 1 carries three processes, the flow may be limited by CPU 1 rather than by the gateway; the
gateway's own CPU time is therefore measured too, and ``gateway_cpu_ms_per_payment`` gives what one
gateway core could sustain (``payments_per_gateway_core``). IPN latency (bank approval → IPN
acknowledged) is measured at half the maximum rate with open-loop arrivals.

Target (issue 2 §6): at least 1,500 complete payments per second per gateway core. The same run measures
complete payments through the gateway's VNPay 2.1.0 front (`vnpay_front.bench`, a stack of its own set up
the same way); target (issue 8): within 15% of the JSON API per gateway core. The last line is JSON.

    .venv/bin/python benchmarks/bench_payments.py [--duration S] [--concurrency N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import vnpay_front  # noqa: E402

from mock_services.supervisor import MockStack, StackConfig, free_port  # noqa: E402

TARGET_PER_CORE = 1500.0
QUIET_TRIVIAL_POST_PER_S = 14_000.0
"""aiohttp + uvloop JSON POST on one core of this machine when it was quiet (issue 2 §2)."""
PAYER = {"name": "Lê Văn Cường", "cccd": "020085123456", "phone": "0912000111"}
DOSSIER = json.dumps({"procedure_code": "LLTP", "payer": PAYER}).encode()
GATEWAY_CPU, LOAD_CPU = 0, 1


# ---------------------------------------------------------------------------- a minimal HTTP/1.1 client


class Connection:
    """One keep-alive HTTP/1.1 connection; requests on it are sequential."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        assert self.reader is not None
        status_line = await self.reader.readline()
        if not status_line:
            self.writer = None
            raise ConnectionError(f"{self.host}:{self.port} closed the connection")
        status = int(status_line.split()[1])
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            key = name.strip().lower()
            if key == b"content-length":
                length = int(value)
            elif key == b"connection" and b"close" in value.lower():
                close = True
        data = await self.reader.readexactly(length) if length else b""
        if close:
            self.writer.close()
            self.writer = None
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class Citizen:
    """One simulated citizen's browser: a connection to each service, and the payment flow."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.agency, self.gateway, self.bank = (Connection(urls[n]) for n in ("agency", "gateway", "bank"))

    async def pay(self) -> bool:
        """File a dossier, check out, charge; True when the bank approved (the IPN follows on its own)."""
        status, body = await self.agency.request("POST", "/dossiers", DOSSIER)
        if status != 201:
            return False
        payment_id = json.loads(body)["payment"]["payment_id"]
        status, body = await self.gateway.request(
            "POST", f"/payments/{payment_id}/checkout", b'{"bank_code":"VIETINBANK"}'
        )
        if status != 200:
            return False
        checkout = json.loads(body)
        charge = {"charge_token": checkout["charge_token"], "bank_code": "VIETINBANK", "otp": "123456"}
        charge_path = urlsplit(checkout["charge_url"]).path
        status, body = await self.bank.request("POST", charge_path, json.dumps(charge).encode())
        return status == 200 and json.loads(body).get("response_code") == "00"

    def close(self) -> None:
        for conn in (self.agency, self.gateway, self.bank):
            conn.close()


# ---------------------------------------------------------------------------- load phases


async def closed_loop(urls: dict[str, str], concurrency: int, duration_s: float, citizen: Any = Citizen
                      ) -> tuple[float, float, int]:
    """`concurrency` citizens (`citizen(urls)`: JSON API by default) paying back to back for `duration_s`;
    returns (start, end, approved)."""
    citizens = [citizen(urls) for _ in range(concurrency)]
    approved = 0
    start = time.time()
    deadline = start + duration_s

    async def run(c: Any) -> None:
        nonlocal approved
        while time.time() < deadline:
            ok = await c.pay()  # not `approved += await …`: that reads `approved` before the await
            approved += ok

    await asyncio.gather(*(run(c) for c in citizens))
    end = time.time()
    for c in citizens:
        c.close()
    return start, end, approved


async def open_loop(urls: dict[str, str], rate: float, duration_s: float, max_in_flight: int) -> int:
    """Poisson arrivals at `rate` per second for `duration_s`; returns arrivals dropped for lack of a citizen."""
    idle = [Citizen(urls) for _ in range(max_in_flight)]
    busy: set[asyncio.Task[None]] = set()
    rng = np.random.default_rng(1)
    dropped = 0

    async def one(c: Citizen) -> None:
        try:
            await c.pay()
        finally:
            idle.append(c)

    next_at = time.monotonic()
    end = next_at + duration_s
    while next_at < end:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        next_at += float(rng.exponential(1.0 / rate))
        if not idle:
            dropped += 1
            continue
        task = asyncio.ensure_future(one(idle.pop()))
        busy.add(task)
        task.add_done_callback(busy.discard)
    await asyncio.gather(*busy)
    for c in idle:
        c.close()
    return dropped


async def trivial_posts(url: str, concurrency: int, duration_s: float) -> tuple[float, int]:
    """Trivial JSON POSTs per second, `concurrency` connections back to back; returns (rate, count)."""
    conns = [Connection(url) for _ in range(concurrency)]
    count = 0
    deadline = time.time() + duration_s

    async def run(conn: Connection) -> None:
        nonlocal count
        while time.time() < deadline:
            status, _ = await conn.request("POST", "/echo", b'{"dossier_code":"000.00.20.H37-240610-0001"}')
            count += status == 200

    start = time.time()
    await asyncio.gather(*(run(c) for c in conns))
    elapsed = time.time() - start
    for c in conns:
        c.close()
    return count / elapsed, count


async def journal(agency_url: str, since: int) -> list[dict]:
    """Every agency journal event after `since`."""
    conn, events = Connection(agency_url), []
    while True:
        _, body = await conn.request("GET", f"/events?since={since}&limit=10000")
        page = json.loads(body)
        events += page["events"]
        if page["next"] == since:
            conn.close()
            return events
        since = page["next"]


async def journal_end(agency_url: str) -> int:
    conn = Connection(agency_url)
    _, body = await conn.request("GET", "/stats")
    conn.close()
    return int(json.loads(body)["events"])


def confirmed(events: list[dict]) -> list[dict]:
    return [e for e in events if e["type"] == "payment_confirmed" and e.get("bank_approved_at")]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------- the trivial server


def serve_trivial(port: int) -> None:
    """The baseline: one JSON POST handler on the services' own plumbing (middlewares, uvloop runner)."""
    from mock_services.common import http

    async def echo(request):  # type: ignore[no-untyped-def]
        body = await http.read_json(request)
        return http.json_response({"ok": True, "dossier_code": body.get("dossier_code")})

    # Named "gateway" because it stands in for the gateway's plumbing (the fault table knows three services).
    app = http.create_app("gateway", openapi={"openapi": "3.1.0", "info": {"title": "trivial", "version": "0"}})
    app.router.add_post("/echo", echo)
    http.run_service(app, port=port)


def start_trivial(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve-trivial", str(port)], stdout=subprocess.DEVNULL,
        preexec_fn=lambda: os.sched_setaffinity(0, {GATEWAY_CPU}),
    )  # fmt: skip
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            asyncio.run(Connection(f"http://127.0.0.1:{port}").request("GET", "/healthz"))
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the trivial baseline server did not start")


# ---------------------------------------------------------------------------- main


def percentile_ms(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of each measured phase (default 5)")
    parser.add_argument("--concurrency", type=int, default=128, help="citizens / connections at once (default 128)")
    parser.add_argument("--serve-trivial", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_trivial:
        serve_trivial(args.serve_trivial)
        return
    if len(os.sched_getaffinity(0)) < 2 or os.cpu_count() is None or os.cpu_count() < 2:
        sys.exit("bench_payments needs two CPUs: the gateway on one, the load on the other")
    import uvloop

    os.sched_setaffinity(0, {LOAD_CPU})
    with tempfile.TemporaryDirectory(prefix="bench-payments-") as tmp:
        config = StackConfig(
            data_dir=Path(tmp), time_scale=0.001, admin_token=None,
            extra_args={"bank": ["--latency-scale", "0"]},
            cpu_affinity={"gateway": frozenset({GATEWAY_CPU}), "bank": frozenset({LOAD_CPU}),
                          "agency": frozenset({LOAD_CPU})},
        )  # fmt: skip
        with MockStack(config) as stack, asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            figures = runner.run(measure(stack, args.duration, args.concurrency))
        figures.update(vnpay_front.bench(sys.modules[__name__], duration_s=args.duration, concurrency=args.concurrency))
        port = free_port()
        trivial = start_trivial(port)
        try:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                cpu_before = cpu_seconds(trivial.pid)
                rate, count = runner.run(trivial_posts(f"http://127.0.0.1:{port}", args.concurrency, args.duration))
                figures["trivial_post_per_s"] = rate
                figures["trivial_cpu_ms_per_post"] = 1000 * (cpu_seconds(trivial.pid) - cpu_before) / max(count, 1)
        finally:
            trivial.terminate()
            trivial.wait(10)
    report(figures)


async def measure(stack: MockStack, duration_s: float, concurrency: int) -> dict[str, float]:
    urls, gateway_pid = stack.urls, stack.pid("gateway")
    assert gateway_pid is not None
    await closed_loop(urls, concurrency, min(2.0, duration_s))  # warm-up: connections, caches, SQLite pages
    await asyncio.sleep(1.0)
    since = await journal_end(urls["agency"])
    pids = {name: stack.pid(name) for name in ("gateway", "bank", "agency")}
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items() if pid}
    start, end, approved = await closed_loop(urls, concurrency, duration_s)
    await asyncio.sleep(1.0)  # let the IPNs of the last charges arrive
    cpu_all = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items() if pid}
    cpu_used = cpu_all["gateway"]
    done = [e for e in confirmed(await journal(urls["agency"], since)) if start <= e["ipn_acked_at"] <= end]
    max_rate = len(done) / (end - start)
    all_done = len(confirmed(await journal(urls["agency"], since)))

    since = await journal_end(urls["agency"])
    dropped = await open_loop(urls, max_rate / 2, duration_s, max_in_flight=concurrency * 4)
    await asyncio.sleep(1.0)
    latencies = [
        (e["ipn_acked_at"] - e["bank_approved_at"]) * 1000 for e in confirmed(await journal(urls["agency"], since))
    ]
    return {
        "payments_per_s": max_rate,
        "approved_in_window": approved,
        "gateway_cpu_share": cpu_used / (end - start + 1.0),
        "gateway_cpu_ms_per_payment": 1000 * cpu_used / max(all_done, 1),
        "bank_cpu_ms_per_payment": 1000 * cpu_all["bank"] / max(all_done, 1),
        "agency_cpu_ms_per_payment": 1000 * cpu_all["agency"] / max(all_done, 1),
        "half_rate_per_s": max_rate / 2,
        "half_rate_dropped": dropped,
        "ipn_count": len(latencies),
        "ipn_p50_ms": percentile_ms(latencies, 50),
        "ipn_p95_ms": percentile_ms(latencies, 95),
        "ipn_p99_ms": percentile_ms(latencies, 99),
    }


def report(f: dict[str, float]) -> None:
    per_core = 1000.0 / f["gateway_cpu_ms_per_payment"] if f["gateway_cpu_ms_per_payment"] else float("nan")
    ratio = f["payments_per_s"] / f["trivial_post_per_s"]
    # CPU cost of a payment in the gateway, in trivial POSTs handled by the same plumbing on the same core:
    # a ratio of two CPU times, much steadier on a busy machine than either rate.
    cost = f["gateway_cpu_ms_per_payment"] / f["trivial_cpu_ms_per_post"]
    print(f"complete payments/s (gateway on CPU {GATEWAY_CPU}, load+bank+agency on CPU {LOAD_CPU}): "
          f"{f['payments_per_s']:,.0f}")
    print(f"trivial JSON POST/s (same plumbing, CPU {GATEWAY_CPU}):                        "
          f"{f['trivial_post_per_s']:,.0f}")
    print(f"ratio payments / trivial POST:                                          {ratio:.3f}")
    print(f"gateway CPU busy during the payment phase:                              {f['gateway_cpu_share']:.0%}")
    print(f"gateway CPU per complete payment: {f['gateway_cpu_ms_per_payment']:.3f} ms "
          f"→ {per_core:,.0f} payments/s per gateway core (target ≥ {TARGET_PER_CORE:,.0f})")
    print(f"CPU per payment on CPU {LOAD_CPU}: agency {f['agency_cpu_ms_per_payment']:.3f} ms, "
          f"bank {f['bank_cpu_ms_per_payment']:.3f} ms (plus this load generator)")
    print(f"one payment costs the gateway the CPU of {cost:.1f} trivial POSTs ({f['trivial_cpu_ms_per_post']:.3f} ms "
          f"each): at a quiet machine's ~{QUIET_TRIVIAL_POST_PER_S:,.0f} trivial POST/s per core that is "
          f"~{QUIET_TRIVIAL_POST_PER_S / cost:,.0f} payments/s per gateway core")
    print(f"IPN latency at half the maximum rate ({f['half_rate_per_s']:,.0f}/s open loop, n={f['ipn_count']}, "
          f"dropped {f['half_rate_dropped']}): p50 {f['ipn_p50_ms']} ms, p95 {f['ipn_p95_ms']} ms, "
          f"p99 {f['ipn_p99_ms']} ms")  # fmt: skip
    vnpay_share = f["vnpay_payments_per_gateway_core"] / per_core
    print(f"VNPay front: {f['vnpay_payments_per_s']:,.0f} complete payments/s, gateway CPU "
          f"{f['vnpay_gateway_cpu_ms_per_payment']:.3f} ms each → {f['vnpay_payments_per_gateway_core']:,.0f} per "
          f"gateway core = {vnpay_share:.0%} of the JSON API's (target ≥ 85%)")
    print(json.dumps({
        "payments_per_s": round(f["payments_per_s"], 1),
        "vnpay_payments_per_s": round(f["vnpay_payments_per_s"], 1),
        "vnpay_payments_per_gateway_core": round(f["vnpay_payments_per_gateway_core"], 1),
        "vnpay_vs_json_per_core": round(vnpay_share, 3),
        "trivial_post_per_s": round(f["trivial_post_per_s"], 1),
        "ipn_p50_ms": f["ipn_p50_ms"], "ipn_p95_ms": f["ipn_p95_ms"], "ipn_p99_ms": f["ipn_p99_ms"],
        "ratio": round(ratio, 4),
        "gateway_cpu_share": round(f["gateway_cpu_share"], 3),
        "payments_per_gateway_core": round(per_core, 1),
        "payment_cost_in_trivial_posts": round(cost, 2),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
