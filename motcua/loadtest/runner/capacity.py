"""One measured run of the harness, and the capacity search that repeats it at rising rates.

*Scenario*: "how many payments a second does the platform take before the callback p95 breaks its SLO?"
`measure_run` plays the arrival profile once through Locust (`locust_processes`), then runs the
reconciliation pass (đối soát) and checks the payment invariant (`motcua.safety`), and evaluates the SLO
gates: summary.json's content. `find_capacity` (``--find-capacity``) multiplies the profile by
``capacity_factor`` step by step, each step in its own folder, until a step does not hold; a step whose
verdict is statistically unclear is run again, pooled (`motcua.loadtest.confidence`), up to
``capacity_repeats`` runs. The knee is the last rate that held, reported with each step's evidence.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motcua import safety
from motcua.errors import InputError
from motcua.loadtest import slo
from motcua.loadtest.confidence import StepEvidence, knee
from motcua.loadtest.runner import locust_processes
from motcua.loadtest.runner.locust_processes import LocustJob
from motcua.loadtest.runner.options import LoadtestPlan
from motcua.loadtest.summary import ChartWriter, build_summary
from motcua.run_layout import CAPACITY_CHART, HARNESS, SUMMARY
from motcua.runs import read_json, write_json
from motcua.safety import get_json

if TYPE_CHECKING:
    from motcua.loadtest.profiles import RateProfile


def measure_run(
    plan: LoadtestPlan, *, profile: RateProfile, urls: Mapping[str, str], folder: Path, charts: ChartWriter | None
) -> dict[str, Any]:
    """One run of `profile` against `urls`, written into `folder`: summary.json's content with the SLO verdicts."""
    options = plan.options
    stats_before = get_json(f"{urls['agency']}/stats")
    since = int(stats_before.get("events", -1))
    started = time.time()
    job = LocustJob(
        scenario_path=plan.scenario_path, profile=profile, options=options, urls=urls, folder=folder, since=since,
        abort=plan.abort_expressions,
    )
    locust_processes.run_locust(job)
    harness = read_json(folder / HARNESS)
    days = safety.days_touched(started, time.time(), [a["approved_at"] for a in harness["approvals"]])
    reconciliation = safety.reconcile(urls["agency"], days)
    verdict = safety.verify(urls["agency"], harness_charges(harness), since=since, stats_before=stats_before)
    invariant = {**verdict.as_dict(), "lost_callbacks_recovered": len(set(harness["lost"]) & verdict.recovered)}
    data = build_summary(
        harness,
        job.locust_dir,
        scenario=plan.scenario.name,
        profile=profile,
        options=options,
        reconciliation=reconciliation,
        invariant=invariant,
        run_seconds=time.time() - started,
        deadline_s=plan.deadline_s,
        ipn_confirmed=verdict.ipn_confirmed,
    )
    data["time_scale"] = None if options.agency_url else options.time_scale
    data["callback_deadline_s"] = options.callback_deadline_s
    verdicts = slo.judge(plan.thresholds, data)
    data["slo"] = [v.as_dict() for v in verdicts]
    data["charts"] = [p.name for p in charts.write_charts(harness, folder, options.lang)] if charts else []
    return data


def find_capacity(
    plan: LoadtestPlan, *, urls: Mapping[str, str], run_dir: Path, charts: ChartWriter | None
) -> dict[str, Any]:
    """Raise the rate by ``capacity_factor`` per step until a step does not hold; each step is run again (up to
    ``capacity_repeats`` times) while its verdict is unclear (`motcua.loadtest.confidence`). The knee is the last
    rate that held clearly."""
    options = plan.options
    if options.model != "open":
        raise InputError("--find-capacity raises an arrival rate; it needs the open model (use --rate, not --users)")
    limit = float(plan.limits.get("journey_failures") or 0.0)
    steps: list[dict[str, Any]] = []
    current = plan.profile
    for index in range(options.capacity_steps):
        evidence = StepEvidence(current.base_rate, limit)
        step_dir = run_dir / "steps" / f"{index + 1:02d}-rate-{current.base_rate:g}"
        while True:
            folder = step_dir / f"run-{evidence.runs + 1}" if evidence.runs else step_dir
            data = measure_run(plan, profile=current, urls=urls, folder=folder, charts=charts)
            write_json(folder / SUMMARY, data)
            evidence.add(data, str(folder.relative_to(run_dir)))
            if evidence.verdict != "unclear" or evidence.runs >= max(1, options.capacity_repeats):
                break
        step = {**evidence.as_dict(), "folder": evidence.folders[0], "slo": data["slo"],
                "invariant_ok": data["invariant"]["ok"]}
        steps.append(step)
        if not options.quiet:
            low, high = step["interval"]
            print(f"capacity step {index + 1}: {current.base_rate:g}/s → {step['verdict']} after {step['runs']} "
                  f"run(s): bad {step['failures']}/{step['trials']}, 95% interval [{low:.2%}, {high:.2%}] vs "
                  f"limit {limit:.2%}", flush=True)
        if not step["held"]:
            break
        current = current.scaled(options.capacity_factor)
    last = data
    last["capacity"] = {
        "steps": steps,
        "knee_rate_per_s": knee(steps),
        "factor": options.capacity_factor,
        "repeats": options.capacity_repeats,
        "broke": not steps[-1]["held"],
        "unclear_at": steps[-1]["rate_per_s"] if steps[-1]["verdict"] == "unclear" else None,
    }
    # each step's charts are in its folder
    last["charts"] = [charts.capacity_chart(steps, run_dir / CAPACITY_CHART, options.lang).name] if charts else []
    return last


def harness_charges(harness: Mapping[str, Any]) -> list[safety.Charge]:
    """What the bank told the run's citizens (harness.json): approvals with the charged amount, and declines."""
    approved = [
        safety.Charge(a["payment_id"], a["dossier_code"], True, int(a["amount_vnd"])) for a in harness["approvals"]
    ]
    declined = [safety.Charge(pid, code, False) for pid, code in harness.get("declined", [])]
    return approved + declined
