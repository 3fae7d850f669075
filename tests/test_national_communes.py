"""The national commune-level scenario of `benchmarks/bench_national_dask.py`: 34 provinces, 3,321 units.

The counts per province are observed (scenarios/communes-2025-by-province.csv, with its source in the bench's
docstring); the scenario the bench writes must be one `motcua simulate` accepts, unit for unit.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from motcua.runs import PROJECT_ROOT
from motcua.scenario import load_scenario

BENCH = PROJECT_ROOT / "benchmarks" / "bench_national_dask.py"


def bench_module():
    spec = importlib.util.spec_from_file_location("bench_national_dask", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_2025_arrangement_counts_34_provinces_and_3321_commune_level_units():
    counts = dict(bench_module().province_counts())
    assert len(counts) == 34 and sum(counts.values()) == 3321
    assert counts["Lạng Sơn"] == 65  # Nghị quyết 1672/NQ-UBTVQH15: 61 xã + 4 phường, as lang-son-2027.toml
    assert counts["TP HCM"] == 168 and counts["Huế"] == 40


def test_the_written_scenario_loads_with_one_unit_per_commune(tmp_path):
    bench = bench_module()
    path = tmp_path / "national.toml"
    path.write_text(bench.national_scenario(bench.province_counts(2), days=10, replications=2), encoding="utf-8")
    scenario = load_scenario(path)
    assert len(scenario.region.units) == 68 and len({u.id for u in scenario.region.units}) == 68
    assert scenario.simulation.horizon_days == 10 and scenario.simulation.replications == 2
    assert scenario.region.units[-1].name == "Đơn vị cấp xã 2 (Đồng Tháp)"
    assert str(scenario.targets[0].date) == "2026-01-10"  # moved into the short horizon


def test_charts_of_many_units_show_their_spread_at_a_readable_size(tmp_path):
    """34 units (one per province): ranked units, not 34 bars 22 inches tall; the counters' top 20, named."""
    from matplotlib.image import imread

    from motcua.cli import main

    bench = bench_module()
    path = tmp_path / "national.toml"
    path.write_text(bench.national_scenario(bench.province_counts(1), days=14, replications=2), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["simulate", str(path), "--workers", "1", "--quiet", "--out", str(out), "--lang", "en"]) == 0
    charts = {p.stem: imread(p).shape for p in out.glob("*.png")}
    assert {"share_trajectories", "units_vs_target", "counter_waits", "officer_hours"} <= set(charts)
    assert all(height < 1200 for height, *_ in charts.values()), charts  # 0.6 in per unit would be 2,700 px


@pytest.mark.slow
def test_a_national_run_goes_through_a_dask_cluster(tmp_path):
    proc = subprocess.run([sys.executable, str(BENCH), "--per-province", "2", "--days", "7"], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["units"] == result["units_in_summary"] == 68 and result["provinces"] == 34
    assert result["executor"].startswith("dask tcp://127.0.0.1:") and min(result["peak_rss_mb_per_worker"]) > 0
