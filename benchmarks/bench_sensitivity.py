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
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_calibrate import compare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="lang-son-2024")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    import numpy as np
    from motcua.models.coupled import run_replication

    from motcua.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    command = ["sensitivity", args.scenario, "--quick"] + (["--workers", str(args.workers)] if args.workers else [])
    figures = compare("sensitivity --quick", command,
                      lambda: run_replication(scenario, np.random.SeedSequence(1), quick=True))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
