"""Time of `motcua calibrate` with the agent model, against one replication of what `motcua simulate` runs.

The commands: ``motcua calibrate son-la-2020-2023`` (the agent model, 8 replications per trial point, 16
parameter draws for the target-date band, 200 bootstrap refits of the corrected mean field), run in-process; the
bundled file already fits, so this is one batch of runs plus the bands. Then its backtest ``--holdout 1 --fix
effort_weight=3``, which searches from the mean field's optimum (a few batches): the cost of a real fit.
The baseline, measured in the same run: one replication of the coupled model (`models.coupled.run_replication`)
of the same scenario over its whole horizon: the cost of one replication of `motcua simulate`. The ratio says
how many simulate replications a calibration costs, which a loaded machine disturbs less than the seconds.

Usage: ``python benchmarks/bench_calibrate.py [--scenario son-la-2020-2023] [--workers N]``.
The last line printed is JSON: ``{"calibrate_wall_s", "calibrate_cpu_s", "replication_wall_s",
"replication_cpu_s", "ratio_wall", "ratio_cpu", "load_average", "backtest_wall_s", "backtest_cpu_s",
"backtest_ratio_wall", "backtest_ratio_cpu"}`` (CPU includes the worker processes).
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


def compare(label: str, command: list[str], baseline) -> dict[str, float]:
    """Run `baseline()` then ``motcua COMMAND`` in-process; print and return their times and ratios."""
    from motcua.cli import main as motcua

    base_wall, base_cpu = timed(baseline)
    with tempfile.TemporaryDirectory() as tmp:
        wall, cpu = timed(lambda: motcua([*command, "--out", str(Path(tmp) / "run")]))
    load = os.getloadavg()[0]
    print(f"{label} {wall:.1f} s wall, {cpu:.1f} s CPU; one replication {base_wall:.1f} s wall, {base_cpu:.1f} s "
          f"CPU; load average {load:.1f} on {os.cpu_count()} cores")
    key = label.split()[0]
    return {f"{key}_wall_s": round(wall, 1), f"{key}_cpu_s": round(cpu, 1), "replication_wall_s": round(base_wall, 2),
            "replication_cpu_s": round(base_cpu, 2), "ratio_wall": round(wall / base_wall, 1),
            "ratio_cpu": round(cpu / base_cpu, 1), "load_average": round(load, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="son-la-2020-2023")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    import numpy as np
    from motcua.models.coupled import run_replication

    from motcua.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    command = ["calibrate", args.scenario] + (["--workers", str(args.workers)] if args.workers else [])
    baseline = lambda: run_replication(scenario, np.random.SeedSequence(1))  # noqa: E731
    figures = compare("calibrate", command, baseline)
    # The bundled file already fits (one batch of runs); a backtest searches from the mean field's optimum.
    searching = compare("backtest", [*command, "--holdout", "1", "--fix", "effort_weight=3"], baseline)
    print(json.dumps({**figures, **{k: v for k, v in searching.items() if k.startswith("backtest")},
                      "backtest_ratio_wall": searching["ratio_wall"], "backtest_ratio_cpu": searching["ratio_cpu"]}))


if __name__ == "__main__":
    main()
