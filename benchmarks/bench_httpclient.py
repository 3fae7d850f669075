"""The services' own HTTP client (`mock_services.common.fastclient.HttpClient`) against aiohttp's ClientSession.

Both clients POST the same small JSON body to the same loopback server, `concurrency` keep-alive
requests at a time, back to back, in alternating rounds of one run (the best round of each counts, so a
noisy neighbour hurts both alike). The server is a minimal canned-answer HTTP/1.1 server (llhttp
request parsing, uvloop) pinned to CPU 0, cheap enough that the client, pinned to CPU 1 with this
process, is what limits the rate. Figures: requests/s (wall clock) and the client's CPU time per
request (this process's own CPU, robust to a shared machine), and their ratios. The reason the
project keeps its own client instead of aiohttp's is the CPU ratio: if aiohttp's client were as cheap,
the services would use it. The last line is JSON.

    .venv/bin/python benchmarks/bench_httpclient.py [--seconds S] [--concurrency N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, beside this folder

from benchlib import LOAD_CPU, TRIVIAL_BODY, pin, start_service, stop
from motcua.mock_services.common.fastclient import HttpClient

ANSWER_BODY = b'{"ok":true}'
ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(ANSWER_BODY)
          + ANSWER_BODY)
HEADERS = {"Content-Type": "application/json"}


# ---------------------------------------------------------------------------- the server


class _CannedServer(asyncio.Protocol):
    """Answers every complete request on the connection with the same small JSON (llhttp frames requests)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        import httptools

        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        self.transport.write(ANSWER)  # type: ignore[attr-defined]


def serve() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_CannedServer, "127.0.0.1", 0, backlog=2048)
        port = server.sockets[0].getsockname()[1]
        print(json.dumps({"url": f"http://127.0.0.1:{port}"}), flush=True)
        await server.serve_forever()

    uvloop.run(main())


# ---------------------------------------------------------------------------- the two clients


async def closed_loop(post: Callable[[], Awaitable[int]], concurrency: int, seconds: float) -> tuple[float, float]:
    """`concurrency` workers posting back to back; returns (requests/s, client CPU µs per request)."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            if await post() != 200:
                raise RuntimeError("the canned server answered something else than 200")
            done += 1

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return done / wall, 1e6 * cpu / max(done, 1)


async def ours(url: str, concurrency: int, seconds: float) -> tuple[float, float]:
    client = HttpClient(timeout_s=30, max_idle_per_host=concurrency)

    async def post() -> int:
        status, _ = await client.post(url, TRIVIAL_BODY, HEADERS)
        return status

    try:
        return await closed_loop(post, concurrency, seconds)
    finally:
        client.close()


async def theirs(url: str, concurrency: int, seconds: float) -> tuple[float, float]:
    connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=30)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post() -> int:
            async with session.post(url, data=TRIVIAL_BODY, headers=HEADERS) as resp:
                await resp.read()
                return resp.status

        return await closed_loop(post, concurrency, seconds)


CLIENTS = {"ours": ours, "aiohttp": theirs}


async def measure(url: str, args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    best: dict[str, tuple[float, float]] = {}
    for run in CLIENTS.values():  # warm-up: connections, code paths
        await run(url, args.concurrency, min(1.0, args.seconds / 4))
    for _ in range(args.rounds):
        for name, run in CLIENTS.items():
            rate, cpu_us = await run(url, args.concurrency, args.seconds)
            if name not in best or cpu_us < best[name][1]:
                best[name] = (rate, cpu_us)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each measured round (s)")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of both clients; the best counts")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    server, base = start_service([sys.executable, __file__, "--serve"])
    pin(LOAD_CPU)
    try:
        best = uvloop.run(measure(base + "/echo", args))
    finally:
        stop(server)
    (our_rate, our_cpu), (their_rate, their_cpu) = best["ours"], best["aiohttp"]
    print(f"same loopback server (canned answers, CPU 0), clients on CPU 1, {args.concurrency} in flight; "
          f"the machine may be shared: trust the CPU figures")
    print(f"fastclient.HttpClient (httptools):  {our_rate:>9,.0f} req/s  {our_cpu:6.1f} µs client CPU per request")
    print(f"aiohttp.ClientSession:              {their_rate:>9,.0f} req/s  {their_cpu:6.1f} µs client CPU per request")
    print(f"ours / aiohttp: {our_rate / their_rate:.2f}× the requests/s, {their_cpu / our_cpu:.2f}× less CPU "
          f"per request → {'keep our client' if our_cpu < their_cpu else 'switch to aiohttp'}")
    print(json.dumps({
        "ours_req_per_s": round(our_rate, 1), "aiohttp_req_per_s": round(their_rate, 1),
        "ours_cpu_us_per_req": round(our_cpu, 2), "aiohttp_cpu_us_per_req": round(their_cpu, 2),
        "rate_ratio": round(our_rate / their_rate, 3), "cpu_ratio": round(their_cpu / our_cpu, 3),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
