"""Agent-days per second of the adoption model's daily update, against a bare NumPy per-agent update.

The model: the bundled Lạng Sơn 2024 scenario (five units, 271 communes, barriers, interventions, payments)
with ``--agents-per-unit`` agents in every unit, advanced day by day with `AdoptionModel.step` (everything a day does:
tables, dossiers and payments, the per-agent hazard pass, bookkeeping). The baseline, measured in the same
run on the same number of agents: the simplest honest per-agent Bass day — gather each agent's commune
probability, draw a float32 uniform per agent, compare, mark the new adopters and count them by commune —
with preallocated arrays.

Usage: ``python benchmarks/bench_adoption.py [--seconds 10] [--agents-per-unit 200000]``.
The last line printed is JSON: ``{"agent_days_per_s": …, "baseline_agent_days_per_s": …, "ratio": …}`` (wall
clock), plus the same per CPU-second (``cpu_*``), which other processes on a shared machine disturb far less.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def measure_model(agents_per_unit: int, seconds: float, seed: int) -> tuple[float, float, int, int]:
    """Agent-days per second of `AdoptionModel.step` on the Lạng Sơn scenario: (wall, CPU, agents, days)."""
    import simpy
    from motcua.models.adoption import AdoptionModel, AdoptionSetup, BehaviourParameters

    from motcua.scenario import load_scenario

    setup = AdoptionSetup.from_scenario(load_scenario("lang-son-2024"))
    # every unit gets `agents_per_unit` agents (a unit never has more agents than people)
    units = tuple(dataclasses.replace(u, population=max(u.population, agents_per_unit)) for u in setup.units)
    model = AdoptionModel(simpy.Environment(), dataclasses.replace(setup, units=units), np.random.default_rng(seed),
                          behaviour=BehaviourParameters(agents_per_unit=agents_per_unit),
                          guidance_from_interventions=True)
    model.step()  # warm-up: first-touch of the arrays
    days, begin, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - begin < seconds and model.day < model.days:
        model.step()
        days += 1
    wall, cpu = time.perf_counter() - begin, time.process_time() - cpu
    return model.n_agents * days / wall, model.n_agents * days / cpu, model.n_agents, days


def measure_baseline(agents: int, communes: int, seconds: float, seed: int) -> tuple[float, float]:
    """Agent-days per second of a bare per-agent Bernoulli day (gather, draw, compare, mark): (wall, CPU)."""
    rng = np.random.default_rng(seed)
    commune = np.repeat(np.arange(communes), -(-agents // communes))[:agents].astype(np.intp)
    adopted = np.zeros(agents, dtype=bool)
    uniform = np.empty(agents, dtype=np.float32)
    prob = np.empty(agents, dtype=np.float32)
    hit = np.empty(agents, dtype=bool)
    sizes = np.bincount(commune, minlength=communes)
    adopters = np.zeros(communes)
    days, begin, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - begin < seconds:
        day_prob = (-np.expm1(-(0.03 + 0.38 * adopters / sizes) / 365.25)).astype(np.float32)
        np.take(day_prob, commune, out=prob)
        rng.random(dtype=np.float32, out=uniform)
        np.less(uniform, prob, out=hit)
        np.greater(hit, adopted, out=hit)  # new adopters only
        new = np.flatnonzero(hit)
        adopted[new] = True
        adopters += np.bincount(commune[new], minlength=communes)
        days += 1
    return agents * days / (time.perf_counter() - begin), agents * days / (time.process_time() - cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="time for each of the two measurements")
    parser.add_argument("--agents-per-unit", type=int, default=200_000, help="agents per unit (5 units)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    model_rate, model_cpu, agents, days = measure_model(args.agents_per_unit, args.seconds, args.seed)
    # the baseline's commune count equals the scenario's total (imitation clusters)
    baseline_rate, baseline_cpu = measure_baseline(agents, 271, args.seconds, args.seed)
    ratio = model_rate / baseline_rate
    print(f"adoption model: {agents:,} agents × {days} days: {model_rate / 1e6:,.0f}M agent-days/s "
          f"({model_cpu / 1e6:,.0f}M per CPU-second)")
    print(f"bare NumPy per-agent update: {baseline_rate / 1e6:,.0f}M agent-days/s "
          f"({baseline_cpu / 1e6:,.0f}M per CPU-second)")
    print(f"ratio model/baseline: {ratio:.2f} wall, {model_cpu / baseline_cpu:.2f} CPU "
          "(target: >= 100M agent-days/s for the model; on a shared machine the CPU figures are the steadier)")
    print(json.dumps({"agent_days_per_s": round(model_rate), "baseline_agent_days_per_s": round(baseline_rate),
                      "ratio": round(ratio, 3), "cpu_agent_days_per_s": round(model_cpu),
                      "cpu_baseline_agent_days_per_s": round(baseline_cpu),
                      "cpu_ratio": round(model_cpu / baseline_cpu, 3), "agents": agents, "days": days}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
