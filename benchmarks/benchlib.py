"""What the service benchmarks share: pinned server processes, their CPU time, the trivial baseline server.

Not a benchmark itself (``make bench`` runs ``bench_*.py`` only). The benchmarks import it as a sibling
module (their folder is on ``sys.path`` when run as scripts).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER_CPU, LOAD_CPU = 0, 1
"""On a 2-core machine the server under test runs on CPU 0, its load (and the other services) on CPU 1."""

TRIVIAL_APP = """
from motcua.mock_services.common.http import create_app, json_response, read_json, run_service
app = create_app("gateway", openapi={"openapi": "3.1.0", "info": {"title": "trivial", "version": "0"}, "paths": {}})
async def echo(request):
    body = await read_json(request)
    return json_response({"ok": True, "dossier_code": body.get("dossier_code")})
app.router.add_post("/echo", echo)
run_service(app, port=0)
"""
"""The baseline: one JSON POST handler on the services' own plumbing (`create_app`: same middlewares, uvloop).
Named "gateway" because it stands in for the gateway's plumbing (the fault table knows three services)."""

TRIVIAL_BODY = b'{"dossier_code":"000.00.20.H37-240610-0001","amount_vnd":200000}'


def two_cpus() -> bool:
    """True where the server and its load can each have a CPU of their own."""
    return hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2 and (os.cpu_count() or 1) >= 2


def pin(cpu: int) -> None:
    """Pin the calling process to `cpu` (where there are two CPUs to pin to)."""
    if two_cpus():
        os.sched_setaffinity(0, {cpu})


def start_service(argv: list[str], cpu: int = SERVER_CPU) -> tuple[subprocess.Popen[str], str]:
    """Start a server that prints one JSON line ``{"url": …}`` when listening, pinned to `cpu`."""
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
        preexec_fn=lambda: pin(cpu), env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    line = proc.stdout.readline()  # type: ignore[union-attr]
    if not line:
        proc.kill()
        raise RuntimeError(f"{' '.join(argv[:3])} … did not start")
    return proc, json.loads(line)["url"]


def start_trivial(cpu: int = SERVER_CPU) -> tuple[subprocess.Popen[str], str]:
    """The trivial JSON POST server (``POST /echo``) on the services' plumbing, pinned to `cpu`."""
    return start_service([sys.executable, "-c", TRIVIAL_APP], cpu)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
