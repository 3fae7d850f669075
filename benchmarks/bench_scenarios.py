"""Benchmark: Lạng Sơn 2024, the campaign vs no campaign, N replications each, on local processes.

Target (issue 11): 2 scenarios × 100 replications within 150 s on 2 cores, with the same results under
the same seed (issue 4 §7 asked for 5 minutes).
Baseline measured in the same run: one replication of the campaign scenario, serially in this
process. The ratio ``speedup`` = (replications run × baseline seconds) / parallel wall time is the
parallel speed-up (≤ workers; below it by the pool's start-up and the scenarios' unequal cost).

    .venv/bin/python benchmarks/bench_scenarios.py                  # the full target run
    .venv/bin/python benchmarks/bench_scenarios.py --replications 4  # a short run
    .venv/bin/python benchmarks/bench_scenarios.py --replications 2 --against 1105adc  # before/after

``--against REV`` also times one replication with the paths ``--against-paths`` (files or folders;
default: the whole ``models`` package) as they were at git revision REV and everything else as in this
tree, alternating with this tree, each in a fresh process, ``--rounds`` times: the before/after ratio of
a change to those paths alone, from the same run. Each timed replication also prints a digest of its
result arrays, so the run shows whether REV and this tree give the same results under the same seed.
CPU seconds (``time.process_time``; the workers' from ``getrusage(RUSAGE_CHILDREN)``) are printed
beside wall seconds because the machine may be shared: CPU seconds per replication are less noisy.

``--breakdown`` also times one replication and its parts alone (the adoption model, every unit's counters,
SimPy's own cost of as many events): where a replication's CPU time goes.

    .venv/bin/python benchmarks/bench_scenarios.py --replications 10 --against main --rounds 5 --breakdown

Prints the figures, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_S = 150.0
TARGET_REPLICATIONS = 100


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replications", type=int, default=TARGET_REPLICATIONS, help="per scenario (default 100)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="local processes (default: cores)")
    parser.add_argument("--scenario", default="lang-son-2024", help="bundled scenario name or file")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--against", metavar="REV", help="git revision to time one replication of, for a ratio")
    parser.add_argument("--against-paths", default="models",
                        help="comma-separated files or folders taken from REV (default: the models package)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds with --against (default 2)")
    parser.add_argument("--breakdown", action="store_true",
                        help="also time the parts of one replication alone (adoption, counters, bare SimPy)")
    args = parser.parse_args(argv)

    import numpy as np
    from motcua.models import adoption, counters  # noqa: F401  (imported before the baseline's clock starts, as in a worker)
    from motcua.models.coupled import run_replication
    from motcua.models.replications import ExecutorSpec, run_comparison
    from motcua.models.scenario_edit import keep_entries

    from motcua.scenario import load_scenario

    campaign = load_scenario(args.scenario)
    no_campaign = keep_entries(campaign, "interventions", [False] * len(campaign.interventions)).with_overrides(
        {"scenario.name": f"{campaign.name}-no-campaign"}
    )

    figures: dict[str, object] = {}
    if args.against:
        figures.update(compare_revisions(args.against, args.against_paths.split(","), args.scenario, args.seed,
                                         args.rounds))

    if args.breakdown:
        figures.update(breakdown(campaign, args.seed))

    started, cpu_started = time.perf_counter(), time.process_time()
    run_replication(campaign, np.random.SeedSequence(args.seed))
    baseline_s = time.perf_counter() - started
    baseline_cpu_s = time.process_time() - cpu_started
    print(
        f"baseline: one replication of {campaign.name} ({campaign.simulation.horizon_days} days), serial: "
        f"{baseline_s:.2f} s wall, {baseline_cpu_s:.2f} s CPU"
    )

    executor = ExecutorSpec(kind="processes", workers=args.workers)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sets = run_comparison([campaign, no_campaign], args.replications, args.seed, executor=executor, progress=False)
    wall_s = sets[0].wall_s
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers_cpu_s = (children.ru_utime + children.ru_stime) - (children_before.ru_utime + children_before.ru_stime)
    runs = 2 * args.replications
    rate = runs / wall_s
    speedup = runs * baseline_s / wall_s
    projected_s = wall_s * TARGET_REPLICATIONS / args.replications
    projected_cpu_s = 2 * TARGET_REPLICATIONS * baseline_cpu_s / args.workers
    cpu_per_replication = workers_cpu_s / runs
    final = [float(np.mean([r.daily_share[-7:].mean() for r in s.results])) for s in sets]
    print(
        f"2 scenarios x {args.replications} replications on {executor.describe()}: {wall_s:.1f} s wall, "
        f"{rate:.2f} replications/s, speed-up vs serial baseline x{speedup:.2f}"
    )
    print(
        f"projected for 2 x {TARGET_REPLICATIONS}: {projected_s:.0f} s (target <= {TARGET_S:.0f} s: "
        f"{'met' if projected_s <= TARGET_S else 'NOT met'})"
    )
    print(f"projected from the baseline's CPU time on {args.workers} idle cores: {projected_cpu_s:.0f} s")
    print(f"workers' CPU: {workers_cpu_s:.1f} s, {cpu_per_replication:.2f} s per replication (pool and pickling in); "
          f"on {args.workers} idle cores 2 x {TARGET_REPLICATIONS} would take "
          f"{2 * TARGET_REPLICATIONS * cpu_per_replication / args.workers:.0f} s")
    print(f"sanity: mean unit share over the last week, campaign {final[0]:.3f} vs no campaign {final[1]:.3f}")
    print(
        json.dumps(
            {
                "scenario": campaign.name,
                "replications_per_scenario": args.replications,
                "workers": args.workers,
                "baseline_replication_s": round(baseline_s, 3),
                "baseline_replication_cpu_s": round(baseline_cpu_s, 3),
                "projected_cpu_s_for_2x100": round(projected_cpu_s, 1),
                "workers_cpu_s": round(workers_cpu_s, 2),
                "workers_cpu_s_per_replication": round(cpu_per_replication, 3),
                "wall_s": round(wall_s, 2),
                "replications_per_s": round(rate, 3),
                "speedup_vs_serial": round(speedup, 2),
                "projected_s_for_2x100": round(projected_s, 1),
                "target_s": TARGET_S,
                "target_met": projected_s <= TARGET_S,
                **figures,
            }
        )
    )
    return 0


def _cpu(run, repeat: int = 2) -> float:
    """Best CPU seconds of `repeat` calls of `run()` (the best is the least disturbed by a shared machine)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        run()
        best = min(best, time.process_time() - started)
    return best


def breakdown(scenario, seed: int) -> dict[str, object]:
    """CPU seconds of one replication and of its parts run alone: the adoption model over the horizon, every
    unit's counters over the horizon (at a fixed online share of 30%), and SimPy's own cost of that many events
    (a bare loop of timeouts). What is left of the replication is the coupling: guided citizens handed to the
    adoption model, the day streams, the levers and the books. This says where a replication's time goes."""
    import numpy as np
    import simpy
    from motcua.models.adoption import AdoptionModel
    from motcua.models.counters import CounterParams, OneStopShop
    from motcua.models.counters.fastpath import events_scheduled
    from motcua.models.coupled import run_replication

    days = scenario.simulation.horizon_days
    counted: dict[str, int] = {}

    def adoption_alone() -> None:
        env = simpy.Environment()
        env.process(AdoptionModel(env, scenario, np.random.default_rng(seed)).run())
        env.run(until=days * 1440 + 1)

    def counters_alone() -> None:
        env = simpy.Environment()
        shops = [OneStopShop(env, CounterParams.from_unit(unit), np.random.default_rng(i), online_share=lambda: 0.3,
                             start=scenario.simulation.start) for i, unit in enumerate(scenario.units) if unit.counters]
        env.run(until=days * 1440 + 1)
        counted.update(events=events_scheduled(env), served=sum(shop.served for shop in shops))

    def bare_simpy() -> None:
        env = simpy.Environment()

        def ticking(n: int):
            for _ in range(n):
                yield env.timeout(1.0)
        for _ in range(10):
            env.process(ticking(counted["events"] // 10))
        env.run()

    full = _cpu(lambda: run_replication(scenario, np.random.SeedSequence(seed)))
    adoption_s, counters_s = _cpu(adoption_alone), _cpu(counters_alone)
    simpy_s = _cpu(bare_simpy)
    agents = AdoptionModel(simpy.Environment(), scenario, np.random.default_rng(seed)).n_agents
    rest = full - adoption_s - counters_s
    print(f"breakdown of one replication, CPU: {full:.2f} s = adoption alone {adoption_s:.2f} s "
          f"({adoption_s / days * 1e3:.2f} ms a day for {agents:,} agents) + counters alone {counters_s:.2f} s "
          f"({counters_s / counted['served'] * 1e6:.1f} us per served citizen, {counted['served']:,} served, "
          f"{counted['events']:,} SimPy events, of which SimPy's own cost {simpy_s:.2f} s) + coupling and the rest "
          f"{rest:.2f} s")
    return {"breakdown_cpu_s": {"replication": round(full, 3), "adoption_alone": round(adoption_s, 3),
                                "counters_alone": round(counters_s, 3), "bare_simpy_same_events": round(simpy_s, 3),
                                "coupling_and_rest": round(rest, 3)},
            "breakdown_counts": {"agents": agents, "days": days, **counted}}


_TIME_ONE = """
import dataclasses, hashlib, importlib.util, json, pathlib, sys, time
root = pathlib.Path(sys.argv[1])
sys.path.insert(0, str(root))
# The tree's top-level folders under motcua.*, as the wheel maps them, ahead of the installed (editable) copy.
for name in ("models", "mock_services", "locustfiles"):
    spec = importlib.util.spec_from_file_location(
        f"motcua.{name}", root / name / "__init__.py", submodule_search_locations=[str(root / name)])
    sys.modules[spec.name] = module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
import numpy as np
import motcua.models.adoption  # imported before the clock starts, as in a worker's later replications
import motcua.models.counters
from motcua.models.coupled import run_replication
from motcua.scenario import load_scenario
scenario = load_scenario(sys.argv[2])
run_replication(scenario, np.random.SeedSequence(int(sys.argv[3])), quick=True)  # warm: first-call costs
started, cpu_started = time.perf_counter(), time.process_time()
result = run_replication(scenario, np.random.SeedSequence(int(sys.argv[3])))
wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
digest = hashlib.sha256()
for item in dataclasses.fields(result):
    value = getattr(result, item.name)
    digest.update(np.ascontiguousarray(value).tobytes() if isinstance(value, np.ndarray) else repr(value).encode())
print(json.dumps([wall, cpu, digest.hexdigest()[:16]]))
"""


def time_tree(root: Path, scenario: str, seed: int) -> tuple[float, float, str]:
    """(wall, CPU) seconds of one replication with the code under `root`, in a fresh process, and a digest of
    its result arrays."""
    done = subprocess.run([sys.executable, "-c", _TIME_ONE, str(root), scenario, str(seed)], cwd=root,
                          capture_output=True, text=True, check=True)
    wall, cpu, digest = json.loads(done.stdout.strip().splitlines()[-1])
    return wall, cpu, digest


def compare_revisions(revision: str, paths: list[str], scenario: str, seed: int,
                      rounds: int) -> dict[str, object]:
    """One replication with `paths` as at `revision` vs this tree, alternating `rounds` times; the best
    of each counts."""
    with tempfile.TemporaryDirectory(prefix="bench-scenarios-") as tmp:
        for part in ("models", "motcua", "scenarios", "mock_services"):
            shutil.copytree(ROOT / part, Path(tmp) / part, ignore=shutil.ignore_patterns("__pycache__"))
        for path in paths:
            target = Path(tmp) / path
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, path], capture_output=True,
                                     check=True).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        old: list[tuple[float, float, str]] = []
        new: list[tuple[float, float, str]] = []
        for _ in range(rounds):
            old.append(time_tree(Path(tmp), scenario, seed))
            new.append(time_tree(ROOT, scenario, seed))
    old_cpu, new_cpu = min(c for _, c, _ in old), min(c for _, c, _ in new)
    old_wall, new_wall = min(w for w, _, _ in old), min(w for w, _, _ in new)
    digests = {d for _, _, d in old + new}
    same = len(digests) == 1
    print(f"results under seed {seed}: {'identical' if same else 'DIFFERENT'} at {revision} and in this tree "
          f"(digests {', '.join(sorted(digests))})")
    print(f"one replication, best of {rounds} alternating: {', '.join(paths)} as at {revision} {old_cpu:.2f} s CPU "
          f"({old_wall:.2f} s wall), this tree {new_cpu:.2f} s CPU ({new_wall:.2f} s wall): "
          f"x{old_cpu / new_cpu:.2f} faster by CPU, x{old_wall / new_wall:.2f} by wall")
    return {"against": revision, "against_paths": paths, "same_results": same, "against_cpu_s": round(old_cpu, 3),
            "this_tree_cpu_s": round(new_cpu, 3), "cpu_speedup": round(old_cpu / new_cpu, 2),
            "against_wall_s": round(old_wall, 3), "this_tree_wall_s": round(new_wall, 3),
            "wall_speedup": round(old_wall / new_wall, 2)}


if __name__ == "__main__":
    sys.exit(main())
