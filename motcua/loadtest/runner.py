"""`run_loadtest`: mocks, a Locust master and workers as real processes, reconciliation and the invariant.

*Scenario*: an engineer asks "does the payment path hold the morning rush with Agribank frozen for five
seconds?" `run_loadtest` starts the three mock services (with the fault file), then Locust — one
process, or a master and N workers — headless (or with its web UI), waits for it, stops everything
it started (always: also on errors and Ctrl-C), runs a reconciliation pass (đối soát), checks the
invariant "every bank-approved payment is marked paid exactly once", evaluates the SLO gates and
writes the run directory (`motcua.runs.start_run`, kind ``loadtest``):

    locust/          Locust's own CSV (stats, history, failures) and HTML report, and its logs
    harness.json     the harness's exact samples (journeys, callbacks, arrivals, HDR histograms)
    summary.json     see `motcua.loadtest.summary` and results/README.md
    *.png            throughput, latency percentiles over time, callback-latency CDF by bank

Breaches are raised *after* the run directory is complete: `InvariantBreach` (exit 4) first, then
`SLOBreach` (exit 3).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from motcua.errors import InputError, InvariantBreach, ServiceError, SLOBreach
from motcua.runs import PROJECT_ROOT, Run, read_json, start_run, write_json

LOCUSTFILE = PROJECT_ROOT / "locustfiles" / "locustfile.py"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
VN_TZ = dt.timezone(dt.timedelta(hours=7))
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
    enforce: bool = True
    """Raise `SLOBreach` / `InvariantBreach` at the end (False: only report)."""
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


# ----------------------------------------------------------------------------- public API


def run_loadtest(
    scenario_path: Path | str,
    options: LoadtestOptions,
    out_dir: Path | None = None,
    *,
    results_root: Path | None = None,
    command: list[str] | None = None,
) -> Summary:
    """Run one load test (or a capacity search) of `scenario_path`; see the module docstring."""
    from motcua.loadtest.params import journey_params
    from motcua.loadtest.profiles import profile_from_scenario
    from motcua.scenario import load_scenario

    scenario_path = Path(scenario_path)
    if options.merchant_file is not None:  # a merchant system under test: measured from the gateway's records
        from motcua.loadtest.merchant import run_merchant

        return run_merchant(scenario_path, options, out_dir, results_root=results_root, command=command)
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
                data = _find_capacity(run, scenario, scenario_path, profile, options, urls, limits)
            else:
                data = _one_run(run, scenario.name, scenario_path, profile, options, urls, limits, run.dir)
        data["run_id"] = run.run_id
        write_json(run.path("summary.json"), data)
    summary = Summary(data, run.dir)
    if not options.quiet:
        _print_report(summary)
    if options.junit:
        _write_junit(options.junit, scenario.name, data)
    if options.enforce:
        _enforce(data)
    return summary


def default_deadline(scenario, options: LoadtestOptions) -> float:
    """How long to wait for an IPN: 3× the slowest bank's p95 notification delay (as the mocks run it), ≥ 10 s."""
    slowest_s = max(b.notify_p95_ms for b in scenario.payment_system.banks) / 1000
    scale = 1.0 if options.agency_url else options.time_scale
    return max(MIN_DEADLINE_S, 3 * slowest_s * scale)


# ----------------------------------------------------------------------------- one run


def _one_run(
    run: Run, scenario_name: str, scenario_path: Path, profile, options: LoadtestOptions, urls, limits, folder: Path
) -> dict:
    from motcua.loadtest import slo
    from motcua.loadtest.summary import build_summary
    from motcua.report.loadtest_charts import write_charts

    stats_before = get_json(f"{urls['agency']}/stats")
    since = int(stats_before.get("events", -1))
    started = time.time()
    locust_dir = folder / "locust"
    _run_locust(scenario_path, profile, options, urls, folder, locust_dir, since)
    harness = read_json(folder / "harness.json")
    reconciliation = reconcile_days(urls["agency"], started, time.time())
    invariant = check_invariant(urls["agency"], harness, since, stats_before)
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
    data["charts"] = [p.name for p in write_charts(harness, folder, options.lang)]
    return data


def _find_capacity(run: Run, scenario, scenario_path: Path, profile, options, urls, limits) -> dict:
    """Raise the rate by ``capacity_factor`` per step until an SLO breaks; the knee is the last rate that held."""
    if options.model != "open":
        raise InputError("--find-capacity raises an arrival rate; it needs the open model (use --rate, not --users)")
    steps, knee = [], None
    current = profile
    for index in range(options.capacity_steps):
        folder = run.dir / "steps" / f"{index + 1:02d}-rate-{current.base_rate:g}"
        data = _one_run(run, scenario.name, scenario_path, current, options, urls, limits, folder)
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
    from motcua.report.loadtest_charts import capacity_chart

    last["charts"] = [
        capacity_chart(steps, run.dir / "capacity.png", options.lang).name
    ]  # each step's charts are in its folder
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
        urls = {"gateway": options.gateway_url, "agency": options.agency_url, "bank": options.bank_url}
        _check_reachable(urls)
        yield urls
        return
    from mock_services.supervisor import MockStack, StackConfig

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
    """The scenario's ``[[payment_system.banks]]`` in the bank service's catalogue format (mock_services/banks.toml)."""
    lines = [f"# Written by motcua loadtest from {scenario.file} ([[payment_system.banks]]).", ""]
    for bank in scenario.payment_system.banks:
        decline = ", ".join(f'"{code}" = {share!r}' for code, share in bank.decline.items())
        lines += [
            "[[banks]]",
            f"code = {json.dumps(bank.code)}",
            f"name = {json.dumps(bank.name, ensure_ascii=False)}",
            f"kind = {json.dumps(bank.kind)}",
            *(f"{key} = {getattr(bank, key)!r}" for key in ("p50_ms", "p95_ms", "notify_p50_ms", "notify_p95_ms")),
            f"decline = {{ {decline} }}",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _check_reachable(urls: Mapping[str, str]) -> None:
    for name, url in urls.items():
        try:
            get_json(f"{url}/healthz", timeout=5)
        except ServiceError as exc:
            raise ServiceError(f"--{name}-url {url}: {exc}; start the system or check the URL") from None


def get_json(url: str, timeout: float = 10.0) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return json.loads(resp.read())
    except (urllib.error.URLError, OSError, json.JSONDecodeError) as exc:
        raise ServiceError(f"GET {url} failed: {exc}") from None


def post_json(url: str, body: Mapping[str, Any], timeout: float = 30.0) -> dict[str, Any]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise ServiceError(f"POST {url} answered {exc.code}: {exc.read()[:300]!r}") from None
    except (urllib.error.URLError, OSError, json.JSONDecodeError) as exc:
        raise ServiceError(f"POST {url} failed: {exc}") from None


# ----------------------------------------------------------------------------- Locust processes


def locust_commands(
    scenario_path: Path, profile, options: LoadtestOptions, urls, folder: Path, locust_dir: Path, since: int
) -> list[list[str]]:
    """The Locust command lines: one process, or a master followed by N workers."""
    from mock_services.supervisor import free_port

    generators = max(1, options.workers)
    deadline = options.callback_deadline_s
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
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])}
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
                    argv, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
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


def reconcile_days(agency_url: str, start: float, end: float) -> list[dict[str, Any]]:
    """One reconciliation pass (đối soát) for every Việt Nam day the run touched.

    Each pass first asks the gateway (querydr) about dossiers still awaiting payment, as an agency's
    end-of-day reconciliation does, so a payment whose bank never notified is settled too."""
    first = dt.datetime.fromtimestamp(start, VN_TZ).date()
    last = dt.datetime.fromtimestamp(end, VN_TZ).date()
    results, day = [], first
    while day <= last:
        result = post_json(f"{agency_url}/reconcile", {"date": day.isoformat(), "query_pending": True})
        result.pop("details", None)
        results.append(result)
        day += dt.timedelta(days=1)
    return results


def read_confirmations(agency_url: str, since: int) -> dict[str, list[str]]:
    """payment_id → the confirm events (IPN or reconciliation) journalled after `since`."""
    from motcua.loadtest.callbacks import CONFIRM_TYPES, JournalReader

    reader = JournalReader(agency_url, since)
    confirmed: dict[str, list[str]] = {}
    for event in reader.fetch():
        if event.get("type") in CONFIRM_TYPES and event.get("payment_id"):
            confirmed.setdefault(event["payment_id"], []).append(event["type"])
    return confirmed


def check_invariant(agency_url: str, harness: Mapping[str, Any], since: int, stats_before: Mapping) -> dict:
    """Every payment the bank approved (as citizens were told) is marked paid exactly once, after reconciliation."""
    approved = {a["payment_id"] for a in harness["approvals"]}
    confirmed = read_confirmations(agency_url, since)
    stats_after = get_json(f"{agency_url}/stats")
    missing = sorted(approved - set(confirmed))
    twice = sorted(pid for pid, kinds in confirmed.items() if len(kinds) > 1)
    double_credits = int(stats_after.get("double_credits", 0)) - int(stats_before.get("double_credits", 0))
    recovered = sorted(pid for pid, kinds in confirmed.items() if kinds[0] == "paid_by_reconciliation")
    ok = not missing and not twice and double_credits == 0
    return {
        "ok": ok,
        "bank_approved": len(approved),
        "marked_paid": len(confirmed),
        "paid_by_ipn": sum(1 for kinds in confirmed.values() if kinds[0] == "payment_confirmed"),
        "paid_by_reconciliation": len(recovered),
        "approved_not_paid": missing[:50],
        "approved_not_paid_count": len(missing),
        "confirmed_more_than_once": twice[:50],
        "double_credits": double_credits,
        "paid_without_observed_approval": len(set(confirmed) - approved),
        "lost_callbacks_recovered": len(set(harness["lost"]) & set(recovered)),
    }


# ----------------------------------------------------------------------------- reporting


def _print_report(summary: Summary) -> None:
    from motcua.loadtest.slo import Verdict, table

    data = summary.data
    verdicts = [Verdict(v["name"], v["limit"], v["measured"], v["unit"], v["description"]) for v in data["slo"]]
    cb = data["callbacks"]["ipn_ack"]
    lines = [
        f"load test of {data['scenario']} ({data['model']} model) → {summary.run_dir}",
        f"  journeys started {data['arrivals']['started']}, dropped {data['arrivals']['dropped']}, "
        f"finished {data['throughput']['journeys_finished']}; "
        f"requests {data['throughput']['http_requests']} ({data['throughput']['requests_per_s']:.1f}/s)",
        f"  callback (bank approval → IPN ack): n={cb.get('count', 0)} p50={_ms(cb.get('p50'))} "
        f"p95={_ms(cb.get('p95'))} p99={_ms(cb.get('p99'))} max={_ms(cb.get('max'))}; lost {data['lost_callbacks']}",
        f"  invariant (bank-approved = marked paid, once): {'OK' if data['invariant']['ok'] else 'BROKEN'} "
        f"({data['invariant']['bank_approved']} approved, {data['invariant']['paid_by_reconciliation']} "
        "recovered by reconciliation)",
        table(verdicts),
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


def _write_junit(path: Path, scenario: str, data: Mapping[str, Any]) -> None:
    from motcua.loadtest.junit import write_junit
    from motcua.loadtest.slo import Verdict

    verdicts = [Verdict(v["name"], v["limit"], v["measured"], v["unit"], v["description"]) for v in data["slo"]]
    inv = data["invariant"]
    detail = (
        f"{inv['bank_approved']} bank-approved; {inv['approved_not_paid_count']} not marked paid; "
        f"{len(inv['confirmed_more_than_once'])} confirmed twice; {inv['double_credits']} double credits"
    )
    write_junit(
        path,
        scenario,
        verdicts,
        invariant_ok=inv["ok"],
        invariant_detail=detail,
        duration_s=data.get("run_seconds", 0.0),
    )


def _enforce(data: Mapping[str, Any]) -> None:
    from motcua.loadtest.slo import Verdict, enforce

    inv = data["invariant"]
    if inv["ok"] is False:
        raise InvariantBreach(
            f"{inv['approved_not_paid_count']} bank-approved payment(s) not marked paid after reconciliation "
            f"(e.g. {inv['approved_not_paid'][:3]}), {len(inv['confirmed_more_than_once'])} confirmed more than once, "
            f"{inv['double_credits']} double credit(s); see summary.json → invariant"
        )
    if "capacity" in data:
        if data["capacity"]["knee_rate_per_s"] is None:
            raise SLOBreach("--find-capacity: the SLOs broke already at the first rate; start lower with --rate")
        return
    enforce([Verdict(v["name"], v["limit"], v["measured"], v["unit"], v["description"]) for v in data["slo"]])
