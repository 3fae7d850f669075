"""Time of `motcua sensitivity SCENARIO --quick`, against one quick replication of the coupled model.

The command: ``motcua sensitivity lang-son-2024 --quick`` (Morris with 2 trajectories over one group per
provenance entry, Sobol' with 8 base samples on the top 3, a tornado), run in-process. The baseline, measured in
the same run: one ``--quick`` replication of the coupled model of the same scenario (what each sample point costs).
The ratio is the number of replication-equivalents the analysis costs.

Usage: ``python benchmarks/bench_sensitivity.py [--scenario lang-son-2024] [--workers N]``.
The last line printed is JSON: ``{"sensitivity_wall_s", "sensitivity_cpu_s", "replication_wall_s",
"replication_cpu_s", "ratio_wall", "ratio_cpu", "load_average"}`` (CPU includes the worker processes).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    fn()
    return time.perf_counter() - wall, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="lang-son-2024")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    import numpy as np

    from models.coupled import run_replication
    from motcua.cli import main as motcua
    from motcua.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    base_wall, base_cpu = timed(lambda: run_replication(scenario, np.random.SeedSequence(1), quick=True))
    with tempfile.TemporaryDirectory() as tmp:
        command = ["sensitivity", args.scenario, "--quick", "--out", str(Path(tmp) / "run")]
        if args.workers:
            command += ["--workers", str(args.workers)]
        wall, cpu = timed(lambda: motcua(command))
    load = os.getloadavg()[0]
    print(f"sensitivity --quick {wall:.1f} s wall, {cpu:.1f} s CPU; one replication {base_wall:.1f} s wall, "
          f"{base_cpu:.1f} s CPU;"
          f" load average {load:.1f} on {os.cpu_count()} cores")
    print(json.dumps({"sensitivity_wall_s": round(wall, 1), "sensitivity_cpu_s": round(cpu, 1),
                      "replication_wall_s": round(base_wall, 2), "replication_cpu_s": round(base_cpu, 2),
                      "ratio_wall": round(wall / base_wall, 1), "ratio_cpu": round(cpu / base_cpu, 1),
                      "load_average": round(load, 1)}))


if __name__ == "__main__":
    main()
