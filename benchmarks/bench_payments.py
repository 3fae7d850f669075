"""Complete payments per second through the mock stack, and what one costs the gateway in trivial POSTs.

A complete payment is the citizen's whole flow and its asynchronous tail, counted when the IPN is
acknowledged. Each way a citizen can pay (a "front", one entry of `FRONTS`) is measured on a fresh stack of
the same setup, with the same phases:

- ``json``, the JSON API: file a dossier at the agency (which creates the payment at the gateway) →
  checkout at the gateway → charge at the bank → the bank notifies the gateway → the gateway's IPN is
  acknowledged by the agency, durably stored (its ``payment_confirmed`` journal entry, committed before
  the ``00`` answer);
- ``vnpay``, the VNPay 2.1.0 front (`vnpay_front`): the merchant's signed ``vpcpay.html`` URL → the payer's
  HTML page → choose a bank → charge at the bank → the bank notifies the gateway → the gateway's signed
  IPN GET is verified and acknowledged ``00`` by a minimal merchant process (in memory; the terminal file
  of every stack points there).

The gateway process is pinned to CPU 0; the bank, the agency, the merchant and this load generator to
CPU 1. Bank latency is off (``--latency-scale 0``) and every delay schedule compressed 1000×. The
baseline is a trivial JSON POST handler built with the same plumbing (`mock_services.common.http`: same middlewares,
uvloop runner), also pinned to CPU 0, driven by the same client (`mock_services.common.fastclient`).

The machine may be shared with other work, and CPU 1 carries several processes, so the rates move from
run to run; the figure to trust is the gateway's own CPU time per complete payment (/proc/<pid>/stat)
divided by the trivial server's CPU time per POST, measured in the same run: the payment's cost in
trivial POSTs. The benchmark also prints the gateway's requests per payment by route (its /metrics),
its group commits per payment, and — with py-spy installed (dev extra; it needs ptrace rights) — a
profile of a second closed loop that splits the CPU per payment by phase (route, IPN delivery, commit,
plumbing) and by kind of work (signatures, JSON, SQLite, aiohttp…). IPN latency (bank approval → IPN
acknowledged) and the gateway's CPU per payment at a given load are measured with open-loop arrivals at
half the first front's closed-loop rate, the same rate for every front.

Targets: ≥ 1,500 complete payments/s per gateway core (issue 2 §6), ≤ 8 trivial POSTs of gateway CPU
per complete payment (issue 11), and the VNPay front's payments per gateway core within 15% of the JSON
API's (ratio ≥ 0.85, issue 8; both fronts in the same run, in the closed loop where each front sets its
own rate, and in the open loop where every front runs at the first one's half rate, the gateway at the
same load). The last line is JSON: the JSON API's figures at the
top level (as before; the first front's without it), ``vnpay_to_json_*`` and ``vnpay_within_15pct``, and
every front under ``fronts``.

    .venv/bin/python benchmarks/bench_payments.py [--duration S] [--concurrency N] [--front NAME] [--no-profile]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, beside this folder

import gateway_profile
from benchlib import LOAD_CPU, SERVER_CPU, TRIVIAL_BODY, cpu_seconds, start_trivial, stop, two_cpus
from motcua.mock_services.common.fastclient import HttpClient
from motcua.mock_services.supervisor import MockStack, StackConfig
from vnpay_front import merchant, pay_vnpay, vnpay_completions, vnpay_position, write_terminals

TARGET_PER_CORE = 1500.0
TARGET_TRIVIAL_POSTS = 8.0
TARGET_VNPAY_RATIO = 0.85
"""The VNPay front's payments per gateway core over the JSON API's: within 15%."""
PAYER = {"name": "Lê Văn Cường", "cccd": "020085123456", "phone": "0912000111"}
DOSSIER = json.dumps({"procedure_code": "LLTP", "payer": PAYER}).encode()
JSON = {"Content-Type": "application/json"}

Urls = dict[str, str]
"""The services' base URLs by name: gateway, bank, agency, and the VNPay front's merchant."""
Pay = Callable[[HttpClient, Urls], Awaitable[bool]]
"""One citizen's payment through one front: True when the bank approved (the IPN follows on its own)."""


@dataclass(frozen=True)
class Front:
    """One way a citizen can pay, and where its complete payments are counted (who acknowledges the IPN)."""

    pay: Pay
    position: Callable[[Urls], Awaitable[int]]
    """Where the IPN receiver's record of acknowledgements stands now."""
    completions: Callable[[Urls, int], Awaitable[list[tuple[float, float]]]]
    """(bank approved at, IPN acknowledged at) of each complete payment after a position."""


# ---------------------------------------------------------------------------- the fronts


async def pay_json_api(client: HttpClient, urls: Urls) -> bool:
    """File a dossier at the agency, check out at the gateway's JSON API, charge at the bank."""
    status, body = await client.post(urls["agency"] + "/dossiers", DOSSIER, JSON)
    if status != 201:
        return False
    payment_id = json.loads(body)["payment"]["payment_id"]
    status, body = await client.post(
        f"{urls['gateway']}/payments/{payment_id}/checkout", b'{"bank_code":"VIETINBANK"}', JSON
    )
    if status != 200:
        return False
    checkout = json.loads(body)
    charge = {"charge_token": checkout["charge_token"], "bank_code": "VIETINBANK", "otp": "123456"}
    status, body = await client.post(checkout["charge_url"], json.dumps(charge).encode(), JSON)
    return status == 200 and json.loads(body).get("response_code") == "00"


async def agency_position(urls: Urls) -> int:
    """The agency journal's last sequence number."""
    return (await get_json(urls["agency"] + "/stats"))["events"]


async def agency_completions(urls: Urls, since: int) -> list[tuple[float, float]]:
    """The payments the agency confirmed (durably, before answering 00) after journal entry `since`."""
    return [(e["bank_approved_at"], e["ipn_acked_at"]) for e in await journal(urls["agency"], since)
            if e["type"] == "payment_confirmed" and e.get("bank_approved_at")]


FRONTS: dict[str, Front] = {
    "json": Front(pay_json_api, agency_position, agency_completions),
    "vnpay": Front(pay_vnpay, vnpay_position, vnpay_completions),
}


# ---------------------------------------------------------------------------- load phases


async def closed_loop(pay: Pay, urls: Urls, concurrency: int, duration_s: float) -> tuple[float, float, int]:
    """`concurrency` citizens paying back to back for `duration_s`; returns (start, end, approved)."""
    client = HttpClient(timeout_s=30, max_idle_per_host=concurrency)
    approved = 0
    start = time.time()
    deadline = start + duration_s

    async def citizen() -> None:
        nonlocal approved
        while time.time() < deadline:
            ok = await pay(client, urls)  # not `approved += await …`: that reads `approved` before the await
            approved += ok

    await asyncio.gather(*(citizen() for _ in range(concurrency)))
    client.close()
    return start, time.time(), approved


async def open_loop(work: Callable[[], Awaitable[object]], rate: float, duration_s: float, max_in_flight: int) -> int:
    """Poisson arrivals of `work()` at `rate` per second for `duration_s`; returns arrivals dropped (too many
    in flight)."""
    busy: set[asyncio.Future[object]] = set()
    rng = np.random.default_rng(1)
    dropped = 0
    next_at = time.monotonic()
    end = next_at + duration_s
    while next_at < end:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        next_at += float(rng.exponential(1.0 / rate))
        if len(busy) >= max_in_flight:
            dropped += 1
            continue
        task = asyncio.ensure_future(work())
        busy.add(task)
        task.add_done_callback(busy.discard)
    await asyncio.gather(*busy)
    return dropped


async def trivial_posts(url: str, concurrency: int, duration_s: float, rate: float | None = None) -> int:
    """Trivial JSON POSTs for `duration_s`: from `concurrency` workers back to back, or (with `rate`) as
    Poisson arrivals at that rate; returns the number answered 200."""
    client = HttpClient(timeout_s=30, max_idle_per_host=concurrency * 4)
    count = 0
    deadline = time.time() + duration_s

    async def post() -> None:
        nonlocal count
        status, _ = await client.post(url + "/echo", TRIVIAL_BODY, JSON)
        count += status == 200

    async def run() -> None:
        while time.time() < deadline:
            await post()

    if rate is None:
        await asyncio.gather(*(run() for _ in range(concurrency)))
    else:
        await open_loop(post, rate, duration_s, max_in_flight=concurrency * 4)
    client.close()
    return count


# ---------------------------------------------------------------------------- what the services say


async def get(url: str) -> bytes:
    """The body of ``GET url`` (HTTP 200 expected)."""
    client = HttpClient(timeout_s=30)
    try:
        answer = await client.request("GET", url)
    finally:
        client.close()
    if answer.status != 200:
        raise RuntimeError(f"GET {url} → HTTP {answer.status}: {answer.body[:200]!r}")
    return answer.body


async def get_json(url: str) -> dict:
    return json.loads(await get(url))


async def journal(agency_url: str, since: int) -> list[dict]:
    """Every agency journal event after `since`."""
    events: list[dict] = []
    while True:
        page = await get_json(f"{agency_url}/events?since={since}&limit=10000")
        events += page["events"]
        if page["next"] == since:
            return events
        since = page["next"]


_REQUESTS = re.compile(r'^motcua_http_requests_total\{method="(\w+)",route="([^"]*)",status="(\d+)"\} ([\d.e+]+)$')


async def route_counts(url: str) -> Counter[str]:
    """Requests a service has answered so far, by ``METHOD route`` (its Prometheus /metrics)."""
    counts: Counter[str] = Counter()
    for line in (await get(url + "/metrics")).decode().splitlines():
        if match := _REQUESTS.match(line):
            counts[f"{match[1]} {match[2]}"] += int(float(match[4]))
    return counts


class GatewayMeter:
    """The gateway's CPU time, requests by route and group commits between two moments (and the CPU time of
    the other services, and of the processes in `others`)."""

    def __init__(self, stack: MockStack, others: dict[str, int]) -> None:
        self.stack = stack
        self.pids = {**{name: stack.pid(name) for name in ("gateway", "bank", "agency")}, **others}

    async def snapshot(self) -> dict:
        db = (await get_json(self.stack.url("gateway") + "/stats"))["db"]
        return {
            "cpu": {name: cpu_seconds(pid) for name, pid in self.pids.items() if pid},
            "routes": await route_counts(self.stack.url("gateway")),
            "commits": db["commits"], "units": db["units"],
        }  # fmt: skip

    @staticmethod
    def delta(before: dict, after: dict) -> dict:
        return {
            "cpu": {name: after["cpu"][name] - before["cpu"][name] for name in after["cpu"]},
            "routes": after["routes"] - before["routes"],
            "commits": after["commits"] - before["commits"], "units": after["units"] - before["units"],
        }  # fmt: skip


# ---------------------------------------------------------------------------- one front, measured


async def measure(stack: MockStack, urls: Urls, front: Front, args: argparse.Namespace, *, spy_out: Path,
                  merchant_pid: int, open_rate: float | None) -> dict:
    """One front's figures on a fresh stack: closed loop, the gateway's meters, py-spy, then an open loop at
    `open_rate` payments/s (None: half this front's closed-loop rate) for the IPN latency and the gateway's
    CPU per payment at that rate."""
    meter = GatewayMeter(stack, {"merchant": merchant_pid})
    await closed_loop(front.pay, urls, args.concurrency, min(2.0, args.duration))  # warm-up: connections, caches
    await asyncio.sleep(1.0)
    since = await front.position(urls)
    before = await meter.snapshot()
    start, end, approved = await closed_loop(front.pay, urls, args.concurrency, args.duration)
    await asyncio.sleep(1.0)  # let the IPNs of the last charges arrive
    used = meter.delta(before, await meter.snapshot())
    completed = await front.completions(urls, since)
    done = len([acked for _, acked in completed if start <= acked <= end])
    paid = max(len(completed), 1)
    figures = {
        "payments_per_s": done / (end - start),
        "approved_in_window": approved,
        "gateway_cpu_share": used["cpu"]["gateway"] / (end - start + 1.0),
        "gateway_cpu_ms_per_payment": 1000 * used["cpu"]["gateway"] / paid,
        "load_cpu_ms_per_payment": {name: 1000 * used["cpu"][name] / paid for name in ("agency", "merchant", "bank")},
        "requests_per_payment": {route: n / paid for route, n in sorted(used["routes"].items())},
        "requests_per_s": sum(used["routes"].values()) / (end - start),
        "commits_per_payment": used["commits"] / paid,
        "units_per_commit": used["units"] / max(used["commits"], 1),
    }
    figures["profile"] = await profile(stack, urls, front.pay, args, spy_out) if args.profile else \
        "not asked (--no-profile)"

    since = await front.position(urls)
    before = await meter.snapshot()
    figures["open_rate_per_s"] = open_rate or figures["payments_per_s"] / 2
    client = HttpClient(timeout_s=30, max_idle_per_host=args.concurrency * 4)
    figures["open_rate_dropped"] = await open_loop(lambda: front.pay(client, urls), figures["open_rate_per_s"],
                                                   args.duration, max_in_flight=args.concurrency * 4)
    client.close()
    await asyncio.sleep(1.0)
    used = meter.delta(before, await meter.snapshot())
    latencies = [(acked - approved) * 1000 for approved, acked in await front.completions(urls, since)]
    figures["open_rate_gateway_cpu_ms_per_payment"] = 1000 * used["cpu"]["gateway"] / max(len(latencies), 1)
    figures["ipn_count"] = len(latencies)
    for q in (50, 95, 99):
        figures[f"ipn_p{q}_ms"] = round(float(np.percentile(latencies, q)), 2) if latencies else float("nan")
    return figures


async def profile(stack: MockStack, urls: Urls, pay: Pay, args: argparse.Namespace, out: Path) -> object:
    """A second closed loop under py-spy (raw stacks into `out`): samples of the gateway by phase and by kind
    (or why there are none)."""
    spy = gateway_profile.record(stack.pid("gateway"), args.duration, out)  # type: ignore[arg-type]
    if spy is not None:
        await asyncio.sleep(0.3)  # py-spy attaches
        await closed_loop(pay, urls, args.concurrency, args.duration)
    return await asyncio.get_running_loop().run_in_executor(None, gateway_profile.finish, spy, out)


async def measure_trivial(args: argparse.Namespace, matched: dict[str, float] | None = None) -> dict:
    """The trivial server's rate and CPU per POST when saturated; with `matched` ({front: requests/s}), also
    its CPU per POST at each of those rates (the load the gateway saw), open loop."""
    server, url = start_trivial(SERVER_CPU)

    async def cpu_ms_per_post(rate: float | None) -> tuple[float, float]:
        cpu, start = cpu_seconds(server.pid), time.time()
        count = await trivial_posts(url, args.concurrency, args.duration, rate)
        return count / (time.time() - start), 1000 * (cpu_seconds(server.pid) - cpu) / max(count, 1)

    try:
        await trivial_posts(url, args.concurrency, min(1.0, args.duration))  # warm-up
        rate, cpu_ms = await cpu_ms_per_post(None)
        at_load = {name: (await cpu_ms_per_post(r))[1] for name, r in (matched or {}).items()}
    finally:
        stop(server)
    return {"trivial_post_per_s": rate, "trivial_cpu_ms_per_post": cpu_ms, "at_load": at_load}


# ---------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of each measured phase (default 5)")
    parser.add_argument("--concurrency", type=int, default=128, help="citizens / connections at once (default 128)")
    parser.add_argument("--front", choices=sorted(FRONTS), action="append",
                        help="measure only this front (repeatable; default: every front)")
    parser.add_argument("--profile-out", type=Path, metavar="DIR",
                        help="keep py-spy's raw stacks (collapsed) there, one gateway-profile-FRONT.txt per front")
    parser.add_argument("--no-profile", dest="profile", action="store_false",
                        help="skip the py-spy phase (and its breakdown)")
    args = parser.parse_args()
    if not two_cpus():
        sys.exit("bench_payments needs two CPUs: the gateway on one, the load on the other")
    import uvloop

    os.sched_setaffinity(0, {LOAD_CPU})
    by_front: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-payments-") as tmp, \
            asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner, \
            merchant(LOAD_CPU) as (merchant_url, merchant_pid):  # the VNPay front's IPN receiver, every setup
        spy_dir = args.profile_out or Path(tmp)
        spy_dir.mkdir(parents=True, exist_ok=True)
        terminals = write_terminals(Path(tmp) / "terminals.toml", merchant_url)
        baseline = runner.run(measure_trivial(args))
        open_rate = None  # every front's open loop at the rate of the first one's: the gateway at the same load
        for name in args.front or FRONTS:
            config = StackConfig(
                data_dir=Path(tmp) / name, time_scale=0.001, admin_token=None, terminals_file=terminals,
                extra_args={"bank": ["--latency-scale", "0"]},
                cpu_affinity={"gateway": frozenset({SERVER_CPU}), "bank": frozenset({LOAD_CPU}),
                              "agency": frozenset({LOAD_CPU})},
            )  # fmt: skip
            with MockStack(config) as stack:
                urls = {**stack.urls, "merchant": merchant_url}
                by_front[name] = runner.run(measure(stack, urls, FRONTS[name], args, merchant_pid=merchant_pid,
                                                    spy_out=spy_dir / f"gateway-profile-{name}.txt",
                                                    open_rate=open_rate))
                open_rate = by_front[name]["open_rate_per_s"]
        # The baseline once more after the payments (the cost ratio uses the cheaper of the two measurements),
        # and at each front's request rate, to tell the cost of the work from the cost of the load level.
        again = runner.run(measure_trivial(args, {name: f["requests_per_s"] for name, f in by_front.items()}))
    if again["trivial_cpu_ms_per_post"] < baseline["trivial_cpu_ms_per_post"]:
        baseline = {**again, "at_load": again["at_load"]}
    baseline["at_load"] = again["at_load"]
    report(by_front, baseline)


def report(by_front: dict[str, dict], baseline: dict) -> None:
    trivial_ms = baseline["trivial_cpu_ms_per_post"]
    print(f"gateway on CPU {SERVER_CPU}; bank, agency, merchant and this load generator on CPU {LOAD_CPU}. The "
          "machine may be shared: trust the CPU-time figures (cost in trivial POSTs), not the rates.")
    print(f"trivial JSON POST (same plumbing, CPU {SERVER_CPU}): {baseline['trivial_post_per_s']:,.0f}/s, "
          f"{trivial_ms:.4f} ms of server CPU each (baseline)")
    summary: dict[str, dict] = {}
    for name, f in by_front.items():
        cost = f["gateway_cpu_ms_per_payment"] / trivial_ms
        per_core = 1000.0 / f["gateway_cpu_ms_per_payment"]
        print(f"\n== front {name!r}")
        rate_ratio = f["payments_per_s"] / baseline["trivial_post_per_s"]
        print(f"complete payments/s: {f['payments_per_s']:,.0f} (ratio to the trivial POST rate {rate_ratio:.3f}); "
              f"gateway CPU busy {f['gateway_cpu_share']:.0%}")
        print(f"gateway CPU per complete payment: {f['gateway_cpu_ms_per_payment']:.4f} ms = {cost:.2f} trivial POSTs "
              f"(target ≤ {TARGET_TRIVIAL_POSTS:g}: {'met' if cost <= TARGET_TRIVIAL_POSTS else 'NOT met'}) "
              f"→ {per_core:,.0f} payments/s per gateway core (target ≥ {TARGET_PER_CORE:,.0f})")
        load = ", ".join(f"{who} {ms:.3f} ms" for who, ms in f["load_cpu_ms_per_payment"].items())
        print(f"CPU per payment on CPU {LOAD_CPU}: {load} (plus this load generator)")
        routes = ", ".join(f"{route} {n:.2f}" for route, n in f["requests_per_payment"].items() if n >= 0.005)
        print(f"gateway requests per payment: {routes}")
        at_load = baseline["at_load"][name]
        print(f"at the gateway's own load ({f['requests_per_s']:,.0f} requests/s, {f['gateway_cpu_share']:.0%} busy) "
              f"a trivial POST costs {at_load:.4f} ms, {at_load / trivial_ms:.2f}× its saturated cost: the payment "
              f"is {f['gateway_cpu_ms_per_payment'] / at_load:.2f} trivial POSTs at the same load")
        print(f"group commits per payment: {f['commits_per_payment']:.2f} ({f['units_per_commit']:.1f} writes each)")
        if isinstance(f["profile"], tuple):
            phases, kinds = f["profile"]
            print("gateway CPU per payment by phase (py-spy samples of a second closed loop):")
            print("\n".join(gateway_profile.table(phases, f["gateway_cpu_ms_per_payment"], trivial_ms, "phase")))
            print("… and by kind of work:")
            print("\n".join(gateway_profile.table(kinds, f["gateway_cpu_ms_per_payment"], trivial_ms, "kind")))
        else:
            print(f"no CPU breakdown: {f['profile']}")
        open_core = 1000.0 / f["open_rate_gateway_cpu_ms_per_payment"]
        print(f"open loop at {f['open_rate_per_s']:,.0f} payments/s (half the first front's closed-loop rate; every "
              f"front at this rate; n={f['ipn_count']}, dropped {f['open_rate_dropped']}): gateway CPU per payment "
              f"{f['open_rate_gateway_cpu_ms_per_payment']:.4f} ms → {open_core:,.0f} payments/s per gateway core; "
              f"IPN latency p50 {f['ipn_p50_ms']} ms, p95 {f['ipn_p95_ms']} ms, p99 {f['ipn_p99_ms']} ms")
        summary[name] = {
            "payments_per_s": round(f["payments_per_s"], 1),
            "ratio": round(rate_ratio, 4),
            "gateway_cpu_share": round(f["gateway_cpu_share"], 3),
            "gateway_cpu_ms_per_payment": round(f["gateway_cpu_ms_per_payment"], 4),
            "payments_per_gateway_core": round(per_core, 1),
            "payment_cost_in_trivial_posts": round(cost, 2),
            "payment_cost_in_trivial_posts_at_same_load": round(f["gateway_cpu_ms_per_payment"] / at_load, 2),
            "open_rate_per_s": round(f["open_rate_per_s"], 1),
            "payments_per_gateway_core_at_open_rate": round(open_core, 1),
            "ipn_p50_ms": f["ipn_p50_ms"], "ipn_p95_ms": f["ipn_p95_ms"], "ipn_p99_ms": f["ipn_p99_ms"],
        }  # fmt: skip
    first = summary.get("json") or next(iter(summary.values()))
    print(json.dumps({**first, "trivial_post_per_s": round(baseline["trivial_post_per_s"], 1),
                      "trivial_cpu_ms_per_post": round(trivial_ms, 5), **vnpay_to_json(summary),
                      "fronts": summary}))


def vnpay_to_json(summary: dict[str, dict]) -> dict[str, object]:
    """Print the VNPay front against the JSON API (same run) and return the figures (none without both)."""
    if not {"vnpay", "json"} <= summary.keys():
        return {}
    vnpay, api = summary["vnpay"], summary["json"]
    figures: dict[str, object] = {}
    print("\nVNPay front / JSON API, complete payments per gateway core (target ≥ "
          f"{TARGET_VNPAY_RATIO:g}: within 15%):")
    for key, where, suffix in (("payments_per_gateway_core", "closed loop, each front at its own rate", ""),
                               ("payments_per_gateway_core_at_open_rate", "open loop, both at the same rate",
                                "_same_rate")):
        ratio = vnpay[key] / api[key]
        met = ratio >= TARGET_VNPAY_RATIO
        print(f"  {where}: {vnpay[key]:,.0f} / {api[key]:,.0f} = {ratio:.3f} ({'met' if met else 'NOT met'})")
        figures |= {f"vnpay_to_json_per_core{suffix}": round(ratio, 4), f"vnpay_within_15pct{suffix}": met}
    rate_ratio = vnpay["payments_per_s"] / api["payments_per_s"] if api["payments_per_s"] else float("nan")
    print(f"  complete payments/s in the closed loop (bound by CPU {LOAD_CPU}): {rate_ratio:.3f}")
    return {**figures, "vnpay_to_json_rate": round(rate_ratio, 4)}


if __name__ == "__main__":
    main()
