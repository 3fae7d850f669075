"""The supervisor: runs the gateway, the bank and the agency system as three processes and cleans up.

Each service is its own process (``python -m motcua.mock_services.<name> --port … --data-dir …``) in its own
process group, bound to a loopback port chosen here (free ports unless given) so every service knows
the others' URLs before any of them starts. The supervisor waits for each ``/healthz``, can kill one
service with SIGKILL and restart it on the same port and data directory, and stops everything —
SIGTERM, then SIGKILL after a timeout — when the ``with`` block ends, on SIGTERM, on Ctrl-C and at
interpreter exit. On Linux each child also asks the kernel (``prctl(PR_SET_PDEATHSIG)``) to receive
SIGTERM if the supervisor dies without cleaning up, so no service outlives it.

    with MockStack(StackConfig(data_dir=tmp, seed=1, time_scale=0.01)) as stack:
        stack.gateway_url, stack.bank_url, stack.agency_url
        stack.kill("gateway"); stack.restart("gateway")

Each service's output goes to ``<data_dir>/<name>.log``; a service that fails to start is reported
with the tail of its log.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType

from motcua.mock_services.common.http import TEST_ADMIN_TOKEN
from motcua.mock_services.common.ids import DEFAULT_AGENCY_CODE as DEFAULT_AGENCY_CODE

from motcua.errors import InputError, ServiceError

SERVICES = ("bank", "gateway", "agency")
"""Start order (all three start at once; they need each other only when requests flow)."""
PR_SET_PDEATHSIG = 1
# Loaded once here, not in the child: dlopen between fork and exec can deadlock in a threaded parent.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
LOG_TAIL_LINES = 30


@dataclass(frozen=True, kw_only=True)
class StackConfig:
    """How to start the three mock services. Ports of 0 mean: pick a free loopback port."""

    data_dir: Path
    """Folder of the services' SQLite databases and logs; a restart reuses it."""
    seed: int = 1
    faults_file: Path | None = None
    """TOML fault table (docs/contracts.md §2) given to every service at start."""
    time_scale: float = 1.0
    """Multiplies every schedule (IPN retries, bank notification delays); 0.01 compresses 100×."""
    host: str = "127.0.0.1"
    gateway_port: int = 0
    bank_port: int = 0
    agency_port: int = 0
    agency_code: str = DEFAULT_AGENCY_CODE
    admin_token: str | None = TEST_ADMIN_TOKEN
    """Token of ``/admin/faults`` (the published TEST token by default; None disables the endpoints)."""
    startup_timeout_s: float = 20.0
    stop_timeout_s: float = 5.0
    python: str = sys.executable
    extra_args: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Additional command-line arguments per service, e.g. ``{"bank": ["--latency-scale", "0"]}``."""
    cpu_affinity: Mapping[str, frozenset[int]] = field(default_factory=dict)
    """CPUs a service may run on (``os.sched_setaffinity``), e.g. ``{"gateway": frozenset({0})}``."""
    terminals_file: Path | None = None
    """VNPay merchant terminals of the gateway (default: the bundled TEST terminal)."""
    vnpay_ipn_url: str = ""
    """IPN URL of the terminals that give none (the gateway's ``--default-ipn-url``; default with
    ``agency_protocol="vnpay"``: the agency's ``/vnpay/ipn``)."""
    agency_protocol: str = "motcua"
    """How the agency mock integrates the gateway: ``motcua`` (JSON API) or ``vnpay`` (VNPay 2.1.0)."""

    def __post_init__(self) -> None:
        for name in ("gateway_port", "bank_port", "agency_port"):
            port = getattr(self, name)
            if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
                raise InputError(f"{name} must be a port number 0–65535 (0 = any free port), got {port!r}")
        if not self.time_scale > 0:
            raise InputError(f"time_scale must be > 0 (1 = real time, 0.01 = 100× faster), got {self.time_scale!r}")
        for name in (*self.extra_args, *self.cpu_affinity):
            if name not in SERVICES:
                raise InputError(
                    f"unknown service {name!r} in extra_args/cpu_affinity; services: {', '.join(SERVICES)}"
                )
        if self.faults_file is not None and not Path(self.faults_file).is_file():
            raise InputError(f"faults file {self.faults_file} not found; pass an existing TOML fault file")
        if self.agency_protocol not in ("motcua", "vnpay"):
            raise InputError(f"agency_protocol must be motcua or vnpay, got {self.agency_protocol!r}")
        if self.terminals_file is not None and not Path(self.terminals_file).is_file():
            raise InputError(f"terminals file {self.terminals_file} not found; pass an existing TOML terminal file")


def service_routes(agency_protocol: str = "motcua") -> dict[str, frozenset[str]]:
    """Each service's ``"METHOD /path"`` routes, as its ``/openapi.json`` lists them (every route it serves)."""
    from motcua.mock_services.agency.openapi import OPENAPI as AGENCY
    from motcua.mock_services.agency.vnpay import with_vnpay_routes
    from motcua.mock_services.bank.openapi import OPENAPI as BANK
    from motcua.mock_services.gateway.openapi import OPENAPI as GATEWAY

    documents = {"gateway": GATEWAY, "bank": BANK, "agency": with_vnpay_routes(AGENCY, agency_protocol)}
    return {
        name: frozenset(f"{method.upper()} {path}" for path, item in doc["paths"].items() for method in item)
        for name, doc in documents.items()
    }


def check_fault_file(path: Path, *, banks: Sequence[str] | None = None, agency_protocol: str = "motcua") -> None:
    """Read `path` and check it before any service starts: its shape, its routes against the services' and its
    outage banks against `banks`; `InputError` (exit 2) naming the file, `FaultConfigError` for a wrong field."""
    from motcua.mock_services.common.faults import check_fault_table, load_fault_file

    if not Path(path).is_file():
        raise InputError(f"--faults {path}: fault file not found; pass an existing TOML fault file "
                         "(docs/contracts.md §2)")
    table = load_fault_file(path)
    check_fault_table(table, routes=service_routes(agency_protocol), banks=banks)


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free on `host` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class MockStack:
    """The three mock services running as supervised child processes."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.data_dir = Path(config.data_dir)
        self.ports: dict[str, int] = {}
        """The loopback port of each service, fixed for the stack's life (a restart reuses it)."""
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._previous_sigterm: signal.Handlers | object | None = None
        self._started = False

    # ------------------------------------------------------------------ URLs

    def url(self, name: str) -> str:
        self._check_name(name)
        return f"http://{self.config.host}:{self.ports[name]}"

    @property
    def gateway_url(self) -> str:
        return self.url("gateway")

    @property
    def bank_url(self) -> str:
        return self.url("bank")

    @property
    def agency_url(self) -> str:
        return self.url("agency")

    def vnpay(self) -> dict[str, str]:
        """The gateway's VNPay front and its first terminal: ``{url, tmn_code, hash_secret}`` (a TEST secret)."""
        from motcua.mock_services.common.vnpay_terminals import DEFAULT_TERMINALS, load_terminals

        terminal = next(iter(load_terminals(self.config.terminals_file or DEFAULT_TERMINALS).values()))
        return {"url": self.gateway_url, "tmn_code": terminal.tmn_code, "hash_secret": terminal.hash_secret}

    @property
    def urls(self) -> dict[str, str]:
        return {name: self.url(name) for name in SERVICES}

    def pid(self, name: str) -> int | None:
        proc = self._procs.get(name)
        return proc.pid if proc is not None and proc.poll() is None else None

    def log_path(self, name: str) -> Path:
        return self.data_dir / f"{name}.log"

    # ------------------------------------------------------------------ life cycle

    def __enter__(self) -> MockStack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start all three services and wait until each answers ``/healthz``."""
        if self._started:
            raise ServiceError("this MockStack is already running; stop it before starting it again")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        wanted = {"gateway": self.config.gateway_port, "bank": self.config.bank_port, "agency": self.config.agency_port}
        self.ports = {name: port or free_port(self.config.host) for name, port in wanted.items()}
        self._started = True
        self._install_sigterm()
        atexit.register(self.stop)
        try:
            for name in SERVICES:
                self._spawn(name)
            for name in SERVICES:
                self._wait_healthy(name)
        except BaseException:
            self.stop()
            raise

    def kill(self, name: str) -> None:
        """Kill one service with SIGKILL (its whole process group), as a crash would."""
        self._check_name(name)
        proc = self._procs.get(name)
        if proc is None or proc.poll() is not None:
            raise ServiceError(f"cannot kill {name}: it is not running")
        _signal_group(proc, signal.SIGKILL)
        proc.wait()

    def restart(self, name: str) -> None:
        """Start a killed (or stopped) service again on the same port and data directory."""
        self._check_name(name)
        proc = self._procs.get(name)
        if proc is not None and proc.poll() is None:
            self._terminate([proc])
        self._spawn(name)
        self._wait_healthy(name)

    def stop(self) -> None:
        """Stop every service: SIGTERM, then SIGKILL after ``stop_timeout_s``. Safe to call twice."""
        with self._lock:
            procs = [p for p in self._procs.values() if p.poll() is None]
            self._terminate(procs)
            self._procs.clear()
            if self._started:
                self._started = False
                self._restore_sigterm()
                atexit.unregister(self.stop)

    # ------------------------------------------------------------------ internals

    def _check_name(self, name: str) -> None:
        if name not in SERVICES:
            raise InputError(f"unknown service {name!r}; services: {', '.join(SERVICES)}")

    def command(self, name: str) -> list[str]:
        """The command line that starts `name`."""
        cfg = self.config
        argv = [
            cfg.python, "-m", f"motcua.mock_services.{name}",
            "--host", cfg.host,
            "--port", str(self.ports[name]),
            "--data-dir", str(self.data_dir),
            "--seed", str(cfg.seed),
            "--time-scale", repr(cfg.time_scale),
        ]  # fmt: skip
        if cfg.faults_file is not None:
            argv += ["--faults", str(cfg.faults_file)]
        if cfg.admin_token:
            argv += ["--admin-token", cfg.admin_token]
        if name == "gateway":
            argv += ["--bank-url", self.url("bank")]
            if cfg.terminals_file is not None:
                argv += ["--terminals", str(cfg.terminals_file)]
            ipn_url = cfg.vnpay_ipn_url or (f"{self.url('agency')}/vnpay/ipn" if cfg.agency_protocol == "vnpay" else "")
            if ipn_url:
                argv += ["--default-ipn-url", ipn_url]
        elif name == "bank":
            argv += ["--gateway-url", self.url("gateway")]
        else:
            argv += ["--gateway-url", self.url("gateway"), "--agency-code", cfg.agency_code]
            if cfg.agency_protocol == "vnpay":
                argv += ["--protocol", "vnpay"]
                if cfg.terminals_file is not None:
                    argv += ["--terminals", str(cfg.terminals_file)]
        return argv + list(cfg.extra_args.get(name, ()))

    def _spawn(self, name: str) -> None:
        cpus = self.config.cpu_affinity.get(name)
        parent = os.getpid()
        with self.log_path(name).open("ab") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {name}\n".encode())
            log.flush()
            self._procs[name] = subprocess.Popen(
                self.command(name),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: Ctrl-C in the terminal reaches only us
                preexec_fn=lambda: _child_setup(parent, cpus),
            )

    def _wait_healthy(self, name: str) -> None:
        proc = self._procs[name]
        deadline = time.monotonic() + self.config.startup_timeout_s
        url = self.url(name) + "/healthz"
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServiceError(
                    f"{name} exited with code {proc.returncode} while starting; its log "
                    f"{self.log_path(name)} ends with:\n{self._log_tail(name)}"
                )
            with (
                contextlib.suppress(urllib.error.URLError, OSError, TimeoutError),
                urllib.request.urlopen(url, timeout=1.0) as resp,
            ):
                if resp.status == 200:
                    return
            time.sleep(0.05)
        raise ServiceError(
            f"{name} did not answer {url} within {self.config.startup_timeout_s:g} s "
            f"(raise startup_timeout_s if the machine is busy); its log ends with:\n{self._log_tail(name)}"
        )

    def _log_tail(self, name: str) -> str:
        try:
            lines = self.log_path(name).read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(lines[-LOG_TAIL_LINES:])

    def _terminate(self, procs: Sequence[subprocess.Popen[bytes]]) -> None:
        for proc in procs:
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + self.config.stop_timeout_s
        for proc in procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
            # A service may have left helpers in its group; make sure none survive.
            _signal_group(proc, signal.SIGKILL)

    def _install_sigterm(self) -> None:
        """Turn SIGTERM into KeyboardInterrupt so the ``with`` block unwinds and stops the services."""
        if threading.current_thread() is not threading.main_thread():
            return
        self._previous_sigterm = signal.getsignal(signal.SIGTERM)
        if self._previous_sigterm in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, _raise_interrupt)
        else:
            self._previous_sigterm = None  # someone else handles SIGTERM; leave it to them

    def _restore_sigterm(self) -> None:
        if self._previous_sigterm is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._previous_sigterm)  # type: ignore[arg-type]
            self._previous_sigterm = None


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _child_setup(parent_pid: int, cpus: frozenset[int] | None) -> None:
    """Runs in the child between fork and exec: die with the parent; pin to CPUs if asked."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)
    if cpus:
        os.sched_setaffinity(0, cpus)
