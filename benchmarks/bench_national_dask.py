"""A national commune-level run on a Dask cluster: 34 provinces, 3,321 commune-level units, a short horizon.

*Scenario.* After the 2025 arrangement (Nghị quyết 1672/NQ-UBTVQH15 for Lạng Sơn and its 33 sister resolutions),
Việt Nam has 34 provinces and 3,321 commune-level units (xã, phường, đặc khu), each with its own one-stop shop. A
national planner wants every one of them in one run. One replication holds every unit, so it must fit in one
worker's memory; replications spread over the workers.

The counts per province are ``scenarios/communes-2025-by-province.csv``: observed, from VnExpress's table "Tra cứu
3.321 phường, xã trên cả nước sau sắp xếp" (https://vnexpress.net/tra-cuu-3-321-phuong-xa-tren-ca-nuoc-sau-sap-xep-
4903454.html) as scraped in github.com/vanducng/don-vi-hanh-chinh-2025, data.csv at commit 2900d2a (3,321 rows;
Lạng Sơn's 65 match the resolution). Every unit copies lang-son-2027's first commune (population, dossiers,
counters, starting share): a demonstration of scale, not the nation's figures.

The bench writes that scenario, starts a local Dask cluster (worker processes on 127.0.0.1), runs
``motcua simulate FILE --dask-scheduler ADDR`` as a planner would, and prints the wall time, the CPU per
unit-year simulated and each worker's peak memory. Defaults: every unit, 14 days, 2 replications on 2 workers;
``--per-province N`` keeps N units per province for a quick check.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "scenarios" / "lang-son-2027.toml"
COUNTS = ROOT / "scenarios" / "communes-2025-by-province.csv"
UNIT = "[[region.units]]"


def province_counts(per_province: int | None = None) -> list[tuple[str, int]]:
    """(province, commune-level units) for the 34 provinces, each capped at `per_province` if given."""
    with COUNTS.open(encoding="utf-8", newline="") as fh:
        rows = [(r["province"], int(r["commune_level_units"])) for r in csv.DictReader(fh)]
    return [(p, min(n, per_province) if per_province else n) for p, n in rows]


def national_scenario(counts: list[tuple[str, int]], *, days: int, replications: int) -> str:
    """lang-son-2027's text with its 65 units replaced by one copy of its first unit per commune of `counts`."""
    text = TEMPLATE.read_text(encoding="utf-8")
    first = text.index(UNIT)
    after = re.compile(r"^\[(?!\[region\.units\]\]|region\.units\.)", re.M).search(text, first).start()
    template = text[first:text.index(UNIT, first + 1)]
    units = [_unit(template, p, province, k) for p, (province, n) in enumerate(counts, 1) for k in range(1, n + 1)]
    start = dt.date.fromisoformat(re.search(r"^start = (\S+)", text, re.M).group(1))  # type: ignore[union-attr]
    head = text[:first]
    head = re.sub(r'^name = "lang-son-2027"', 'name = "national-communes-2025"', head, count=1, flags=re.M)
    head = re.sub(r"^horizon_days = \d+.*$", f"horizon_days = {days}", head, count=1, flags=re.M)
    head = re.sub(r"^replications = \d+", f"replications = {replications}", head, count=1, flags=re.M)
    head = re.sub(r'^name = "Lạng Sơn"', 'name = "Việt Nam (34 tỉnh, thành phố)"', head, count=1, flags=re.M)
    tail = re.sub(r"^date = 2027-12-31", f"date = {start + dt.timedelta(days=days - 1)}", text[after:],
                  count=1, flags=re.M)
    tail = "\n".join(line for line in tail.splitlines() if not line.startswith('"region.units[')) + "\n"
    return head + "".join(units) + tail


def _unit(template: str, p: int, province: str, k: int) -> str:
    fields = {"id": f"p{p:02d}-{k:03d}", "name": f"Đơn vị cấp xã {k} ({province})",
              "name_en": f"Commune-level unit {k} ({province})", "agency_code": f"VN{p:02d}.{k:05d}"}
    for key, value in fields.items():
        template = re.sub(rf'^{key} = ".*"$', f'{key} = "{value}"', template, count=1, flags=re.M)
    template = re.sub(r"^former_units = .*$", f'former_units = ["{fields["name"]}"]', template, count=1, flags=re.M)
    return re.sub(r"^former_districts = .*$", f'former_districts = ["{province}"]', template, count=1, flags=re.M)


def _worker_usage() -> dict[str, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-province", type=int, default=None, help="at most N units per province (quick check)")
    parser.add_argument("--days", type=int, default=14, help="simulated days (14)")
    parser.add_argument("--replications", type=int, default=2, help="replications (2)")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (2)")
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    counts = province_counts(args.per_province)
    units = sum(n for _, n in counts)
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "national-communes-2025.toml"
        scenario.write_text(national_scenario(counts, days=args.days, replications=args.replications),
                            encoding="utf-8")
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, memory_limit=None) as cluster, Client(cluster) as client:
            before = client.run(_worker_usage)
            started = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "motcua.cli", "simulate", str(scenario), "--quiet",
                                   "--dask-scheduler", cluster.scheduler_address, "--out", str(Path(tmp) / "run")],
                                  cwd=ROOT, capture_output=True, text=True)
            wall = time.perf_counter() - started
            after = client.run(_worker_usage)
        if proc.returncode != 0:
            print(proc.stdout[-2000:], proc.stderr[-3000:], file=sys.stderr)
            return proc.returncode
        summary = json.loads((Path(tmp) / "run" / "summary.json").read_text(encoding="utf-8"))
    cpu = sum(after[w]["cpu_s"] - before[w]["cpu_s"] for w in after)
    unit_years = units * args.days / 365.25 * args.replications
    result = {"provinces": len(counts), "units": units, "days": args.days, "replications": args.replications,
              "workers": args.workers, "wall_s": round(wall, 1), "worker_cpu_s": round(cpu, 1),
              "cpu_s_per_unit_year": round(cpu / unit_years, 3),
              "peak_rss_mb_per_worker": sorted(round(u["peak_rss_mb"]) for u in after.values()),
              "units_in_summary": len(summary["units"]), "replication_wall_s": summary["runtime"]["wall_s"],
              "executor": summary["settings"]["executor"]}
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
