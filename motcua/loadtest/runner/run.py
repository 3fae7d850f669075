"""`run_loadtest`: one load test (or a capacity search) from the scenario to the run folder and the verdict.

It plans the run (`options.plan_loadtest`), opens the run folder, brings up the system under test
(`system_under_test`), measures (`capacity.measure_run`, or `capacity.find_capacity`), writes
``summary.json`` and, unless quiet, prints the report (`console`); ``--junit`` adds the JUnit file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from motcua import safety
from motcua.errors import InputError
from motcua.loadtest.junit import write_summary_junit
from motcua.loadtest.runner.capacity import find_capacity, measure_run
from motcua.loadtest.runner.console import print_report
from motcua.loadtest.runner.options import LoadtestOptions, plan_loadtest
from motcua.loadtest.runner.system_under_test import system_under_test
from motcua.loadtest.summary import ChartWriter, Summary
from motcua.run_layout import HARNESS, SUMMARY
from motcua.runs import write_json


def announce(urls: Mapping[str, str], options: LoadtestOptions) -> None:
    """The system under test's URLs (and the metrics endpoint) on stderr, as the run starts."""
    listed = " · ".join(f"{name} {url}" for name, url in sorted(urls.items()))
    print(f"system under test: {listed}", file=sys.stderr, flush=True)
    if options.metrics_port:
        print(f"live metrics: http://127.0.0.1:{options.metrics_port}/metrics", file=sys.stderr, flush=True)


def was_interrupted(run_dir: Path) -> bool:
    """Whether the harness stopped on Ctrl-C (``harness.json`` says ``"interrupted": true``)."""
    return bool(_harness_facts(run_dir).get("interrupted"))


def partial_marker(run_dir: Path, profile_s: float) -> dict[str, Any]:
    """summary.json's ``"partial"`` of a run stopped by Ctrl-C: how much of the profile ran, and what that means."""
    harness = _harness_facts(run_dir)
    ran_s = float(harness.get("written_at", 0.0)) - float(harness.get("started_at", 0.0))
    return {
        "ran_s": round(max(0.0, ran_s), 3),
        "profile_s": profile_s,
        "note": "stopped by Ctrl-C: every figure covers only what ran; journeys in flight were cut and are not "
                "counted; rates are still divided by the whole profile's length (throughput.rate_window_s)",
    }


def _harness_facts(run_dir: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((run_dir / HARNESS).read_text()))
    except (OSError, ValueError):
        return {}


def run_loadtest(
    scenario_path: Path | str,
    options: LoadtestOptions,
    out_dir: Path | None = None,
    *,
    results_root: Path | None = None,
    command: list[str] | None = None,
    charts: ChartWriter | None = None,
) -> Summary:
    """Run one load test (or a capacity search) of `scenario_path`; see `motcua.loadtest.runner`.

    `charts` draws the PNG charts into the run folder (the commands pass `motcua.report.loadtest_charts`;
    the harness sits below the report and does not import it). Breaches are not raised here: the caller
    calls `Summary.raise_if_breached` when its outputs are written."""
    from motcua.scenario import scenario_file

    scenario_path = scenario_file(scenario_path)  # a bundled name (peak-day) as load_scenario takes it
    if options.merchant_file is not None:  # measured from the gateway's records: motcua.loadtest.merchant
        raise InputError("a merchant system under test runs through motcua.loadtest.merchant.run_merchant "
                         "(motcua loadtest --merchant does this)")
    plan = plan_loadtest(scenario_path, options)
    options = plan.options
    with plan.start_run(out_dir, results_root=results_root, command=command) as run:
        if not options.quiet:
            print(f"run folder: {run.final_dir} (written in {run.dir.name} until it ends)", file=sys.stderr, flush=True)
        with system_under_test(options, run, plan.scenario) as urls:
            if not options.quiet:
                announce(urls, options)
            if options.find_capacity:
                data = find_capacity(plan, urls=urls, run_dir=run.dir, charts=charts)
            else:
                data = measure_run(plan, profile=plan.profile, urls=urls, folder=run.dir, charts=charts)
        data["run_id"] = run.run_id
        if "throughput" in data:  # the summary's rates: the whole run's counts over the profile's length
            data["throughput"]["rate_window_s"] = plan.profile.duration_s
        interrupted = was_interrupted(run.dir)
        if interrupted:
            data["interrupted"] = True
            data["partial"] = partial_marker(run.dir, plan.profile.duration_s)
        write_json(run.path(SUMMARY), data)
    summary = Summary(data, run.dir)
    if not options.quiet:
        print_report(summary)
    if interrupted:
        print(f"INTERRUPTED (Ctrl-C): partial results, \"interrupted\": true in {run.dir / 'summary.json'}",
              file=sys.stderr)
        raise KeyboardInterrupt
    if options.junit:
        verdict = safety.Verdict.from_dict(data["invariant"])
        detail = verdict.describe() if verdict.ok else verdict.message()
        write_summary_junit(options.junit, plan.scenario.name, data, invariant_ok=verdict.ok, invariant_detail=detail)
    return summary
