"""The Locust processes of a run: one process, or a master and N workers, started, waited for and stopped.

*Scenario*: the harness's journeys run in real Locust processes (``python -m locust -f locustfile.py
--headless …``), so a run measures what Locust measures in the field. `locust_commands` writes their
command lines from a `LocustJob` (the locustfile's ``--motcua-*`` options come from the scenario, the
profile and the options); `run_locust` starts them in their own process groups, logs each into
``locust/``, waits for the master (or the single process) within a limit, and always stops them all.
The harness inside Locust writes ``harness.json``; a run without it is an error that shows the log's end.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from motcua.errors import InputError, ServiceError
from motcua.loadtest.runner.options import LoadtestOptions
from motcua.resources import bundled
from motcua.run_layout import HARNESS, LOCUST_REPORT

if TYPE_CHECKING:
    from motcua.loadtest.profiles import RateProfile

LOCUSTFILE = bundled("motcua.locustfiles", "locustfile.py")
UI_LINGER_S = 30  # --ui: the web UI stays up this long after the run, to look at the charts
INTERRUPT_GRACE_S = 30.0
"""Ctrl-C: how long the Locust master gets to stop its users and write the partial ``harness.json``."""
HARNESS_FLAGS = frozenset({
    "-f", "--locustfile", "-H", "--host", "-u", "--users", "-r", "--spawn-rate", "-t", "--run-time", "--headless",
    "--autostart", "--autoquit", "--master", "--worker", "--master-host", "--master-port", "--master-bind-host",
    "--master-bind-port", "--expect-workers", "--expect-workers-max-wait", "--csv", "--html", "--web-host",
    "--web-port", "--stop-timeout", "--processes", "--config",
})
"""Locust options the harness sets itself: refused after ``--`` (exit 2) instead of silently fighting them."""
@dataclass(frozen=True, kw_only=True)
class LocustJob:
    """One Locust run of the harness: the scenario, profile and options it plays, against which URLs, into which
    folder."""

    scenario_path: Path
    profile: RateProfile
    options: LoadtestOptions
    """With ``callback_deadline_s`` set (`motcua.loadtest.runner.plan_loadtest` settles it)."""
    urls: Mapping[str, str]
    """The system under test: ``gateway``, ``bank``, ``agency``."""
    folder: Path
    """Where the harness writes ``harness.json``; Locust's own files go to `locust_dir`."""
    since: int
    """The agency journal's cursor before the run (``-1`` when the run does not read the journal)."""
    abort: tuple[str, ...] = ()
    """Thresholds that stop the run once failed (`motcua.loadtest.abort`; `LoadtestPlan.abort_expressions`)."""

    @property
    def deadline_s(self) -> float:
        """The callback deadline of the options; `InputError` if they leave it unset."""
        deadline = self.options.callback_deadline_s
        if deadline is None:  # run_loadtest settles it from the scenario before anything starts
            raise InputError("LoadtestOptions.callback_deadline_s is not set; run_loadtest sets it from the scenario")
        return deadline

    @property
    def locust_dir(self) -> Path:
        """Locust's CSV and HTML report and the processes' logs."""
        return self.folder / "locust"


def check_locust_args(args: Sequence[str]) -> tuple[str, ...]:
    """The Locust options given after ``--``, checked: `InputError` for one the harness sets itself."""
    for arg in args:
        flag = arg.split("=", 1)[0]
        if flag in HARNESS_FLAGS or flag.startswith("--motcua-"):
            raise InputError(f"-- {arg}: motcua sets {flag} itself (see motcua loadtest --help for its own flag); "
                             "pass other Locust options after --")
    return tuple(args)


def locust_commands(job: LocustJob) -> list[list[str]]:
    """The Locust command lines: one process, or a master followed by N workers."""
    from motcua.mock_services.supervisor import free_port

    options, profile, urls = job.options, job.profile, job.urls
    generators = max(1, options.workers)
    deadline = job.deadline_s
    common = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--host",
        urls["agency"],
        "--motcua-scenario",
        str(job.scenario_path),
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
        str(job.since),
        "--motcua-seed",
        str(options.seed),
        "--motcua-out",
        str(job.folder),
        "--motcua-request-timeout",
        repr(options.request_timeout_s),
        "--motcua-rate",
        repr(profile.base_rate),
    ]
    if options.metrics_port:
        common += ["--motcua-metrics-port", str(options.metrics_port)]
    for expression in job.abort:
        common += ["--motcua-abort", expression]
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
        str(job.locust_dir / "stats"),
        "--csv-full-history",
        "--html",
        str(job.locust_dir / LOCUST_REPORT),
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
    lead += list(options.locust_args)
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


def run_locust(job: LocustJob) -> None:
    """Run `locust_commands(job)` to the end (within a time limit), always stopping every process; `ServiceError`
    when Locust hangs or ends without writing ``harness.json``."""
    locust_dir = job.locust_dir
    locust_dir.mkdir(parents=True, exist_ok=True)
    commands = locust_commands(job)
    limit = job.profile.duration_s + job.deadline_s * 2 + job.options.request_timeout_s * 6 + 90
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[IO[bytes]] = []
    try:
        for index, argv in enumerate(commands):
            name = "locust" if len(commands) == 1 else ("master" if index == 0 else f"worker-{index}")
            log = open(locust_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed in finally
            logs.append(log)
            procs.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        try:
            wait_watching(procs[0], job, limit)
        except subprocess.TimeoutExpired:
            raise ServiceError(f"Locust did not finish within {limit:.0f} s; see {locust_dir}/*.log") from None
        except KeyboardInterrupt:  # Ctrl-C: the master stops its users and writes what it has (harness.json)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(procs[0].pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                procs[0].wait(timeout=INTERRUPT_GRACE_S)
            if not (job.folder / HARNESS).exists():
                raise
        for proc in procs[1:]:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)
    finally:
        for proc in procs:
            _stop_process(proc)
        for handle in logs:
            handle.close()
    if not (job.folder / HARNESS).exists():
        tail = (locust_dir / ("locust.log" if len(commands) == 1 else "master.log")).read_text(errors="replace")
        raise ServiceError(f"Locust ended without writing harness.json (exit {procs[0].returncode}):\n{tail[-3000:]}")


def wait_watching(proc: subprocess.Popen[bytes], job: LocustJob, limit_s: float) -> None:
    """Wait for `proc` within `limit_s`, printing the live status line on stderr (unless quiet) as the harness
    writes its snapshots (`motcua.loadtest.live`); `subprocess.TimeoutExpired` past the limit."""
    from motcua.loadtest.live import STATUS_INTERVAL_S, LiveSnapshot, status_line

    end = time.monotonic() + limit_s
    tty = sys.stderr.isatty()
    shown: LiveSnapshot | None = None
    try:
        while proc.poll() is None:
            if time.monotonic() > end:
                raise subprocess.TimeoutExpired(proc.args, limit_s)
            time.sleep(min(0.5, STATUS_INTERVAL_S / 4))
            snap = None if job.options.quiet else LiveSnapshot.read(job.folder)
            if snap is None or snap == shown:
                continue
            shown = snap
            line = status_line(snap)
            sys.stderr.write(f"\r\x1b[2K{line}" if tty else f"{line}\n")
            sys.stderr.flush()
    finally:
        if tty and shown is not None:
            sys.stderr.write("\n")


def _stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL, to the process's group (Locust's gevent children with it)."""
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
