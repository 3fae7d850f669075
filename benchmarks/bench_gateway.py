"""Complete payments per second through one gateway core, against the same stack's trivial JSON POST rate.

A complete payment is: the agency creates it (signed, idempotent) → the citizen checks out → the bank's
signed notification arrives (`00`) → the gateway commits it as paid and delivers the signed IPN → the
agency acknowledges ``00`` and the gateway commits the acknowledgement. Every step is durably stored
(SQLite WAL, group commit) before it is answered.

The gateway runs as its own process pinned to CPU 0. One driver process pinned to CPU 1 plays the
agency (it also answers the IPNs), the citizen and the bank (it sends the bank notifications itself,
so the bank's latency does not hide the gateway's cost). The baseline is a trivial JSON POST handler
on `mock_services.common.http.create_app` (same middlewares, same uvloop runner), also pinned to
CPU 0 and driven the same way. Then, at half the measured maximum payment rate (open loop), the
IPN latency (the bank's notification sent → the IPN received by the agency) is measured.

On a 2-core machine the driver shares the machine with the gateway (it uses the same lean client
as the gateway's IPNs, `mock_services.common.fastclient`, so that it is not the first bottleneck).
Because the machine may be shared, each rate is also given per CPU-second the server process
actually used (/proc/<pid>/stat): completions ÷ server CPU time, i.e. the rate one fully available
core would sustain. Target (issue 2 §6): ≥ 1,500 complete payments/s per gateway core,
judged on that per-CPU-second figure. With py-spy installed (dev extra), one more closed loop is
profiled and the gateway's CPU per payment is split by phase and kind of work in trivial POSTs, the
same breakdown as `bench_payments.py` prints for the full stack (`gateway_profile`). The last line is JSON.

    .venv/bin/python benchmarks/bench_gateway.py [--seconds S] [--concurrency N] [--rounds R] [--no-profile]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import uvloop
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, beside this folder

import gateway_profile
from benchlib import LOAD_CPU, SERVER_CPU, TRIVIAL_BODY, cpu_seconds, pin, start_service, start_trivial, stop
from motcua.mock_services.common import signing
from motcua.mock_services.common.fastclient import HttpClient

TARGET = 1500.0
AGENCY = "000.00.12.H37"


class CpuMeter:
    """Counts completions against the server's own CPU time: a rate per busy core, robust to a shared machine."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    async def rate(self, loop_coro) -> tuple[float, float]:
        before = cpu_seconds(self.pid)
        start = time.perf_counter()
        done = await loop_coro
        wall = time.perf_counter() - start
        cpu = cpu_seconds(self.pid) - before
        return done / wall, done / max(cpu, 1e-9)


class Driver:
    """Agency + citizen + bank in one process: runs payments and answers IPNs."""

    def __init__(self, gateway_url: str) -> None:
        self.gw = gateway_url
        self.waiters: dict[str, asyncio.Future[float]] = {}
        self.ipn_url = ""

    async def ipn(self, request: web.Request) -> web.Response:
        body = await request.json()
        waiter = self.waiters.pop(body["payment_id"], None)
        if waiter is not None and not waiter.done():
            waiter.set_result(time.perf_counter())
        return web.json_response({"RspCode": "00", "Message": "ok"})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/ipn", self.ipn)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0, backlog=2048)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.ipn_url = f"http://{host}:{port}/ipn"
        self.poster = HttpClient(timeout_s=30, max_idle_per_host=4096)

    async def close(self) -> None:
        self.poster.close()
        await self.runner.cleanup()

    async def _post(self, path: str, body: dict, key_id: str | None, extra: dict | None = None) -> dict:
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", **(extra or {})}
        if key_id:
            headers.update(signing.sign(key_id, signing.TEST_KEYS[key_id], "POST", path, raw))
        status, answer = await self.poster.post(self.gw + path, raw, headers)
        data = json.loads(answer)
        if status >= 300:
            raise RuntimeError(f"POST {path} → {status}: {data}")
        return data

    async def payment(self, seq: int) -> float:
        """One complete payment; returns the IPN latency (s) from the bank's notification to the IPN."""
        body = {
            "agency_code": AGENCY,
            "dossier_code": f"{AGENCY}-240607-{seq % 9999 + 1:04d}",
            "procedure_code": "p",
            "group": "fee",
            "amount_vnd": 200_000,
            "ipn_url": self.ipn_url,
            "return_url": "http://127.0.0.1:9/r",
            "payer": {"name": "Nguyễn Văn An", "cccd": "020090001234", "phone": "0912345678"},
        }
        created = await self._post("/payments", body, "agency", {"Idempotency-Key": uuid.uuid4().hex})
        pid = created["payment_id"]
        await self._post(f"/payments/{pid}/checkout", {"bank_code": "VIETINBANK"}, None)
        waiter = asyncio.get_running_loop().create_future()
        self.waiters[pid] = waiter
        sent = time.perf_counter()
        await self._post(
            "/bank-notifications",
            {
                "payment_id": pid,
                "bank_code": "VIETINBANK",
                "response_code": "00",
                "bank_txn_no": f"T{pid}",
                "amount_vnd": 200_000,
                "approved_at": time.time(),
            },
            "bank",
        )
        return await asyncio.wait_for(waiter, 30) - sent


async def closed_loop(work, concurrency: int, seconds: float) -> int:
    """Run `work(i)` from `concurrency` workers for `seconds`; return the number completed."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker(w: int) -> None:
        nonlocal done
        i = w
        while time.perf_counter() < deadline:
            await work(i)
            done += 1
            i += concurrency

    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return done


async def open_loop(driver: Driver, rate: float, seconds: float) -> list[float]:
    latencies: list[float] = []
    tasks = []
    start = time.perf_counter()
    n = int(rate * seconds)
    for i in range(n):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(driver.payment(10_000_000 + i)))
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, float):
            latencies.append(result)
    return latencies


async def trivial_rate(url: str, pid: int, concurrency: int, seconds: float) -> tuple[float, float]:
    poster = HttpClient(timeout_s=30, max_idle_per_host=4096)

    async def post(_i: int) -> None:
        await poster.post(url + "/echo", TRIVIAL_BODY, {"Content-Type": "application/json"})

    try:
        return await CpuMeter(pid).rate(closed_loop(post, concurrency, seconds))
    finally:
        poster.close()


async def measure(args: argparse.Namespace, data_dir: str) -> dict[str, float]:
    pin(LOAD_CPU)
    gateway_cmd = os.environ.get("BENCH_GATEWAY_CMD")  # e.g. a profiling wrapper; {data_dir} is filled in
    argv = (gateway_cmd.format(data_dir=data_dir).split() if gateway_cmd else
            [sys.executable, "-m", "motcua.mock_services.gateway", "--port", "0", "--data-dir", data_dir,
             "--ipn-schedule", "1,1,1"])
    trivial, trivial_url = start_trivial(SERVER_CPU)
    gateway, gw_url = start_service(argv, SERVER_CPU)
    driver = Driver(gw_url)
    await driver.start()
    best = {"trivial": (0.0, 0.0), "payments": (0.0, 0.0)}
    try:
        await closed_loop(driver.payment, args.concurrency, min(1.0, args.seconds / 4))  # warm-up
        # Alternate the two phases; the best round of each counts, so a noisy neighbour hurts both alike.
        for _ in range(args.rounds):
            rates = await trivial_rate(trivial_url, trivial.pid, args.concurrency, args.seconds)
            best["trivial"] = max(best["trivial"], rates, key=lambda r: r[1])
            rates = await CpuMeter(gateway.pid).rate(closed_loop(driver.payment, args.concurrency, args.seconds))
            best["payments"] = max(best["payments"], rates, key=lambda r: r[1])
        latencies = np.array(await open_loop(driver, best["payments"][0] / 2, args.seconds)) * 1000
        breakdown = await profile(driver, gateway.pid, args, Path(data_dir)) if args.profile else "not asked"
    finally:
        await driver.close()
        stop(gateway)
        stop(trivial)
    pct = np.percentile(latencies, [50, 95, 99]) if len(latencies) else [float("nan")] * 3
    return {
        "payments_per_s": round(best["payments"][0], 1),
        "trivial_post_per_s": round(best["trivial"][0], 1),
        "payments_per_cpu_s": round(best["payments"][1], 1),
        "trivial_post_per_cpu_s": round(best["trivial"][1], 1),
        "ipn_p50_ms": round(float(pct[0]), 2),
        "ipn_p95_ms": round(float(pct[1]), 2),
        "ipn_p99_ms": round(float(pct[2]), 2),
        "profile": breakdown,
    }


async def profile(driver: Driver, pid: int, args: argparse.Namespace, folder: Path) -> object:
    """One more closed loop under py-spy: the gateway's samples by phase and kind (or why there are none)."""
    out = args.profile_out or folder / "gateway-profile.txt"
    spy = gateway_profile.record(pid, args.seconds, out)
    if spy is not None:
        await asyncio.sleep(0.3)  # py-spy attaches
        await closed_loop(driver.payment, args.concurrency, args.seconds)
    return await asyncio.get_running_loop().run_in_executor(None, gateway_profile.finish, spy, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each measured phase (s)")
    parser.add_argument("--concurrency", type=int, default=128, help="payments in flight in the closed loop")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of both phases; the best counts")
    parser.add_argument("--profile-out", type=Path, help="keep py-spy's raw stacks (collapsed) there")
    parser.add_argument("--no-profile", dest="profile", action="store_false",
                        help="skip the py-spy phase (the CPU breakdown by phase and kind)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir, asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        figures = runner.run(measure(args, data_dir))
    ratio = figures["payments_per_s"] / figures["trivial_post_per_s"]
    cpu_ratio = figures["payments_per_cpu_s"] / figures["trivial_post_per_cpu_s"]
    print("                                          wall clock      per CPU-second of the server")
    print(
        f"trivial JSON POST (create_app, 1 core): {figures['trivial_post_per_s']:>9,.0f} req/s  "
        f"{figures['trivial_post_per_cpu_s']:>9,.0f} req/CPU-s   (baseline)"
    )
    verdict = "met" if figures["payments_per_cpu_s"] >= TARGET else "NOT met"
    print(
        f"complete payments   (gateway, 1 core):  {figures['payments_per_s']:>9,.0f} /s     "
        f"{figures['payments_per_cpu_s']:>9,.0f} /CPU-s       = {ratio:.3f} × baseline (wall), "
        f"{cpu_ratio:.3f} × (CPU)"
    )
    print(f"target {TARGET:,.0f} complete payments per gateway core-second → {verdict}")
    print(
        f"IPN latency at half that rate: p50 {figures['ipn_p50_ms']} ms, p95 {figures['ipn_p95_ms']} ms, "
        f"p99 {figures['ipn_p99_ms']} ms"
    )
    breakdown = figures.pop("profile")
    if isinstance(breakdown, tuple):
        cpu_ms, trivial_ms = 1000 / figures["payments_per_cpu_s"], 1000 / figures["trivial_post_per_cpu_s"]
        for samples, title in zip(breakdown, ("phase", "kind"), strict=True):
            print(f"gateway CPU per payment by {title} (py-spy samples of one more closed loop):")
            print("\n".join(gateway_profile.table(samples, cpu_ms, trivial_ms, title)))
    else:
        print(f"no CPU breakdown: {breakdown}")
    figures["payment_cost_in_trivial_posts"] = round(1 / cpu_ratio, 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
