"""The open-model engine against a server of our own that stalls: no coordinated omission.

A tiny aiohttp server (in a thread of the test) answers ``GET /`` at once, except that after its 40th
request it holds every request for 2 s. A real Locust process runs the harness's trivial journey at 40
deterministic arrivals per second. Then plain Locust (2 closed-loop users) meets the same stall.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time

import pytest
from aiohttp import web

from mock_services.supervisor import free_port
from motcua.runs import PROJECT_ROOT

LOCUSTFILE = PROJECT_ROOT / "locustfiles" / "locustfile.py"
STALL_AFTER, STALL_S = 40, 2.0


class StallingServer:
    """Answers GET / immediately, except for a 2-second window that opens at the 40th request."""

    def __init__(self) -> None:
        self.port = free_port()
        self.served = 0
        self.arrivals: list[float] = []
        self.stall_from: float | None = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.ready = threading.Event()

    async def root(self, request: web.Request) -> web.Response:
        self.served += 1
        now = time.time()
        self.arrivals.append(now)
        if self.stall_from is None and self.served >= STALL_AFTER:
            self.stall_from = now
        if self.stall_from is not None and now < self.stall_from + STALL_S:
            await asyncio.sleep(self.stall_from + STALL_S - now)
        return web.json_response({"ok": True})

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_get("/", self.root)
        runner = web.AppRunner(app)
        self.loop.run_until_complete(runner.setup())
        self.loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self.ready.set()
        self.loop.run_forever()

    def __enter__(self) -> StallingServer:
        self.thread.start()
        self.ready.wait(5)
        return self

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def run_locust(url: str, out, extra: list[str]) -> None:
    argv = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        url,
        "--csv",
        str(out / "stats"),
        "--loglevel",
        "WARNING",
        *extra,
    ]
    subprocess.run(argv, cwd=PROJECT_ROOT, check=False, capture_output=True, timeout=90)


@pytest.mark.slow
def test_open_model_keeps_arriving_through_a_stall_and_times_from_the_intended_start(tmp_path):
    with StallingServer() as server:
        run_locust(
            f"http://127.0.0.1:{server.port}",
            tmp_path,
            [
                "-u",
                "1",
                "-r",
                "1",
                "--run-time",
                "60s",
                "--motcua-journey",
                "trivial",
                "--motcua-rate",
                "40",
                "--motcua-duration",
                "5",
                "--motcua-arrivals",
                "deterministic",
                "--motcua-out",
                str(tmp_path),
                "OpenArrivals",
            ],
        )
        stall_from = server.stall_from
        reached = sum(1 for t in server.arrivals if stall_from < t < stall_from + STALL_S)
    assert stall_from is not None
    assert reached >= 0.9 * 40 * STALL_S  # the requests really reached the server during the stall
    harness = json.loads((tmp_path / "harness.json").read_text())
    started = [t for t, _lag in harness["arrivals"]]
    during = sum(1 for t in started if stall_from <= t < stall_from + STALL_S)
    assert during >= 0.9 * 40 * STALL_S  # arrivals did not wait for the stalled server
    stalled = [(t, ms) for _name, t, ms, _ok in harness["journeys"] if stall_from + 0.05 <= t < stall_from + 1.9]
    assert len(stalled) >= 60
    for intended, ms in stalled:
        # each journey took (at least) until the stall ended, counted from when it was meant to start
        assert ms >= (stall_from + STALL_S - intended) * 1000 - 30


@pytest.mark.slow
def test_plain_closed_users_stop_arriving_during_the_same_stall(tmp_path):
    with StallingServer() as server:
        run_locust(f"http://127.0.0.1:{server.port}", tmp_path, ["-u", "2", "-r", "2", "--run-time", "4s", "PlainUser"])
        stall_from = server.stall_from
        reached = sum(1 for t in server.arrivals if stall_from < t < stall_from + STALL_S)
    assert stall_from is not None
    # 2 closed-loop users each wait for their answer: at most one more request reaches the server during the
    # stall, where the open model sent ~80 — coordinated omission, which the harness avoids
    assert reached <= 2
