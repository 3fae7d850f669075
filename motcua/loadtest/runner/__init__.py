"""`run_loadtest`: mocks, a Locust master and workers as real processes, reconciliation and the invariant.

*Scenario*: an engineer asks "does the payment path hold the morning rush with Agribank frozen for five
seconds?" `run_loadtest` starts the three mock services (with the fault file), then Locust — one
process, or a master and N workers — headless (or with its web UI), waits for it, stops everything
it started (always: also on errors and Ctrl-C), runs a reconciliation pass (đối soát), checks the
payment invariant (`motcua.safety`: nothing lost, credited twice, for a wrong amount, or without an
approval), evaluates the SLO gates and writes the run directory (`motcua.runs.start_run`, kind
``loadtest``):

    locust/          Locust's own CSV (stats, history, failures) and HTML report, and its logs
    harness.json     the harness's exact samples (journeys, callbacks, arrivals, HDR histograms)
    summary.json     see `motcua.loadtest.summary` and results/README.md
    *.png            throughput, latency percentiles over time, callback-latency CDF by bank

`run_loadtest` returns the `Summary`; `Summary.raise_if_breached` raises `InvariantBreach` (exit 4)
first, then `SLOBreach` (exit 3) — ``motcua loadtest`` calls it once the run directory is complete,
``motcua run`` at the end of its own run.

The modules, from the top (import-linter keeps them layered):

- `run`                `run_loadtest`, the whole run;
- `capacity`           one measured run (Locust, reconciliation, invariant, SLO gates) and the capacity search;
- `console`            the report printed at the end;
- `locust_processes`   the Locust command lines (`LocustJob`), starting, waiting for and stopping the processes;
- `system_under_test`  the mocks started for the run, or a real system given by URLs;
- `options`            `LoadtestOptions` and the `LoadtestPlan` they make of a scenario.

The merchant mode (`motcua.loadtest.merchant`) uses the same plan, system under test and Locust processes.
"""

from motcua.loadtest.runner.capacity import find_capacity, harness_charges, measure_run
from motcua.loadtest.runner.console import print_report
from motcua.loadtest.runner.locust_processes import LocustJob, locust_commands, run_locust
from motcua.loadtest.runner.options import LoadtestOptions, LoadtestPlan, default_deadline, plan_loadtest
from motcua.loadtest.runner.run import run_loadtest
from motcua.loadtest.runner.system_under_test import check_reachable, system_under_test, write_bank_catalogue
from motcua.loadtest.slo import verdicts_of
from motcua.loadtest.summary import ChartWriter, Summary

__all__ = [
    "ChartWriter",
    "LoadtestOptions",
    "LoadtestPlan",
    "LocustJob",
    "Summary",
    "check_reachable",
    "default_deadline",
    "find_capacity",
    "harness_charges",
    "locust_commands",
    "measure_run",
    "plan_loadtest",
    "print_report",
    "run_loadtest",
    "run_locust",
    "system_under_test",
    "verdicts_of",
    "write_bank_catalogue",
]
