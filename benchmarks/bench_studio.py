"""motcua studio: how fast its pages render, how soon a comparison shows progress, and what the studio adds to it.

Starts ``motcua studio --no-browser`` as a process on a free port with a fresh workspace, then:

1. page render time: the median of 10 GETs of the scenarios page, the editor of a copy of ``lang-son-2024``, the
   run list and the results page of a comparison (target: ≤ 300 ms each);
2. a comparison of 2 scenarios × 20 replications (``lang-son-2024`` and the copy with QR at the counter from July;
   ``--quick`` horizon unless ``--full``) started from the page: time from the POST to the first progress the page
   can show (the replication pool started, ``0/40``; target ≤ 2 s) and to the first finished replication;
3. its cost against the same ``motcua compare`` from the command line in the same run, studio ÷ command line
   (target ≤ 1.1): by CPU time (the command with its worker processes; the studio server with the job it ran and
   reaped — what the machine paid, whatever else it was doing) and by wall time (which a shared machine's load
   swings). The command line runs first, into its own results folder, so the studio does not offer its run instead
   of redoing it.

Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def start_studio(folder: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "motcua.cli", "studio", "--no-browser", "--workspace",
                             str(folder / "ws"), "--results", str(folder / "results")], cwd=folder,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()  # type: ignore[union-attr]
    found = re.search(r"(http://\S+)", line)
    if not found:
        proc.kill()
        raise RuntimeError(f"motcua studio did not print its address: {line!r}")
    return proc, found.group(1).rstrip("/")


def process_cpu_s(pid: int) -> float:
    """CPU seconds of process `pid` and of the children it has reaped (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median_ms(http: requests.Session, url: str, rounds: int = 10) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = http.get(url, timeout=60)
        response.raise_for_status()
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--full", action="store_true", help="the scenario's whole horizon (default: --quick)")
    args = parser.parse_args()
    quick = [] if args.full else ["--quick"]

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        proc, url = start_studio(folder)
        try:
            http = requests.Session()
            csrf = CSRF.search(http.get(url + "/scenarios", timeout=60).text).group(1)  # type: ignore[union-attr]
            http.post(url + "/scenarios/new", data={"csrf": csrf, "source": "lang-son-2024", "name": "ls-qr"},
                      timeout=60).raise_for_status()
            http.post(url + "/scenarios/ls-qr/edit", data={"csrf": csrf, "action": "add_intervention",
                                                           "new_kind": "qr_at_counter"}, timeout=60).raise_for_status()
            http.post(url + "/scenarios/ls-qr/edit", data={"csrf": csrf, "action": "save",
                                                           "interventions[3].start": "2024-07-01"},
                      timeout=60).raise_for_status()
            variant = folder / "ws" / "ls-qr.toml"

            # the command line first, into its own results folder
            cli = [sys.executable, "-m", "motcua.cli", "compare", "lang-son-2024", str(variant), "--replications",
                   str(args.replications), "--results-root", str(folder / "cli-results"), "--quiet", *quick]
            started, cpu_before = time.perf_counter(), children_cpu_s()
            subprocess.run(cli, check=True, capture_output=True, cwd=folder)
            cli_wall, cli_cpu = time.perf_counter() - started, children_cpu_s() - cpu_before

            form = {"csrf": csrf, "scenario": ["lang-son-2024", "ls-qr"], "baseline": "lang-son-2024",
                    "replications": str(args.replications)}
            if quick:
                form["quick"] = "1"
            started, cpu_before = time.perf_counter(), process_cpu_s(proc.pid)
            response = http.post(url + "/jobs", data=form, timeout=60)
            job = response.url.rstrip("/").rsplit("/", 1)[1]
            first_progress = first_done = None
            while True:
                status = http.get(f"{url}/jobs/{job}/status", timeout=60).json()
                now = time.perf_counter() - started
                if first_progress is None and status["total"]:
                    first_progress = now
                if first_done is None and status["done"]:
                    first_done = now
                if status["state"] not in ("queued", "running"):
                    break
                # closely until the first finished replication, then at the page's own pace (studio.js: 0.7 s),
                # so the benchmark's polling does not count as the studio's cost
                time.sleep(0.05 if first_done is None else 0.7)
            studio_wall = time.perf_counter() - started
            time.sleep(0.5)  # the job's process is reaped by the server: its CPU is then counted
            studio_cpu = process_cpu_s(proc.pid) - cpu_before
            if status["state"] != "done":
                raise RuntimeError(f"the studio's comparison ended {status['state']}: {status['message']}")
            results = status["results_url"]

            pages = {"scenarios": "/scenarios", "editor": "/scenarios/ls-qr/edit", "runs": "/runs",
                     "comparison": results}
            page_ms = {name: round(median_ms(http, url + path), 1) for name, path in pages.items()}
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    ratio, cpu_ratio = studio_wall / cli_wall, studio_cpu / cli_cpu
    tasks = 2 * args.replications
    horizon = "whole horizon" if args.full else "--quick"
    print(f"page render, median of 10: {', '.join(f'{k} {v:.0f} ms' for k, v in page_ms.items())} "
          f"(target ≤ 300 ms: {'met' if max(page_ms.values()) <= 300 else 'MISSED'})")
    print(f"comparison 2 × {args.replications} ({horizon}): first progress {first_progress:.2f} s after the POST "
          f"(0/{tasks}; target ≤ 2 s), first finished replication {first_done:.1f} s")
    print(f"studio {studio_cpu:.1f} s CPU vs `motcua compare` {cli_cpu:.1f} s CPU: ratio {cpu_ratio:.3f} "
          f"(target ≤ 1.1); wall {studio_wall:.1f} s vs {cli_wall:.1f} s: ratio {ratio:.3f} "
          f"(load {os.getloadavg()[0]:.1f})")
    print(json.dumps({"page_ms": page_ms, "page_ms_max": max(page_ms.values()), "replications": args.replications,
                      "quick": not args.full, "first_progress_s": round(first_progress or -1, 2),
                      "first_replication_s": round(first_done or -1, 2), "studio_wall_s": round(studio_wall, 2),
                      "cli_wall_s": round(cli_wall, 2), "studio_vs_cli_wall": round(ratio, 3),
                      "studio_cpu_s": round(studio_cpu, 2), "cli_cpu_s": round(cli_cpu, 2),
                      "studio_vs_cli_cpu": round(cpu_ratio, 3)}))


if __name__ == "__main__":
    main()
