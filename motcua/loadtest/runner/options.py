"""How to run one load test: `LoadtestOptions` (the flags of ``motcua loadtest``) and the `LoadtestPlan` they
make of a scenario (its journeys, arrival profile and SLO limits, the callback deadline settled).

*Scenario*: an engineer writes ``motcua loadtest peak-day --rate 30 --duration 60s``. The flags become a
keyword-only `LoadtestOptions`, checked at once (``--rate`` and ``--users`` exclude each other, target URLs
come in threes and stay on loopback); `plan_loadtest` reads the scenario and fits its profile to this run
before anything starts, so a mistake costs no mock and no Locust process. Both the plain load test
(`motcua.loadtest.runner.run_loadtest`) and the merchant mode (`motcua.loadtest.merchant`) start from a plan.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from motcua.errors import InputError
from motcua.loadtest import slo, thresholds
from motcua.loadtest.abort import LIVE_METRICS, check_live
from motcua.loadtest.thresholds import Threshold
from motcua.runs import Run, start_run

if TYPE_CHECKING:
    from motcua.loadtest.profiles import RateProfile
    from motcua.scenario import Scenario

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MIN_DEADLINE_S = 10.0
LOCUST_CONFIG_FILES = ("~/.locust.conf", "locust.conf", "pyproject.toml")
"""Where Locust looks for a configuration file by default (``locust --help``: "Config file")."""
ABORT_SUFFIX = "abort"
"""A threshold written ``… < 1 abort`` (in ``--slo`` or ``[slo] thresholds``) stops the run once it has failed."""
DEADLINE_MARGIN_S = 15.0
"""Added to the slowest notification cap for the default callback deadline (gateway forwarding, IPN retries)."""


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
    thresholds: tuple[str, ...] = ()
    """``--slo EXPR`` (`motcua.loadtest.thresholds`): added, or replacing the scenario's on the same metric and tags."""
    slo_abort: bool = False
    """``--slo-abort``: every threshold the harness can judge live stops the run once it has failed."""
    capacity_repeats: int = 3
    """--find-capacity: at most this many runs of one rate before its verdict is called unclear."""
    quiet: bool = False
    lang: str = "vi"
    """Language of the chart labels: ``vi`` (default, as the simulation charts) or ``en``."""
    protocol: str = "motcua"
    """How the agency (or merchant) integrates the gateway: motcua's JSON API, or VNPay 2.1.0."""
    merchant_file: Path | None = None
    """A merchant system under test (`motcua.loadtest.merchant`; needs protocol vnpay)."""
    metrics_port: int | None = None
    """Serve the live metrics for Prometheus on ``127.0.0.1:<port>/metrics`` from the Locust master."""
    locust_args: tuple[str, ...] = ()
    """Locust options passed through (``motcua loadtest peak-day -- --csv-full-history``)."""
    strict: bool = False
    """The VNPay front refuses deviations from the documented contract (default: accepts and notes them)."""

    def __post_init__(self) -> None:
        if self.rate_per_s is not None and self.users is not None:
            raise InputError("--rate and --users exclude each other: --rate runs the open model, --users the closed")
        if self.users is not None and self.users < 1:
            raise InputError(f"--users = {self.users}: must be ≥ 1")
        if self.workers < 0:
            raise InputError(f"--workers = {self.workers}: must be ≥ 0 (0 = one Locust process)")
        if self.metrics_port is not None and not 1 <= self.metrics_port <= 65535:
            raise InputError(f"--metrics-port = {self.metrics_port}: must be a port number 1–65535")
        if self.protocol not in ("motcua", "vnpay"):
            raise InputError(f"--protocol = {self.protocol!r}: use motcua or vnpay")
        if self.arrivals not in ("poisson", "deterministic"):
            raise InputError(f"--arrivals = {self.arrivals!r}: use poisson or deterministic")
        given = [u for u in (self.gateway_url, self.agency_url, self.bank_url) if u]
        if given and len(given) != 3:
            raise InputError("--gateway-url, --agency-url and --bank-url go together: give all three or none")
        for flag, url in (("--gateway-url", self.gateway_url), ("--agency-url", self.agency_url),
                          ("--bank-url", self.bank_url)):
            if url:
                check_url(flag, url)
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

    @property
    def mock_clock(self) -> float:
        """The factor on the mocks' schedules: `time_scale`, or 1.0 against given URLs (their clock is their own)."""
        return 1.0 if self.agency_url else self.time_scale


def check_url(flag: str, url: str) -> None:
    """`InputError` for a target URL without ``http://`` or ``https://`` (``127.0.0.1:1`` → ``http://127.0.0.1:1``)."""
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https") and parsed.hostname:
        return
    bare = url.split("://", 1)[-1]
    raise InputError(f"{flag} {url}: a URL needs a scheme and a host, e.g. http://{bare or '127.0.0.1:8080'}")


def locust_config_files(cwd: Path | None = None) -> list[Path]:
    """The Locust configuration files Locust will read from `cwd` (the manifest records them as inputs)."""
    found = []
    for name in LOCUST_CONFIG_FILES:
        path = (cwd or Path.cwd()) / Path(name).expanduser()
        if not path.is_file():
            continue
        if path.name == "pyproject.toml" and "[tool.locust]" not in path.read_text(errors="replace"):
            continue
        found.append(path)
    return found


def default_deadline(scenario: Scenario, options: LoadtestOptions) -> float:
    """How long to wait for an IPN: the slowest bank's declared notification cap (`BankProfile.notify_cap_ms`) plus
    `DEADLINE_MARGIN_S` for the gateway's forwarding and retries, on the mocks' clock, ≥ `MIN_DEADLINE_S`.

    The bank mock never notifies later than its cap, so on a healthy stack no callback is lost or late."""
    slowest_s = max(b.notify_cap_ms for b in scenario.payment_system.banks) / 1000
    return max(MIN_DEADLINE_S, (slowest_s + DEADLINE_MARGIN_S) * options.mock_clock)


@dataclass(frozen=True, kw_only=True)
class LoadtestPlan:
    """One load test of a scenario, settled before anything starts: what `plan_loadtest` makes of the options."""

    scenario: Scenario
    scenario_path: Path
    profile: RateProfile
    """The scenario's arrival profile fitted to this run."""
    limits: dict[str, float]
    """The SLO limits: the scenario's ``[slo]`` with the options' overrides."""
    thresholds: tuple[Threshold, ...] = ()
    """Every gate as a threshold: the named limits, the scenario's ``thresholds``, ``--slo`` (`slo.plan_thresholds`)."""
    options: LoadtestOptions
    """The options, with ``callback_deadline_s`` set (`default_deadline` unless given)."""

    @property
    def abort_expressions(self) -> tuple[str, ...]:
        """The thresholds that stop the run once failed (``abort``, or every live one with ``--slo-abort``)."""
        chosen = [t for t in self.thresholds if t.abort or (self.options.slo_abort and t.metric in LIVE_METRICS)]
        return tuple(t.canonical() for t in chosen)

    @property
    def deadline_s(self) -> float:
        """Seconds after bank approval before a missing IPN counts as lost (`plan_loadtest` settles it)."""
        assert self.options.callback_deadline_s is not None, "plan_loadtest sets callback_deadline_s"
        return float(self.options.callback_deadline_s)

    def parameters(self) -> dict[str, Any]:
        """The manifest's ``parameters`` of the run."""
        options = self.options
        return {
            "model": options.model,
            "profile": self.profile.describe(),
            "workers": options.workers,
            "users": options.users,
            "slo": self.limits,
            "time_scale": options.time_scale if not options.agency_url else None,
            "callback_deadline_s": options.callback_deadline_s,
            "thresholds": [t.expression for t in self.thresholds if not t.name],
        }

    @contextlib.contextmanager
    def start_run(
        self,
        out_dir: Path | None,
        *,
        results_root: Path | None = None,
        command: list[str] | None = None,
        inputs: Sequence[tuple[Path, str]] = (),
        parameters: Mapping[str, Any] | None = None,
    ) -> Iterator[Run]:
        """The run folder (kind ``loadtest``), its manifest naming the scenario, `inputs` (path, role) and the
        fault file, and the plan's `parameters` (updated with `parameters`)."""
        options = self.options
        with start_run(
            self.scenario.name, seed=options.seed, out=out_dir, results_root=results_root, kind="loadtest",
            command=command,
        ) as run:
            run.add_input(self.scenario_path, "scenario")
            for path, role in inputs:
                run.add_input(path, role)
            if options.faults_file:
                run.add_input(Path(options.faults_file), "faults")
            for conf in locust_config_files():  # Locust reads these by itself: recorded, so a run can be redone
                run.add_input(conf, "Locust configuration file (read by Locust)")
            run.record(parameters={**self.parameters(), **(parameters or {})})
            yield run


def plan_loadtest(scenario_path: Path, options: LoadtestOptions) -> LoadtestPlan:
    """The scenario read, its journeys checked, its profile fitted and the callback deadline settled."""
    from motcua.loadtest.params import journey_params
    from motcua.loadtest.profiles import profile_from_scenario
    from motcua.scenario import load_scenario

    scenario = load_scenario(scenario_path)
    params = journey_params(scenario)  # fails early on a scenario the journeys cannot run
    profile = profile_from_scenario(
        scenario, options.profile, duration_s=options.duration_s, rate_per_s=options.rate_per_s
    )
    if options.faults_file is not None:  # before any mock starts: a wrong fault file is exit 2, not a failed start
        from motcua.mock_services.supervisor import check_fault_file

        check_fault_file(Path(options.faults_file), banks=[b.code for b in scenario.payment_system.banks],
                         agency_protocol=options.protocol)
    if options.callback_deadline_s is None:
        options = replace(options, callback_deadline_s=default_deadline(scenario, options))
    overrides = [thresholds.parse(e.removesuffix(ABORT_SUFFIX).rstrip(), abort=e.endswith(ABORT_SUFFIX), where="--slo")
                 for e in options.thresholds]
    # a named gate's limit from --slo (error_rate=0.02) is the run's limit of that gate (the manifest, a merchant run)
    limits = {**params.slo, **options.slo, **{t.name: t.limit for t in overrides if t.name}}
    gates = slo.plan_thresholds(
        limits,
        [thresholds.parse(e.removesuffix(ABORT_SUFFIX).rstrip(), abort=e.endswith(ABORT_SUFFIX),
                          where=f"{scenario_path.name} [slo] thresholds") for e in scenario.slo.thresholds],
        overrides,
    )
    gates = slo.on_mock_clock(gates, options.mock_clock)
    check_live(gates)
    return LoadtestPlan(scenario=scenario, scenario_path=scenario_path, profile=profile, limits=limits,
                        thresholds=tuple(gates), options=options)
