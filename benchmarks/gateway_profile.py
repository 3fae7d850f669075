"""Where the gateway's CPU goes: a py-spy profile of the running process, split by phase and by kind of work.

The gateway benchmarks record the gateway process with ``py-spy record --nonblocking`` (sampling from
outside; the process is not paused) during a closed loop of their own, then multiply each share of the
samples by the CPU time per payment they measured without the profiler. Each sample is put in ONE
phase (which request or background job it serves, judged by the outermost frame that names one)
and ONE kind of work (judged by the innermost frame that names one). py-spy needs ptrace rights
(root, or ``kernel.yama.ptrace_scope`` 0); without them the benchmark says so and prints no breakdown.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

PHASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("POST /payments (agency creates)", ("Gateway.create_payment",)),
    ("POST /payments/{id}/checkout", ("Gateway.checkout",)),
    ("GET vpcpay.html (VNPay creates)", ("VnpayFront.pay",)),
    ("POST /paymentv2/pay/{id} (VNPay checkout)", ("VnpayFront.choose",)),
    ("POST /bank-notifications", ("Gateway.bank_notification", "Gateway._apply_bank_result")),
    ("GET /payments/{id} (querydr)", ("Gateway.query_payment",)),
    ("IPN delivery (outbound POST)", ("Gateway._deliver_ipn", "Gateway._post_ipn", "DelayQueue.", "fastclient")),
    ("expiry sweep, bank inquiry", ("Gateway.sweep_once", "Gateway._settle_by_inquiry", "Gateway._sweep_forever")),
    ("other gateway routes", ("Gateway.",)),
    ("group COMMIT (db.py)", ("Database._flush",)),
    ("WAL checkpoint thread", ("Database._checkpoint_forever",)),
    ("HTTP server plumbing (aiohttp, middleware)", ("aiohttp/", "_service_middleware", "_Metrics.", "json_response")),
)
"""Phase of a sample: the first phase (in this order) one of whose markers appears in any frame."""
LOOP_PHASE = "event loop, sockets (uvloop, native)"
LOOP_FRAMES = ("Runner.run ", "BaseEventLoop.run_until_complete ", "BaseEventLoop.run_forever ")
"""Frames whose own time is the event loop's C code (uvloop: epoll, socket reads and writes, callbacks)."""

KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("HMAC signatures", ("signing.py", "hmac.py", "charge_token.py")),
    ("VNPay query text (sort, form-encode, parse)", ("vnpay_wire.py", "urllib/parse.py")),
    ("JSON encode/decode", ("json/",)),
    ("SQLite statements and commits", ("gateway/ledger.py", "common/db.py", "sqlite3/")),
    ("Prometheus metrics", ("prometheus_client/",)),
    ("HTTP client (fastclient)", ("fastclient.py",)),
    ("aiohttp server (parse, route, respond)", ("aiohttp/", "multidict/", "yarl/")),
    ("asyncio tasks, futures, timers", ("asyncio/",)),
)
"""Kind of a sample: the kind of the innermost frame that names one; Python elsewhere is "handlers, other"."""
OTHER_KIND = "handlers and other Python code"


def py_spy() -> str | None:
    """The py-spy executable beside this interpreter, or on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def record(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    """Start sampling `pid` for `seconds` into `out` (raw collapsed stacks); None without py-spy."""
    exe = py_spy()
    if exe is None:
        return None
    argv = [exe, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))), "--rate", "250",
            "--format", "raw", "--nonblocking", "--output", str(out)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen[bytes] | None, out: Path) -> tuple[Counter[str], Counter[str]] | str:
    """Wait for the recording; (samples by phase, samples by kind), or why there is no profile."""
    if proc is None:
        return "py-spy is not installed (pip install py-spy; it is in the dev extra)"
    _, err = proc.communicate(timeout=60)
    if proc.returncode != 0 or not out.exists():
        return f"py-spy failed ({err.decode(errors='replace').strip()[-200:]}); it needs ptrace rights (root)"
    return classify(out.read_text().splitlines())


def classify(lines: list[str]) -> tuple[Counter[str], Counter[str]]:
    """Count the samples of raw collapsed stacks (``frame;frame;… count``) by phase and by kind."""
    phases: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        phases[_phase(frames)] += int(count)
        kinds[_kind(frames)] += int(count)
    return phases, kinds


def _phase(frames: list[str]) -> str:
    for name, markers in PHASES:
        if any(marker in frame for frame in frames for marker in markers):
            return name
    return LOOP_PHASE


def _kind(frames: list[str]) -> str:
    if frames[-1].startswith(LOOP_FRAMES):
        return LOOP_PHASE
    for frame in reversed(frames):
        for name, markers in KINDS:
            if any(marker in frame for marker in markers):
                return name
        if "mock_services/" in frame:
            return OTHER_KIND
    return OTHER_KIND


def table(samples: Counter[str], cpu_ms_per_payment: float, trivial_ms: float, title: str) -> list[str]:
    """Lines of one breakdown: share of samples, ms of gateway CPU per payment, in trivial POSTs."""
    total = sum(samples.values()) or 1
    lines = [f"  {title:<44} {'share':>6} {'ms/payment':>11} {'trivial POSTs':>14}"]
    for name, n in samples.most_common():
        ms = cpu_ms_per_payment * n / total
        lines.append(f"  {name:<44} {n / total:>6.1%} {ms:>11.4f} {ms / trivial_ms:>14.2f}")
    lines.append(f"  {'total (' + str(total) + ' samples)':<44} {1:>6.0%} {cpu_ms_per_payment:>11.4f} "
                 f"{cpu_ms_per_payment / trivial_ms:>14.2f}")
    return lines
