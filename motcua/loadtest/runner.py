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
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from motcua import safety
from motcua.errors import InputError, ServiceError, SLOBreach
from motcua.resources import bundled
from motcua.runs import Run, read_json, start_run, write_json
from motcua.safety import get_json

LOCUSTFILE = bundled("motcua.locustfiles", "locustfile.py")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MIN_DEADLINE_S = 10.0
UI_LINGER_S = 30  # --ui: the web UI stays up this long after the run, to look at the charts


@dataclass(frozen=True, kw_only=True)
class LoadtestOptions:
    """How to run one load test (the flags of ``motcua loadtest``), with named defaults."""

    duration_s: float | None = None
    """Length of the arrival profile; default: the profile's own length."""
    rate_per_s: float | None = None
    """Open model: the profile's base rate (journeys/s)."""
    users: int | None = None
    """Closed model: this many Locust users (instead of an arrival rate)."""
    profile: str | None = None
    faults_file: Path | None = None
    workers: int = 0
    """0: one Locust process; N: a master and N workers."""
    find_capacity: bool = False
    capacity_factor: float = 1.5
    capacity_steps: int = 6
    gateway_url: str | None = None
    agency_url: str | None = None
    bank_url: str | None = None
    allow_non_loopback: bool = False
    ui: bool = False
    seed: int = 1
    junit: Path | None = None
    arrivals: str = "poisson"
    max_concurrency: int = 2000
    callback_deadline_s: float | None = None
    """Seconds after bank approval before a missing IPN counts as lost; default `default_deadline`."""
    request_timeout_s: float = 10.0
    time_scale: float = 1.0
    """The mocks' schedule compression (bank notification delays, IPN retries): 1 = real time, so callback
    latencies compare with the SLO; 0.01 = 100× faster for quick checks (callback latencies shrink with it)."""
    slo: Mapping[str, float] = field(default_factory=dict)
    """Overrides of the scenario's ``[slo]`` limits (e.g. a tight gate in a test)."""
    quiet: bool = False
    lang: str = "vi"
    """Language of the chart labels: ``vi`` (default, as the simulation charts) or ``en``."""
    protocol: str = "motcua"
    """How the agency (or merchant) integrates the gateway: motcua's JSON API, or VNPay 2.1.0."""
    merchant_file: Path | None = None
    """A merchant system under test (`motcua.loadtest.merchant`; needs protocol vnpay)."""

    def __post_init__(self) -> None:
        if self.rate_per_s is not None and self.users is not None:
            raise InputError("--rate and --users exclude each other: --rate runs the open model, --users the closed")
        if self.users is not None and self.users < 1:
            raise InputError(f"--users = {self.users}: must be ≥ 1")
        if self.workers < 0:
            raise InputError(f"--workers = {self.workers}: must be ≥ 0 (0 = one Locust process)")
        if self.protocol not in ("motcua", "vnpay"):
            raise InputError(f"--protocol = {self.protocol!r}: use motcua or vnpay")
        if self.arrivals not in ("poisson", "deterministic"):
            raise InputError(f"--arrivals = {self.arrivals!r}: use poisson or deterministic")
        given = [u for u in (self.gateway_url, self.agency_url, self.bank_url) if u]
        if given and len(given) != 3:
            raise InputError("--gateway-url, --agency-url and --bank-url go together: give all three or none")
        for url in given:
            host = urlparse(url).hostname or ""
            if host not in LOOPBACK and not self.allow_non_loopback:
                raise InputError(
                    f"target {url}: host {host!r} is not loopback; this workbench only loads 127.0.0.1 unless "
                    "--allow-non-loopback is given (and you own the system under test)"
                )

    @property
    def model(self) -> str:
        return "closed" if self.users is not None else "open"


@dataclass
class Summary:
    """The outcome of `run_loadtest`: summary.json's content and where the run was written."""

    data: dict[str, Any]
    run_dir: Path

    @property
    def passed(self) -> bool:
        return self.data["invariant"]["ok"] is not False and all(v["passed"] for v in self.data["slo"])

    def raise_if_breached(self) -> None:
        """`InvariantBreach` (exit 4) if the invariant broke, else `SLOBreach` (exit 3) if a gate failed."""
        from motcua.loadtest.slo import raise_if_failed

        safety.Verdict.from_dict(self.data["invariant"]).raise_if_broken()
        if "capacity" in self.data:
            if self.data["capacity"]["knee_rate_per_s"] is None:
                raise SLOBreach("--find-capacity: the SLOs broke already at the first rate; start lower with --rate")
            return
        raise_if_failed(verdicts_of(self.data))


# ----------------------------------------------------------------------------- public API


class ChartWriter(Protocol):
    """What draws a load test's charts (`motcua.report.loadtest_charts` satisfies it)."""

    def write_charts(self, harness: Mapping[str, Any], folder: Path, lang: str = "vi") -> list[Path]: ...

    def capacity_chart(self, steps: Sequence[Any], path: Path, lang: str = "vi") -> Path: ...


def run_loadtest(
    scenario_path: Path | str,
    options: LoadtestOptions,
    out_dir: Path | None = None,
    *,
    results_root: Path | None = None,
    command: list[str] | None = None,
    charts: ChartWriter | None = None,
) -> Summary:
    """Run one load test (or a capacity search) of `scenario_path`; see the module docstring.

    `charts` draws the PNG charts into the run folder (the commands pass `motcua.report.loadtest_charts`;
    the harness sits below the report and does not import it). Breaches are not raised here: the caller
    calls `Summary.raise_if_breached` when its outputs are written."""
    from motcua.loadtest.params import journey_params
    from motcua.loadtest.profiles import profile_from_scenario
    from motcua.scenario import load_scenario, scenario_file

    scenario_path = scenario_file(scenario_path)  # a bundled name (peak-day) as load_scenario takes it
    if options.merchant_file is not None:  # measured from the gateway's records: motcua.loadtest.merchant
        raise InputError("a merchant system under test runs through motcua.loadtest.merchant.run_merchant "
                         "(motcua loadtest --merchant does this)")
    scenario = load_scenario(scenario_path)
    params = journey_params(scenario)  # fails early on a scenario the journeys cannot run
    profile = profile_from_scenario(
        scenario, options.profile, duration_s=options.duration_s, rate_per_s=options.rate_per_s
    )
    limits = {**params.slo, **options.slo}
    if options.callback_deadline_s is None:
        options = replace(options, callback_deadline_s=default_deadline(scenario, options))
    with start_run(
        scenario.name, seed=options.seed, out=out_dir, results_root=results_root, kind="loadtest", command=command
    ) as run:
        run.add_input(scenario_path, "scenario")
        if options.faults_file:
            run.add_input(Path(options.faults_file), "faults")
        run.record(
            parameters={
                "model": options.model,
                "profile": profile.describe(),
                "workers": options.workers,
                "users": options.users,
                "slo": limits,
                "time_scale": options.time_scale if not options.agency_url else None,
                "callback_deadline_s": options.callback_deadline_s,
            }
        )
        with _services(options, run, scenario) as urls:
            if options.find_capacity:
                data = _find_capacity(run, scenario, scenario_path, profile, options, urls, limits, charts)
            else:
                data = _one_run(run, scenario.name, scenario_path, profile, options, urls, limits, run.dir, charts)
        data["run_id"] = run.run_id
        write_json(run.path("summary.json"), data)
    summary = Summary(data, run.dir)
    if not options.quiet:
        _print_report(summary)
    if options.junit:
        _write_junit(options.junit, scenario.name, data)
    return summary


def default_deadline(scenario, options: LoadtestOptions) -> float:
    """How long to wait for an IPN: 3× the slowest bank's p95 notification delay (as the mocks run it), ≥ 10 s."""
    slowest_s = max(b.notify_p95_ms for b in scenario.payment_system.banks) / 1000
    scale = 1.0 if options.agency_url else options.time_scale
    return max(MIN_DEADLINE_S, 3 * slowest_s * scale)


# ----------------------------------------------------------------------------- one run


def _one_run(
    run: Run, scenario_name: str, scenario_path: Path, profile, options: LoadtestOptions, urls, limits, folder: Path,
    charts: ChartWriter | None,
) -> dict:
    from motcua.loadtest import slo
    from motcua.loadtest.summary import build_summary

    stats_before = get_json(f"{urls['agency']}/stats")
    since = int(stats_before.get("events", -1))
    started = time.time()
    locust_dir = folder / "locust"
    _run_locust(scenario_path, profile, options, urls, folder, locust_dir, since)
    harness = read_json(folder / "harness.json")
    days = safety.days_touched(started, time.time(), [a["approved_at"] for a in harness["approvals"]])
    reconciliation = safety.reconcile(urls["agency"], days)
    verdict = safety.verify(urls["agency"], harness_charges(harness), since=since, stats_before=stats_before)
    invariant = {**verdict.as_dict(), "lost_callbacks_recovered": len(set(harness["lost"]) & verdict.recovered)}
    data = build_summary(
        harness,
        locust_dir,
        scenario=scenario_name,
        profile=profile,
        options=options,
        reconciliation=reconciliation,
        invariant=invariant,
        run_seconds=time.time() - started,
    )
    data["time_scale"] = None if options.agency_url else options.time_scale
    data["callback_deadline_s"] = options.callback_deadline_s
    verdicts = slo.evaluate(limits, data["slo_measured"])
    data["slo"] = [v.as_dict() for v in verdicts]
    data["charts"] = [p.name for p in charts.write_charts(harness, folder, options.lang)] if charts else []
    return data


def _find_capacity(run: Run, scenario, scenario_path: Path, profile, options, urls, limits,
                   charts: ChartWriter | None) -> dict:
    """Raise the rate by ``capacity_factor`` per step until an SLO breaks; the knee is the last rate that held."""
    if options.model != "open":
        raise InputError("--find-capacity raises an arrival rate; it needs the open model (use --rate, not --users)")
    steps, knee = [], None
    current = profile
    for index in range(options.capacity_steps):
        folder = run.dir / "steps" / f"{index + 1:02d}-rate-{current.base_rate:g}"
        data = _one_run(run, scenario.name, scenario_path, current, options, urls, limits, folder, charts)
        write_json(folder / "summary.json", data)
        held = all(v["passed"] for v in data["slo"]) and data["invariant"]["ok"] is not False
        steps.append(
            {
                "rate_per_s": current.base_rate,
                "held": held,
                "folder": str(folder.relative_to(run.dir)),
                "slo": data["slo"],
                "invariant_ok": data["invariant"]["ok"],
            }
        )
        if not options.quiet:
            print(f"capacity step {index + 1}: {current.base_rate:g}/s → {'held' if held else 'BROKE'}", flush=True)
        if not held:
            break
        knee = current.base_rate
        current = current.scaled(options.capacity_factor)
    last = data
    last["capacity"] = {
        "steps": steps,
        "knee_rate_per_s": knee,
        "factor": options.capacity_factor,
        "broke": not steps[-1]["held"],
    }
    # each step's charts are in its folder
    last["charts"] = [charts.capacity_chart(steps, run.dir / "capacity.png", options.lang).name] if charts else []
    return last


# ----------------------------------------------------------------------------- services


@contextlib.contextmanager
def _services(options: LoadtestOptions, run: Run, scenario, terminals_file: Path | None = None,
              gateway_port: int = 0) -> Iterator[dict[str, str]]:
    """The URLs of the system under test: given ones, or a `MockStack` started (and stopped) here.

    Mocks started here get the scenario's banks (latencies, notification delays, declines) as the bank
    service's catalogue, so the scenario, not the mock's default catalogue, decides how banks behave.
    """
    if options.agency_url:
        # LoadtestOptions checks that the three URLs come together
        urls = {"gateway": str(options.gateway_url), "agency": options.agency_url, "bank": str(options.bank_url)}
        _check_reachable(urls)
        yield urls
        return
    from motcua.mock_services.supervisor import MockStack, StackConfig

    with tempfile.TemporaryDirectory(prefix="motcua-loadtest-") as tmp:
        catalogue = write_bank_catalogue(scenario, run.path("mocks", "bank-catalogue.toml"))
        run.add_input(catalogue, "bank catalogue (from the scenario)")
        config = StackConfig(
            data_dir=Path(tmp),
            seed=options.seed,
            faults_file=options.faults_file,
            time_scale=options.time_scale,
            extra_args={"bank": ["--catalogue", str(catalogue)]},
            agency_protocol=options.protocol,
            terminals_file=terminals_file,
            gateway_port=gateway_port,
        )
        with MockStack(config) as stack:
            try:
                yield stack.urls
            finally:
                for name in ("gateway", "bank", "agency"):
                    log = stack.log_path(name)
                    if log.exists():
                        (run.dir / "mocks").mkdir(exist_ok=True)
                        (run.dir / "mocks" / log.name).write_bytes(log.read_bytes()[-2_000_000:])


def write_bank_catalogue(scenario, path: Path) -> Path:
    """The scenario's ``[[payment_system.banks]]`` as the bank service's catalogue (same `BankProfile` type)."""
    from motcua.payment_platform import BANK_CATALOGUE, BankCatalogue

    catalogue = BankCatalogue(banks=scenario.payment_system.banks)
    return BANK_CATALOGUE.write(catalogue, path, comment=f"Written by motcua loadtest from {scenario.file} "
                                                         "([[payment_system.banks]]).")


def _check_reachable(urls: Mapping[str, str]) -> None:
    for name, url in urls.items():
        try:
            get_json(f"{url}/healthz", timeout=5)
        except ServiceError as exc:
            raise ServiceError(f"--{name}-url {url}: {exc}; start the system or check the URL") from None


# ----------------------------------------------------------------------------- Locust processes


def locust_commands(
    scenario_path: Path, profile, options: LoadtestOptions, urls, folder: Path, locust_dir: Path, since: int
) -> list[list[str]]:
    """The Locust command lines: one process, or a master followed by N workers."""
    from motcua.mock_services.supervisor import free_port

    generators = max(1, options.workers)
    deadline = options.callback_deadline_s
    if deadline is None:  # run_loadtest settles it from the scenario before anything starts
        raise InputError("LoadtestOptions.callback_deadline_s is not set; run_loadtest sets it from the scenario")
    common = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--host",
        urls["agency"],
        "--motcua-scenario",
        str(scenario_path),
        "--motcua-profile",
        profile.name,
        "--motcua-duration",
        repr(profile.duration_s),
        "--motcua-model",
        options.model,
        "--motcua-arrivals",
        options.arrivals,
        "--motcua-generators",
        str(generators),
        "--motcua-max-concurrency",
        str(options.max_concurrency),
        "--motcua-callback-deadline",
        repr(deadline),
        "--motcua-gateway-url",
        urls["gateway"],
        "--motcua-bank-url",
        urls["bank"],
        "--motcua-agency-url",
        urls["agency"],
        "--motcua-journal-since",
        str(since),
        "--motcua-seed",
        str(options.seed),
        "--motcua-out",
        str(folder),
        "--motcua-request-timeout",
        repr(options.request_timeout_s),
        "--motcua-rate",
        repr(profile.base_rate),
    ]
    if options.model == "open":
        classes, users = ["OpenArrivals", "ReconcilerUser"], generators + 1
    else:
        assert options.users is not None, "the closed model has users (LoadtestOptions.model)"
        classes, users = ["CitizenUser", "ReconcilerUser"], options.users + 1
    if options.merchant_file is not None:  # no agency to reconcile: the merchant's own records are its business
        common += ["--motcua-journey", "merchant", "--motcua-merchant", str(options.merchant_file)]
        classes, users = classes[:1], users - 1
    stop_timeout = deadline + options.request_timeout_s * 6 + 10
    # the harness ends the test itself (when every generator is done, or after the duration in the closed
    # model); Locust's --run-time is only the safety net for a hung run
    run_time = math.ceil(profile.duration_s + stop_timeout + 30)
    lead = [
        "-u",
        str(users),
        "-r",
        str(max(users, 100)),
        "--run-time",
        f"{run_time}s",
        "--stop-timeout",
        f"{stop_timeout:g}",
        "--csv",
        str(locust_dir / "stats"),
        "--csv-full-history",
        "--html",
        str(locust_dir / "report.html"),
        "--loglevel",
        "INFO",
    ]
    if options.ui:
        web_port = free_port()
        lead += ["--web-host", "127.0.0.1", "--web-port", str(web_port), "--autostart", "--autoquit", str(UI_LINGER_S)]
        if not options.quiet:
            print(f"Locust web UI: http://127.0.0.1:{web_port} (open until {UI_LINGER_S} s after the run)", flush=True)
    else:
        lead += ["--headless"]
    if options.workers == 0:
        return [[*common, *lead, *classes]]
    port = free_port()
    master = [
        *common,
        *lead,
        "--master",
        "--master-bind-host",
        "127.0.0.1",
        "--master-bind-port",
        str(port),
        "--expect-workers",
        str(options.workers),
        "--expect-workers-max-wait",
        "30",
        *classes,
    ]
    worker = [*common, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port), *classes]
    return [master] + [list(worker) for _ in range(options.workers)]


def _run_locust(scenario_path, profile, options, urls, folder: Path, locust_dir: Path, since: int) -> None:
    locust_dir.mkdir(parents=True, exist_ok=True)
    commands = locust_commands(scenario_path, profile, options, urls, folder, locust_dir, since)
    limit = profile.duration_s + options.callback_deadline_s * 2 + options.request_timeout_s * 6 + 90
    procs: list[subprocess.Popen] = []
    logs = []
    try:
        for index, argv in enumerate(commands):
            name = "locust" if len(commands) == 1 else ("master" if index == 0 else f"worker-{index}")
            log = open(locust_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed in finally
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        try:
            procs[0].wait(timeout=limit)
        except subprocess.TimeoutExpired:
            raise ServiceError(f"Locust did not finish within {limit:.0f} s; see {locust_dir}/*.log") from None
        for proc in procs[1:]:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)
    finally:
        for proc in procs:
            _stop_process(proc)
        for log in logs:
            log.close()
    if not (folder / "harness.json").exists():
        tail = (locust_dir / ("locust.log" if len(commands) == 1 else "master.log")).read_text(errors="replace")
        raise ServiceError(f"Locust ended without writing harness.json (exit {procs[0].returncode}):\n{tail[-3000:]}")


def _stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# ----------------------------------------------------------------------------- after the run


def harness_charges(harness: Mapping[str, Any]) -> list[safety.Charge]:
    """What the bank told the run's citizens (harness.json): approvals with the charged amount, and declines."""
    approved = [
        safety.Charge(a["payment_id"], a["dossier_code"], True, int(a["amount_vnd"])) for a in harness["approvals"]
    ]
    declined = [safety.Charge(pid, code, False) for pid, code in harness.get("declined", [])]
    return approved + declined


# ----------------------------------------------------------------------------- reporting


def _print_report(summary: Summary) -> None:
    from motcua.loadtest.slo import table

    data = summary.data
    cb = data["callbacks"]["ipn_ack"]
    lines = [
        f"load test of {data['scenario']} ({data['model']} model) → {summary.run_dir}",
        f"  journeys started {data['arrivals']['started']}, dropped {data['arrivals']['dropped']}, "
        f"finished {data['throughput']['journeys_finished']}; "
        f"requests {data['throughput']['http_requests']} ({data['throughput']['requests_per_s']:.1f}/s)",
        f"  callback (bank approval → IPN ack): n={cb.get('count', 0)} p50={_ms(cb.get('p50'))} "
        f"p95={_ms(cb.get('p95'))} p99={_ms(cb.get('p99'))} max={_ms(cb.get('max'))}; lost {data['lost_callbacks']}",
        f"  invariant: {safety.Verdict.from_dict(data['invariant']).describe()}",
        table(verdicts_of(data)),
    ]
    if data.get("time_scale") not in (None, 1.0):
        lines.insert(
            3,
            f"  (mocks at --time-scale {data['time_scale']:g}: notification delays and IPN retries — so "
            "callback latencies — are compressed by that factor)",
        )
    if "capacity" in data:
        cap = data["capacity"]
        if cap["knee_rate_per_s"] is None:
            lines.append("capacity: the SLOs broke already at the first rate")
        elif cap["broke"]:
            lines.append(f"capacity knee: {cap['knee_rate_per_s']:g} journeys/s held; the next step broke an SLO")
        else:
            lines.append(
                f"capacity: ≥ {cap['knee_rate_per_s']:g} journeys/s (no SLO broke in {len(cap['steps'])} steps)"
            )
    print("\n".join(lines), flush=True)


def _ms(value) -> str:
    return "—" if value is None else f"{value:,.1f} ms"


def verdicts_of(data: Mapping[str, Any]) -> list:
    """summary.json's ``slo`` back as `motcua.loadtest.slo.Verdict` objects."""
    from motcua.loadtest.slo import Verdict

    return [Verdict(v["name"], v["limit"], v["measured"], v["unit"], v["description"]) for v in data["slo"]]


def _write_junit(path: Path, scenario: str, data: Mapping[str, Any]) -> None:
    from motcua.loadtest.junit import write_junit

    verdict = safety.Verdict.from_dict(data["invariant"])
    write_junit(
        path,
        scenario,
        verdicts_of(data),
        invariant_ok=verdict.ok,
        invariant_detail=verdict.describe() if verdict.ok else verdict.message(),
        duration_s=data.get("run_seconds", 0.0),
    )
