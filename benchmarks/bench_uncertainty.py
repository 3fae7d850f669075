"""Time of `motcua compare` with parameter uncertainty against the same compare with replications only.

The command, twice in the same run: ``motcua compare BASELINE PLAN --replications 20 --no-contributions`` with
``--uncertainty parameters`` (replication i draws its parameters, `models.uncertainty`) and with
``--uncertainty replications`` (parameters held: what compare did before issue 16). Both in-process, the same
executor. The plan is the baseline's file with QR at the counter and community teams (tests/data). The horizon is
cut to ``--days`` (default 120) so that the benchmark takes minutes, not an hour: both runs are cut alike, and the
cost of a parameter draw (a scenario rebuilt per replication) does not depend on the horizon, so the ratio at a
short horizon is the pessimistic one.

Usage: ``python benchmarks/bench_uncertainty.py [--replications 20] [--days 120] [--workers N]``.
The last line printed is JSON: ``{"parameters_wall_s", "replications_wall_s", "ratio", "replications", "days",
"load_average"}``; the goal is ``ratio`` ≤ 1.5.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "tests" / "data" / "lang-son-2024-qr-teams.toml"
BASELINE = ROOT / "scenarios" / "lang-son-2024.toml"


def shortened(path: Path, days: int, folder: Path) -> Path:
    """A copy of the scenario file at `path` simulating `days` days from 6 June 2024, its target on the last one."""
    import datetime as dt

    last = dt.date(2024, 6, 6) + dt.timedelta(days=days - 1)
    text = re.sub(r"(?m)^horizon_days = \d+", f"horizon_days = {days}", path.read_text(encoding="utf-8"), count=1)
    text = re.sub(r"(?m)^date = 2024-12-31", f"date = {last.isoformat()}", text, count=1)
    out = folder / path.name
    out.write_text(text, encoding="utf-8")
    return out


def timed(argv: list[str]) -> float:
    from motcua.cli import main

    started = time.perf_counter()
    code = main(argv)
    if code != 0:
        raise SystemExit(f"{' '.join(argv)}: exit {code}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = [str(shortened(BASELINE, args.days, folder)), str(shortened(PLAN, args.days, folder))]
        common = ["compare", *files, "--replications", str(args.replications), "--no-contributions", "--quiet",
                  "--results-root", str(folder / "results"), "--lang", "en"]
        if args.workers:
            common += ["--workers", str(args.workers)]
        walls = {mode: timed([*common, "--uncertainty", mode]) for mode in ("replications", "parameters")}
    figures = {"parameters_wall_s": round(walls["parameters"], 2),
               "replications_wall_s": round(walls["replications"], 2),
               "ratio": round(walls["parameters"] / walls["replications"], 3), "replications": args.replications,
               "days": args.days, "load_average": round(os.getloadavg()[0], 2)}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
