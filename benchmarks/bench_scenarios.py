"""Benchmark: Lạng Sơn 2024, the campaign vs no campaign, N replications each, on local processes.

Target (issue 4 §7): 2 scenarios × 100 replications within 5 minutes on 2 cores.
Baseline measured in the same run: one replication of the campaign scenario, serially in this
process. The ratio ``speedup`` = (replications run × baseline seconds) / parallel wall time is the
parallel speed-up (≤ workers; below it by the pool's start-up and the scenarios' unequal cost).

    .venv/bin/python benchmarks/bench_scenarios.py                  # the full target run
    .venv/bin/python benchmarks/bench_scenarios.py --replications 4  # a short run

Prints the figures, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_S = 300.0
TARGET_REPLICATIONS = 100


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replications", type=int, default=TARGET_REPLICATIONS, help="per scenario (default 100)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="local processes (default: cores)")
    parser.add_argument("--scenario", default="lang-son-2024", help="bundled scenario name or file")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)

    import numpy as np

    from models.coupled import keep_entries, run_replication
    from models.replications import ExecutorSpec, run_comparison
    from motcua.scenario import load_scenario

    campaign = load_scenario(args.scenario)
    no_campaign = keep_entries(campaign, "interventions", [False] * len(campaign.interventions)).with_overrides(
        {"scenario.name": f"{campaign.name}-no-campaign"}
    )

    started = time.perf_counter()
    run_replication(campaign, np.random.SeedSequence(args.seed))
    baseline_s = time.perf_counter() - started
    print(
        f"baseline: one replication of {campaign.name} ({campaign.simulation.horizon_days} days), serial: "
        f"{baseline_s:.2f} s"
    )

    executor = ExecutorSpec(kind="processes", workers=args.workers)
    sets = run_comparison([campaign, no_campaign], args.replications, args.seed, executor=executor, progress=False)
    wall_s = sets[0].wall_s
    runs = 2 * args.replications
    rate = runs / wall_s
    speedup = runs * baseline_s / wall_s
    projected_s = wall_s * TARGET_REPLICATIONS / args.replications
    final = [float(np.mean([r.daily_share[-7:].mean() for r in s.results])) for s in sets]
    print(
        f"2 scenarios x {args.replications} replications on {executor.describe()}: {wall_s:.1f} s wall, "
        f"{rate:.2f} replications/s, speed-up vs serial baseline x{speedup:.2f}"
    )
    print(
        f"projected for 2 x {TARGET_REPLICATIONS}: {projected_s:.0f} s (target <= {TARGET_S:.0f} s: "
        f"{'met' if projected_s <= TARGET_S else 'NOT met'})"
    )
    print(f"sanity: mean unit share over the last week, campaign {final[0]:.3f} vs no campaign {final[1]:.3f}")
    print(
        json.dumps(
            {
                "scenario": campaign.name,
                "replications_per_scenario": args.replications,
                "workers": args.workers,
                "baseline_replication_s": round(baseline_s, 3),
                "wall_s": round(wall_s, 2),
                "replications_per_s": round(rate, 3),
                "speedup_vs_serial": round(speedup, 2),
                "projected_s_for_2x100": round(projected_s, 1),
                "target_s": TARGET_S,
                "target_met": projected_s <= TARGET_S,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
