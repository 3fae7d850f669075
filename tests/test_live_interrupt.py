"""Ctrl-C during ``motcua loadtest``: Locust and the mocks stopped, the partial run kept and marked, exit 130.

The signal goes where a terminal sends it: to the foreground process group of ``motcua`` (here the session
the test starts it in). Locust and the mocks run in their own process groups, so only ``motcua`` gets it
and stops them itself, as it does in a terminal.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _port_closed(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, int(port))) != 0


@pytest.mark.parametrize("workers", [0, 2])
def test_ctrl_c_keeps_the_partial_run_marked_and_exits_130(tmp_path, workers):
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "motcua.cli", "loadtest", "peak-day", "--duration", "60s", "--rate", "10",
            "--time-scale", "0.01", "--workers", str(workers), "--out", str(out)]
    log_path = tmp_path / "console.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True)
        try:
            started = time.monotonic()
            while "arrivals" not in log_path.read_text(errors="replace"):  # the first live status line
                time.sleep(0.2)
                assert proc.poll() is None, log_path.read_text(errors="replace")
                assert time.monotonic() - started < 60, "no status line within 60 s"
            time.sleep(8)
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the foreground process group
            code = proc.wait(timeout=90)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    console = log_path.read_text(errors="replace")
    assert code == 130, console
    assert "INTERRUPTED" in console
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True
    assert 5 < summary["partial"]["ran_s"] < 40 and summary["partial"]["profile_s"] == 60
    assert summary["arrivals"]["started"] > 0 and summary["throughput"]["rate_window_s"] == 60
    assert (out / "harness.json").exists() and (out / "locust" / "stats_stats.csv").exists()
    urls = dict(re.findall(r"(gateway|bank|agency) (http://127\.0\.0\.1:\d+)", console))
    assert set(urls) == {"gateway", "bank", "agency"}, console
    assert all(_port_closed(url) for url in urls.values()), urls
    leftover = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split()
    assert leftover == [], f"processes still running for the run: {leftover}"
